"""Key rotation: re-encrypt every encrypted column still under an old key, in small batches.

Put the new key first in PORTAL_MASTER_KEYS (keep the old ones after it), restart, then run
`portal rotate-keys`. It runs while the app serves: each batch is its own short transaction, and a
row is only rewritten when one of its ciphertexts names a key other than the active one.
The audit chain is re-MACed the same way (``remac_audit_chain``), so the old key can then go.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import attributes

from patient_portal.core import audit, crypto
from patient_portal.core.db import unit_of_work


@dataclass
class RotationReport:
    table: str
    rewritten: int


def _encrypted_models() -> Iterator[type]:
    """Every mapped model with an encrypted column (callers import patient_portal.models first)."""
    from sqlmodel import SQLModel

    for mapper in SQLModel._sa_registry.mappers:
        if crypto._encrypted_columns(mapper):
            yield mapper.class_


def rotate(batch: int = 200) -> list[RotationReport]:
    """Re-encrypt rows under the active key; returns how many rows each table needed."""
    active_prefix = f"{crypto.FORMAT}.{crypto.get_keyring().active_kid}."
    reports = []
    for model in _encrypted_models():
        mapper = model.__mapper__
        keys = [key for key, _kind in crypto._encrypted_columns(mapper)]
        table = mapper.local_table
        stale = or_(*[(table.c[k].is_not(None)) & (~table.c[k].startswith(active_prefix)) for k in keys])
        rewritten = 0
        while True:
            with unit_of_work() as session:
                ids = session.execute(select(table.c.id).where(stale).limit(batch)).scalars().all()
                if not ids:
                    break
                for row in session.execute(select(model).where(table.c.id.in_(ids))).scalars():
                    for key in keys:
                        if getattr(row, key) is not None:
                            attributes.flag_modified(row, key)
                rewritten += len(ids)
        reports.append(RotationReport(table.name, rewritten))
    return reports


@dataclass
class AuditRemacReport:
    remaced: int
    #: seqs of events left as they were because they did not verify (tampered, or under an unknown
    #: key): re-MACing them would launder them; `portal audit verify` names them
    refused: list[int]


def remac_audit_chain(batch: int = 500) -> AuditRemacReport:
    """Re-MAC every audit event under a key other than the active one, in short batches.

    Each event's MAC covers its chain hash, which no key changes, so rows are re-MACed one by one:
    no re-linking, no chain lock, and appenders and `portal audit verify` run meanwhile (each row
    verifies under its own key id at every moment). An event is only re-MACed after its content
    hash and its MAC under its old key verify. Legacy rows without a key id were MACed once by
    migration 0003; the ones it refused stay refused here too.
    """
    ring = crypto.get_keyring()
    active = ring.active_kid
    ev = audit.AuditEvent
    remaced, refused, cursor = 0, [], 0
    while True:
        with unit_of_work() as session:
            rows = session.execute(
                select(ev).where(ev.seq > cursor, or_(ev.key_id.is_(None), ev.key_id != active))
                .order_by(ev.seq).limit(batch)
            ).scalars().all()
            if not rows:
                break
            for event in rows:
                cursor = event.seq
                if audit.chain_hash(event.prev_hash, event) != event.hash or not audit.mac_ok(event, ring):
                    refused.append(event.seq)
                    continue
                event.key_id, event.mac = active, audit.event_mac(active, event.hash, ring)
                session.add(event)
                remaced += 1
    return AuditRemacReport(remaced, refused)
