"""A small clinic for the appointment tests: a clinic time zone with daylight saving, two doctors
with weekday mornings, visit types, three patients (Elena prefers texts, Omar and Ines email)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from patient_portal.core.access import Actor, Role
from patient_portal.core.db import unit_of_work
from patient_portal.core.jobs import Job
from patient_portal.domain.appointments import service as appts
from patient_portal.domain.identity.models import User
from tests.integration.patients_support import ADMIN, STAFF, actor, call, draft, put_on_care_team, register

ZONE = "America/New_York"


def doctor_account(name: str) -> Actor:
    """A doctor's account row (no password: these tests never sign in)."""
    uid = uuid.uuid4()
    with unit_of_work() as s:
        s.add(User(id=uid, email=f"{uid.hex[:10]}@clinic.test", role="doctor", display_name=name))
    return Actor(user_id=uid, role=Role.DOCTOR, display_name=name)


def workday(ahead: int = 4) -> date:
    """A Monday-to-Friday clinic-local day at least `ahead` days from today."""
    day = datetime.now(UTC).astimezone(ZoneInfo(ZONE)).date() + timedelta(days=ahead)
    while day.weekday() > 4:
        day += timedelta(days=1)
    return day


def at(day: date, hhmm: str) -> datetime:
    h, m = map(int, hhmm.split(":"))
    return datetime.combine(day, time(h, m), tzinfo=ZoneInfo(ZONE)).astimezone(UTC)


@dataclass
class Clinic:
    admin: Actor
    staff: Actor
    lee: Actor
    kim: Actor
    elena: uuid.UUID
    omar: uuid.UUID
    ines: uuid.UUID
    new_patient: uuid.UUID
    follow_up: uuid.UUID
    annual: uuid.UUID

    def patient(self, pid: uuid.UUID) -> Actor:
        return replace(actor(Role.PATIENT, pid), display_name="Patient")


def jobs_under(prefix: str) -> list[Job]:
    with unit_of_work() as s:
        return [j for j in s.exec(select(Job)).all() if (j.key or "").startswith(prefix)]


def mail_jobs() -> list[dict]:
    with unit_of_work() as s:
        return [dict(j.payload) for j in s.exec(select(Job).where(Job.kind == "mail")).all()]


@pytest.fixture
def clinic(db, monkeypatch) -> Clinic:
    from patient_portal.settings import reset_settings

    monkeypatch.setenv("PORTAL_TIMEZONE", ZONE)
    reset_settings()
    admin, staff = actor(ADMIN), actor(STAFF)
    lee, kim = doctor_account("Dr. Ana Lee"), doctor_account("Dr. Joon Kim")
    new = call(appts.save_visit_type, admin, values={"name": "New patient", "duration_minutes": 40,
                                                     "buffer_minutes": 5, "new_patient": True})
    follow = call(appts.save_visit_type, admin, values={"name": "Follow-up", "duration_minutes": 20})
    annual = call(appts.save_visit_type, admin, values={"name": "Annual exam", "duration_minutes": 30,
                                                        "who_may_book": "staff"})
    start = (datetime.now(UTC) - timedelta(days=30)).date()
    for doc in (lee, kim):
        for weekday in range(5):
            call(appts.add_availability, admin, doctor_id=doc.user_id, weekday=weekday, start_time="09:00",
                 end_time="12:00", valid_from=start)
    elena = register().patient_id
    omar = register(draft(given_name="Omar", family_name="Haddad", date_of_birth="1985-02-11",
                          email="omar@example.com", phone_mobile="+1 617 555 0199",
                          preferred_contact_method="email")).patient_id
    ines = register(draft(given_name="Ines", family_name="Moreau", date_of_birth="1990-07-01",
                          email="ines@example.com", phone_mobile="+1 617 555 0177",
                          preferred_contact_method="email")).patient_id
    for pid in (elena, omar, ines):
        put_on_care_team(lee, pid)
    return Clinic(admin, staff, lee, kim, elena, omar, ines, new.id, follow.id, annual.id)
