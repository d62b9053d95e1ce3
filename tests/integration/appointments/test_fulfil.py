"""An appointment becomes "fulfilled" (Attended) when the doctor signs the visit's note: the visits
service says so through core.events, and only the right appointment changes."""

from __future__ import annotations

import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo

from patient_portal.core.db import unit_of_work, utcnow
from patient_portal.domain.appointments import service as appts
from patient_portal.domain.appointments.models import Appointment
from patient_portal.domain.visits import service as visits
from tests.integration.appointments.support import ZONE, Clinic
from tests.integration.patients_support import call, events, put_on_care_team

NOTE = {"reason": "Blood pressure check", "assessment": "Hypertension at goal.", "plan": "No change.",
        "diagnoses": [], "orders": []}


def _appointment(c: Clinic, patient: uuid.UUID, doctor: uuid.UUID, start, status: str) -> uuid.UUID:
    """An appointment at `start` in `status` (written directly: booking refuses the past)."""
    with unit_of_work() as s:
        row = Appointment(patient_id=patient, doctor_id=doctor, visit_type_id=c.follow_up, start_at=start,
                          end_at=start + timedelta(minutes=20), blocked_until=start + timedelta(minutes=20),
                          status=status, checked_in_at=start if status == "arrived" else None)
        s.add(row)
        s.flush()
        return row.id


def _status(appointment_id: uuid.UUID) -> str:
    with unit_of_work() as s:
        return s.get(Appointment, appointment_id).status


def _sign(c: Clinic, patient: uuid.UUID, at) -> None:
    local = at.astimezone(ZoneInfo(ZONE)).strftime("%Y-%m-%dT%H:%M")
    note = call(visits.create_note, c.lee, patient_id=patient, values={**NOTE, "visit_at": local})
    call(visits.sign_note, c.lee, patient_id=patient, note_id=note.id, expected_version=note.version)


def test_signing_the_visit_note_fulfils_the_checked_in_appointment_and_nothing_else(clinic):
    c = clinic
    put_on_care_team(c.kim, c.omar)
    start = utcnow().replace(second=0, microsecond=0) - timedelta(minutes=10)
    seen = _appointment(c, c.omar, c.lee.user_id, start, "arrived")
    with_kim = _appointment(c, c.omar, c.kim.user_id, start + timedelta(minutes=1), "arrived")
    other_patient = _appointment(c, c.ines, c.lee.user_id, start - timedelta(minutes=30), "arrived")
    _sign(c, c.omar, start)
    assert _status(seen) == "fulfilled"
    assert (_status(with_kim), _status(other_patient)) == ("arrived", "arrived")
    fulfilled = events("appointment.fulfil")
    assert [(e.actor_id, e.object_id, e.patient_id) for e in fulfilled] == [(c.lee.user_id, str(seen), c.omar)]
    # the patient reads it as attended; attendance counts it once
    mine = call(appts.own, c.patient(c.omar))
    assert [a.status_words for a in mine.past if a.id == seen] == ["Attended"]
    assert mine.attendance.attended == 2  # Dr. Kim's checked-in visit counts as attended too


def test_a_forgotten_check_in_is_fulfilled_but_a_later_visit_or_another_day_is_not(clinic):
    c = clinic
    begun = utcnow().replace(second=0, microsecond=0) - timedelta(minutes=5)
    booked_begun = _appointment(c, c.ines, c.lee.user_id, begun, "booked")
    yesterday = _appointment(c, c.elena, c.lee.user_id, begun - timedelta(days=1), "arrived")
    _sign(c, c.ines, begun)
    assert _status(booked_begun) == "fulfilled"
    # a note for a visit with no appointment that day (a walk-in) changes no appointment
    before = len(events("appointment.fulfil"))
    _sign(c, c.elena, begun)
    assert _status(yesterday) == "arrived" and len(events("appointment.fulfil")) == before
