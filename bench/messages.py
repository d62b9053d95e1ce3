"""Secure messages at clinic scale on PostgreSQL (issue 18): 10,000 open threads (front desk, billing
and doctors' threads; a third waiting for an answer, some of them overdue) of 2,000 patients, one
message each; then, through the real service (policy, decryption, audit):

* the front desk's triage pool (front desk and billing, waiting first, 25 a page) — target p95 < 50 ms;
* the pool's "overdue" view (every box) — target p95 < 50 ms;

each beside its floors, measured in the same interleaved rounds: a unit of work with one SELECT 1
(the baseline), and a unit with only the policy and the pool's audit event. On a loaded machine a
round trip to PostgreSQL costs milliseconds, so "p95 - floor p95" is what the messages work adds.

Run: .venv/bin/python bench/messages.py [--db URL] [--rounds N]
The database (default postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench_messages, created
when missing) is emptied first. Patients, threads and messages are bulk-inserted through the ORM (so
subjects, texts and names are encrypted as in real use); everything timed goes through
domain/messages/service.py.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from harness import Timings, fresh_database, vacuum  # noqa: E402 - bench/ is this script's own folder

DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench_messages"
THREADS, PATIENTS, DOCTORS = 10_000, 2_000, 20


def _prepare(url: str) -> None:
    fresh_database(url, instance_prefix="bench-messages-")


def _seed(rng: random.Random) -> None:
    from patient_portal.core.db import unit_of_work
    from patient_portal.domain.identity.models import User
    from patient_portal.domain.messages.models import BILLING, DOCTOR, FRONT_DESK, Message, MessageThread
    from patient_portal.domain.patients.models import Patient

    doctors = [uuid.uuid4() for _ in range(DOCTORS)]
    patients = [uuid.uuid4() for _ in range(PATIENTS)]
    with unit_of_work() as s:
        s.add_all(User(id=did, email=f"doctor{i}@bench.test", role="doctor", display_name=f"Dr. Bench {i}")
                  for i, did in enumerate(doctors))
        s.add_all(Patient(id=pid, mrn=f"M{i:07d}", given_name=f"Pat{i}", family_name="Bench",
                          date_of_birth=date(1980, 1, 1), sex="female") for i, pid in enumerate(patients))
    now = datetime.now(UTC)
    for start in range(0, THREADS, 2_000):
        with unit_of_work() as s:
            rows, threads = [], []
            for _ in range(start, min(THREADS, start + 2_000)):
                box = rng.choices((FRONT_DESK, BILLING, DOCTOR), weights=(4, 2, 4))[0]
                at = now - timedelta(minutes=rng.randrange(0, 60 * 24 * 30))
                waiting = at if rng.random() < 0.33 else None
                pid = rng.choice(patients)
                thread = MessageThread(patient_id=pid, subject=f"Question {rng.randrange(10**6)}", box=box,
                                       doctor_id=rng.choice(doctors) if box == DOCTOR else None, started_by=pid,
                                       last_message_at=at, waiting_since=waiting)
                threads.append(thread)
                rows.append(Message(thread_id=thread.id, patient_id=pid, author_id=pid, author_role="patient",
                                    author_name="Pat Bench", body="A question about my visit, in a few words.",
                                    created_at=at))
            s.add_all(threads)
            s.flush()  # threads before the messages that reference them
            s.add_all(rows)


TIMINGS = Timings()
_timed = TIMINGS.timed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=os.environ.get("PORTAL_BENCH_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    _prepare(args.db)
    rng = random.Random(18)  # noqa: S311 - reproducible bench data
    started = time.perf_counter()
    _seed(rng)
    print(f"seeded {THREADS} threads of {PATIENTS} patients in {time.perf_counter() - started:.1f} s")
    vacuum()

    from sqlalchemy import text

    from patient_portal.core import audit
    from patient_portal.core.access import Action, Actor, Role, require
    from patient_portal.core.db import unit_of_work
    from patient_portal.domain.messages import service as messages

    TIMINGS.listen()
    staff = Actor(user_id=uuid.uuid4(), role=Role.STAFF)

    def call(fn, *a, **kw):
        with unit_of_work() as s:
            return fn(s, *a, **kw)

    def trivial():
        with unit_of_work() as s:
            s.execute(text("SELECT 1")).scalar_one()

    def audited_read():  # the pool's fixed part: the policy and its read event naming 25 patients
        with unit_of_work() as s:
            require(s, staff, Action.MESSAGE_POOL, audit_as=messages.POOL)
            audit.record(s, staff, messages.POOL, object_type=messages.OBJECT,
                         detail={"view": "pool", "count": 0, "patient_ids": [str(uuid.uuid4()) for _ in range(25)]})

    first = call(messages.pool, staff)
    assert len(first.rows) == messages.PAGE_SIZE and first.total > 5_000, first.total
    overdue = call(messages.pool, staff, view="overdue")
    print(f"pool: {first.total} threads for the front desk and billing; {overdue.total} overdue in all boxes")
    for _ in range(5):  # warm the pool and caches
        trivial(), audited_read(), call(messages.pool, staff)
    for _ in range(args.rounds):  # interleaved: a burst of load falls on the floors as on the calls
        _timed(trivial, "trivial")
        _timed(audited_read, "read floor")
        _timed(partial(call, messages.pool, staff), "pool")
        _timed(partial(call, messages.pool, staff, view="overdue"), "overdue")
    rows = [("baseline: SELECT 1 unit", "trivial", None, None),
            ("baseline: audited read", "read floor", None, None),
            ("triage pool, first page", "pool", 50, "read floor"),
            ("overdue view, first page", "overdue", 50, "read floor")]
    return 0 if TIMINGS.report(rows, rounds=args.rounds, floor_words="the same unit of work with only the policy and the pool's audit event.") else 1


if __name__ == "__main__":
    raise SystemExit(main())
