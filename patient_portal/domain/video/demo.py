"""A video visit starting in a few minutes, for demonstrations and tests (``video_visit_soon``).

The appointments service books only where the doctor's week and the clinic's rules allow (24 hours'
notice by default), so a call to try *now* is written straight into the schedule here, as the
operator's tooling would: a booked appointment of the clinic's telehealth visit type (made if the
clinic has none), with the appointment's usual constraints (the database still refuses a doctor
booked twice at once).
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlmodel import select

from patient_portal.core.db import unit_of_work, utcnow
from patient_portal.domain.appointments.models import BOOKED, Appointment, VisitType


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
    minutes, UTC); returns its id. Its call is open at once (it opens 10 minutes before the start)."""
    vt_id = telehealth_type()
    with unit_of_work() as session:
        vt = session.get(VisitType, vt_id)
        assert vt is not None
        start = utcnow().replace(second=0, microsecond=0) + timedelta(minutes=minutes)
        end = start + timedelta(minutes=vt.duration_minutes)
        appt = Appointment(patient_id=patient_id, doctor_id=doctor_id, visit_type_id=vt.id, start_at=start,
                           end_at=end, blocked_until=end + timedelta(minutes=vt.buffer_minutes), status=BOOKED,
                           reason="Video visit")
        session.add(appt)
        return appt.id


DEMO_PATIENT, DEMO_DOCTOR = "patient@demo.clinic", "doctor@demo.clinic"


def demo_video_visit(*, minutes: int = 5) -> tuple[uuid.UUID, str]:
    """``portal demo-video-visit``: a video visit of the demo patient (Maria Garcia) with her doctor
    (Dr. Dana Doctor) starting in `minutes`; returns its id and the page of the call."""
    import patient_portal.models  # noqa: F401  (every table, for the appointment's foreign keys)
    from patient_portal.domain.identity.models import User

    with unit_of_work() as session:
        patient = session.exec(select(User).where(User.email == DEMO_PATIENT)).first()
        doctor = session.exec(select(User).where(User.email == DEMO_DOCTOR)).first()
        if patient is None or patient.patient_id is None or doctor is None:
            raise LookupError("the demo accounts are not there: run `portal seed` first")
        patient_id, doctor_id = patient.patient_id, doctor.id
    aid = video_visit_soon(patient_id, doctor_id, minutes=minutes)
    return aid, f"/video/{aid}"
