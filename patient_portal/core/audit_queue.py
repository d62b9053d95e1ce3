"""Read events appended without the chain lock, chained by one writer right after they commit.

Appending to the hash chain needs its head, so appenders take one lock (``core.audit._lock_chain``,
a PostgreSQL advisory lock held to the end of the appender's transaction). When every chart,
search and document list took it too — from its audit write through its own commit — reads queued
behind each other and behind every write, across all app processes (issue 11 §7). On PostgreSQL the
events of use cases that only read (``audit.is_read_action``) take another way:

1. **In the read's own transaction**, without any lock, the event goes into ``audit_event_pending``
   (``core.audit.PendingAuditEvent``) with a MAC under the audit key over its id and content. The
   read and its event commit together or not at all: no PHI without its audit event.
2. **Right after that commit** the process's chainer thread is woken. Under the chain lock, in a
   short transaction of its own, it moves every pending event into the chain in the order they were
   queued (``at``, then id), each with the seq, hash and MAC ``record`` would have given it, and
   deletes them from the queue in the same transaction; under load one such transaction takes the
   events of many reads (group commit). The read itself waits for none of this.
3. **Whoever reads the trail sees them chained.** Before a statement that reads ``audit_event``
   runs in this process while events it queued may still wait, they are chained first (an engine
   ``before_execute`` hook), so the access log, the audit log, an export or a test never miss a read
   that was already committed here. ``walk_chain`` chains everything pending first (all processes'),
   so ``portal audit verify`` and the checkpoint writer see every event chained; any write chains
   the queue before its own event. What a crash left queued is taken by the next of these.

A pending row whose MAC does not verify (written by someone with database access but without the
keys, or altered while it waited) is never chained; ``pending_problems`` names it and
``verify_chain`` reports it. Deleting a pending row before it is chained is the same as deleting the
newest events, which only a checkpoint can show: this widens that window by the milliseconds
between a read's commit and its chaining.

On SQLite nothing changes: a unit of work takes SQLite's single write lock at BEGIN (``core.db``),
so an audit write costs no extra lock and is chained in place.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import logging
import os
import re
import threading
import time
from collections.abc import Mapping
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy import event as sa_event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.sql.elements import TextClause
from sqlmodel import Session, select

from patient_portal.core.crypto import DecryptionError, KeyRing, get_keyring

log = logging.getLogger(__name__)

#: HMAC purpose of a pending event's MAC (its own key, apart from the chain's "audit" MAC key).
PENDING_MAC_PURPOSE = "audit-pending"
#: Pending events one statement takes at most (a chaining transaction loops until none are left).
BATCH = 500
#: Rounds one chaining transaction makes at most (bounded: BATCH * ROUNDS events).
ROUNDS = 200
#: How long a chainer waits for the chain lock (seconds) before leaving the events to the next one.
LOCK_WAIT = 5.0
#: The chainer waits this long after being woken, so reads committing together share a transaction.
GATHER = 0.002
#: Even when not woken, the chainer looks for leftovers (another process's crash) this often.
SWEEP_EVERY = 30.0
#: session.info keys: this transaction queued events; this transaction holds the chain lock.
_QUEUED = "portal_audit_queued"
_BATCH = "portal_audit_batch"  # this transaction's queued events, not yet written (``enqueue``)
_HOLDS = "portal_audit_holds_lock"
_AUDIT_EVENT_SQL = re.compile(r"\baudit_event\b", re.IGNORECASE)


def _tables():
    from patient_portal.core.audit import AuditEvent, PendingAuditEvent

    return AuditEvent.__table__, PendingAuditEvent.__table__  # type: ignore[attr-defined]


def defers(session: Session) -> bool:
    """Does this session's database take read events through the queue? (PostgreSQL only.)"""
    return session.get_bind().dialect.name == "postgresql"


# ------------------------------------------------------------------ MACs of queued events

_CONTENT = ("at", "actor_id", "role", "action", "patient_id", "object_type", "object_id", "outcome", "ip",
            "session_id", "purpose", "detail")


def _content(values: Mapping[str, Any]) -> bytes:
    from patient_portal.core.audit import _canon_value

    data = {name: _canon_value(values.get(name)) for name in _CONTENT}
    if values.get("basis") is not None:
        data["basis"] = values["basis"]
    data["id"] = str(values["id"])
    return json.dumps(data, sort_keys=True, separators=(",", ":"), default=str).encode()


def pending_mac(values: Mapping[str, Any], key_id: str, ring: KeyRing | None = None) -> str:
    """HMAC-SHA256 over (key id, the event's id and content) under the ring's pending-event key."""
    key = (ring or get_keyring()).mac_key(key_id, PENDING_MAC_PURPOSE)
    return hmac.new(key, key_id.encode() + b"|" + _content(values), hashlib.sha256).hexdigest()


def pending_mac_ok(values: Mapping[str, Any], ring: KeyRing | None = None) -> bool:
    key_id, mac = values.get("key_id"), values.get("mac")
    if not key_id or not mac:
        return False
    try:
        expected = pending_mac(values, key_id, ring)
    except DecryptionError:
        return False
    return hmac.compare_digest(expected, mac)


