"""Form values <-> history rows, without policy: callers authorize and audit."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import bindparam
from sqlmodel import Session, select

from patient_portal.core.crypto import decrypted_rows
from patient_portal.domain.history.models import KINDS, VERIFIED, HistoryRow

DATE_FIELDS = {"onset", "given_on", "start_date", "stop_date"}
#: Columns that may not be empty, with what a blank form value stands for.
DEFAULTS: dict[str, dict[str, str]] = {
    "allergies": {"severity": "unknown", "status": "active", "verification": VERIFIED},
    "conditions": {"status": "active"},
    "medications": {"status": "active", "verification": VERIFIED},
}


def clean(kind: str, values: dict[str, Any]) -> dict[str, Any]:
    """Typed column values for `kind` from form strings (blank -> None, dates parsed)."""
    _model, fields = KINDS[kind]
    out: dict[str, Any] = {}
    for name in fields:
        raw = values.get(name)
        text = raw.strip() if isinstance(raw, str) else raw
        if text in ("", None):
            out[name] = None
        elif name in DATE_FIELDS and not isinstance(text, date):
            out[name] = date.fromisoformat(text)
        else:
            out[name] = text
    for name, default in DEFAULTS.get(kind, {}).items():
        if out.get(name) is None:
            out[name] = default
    return out


def to_dict(kind: str, row: HistoryRow) -> dict[str, str]:
    """A row as form strings plus its id and version."""
    _model, fields = KINDS[kind]
    out = {name: _text(getattr(row, name)) for name in fields}
    out.update(id=str(row.id), version=str(row.version), kind=kind)
    return out


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def add(session: Session, patient_id: uuid.UUID, kind: str, values: dict, *, recorded_by: uuid.UUID | None,
        source: str) -> HistoryRow:
    model, _fields = KINDS[kind]
    row = model(patient_id=patient_id, recorded_by=recorded_by, source=source, **clean(kind, values))
    session.add(row)
    return row


def for_patient(session: Session, patient_id: uuid.UUID, kinds: Any = None) -> dict[str, list[dict[str, str]]]:
    """Every history row of a patient, grouped by kind, oldest first: what ``to_dict`` gives for each,
    one statement per kind (only `kinds`, when given). Reads columns, not models: a ten-year record
    holds hundreds of rows, and building ORM state for each cost more than decrypting them
    (``bench/chart.py``)."""
    out: dict[str, list[dict[str, str]]] = {}
    conn = session.connection()
    for kind, (model, fields) in KINDS.items():
        if kinds is not None and kind not in kinds:
            continue
        columns = (*fields, "version")
        found = decrypted_rows(conn.execute(_kind_statement(kind), {"patient_id": patient_id}), model.__table__, columns)
        out[kind] = [{**{f: _text(row[f]) for f in fields}, "id": str(row["id"]), "version": str(row["version"]),
                      "kind": kind} for row in found]
    return out


_BY_KIND: dict[str, Any] = {}


def _kind_statement(kind: str) -> Any:
    """``for_patient``'s statement for one kind (id, the fields, version; oldest first), built once
    with the patient as a bound parameter: composing five selects on every chart opened cost more
    CPU than their round trips."""
    if kind not in _BY_KIND:
        model, fields = KINDS[kind]
        c = model.__table__.c  # type: ignore[attr-defined]
        _BY_KIND[kind] = (select(c.id, *[c[f] for f in (*fields, "version")])
                          .where(c.patient_id == bindparam("patient_id")).order_by(c.created_at))
    return _BY_KIND[kind]


def of_kind(session: Session, patient_id: uuid.UUID, kind: str) -> list[HistoryRow]:
    """The patient's rows of one kind, oldest first."""
    model, _fields = KINDS[kind]
    return list(session.exec(select(model).where(model.patient_id == patient_id).order_by(model.created_at)).all())
