"""Form values <-> insurance policies, without policy: callers authorize and audit."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlmodel import Session, select

from patient_portal.domain.insurance.models import ORDER_RANK, POLICY_FIELDS, InsurancePolicy
from patient_portal.domain.patients.rowsync import replace_rows


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in POLICY_FIELDS:
        raw = values.get(name)
        text = raw.strip() if isinstance(raw, str) else raw
        if text in ("", None):
            out[name] = None
        elif name.endswith("_date") and not isinstance(text, date):
            out[name] = date.fromisoformat(text)
        else:
            out[name] = text
    return out


def to_dict(row: InsurancePolicy) -> dict[str, str]:
    out = {name: "" if getattr(row, name) is None else str(getattr(row, name)) for name in POLICY_FIELDS}
    out["id"] = str(row.id)
    return out


def for_patient(session: Session, patient_id: uuid.UUID) -> list[dict[str, str]]:
    rows = session.exec(select(InsurancePolicy).where(InsurancePolicy.patient_id == patient_id)).all()
    return [to_dict(r) for r in sorted(rows, key=lambda r: ORDER_RANK.get(r.order, 9))]


def replace(session: Session, patient_id: uuid.UUID, rows: list[dict]) -> None:
    """Make the patient's rows equal `rows` (update by id, add new, remove missing)."""
    replace_rows(session, InsurancePolicy, patient_id, rows, _clean)


def status_text(policies: list[dict[str, str]]) -> str:
    """One line for the chart header: the primary payer, or self-pay."""
    if not policies:
        return "Self-pay (no insurance on file)"
    return f"Insured: {policies[0]['payer']}"
