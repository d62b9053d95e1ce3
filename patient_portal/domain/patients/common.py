"""Errors and guards shared by the patient services."""

from __future__ import annotations

import uuid
from typing import Any, NoReturn

from sqlmodel import Session

from patient_portal.core import errors
from patient_portal.core.access import Action, Actor, Resource, refuse, require
from patient_portal.core.errors import NotFound
from patient_portal.domain.patients.models import STATUS_MERGED, Patient


class PatientNotFound(NotFound):
    """No such patient (or it was merged into another record)."""

    def __init__(self) -> None:
        super().__init__("That patient record was not found.")


class Conflict(errors.Conflict):
    """Someone else saved this record since it was loaded. `fields` names what they changed;
    `current` holds the saved values of the section and `version` the version to save against."""

    def __init__(self, fields: list[str], current: Any, version: int):
        super().__init__("This record was changed by someone else: " + ", ".join(fields))
        self.fields = fields
        self.current = current
        self.version = version


def guard(session: Session, actor: Actor | None, action: Action, *, patient_id: uuid.UUID | None = None) -> Actor:
    """The policy's ``require`` for a patient service; returns the actor (refusals are audited)."""
    require(session, actor, action, Resource(patient_id=patient_id))
    assert actor is not None
    return actor


def deny(actor: Actor | None, action: Action | str, *, patient_id: uuid.UUID | None = None,
         message: str = "You do not have permission to do that.", reason: str = "rule") -> NoReturn:
    """Refuse by a patient-area rule (audited like every refusal, see core.access.refuse)."""
    refuse(None, actor, str(action), reason=reason, patient_id=patient_id, message=message)


def as_uuid(value: Any) -> uuid.UUID:
    """A UUID from browser input; a malformed id reads as 'not found'."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise PatientNotFound() from None


def load(session: Session, patient_id: Any) -> Patient:
    """The live patient record `patient_id` names (active or pending its identity check).

    Every use case that names a patient calls this after authorizing and before it reads or writes
    anything of theirs, so nothing is ever filed under an id that names no record. Raises
    PatientNotFound (API: 404, UI: "not found") for a malformed or unknown id and for a record merged
    into another one (its rows are kept for the audit trail, not as a place to add to).
    """
    patient = session.get(Patient, as_uuid(patient_id))
    if patient is None or patient.status == STATUS_MERGED:
        raise PatientNotFound()
    kept = session.info.get(_KEPT)
    if kept is not None:
        kept[patient.id] = patient
    return patient


_KEPT = "portal_patients_kept"


def keep_loaded(session: Session) -> None:
    """From now on in this unit, keep the patient rows ``load`` returns, so that a read composed of
    several areas' services — the FHIR API's compartment, a bulk export — loads and decrypts each
    patient once instead of once per area (the session's identity map holds rows only while
    something refers to them). For units that read patients, never for ones that change them
    behind the ORM (a merge's UPDATE): the kept row would not see it."""
    session.info.setdefault(_KEPT, {})
