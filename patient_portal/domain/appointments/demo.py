"""Demo scheduling for `portal seed`: the clinic's visit types, each demo doctor's week, a few
exceptions, the clinic's rules, and a handful of booked appointments.

* **Visit types**: New patient (40 min + 5 min buffer, any doctor), Follow-up (20 min), Annual exam
  (30 min + 10 min buffer), Telehealth (20 min, video).
* **Weeks** (clinic-local): the demo doctor (family medicine) Monday to Friday 09:00–12:00 and
  13:30–17:00, and Thursday evenings 17:00–19:00 for telehealth only; the pediatrician Monday to
  Thursday mornings and Monday, Tuesday and Thursday afternoons; the internist Tuesday to Friday,
  and Friday 08:00–09:00 for telehealth only.
* **Exceptions**: the pediatrician's week of vacation about five weeks ahead, a clinic training day
  about six weeks ahead (closed for everyone), and an extra Saturday morning for the internist.
* **Rules**: book online 24 hours to 90 days ahead, at most 3 upcoming, a 24-hour cancellation
  window, self-booking paused after 3 no-shows, reminders 72 and 24 hours before, no approval
  needed, a freed time held 60 minutes for the waitlisted patient offered it.
* **Appointments**: Maria Garcia (the demo patient account's record) has a follow-up with the demo
  doctor about two weeks ahead; a few of the demo doctor's other patients are booked in the coming
  days, so the day and week views and the front desk have something to show.

Everything goes through the appointments service as the admin or the front desk (validated,
audited, reminders queued). Idempotent: configuration is skipped when any visit type exists, the
appointments when any appointment exists.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from patient_portal.core.db import unit_of_work
from patient_portal.domain.appointments import service
from patient_portal.domain.appointments.models import Appointment, VisitType
from patient_portal.domain.demo import DemoClinic

VISIT_TYPES = (
    {"code": "new_patient", "name": "New patient", "duration_minutes": 40, "buffer_minutes": 5, "new_patient": True},
    {"code": "follow_up", "name": "Follow-up", "duration_minutes": 20},
    {"code": "annual_exam", "name": "Annual exam", "duration_minutes": 30, "buffer_minutes": 10},
    {"code": "telehealth", "name": "Telehealth", "duration_minutes": 20, "telehealth": True},
)
#: (doctor index, weekdays 0=Monday, start, end, visit type code or None for any)
WEEKS = (
    (0, range(5), "09:00", "12:00", None),
    (0, range(5), "13:30", "17:00", None),
    (0, (3,), "17:00", "19:00", "telehealth"),
    (1, range(4), "08:30", "12:30", None),
    (1, (0, 1, 3), "13:30", "16:30", None),
    (2, range(1, 5), "09:00", "12:30", None),
    (2, range(1, 5), "14:00", "17:30", None),
    (2, (4,), "08:00", "09:00", "telehealth"),
)
RULES = {"min_notice_hours": 24, "max_days_ahead": 90, "max_future_bookings": 3, "cancellation_window_hours": 24,
         "no_show_threshold": 3, "reminder_hours": [72, 24], "require_approval": False, "waitlist_hold_minutes": 60}
#: Reasons patients gave (demo text, encrypted like any other)
REASONS = ("Blood pressure check", "Follow-up on lab results", "Cough for two weeks", "Medication review",
           "Back pain", "Check-up after the flu")


def seed_appointments(clinic: DemoClinic) -> int:
    """Configure scheduling and book the demo appointments; returns how many appointments were added."""
    with unit_of_work() as session:
        configured = session.exec(select(VisitType.id).limit(1)).first() is not None
    if not configured:
        _configure(clinic)
    with unit_of_work() as session:
        if session.exec(select(Appointment.id).limit(1)).first() is not None:
            return 0
    return _book(clinic)


def _configure(clinic: DemoClinic) -> None:
    admin = clinic.admin
    with unit_of_work() as session:
        types = {v["code"]: service.save_visit_type(session, admin, values=v).id for v in VISIT_TYPES}
        start = clinic.today - timedelta(days=30)
        for index, days, begin, end, code in WEEKS:
            for weekday in days:
                service.add_availability(session, admin, doctor_id=clinic.doctor(index).user_id, weekday=weekday,
                                         start_time=begin, end_time=end, visit_type_id=types[code] if code else None,
                                         valid_from=start)
        vacation = _next_weekday(clinic.today + timedelta(days=35), 0)
        service.add_exception(session, admin, kind="closed", doctor_id=clinic.doctor(1).user_id,
                              start_date=vacation, end_date=vacation + timedelta(days=4), label="Vacation")
        training = _next_weekday(clinic.today + timedelta(days=42), 2)
        service.add_exception(session, admin, kind="closed", start_date=training, label="Clinic training day")
        saturday = _next_weekday(clinic.today + timedelta(days=8), 5)
        service.add_exception(session, admin, kind="extra", doctor_id=clinic.doctor(2).user_id, start_date=saturday,
                              start_time="09:00", end_time="12:00", label="Saturday clinic")
        service.save_rules(session, admin, values=RULES)


def _next_weekday(day, weekday: int):
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def _book(clinic: DemoClinic) -> int:
    if not clinic.patients:
        return 0
    doctor = clinic.doctor(0)
    desk = clinic.front_desk(0)
    with unit_of_work() as session:
        follow_up = session.exec(select(VisitType.id).where(VisitType.code == "follow_up")).first()
    if follow_up is None:
        return 0
    added = 0
    maria = clinic.patients[0].id
    with unit_of_work() as session:  # Maria Garcia: a follow-up with her doctor about two weeks ahead
        later = (clinic.today + timedelta(days=14)).isoformat()
        slots = service.find_slots(session, desk, visit_type_id=follow_up, doctor_id=doctor.user_id,
                                   date_from=later, limit=1)
        if slots:
            service.book(session, desk, patient_id=maria, visit_type_id=follow_up, doctor_id=doctor.user_id,
                         start=slots[0].start, reason="Blood pressure follow-up")
            added += 1
    others = [p.id for p in clinic.patients[1:] if 0 in p.person.doctors][:len(REASONS)]
    with unit_of_work() as session:  # the demo doctor's coming days: every third free time, from tomorrow
        tomorrow = (clinic.today + timedelta(days=1)).isoformat()
        slots = service.find_slots(session, desk, visit_type_id=follow_up, doctor_id=doctor.user_id,
                                   date_from=tomorrow, limit=3 * len(others))[::3]
    for pid, slot, reason in zip(others, slots, REASONS, strict=False):
        with unit_of_work() as session:
            service.book(session, desk, patient_id=pid, visit_type_id=follow_up, doctor_id=doctor.user_id,
                         start=slot.start, reason=reason)
            added += 1
    return added
