"""Reading a patient's chart as one role sees it, and editing its sections with optimistic concurrency.

Each edit names the version it was loaded at. When the record moved on since, the save goes through
only if nobody touched the same section; otherwise ``Conflict`` lists what changed and nothing is written.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import Session

from patient_portal.core import audit
from patient_portal.core.access import Action, Actor, Role
from patient_portal.core.db import utcnow
from patient_portal.domain.emergency import rows as emergency_rows
from patient_portal.domain.history import rows as history_rows
from patient_portal.domain.history.models import KINDS
from patient_portal.domain.insurance import rows as insurance_rows
from patient_portal.domain.patients import dto, indexes
from patient_portal.domain.patients.common import Conflict, as_uuid, deny, guard, load
from patient_portal.domain.patients.models import CHANGE_PENDING, PatientChangeRequest
from patient_portal.domain.patients.validation import (
    ValidationFailed,
    validate_basic,
    validate_contact,
    validate_emergency,
    validate_history_item,
    validate_insurance,
    validate_name,
)

#: section -> fields it edits. Patients edit preferences and contact; legal fields go through review.
SECTIONS: dict[str, tuple[str, ...]] = {
    "demographics": (*dto.LEGAL_FIELDS, *dto.PREFERENCE_FIELDS),
    "preferences": dto.PREFERENCE_FIELDS,
    "contact": dto.CONTACT_FIELDS,
}
STAFF_ROLES = (Role.STAFF, Role.ADMIN)


def _sections_for(actor: Actor) -> list[tuple[str, Action]]:
    wanted = [("demographics", Action.DEMOGRAPHICS_READ), ("insurance", Action.INSURANCE_READ),
              ("emergency", Action.EMERGENCY_READ), ("clinical", Action.CLINICAL_READ)]
    return [(name, action) for name, action in wanted if actor.can(action)]


def get_chart(session: Session, actor: Actor, patient_id: Any) -> dict[str, Any]:
    """The record as this actor may see it (audited once with the sections shown).

    Staff: demographics, contacts, insurance, emergency contacts — no clinical rows. Doctors: care-team
    patients only, with clinical rows. Patients: their own record only.
    """
    pid = as_uuid(patient_id)
    guard(session, actor, Action.DEMOGRAPHICS_READ, patient_id=pid)
    patient = load(session, pid)
    sections = _sections_for(actor)
    shown = [name for name, _ in sections]
    insurance = insurance_rows.for_patient(session, pid) if "insurance" in shown else None
    history = history_rows.for_patient(session, pid) if "clinical" in shown else None
    chart: dict[str, Any] = {
        "patient": dto.summary(patient),
        "version": patient.version,
        "basic": dto.basic_values(patient),
        "insurance": insurance,
        "emergency": emergency_rows.for_patient(session, pid) if "emergency" in shown else None,
        "history": history,
        "header": {
            "allergies": [r["substance"] for r in history["allergies"]] if history is not None else None,
            "insurance_status": insurance_rows.status_text(insurance) if insurance is not None else "",
        },
        "can": {
            "edit_demographics": actor.role in STAFF_ROLES,
            "edit_contact": actor.can(Action.DEMOGRAPHICS_WRITE),
            "edit_insurance": actor.can(Action.INSURANCE_WRITE),
            "edit_emergency": actor.can(Action.EMERGENCY_WRITE),
            "edit_clinical": actor.can(Action.CLINICAL_WRITE),
            "request_legal_change": actor.role == Role.PATIENT,
        },
        "pending_changes": _pending_changes(session, pid) if actor.role == Role.PATIENT else [],
    }
    audit.record(session, actor, str(Action.DEMOGRAPHICS_READ), patient_id=pid, object_type="patient",
                 object_id=pid, detail={"sections": shown})
    return chart


def _pending_changes(session: Session, patient_id: uuid.UUID) -> list[dict[str, str]]:
    from sqlmodel import select

    rows = session.exec(select(PatientChangeRequest).where(
        PatientChangeRequest.patient_id == patient_id, PatientChangeRequest.status == CHANGE_PENDING)).all()
    return [{"id": str(r.id), "fields": ", ".join(dto.LABELS.get(f, f) for f in r.changes),
             "requested": dto.display_date(r.created_at.date())} for r in rows]


def _check_version(current: Any, base: Any, submitted: Any, version: int, expected: int,
                   diff) -> None:
    """Raise Conflict when the record moved past `expected` and the section differs from `base`."""
    if int(expected) == version:
        return
    changed = diff(current, base if base is not None else submitted)
    if changed:
        raise Conflict(changed, current, version)


def _field_diff(current: dict, base: dict) -> list[str]:
    return [dto.LABELS.get(k, k) for k in current if str(current.get(k) or "") != str(base.get(k) or "")]


def _rows_diff(label: str, id_field: str = "order"):
    def diff(current: list[dict], base: list[dict]) -> list[str]:
        def keyed(rows):
            return {r.get(id_field) or str(i): {k: v for k, v in r.items() if k != "id"} for i, r in enumerate(rows)}

        cur, old = keyed(current), keyed(base or [])
        out = []
        for key in sorted(set(cur) | set(old)):
            a, b = cur.get(key), old.get(key)
            if a is None or b is None:
                out.append(f"{label} ({key}) {'added' if b is None else 'removed'}")
            else:
                out += [f"{label} ({key}): {k.replace('_', ' ')}" for k in sorted(set(a) | set(b))
                        if str(a.get(k) or "") != str(b.get(k) or "")]
        return out
    return diff


def _bump(patient, actor: Actor) -> None:
    patient.version += 1
    patient.updated_by = actor.user_id
    patient.updated_at = utcnow()


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
    _check_version({k: current[k] for k in fields}, base and {k: base.get(k, "") for k in fields},
                   {k: merged[k] for k in fields}, patient.version, expected_version, _field_diff)
    changed = dto.apply_basic(patient, merged, fields)
    if changed:
        indexes.apply(session, patient)
        _bump(patient, actor)
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


def _update_rows(session: Session, actor: Actor, patient_id: Any, rows: list[dict], *, action: Action,
                 label: str, validate, rows_module, expected_version: int, base: list[dict] | None) -> list[dict]:
    pid = as_uuid(patient_id)
    guard(session, actor, action, patient_id=pid)
    patient = load(session, pid)  # before validation: no "fix these fields" for a record that isn't there
    rows = [dict(r) for r in rows or []]
    errors = validate(rows)
    if errors:
        raise ValidationFailed(errors)
    current = rows_module.for_patient(session, pid)
    _check_version(current, base, rows, patient.version, expected_version, _rows_diff(label))
    changed = _rows_diff(label)(rows, current)
    rows_module.replace(session, pid, rows)
    _bump(patient, actor)
    session.add(patient)
    audit.record(session, actor, str(action), patient_id=pid, object_type=label, object_id=pid,
                 detail={"fields_changed": changed, "count": len(rows), "version": patient.version})
    return rows_module.for_patient(session, pid)


def update_insurance(session: Session, actor: Actor, patient_id: Any, policies: list[dict], *,
                     expected_version: int, base: list[dict] | None = None) -> list[dict]:
    """Replace the policies on file (staff, admin, the patient)."""
    return _update_rows(session, actor, patient_id, policies, action=Action.INSURANCE_WRITE, label="policy",
                        validate=validate_insurance, rows_module=insurance_rows,
                        expected_version=expected_version, base=base)


def update_emergency_contacts(session: Session, actor: Actor, patient_id: Any, contacts: list[dict], *,
                              expected_version: int, base: list[dict] | None = None) -> list[dict]:
    """Replace the emergency contacts (staff, admin, the patient)."""
    return _update_rows(session, actor, patient_id, contacts, action=Action.EMERGENCY_WRITE, label="contact",
                        validate=validate_emergency, rows_module=emergency_rows,
                        expected_version=expected_version, base=base)


def save_history_item(session: Session, actor: Actor, patient_id: Any, kind: str, values: dict[str, str], *,
                      item_id: str | None = None, expected_version: int | None = None) -> dict[str, str]:
    """Add a history row, or update one at the version it was loaded (doctors, admin)."""
    pid = as_uuid(patient_id)
    guard(session, actor, Action.CLINICAL_WRITE, patient_id=pid)
    load(session, pid)
    errors = validate_history_item(kind, values)
    if errors:
        raise ValidationFailed(errors)
    model, fields = KINDS[kind]
    if item_id:
        row = session.get(model, as_uuid(item_id))
        if row is None or row.patient_id != pid:
            raise ValidationFailed({"item": "That entry no longer exists."})
        before = history_rows.to_dict(kind, row)
        if expected_version is not None and int(expected_version) != row.version:
            changed = [k.replace("_", " ") for k in fields if before[k] != str(values.get(k) or "").strip()]
            raise Conflict(changed or ["entry"], before, row.version)
        for name, value in history_rows.clean(kind, values).items():
            setattr(row, name, value)
        row.version += 1
        row.updated_at = utcnow()
        changed = [k for k in fields if before[k] != history_rows.to_dict(kind, row)[k]]
    else:
        row = history_rows.add(session, pid, kind, values, recorded_by=actor.user_id, source="clinician")
        changed = [k for k in fields if str(values.get(k) or "").strip()]
    session.add(row)
    session.flush()
    audit.record(session, actor, str(Action.CLINICAL_WRITE), patient_id=pid, object_type=f"history.{kind}",
                 object_id=row.id, detail={"fields_changed": changed, "created": not item_id})
    return history_rows.to_dict(kind, row)


def remove_history_item(session: Session, actor: Actor, patient_id: Any, kind: str, item_id: str) -> None:
    """Delete a history row entered in error (doctors, admin); PatientNotFound for an unknown or
    merged record (its rows stay as they were, for the audit trail)."""
    pid = as_uuid(patient_id)
    guard(session, actor, Action.CLINICAL_WRITE, patient_id=pid)
    load(session, pid)
    if kind not in KINDS:
        raise ValidationFailed({"kind": "Unknown kind of history entry."})
    row = session.get(KINDS[kind][0], as_uuid(item_id))
    if row is None or row.patient_id != pid:
        raise ValidationFailed({"item": "That entry no longer exists."})
    session.delete(row)
    audit.record(session, actor, str(Action.CLINICAL_WRITE), patient_id=pid, object_type=f"history.{kind}",
                 object_id=item_id, detail={"removed": True})
