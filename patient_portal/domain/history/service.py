"""Medical history (conditions, allergies, medications, family history, immunizations): the one
way in for the UI, the API and the chart. Doctors on the care team and admins write; every change
is audited as a clinical write on the entry."""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import Session

from patient_portal.core import audit
from patient_portal.core.access import Action, Actor
from patient_portal.core.db import utcnow
from patient_portal.domain.history import rows
from patient_portal.domain.history.dto import HistoryEntry, entry
from patient_portal.domain.history.models import KINDS
from patient_portal.domain.patients.common import Conflict, as_uuid, guard, load
from patient_portal.domain.patients.validation import ValidationFailed, validate_history_item

__all__ = ["KINDS", "HistoryEntry", "file_at_intake", "read_for_chart", "remove_item", "save_item"]


def read_for_chart(session: Session, actor: Actor, *, patient_id: Any) -> dict[str, list[HistoryEntry]] | None:
    """Every entry of the patient by kind, oldest first; None when the actor's role reads no clinical rows.

    The chart's composition point (patients.profile.get_chart): the caller has already required
    access to this patient and audits the whole chart read once, so this neither checks nor audits.
    """
    if not actor.can(Action.CLINICAL_READ):
        return None
    found = rows.for_patient(session, as_uuid(patient_id))
    return {kind: [entry(values) for values in found[kind]] for kind in found}


def save_item(session: Session, actor: Actor, *, patient_id: Any, kind: str, values: dict[str, str],
              item_id: str | None = None, expected_version: int | None = None) -> dict[str, str]:
    """Add an entry, or update one at the version it was loaded (doctors, admin); returns its form strings."""
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
        before = rows.to_dict(kind, row)
        if expected_version is not None and int(expected_version) != row.version:
            changed = [k.replace("_", " ") for k in fields if before[k] != str(values.get(k) or "").strip()]
            raise Conflict(changed or ["entry"], before, row.version)
        for name, value in rows.clean(kind, values).items():
            setattr(row, name, value)
        row.version += 1
        row.updated_at = utcnow()
        changed = [k for k in fields if before[k] != rows.to_dict(kind, row)[k]]
    else:
        row = rows.add(session, pid, kind, values, recorded_by=actor.user_id, source="clinician")
        changed = [k for k in fields if str(values.get(k) or "").strip()]
    session.add(row)
    session.flush()
    audit.record(session, actor, str(Action.CLINICAL_WRITE), patient_id=pid, object_type=f"history.{kind}",
                 object_id=row.id, detail={"fields_changed": changed, "created": not item_id})
    return rows.to_dict(kind, row)


def remove_item(session: Session, actor: Actor, *, patient_id: Any, kind: str, item_id: str) -> None:
    """Delete an entry made in error (doctors, admin); PatientNotFound for an unknown or merged
    record (its rows stay as they were, for the audit trail)."""
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


def file_at_intake(session: Session, *, patient_id: Any, entries: dict[str, list[dict]],
                   recorded_by: uuid.UUID | None) -> None:
    """File a new record's history from its validated registration draft (source "intake");
    registration, which authorizes and audits the whole record in one unit, is the only caller."""
    pid = as_uuid(patient_id)
    for kind in KINDS:
        for values in entries.get(kind) or []:
            rows.add(session, pid, kind, values, recorded_by=recorded_by, source="intake")
