""""Download my record": the signed-in patient's whole record, as a FHIR Bundle (JSON) or as a
readable PDF summary.

``GET /api/record/download.json`` and ``GET /api/record/download.pdf`` (buttons on "Your health
record"). The record is the patient's own — its id comes from the session, never the address — and
is read through the same area services as the FHIR API (``source.compartment``: authorized and
audited as a chart read), and the patient's secure messages as Communication resources
(``messages.record_export``, audited as such); the download itself is one more audit event, an export with its format
and how many resources it held (counts only). Refusals are short plain-text pages (401/403), like
the printable immunization record's.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from sqlmodel import Session

from patient_portal.api.auth import actor_from_request
from patient_portal.api.documents import content_disposition
from patient_portal.api.fhir import serialize as fhir
from patient_portal.api.fhir import source
from patient_portal.api.fhir.auth import FhirCaller
from patient_portal.api.responses import NO_STORE
from patient_portal.core import clinic_config
from patient_portal.core.access import AccessDenied, Actor, Role
from patient_portal.core.db import off_loop, transact
from patient_portal.core.errors import ServiceError
from patient_portal.core.pdf import pdf
from patient_portal.domain.fhir import service as exports
from patient_portal.domain.messages import service as messages
from patient_portal.settings import get_settings

router = APIRouter()


def own_record(session: Session, actor: Actor | None, *, kind: str) -> tuple[str, bytes, str]:
    """(file name, bytes, media type) of the patient's own record as `kind` ("json" or "pdf")."""
    if actor is None:
        raise AccessDenied("Please sign in, then download your record again.")
    if actor.role != Role.PATIENT or actor.patient_id is None:
        raise AccessDenied("Only a patient downloads their own record here.")
    found = source.compartment(session, FhirCaller(actor, None, None), actor.patient_id, set(source.PATIENT_TYPES))
    found["Communication"] = messages.record_export(session, actor)  # secure messages (not in the FHIR API)
    resources = [r for rtype in (*source.PATIENT_TYPES, "Communication") for r in found.get(rtype, [])]
    exports.record_download(session, actor, kind=kind, resources=len(resources))
    stamp = date.today().isoformat()
    if kind == "json":
        bundle = fhir.bundle("collection", resources, get_settings().public_url + "/fhir")
        bundle["timestamp"] = f"{stamp}T00:00:00Z"
        return f"health-record-{stamp}.json", json.dumps(bundle, indent=1).encode(), "application/fhir+json"
    return f"health-record-{stamp}.pdf", summary_pdf(found), "application/pdf"


def _concept_text(concept: dict[str, Any]) -> str:
    coding = (concept.get("coding") or [{}])[0]
    return concept.get("text") or coding.get("display") or coding.get("code") or ""


def summary_pdf(found: dict[str, list[dict[str, Any]]]) -> bytes:
    """A readable summary of the record: who, then each section in words."""
    clinic = clinic_config.current()
    patient = found["Patient"][0]
    name = patient["name"][0]
    lines: list[tuple[int, str | tuple[str, ...]]] = [
        (16, clinic.clinic_name), (10, ""), (14, "Your health record"), (10, ""),
        (11, f"Patient: {' '.join(name.get('given', []))} {name.get('family', '')}"),
        (11, f"Date of birth: {patient.get('birthDate', '')}"),
        (11, f"Record number: {patient['identifier'][0]['value']}"),
        (11, f"Printed: {date.today().isoformat()}"), (10, ""),
    ]

    def section(title: str, rows: list[str], empty: str) -> None:
        lines.extend([(13, title), *((10, row[:110]) for row in rows), *([(10, empty)] if not rows else []),
                      (8, "")])

    def status(r: dict[str, Any]) -> str:
        return (r.get("clinicalStatus") or {}).get("coding", [{}])[0].get("code", "") or r.get("status", "")

    section("Allergies", [f"{_concept_text(r['code'])} ({status(r)})"
                          + (f" - {r['reaction'][0]['manifestation'][0]['text']}" if r.get("reaction") else "")
                          for r in found.get("AllergyIntolerance", [])], "No allergies on file.")
    section("Conditions", [f"{_concept_text(r['code'])} ({status(r)})"
                           + (f", since {r['onsetDateTime']}" if r.get("onsetDateTime") else "")
                           for r in found.get("Condition", [])], "No conditions on file.")
    section("Medicines", [f"{_concept_text(r['medicationCodeableConcept'])} ({status(r)})"
                          + (f" - {r['dosage'][0]['text']}" if r.get("dosage") else "")
                          for r in found.get("MedicationStatement", [])], "No medicines on file.")
    section("Vaccinations", [f"{_concept_text(r['vaccineCode'])}, {r.get('occurrenceDateTime', 'date unknown')}"
                             for r in found.get("Immunization", [])], "No vaccinations on file.")
    section("Vital signs (most recent first)",
            [f"{r['effectiveDateTime'][:16].replace('T', ' ')}  {_concept_text(r['code'])}: "
             f"{r['valueQuantity']['value']:g} {r['valueQuantity']['unit']}" for r in found.get("Observation", [])[:60]],
            "No vital signs on file.")
    section("Insurance", [f"{r['payor'][0]['display']}, member {r.get('subscriberId', '')}"
                          for r in found.get("Coverage", [])], "No insurance on file.")
    section("Emergency contacts", [f"{r.get('name', [{}])[0].get('text', '')} ({r['relationship'][0].get('text', '')})"
                                   for r in found.get("RelatedPerson", [])], "No emergency contacts on file.")
    section("Messages", [f"{r['sent'][:16].replace('T', ' ')}  {r['sender']['display']} ({r['topic']['text']}): "
                         f"{r['payload'][0]['contentString']}".replace("\n", " ")
                         for r in found.get("Communication", [])], "No messages.")
    lines.append((9, "The full record, in the FHIR format other health apps read, is the JSON download."))
    return pdf(lines)


async def _download(request: Request, kind: str) -> Response:
    actor = await off_loop(actor_from_request, request)
    try:
        name, data, media = await off_loop(transact, own_record, actor, kind=kind)
    except ServiceError as exc:
        status = (401 if exc.must_sign_in else 403) if isinstance(exc, AccessDenied) else exc.status
        return PlainTextResponse(str(exc), status_code=status, headers=NO_STORE)
    headers = {**NO_STORE, "Content-Disposition": content_disposition("attachment", name),
               "Referrer-Policy": "no-referrer"}
    return Response(data, media_type=media, headers=headers)


@router.get("/record/download.json")
async def download_json(request: Request) -> Response:
    return await _download(request, "json")


@router.get("/record/download.pdf")
async def download_pdf(request: Request) -> Response:
    return await _download(request, "pdf")
