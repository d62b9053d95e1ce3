"""The demo clinic's scheduling (`portal seed`): what each role finds there through the services, and
that seeding again adds nothing."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import select

from patient_portal import seed
from patient_portal.core.access import Actor, Role
from patient_portal.core.db import unit_of_work
from patient_portal.domain.appointments import service as appts
from patient_portal.domain.appointments.models import Appointment, AvailabilityException, AvailabilityRule
from patient_portal.domain.identity.models import User
from tests.integration.patients_support import call


def _actor(email: str) -> Actor:
    with unit_of_work() as s:
        user = s.exec(select(User).where(User.email == email)).one()
    return Actor(user_id=user.id, role=Role(user.role), display_name=user.display_name or "",
                 patient_id=user.patient_id)


def _count(model) -> int:
    with unit_of_work() as s:
        return int(s.exec(select(func.count()).select_from(model)).one())


def test_the_demo_clinic_can_be_booked_and_seeding_again_adds_nothing(db):
    seed.seed_demo(patients=12)
    admin, staff, patient = _actor("admin@demo.clinic"), _actor("staff@demo.clinic"), _actor("patient@demo.clinic")
    doctor = _actor("doctor@demo.clinic")

    types = {v.name: v for v in call(appts.visit_types, admin)}
    assert set(types) == {"New patient", "Follow-up", "Annual exam", "Telehealth"}
    assert (types["New patient"].duration_minutes, types["New patient"].new_patient) == (40, True)
    assert types["Follow-up"].duration_minutes == 20 and types["Telehealth"].telehealth
    rules = call(appts.get_rules, admin)
    assert (rules.min_notice_hours, rules.max_days_ahead, rules.reminder_hours) == (24, 90, [72, 24])
    with unit_of_work() as s:
        doctors_with_weeks = set(s.exec(select(AvailabilityRule.doctor_id)).all())
        kinds = sorted(e.kind for e in s.exec(select(AvailabilityException)).all())
    assert len(doctors_with_weeks) == 3 and kinds == ["closed", "closed", "extra"]
    assert {d.name for d in call(appts.scheduled_doctors, staff)} == {
        "Dr. Dana Doctor", "Dr. Priya Raman", "Dr. Marcus Bell"}

    # the demo patient's next appointment is a follow-up with her doctor; she can book another one
    own = call(appts.own, patient)
    assert [(a.visit_type, a.doctor_name, a.status) for a in own.upcoming] == [
        ("Follow-up", "Dr. Dana Doctor", "booked")]
    assert own.upcoming[0].reason == "Blood pressure follow-up"
    free = call(appts.find_slots, patient, visit_type_id=types["Follow-up"].id, limit=3)
    assert free and {s.doctor_name for s in free} == {"Dr. Dana Doctor"}
    # the demo doctor's coming week has patients in it
    week = call(appts.schedule, doctor, day=None, days=7)
    later = call(appts.schedule, doctor, day=week.days[-1].day.isoformat(), days=7)
    assert sum(len(d.items) for d in week.days + later.days) >= 3

    booked, rows = _count(Appointment), _count(AvailabilityRule)
    seed.seed_demo(patients=12)
    assert (_count(Appointment), _count(AvailabilityRule)) == (booked, rows)
