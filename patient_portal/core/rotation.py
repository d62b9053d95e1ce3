"""Key rotation: re-encrypt every encrypted column still under an old key, in small batches.

Put the new key first in PORTAL_MASTER_KEYS (keep the old ones after it), restart, then run
`portal rotate-keys`. It runs while the app serves: each batch is its own short transaction, and a
row is only rewritten when one of its ciphertexts names a key other than the active one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import attributes

from patient_portal.core import crypto
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
