"""Append-only, keyed, hash-chained audit trail of every access to patient data.

* **Chain.** Each event stores ``prev_hash`` (the previous event's ``hash``) and ``hash`` = SHA-256
  of (prev_hash + its canonical form), so each hash commits to the whole history before it.
* **Key.** Each event also stores ``mac`` = HMAC-SHA256 of (key id + hash) under the key ring's
  "audit" MAC key ``key_id`` (``KeyRing.mac_key``). Whoever can write to the database can recompute
  SHA-256, but not a MAC: an appended, edited or fully recomputed event fails its MAC. The MAC covers
  the chain hash instead of being the link, so rotating keys re-MACs each row on its own
  (``core.rotation.remac_audit_chain``): no re-linking, appenders and verifiers carry on meanwhile,
  and an interrupted rotation just resumes. An event without a key id is refused: rows written
  before keying were MACed once by migration 0003, after it checked their SHA-256 chain.
* **Length.** That the newest events were deleted no chain can show by itself: signed checkpoints
  kept outside the database (``core.audit_checkpoint``) do, and ``verify_chain`` checks them too.

Events hold ids and field names, never PHI values. An audit write that fails fails the operation
that asked for it (same transaction).

* **Reads skip the lock (PostgreSQL).** The events of use cases that only read (``is_read_action``:
  a chart, a search, a document list or preview) are written to ``audit_event_pending`` in the read's own
  transaction without taking the chain lock, and chained right after that transaction commits, in
  order, by one chainer at a time (``core.audit_queue``). ``walk_chain`` chains what is pending
  first, so verification sees every event chained. On SQLite every unit of work already holds the
  database's one write lock, so events are chained in place there.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, text
from sqlmodel import Field, Session, SQLModel, select

from patient_portal.core import audit_queue
from patient_portal.core.access import Actor, decision_for
from patient_portal.core.crypto import DecryptionError, KeyRing, get_keyring
from patient_portal.core.db import READ_FIRST, new_id, unit_of_work, utcnow

GENESIS = "0" * 64
MAC_PURPOSE = "audit"
#: The action of the event a checkpoint writer appends once a checkpoint is stored (detail: its seq
#: and object key), so the chain itself says which checkpoint must exist.
CHECKPOINT_ACTION = "audit.checkpoint"
#: verify_chain lists at most this many problems (the first is the one that matters most).
MAX_PROBLEMS = 10


class AuditEvent(SQLModel, table=True):
    """One audited action."""

    __tablename__ = "audit_event"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    seq: int = Field(sa_column=Column(BigInteger, unique=True, nullable=False, index=True))
    at: datetime = Field(default_factory=utcnow, nullable=False, index=True)
    actor_id: uuid.UUID | None = Field(default=None, index=True)
    role: str | None = None
    action: str = Field(index=True)
    patient_id: uuid.UUID | None = Field(default=None, index=True)
    object_type: str | None = None
    object_id: str | None = None
    outcome: str = "success"
    ip: str | None = None
    session_id: uuid.UUID | None = None
    purpose: str | None = None  # why: treatment, payment, operations, patient_request, emergency …
    basis: str | None = Field(default=None, max_length=32)  # on what: role, care_team, self, emergency_grant …
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)
    key_id: str | None = Field(default=None, max_length=64)  # None only on rows a legacy re-chain refused
    mac: str | None = Field(default=None, max_length=64)


class PendingAuditEvent(SQLModel, table=True):
    """A read's event, committed with the read, waiting to be chained (PostgreSQL; core.audit_queue).

    The same fields as AuditEvent without seq and hashes; ``mac`` is an HMAC under the audit key over
    its id and content, so a row written by someone without the keys is never chained."""

    __tablename__ = "audit_event_pending"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)  # the chained event's id
    at: datetime = Field(default_factory=utcnow, nullable=False, index=True)
    actor_id: uuid.UUID | None = None
    role: str | None = None
    action: str
    patient_id: uuid.UUID | None = None
    object_type: str | None = None
    object_id: str | None = None
    outcome: str = "success"
    ip: str | None = None
    session_id: uuid.UUID | None = None
    purpose: str | None = None
    basis: str | None = Field(default=None, max_length=32)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    key_id: str = Field(max_length=64)
    mac: str = Field(max_length=64)


#: Actions of use cases that only read (besides names ending in one of READ_SUFFIXES).
READ_ACTIONS = frozenset({"document.preview", "document.download"})
READ_SUFFIXES = (".read", ".list", ".search")


def is_read_action(action: str) -> bool:
    """Is this the event of a use case that only reads? (Its event may skip the chain lock.)"""
    return action != CHECKPOINT_ACTION and (action.endswith(READ_SUFFIXES) or action in READ_ACTIONS)


_CHAINED = ("seq", "at", "actor_id", "role", "action", "patient_id", "object_type", "object_id",
            "outcome", "ip", "session_id", "purpose", "detail")


def _canon_value(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(timespec="microseconds")
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


#: Chained when set: added after events were first written, so an event without one hashes as before.
_CHAINED_WHEN_SET = ("basis",)


def canonical_values(values: Mapping[str, Any]) -> bytes:
    """Canonical JSON bytes of an event's chained fields, given as a mapping (a row, a dict)."""
    data = {name: _canon_value(values.get(name)) for name in _CHAINED}
    data.update({name: values[name] for name in _CHAINED_WHEN_SET if values.get(name) is not None})
    return json.dumps(data, sort_keys=True, separators=(",", ":"), default=str).encode()


