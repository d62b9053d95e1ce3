"""Form values <-> emergency contacts, without policy: callers authorize and audit."""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import Session, select

from patient_portal.domain.emergency.models import CONTACT_FIELDS, EmergencyContact
from patient_portal.domain.patients.rowsync import replace_rows
from patient_portal.domain.patients.validation import display_phone, normalize_email, normalize_phone

ORDER_RANK = {"primary": 0, "secondary": 1}


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in CONTACT_FIELDS:
        raw = values.get(name)
        text = raw.strip() if isinstance(raw, str) else raw
        out[name] = None if text in ("", None) else text
    for name in ("phone", "alt_phone"):
        if out[name]:
            out[name] = normalize_phone(out[name]) or out[name]
    if out["email"]:
        out["email"] = normalize_email(out["email"]) or out["email"]
    return out


def to_dict(row: EmergencyContact) -> dict[str, str]:
    out = {name: getattr(row, name) or "" for name in CONTACT_FIELDS}
    for name in ("phone", "alt_phone"):
        out[name] = display_phone(out[name])
    out["id"] = str(row.id)
    return out


def for_patient(session: Session, patient_id: uuid.UUID) -> list[dict[str, str]]:
    rows = session.exec(select(EmergencyContact).where(EmergencyContact.patient_id == patient_id)).all()
    return [to_dict(r) for r in sorted(rows, key=lambda r: ORDER_RANK.get(r.order, 9))]


def replace(session: Session, patient_id: uuid.UUID, rows: list[dict]) -> None:
    """Make the patient's rows equal `rows` (update by id, add new, remove missing)."""
    replace_rows(session, EmergencyContact, patient_id, rows, _clean)
