"""The job outbox: jobs exist only when their transaction commits, run once, retry with backoff,
fail for good after MAX_ATTEMPTS (audited), and keep their payloads encrypted."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlmodel import select

from patient_portal.core import jobs
from patient_portal.core.db import get_engine, unit_of_work, utcnow
from tests.integration.identity_support import events

pytestmark = pytest.mark.usefixtures("db")
RAN: list[str] = []
LOCK = threading.Lock()


@jobs.handler("test.record")
def _record(payload: dict) -> None:
    with LOCK:
        RAN.append(payload["n"])


@jobs.handler("test.flaky")
def _flaky(payload: dict) -> None:
    raise ConnectionError("the other side is away")


@pytest.fixture(autouse=True)
def _clear():
    RAN.clear()
    yield
    RAN.clear()


def test_a_job_exists_only_if_its_transaction_committed():
    with pytest.raises(RuntimeError), unit_of_work() as s:
        jobs.enqueue(s, "test.record", {"n": "rolled back"})
        raise RuntimeError("the use case failed")
    with unit_of_work() as s:
        jobs.enqueue(s, "test.record", {"n": "kept"})
    assert jobs.run_due() == 1 and RAN == ["kept"]
    assert jobs.run_due() == 0  # done jobs do not run again


def test_two_workers_at_once_run_each_job_exactly_once():
    with unit_of_work() as s:
        for n in range(40):
            jobs.enqueue(s, "test.record", {"n": str(n)})

    def work():
        while jobs.run_due(limit=3):
            pass

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(RAN, key=int) == [str(n) for n in range(40)]


def test_failures_back_off_then_fail_for_good_and_are_audited():
    with unit_of_work() as s:
        jobs.enqueue(s, "test.flaky", {})
    for attempt in range(1, jobs.MAX_ATTEMPTS + 1):
        assert jobs.run_due() == 1
        with unit_of_work() as s:
            job = s.exec(select(jobs.Job).where(jobs.Job.kind == "test.flaky")).one()
            assert job.attempts == attempt and "away" in job.last_error
            if attempt < jobs.MAX_ATTEMPTS:
                assert job.status == "queued" and job.run_after > utcnow()
                job.run_after = utcnow()  # skip the wait
                s.add(job)
    assert job.status == "failed"
    assert [e.detail["kind"] for e in events("job.failed")] == ["test.flaky"]
    # the admins are told (core.alerts): one alert job, whose run queues no mail here (no admin)
    assert [e.object_id for e in events("system.alert")] == ["job.failed:test.flaky"]
    assert jobs.run_due() == 1 and jobs.run_due() == 0


def test_a_job_whose_worker_died_is_claimed_again_after_its_lease():
    with unit_of_work() as s:
        jobs.enqueue(s, "test.record", {"n": "1"})
    claimed = jobs._claim(10)  # a worker took it and died
    assert len(claimed) == 1 and jobs.run_due() == 0
    with unit_of_work() as s:
        job = s.exec(select(jobs.Job)).one()
        job.lease_until = utcnow() - timedelta(seconds=1)
        s.add(job)
    assert jobs.run_due() == 1 and RAN == ["1"]


def test_payloads_are_encrypted_at_rest_and_old_done_jobs_are_pruned():
    with unit_of_work() as s:
        jobs.enqueue(s, "test.record", {"n": "secret-link-token-123"})
    with get_engine().connect() as conn:
        assert "secret-link-token-123" not in repr(conn.execute(text("SELECT * FROM job")).fetchall())
    jobs.run_due()
    assert jobs.prune_done() == 0
    assert jobs.prune_done(utcnow() + jobs.KEEP_DONE + timedelta(minutes=1)) == 1


def test_an_idle_poll_neither_waits_for_nor_blocks_a_write_in_progress():
    """While a user's save holds the database's write lock, the worker's poll answers at once."""
    engine = get_engine()
    writer = engine.connect()
    try:
        writer.begin()  # on SQLite: BEGIN IMMEDIATE, the write lock
        writer.exec_driver_sql("UPDATE job SET attempts = attempts")  # a write is under way
        done = threading.Event()
        polled: list[int] = []
        poll = threading.Thread(target=lambda: (polled.append(jobs.run_due()), done.set()))
        poll.start()
        assert done.wait(2), "the poll waited for the writer"  # busy_timeout would be 5 s
        assert polled == [0]
    finally:
        writer.rollback()
        writer.close()


def test_a_key_keeps_one_waiting_job_and_cancel_drops_it(db):
    """A rescheduled reminder: enqueueing under the same key replaces the waiting job."""
    from datetime import timedelta

    from sqlmodel import select

    from patient_portal.core import jobs
    from patient_portal.core.db import unit_of_work, utcnow

    later = utcnow() + timedelta(days=2)
    with unit_of_work() as s:
        jobs.enqueue(s, "mail", {"to": "a@x.org", "subject": "s", "text": "first"}, run_after=later, key="reminder:1")
        jobs.enqueue(s, "mail", {"to": "b@x.org", "subject": "s", "text": "other"}, key="reminder:2")
    with unit_of_work() as s:
        jobs.enqueue(s, "mail", {"to": "a@x.org", "subject": "s", "text": "moved"}, run_after=later, key="reminder:1")
    with unit_of_work() as s:
        waiting = s.exec(select(jobs.Job).where(jobs.Job.key == "reminder:1")).all()
        assert [j.payload["text"] for j in waiting] == ["moved"]
        assert jobs.cancel(s, "reminder:1") == 1 and jobs.cancel(s, "reminder:1") == 0
    with unit_of_work() as s:
        assert [j.key for j in s.exec(select(jobs.Job)).all()] == ["reminder:2"]
