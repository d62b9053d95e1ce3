"""Insurance policies on file: the one way in for the UI, the API and the chart. Staff, admins and
the patient edit them; a stale save is a Conflict naming what changed (patients.versioning)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from patient_portal.core.access import Action, Actor
from patient_portal.domain.insurance import rows
from patient_portal.domain.insurance.rows import status_text
from patient_portal.domain.patients import versioning
from patient_portal.domain.patients.common import as_uuid
from patient_portal.domain.patients.validation import validate_insurance

__all__ = ["file_at_intake", "read_for_chart", "status_text", "update_policies"]


def read_for_chart(session: Session, actor: Actor, *, patient_id: Any) -> list[dict[str, str]] | None:
    """The policies as form strings, primary first; None when the actor's role reads no insurance.

    The chart's composition point (patients.profile.get_chart): the caller has already required
    access to this patient and audits the whole chart read once, so this neither checks nor audits.
    """
    if not actor.can(Action.INSURANCE_READ):
        return None
    return rows.for_patient(session, as_uuid(patient_id))


def update_policies(session: Session, actor: Actor, *, patient_id: Any, policies: list[dict],
                    expected_version: int, base: list[dict] | None = None) -> list[dict]:
    """Replace the policies on file (staff, admin, the patient); returns what is on file now."""
    return versioning.replace_rows(session, actor, patient_id=patient_id, rows=policies,
                                   action=Action.INSURANCE_WRITE, label="policy", validate=validate_insurance,
                                   read=rows.for_patient, write=rows.replace,
                                   expected_version=expected_version, base=base)


def file_at_intake(session: Session, *, patient_id: Any, policies: list[dict]) -> None:
    """File a new record's policies from its validated registration draft; registration, which
    authorizes and audits the whole record in one unit, is the only caller."""
    rows.replace(session, as_uuid(patient_id), policies)
