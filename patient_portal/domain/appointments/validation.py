"""Checks on what admins and people type (messages shown beside the fields). Pure functions."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime
from typing import Any

from patient_portal.core.clock import clinic_zone
from patient_portal.domain.appointments.models import BY_ANYONE, BY_STAFF

HHMM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
CODE = re.compile(r"^[a-z][a-z0-9_]{1,31}$")
MAX_REASON = 500
RULE_LIMITS = {"min_notice_hours": (0, 24 * 30), "max_days_ahead": (1, 730), "max_future_bookings": (1, 50),
               "cancellation_window_hours": (0, 24 * 14), "no_show_threshold": (1, 50),
               "waitlist_hold_minutes": (5, 24 * 60)}


def a_uuid(value: Any, name: str, errors: dict[str, str], message: str) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        errors[name] = message
        return None


def instant(value: Any, name: str, errors: dict[str, str]) -> datetime | None:
    """A time as UTC from an aware datetime, an ISO time with offset, or a clinic-local "2026-03-03T14:30"."""
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = datetime.fromisoformat(str(value or "").strip())
        except ValueError:
            errors[name] = "Choose a time from the list."
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=clinic_zone())
    return parsed.astimezone(UTC)


def a_date(value: Any, name: str, errors: dict[str, str], *, required: bool = True) -> date | None:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    text = str(value or "").strip()
    if not text:
        if required:
            errors[name] = "Enter a date."
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors[name] = "Enter a date like 2026-03-03."
        return None


def clock(value: Any, name: str, errors: dict[str, str], *, required: bool = True) -> str | None:
    text = str(value or "").strip()
    if not text:
        if required:
            errors[name] = "Enter a time like 09:00."
        return None
    if not HHMM.match(text):
        errors[name] = "Enter a time like 09:00 (24-hour clock)."
        return None
    return text


def reason_text(value: Any, errors: dict[str, str]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        errors["reason"] = "Enter text."
        return None
    text = " ".join(value.split())
    if len(text) > MAX_REASON:
        errors["reason"] = f"Keep the reason under {MAX_REASON} characters."
    return text or None


def _int(values: dict[str, Any], name: str, low: int, high: int, errors: dict[str, str]) -> int | None:
    try:
        number = int(str(values.get(name, "")).strip())
    except ValueError:
        errors[name] = "Enter a whole number."
        return None
    if not low <= number <= high:
        errors[name] = f"Enter a number from {low} to {high}."
        return None
    return number


def visit_type_values(values: Any) -> tuple[dict[str, Any], dict[str, str]]:
    if not isinstance(values, dict):
        return {}, {"name": "Fill in the visit type."}
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    name = " ".join(str(values.get("name") or "").split())
    if not name:
        errors["name"] = "Enter a name, e.g. Follow-up."
    elif len(name) > 80:
        errors["name"] = "Keep the name under 80 characters."
    out["name"] = name
    code = str(values.get("code") or "").strip().lower() or re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    if not CODE.match(code):
        errors["code"] = "Use lowercase letters, digits and _ (e.g. follow_up)."
    out["code"] = code
    out["duration_minutes"] = _int(values, "duration_minutes", 5, 480, errors)
    out["buffer_minutes"] = _int({"buffer_minutes": values.get("buffer_minutes", 0) or 0}, "buffer_minutes", 0, 120,
                                 errors)
    who = str(values.get("who_may_book") or BY_ANYONE)
    if who not in (BY_ANYONE, BY_STAFF):
        errors["who_may_book"] = "Choose who may book it."
    out["who_may_book"] = who
    for flag in ("self_bookable", "new_patient", "telehealth", "active"):
        raw = values.get(flag, flag in ("active", "self_bookable"))
        out[flag] = raw if isinstance(raw, bool) else str(raw).lower() in ("1", "true", "yes", "on")
    if who == BY_STAFF:
        out["self_bookable"] = False
    return out, errors


def rules_values(values: Any) -> tuple[dict[str, Any], dict[str, str]]:
    if not isinstance(values, dict):
        return {}, {"min_notice_hours": "Fill in the rules."}
    errors: dict[str, str] = {}
    out: dict[str, Any] = {name: _int(values, name, low, high, errors) for name, (low, high) in RULE_LIMITS.items()}
    raw = values.get("reminder_hours", [])
    if isinstance(raw, str):
        raw = [p for p in re.split(r"[,\s]+", raw) if p]
    try:
        hours = sorted({int(h) for h in raw}, reverse=True)
    except (TypeError, ValueError):
        hours = None
    if hours is None or len(hours) > 5 or any(not 1 <= h <= 24 * 14 for h in hours):
        errors["reminder_hours"] = "Enter up to five numbers of hours before the visit, e.g. 72, 24."
    out["reminder_hours"] = hours or []
    approval = values.get("require_approval", False)
    out["require_approval"] = approval if isinstance(approval, bool) else str(approval).lower() in ("1", "true", "on")
    return out, errors