def canonical(event: AuditEvent) -> bytes:
    """The event's chained fields as canonical JSON bytes."""
    return canonical_values({name: getattr(event, name) for name in (*_CHAINED, *_CHAINED_WHEN_SET)})


def chain_hash(prev_hash: str, event: AuditEvent) -> str:
    """The (unkeyed) link: SHA-256 of the previous hash and this event's canonical form."""
    return hashlib.sha256(prev_hash.encode() + canonical(event)).hexdigest()


def chain_hash_values(prev_hash: str, values: Mapping[str, Any]) -> str:
    """chain_hash of an event given as a mapping."""
    return hashlib.sha256(prev_hash.encode() + canonical_values(values)).hexdigest()


def event_mac(key_id: str, chain_hash_hex: str, ring: KeyRing | None = None) -> str:
    """HMAC-SHA256 of (key id, chain hash) under the ring's audit MAC key `key_id`.

    Raises DecryptionError when the ring does not hold `key_id`."""
    key = (ring or get_keyring()).mac_key(key_id, MAC_PURPOSE)
    return hmac.new(key, key_id.encode() + b"|" + chain_hash_hex.encode(), hashlib.sha256).hexdigest()


def mac_ok(event: AuditEvent, ring: KeyRing | None = None) -> bool:
    """Does the event's MAC verify under its own key id? (False for an unknown id or none.)"""
    if not event.key_id or not event.mac:
        return False
    try:
        expected = event_mac(event.key_id, event.hash, ring)
    except DecryptionError:
        return False
    return hmac.compare_digest(expected, event.mac)


#: The PostgreSQL advisory lock that serializes appenders (held to the end of the transaction).
CHAIN_LOCK = 7151
_EVENTS = AuditEvent.__table__  # type: ignore[attr-defined]
_HEAD = select(_EVENTS.c.seq, _EVENTS.c.hash).order_by(_EVENTS.c.seq.desc()).limit(1)
_INSERT = _EVENTS.insert()


def _lock_chain(session: Session) -> None:
    """Serialize appenders: PostgreSQL advisory lock; SQLite already holds its write lock."""
    if session.get_bind().dialect.name == "postgresql":
        session.exec(text(f"SELECT pg_advisory_xact_lock({CHAIN_LOCK})"))
        audit_queue.note_lock_held(session)


