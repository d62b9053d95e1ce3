"""Appointments at clinic scale on PostgreSQL (issue 13): 20 doctors with weekday availability, 90 days,
10,000 booked appointments; then, through the real services (policy, audit, the database's
constraint):

* "first available" for a visit type across every doctor — target p95 < 50 ms;
* a doctor's week view — target p95 < 30 ms;
* booking a free time (staff) — target p95 < 20 ms.

Run: .venv/bin/python bench/appointments.py [--db URL] [--rounds N]
The database (default postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench_appts, created when
missing) is emptied first. Appointments and patients are written directly (the set-up is not what
is measured); everything timed goes through domain/appointments/service.py.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench_appts"
DOCTORS, DAYS, BOOKED, PATIENTS = 20, 90, 10_000, 600


def _prepare(url: str) -> None:
    from sqlalchemy import create_engine, text

    base, _, name = url.rpartition("/")
    admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first() is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    os.environ["PORTAL_DATABASE_URL"] = url
    os.environ["PORTAL_INSTANCE_DIR"] = tempfile.mkdtemp(prefix="bench-appts-")
    os.environ.setdefault("PORTAL_TIMEZONE", "America/New_York")
    from patient_portal.core.db import get_engine
    from patient_portal.models import metadata

    engine = get_engine()
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    metadata.create_all(engine)


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


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1]


CPU: dict[str, list[float]] = {}
STATEMENTS: dict[str, list[int]] = {}
_count = [0]


def _timed(fn, name: str = "") -> float:
    before, cpu = _count[0], time.process_time()
    started = time.perf_counter()
    fn()
    wall = (time.perf_counter() - started) * 1000
    CPU.setdefault(name, []).append((time.process_time() - cpu) * 1000)
    STATEMENTS.setdefault(name, []).append(_count[0] - before)
    return wall


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

    from sqlalchemy import event

    from patient_portal.core.access import Actor, Role
    from patient_portal.core.db import get_engine, unit_of_work
    from patient_portal.domain.appointments import service as appts
    from patient_portal.domain.appointments.availability import local_day

    event.listen(get_engine(), "before_cursor_execute", lambda *a: _count.__setitem__(0, _count[0] + 1))
    staff = Actor(user_id=uuid.uuid4(), role=Role.STAFF)
    today = local_day(datetime.now(UTC))

    def call(fn, *a, **kw):
        with unit_of_work() as s:
            return fn(s, *a, **kw)

    for _ in range(5):  # warm the pool and caches
        call(appts.find_slots, staff, visit_type_id=follow.id, limit=10)
    first = [_timed(lambda: call(appts.find_slots, staff, visit_type_id=follow.id, limit=10), "first")
             for _ in range(args.rounds)]
    week = []
    for _ in range(args.rounds):
        doctor, offset = rng.choice(doctors), rng.randrange(0, DAYS - 7)
        week.append(_timed(lambda d=doctor, o=offset: call(appts.schedule, staff, doctor_id=d,
                                                           day=(today + timedelta(days=o)).isoformat(), days=7), "week"))
    booking = []
    rng.shuffle(free)
    for i in range(args.rounds):
        did, start = free[i]
        booking.append(_timed(lambda d=did, t=start, p=bookers[i % len(bookers)]: call(
            appts.book, staff, patient_id=p, visit_type_id=follow.id, doctor_id=d, start=t), "book"))
    rows = [("first available (20 doctors)", first, 50, "first"), ("doctor's week view", week, 30, "week"),
            ("booking", booking, 20, "book")]
    load = os.getloadavg()[0]
    print(f"load average {load:.2f} on {os.cpu_count()} cores (wall times need a quiet machine)")
    print(f"{'':32}{'median':>9}{'p95':>9}{'target':>9}{'CPU p95':>10}{'SQL':>6}")
    ok = True
    for name, samples, target, key in rows:
        p95 = _p95(samples)
        ok &= p95 < target
        print(f"{name:32}{statistics.median(samples):8.1f}ms{p95:8.1f}ms{'<' + str(target):>8}ms"
              f"{_p95(CPU[key]):8.1f}ms{statistics.median(STATEMENTS[key]):6.0f}  {'ok' if p95 < target else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
