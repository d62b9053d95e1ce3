"""FHIR writes: a Condition or an AllergyIntolerance checked as FHIR R4 (``fhir.resources`` R4B
models, with the path of a bad element), then mapped onto the history service's form values and
saved by it — the clinician's own write: policy, code checks, version check and audit there.

Deletes go to the area's own delete use case (``DELETABLE``): a history entry made in error
(``history.remove_item``: doctors on the care team, admins) and a document (``documents.remove``:
its author or an admin, a soft delete kept until purged; it opens its own unit of work:
``OWN_UNIT``). The policy decision and the audit event are the area's."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session

from patient_portal.core.access import Action, Actor, Resource, decide
from patient_portal.core.coding import ICD10_CM, SNOMED_CT
from patient_portal.core.errors import Invalid, NotFound
from patient_portal.domain.history import service as history

#: FHIR type -> history kind it writes
KINDS = {"Condition": "conditions", "AllergyIntolerance": "allergies"}
#: FHIR type -> the area that deletes it (history: its kind).
DELETABLE = {"Condition": "conditions", "AllergyIntolerance": "allergies", "MedicationStatement": "medications",
             "Immunization": "immunizations", "DocumentReference": "documents"}
#: Deletable types whose area's use case runs in its own unit of work.
OWN_UNIT = ("DocumentReference",)
#: A document's removal needs a reason: a FHIR DELETE carries none, so this one says where it came from.
DELETE_REASON = "Removed through the FHIR API by {client}."
SYSTEM_NAMES = {ICD10_CM: "ICD-10", SNOMED_CT: "SNOMED"}
CATEGORIES = {"medication": "medication", "food": "food", "environment": "environment", "biologic": "other"}


def validate(rtype: str, body: dict[str, Any]) -> None:
    """Invalid (422) naming each bad element's path when the body is not a valid R4 resource."""
    from fhir.resources.R4B import get_fhir_model_class

    try:
        get_fhir_model_class(rtype).model_validate(body)
    except ValidationError as exc:
        errors = {".".join([rtype, *(str(p) for p in e["loc"])]): e["msg"][:200] for e in exc.errors()[:10]}
        raise Invalid("The resource is not valid FHIR R4.", errors) from None


def _text(concept: dict[str, Any] | None) -> tuple[str, str | None, str | None]:
    """(name, code, system) of a CodeableConcept."""
    concept = concept or {}
    coding = (concept.get("coding") or [{}])[0]
    return (concept.get("text") or coding.get("display") or coding.get("code") or "",
            coding.get("code"), coding.get("system"))


def _status(body: dict[str, Any], default: str = "active") -> str:
    concept = body.get("clinicalStatus") or {}
    return ((concept.get("coding") or [{}])[0].get("code")) or default


def parse(rtype: str, body: dict[str, Any]) -> tuple[uuid.UUID, dict[str, str]]:
    """(patient id, history form values) of a valid body."""
    validate(rtype, body)
    field = "subject" if rtype == "Condition" else "patient"
    reference = ((body.get(field) or {}).get("reference") or "")
    try:
        pid = uuid.UUID(reference.removeprefix("Patient/"))
    except ValueError:
        raise Invalid("The resource must name its patient.", {f"{rtype}.{field}": "Patient/<id> is required."}) from None
    name, code, system = _text(body.get("code"))
    if rtype == "Condition":
        values = {"description": name, "code": code or "", "code_system": SYSTEM_NAMES.get(system or "", ""),
                  "onset": str(body.get("onsetDateTime") or "")[:10], "status": _status(body),
                  "note": "; ".join(n.get("text", "") for n in body.get("note") or [])}
        if code and not values["code_system"]:
            raise Invalid("Condition codes are ICD-10-CM or SNOMED CT.", {"Condition.code.coding[0].system":
                                                                          "Use ICD-10-CM or SNOMED CT."})
        return pid, values
    reaction = (body.get("reaction") or [{}])[0]
    values = {"substance": name, "category": CATEGORIES.get((body.get("category") or [""])[0], "other"),
              "reaction": "; ".join(_text(m)[0] for m in reaction.get("manifestation") or []),
              "severity": reaction.get("severity") or "unknown", "criticality": body.get("criticality") or "",
              "status": _status(body)}
    return pid, values


def save(session: Session, actor: Actor, rtype: str, pid: uuid.UUID, values: dict[str, str], *,
         item_id: str | None = None, expected_version: int | None = None) -> dict[str, str]:
    """The history service's save; a patient the caller cannot reach at all is NotFound (404), so
    the write does not tell them that it exists."""
    if not decide(session, actor, Action.DEMOGRAPHICS_READ, Resource(patient_id=pid)).allowed:
        raise NotFound()
    return history.save_item(session, actor, patient_id=pid, kind=KINDS[rtype], values=values, item_id=item_id,
                             expected_version=expected_version)


def delete(session: Session, actor: Actor, rtype: str, pid: Any, rid: str) -> None:
    """Remove a history entry made in error through the history service (its policy and audit)."""
    history.remove_item(session, actor, patient_id=pid, kind=DELETABLE[rtype], item_id=rid)


def delete_in_own_unit(caller: Any, rtype: str, rid: str) -> None:
    """Soft-delete a document through the documents service (its own unit, policy and audit)."""
    from patient_portal.domain.documents import service as documents

    assert rtype in OWN_UNIT
    documents.remove(caller.actor, document_id=rid[:64],
                     reason=DELETE_REASON.format(client=caller.client_id or "the portal"))
