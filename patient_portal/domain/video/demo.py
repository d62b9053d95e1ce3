"""A video visit starting in a few minutes, for demonstrations and tests (``video_visit_soon``).

The appointments service books only where the doctor's week and the clinic's rules allow (24 hours'
notice by default), so a call to try *now* is written straight into the schedule here, as the
operator's tooling would: a booked appointment of the clinic's telehealth visit type (made if the
clinic has none), with the appointment's usual constraints (the database still refuses a doctor
booked twice at once).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from patient_portal.core.db import unit_of_work, utcnow
from patient_portal.domain.appointments.models import BOOKED, FREES_SLOT, Appointment, VisitType


def telehealth_type() -> uuid.UUID:
    """The clinic's active telehealth visit type (made as "Telehealth", 20 minutes, if none)."""
    with unit_of_work() as session:
        found = session.exec(select(VisitType.id).where(VisitType.telehealth == True, VisitType.active == True)  # noqa: E712
                             .order_by(VisitType.created_at)).first()
        if found is not None:
            return found
        vt = VisitType(code="telehealth", name="Telehealth", duration_minutes=20, telehealth=True)
        session.add(vt)
        return vt.id


def video_visit_soon(patient_id: uuid.UUID, doctor_id: uuid.UUID, *, minutes: int = 5) -> uuid.UUID:
    """Book a telehealth appointment of this patient with this doctor starting in `minutes` (whole
    minutes, UTC), or at the nearest time the doctor is free (``free_start``); returns its id. Its call
    is open at once when that start is within the next 10 minutes (it opens 10 minutes before)."""
    vt_id = telehealth_type()
    with unit_of_work() as session:
        vt = session.get(VisitType, vt_id)
        assert vt is not None
        length = timedelta(minutes=vt.duration_minutes + vt.buffer_minutes)
        wanted = utcnow().replace(second=0, microsecond=0) + timedelta(minutes=minutes)
        busy = session.exec(select(Appointment.start_at, Appointment.blocked_until).where(
            Appointment.doctor_id == doctor_id, Appointment.status.not_in(FREES_SLOT),  # type: ignore[attr-defined]
            Appointment.blocked_until > wanted - timedelta(hours=2),
            Appointment.start_at < wanted + timedelta(hours=26))).all()
        start = free_start(wanted, length, [(_aware(a), _aware(b)) for a, b in busy])
        end = start + timedelta(minutes=vt.duration_minutes)
        appt = Appointment(patient_id=patient_id, doctor_id=doctor_id, visit_type_id=vt.id, start_at=start,
                           end_at=end, blocked_until=start + length, status=BOOKED, reason="Video visit")
        session.add(appt)
        return appt.id


def free_start(wanted: datetime, length: timedelta, busy: list[tuple[datetime, datetime]]) -> datetime:
    """The whole minute nearest `wanted` at which `length` fits between the `busy` spans: first later
    ones up to 5 minutes on, then earlier ones while the visit would still have half its time left,
    then any later one (up to a day). A demo written straight into the schedule must not collide with
    a booking there (the database refuses a doctor booked twice at once)."""
    def fits(start: datetime) -> bool:
        return all(start + length <= b_start or start >= b_end for b_start, b_end in busy)

    minute = timedelta(minutes=1)
    steps = [*range(0, 6), *range(-1, -(length // minute) // 2, -1), *range(6, 24 * 60)]
    return next((wanted + k * minute for k in steps if fits(wanted + k * minute)), wanted)


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


DEMO_PATIENT, DEMO_DOCTOR = "patient@demo.clinic", "doctor@demo.clinic"


def demo_video_visit(*, minutes: int = 5, doctor: str = DEMO_DOCTOR) -> tuple[uuid.UUID, str, datetime]:
    """``portal demo-video-visit``: a video visit of the demo patient (Maria Garcia) with a demo doctor
    (Dr. Dana Doctor unless another account's email is given) starting in `minutes`, or at the doctor's
    nearest free time; returns its id, the page of the call and its start."""
    import patient_portal.models  # noqa: F401  (every table, for the appointment's foreign keys)
    from patient_portal.domain.identity.models import User

    with unit_of_work() as session:
        patient = session.exec(select(User).where(User.email == DEMO_PATIENT)).first()
        clinician = session.exec(select(User).where(User.email == doctor.strip().lower())).first()
        if patient is None or patient.patient_id is None:
            raise LookupError("the demo accounts are not there: run `portal seed` first")
        if clinician is None or clinician.role != "doctor":
            raise LookupError(f"{doctor} is not a doctor's account here (the demo doctor is {DEMO_DOCTOR})")
        patient_id, doctor_id = patient.patient_id, clinician.id
    aid = video_visit_soon(patient_id, doctor_id, minutes=minutes)
    with unit_of_work() as session:
        start = _aware(session.get(Appointment, aid).start_at)
    return aid, f"/video/{aid}", start
