"""The clinic's logo (no PHI).

* ``GET /api/clinic/logo`` — anyone may fetch it (it is on the sign-in page); 404 when none is set.
  Browsers may keep it a minute, so a new logo shows within one.
* ``POST /api/clinic/logo`` — an admin's new logo, the image itself as the body (the settings page
  sends the chosen file); the configuration service checks who, the kind (by its first bytes) and
  the size. JSON ``{"saved": true}``, or ``{"detail": …}`` with 401, 403, 413 or 422.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from patient_portal.api.auth import actor_from_request
from patient_portal.api.responses import NO_STORE, json_error
from patient_portal.core.db import off_loop, read_only, transact
from patient_portal.domain.configuration import service as configuration

router = APIRouter()


def _logo() -> tuple[bytes, str] | None:
    with read_only() as session:
        return configuration.logo(session)


@router.get("/clinic/logo")
async def clinic_logo() -> Response:
    found = await off_loop(_logo)
    if found is None:
        return PlainTextResponse("The clinic has no logo.", status_code=404)
    data, kind = found
    return Response(data, media_type=kind, headers={"Cache-Control": "public, max-age=60",
                                                     "X-Content-Type-Options": "nosniff"})


@router.post("/clinic/logo")
async def upload_logo(request: Request) -> JSONResponse:
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > configuration.LOGO_MAX_BYTES:
            return json_error(413, configuration.TOO_BIG)
    actor = await off_loop(actor_from_request, request)
    await off_loop(transact, configuration.save_logo, actor, data=bytes(body))
    return JSONResponse({"saved": True}, headers=NO_STORE)
