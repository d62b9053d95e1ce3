"""Append-only, hash-chained audit trail of every access to patient data.

Each event stores the previous event's hash and the SHA-256 of (previous hash + its own canonical
form). ``verify_chain`` walks the chain and names the first altered, inserted or removed event.
Events hold ids and field names, never PHI values. An audit write that fails fails the operation
that asked for it (same transaction).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, text
from sqlmodel import Field, Session, SQLModel, select

from patient_portal.core.access import Actor
from patient_portal.core.db import new_id, unit_of_work, utcnow

GENESIS = "0" * 64


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
    purpose: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


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


def canonical(event: AuditEvent) -> bytes:
    """The event's chained fields as canonical JSON bytes."""
    data = {name: _canon_value(getattr(event, name)) for name in _CHAINED}
    return json.dumps(data, sort_keys=True, separators=(",", ":"), default=str).encode()


def chain_hash(prev_hash: str, event: AuditEvent) -> str:
    return hashlib.sha256(prev_hash.encode() + canonical(event)).hexdigest()


def _lock_chain(session: Session) -> None:
    """Serialize appenders: PostgreSQL advisory lock; SQLite already holds its write lock."""
    if session.get_bind().dialect.name == "postgresql":
        session.exec(text("SELECT pg_advisory_xact_lock(7151)"))


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
) -> AuditEvent:
    """Append one event in the caller's transaction."""
    _lock_chain(session)
    # only the head's two chained values, not a whole entity (this runs on every audited action)
    last = session.exec(select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)).first()
    event = AuditEvent(
        seq=(last.seq + 1) if last else 1,
        at=utcnow(),
        actor_id=actor.user_id if actor else None,
        role=str(actor.role) if actor else None,
        action=str(action),
        patient_id=patient_id,
        object_type=object_type,
        object_id=str(object_id) if object_id is not None else None,
        outcome=outcome,
        ip=ip if ip is not None else (actor.ip if actor else None),
        session_id=actor.session_id if actor else None,
        purpose=purpose,
        detail=detail or {},
        prev_hash=last.hash if last else GENESIS,
        hash="",
    )
    event.hash = chain_hash(event.prev_hash, event)
    session.add(event)
    session.flush()
    return event


def record_now(actor: Actor | None, action: str, **kwargs: Any) -> None:
    """Append one event in its own transaction (refusals, sign-in failures)."""
    with unit_of_work() as session:
        record(session, actor, action, **kwargs)


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    problem: str = ""
    seq: int | None = None


def verify_chain(session: Session, batch: int = 5000) -> ChainReport:
    """Walk the chain in order; report the first event that was altered, inserted or removed."""
    prev_hash = GENESIS
    expected_seq = 1
    checked = 0
    last_seq = 0
    while True:
        rows = session.exec(
            select(AuditEvent).where(AuditEvent.seq > last_seq).order_by(AuditEvent.seq).limit(batch)
        ).all()
        if not rows:
            return ChainReport(ok=True, checked=checked)
        for event in rows:
            if event.seq != expected_seq:
                return ChainReport(False, checked, f"event {expected_seq} is missing (removed)", expected_seq)
            if event.prev_hash != prev_hash:
                return ChainReport(False, checked, f"event {event.seq} does not follow event {event.seq - 1} "
                                   "(inserted or reordered)", event.seq)
            if chain_hash(prev_hash, event) != event.hash:
                return ChainReport(False, checked, f"event {event.seq} was altered", event.seq)
            prev_hash = event.hash
            expected_seq += 1
            checked += 1
            last_seq = event.seq
        session.expunge_all()
