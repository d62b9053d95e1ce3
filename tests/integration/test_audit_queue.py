"""Read events skip the chain lock (core.audit_queue) and still end up chained, in order, verified.

What a person would notice if it broke: a chart opened while someone else holds the chain (a long
write, a checkpoint) waits for them; an opened chart that is missing from the audit trail or from
"who looked at my record"; `portal audit verify` failing, or passing over a forged event.
Most tests run on both databases; the queue itself exists on PostgreSQL only.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import Session, select

from patient_portal.core import audit, audit_queue
from patient_portal.core.access import Actor, Role
from patient_portal.core.audit import AuditEvent, PendingAuditEvent, verify_chain
from patient_portal.core.db import get_engine, normalize_url, read_only, unit_of_work
from patient_portal.settings import get_settings

pytestmark = pytest.mark.usefixtures("db")

READ = "patient.demographics.read"


def _actor() -> Actor:
    return Actor(user_id=uuid.uuid4(), role=Role.DOCTOR, display_name="Dr. Test", session_id=uuid.uuid4(),
                 ip="10.9.9.9")


def _read(actor: Actor | None = None, patient: uuid.UUID | None = None, action: str = READ) -> uuid.UUID:
    """A read use case: its unit of work audits it and commits; returns the patient id."""
    patient = patient or uuid.uuid4()
    with unit_of_work() as s:
        audit.record(s, actor or _actor(), action, patient_id=patient, object_type="patient",
                     object_id=patient, detail={"sections": ["basic"]})
    return patient


def _chained(patient: uuid.UUID) -> list[AuditEvent]:
    with read_only() as s:
        return list(s.exec(select(AuditEvent).where(AuditEvent.patient_id == patient)).all())


def _pending() -> int:
    with read_only() as s:
        return len(s.exec(select(PendingAuditEvent.id)).all())


def _other_connection():
    """A connection of its own (another app process, say)."""
    return create_engine(normalize_url(get_settings().db_url)).connect()


@pytest.fixture
def postgres(db):
    if db != "postgresql":
        pytest.skip("the queue is PostgreSQL's (SQLite holds its write lock for the whole unit)")
    return db


def test_which_events_are_reads():
    for action in (READ, "patient.clinical.read", "patient.search", "document.list", "document.preview",
                   "document.download", "audit.read", "document.versions.read"):
        assert audit.is_read_action(action), action
    for action in ("patient.demographics.write", "auth.sign_in", "document.upload", "careteam.assign",
                   audit.CHECKPOINT_ACTION, "audit.export"):
        assert not audit.is_read_action(action), action


def test_a_read_is_in_the_chain_once_its_unit_has_committed(capsys):
    patient = _read()
    events = _chained(patient)
    assert len(events) == 1 and events[0].seq and events[0].hash and events[0].mac
    assert events[0].action == READ and events[0].ip == "10.9.9.9"
    assert _pending() == 0
    with read_only() as s:
        report = verify_chain(s)
    assert report.ok and report.pending == 0, report.problems


def test_reads_and_writes_interleaved_make_one_unbroken_chain():
    actor = _actor()
    for i in range(5):
        _read(actor)
        audit.record_now(actor, "test.write", detail={"n": i})
    with read_only() as s:
        report = verify_chain(s)
        seqs = [e.seq for e in s.exec(select(AuditEvent).order_by(AuditEvent.seq)).all()]
    assert report.ok, report.problems
    assert seqs == list(range(1, 11))


def test_a_read_that_fails_leaves_no_event_behind():
    patient = uuid.uuid4()
    with pytest.raises(RuntimeError), unit_of_work() as s:
        audit.record(s, _actor(), READ, patient_id=patient)
        raise RuntimeError("the chart could not be drawn")
    assert _chained(patient) == [] and _pending() == 0


@contextlib.contextmanager
def _chain_held():
    """Another connection (another app process, a long write) holds the chain lock meanwhile."""
    holder = _other_connection()
    tx = holder.begin()
    holder.execute(text(f"SELECT pg_advisory_xact_lock({audit.CHAIN_LOCK})"))
    try:
        yield
    finally:
        tx.rollback()
        holder.close()


def test_a_read_does_not_wait_for_the_chain_lock(postgres, monkeypatch):
    """Someone holds the chain: the read commits at once with its event queued; once the holder is
    done the event is in the chain and verify is green."""
    monkeypatch.setattr(audit_queue, "LOCK_WAIT", 0.3)
    patient = uuid.uuid4()
    with _chain_held():
        done = threading.Event()
        threading.Thread(target=lambda: (_read(patient=patient), done.set()), daemon=True).start()
        assert done.wait(10), "the read waited for the chain lock"
        assert _pending() == 1  # committed with the read, waiting
        assert _chained(patient) == []  # a reader of the trail waited LOCK_WAIT for the chain, then read on
    assert [e.action for e in _chained(patient)] == [READ]  # the reader chains it first
    assert _pending() == 0
    with read_only() as s:
        assert verify_chain(s).ok


def test_verify_chains_what_is_still_queued(postgres, monkeypatch):
    monkeypatch.setattr(audit_queue, "LOCK_WAIT", 0.2)
    with _chain_held():
        patient = _read()
        assert _pending() == 1
    with read_only() as s:
        report = verify_chain(s)
    assert report.ok and report.checked == 1 and report.pending == 0
    assert len(_chained(patient)) == 1


def test_a_write_chains_the_reads_queued_before_it(postgres, monkeypatch):
    monkeypatch.setattr(audit_queue, "LOCK_WAIT", 0.2)
    with _chain_held():
        patient = _read()
    audit.record_now(_actor(), "test.write")
    with read_only() as s:
        events = s.exec(select(AuditEvent).order_by(AuditEvent.seq)).all()
    assert [e.action for e in events] == [READ, "test.write"] and events[0].patient_id == patient
    assert _pending() == 0


def test_many_people_reading_at_once_all_land_in_one_chain(postgres):
    _read()  # the key ring exists (the app makes it at start-up)
    errors: list[BaseException] = []

    def person():
        try:
            actor = _actor()
            for _ in range(10):
                _read(actor)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=person) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    with read_only() as s:
        report = verify_chain(s)
    assert report.ok and report.checked == 81 and report.pending == 0


@pytest.mark.parametrize("tamper", ["forged", "altered"])
def test_a_queued_event_without_a_valid_mac_is_never_chained(postgres, monkeypatch, tamper):
    """A database writer without the keys slips in a 'read' (or edits a queued one, say to blame
    another person): the chainer refuses it and verify names it."""
    monkeypatch.setattr(audit_queue, "LOCK_WAIT", 0.2)
    patient = uuid.uuid4()
    if tamper == "forged":
        with Session(get_engine()) as s:
            s.add(PendingAuditEvent(action=READ, patient_id=patient, detail={}, key_id="k1", mac="0" * 64))
            s.commit()
    else:
        with _chain_held():
            _read(patient=patient)
            with get_engine().begin() as conn:
                conn.execute(text("UPDATE audit_event_pending SET actor_id = :a"), {"a": uuid.uuid4()})
    assert audit_queue.chain_pending() == 0
    assert _chained(patient) == []
    with read_only() as s:
        report = verify_chain(s)
    assert not report.ok and report.pending == 1
    assert "pending audit event" in report.problem and "bad MAC" in report.problem


def test_walking_the_chain_inside_a_transaction_that_holds_the_lock_does_not_hang(postgres, monkeypatch):
    monkeypatch.setattr(audit_queue, "LOCK_WAIT", 0.2)
    with _chain_held():
        patient = _read()
    started = time.monotonic()
    with unit_of_work() as s:
        audit.record(s, _actor(), "test.write")  # this transaction now holds the chain lock
        walk = audit.walk_chain(s)  # would wait for itself if it tried to chain in another transaction
    assert time.monotonic() - started < 3
    assert walk.ok
    assert _pending() == 0  # chained by the write (or the chainer thread) before the write's own event
    assert len(_chained(patient)) == 1
