"""A printout behind a plain document link (the immunization record, the emergency card): one answer
for every such route.

``printout(request, build, patient_id=…, again=…)`` resolves the cookie session's actor, runs
``build(session, actor, patient_id=…) -> (file name, PDF bytes)`` in one unit of work (the service
authorizes and audits the print), and answers the PDF as an attachment, never cached; a refusal or
an unknown record is a short plain-text page (the person followed a link: JSON would mean nothing to
them) with 401 (`again` says to sign in and print again), 403 or 404.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import PlainTextResponse, Response

from patient_portal.api.auth import actor_from_request
from patient_portal.api.documents import content_disposition
from patient_portal.api.responses import NO_STORE
from patient_portal.core.access import AccessDenied
from patient_portal.core.db import off_loop, transact
from patient_portal.core.errors import ServiceError


async def printout(request: Request, build: Callable[..., tuple[str, bytes]], *, patient_id: str,
                   again: str) -> Response:
    actor = await off_loop(actor_from_request, request)
    try:
        name, data = await off_loop(transact, build, actor, patient_id=patient_id[:64])
    except ServiceError as exc:
        status = (401 if exc.must_sign_in else 403) if isinstance(exc, AccessDenied) else exc.status
        return PlainTextResponse(again if status == 401 else str(exc), status_code=status, headers=NO_STORE)
    headers: dict[str, Any] = {**NO_STORE, "Content-Disposition": content_disposition("attachment", name),
                               "Referrer-Policy": "no-referrer"}
    return Response(data, media_type="application/pdf", headers=headers)
