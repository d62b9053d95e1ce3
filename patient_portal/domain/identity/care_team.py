"""Care teams: admin and staff assign doctors to patients (and take them off). Audited."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlmodel import Session, select

from patient_portal.core import audit
from patient_portal.core.access import (
    Action,
    Actor,
    CareTeamMember,
    Resource,
    Role,
    require,
)
from patient_portal.core.errors import Invalid
from patient_portal.domain.identity.models import User


class CareTeamError(Invalid):
    """Bad request about a care team; the message is safe to show."""


@dataclass(frozen=True)
class TeamMember:
    user_id: str
    display_name: str
    email: str


def _uuid(value: uuid.UUID | str, what: str) -> uuid.UUID:
    if not str(value or "").strip():
        raise CareTeamError(f"Choose a {what}.")
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError as exc:
        raise CareTeamError(f"No such {what}.") from exc


def _authorize(session: Session, actor: Actor | None, action: str, patient_id: uuid.UUID) -> None:
    require(session, actor, Action.CARE_TEAM_MANAGE, Resource(patient_id=patient_id), audit_as=action,
            object_type="care_team")


def _doctor(session: Session, doctor_id: uuid.UUID) -> User:
    user = session.get(User, doctor_id)
    if user is None or user.role != Role.DOCTOR or not user.active:
        raise CareTeamError("Choose an active doctor.")
    return user


def assign_doctor(session: Session, actor: Actor | None, *, patient_id: uuid.UUID | str,
                  doctor_id: uuid.UUID | str) -> bool:
    """Put a doctor on a patient's care team; False when already there."""
    from patient_portal.domain.patients.common import load  # patients depends on identity, not back

    pid, did = _uuid(patient_id, "patient"), _uuid(doctor_id, "doctor")
    _authorize(session, actor, "careteam.assign", pid)
    load(session, pid)  # PatientNotFound for an id that is no (active) record
    _doctor(session, did)
    exists = session.exec(select(CareTeamMember).where(CareTeamMember.patient_id == pid,
                                                       CareTeamMember.user_id == did)).first()
    if exists:
        return False
    session.add(CareTeamMember(patient_id=pid, user_id=did, assigned_by=actor.user_id if actor else None))
    audit.record(session, actor, "careteam.assign", patient_id=pid, object_type="user", object_id=did)
    return True


def unassign_doctor(session: Session, actor: Actor | None, *, patient_id: uuid.UUID | str,
                    doctor_id: uuid.UUID | str) -> bool:
    """Take a doctor off a patient's care team; False when they were not on it. From then on the
    doctor no longer reaches the chart (core.access reads the team on every request)."""
    pid, did = _uuid(patient_id, "patient"), _uuid(doctor_id, "doctor")
    _authorize(session, actor, "careteam.unassign", pid)
    row = session.exec(select(CareTeamMember).where(CareTeamMember.patient_id == pid,
                                                    CareTeamMember.user_id == did)).first()
    if row is None:
        return False
    session.delete(row)
    audit.record(session, actor, "careteam.unassign", patient_id=pid, object_type="user", object_id=did)
    return True


def team_of(session: Session, actor: Actor | None, patient_id: uuid.UUID | str) -> list[TeamMember]:
    """The doctors on a patient's care team."""
    pid = _uuid(patient_id, "patient")
    _authorize(session, actor, "careteam.read", pid)
    rows = session.exec(select(User).join(CareTeamMember, CareTeamMember.user_id == User.id)
                        .where(CareTeamMember.patient_id == pid).order_by(User.email)).all()
    return [TeamMember(str(u.id), u.display_name or "", u.email) for u in rows]


def manage_view(session: Session, actor: Actor | None, patient_id: uuid.UUID | str
                ) -> tuple[list[TeamMember], list[TeamMember]]:
    """For the chart's care-team section (staff, admin): the team, and the active doctors not on it."""
    team = team_of(session, actor, patient_id)
    on_team = {m.user_id for m in team}
    return team, [d for d in active_doctors(session, actor) if d.user_id not in on_team]


def active_doctors(session: Session, actor: Actor | None) -> list[TeamMember]:
    """Doctors that can be assigned (for pickers)."""
    require(session, actor, Action.CARE_TEAM_DIRECTORY, audit_as="careteam.doctors")
    rows = session.exec(select(User).where(User.role == Role.DOCTOR.value, User.active == True)  # noqa: E712
                        .order_by(User.email)).all()
    return [TeamMember(str(u.id), u.display_name or "", u.email) for u in rows]


def assign_doctor_system(session: Session, *, patient_id: uuid.UUID, doctor_id: uuid.UUID) -> bool:
    """Seeding: put a doctor on a care team without a signed-in actor."""
    exists = session.exec(select(CareTeamMember).where(CareTeamMember.patient_id == patient_id,
                                                       CareTeamMember.user_id == doctor_id)).first()
    if exists:
        return False
    session.add(CareTeamMember(patient_id=patient_id, user_id=doctor_id))
    audit.record(session, None, "careteam.assign", patient_id=patient_id, object_type="user",
                 object_id=doctor_id, detail={"via": "seed"})
    return True


def assign_doctor_to_account(session: Session, actor: Actor | None, *, patient_email: str,
                             doctor_id: uuid.UUID | str) -> bool:
    """Assign a doctor to the patient record linked to a patient's sign-in account (admin screen)."""
    from patient_portal.domain.identity.signin import normalize_email

    require(session, actor, Action.CARE_TEAM_DIRECTORY, audit_as="careteam.assign", object_type="care_team")
    user = session.exec(select(User).where(User.email == normalize_email(patient_email))).first()
    if user is None or user.role != Role.PATIENT or user.patient_id is None:
        raise CareTeamError("No patient account with a linked record has this email.")
    return assign_doctor(session, actor, patient_id=user.patient_id, doctor_id=doctor_id)


@dataclass(frozen=True)
class Assignment:
    """One doctor on one patient's care team, as the admin's list shows it."""

    patient_id: str
    patient_name: str
    mrn: str
    doctor_id: str
    doctor_name: str
    doctor_email: str
    since: str


def list_assignments(session: Session, actor: Actor | None, *, doctor_id: str = "", page: int = 1,
                     per_page: int = 25) -> tuple[list[Assignment], int]:
    """Every care-team assignment (admins; optionally one doctor's), newest first, one page and the
    total. Patient names are PHI: the read is audited with its count."""
    from sqlalchemy import func

    from patient_portal.core.clock import plain_time
    from patient_portal.domain.patients.models import Patient  # patients depends on identity, not back

    require(session, actor, Action.USER_MANAGE, audit_as="careteam.list", object_type="care_team")
    per_page, page = max(1, min(int(per_page), 50)), max(1, int(page))
    where = [CareTeamMember.user_id == _uuid(doctor_id, "doctor")] if str(doctor_id or "").strip() else []
    total = int(session.exec(select(func.count()).select_from(CareTeamMember).where(*where)).one())
    rows = session.exec(select(CareTeamMember, Patient, User)
                        .join(Patient, Patient.id == CareTeamMember.patient_id)
                        .join(User, User.id == CareTeamMember.user_id).where(*where)
                        .order_by(CareTeamMember.created_at.desc(), CareTeamMember.id)
                        .offset((page - 1) * per_page).limit(per_page)).all()
    audit.record(session, actor, "careteam.list", object_type="care_team",
                 detail={"count": len(rows), "page": page}, purpose="operations")
    return [Assignment(str(m.patient_id), f"{p.given_name} {p.family_name}", p.mrn, str(u.id), u.display_name or "",
                       u.email, plain_time(m.created_at)) for m, p, u in rows], total