# ------------------------------------------------------------------ queueing and chaining


def enqueue(session: Session, values: dict[str, Any], ring: KeyRing) -> None:
    """Queue an event (`values`: AuditEvent's fields but seq and hashes) in the caller's transaction.
    The row is written with the transaction's other queued events in one multi-row INSERT just
    before it commits (``_write_batch``; a FHIR read queues two or three: one round trip, not
    three), or before anything in the transaction chains (``chain_locked``); a failed INSERT fails
    the commit, so the read still never commits without its events."""
    _, pending = _tables()
    row = {name: values.get(name) for name in pending.c.keys()}
    row["mac"] = pending_mac(row, row["key_id"], ring)
    session.info.setdefault(_BATCH, []).append(row)
    session.info[_QUEUED] = session.connection().engine


def _write_batch(session: OrmSession) -> None:
    """INSERT the events this transaction queued (one statement), before its commit."""
    rows = session.info.pop(_BATCH, None)
    if rows:
        _, pending = _tables()
        session.connection().execute(pending.insert(), rows)


def chain_locked(session_or_conn: Session | Connection, ring: KeyRing | None = None) -> int:
    """In a transaction that holds the chain lock: chain every pending event whose MAC verifies,
    oldest first. Returns how many were chained."""
    from patient_portal.core.audit import _HEAD, GENESIS, chain_hash_values, event_mac

    events, pending = _tables()
    if isinstance(session_or_conn, OrmSession):
        _write_batch(session_or_conn)  # this transaction's own queued reads go first too
    conn = session_or_conn.connection() if isinstance(session_or_conn, OrmSession) else session_or_conn
    ring = ring or get_keyring()
    chained, bad = 0, []
    for _ in range(ROUNDS):
        query = pending.select().order_by(pending.c.at, pending.c.id).limit(BATCH)
        if bad:
            query = query.where(pending.c.id.not_in(bad))
        rows = [dict(r) for r in conn.execute(query).mappings()]
        good = [r for r in rows if pending_mac_ok(r, ring)]
        if len(good) < len(rows):
            bad += [r["id"] for r in rows if not pending_mac_ok(r, ring)]
            log.error("audit: %d queued audit event(s) have a bad MAC and are not chained (run `portal "
                      "audit verify`)", len(rows) - len(good))
        if good:
            last = conn.execute(_HEAD).first()
            seq, prev = (last.seq, last.hash) if last else (0, GENESIS)
            out = []
            for row in good:
                seq += 1
                row.update(seq=seq, prev_hash=prev, key_id=ring.active_kid)
                row["hash"] = prev = chain_hash_values(prev, row)
                row["mac"] = event_mac(ring.active_kid, row["hash"], ring)
                out.append(row)
            conn.execute(events.insert(), out)
            conn.execute(pending.delete().where(pending.c.id.in_([r["id"] for r in good])))
            chained += len(good)
        if len(rows) < BATCH:
            break
    return chained


class _Local(threading.local):
    held = 0  # open transactions of this thread holding the chain lock
    chaining = False  # this thread is inside chain_pending (its statements must not re-enter it)


_local = _Local()
_generation = itertools.count(1)
_queued_gen = 0  # the latest commit (numbered) that queued events in this process
_chained_gen = 0  # every commit numbered up to this one has been chained


def waiting() -> bool:
    """May events committed by this process still wait to be chained?"""
    return _queued_gen > _chained_gen


def chain_pending(engine: Engine | Connection | None = None) -> int | None:
    """Chain every pending event (PostgreSQL), in a transaction of its own on `engine` (default: the
    process's), waiting for the chain lock at most LOCK_WAIT. Returns how many were chained, or None
    when the lock could not be had: this thread's own open transaction holds it, or it stayed busy
    (the events then wait for the next chainer)."""
    global _chained_gen
    from patient_portal.core.audit import CHAIN_LOCK
    from patient_portal.core.db import get_engine

    engine = engine or get_engine()
    if isinstance(engine, Connection):  # a session bound to a connection: chain beside it, not in it
        engine = engine.engine
    if engine.dialect.name != "postgresql":
        return 0
    if _local.held or _local.chaining:
        return None
    covers = _queued_gen
    _local.chaining = True
    try:
        with _chainer_engine(engine).begin() as conn:
            conn.execute(text(f"SET LOCAL lock_timeout = '{int(LOCK_WAIT * 1000)}ms'"))
            conn.execute(text(f"SELECT pg_advisory_xact_lock({CHAIN_LOCK})"))
            chained = chain_locked(conn)
        _chained_gen = max(_chained_gen, covers)
        return chained
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", "") == "55P03":  # lock_not_available
            log.warning("audit: the chain lock stayed busy for %.0f s; queued read events wait for the next "
                        "chainer", LOCK_WAIT)
            return None
        raise
    except ProgrammingError as exc:
        if getattr(exc.orig, "sqlstate", "") == "42P01":  # undefined_table: a schema before 0007
            return 0
        raise
    finally:
        _local.chaining = False