def record(
    session: Session,
    actor: Actor | None,
    action: str,
    *,
    patient_id: uuid.UUID | None = None,
    object_type: str | None = None,
    object_id: Any = None,
    outcome: str = "success",
    purpose: str | None = None,
    detail: dict[str, Any] | None = None,
    ip: str | None = None,
    basis: str | None = None,
    reading: bool | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction, MACed under the active key (on PostgreSQL a
    read's event is queued in the transaction instead and chained right after it commits; its seq
    and hashes are then not set on the returned event). `reading`: whether the use case only read,
    when its action's name cannot say (``fhir.request`` names reads and writes alike); None: the
    name says (``is_read_action``).

    Purpose and basis, unless given, come from the policy decision this unit of work took about the
    patient (``core.access.require`` keeps it on the session), so every allowed access says why."""
    ring = get_keyring()
    values = _values(session, actor, action, ring, patient_id=patient_id, object_type=object_type,
                     object_id=object_id, outcome=outcome, purpose=purpose, detail=detail, ip=ip, basis=basis)
    if session.new or session.dirty or session.deleted:
        session.flush()  # the use case's own changes reach the database before its event, as ever
    reading = is_read_action(values["action"]) if reading is None else reading and values["action"] != CHECKPOINT_ACTION
    waiting = session.info.get(READ_FIRST)
    if waiting is not None and reading:
        waiting.append(values)  # SQLite read-first unit: chained in a group before it returns (core.db.transact)
        return AuditEvent(**values, prev_hash="", hash="")
    queue = audit_queue.defers(session)
    if queue and reading:
        audit_queue.enqueue(session, values, ring)  # no lock; chained right after this transaction commits
        return AuditEvent(**values, prev_hash="", hash="")
    _lock_chain(session)
    if queue:
        audit_queue.chain_locked(session, ring)  # reads queued before this event go first
    return AuditEvent(**append_chained(session, values, ring))


def _values(session: Session, actor: Actor | None, action: str, ring: KeyRing, *, patient_id: uuid.UUID | None = None,
            object_type: str | None = None, object_id: Any = None, outcome: str = "success",
            purpose: str | None = None, detail: dict[str, Any] | None = None, ip: str | None = None,
            basis: str | None = None) -> dict[str, Any]:
    """One event's columns before it is chained (``record``'s arguments; purpose and basis from the
    policy decision this unit took about the patient unless given)."""
    decision = decision_for(session, patient_id) if outcome != "denied" else None
    if decision is not None:
        purpose = purpose or (str(decision.purpose) if decision.purpose else None)
        basis = basis or (str(decision.basis) if decision.basis else None)
    return {
        "id": new_id(),
        "at": utcnow(),
        "actor_id": actor.user_id if actor else None,
        "role": str(actor.role) if actor else None,
        "action": str(action),
        "patient_id": patient_id,
        "object_type": object_type,
        "object_id": str(object_id) if object_id is not None else None,
        "outcome": outcome,
        "ip": ip if ip is not None else (actor.ip if actor else None),
        "session_id": actor.session_id if actor else None,
        "purpose": purpose,
        "basis": basis,
        "detail": detail or {},
        "key_id": ring.active_kid,
    }


def record_each(session: Session, actor: Actor | None, action: str, events: list[dict[str, Any]]) -> None:
    """``record`` for many events of one write use case at once (a billing run: one event per
    patient whose claims it built, sent or posted): the same events, in order, chained under one
    lock with one read of the chain's head and one multi-row INSERT instead of two statements each.
    Each item of `events` holds ``record``'s keyword arguments (patient_id, object_type, object_id,
    detail …). A read's events go through ``record`` one by one (they may be queued instead)."""
    if not events:
        return
    if is_read_action(str(action)):
        for kwargs in events:
            record(session, actor, action, **kwargs)
        return
    ring = get_keyring()
    rows = [_values(session, actor, action, ring, **kwargs) for kwargs in events]
    if session.new or session.dirty or session.deleted:
        session.flush()
    _lock_chain(session)
    if audit_queue.defers(session):
        audit_queue.chain_locked(session, ring)
    conn = session.connection()
    last = conn.execute(_HEAD).first()
    seq, prev = (last.seq, last.hash) if last else (0, GENESIS)
    for values in rows:
        seq += 1
        values["seq"], values["prev_hash"] = seq, prev
        values["hash"] = prev = chain_hash_values(prev, values)
        values["mac"] = event_mac(values["key_id"], values["hash"], ring)
    conn.execute(_INSERT, rows)


def append_chained(session: Session, values: dict[str, Any], ring: KeyRing) -> dict[str, Any]:
    """Chain one event (``record``'s values) at the head, in a transaction that holds the chain lock.
    Core statements (this runs on every audited action): the head's two chained values, one INSERT."""
    conn = session.connection()
    last = conn.execute(_HEAD).first()
    values["seq"] = (last.seq + 1) if last else 1
    values["prev_hash"] = last.hash if last else GENESIS
    values["hash"] = chain_hash_values(values["prev_hash"], values)
    values["mac"] = event_mac(values["key_id"], values["hash"], ring)
    conn.execute(_INSERT, values)
    return values


def record_now(actor: Actor | None, action: str, **kwargs: Any) -> None:
    """Append one event in its own transaction (refusals, sign-in failures)."""
    with unit_of_work() as session:
        record(session, actor, action, **kwargs)


# ---------------------------------------------------------------- verification


