"""``GET /api/patients/{patient_id}/immunizations.pdf`` — the printable immunization record.

Cookie session (the link on "Your health record" and on the chart is a plain document link): the
history service authorizes (the patient their own record; care-team doctors and admins; never the
front desk, never another patient's id), builds the PDF and audits the print as an export with its
purpose. The answer is the PDF as an attachment, never cached; a refusal or an unknown record is a
short plain-text page (the person followed a link: JSON would mean nothing to them) with 401, 403 or
404 (``api.printouts``).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from patient_portal.api.printouts import printout
from patient_portal.domain.history import service as history

router = APIRouter()


@router.get("/patients/{patient_id}/immunizations.pdf")
async def immunization_record(patient_id: str, request: Request) -> Response:
    return await printout(request, history.immunization_record, patient_id=patient_id,
                          again="Please sign in, then print the record again.")
