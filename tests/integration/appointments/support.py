"""A small clinic for the appointment tests: a clinic time zone with daylight saving, two doctors
with weekday mornings, visit types, three patients (Elena prefers texts, Omar and Ines email)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from patient_portal.core.access import Actor, Role
from patient_portal.core.db import unit_of_work
from patient_portal.core.jobs import Job
from patient_portal.domain.identity.models import User
from tests.integration.patients_support import actor

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
    """The jobs still waiting under keys that start with `prefix`."""
    with unit_of_work() as s:
        return [j for j in s.exec(select(Job).where(Job.status == "queued")).all() if (j.key or "").startswith(prefix)]


def mail_jobs() -> list[dict]:
    with unit_of_work() as s:
        # in the order they were queued (PostgreSQL returns rows in no set order: an updated row moves)
        return [dict(j.payload) for j in s.exec(select(Job).where(Job.kind == "mail")
                                                .order_by(col(Job.created_at))).all()]