def pending_count(session: Session) -> int:
    from patient_portal.core.audit import PendingAuditEvent

    return len(session.exec(select(PendingAuditEvent.id)).all())


def pending_problems(session: Session, ring: KeyRing | None = None) -> list[str]:
    """Pending events that will never be chained (bad MAC): each one named."""
    _, pending = _tables()
    ring = ring or get_keyring()
    rows = session.connection().execute(pending.select().order_by(pending.c.at)).mappings()
    return [f"pending audit event {row['id']} ({row['action']}) has a bad MAC (forged, or altered before it "
            "was chained)" for row in rows if not pending_mac_ok(row, ring)]


#: The chainers' own engines (one pooled connection each), by the app engine's URL: chaining never
#: waits behind the requests for a pool slot, nor holds one of theirs.
_engines: dict[str, Engine] = {}
_ours: set[int] = set()
_engines_guard = threading.Lock()


def _chainer_engine(engine: Engine) -> Engine:
    if id(engine) in _ours:
        return engine
    key = engine.url.render_as_string(hide_password=False)
    mine = _engines.get(key)
    if mine is None:
        with _engines_guard:
            mine = _engines.get(key)
            if mine is None:
                mine = create_engine(engine.url, pool_size=1, max_overflow=1, pool_pre_ping=True)
                _ours.add(id(mine))
                _engines[key] = mine
    return mine


def _engine_disposed(engine: Engine) -> None:
    """The app disposed its engine (settings reset, a database about to be dropped): so do we."""
    if id(engine) in _ours:
        return
    with _engines_guard:
        mine = _engines.pop(engine.url.render_as_string(hide_password=False), None)
    if mine is not None:
        _ours.discard(id(mine))
        mine.dispose()


class _Chainer:
    """The process's chaining thread: woken after each commit that queued events. It works on the
    engine of the latest such commit (never building one of its own from the settings)."""

    def __init__(self) -> None:
        self._wake = threading.Event()
        self._guard = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self.engine: Engine | None = None

    def nudge(self, engine: Engine) -> None:
        self.engine = engine
        if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
            with self._guard:
                if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
                    self._wake = threading.Event()
                    self._pid = os.getpid()
                    self._thread = threading.Thread(target=self._run, name="portal-audit-chainer", daemon=True)
                    self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        last_sweep = time.monotonic()
        while True:
            woken = self._wake.wait(SWEEP_EVERY)
            self._wake.clear()
            if woken:
                time.sleep(GATHER)
            elif time.monotonic() - last_sweep < SWEEP_EVERY:
                continue
            last_sweep = time.monotonic()
            if self.engine is None:
                continue
            try:
                chain_pending(self.engine)
            except Exception:  # noqa: BLE001 - the events stay queued; the next chainer takes them
                log.exception("audit: chaining queued read events failed (they stay queued)")
                time.sleep(1.0)


_chainer = _Chainer()


# ------------------------------------------------------------------ hooks


def note_lock_held(session: Session) -> None:
    """The session's transaction took the chain lock (it holds it until it commits or rolls back)."""
    if not session.info.get(_HOLDS):
        session.info[_HOLDS] = True
        _local.held += 1


def _released(session: OrmSession) -> None:
    if session.info.pop(_HOLDS, False):
        _local.held = max(0, _local.held - 1)


def _after_commit(session: OrmSession) -> None:
    global _queued_gen
    _released(session)
    engine = session.info.pop(_QUEUED, None)
    if engine is not None:
        _queued_gen = next(_generation)
        _chainer.nudge(engine)


def _after_rollback(session: OrmSession) -> None:
    _released(session)
    session.info.pop(_QUEUED, None)  # the queued rows were rolled back with the read
    session.info.pop(_BATCH, None)


def _reads_audit_events(statement: Any) -> bool:
    """Does this statement read the trail? An ORM select of AuditEvent (its plugin subject, a dict
    lookup: this runs before every statement while events wait) or SQL text naming audit_event."""
    attrs = getattr(statement, "_propagate_attrs", None)
    if attrs:
        subject = attrs.get("plugin_subject")
        return subject is not None and getattr(subject, "class_", None) is _audit_event_class()
    if isinstance(statement, TextClause):
        return bool(_AUDIT_EVENT_SQL.search(statement.text))
    return False


def _audit_event_class() -> type:
    global _AUDIT_EVENT
    if _AUDIT_EVENT is None:
        from patient_portal.core.audit import AuditEvent

        _AUDIT_EVENT = AuditEvent
    return _AUDIT_EVENT


_AUDIT_EVENT: type | None = None


def _before_execute(conn: Connection, statement: Any, *_args: Any) -> None:
    """Before this process reads the trail, the events it queued are chained (module doc, 3)."""
    if waiting() and not _local.chaining and not _local.held and _reads_audit_events(statement):
        chain_pending(conn.engine)


sa_event.listen(OrmSession, "before_commit", _write_batch)
sa_event.listen(OrmSession, "after_commit", _after_commit)
sa_event.listen(OrmSession, "after_rollback", _after_rollback)
sa_event.listen(Engine, "before_execute", _before_execute)
sa_event.listen(Engine, "engine_disposed", _engine_disposed)
