"""Who may join which video call, and when; the audit of joining, admitting and leaving.

* **Who**: only the appointment's patient (their own account) and its doctor — decided by
  ``core.access.decide`` (``Action.VIDEO_JOIN``, a participants-only action): another patient,
  another doctor (even on the care team), the front desk and admins are refused, and the refusal
  is audited. Purpose of every event: treatment (a video visit is care, whoever joins).
* **When**: a telehealth appointment (its visit type's ``telehealth``), booked or checked in,
  from JOIN_EARLY before its start until its end (``is_open``).
* **What is kept**: the events ``video.join``, ``video.admit`` and ``video.leave`` (who, which
  appointment, when). Nothing of the call itself.

Functions take the session and the actor first (``verb(session, actor, *, ...)``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from patient_portal.core import audit, errors
from patient_portal.core.access import AccessDenied, Action, Actor, Purpose, Resource, Role, require
from patient_portal.core.db import utcnow
from patient_portal.domain.appointments.models import (
    VIDEO_JOIN_EARLY,
    VIDEO_OPEN_STATUSES,
    Appointment,
    VisitType,
)
from patient_portal.domain.appointments.service import doctor_names, patient_names
from patient_portal.domain.identity.models import User

JOIN_EARLY, OPEN_STATUSES = VIDEO_JOIN_EARLY, VIDEO_OPEN_STATUSES
PATIENT, DOCTOR = "patient", "doctor"
REFUSED = "Only the patient and the doctor of this appointment can join its video visit."


class NotOpen(errors.Conflict):
    """Not a video visit, or not now (before JOIN_EARLY, after its end, cancelled); the message says which."""


@dataclass(frozen=True)
class Seat:
    """One person's place in one call: who they are in it and whom they meet."""

    appointment_id: uuid.UUID
    patient_id: uuid.UUID
    role: str  # patient | doctor
    own_name: str
    peer_name: str
    start: datetime
    end: datetime
    basis: str  # the policy's basis (self, care_team), written on every event of the call


@dataclass(frozen=True)
class VideoVisit:
    """An upcoming video visit in a person's list."""

    appointment_id: uuid.UUID
    start: datetime
    end: datetime
    with_name: str  # the doctor (for the patient) or the patient (for the doctor)
    opens_at: datetime
    joinable: bool


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def window(appt: Appointment) -> tuple[datetime, datetime]:
    """When the call of this appointment is open: [start - JOIN_EARLY, end)."""
    return _aware(appt.start_at) - JOIN_EARLY, _aware(appt.end_at)


def is_open(appt: Appointment, now: datetime | None = None) -> bool:
    opens, closes = window(appt)
    return appt.status in OPEN_STATUSES and opens <= (now or utcnow()) < closes


def _appointment(session: Session, appointment_id: Any) -> tuple[Appointment, VisitType]:
    try:
        aid = appointment_id if isinstance(appointment_id, uuid.UUID) else uuid.UUID(str(appointment_id))
    except (TypeError, ValueError):
        raise errors.NotFound("That video visit was not found.") from None
    row = session.exec(select(Appointment, VisitType).join(VisitType, col(VisitType.id) == Appointment.visit_type_id)
                       .where(Appointment.id == aid)).first()
    if row is None:
        raise errors.NotFound("That video visit was not found.")
    return row[0], row[1]


def participants(session: Session, appt: Appointment) -> frozenset[uuid.UUID]:
    """The accounts of the call: the doctor's and the patient's own (their portal account(s))."""
    patients = session.exec(select(User.id).where(User.patient_id == appt.patient_id, User.role == Role.PATIENT.value,
                                                  col(User.active).is_(True))).all()
    return frozenset({appt.doctor_id, *patients})


def _decide(session: Session, actor: Actor | None, appt: Appointment, what: str):
    return require(session, actor, Action.VIDEO_JOIN,
                   Resource(patient_id=appt.patient_id, participants=participants(session, appt)),
                   purpose=Purpose.TREATMENT, audit_as=what, object_type="appointment", object_id=appt.id,
                   message=REFUSED)


