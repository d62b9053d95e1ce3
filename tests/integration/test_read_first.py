"""SQLite units that only read take no write lock; their audit events are chained in groups
(core.db.transact, core.audit_group). PostgreSQL units are plain units of work.

What a person would notice if it broke: charts and lists that wait for each other (and for each
other's disk flushes) under load; a read missing from "who looked at my record"; a save that is
lost because it ran in a unit that was only meant to read; PHI shown although its audit event could
not be written.
"""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from sqlalchemy import event, text
from sqlmodel import select

from patient_portal.core import audit, audit_group
from patient_portal.core.access import Actor, Role
from patient_portal.core.audit import AuditEvent, verify_chain
from patient_portal.core.db import get_engine, read_only, transact
from patient_portal.domain.identity.models import User

pytestmark = pytest.mark.usefixtures("db")

READ = "patient.demographics.read"


def _actor() -> Actor:
    return Actor(user_id=uuid.uuid4(), role=Role.DOCTOR, display_name="Dr. Test", session_id=uuid.uuid4())


def _read_use_case(session, actor: Actor, patient: uuid.UUID) -> int:
    """Reads something and audits the read, like a chart or a list."""
    count = len(session.exec(select(User.id)).all())
    audit.record(session, actor, READ, patient_id=patient, object_type="patient", object_id=patient)
    return count


def _events(patient: uuid.UUID) -> list[AuditEvent]:
    with read_only() as s:
        return list(s.exec(select(AuditEvent).where(AuditEvent.patient_id == patient)).all())


def _sqlite_only():
    if get_engine().dialect.name != "sqlite":
        pytest.skip("read-first units exist on SQLite only")


def _count_begins():
    seen = {"immediate": 0}

    def count(_conn, _cursor, statement, *_args):
        if statement.strip().upper() == "BEGIN IMMEDIATE":
            seen["immediate"] += 1

    event.listen(get_engine(), "before_cursor_execute", count)
    return seen, lambda: event.remove(get_engine(), "before_cursor_execute", count)


def test_a_read_returns_with_its_event_chained_on_both_databases():
    patient = uuid.uuid4()
    assert transact(_read_use_case, _actor(), patient) >= 0
    events = _events(patient)
    assert [e.action for e in events] == [READ] and events[0].seq and events[0].hash
    with read_only() as s:
        assert verify_chain(s).ok


def test_reads_at_once_share_write_transactions():
    """Eight reads arriving while a writer holds the lock all finish once it lets go, their events
    committed in far fewer write transactions than reads (group commit)."""
    _sqlite_only()
    patients = [uuid.uuid4() for _ in range(8)]
    raw = get_engine().raw_connection()
    raw.execute("BEGIN IMMEDIATE")  # another writer (a long save, another process) holds the lock
    seen, stop = _count_begins()
    try:
        threads = [threading.Thread(target=transact, args=(_read_use_case, _actor(), p)) for p in patients]
        for t in threads:
            t.start()
        time.sleep(0.5)
        raw.execute("COMMIT")
        for t in threads:
            t.join(20)
        assert not any(t.is_alive() for t in threads)
    finally:
        stop()
        raw.close()
    assert all(len(_events(p)) == 1 for p in patients)
    assert seen["immediate"] <= 3, seen
    with read_only() as s:
        assert verify_chain(s).ok


def test_a_use_case_that_writes_runs_again_as_a_writer_and_keeps_its_write():
    runs = []

    def save(session, actor: Actor, email: str) -> str:
        runs.append(1)
        try:  # a use case's own broad except must not swallow the switch to a writer
            session.add(User(email=email, role="staff", display_name="New Person"))
            session.flush()
        except Exception:  # noqa: BLE001
            pass
        audit.record(session, actor, "user.manage", object_type="user", object_id=email)
        return email

    email = f"{uuid.uuid4().hex[:8]}@example.org"
    assert transact(save, _actor(), email) == email
    with read_only() as s:
        assert s.exec(select(User).where(User.email == email)).one().display_name == "New Person"
        assert s.exec(select(AuditEvent).where(AuditEvent.object_id == email)).one().action == "user.manage"
    assert len(runs) == (2 if get_engine().dialect.name == "sqlite" else 1)


def test_a_change_left_pending_without_a_flush_is_kept():
    """A use case that only session.add()s (the flush would come at commit) is a writer too: the
    registration wizard's draft was lost on reload when the reader rolled it back unflushed."""
    email = f"{uuid.uuid4().hex[:8]}@example.org"

    def add_only(session, actor: Actor) -> None:
        session.add(User(email=email, role="staff", display_name="Pending Person"))

    transact(add_only, _actor())
    with read_only() as s:
        assert s.exec(select(User).where(User.email == email)).one().display_name == "Pending Person"


def test_a_core_statement_that_writes_is_caught_too():
    def touch(session, actor: Actor) -> int:
        session.connection().execute(text("UPDATE user_account SET failed_attempts = failed_attempts WHERE 1 = 0"))
        return 7

    assert transact(touch, _actor()) == 7


def test_a_read_whose_event_cannot_be_written_fails_and_returns_nothing(monkeypatch):
    _sqlite_only()

    def broken(*_args, **_kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(audit, "append_chained", broken)
    patient = uuid.uuid4()
    with pytest.raises(RuntimeError, match="disk full"):
        transact(_read_use_case, _actor(), patient)
    monkeypatch.undo()
    assert _events(patient) == []
    assert transact(_read_use_case, _actor(), patient) >= 0  # the next read is not stuck behind it
    assert len(_events(patient)) == 1


def test_the_group_commits_oldest_first():
    _sqlite_only()
    patient = uuid.uuid4()
    actor = _actor()
    first = {"id": uuid.uuid4()}

    def two_reads(session, actor: Actor) -> None:
        first["id"] = audit.record(session, actor, READ, patient_id=patient).id
        audit.record(session, actor, "document.clinical.list", patient_id=patient)

    transact(two_reads, actor)
    events = sorted(_events(patient), key=lambda e: e.seq)
    assert [e.id for e in events][0] == first["id"] and len(events) == 2
    assert audit_group._queued == []
