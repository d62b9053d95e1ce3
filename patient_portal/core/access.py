"""The one policy point: who is acting, what their role may do, and which patients they reach.

Deny by default. Services call ``authorize(session, actor, action, patient_id=...)`` before they
touch a row; it raises ``AccessDenied`` (and the caller's audit records the refusal).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, Session, select

from patient_portal.core.db import TimestampedTable


class Role(StrEnum):
    ADMIN = "admin"
    DOCTOR = "doctor"
    STAFF = "staff"
    PATIENT = "patient"


class Action(StrEnum):
    """Everything a user can ask for. Names read `<area>.<what>.<verb>`."""

    PATIENT_SEARCH = "patient.search"
    PATIENT_REGISTER = "patient.register"
    PATIENT_SELF_REGISTER = "patient.self_register"
    DEMOGRAPHICS_READ = "patient.demographics.read"
    DEMOGRAPHICS_WRITE = "patient.demographics.write"
    CLINICAL_READ = "patient.clinical.read"
    CLINICAL_WRITE = "patient.clinical.write"
    INSURANCE_READ = "patient.insurance.read"
    INSURANCE_WRITE = "patient.insurance.write"
    EMERGENCY_READ = "patient.emergency.read"
    EMERGENCY_WRITE = "patient.emergency.write"
    CLINICAL_DOC_READ = "document.clinical.read"
    CLINICAL_DOC_WRITE = "document.clinical.write"
    ADMIN_DOC_READ = "document.administrative.read"
    ADMIN_DOC_WRITE = "document.administrative.write"
    DOCUMENT_PURGE = "document.purge"
    CARE_TEAM_MANAGE = "careteam.manage"
    IDENTITY_REVIEW = "patient.identity.review"
    ACCESS_LOG_OWN = "audit.own.read"
    AUDIT_READ = "audit.read"
    USER_MANAGE = "user.manage"
    REPORTS = "reports.generate"
    SYSTEM_CONFIGURE = "system.configure"


A = Action
_STAFF = {
    A.PATIENT_SEARCH, A.PATIENT_REGISTER, A.DEMOGRAPHICS_READ, A.DEMOGRAPHICS_WRITE,
    A.INSURANCE_READ, A.INSURANCE_WRITE, A.EMERGENCY_READ, A.EMERGENCY_WRITE,
    A.ADMIN_DOC_READ, A.ADMIN_DOC_WRITE, A.CARE_TEAM_MANAGE, A.IDENTITY_REVIEW,
}
_DOCTOR = {
    A.PATIENT_SEARCH, A.DEMOGRAPHICS_READ, A.CLINICAL_READ, A.CLINICAL_WRITE, A.INSURANCE_READ,
    A.EMERGENCY_READ, A.CLINICAL_DOC_READ, A.CLINICAL_DOC_WRITE, A.ADMIN_DOC_READ,
}
_PATIENT = {
    A.PATIENT_SELF_REGISTER, A.DEMOGRAPHICS_READ, A.DEMOGRAPHICS_WRITE, A.CLINICAL_READ,
    A.INSURANCE_READ, A.INSURANCE_WRITE, A.EMERGENCY_READ, A.EMERGENCY_WRITE,
    A.CLINICAL_DOC_READ, A.CLINICAL_DOC_WRITE, A.ADMIN_DOC_READ, A.ADMIN_DOC_WRITE, A.ACCESS_LOG_OWN,
}

#: The role matrix, readable at a glance. Admin reaches everything but a patient's own-log view.
PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.ADMIN: frozenset(set(Action) - {A.PATIENT_SELF_REGISTER, A.ACCESS_LOG_OWN}),
    Role.STAFF: frozenset(_STAFF),
    Role.DOCTOR: frozenset(_DOCTOR),
    Role.PATIENT: frozenset(_PATIENT),
}

#: Actions about one patient's data: these need the patient id for the object check.
PATIENT_SCOPED = frozenset(a for a in Action if a.value.startswith(("patient.", "document.")) and a not in {
    A.PATIENT_SEARCH, A.PATIENT_REGISTER, A.PATIENT_SELF_REGISTER, A.IDENTITY_REVIEW})


@dataclass(frozen=True)
class Actor:
    """Who is acting, as decided on the server from the session."""

    user_id: uuid.UUID
    role: Role
    display_name: str = ""
    patient_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None
    ip: str | None = None

    def can(self, action: Action) -> bool:
        """Role-level permission only (no object check); for showing or hiding UI."""
        return action in PERMISSIONS.get(self.role, frozenset())


class AccessDenied(Exception):
    """The actor may not do this. The message is safe to show."""

    def __init__(self, message: str = "You do not have permission to do that."):
        super().__init__(message)


class CareTeamMember(TimestampedTable, table=True):
    """A clinician assigned to a patient's care team."""

    __tablename__ = "care_team_member"
    __table_args__ = (UniqueConstraint("patient_id", "user_id"),)

    patient_id: uuid.UUID = Field(index=True)
    user_id: uuid.UUID = Field(index=True)
    assigned_by: uuid.UUID | None = None


def on_care_team(session: Session, user_id: uuid.UUID, patient_id: uuid.UUID) -> bool:
    stmt = select(CareTeamMember.id).where(
        CareTeamMember.user_id == user_id, CareTeamMember.patient_id == patient_id
    )
    return session.exec(stmt).first() is not None


def care_team_patient_ids(session: Session, user_id: uuid.UUID) -> set[uuid.UUID]:
    """Patients a clinician reaches through the care team."""
    return set(session.exec(select(CareTeamMember.patient_id).where(CareTeamMember.user_id == user_id)).all())


def reaches_patient(session: Session, actor: Actor, patient_id: uuid.UUID) -> bool:
    """Object check: may this actor reach this patient's record at all?"""
    if actor.role in (Role.ADMIN, Role.STAFF):
        return True
    if actor.role == Role.PATIENT:
        return actor.patient_id is not None and actor.patient_id == patient_id
    if actor.role == Role.DOCTOR:
        return on_care_team(session, actor.user_id, patient_id)
    return False


def authorize(session: Session, actor: Actor | None, action: Action, *, patient_id: uuid.UUID | None = None) -> Actor:
    """Allow or raise AccessDenied. Returns the actor so callers can chain."""
    if actor is None:
        raise AccessDenied("Please sign in.")
    if not actor.can(action):
        raise AccessDenied()
    if action in PATIENT_SCOPED:
        if patient_id is None or not reaches_patient(session, actor, patient_id):
            raise AccessDenied()
    return actor
