"""``GET /api/patients/{patient_id}/emergency-card.pdf`` — the printable emergency card.

Cookie session (the link on "Your health record" and on the chart's emergency information is a plain
document link): the emergency service authorizes (the patient their own record; the clinic's roles
that see the chart; never another patient's id), builds the PDF (allergies only for roles that read
clinical data) and audits the print as an export. The answer is the PDF as an attachment, never
cached; a refusal or an unknown record is a short plain-text page with 401, 403 or 404.
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
from patient_portal.domain.emergency import service as emergency

router = APIRouter()


@router.get("/patients/{patient_id}/emergency-card.pdf")
async def emergency_card(patient_id: str, request: Request) -> Response:
    actor = await off_loop(actor_from_request, request)
    try:
        name, data = await off_loop(transact, emergency.emergency_card, actor, patient_id=patient_id[:64])
    except ServiceError as exc:
        status = (401 if exc.must_sign_in else 403) if isinstance(exc, AccessDenied) else exc.status
        message = "Please sign in, then print the card again." if status == 401 else str(exc)
        return PlainTextResponse(message, status_code=status, headers=NO_STORE)
    headers = {**NO_STORE, "Content-Disposition": content_disposition("attachment", name),
               "Referrer-Policy": "no-referrer"}
    return Response(data, media_type="application/pdf", headers=headers)
