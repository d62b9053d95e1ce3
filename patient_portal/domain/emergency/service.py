"""Emergency contacts: the one way in for the UI, the API and the chart. Staff, admins and the
patient edit them; a stale save is a Conflict naming what changed (patients.versioning)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from patient_portal.core.access import Action, Actor
from patient_portal.domain.emergency import rows
from patient_portal.domain.patients import versioning
from patient_portal.domain.patients.common import as_uuid
from patient_portal.domain.patients.validation import validate_emergency

__all__ = ["file_at_intake", "read_for_chart", "update_contacts"]


def read_for_chart(session: Session, actor: Actor, *, patient_id: Any) -> list[dict[str, str]] | None:
    """The contacts as form strings, primary first; None when the actor's role reads no contacts.

    The chart's composition point (patients.profile.get_chart): the caller has already required
    access to this patient and audits the whole chart read once, so this neither checks nor audits.
    """
    if not actor.can(Action.EMERGENCY_READ):
        return None
    return rows.for_patient(session, as_uuid(patient_id))


def update_contacts(session: Session, actor: Actor, *, patient_id: Any, contacts: list[dict],
                    expected_version: int, base: list[dict] | None = None) -> list[dict]:
    """Replace the emergency contacts (staff, admin, the patient); returns what is on file now."""
    return versioning.replace_rows(session, actor, patient_id=patient_id, rows=contacts,
                                   action=Action.EMERGENCY_WRITE, label="contact", validate=validate_emergency,
                                   read=rows.for_patient, write=rows.replace,
                                   expected_version=expected_version, base=base)


def file_at_intake(session: Session, *, patient_id: Any, contacts: list[dict]) -> None:
    """File a new record's contacts from its validated registration draft; registration, which
    authorizes and audits the whole record in one unit, is the only caller."""
    rows.replace(session, as_uuid(patient_id), contacts)