@dataclass
class Walk:
    """What walking (part of) the chain found."""

    checked: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)
    head_seq: int = 0
    head_hash: str = GENESIS
    key_ids: set[str] = field(default_factory=set)
    #: the newest checkpoint the chain says was stored: (seq it covers, object key)
    attested: tuple[int, str] | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def problem(self, seq: int, message: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append((seq, message))


def walk_chain(session: Session, *, after_seq: int = 0, after_hash: str = GENESIS, batch: int = 5000,
               ring: KeyRing | None = None) -> Walk:
    """Check every event after `after_seq` (whose hash is `after_hash`) in order: numbering, link,
    content hash, key id and MAC. Goes on after a problem (up to MAX_PROBLEMS) without repeating it
    for each later event, so an investigator sees every suspicious event, not just the first.

    Read events still queued (PostgreSQL, see core.audit_queue) are chained first, in a transaction of
    their own, so the walk sees them in the chain."""
    ring = ring or get_keyring()
    if audit_queue.defers(session):
        audit_queue.chain_pending(session.get_bind())
    walk = Walk(head_seq=after_seq, head_hash=after_hash)
    known_kids = set(ring.key_ids)
    prev_hash, expected_seq, last_seq = after_hash, after_seq + 1, after_seq
    while True:
        rows = session.exec(
            select(AuditEvent).where(AuditEvent.seq > last_seq).order_by(AuditEvent.seq).limit(batch)
        ).all()
        if not rows:
            return walk
        for event in rows:
            linked = True
            if event.seq != expected_seq:
                gap = (f"event {expected_seq} is missing" if event.seq == expected_seq + 1
                       else f"events {expected_seq}-{event.seq - 1} are missing")
                walk.problem(expected_seq, gap + " (removed)")
            elif event.prev_hash != prev_hash:
                walk.problem(event.seq, f"event {event.seq} does not follow event {event.seq - 1} "
                             "(inserted or reordered)")
                linked = False
            if not linked:
                pass  # one message per event
            elif chain_hash(event.prev_hash, event) != event.hash:
                walk.problem(event.seq, f"event {event.seq} was altered")
            elif not event.key_id or not event.mac:
                walk.problem(event.seq, f"event {event.seq} has no key id or MAC (unkeyed events are refused)")
            elif event.key_id not in known_kids:
                walk.problem(event.seq, f"event {event.seq} is MACed under key {event.key_id!r}, which is "
                             "not in the key ring")
            elif not mac_ok(event, ring):
                walk.problem(event.seq, f"event {event.seq} has a bad MAC (forged, or recomputed without "
                             "the audit key)")
            else:
                walk.key_ids.add(event.key_id)
                if event.action == CHECKPOINT_ACTION:
                    seq, key = event.detail.get("seq"), event.detail.get("key")
                    if isinstance(seq, int) and isinstance(key, str):
                        walk.attested = (seq, key)
            prev_hash, expected_seq, last_seq = event.hash, event.seq + 1, event.seq
            walk.head_seq, walk.head_hash = event.seq, event.hash
            walk.checked += 1
        session.expunge_all()


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    problem: str = ""
    seq: int | None = None
    #: every problem found, first one first (``problem``/``seq`` repeat the first)
    problems: tuple[str, ...] = ()
    head_seq: int = 0
    #: the checkpoint the chain was held against (None: none stored yet)
    checkpoint_seq: int | None = None
    checkpoint_at: str = ""
    checkpoint_key_id: str = ""
    #: events appended after that checkpoint (a deletion among them could not be proven yet)
    uncovered: int = 0
    key_ids: tuple[str, ...] = ()
    #: read events still waiting to be chained (PostgreSQL; see core.audit_queue)
    pending: int = 0


def verify_chain(session: Session, batch: int = 5000, *, checkpoints: bool = True) -> ChainReport:
    """Walk the keyed chain, then hold it against the latest signed checkpoint in the blob store.

    Not ok when an event was altered, inserted, removed, forged or left unkeyed; when the chain is
    shorter than a checkpoint or differs from it at the checkpoint's event (newest events deleted,
    chain rewritten); when a checkpoint has a bad signature; or when the checkpoint the chain records
    is not in the store (store missing, emptied, or another one configured)."""
    verifier = None
    if checkpoints:
        from patient_portal.core import audit_checkpoint  # it builds on this module

        verifier = audit_checkpoint.Verifier()  # before the walk: see Verifier
    walk = walk_chain(session, batch=batch)
    problems = list(walk.problems)
    pending = 0
    if audit_queue.defers(session):
        pending = audit_queue.pending_count(session)
        problems += [(None, message) for message in audit_queue.pending_problems(session)]
    cp = None
    if verifier is not None:
        cp, cp_problems = verifier.check(session, walk)
        problems += cp_problems
    return ChainReport(
        ok=not problems, checked=walk.checked,
        problem=problems[0][1] if problems else "", seq=problems[0][0] if problems else None,
        problems=tuple(message for _seq, message in problems), head_seq=walk.head_seq,
        checkpoint_seq=cp.seq if cp else None, checkpoint_at=cp.at if cp else "",
        checkpoint_key_id=cp.key_id if cp else "",
        uncovered=max(0, walk.head_seq - cp.seq) if cp else walk.head_seq,
        key_ids=tuple(sorted(walk.key_ids)),
        pending=pending,
    )
