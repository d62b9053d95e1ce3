"""``GET /api/clinic/logo`` — the clinic's logo, set on /admin/settings (no PHI: anyone may fetch it;
it is on the sign-in page). 404 when none is set. Browsers may keep it a minute, so a new logo shows
within one."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse, Response

from patient_portal.core.db import off_loop, read_only
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
