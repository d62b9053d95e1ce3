"""Transactional outbox and worker: work that must happen after a commit, and survive failures.

A use case calls ``enqueue(session, kind, payload)`` inside its own transaction, so the job exists
exactly when the use case committed. A worker claims due jobs (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so several ``portal worker`` processes share the queue; SQLite's write lock serializes the
claim), runs the handler registered for the kind outside any transaction, and then marks the job
done or schedules a retry with backoff; after MAX_ATTEMPTS it is marked failed and audited. A job
whose worker died is claimed again once its lease runs out. Payloads are encrypted at rest.

The embedded default runs the worker inside the app process (``run_forever`` as a lifespan task).
Each worker also ticks ``audit_checkpoint.Ticker`` (signed audit checkpoints) and
``backup_schedule.Scheduler`` (scheduled backups); see those modules.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import threading
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_
from sqlmodel import Field, Session, SQLModel, select

from patient_portal.core import audit, audit_checkpoint, backup_schedule, retention
from patient_portal.core.crypto import encrypted_field
from patient_portal.core.db import new_id, off_loop, read_only, unit_of_work, utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=5)
BACKOFF = (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10), timedelta(minutes=30),
           timedelta(hours=1))
BATCH = 10


class Job(SQLModel, table=True):
    """One unit of deferred work."""

    __tablename__ = "job"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    kind: str = Field(max_length=32, index=True)
    payload: dict = encrypted_field("json")
    status: str = Field(default="queued", max_length=16, index=True)  # queued | running | done | failed
    attempts: int = 0
    run_after: datetime = Field(default_factory=utcnow, nullable=False, index=True)
    lease_until: datetime | None = None
    last_error: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(default_factory=utcnow, nullable=False)
    done_at: datetime | None = None
    #: Dedupe/cancel key ("reminder:<appointment id>"): enqueueing with a key replaces the job still
    #: waiting under it, and cancel(key) drops it — a rescheduled reminder goes out once, at the new time.
    key: str | None = Field(default=None, max_length=128, index=True)


class PermanentFailure(Exception):
    """Raised by a handler when retrying cannot help."""


_HANDLERS: dict[str, Callable[[dict], None]] = {}
#: Modules that register handlers; imported before the first run so any process can work the queue.
HANDLER_MODULES = ("patient_portal.core.mail", "patient_portal.core.sms",
                   "patient_portal.domain.appointments.reminders", "patient_portal.api.fhir.bulk",
                   "patient_portal.domain.emergency.notify",
                   "patient_portal.domain.breakglass.notify", "patient_portal.domain.operations.alerts",
                   "patient_portal.domain.push.service")
#: kinds whose failure raises no admin alert: the alert itself goes out by these
_NO_ALERT = frozenset({"mail", "admin_alert"})
KEEP_DONE = timedelta(days=7)


def handler(kind: str) -> Callable[[Callable[[dict], None]], Callable[[dict], None]]:
    """Register the function that runs jobs of `kind` (it gets the payload; raising means retry)."""

    def register(fn: Callable[[dict], None]) -> Callable[[dict], None]:
        _HANDLERS[kind] = fn
        return fn

    return register


def enqueue(session: Session, kind: str, payload: dict[str, Any], *, run_after: datetime | None = None,
            key: str | None = None, fresh: bool = False) -> Job:
    """Add a job in the caller's transaction. With `key`, a job still queued under that key is
    replaced (its payload and time updated), so there is never more than one waiting per key;
    `fresh` says the caller knows none can be waiting yet (a key naming a row it has just created),
    which saves the look-up."""
    if key is not None and not fresh:
        waiting = session.exec(select(Job).where(Job.key == key, Job.status == "queued")).first()
        if waiting is not None:
            waiting.kind, waiting.payload, waiting.run_after, waiting.attempts = kind, payload, run_after or utcnow(), 0
            session.add(waiting)
            return waiting
    job = Job(kind=kind, payload=payload, run_after=run_after or utcnow(), key=key)
    session.add(job)
    return job


def cancel(session: Session, key: str) -> int:
    """Drop the job still queued under `key` (in the caller's transaction); returns how many."""
    result = session.exec(delete(Job).where(Job.key == key, Job.status == "queued"))
    return int(result.rowcount or 0)


def load_handlers() -> None:
    """Import every module of HANDLER_MODULES, so this process can run every kind of job."""
    for module in HANDLER_MODULES:
        importlib.import_module(module)


def _due(now: datetime) -> Any:
    """Jobs waiting to run, or whose worker's lease ran out."""
    return and_(or_(Job.status == "queued", Job.status == "running"), Job.run_after <= now,
                or_(Job.lease_until == None, Job.lease_until < now))  # noqa: E711


def _claim(limit: int) -> list[tuple[uuid.UUID, str, dict]]:
    now = utcnow()
    with read_only() as session:  # most polls find nothing: look before taking a write lock
        if session.exec(select(Job.id).where(_due(now)).limit(1)).first() is None:
            return []
    with unit_of_work() as session:
        stmt = select(Job).where(_due(now)).order_by(Job.run_after).limit(limit)
        if session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        claimed = []
        for job in session.exec(stmt).all():
            job.status, job.lease_until, job.attempts = "running", now + LEASE, job.attempts + 1
            session.add(job)
            claimed.append((job.id, job.kind, dict(job.payload)))
        return claimed


def _finish(job_id: uuid.UUID, error: BaseException | None) -> None:
    with unit_of_work() as session:
        job = session.get(Job, job_id)
        if job is None:
            return
        now = utcnow()
        if error is None:
            job.status, job.done_at, job.lease_until, job.last_error = "done", now, None, None
        elif isinstance(error, PermanentFailure) or job.attempts >= MAX_ATTEMPTS:
            job.status, job.lease_until, job.last_error = "failed", None, str(error)[:255]
            audit.record(session, None, "job.failed", object_type="job", object_id=job.id, outcome="failed",
                         detail={"kind": job.kind, "attempts": job.attempts})
            if job.kind not in _NO_ALERT:
                from patient_portal.core.alerts import raise_alert  # it queues jobs: import at use

                raise_alert(session, f"job.failed:{job.kind}", f"{job.kind} jobs are failing")
        else:
            job.status, job.lease_until, job.last_error = "queued", None, str(error)[:255]
            job.run_after = now + BACKOFF[min(job.attempts - 1, len(BACKOFF) - 1)]
        session.add(job)


def _done_before(now: datetime) -> tuple[Any, ...]:
    return (Job.status == "done", Job.done_at < now - KEEP_DONE)


def _count_done(session: Session, now: datetime) -> int:
    return int(session.exec(select(func.count()).select_from(Job).where(*_done_before(now))).one())


@retention.rule("jobs.done", "Finished background jobs (emails sent, reminders queued)",
                f"{KEEP_DONE.days} days after they ran", _count_done)
def _remove_done(session: Session, now: datetime) -> int:
    """One DELETE: no need to load (and decrypt) what goes."""
    return int(session.exec(delete(Job).where(*_done_before(now))).rowcount or 0)  # type: ignore[call-overload]


def prune_done(now: datetime | None = None) -> int:
    """Delete finished jobs older than KEEP_DONE (their payloads are no longer needed)."""
    with unit_of_work() as session:
        return _remove_done(session, now or utcnow())


def run_due(limit: int = BATCH) -> int:
    """Claim and run the jobs that are due; returns how many ran (successfully or not)."""
    load_handlers()
    claimed = _claim(limit)
    for job_id, kind, payload in claimed:
        fn = _HANDLERS.get(kind)
        try:
            if fn is None:
                raise PermanentFailure(f"no handler for job kind {kind!r}")
            fn(payload)
        except Exception as exc:  # the job records why; the worker goes on
            log.warning("job %s (%s) failed: %s", job_id, kind, exc)
            _finish(job_id, exc)
        else:
            _finish(job_id, None)
    return len(claimed)


async def run_forever(interval: float = 2.0) -> None:
    """The in-process worker (a lifespan task of the app): run due jobs, then wait a little."""
    rounds = 0
    checkpoints, backups = audit_checkpoint.Ticker(), backup_schedule.Scheduler()
    while True:
        try:
            while await off_loop(run_due) == BATCH:
                pass
            await off_loop(checkpoints.tick)
            await off_loop(backups.tick)
            if rounds % 1800 == 0:  # about hourly: what the retention rules say may go
                await off_loop(retention.run_unattended)
            rounds += 1
        except asyncio.CancelledError:
            raise
        except Exception:  # the database may be briefly away; try again next round
            log.exception("job worker round failed")
        await asyncio.sleep(interval)


class Worker:
    """A worker thread (tests, ``portal worker``): runs due jobs every `interval` seconds until stopped."""

    def __init__(self, interval: float = 1.0):
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="portal-jobs", daemon=True)
        self._checkpoints = audit_checkpoint.Ticker()
        self._backups = backup_schedule.Scheduler()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                run_due()
                self._checkpoints.tick()
                self._backups.tick()
            except Exception:
                log.exception("job worker round failed")
            self._stop.wait(self.interval)

    def start(self) -> Worker:
        self._thread.start()
        return self

    @property
    def running(self) -> bool:
        return not self._stop.is_set()

    def wait(self, seconds: float) -> None:
        self._stop.wait(seconds)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)
