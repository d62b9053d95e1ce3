"""``GET /api/patients/{patient_id}/disclosures.pdf`` — the accounting of disclosures (six years).

Cookie session (the link on "Privacy and sharing" and on a chart's Privacy page is a plain document
link): the rights service authorizes (the patient their own record; the front desk, doctors and
admins theirs to read), builds the PDF and audits the print as an export. A refusal or an unknown
record is a short plain-text page with 401, 403 or 404, as for the immunization record.
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
from patient_portal.domain.rights import service as rights

router = APIRouter()


@router.get("/patients/{patient_id}/disclosures.pdf")
async def accounting_of_disclosures(patient_id: str, request: Request) -> Response:
    actor = await off_loop(actor_from_request, request)
    try:
        name, data = await off_loop(transact, rights.accounting_pdf, actor, patient_id=patient_id[:64])
    except ServiceError as exc:
        status = (401 if exc.must_sign_in else 403) if isinstance(exc, AccessDenied) else exc.status
        message = "Please sign in, then download the accounting again." if status == 401 else str(exc)
        return PlainTextResponse(message, status_code=status, headers=NO_STORE)
    headers = {**NO_STORE, "Content-Disposition": content_disposition("attachment", name),
               "Referrer-Policy": "no-referrer"}
    return Response(data, media_type="application/pdf", headers=headers)
