"""Checks on what a clinician types into a visit note, field by field (messages shown beside the
fields). Pure functions: the code-table lookup a diagnosis needs is passed in by the service."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any

from patient_portal.core.clock import clinic_zone
from patient_portal.core.coding import ICD10_CM, Coding

TEXT_FIELDS = ("reason", "subjective", "objective", "assessment", "plan")
LIMITS = {"reason": 500, "subjective": 20_000, "objective": 20_000, "assessment": 20_000, "plan": 20_000}
MAX_DIAGNOSES, MAX_ORDERS, MAX_ORDER, MAX_ADDENDUM = 20, 30, 500, 10_000
#: What signing needs besides a date and a reason: a signed note says what was found and what next.
NEEDED_TO_SIGN = {"assessment": "Write the assessment before signing.", "plan": "Write the plan before signing."}
#: Systems a visit diagnosis may carry (the names the forms may use, and the URI stored).
DIAGNOSIS_SYSTEMS = {ICD10_CM: ICD10_CM, "ICD-10-CM": ICD10_CM, "ICD-10": ICD10_CM, "icd10cm": ICD10_CM}
ICD10_SHAPE = re.compile(r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)

Lookup = Callable[[str, str], Coding | None]  # (system URI, code) -> the code table's Coding, or None


def visit_time(value: Any, errors: dict[str, str], *, now: datetime | None = None) -> datetime | None:
    """The visit's time in UTC from "2026-03-03T14:30" (the clinic's local time, as a datetime-local
    input sends it) or an ISO time with its offset; not after today, not before 1900."""
    if isinstance(value, datetime):
        parsed = value
    else:
        text = value.strip() if isinstance(value, str) else ""
        if not text:
            errors["visit_at"] = "Enter the date and time of the visit."
            return None
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            errors["visit_at"] = "Enter a date and time like 2026-03-03 14:30."
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=clinic_zone())
    parsed = parsed.astimezone(UTC)
    now = now or datetime.now(UTC)
    end_of_today = datetime.combine(now.astimezone(clinic_zone()).date() + timedelta(days=1), time.min,
                                    tzinfo=clinic_zone())
    if parsed >= end_of_today:
        errors["visit_at"] = "The visit cannot be in the future."
        return None
    if parsed < EARLIEST:
        errors["visit_at"] = "Check the year of the visit."
        return None
    return parsed.replace(microsecond=0)


def texts(values: dict[str, Any], errors: dict[str, str]) -> dict[str, str]:
    """The note's text fields, trimmed; the reason is required."""
    out: dict[str, str] = {}
    for name in TEXT_FIELDS:
        raw = values.get(name)
        if raw is not None and not isinstance(raw, str):
            errors[name] = "Enter text."
            continue
        text = (raw or "").strip()
        if len(text) > LIMITS[name]:
            errors[name] = f"Keep this under {LIMITS[name]:,} characters."
        out[name] = text
    if not out.get("reason") and "reason" not in errors:
        errors["reason"] = "Enter the reason for the visit."
    return out


def diagnoses(raw: Any, errors: dict[str, str], lookup: Lookup) -> list[Coding]:
    """The visit's diagnoses as codings of the code table (its display wins over what was sent);
    an unknown code or a system the visit does not use is refused with the code named."""
    if raw in (None, ""):
        return []
    if not isinstance(raw, list | tuple) or len(raw) > MAX_DIAGNOSES:
        errors["diagnoses"] = f"Choose at most {MAX_DIAGNOSES} diagnoses from the list."
        return []
    out: list[Coding] = []
    for item in raw:
        if not isinstance(item, dict) or not all(isinstance(item.get(k, ""), str) for k in ("system", "code", "display")):
            errors["diagnoses"] = "Choose each diagnosis from the list."
            return []
        system = DIAGNOSIS_SYSTEMS.get((item.get("system") or "").strip())
        code = (item.get("code") or "").strip().upper()
        if system is None:
            errors["diagnoses"] = "Diagnoses are coded in ICD-10-CM: choose them from the list."
            return []
        if not ICD10_SHAPE.match(code):
            errors["diagnoses"] = f"“{code[:12] or 'blank'}” is not an ICD-10-CM code."
            return []
        found = lookup(system, code)
        if found is None:
            errors["diagnoses"] = f"{code} is not in the ICD-10-CM code set."
            return []
        if all(c.code != found.code for c in out):
            out.append(found)
    return out


def orders(raw: Any, errors: dict[str, str]) -> list[str]:
    """Orders as free text, one per entry, blanks dropped."""
    if raw in (None, ""):
        return []
    if not isinstance(raw, list | tuple) or not all(isinstance(o, str) for o in raw):
        errors["orders"] = "Enter each order as text."
        return []
    out = [" ".join(o.split()) for o in raw if o.strip()]
    if len(out) > MAX_ORDERS:
        errors["orders"] = f"Enter at most {MAX_ORDERS} orders."
    elif any(len(o) > MAX_ORDER for o in out):
        errors["orders"] = f"Keep each order under {MAX_ORDER} characters."
    return out


def addendum_text(raw: Any) -> tuple[str, dict[str, str]]:
    text = raw.strip() if isinstance(raw, str) else ""
    if not text:
        return "", {"text": "Write the addendum."}
    if len(text) > MAX_ADDENDUM:
        return "", {"text": f"Keep the addendum under {MAX_ADDENDUM:,} characters."}
    return text, {}


def ready_to_sign(texts_: dict[str, str]) -> dict[str, str]:
    """What a note still lacks before it may be signed (field -> message)."""
    return {name: message for name, message in NEEDED_TO_SIGN.items() if not (texts_.get(name) or "").strip()}