def join(session: Session, actor: Actor | None, *, appointment_id: Any, now: datetime | None = None) -> Seat:
    """A seat in the call of this appointment for its patient or doctor (audited ``video.join``).
    Raises AccessDenied for anyone else (audited), NotFound, or NotOpen outside the window."""
    appt, vt = _appointment(session, appointment_id)
    decision = _decide(session, actor, appt, "video.join")
    assert actor is not None
    if not vt.telehealth:
        raise NotOpen("This appointment is not a video visit.")
    opens, closes = window(appt)
    moment = now or utcnow()
    if appt.status not in OPEN_STATUSES:
        raise NotOpen("This video visit is no longer taking place.")
    if moment < opens:
        raise NotOpen("The video visit opens 10 minutes before its start. Please come back then.")
    if moment >= closes:
        raise NotOpen("This video visit has ended.")
    role = DOCTOR if actor.user_id == appt.doctor_id else PATIENT
    doctors = doctor_names(session, {appt.doctor_id})
    patients = patient_names(session, {appt.patient_id})
    doctor, patient = doctors.get(appt.doctor_id, "") or "Your doctor", patients.get(appt.patient_id, "") or "Patient"
    seat = Seat(appt.id, appt.patient_id, role, doctor if role == DOCTOR else patient,
                patient if role == DOCTOR else doctor, _aware(appt.start_at), closes, str(decision.basis))
    _event(session, actor, seat, "video.join")
    return seat


def _event(session: Session, actor: Actor, seat: Seat, what: str) -> None:
    audit.record(session, actor, what, patient_id=seat.patient_id, object_type="appointment",
                 object_id=seat.appointment_id, purpose=Purpose.TREATMENT.value, basis=seat.basis,
                 detail={"as": seat.role})


def admit(session: Session, actor: Actor | None, *, seat: Seat, now: datetime | None = None) -> None:
    """The doctor lets the waiting patient into the call (audited ``video.admit``); the policy and the
    window are asked again (the seat may be old). Only the doctor's seat admits."""
    if actor is None or seat.role != DOCTOR:
        raise AccessDenied("Only the doctor admits the patient.")
    appt, _vt = _appointment(session, seat.appointment_id)
    _decide(session, actor, appt, "video.admit")
    if not is_open(appt, now):
        raise NotOpen("This video visit has ended.")
    _event(session, actor, seat, "video.admit")


def leave(session: Session, actor: Actor, *, seat: Seat) -> None:
    """Someone left the call, or their connection ended (audited ``video.leave``)."""
    _event(session, actor, seat, "video.leave")


def my_visits(session: Session, actor: Actor | None, *, now: datetime | None = None, limit: int = 10
              ) -> list[VideoVisit]:
    """The actor's own video visits still to come or under way, soonest first: a patient's, or a
    doctor's own (others have none). Audited as a read of the patients listed."""
    moment = now or utcnow()
    if actor is not None and actor.role == Role.PATIENT and actor.patient_id is not None:
        require(session, actor, Action.APPOINTMENT_READ, Resource(patient_id=actor.patient_id),
                audit_as="video.visits.read")
        mine = Appointment.patient_id == actor.patient_id
    elif actor is not None and actor.role == Role.DOCTOR:
        require(session, actor, Action.SCHEDULE_OWN_READ, Resource(owner_id=actor.user_id),
                audit_as="video.visits.read")
        mine = Appointment.doctor_id == actor.user_id
    else:
        return []
    rows = session.exec(select(Appointment).join(VisitType, col(VisitType.id) == Appointment.visit_type_id)
                        .where(mine, col(VisitType.telehealth).is_(True), col(Appointment.status).in_(OPEN_STATUSES),
                               Appointment.end_at > moment)
                        .order_by(col(Appointment.start_at)).limit(max(1, min(limit, 50)))).all()
    if actor.role == Role.PATIENT:
        names = doctor_names(session, {a.doctor_id for a in rows})
        other = {a.id: names.get(a.doctor_id, "") for a in rows}
    else:
        names = patient_names(session, {a.patient_id for a in rows})
        other = {a.id: names.get(a.patient_id, "") for a in rows}
    if rows:
        audit.record(session, actor, "video.visits.read", patient_id=actor.patient_id, object_type="appointment",
                     detail={"count": len(rows), "patient_ids": sorted({str(a.patient_id) for a in rows})})
    return [VideoVisit(a.id, _aware(a.start_at), _aware(a.end_at), other[a.id], window(a)[0], is_open(a, moment))
            for a in rows]

