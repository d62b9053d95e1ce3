"""Checks on what is typed, before anything is written: every value a number inside its vital's
plausible range (from the code tables), blood pressure as both numbers with the diastolic below the
systolic, and a measuring time that is a real time, not in the future. Field errors are keyed by
the form's field names (the vital's key, ``effective_at``) so the UI shows each beside its field."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sqlmodel import Session

from patient_portal.core.clock import clinic_zone
from patient_portal.core.errors import Invalid
from patient_portal.domain.codes.service import VitalSign
from patient_portal.domain.observations import catalogue

#: Clocks differ a little between a phone and the server: a time this far ahead is still "now".
CLOCK_SLACK = timedelta(minutes=5)
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
MAX_TEXT = 20


@dataclass(frozen=True)
class Checked:
    """Typed values by key (rounded to the vital's decimals) with their code-table rows, and the time."""

    values: dict[str, tuple[VitalSign, Decimal]]
    effective_at: datetime


def number_of(raw: Any) -> Decimal | None:
    """A decimal from what was typed ("36.6", "36,6", 120); None when it is not a finite number.
    (The care-plans area reads a goal's target with it too.)"""
    if isinstance(raw, bool):
        return None
    text = (str(raw) if isinstance(raw, int | float | Decimal) else raw if isinstance(raw, str) else "").strip()
    if not text or len(text) > MAX_TEXT:
        return None
    try:
        number = Decimal(text.replace(",", ".", 1) if text.count(",") == 1 and "." not in text else text)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _fmt(limit: float | None) -> str:
    return f"{limit:g}" if limit is not None else ""


def range_message(label: str, spec: VitalSign) -> str:
    unit = f" {spec.unit_label}" if spec.unit_label and spec.unit_label != "%" else (spec.unit_label or "")
    return f"{label} must be between {_fmt(spec.low)} and {_fmt(spec.high)}{unit}."


def rounded(value: Decimal, decimals: int | None) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-(decimals or 0)), rounding=ROUND_HALF_UP)


def parse_time(raw: Any, now: datetime, errors: dict[str, str]) -> datetime | None:
    """When the values were measured: an aware datetime, or an ISO date-time as a datetime-local
    field sends it ("2026-03-03T14:30"), read in the clinic's time zone. Not in the future."""
    if isinstance(raw, datetime):
        when = raw
    elif isinstance(raw, str) and raw.strip() and len(raw) <= 40:
        try:
            when = datetime.fromisoformat(raw.strip())
        except ValueError:
            errors["effective_at"] = "Enter a real date and time, such as 3 March 2026 at 14:30."
            return None
    elif raw in (None, ""):
        errors["effective_at"] = "Enter the date and time these were measured."
        return None
    else:
        errors["effective_at"] = "Enter a real date and time, such as 3 March 2026 at 14:30."
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=clinic_zone())
    when = when.astimezone(UTC)
    if when > now + CLOCK_SLACK:
        errors["effective_at"] = "That time is in the future. Enter when these were measured."
        return None
    if when < EARLIEST:
        errors["effective_at"] = "Enter a date after 1900."
        return None
    return when


def check(session: Session, values: Any, effective_at: Any, *, allowed: tuple[str, ...], now: datetime,
          what: str = "vital sign") -> Checked:
    """The typed values (blank ones left out) and the time, or Invalid with a message per field.
    `allowed`: the keys this person may enter (a patient: blood pressure, weight, glucose)."""
    if not isinstance(values, dict):
        raise Invalid(errors={"values": f"Enter at least one {what}."})
    errors: dict[str, str] = {}
    typed = {k: v for k, v in values.items() if isinstance(k, str) and str(v if v is not None else "").strip()}
    for key in typed:
        vital = catalogue.BY_KEY.get(key)
        if vital is not None and vital.computed:
            errors[key] = f"{vital.label} is computed from the latest weight and height; it cannot be typed."
        elif key not in allowed:
            errors[key] = ("You can add blood pressure, weight or blood glucose."
                           if allowed == catalogue.REPORTABLE else "That is not a vital sign the portal records.")
    out: dict[str, tuple[VitalSign, Decimal]] = {}
    for key in allowed:
        if key not in typed:
            continue
        label = catalogue.BY_KEY[key].label
        number = number_of(typed[key])
        spec = catalogue.spec(session, key)
        if number is None:
            errors[key] = f"{label}: enter a number."
        elif not spec.plausible(float(number)):
            errors[key] = range_message(label, spec)
        else:
            out[key] = (spec, rounded(number, spec.decimals))
    systolic, diastolic = (k in typed for k in catalogue.BP)
    if systolic != diastolic:
        missing = "diastolic" if systolic else "systolic"
        errors.setdefault(missing, "Enter both numbers of the blood pressure.")
    elif "systolic" in out and "diastolic" in out and out["diastolic"][1] >= out["systolic"][1]:
        errors["diastolic"] = "The diastolic (lower) number must be below the systolic (upper) number."
    if not typed and not errors:
        errors["values"] = f"Enter at least one {what}."
    when = parse_time(effective_at, now, errors)
    if errors:
        raise Invalid(errors=errors)
    assert when is not None
    return Checked(out, when)
