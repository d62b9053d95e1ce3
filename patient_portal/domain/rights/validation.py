"""Checks of a disclosure record and of amendment requests, answers and statements."""

from __future__ import annotations

from datetime import date
from typing import Any

from patient_portal.domain.rights.dto import BASES

SHORT, LONG = 200, 2000


def text(values: Any, name: str, errors: dict[str, str], *, limit: int = LONG, required: str = "") -> str:
    raw = values.get(name) if isinstance(values, dict) else None
    said = str(raw or "").strip() if isinstance(raw, str | int | float) or raw is None else ""
    if len(said) > limit:
        errors[name] = f"Keep this under {limit} characters."
    elif required and len(said) < 3:
        errors[name] = required
    return said[:limit]


def disclosure(values: Any, today: date) -> tuple[dict[str, Any], dict[str, str]]:
    errors: dict[str, str] = {}
    out: dict[str, Any] = {
        "recipient": text(values, "recipient", errors, limit=SHORT, required="Say who received the information."),
        "recipient_address": text(values, "recipient_address", errors, limit=SHORT),
        "description": text(values, "description", errors, required="Say what was sent."),
        "purpose": text(values, "purpose", errors, required="Say why it was sent."),
    }
    basis = str((values or {}).get("basis") or "") if isinstance(values, dict) else ""
    if basis not in BASES or basis == "app":
        errors["basis"] = "Choose the reason the law allows it."
    out["basis"] = basis
    raw = (values or {}).get("disclosed_on") if isinstance(values, dict) else None
    try:
        day = raw if isinstance(raw, date) else date.fromisoformat(str(raw or "").strip())
        if day > today:
            errors["disclosed_on"] = "The date cannot be in the future."
    except ValueError:
        day = None
        errors["disclosed_on"] = "Enter the date it was sent, like 2026-03-14."
    out["disclosed_on"] = day
    return out, errors


def amendment(values: Any) -> tuple[dict[str, str], dict[str, str]]:
    errors: dict[str, str] = {}
    out = {
        "record_part": text(values, "record_part", errors, limit=LONG,
                            required="Say which part of your record is not right."),
        "requested_change": text(values, "requested_change", errors, required="Say what it should say instead."),
        "reason": text(values, "reason", errors),
    }
    return out, errors


def answer(decision: Any, response: Any) -> tuple[str, str, dict[str, str]]:
    errors: dict[str, str] = {}
    chosen = str(decision or "")
    if chosen not in ("accept", "deny"):
        errors["decision"] = "Choose accept or deny."
    said = text({"response": response}, "response", errors,
                required="Give the reason for the denial in writing." if chosen == "deny"
                else "Say what you corrected in the record.")
    return chosen, said, errors
