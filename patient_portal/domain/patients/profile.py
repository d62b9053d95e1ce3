"""Reading a patient's chart as one role sees it, and editing its profile sections with optimistic
concurrency (patients.versioning).

``get_chart`` is the chart's composition point: it reads insurance, emergency contacts and history
through those areas' services (``read_for_chart``), so imports point one way — the areas build on
the patient record (common, validation, versioning) and never on this module. Their edits live in
their own services (history, insurance, emergency).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import Session

from patient_portal.core import audit
from patient_portal.core.access import Action, Actor, Role, can_on
from patient_portal.domain.emergency import service as emergency_service
from patient_portal.domain.history import service as history_service
from patient_portal.domain.insurance import service as insurance_service
from patient_portal.domain.patients import dto, indexes
from patient_portal.domain.patients.common import as_uuid, deny, guard, load
from patient_portal.domain.patients.models import CHANGE_PENDING, PatientChangeRequest
from patient_portal.domain.patients.validation import (
    ValidationFailed,
    validate_basic,
    validate_contact,
    validate_name,
)
from patient_portal.domain.patients.versioning import bump, check_version

#: section -> fields it edits. Patients edit preferences and contact; legal fields go through review.
SECTIONS: dict[str, tuple[str, ...]] = {
    "demographics": (*dto.LEGAL_FIELDS, *dto.PREFERENCE_FIELDS),
    "preferences": dto.PREFERENCE_FIELDS,
    "contact": dto.CONTACT_FIELDS,
}
STAFF_ROLES = (Role.STAFF, Role.ADMIN)


#: The chart's sections besides demographics (always read): what ``get_chart(parts=…)`` may name.
PARTS = ("insurance", "emergency", "clinical")


def get_chart(session: Session, actor: Actor, patient_id: Any, *,
              header_sections: list[str] | tuple[str, ...] = (),
              parts: tuple[str, ...] | frozenset[str] | set[str] = PARTS, kinds: Any = None) -> dict[str, Any]:
    """The record as this actor may see it (audited once with the sections shown, and the chart
    header's `header_sections` when the header was read in the same unit: ``header.open_chart``).

    Staff: demographics, contacts, insurance, emergency contacts — no clinical rows. Doctors: care-team
    patients only, with clinical rows. Patients: their own record only. Each area's service says
    whether this role reads its section (None: not shown). `parts` (of ``PARTS``) narrows what is
    read besides the demographics — the FHIR API reading one Patient or one Condition reads only
    that (a section not asked for is None, like one the role does not read, and is not in the
    audit event's sections; ``can`` speaks for the parts read), and `kinds` the history's kinds
    (``history.KINDS``; None: all): nothing is decrypted that is not returned. ``updated_at`` is
    when the patient's own row last changed.
    """
    pid = as_uuid(patient_id)
    guard(session, actor, Action.DEMOGRAPHICS_READ, patient_id=pid)
    patient = load(session, pid)
    insurance = insurance_service.read_for_chart(session, actor, patient_id=pid) if "insurance" in parts else None
    contacts = emergency_service.read_for_chart(session, actor, patient_id=pid) if "emergency" in parts else None
    read = history_service.chart_history(session, actor, patient_id=pid, kinds=kinds) if "clinical" in parts else None
    history = None if read is None else {kind: [e.form() for e in found] for kind, found in read.entries.items()}
    shown = [name for name, part in (("demographics", patient), ("insurance", insurance),
                                     ("emergency", contacts), ("clinical", history)) if part is not None]
    chart: dict[str, Any] = {
        "patient": dto.summary(patient),
        "version": patient.version,
        "updated_at": patient.updated_at,
        "basic": dto.basic_values(patient),
        "insurance": insurance,
        "emergency": contacts,
        "history": history,
        "header": {
            "allergies": [r["substance"] for r in history["allergies"]]
            if history is not None and "allergies" in history else None,
            "insurance_status": insurance_service.status_text(insurance) if insurance is not None else "",
        },
        "can": {
            "edit_demographics": actor.role in STAFF_ROLES,
            "edit_contact": actor.can(Action.DEMOGRAPHICS_WRITE),
            "edit_insurance": actor.can(Action.INSURANCE_WRITE),
            "edit_emergency": actor.can(Action.EMERGENCY_WRITE),
            "emergency_runs": actor.can(Action.EMERGENCY_RUN_READ),  # the chart's Emergency page
            "edit_clinical": "clinical" in parts and can_on(session, actor, Action.CLINICAL_WRITE, pid),
            "report_clinical": actor.can(Action.CLINICAL_REPORT_OWN),  # the patient: an allergy, a medication
            "request_legal_change": actor.role == Role.PATIENT,
            "billing": actor.can(Action.BILLING_ACCOUNT_READ),  # the chart's Billing page
        },
        "pending_changes": _pending_changes(session, pid) if actor.role == Role.PATIENT else [],
        "withheld": read.withheld if read is not None else 0,  # sensitive conditions not shown to this actor
    }
    audit.record(session, actor, str(Action.DEMOGRAPHICS_READ), patient_id=pid, object_type="patient",
                 object_id=pid, detail={"sections": shown + [h for h in header_sections if h not in shown]})
    return chart


def _pending_changes(session: Session, patient_id: uuid.UUID) -> list[dict[str, str]]:
    from sqlmodel import select

    rows = session.exec(select(PatientChangeRequest).where(
        PatientChangeRequest.patient_id == patient_id, PatientChangeRequest.status == CHANGE_PENDING)).all()
    return [{"id": str(r.id), "fields": ", ".join(dto.LABELS.get(f, f) for f in r.changes),
             "requested": dto.display_date(r.created_at.date())} for r in rows]


def _field_diff(current: dict, base: dict) -> list[str]:
    return [dto.LABELS.get(k, k) for k in current if str(current.get(k) or "") != str(base.get(k) or "")]


def update_section(session: Session, actor: Actor, patient_id: Any, section: str, values: dict[str, str], *,
                   expected_version: int, base: dict[str, str] | None = None) -> dict[str, Any]:
    """Save one profile section ("demographics", "preferences" or "contact"); returns the new summary."""
    if section not in SECTIONS:
        raise ValidationFailed({"section": "Unknown section."})
    pid = as_uuid(patient_id)
    guard(session, actor, Action.DEMOGRAPHICS_WRITE, patient_id=pid)
    fields = SECTIONS[section]
    if section == "demographics" and actor.role not in STAFF_ROLES:
        session.rollback()
        deny(actor, Action.DEMOGRAPHICS_WRITE, patient_id=pid, message="Changes to legal name, date of birth "
             "or sex are checked by the clinic: send a change request.")
    patient = load(session, pid)
    current = dto.basic_values(patient)
    merged = {**current, **{k: values.get(k, "") for k in fields}}
    errors = validate_basic(merged) if section != "contact" else validate_contact(merged)
    errors = {k: v for k, v in errors.items() if k in fields}
    if section == "demographics":
        errors.update({k: v for k, v in validate_name(merged).items() if k in fields})
    if errors:
        raise ValidationFailed(errors)
    check_version({k: current[k] for k in fields}, base and {k: base.get(k, "") for k in fields},
                  {k: merged[k] for k in fields}, patient.version, expected_version, _field_diff)
    changed = dto.apply_basic(patient, merged, fields)
    if changed:
        indexes.apply(session, patient)
        bump(patient, actor)
        session.add(patient)
    audit.record(session, actor, str(Action.DEMOGRAPHICS_WRITE), patient_id=pid, object_type="patient",
                 object_id=pid, detail={"section": section, "fields_changed": changed, "version": patient.version})
    return dto.summary(patient)


def update_demographics(session: Session, actor: Actor, patient_id: Any, values: dict[str, str], **kw: Any):
    """Legal name, birth date, sex and preferences (staff and admin)."""
    return update_section(session, actor, patient_id, "demographics", values, **kw)


def update_contact(session: Session, actor: Actor, patient_id: Any, values: dict[str, str], **kw: Any):
    """Address, phones, email, preferred contact method (staff, admin, the patient)."""
    return update_section(session, actor, patient_id, "contact", values, **kw)
