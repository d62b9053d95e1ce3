"""``GET /api/patients/{patient_id}/emergency-card.pdf`` — the printable emergency card.

Cookie session (the link on "Your health record" and on the chart's emergency information is a plain
document link): the emergency service authorizes (the patient their own record; the clinic's roles
that see the chart; never another patient's id), builds the PDF (allergies only for roles that read
clinical data) and audits the print as an export. The answer is the PDF as an attachment, never
cached; a refusal or an unknown record is a short plain-text page with 401, 403 or 404
(``api.printouts``).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from patient_portal.api.printouts import printout
from patient_portal.domain.emergency import service as emergency

router = APIRouter()


@router.get("/patients/{patient_id}/emergency-card.pdf")
async def emergency_card(patient_id: str, request: Request) -> Response:
    return await printout(request, emergency.emergency_card, patient_id=patient_id,
                          again="Please sign in, then print the card again.")
