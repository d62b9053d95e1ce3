"""Make a patient's child rows (policies, contacts) equal a list of form rows, keeping row ids."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlmodel import Session, SQLModel, select


def replace_rows(session: Session, model: type[SQLModel], patient_id: uuid.UUID, rows: list[dict],
                 clean: Callable[[dict], dict[str, Any]]) -> None:
    """Update rows whose id matches, add rows without one, delete the patient's rows not listed."""
    existing = {str(r.id): r for r in session.exec(select(model).where(model.patient_id == patient_id)).all()}
    keep: set[str] = set()
    for values in rows:
        row = existing.get(str(values.get("id") or ""))
        if row is None:
            row = model(patient_id=patient_id, **clean(values))
        else:
            keep.add(str(row.id))
            for name, value in clean(values).items():
                setattr(row, name, value)
        session.add(row)
    for key, row in existing.items():
        if key not in keep:
            session.delete(row)
    session.flush()
