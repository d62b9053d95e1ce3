"""Appointments at clinic scale on PostgreSQL (issue 13): 20 doctors with weekday availability, 90 days,
10,000 booked appointments; then, through the real services (policy, audit, the database's
constraint):

* "first available" for a visit type across every doctor — target p95 < 50 ms;
* a doctor's week view — target p95 < 30 ms;
* booking a free time (staff) — target p95 < 20 ms;

each beside its floor, measured in the same interleaved rounds: a unit of work with only the policy
and the audit event of its kind (an audited read for the first two, a chained audited write for
booking), and a unit with one SELECT 1. On a loaded machine a round trip to PostgreSQL costs
milliseconds, so "p95 - floor p95" is what the appointments work itself adds.

Run: .venv/bin/python bench/appointments.py [--db URL] [--rounds N]
The database (default postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench_appts, created when
missing) is emptied first. Appointments and patients are written directly (the set-up is not what
is measured); everything timed goes through domain/appointments/service.py.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from harness import Timings, fresh_database, vacuum  # noqa: E402 - bench/ is this script's own folder

DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench_appts"
DOCTORS, DAYS, BOOKED, PATIENTS = 20, 90, 10_000, 600


def _prepare(url: str) -> None:
    fresh_database(url, instance_prefix="bench-appts-", timezone="America/New_York")


def _seed(rng: random.Random):
    from patient_portal.core.access import Actor, Role
    from patient_portal.core.clock import clinic_zone
    from patient_portal.core.db import unit_of_work
    from patient_portal.domain.appointments import service as appts
    from patient_portal.domain.appointments.availability import local_day
    from patient_portal.domain.appointments.models import Appointment
    from patient_portal.domain.identity.models import User
    from patient_portal.domain.patients.models import Patient

    admin = Actor(user_id=uuid.uuid4(), role=Role.ADMIN)
    doctors = [uuid.uuid4() for _ in range(DOCTORS)]
    with unit_of_work() as s:
        for i, did in enumerate(doctors):
            s.add(User(id=did, email=f"doctor{i}@bench.test", role="doctor", display_name=f"Dr. Bench {i}"))
    with unit_of_work() as s:
        follow = appts.save_visit_type(s, admin, values={"name": "Follow-up", "duration_minutes": 20})
        appts.save_visit_type(s, admin, values={"name": "New patient", "duration_minutes": 40, "buffer_minutes": 5,
                                                "new_patient": True})
    today = local_day(datetime.now(UTC))
    with unit_of_work() as s:
        for did in doctors:
            for weekday in range(5):
                for start, end in (("08:00", "12:00"), ("13:00", "17:00")):
                    appts.add_availability(s, admin, doctor_id=did, weekday=weekday, start_time=start,
                                           end_time=end, valid_from=today)
    patients = [uuid.uuid4() for _ in range(PATIENTS + 1000)]  # the last 1,000 book in the timed part
    with unit_of_work() as s:
        for i, pid in enumerate(patients):
            s.add(Patient(id=pid, mrn=f"B{i:07d}", given_name=f"Pat{i}", family_name="Bench",
                          date_of_birth=datetime(1980, 1, 1).date(), sex="female"))
    zone = clinic_zone()
    slots = []
    for d in range(1, DAYS + 1):
        day = today + timedelta(days=d)
        if day.weekday() > 4:
            continue
        for hour in list(range(8, 12)) + list(range(13, 17)):
            for minute in (0, 20, 40):
                start = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone).astimezone(UTC)
                slots.extend((did, start) for did in doctors)
    chosen = rng.sample(slots, BOOKED)
    per_patient_time: set[tuple[uuid.UUID, datetime]] = set()
    with unit_of_work() as s:
        for n, (did, start) in enumerate(chosen):
            pid = patients[n % PATIENTS]
            while (pid, start) in per_patient_time:
                pid = rng.choice(patients)
            per_patient_time.add((pid, start))
            s.add(Appointment(patient_id=pid, doctor_id=did, visit_type_id=follow.id, start_at=start,
                              end_at=start + timedelta(minutes=20), blocked_until=start + timedelta(minutes=20),
                              status="booked"))
    free = [x for x in slots if x not in set(chosen)]
    return follow, doctors, patients, free


TIMINGS = Timings()
_timed = TIMINGS.timed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=os.environ.get("PORTAL_BENCH_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    _prepare(args.db)
    rng = random.Random(13)  # noqa: S311 - reproducible bench data
    started = time.perf_counter()
    follow, doctors, patients, free = _seed(rng)
    bookers = patients[PATIENTS:]
    print(f"seeded {DOCTORS} doctors, {BOOKED} appointments over {DAYS} days in {time.perf_counter() - started:.1f} s")
    vacuum()

    from sqlalchemy import text

    from patient_portal.core import audit
    from patient_portal.core.access import Action, Actor, Resource, Role, require
    from patient_portal.core.db import unit_of_work
    from patient_portal.domain.appointments import service as appts
    from patient_portal.domain.appointments.availability import local_day

    TIMINGS.listen()
    staff = Actor(user_id=uuid.uuid4(), role=Role.STAFF)
    today = local_day(datetime.now(UTC))

    def call(fn, *a, **kw):
        with unit_of_work() as s:
            return fn(s, *a, **kw)

    # The floors: what every call of the kind pays before any appointments work (BEGIN and COMMIT
    # included), measured the same way in the same rounds.
    def trivial():
        with unit_of_work() as s:
            s.execute(text("SELECT 1")).scalar_one()

    def audited_read():  # find_slots' and schedule's fixed part: the policy, one read event
        with unit_of_work() as s:
            require(s, staff, Action.SCHEDULE_READ, audit_as="appointment.schedule.read")
            audit.record(s, staff, "appointment.schedule.read", object_type="doctor", object_id=doctors[0],
                         detail={"day": today.isoformat(), "days": 7, "count": 0, "patient_ids": []})

    def audited_write(p):  # book's fixed part: the policy on the patient, one chained write event
        with unit_of_work() as s:
            require(s, staff, Action.APPOINTMENT_WRITE, Resource(patient_id=p), audit_as="appointment.book")
            audit.record(s, staff, "appointment.book", patient_id=p, object_type="appointment",
                         object_id=uuid.uuid4(), detail={"status": "booked"})

    def first():
        call(appts.find_slots, staff, visit_type_id=follow.id, limit=10)

    for _ in range(5):  # warm the pool and caches
        trivial(), audited_read(), first()
    rng.shuffle(free)
    for i in range(args.rounds):  # interleaved: a burst of load falls on the floors as on the calls
        doctor, offset = rng.choice(doctors), rng.randrange(0, DAYS - 7)
        did, start = free[i]
        booker = bookers[i % len(bookers)]
        _timed(trivial, "trivial")
        _timed(audited_read, "read floor")
        _timed(first, "first")
        _timed(partial(call, appts.schedule, staff, doctor_id=doctor, day=(today + timedelta(days=offset)).isoformat(),
                       days=7), "week")
        _timed(partial(audited_write, booker), "write floor")
        _timed(partial(call, appts.book, staff, patient_id=booker, visit_type_id=follow.id, doctor_id=did, start=start),
               "book")
    rows = [("baseline: SELECT 1 unit", "trivial", None, None),
            ("baseline: audited read", "read floor", None, None),
            ("first available (20 doctors)", "first", 50, "read floor"),
            ("doctor's week view", "week", 30, "read floor"),
            ("baseline: audited write", "write floor", None, None),
            ("booking", "book", 20, "write floor")]
    return 0 if TIMINGS.report(rows, rounds=args.rounds, floor_words="the same unit of work with only the policy and the audit event of the call's kind.") else 1


if __name__ == "__main__":
    raise SystemExit(main())
