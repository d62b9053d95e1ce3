"""``GET /api/patients/{patient_id}/immunizations.pdf`` — the printable immunization record.

Cookie session (the link on "Your health record" and on the chart is a plain document link): the
history service authorizes (the patient their own record; care-team doctors and admins; never the
front desk, never another patient's id), builds the PDF and audits the print as an export with its
purpose. The answer is the PDF as an attachment, never cached; a refusal or an unknown record is a
short plain-text page (the person followed a link: JSON would mean nothing to them) with 401, 403 or
404.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response

from patient_portal.api.auth import actor_from_request
from patient_portal.api.documents import content_disposition
from patient_portal.api.responses import NO_STORE
from patient_portal.core.access import AccessDenied
from patient_portal.core.db import off_loop, transact
from patient_portal.core.errors import ServiceError
from patient_portal.domain.history import service as history

router = APIRouter()


@router.get("/patients/{patient_id}/immunizations.pdf")
async def immunization_record(patient_id: str, request: Request) -> Response:
    actor = await off_loop(actor_from_request, request)
    try:
        name, data = await off_loop(transact, history.immunization_record, actor, patient_id=patient_id[:64])
    except ServiceError as exc:
        status = (401 if exc.must_sign_in else 403) if isinstance(exc, AccessDenied) else exc.status
        message = "Please sign in, then print the record again." if status == 401 else str(exc)
        return PlainTextResponse(message, status_code=status, headers=NO_STORE)
    headers = {**NO_STORE, "Content-Disposition": content_disposition("attachment", name),
               "Referrer-Policy": "no-referrer"}
    return Response(data, media_type="application/pdf", headers=headers)
