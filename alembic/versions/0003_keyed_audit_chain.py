"""keyed audit chain: audit_event.key_id and .mac, and the legacy rows MACed once

Revision ID: 0003
Revises: 0002

Until now the chain was plain SHA-256, which anyone with write access to the database can
recompute. From here every event also carries an HMAC of its chain hash under a key-ring key
(``core.audit``), and verify refuses an event without one. Rows written before this revision are
keyed here, once, through the app's key ring (the active key): the migration first walks their
SHA-256 chain exactly as the old ``portal audit verify`` did, and MACs only the unbroken run from
event 1. If the old chain was already broken, the rows from the break on stay unkeyed, so
``portal audit verify`` keeps naming them instead of this migration blessing them. Nothing is
keyed when the table is empty (a fresh install never needs the key ring here).

The canonical form and the MAC are copied below on purpose (a migration must not change when the
app's code does later); tests/integration/test_audit_chain.py proves they match ``core.audit``.
Downgrading drops the two columns (the chain falls back to unkeyed SHA-256).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import uuid
from datetime import UTC, datetime
from typing import Any, Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0003'
down_revision: Union[str, None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

log = logging.getLogger("alembic.runtime.migration")

GENESIS = "0" * 64
BATCH = 2000
_CHAINED = ("seq", "at", "actor_id", "role", "action", "patient_id", "object_type", "object_id",
            "outcome", "ip", "session_id", "purpose", "detail")

_events = sa.table(
    "audit_event",
    sa.column("id", sa.Uuid()), sa.column("seq", sa.BigInteger()),
    sa.column("at", sqlmodel.sql.sqltypes.UTCDateTime()), sa.column("actor_id", sa.Uuid()),
    sa.column("role", sa.String()), sa.column("action", sa.String()), sa.column("patient_id", sa.Uuid()),
    sa.column("object_type", sa.String()), sa.column("object_id", sa.String()),
    sa.column("outcome", sa.String()), sa.column("ip", sa.String()), sa.column("session_id", sa.Uuid()),
    sa.column("purpose", sa.String()), sa.column("detail", sa.JSON()),
    sa.column("prev_hash", sa.String()), sa.column("hash", sa.String()),
    sa.column("key_id", sa.String()), sa.column("mac", sa.String()),
)


def _canon_value(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(timespec="microseconds")
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _sha256_link(row: Any) -> str:
    data = {name: _canon_value(row[name]) for name in _CHAINED}
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.sha256(row["prev_hash"].encode() + canonical).hexdigest()


def _mac(key: bytes, key_id: str, chain_hash: str) -> str:
    return hmac.new(key, key_id.encode() + b"|" + chain_hash.encode(), hashlib.sha256).hexdigest()


def rechain_legacy(conn: sa.Connection) -> tuple[int, int | None]:
    """MAC the unbroken run of unkeyed events from event 1; returns (keyed, seq of the first break)."""
    t = _events
    if conn.execute(sa.select(t.c.seq).where(t.c.key_id.is_(None)).limit(1)).first() is None:
        return 0, None
    from patient_portal.core.crypto import get_keyring

    ring = get_keyring()
    kid = ring.active_kid
    key = ring.mac_key(kid, "audit")
    update = (t.update().where(t.c.id == sa.bindparam("b_id"))
              .values(key_id=sa.bindparam("b_key_id"), mac=sa.bindparam("b_mac")))
    prev_hash, expected, keyed = GENESIS, 1, 0
    while True:
        rows = conn.execute(sa.select(t).where(t.c.seq >= expected).order_by(t.c.seq).limit(BATCH)).mappings().all()
        if not rows:
            return keyed, None
        batch = []
        for row in rows:
            if row["seq"] != expected or row["prev_hash"] != prev_hash or _sha256_link(row) != row["hash"]:
                if batch:
                    conn.execute(update, batch)
                return keyed + len(batch), expected
            if row["key_id"] is None:
                batch.append({"b_id": row["id"], "b_key_id": kid, "b_mac": _mac(key, kid, row["hash"])})
            prev_hash, expected = row["hash"], expected + 1
        if batch:
            conn.execute(update, batch)
        keyed += len(batch)


def upgrade() -> None:
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('mac', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    keyed, broken_at = rechain_legacy(op.get_bind())
    if keyed:
        log.info("audit chain: %d existing events MACed under the active key", keyed)
    if broken_at is not None:
        log.warning("audit chain: the unkeyed chain is broken at event %d; it and later unkeyed events "
                    "stay unkeyed and `portal audit verify` reports them", broken_at)


def downgrade() -> None:
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_column('mac')
        batch_op.drop_column('key_id')
