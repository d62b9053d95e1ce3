"""Checks on what a clinician types into a care plan, field by field (messages shown beside the
fields). A goal's target is checked against the plausible range of each vital it is on, read from
the code tables through ``observations.catalogue`` (the same ranges a reading is checked against),
so a target of 400/20 is refused as a reading of 400/20 is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlmodel import Session

from patient_portal.domain.careplans.dto import COMPARATORS, MEASURE_LABELS, Bound
from patient_portal.domain.observations import catalogue
from patient_portal.domain.observations import validation as readings

MAX_TITLE, MAX_DESCRIPTION, MAX_ACTIVITY, MAX_NOTE = 200, 500, 500, 5_000
#: How far ahead a goal's due date may be (beyond it, the year is mistyped).
MAX_AHEAD = timedelta(days=10 * 366)
MEASURES = tuple(MEASURE_LABELS)
PART_WORDS = {"systolic": "upper (systolic)", "diastolic": "lower (diastolic)"}


@dataclass(frozen=True)
class CheckedGoal:
    measure: str
    description: str
    comparator: str
    bounds: dict[str, Bound]
    due: date | None

    def target(self) -> dict[str, Any]:
        """The target as the goal row stores it (numbers as text)."""
        return {"comparator": self.comparator,
                "values": {k: {"low": _text(b.low), "high": _text(b.high)} for k, b in self.bounds.items()}}


def _text(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:f}"


def text(raw: Any, name: str, limit: int, errors: dict[str, str], *, required: str = "") -> str:
    """Trimmed text of at most `limit` characters; `required` is the message when it is empty."""
    if raw is not None and not isinstance(raw, str):
        errors[name] = "Enter text."
        return ""
    value = " ".join((raw or "").split()) if limit <= MAX_DESCRIPTION else (raw or "").strip()
    if len(value) > limit:
        errors[name] = f"Keep this under {limit:,} characters."
    elif not value and required:
        errors[name] = required
    return value


def day(raw: Any, errors: dict[str, str], *, today: date, new: bool) -> date | None:
    """The due date: required, a real date, not in the past when it is set (new or changed), not
    more than ten years ahead."""
    if isinstance(raw, date):
        value = raw
    else:
        typed = raw.strip() if isinstance(raw, str) else ""
        if not typed:
            errors["due"] = "Enter the date to reach this goal by."
            return None
        try:
            value = date.fromisoformat(typed[:10])
        except ValueError:
            errors["due"] = "Enter a real date, such as 2026-06-30."
            return None
    if new and value < today:
        errors["due"] = "That date is in the past. Choose today or a later date."
        return None
    if value > today + MAX_AHEAD:
        errors["due"] = "That date is more than ten years away. Check the year."
        return None
    return value


def _numbers(raw: Any, parts: tuple[str, ...]) -> list[Decimal] | None:
    """One number per part from what was typed ("130/80" for blood pressure); None when not that."""
    typed = raw.strip() if isinstance(raw, str) else str(raw) if isinstance(raw, int | float | Decimal) else ""
    pieces = [p.strip() for p in typed.split("/")] if len(parts) > 1 else [typed]
    if len(pieces) != len(parts):
        return None
    found = [readings.number_of(p) for p in pieces]
    return None if any(n is None for n in found) else found  # type: ignore[return-value]


def _target(session: Session, measure: str, raw: Any, name: str, errors: dict[str, str]) -> dict[str, Decimal] | None:
    """One side of a target, by vital key, each inside its vital's plausible range and rounded."""
    parts = catalogue.TREND_KEYS[measure]
    label = MEASURE_LABELS[measure].lower()
    if raw in (None, "") or (isinstance(raw, str) and not raw.strip()):
        errors[name] = "Enter the target."
        return None
    numbers = _numbers(raw, parts)
    if numbers is None:
        errors[name] = ("Enter the blood pressure target as two numbers, such as 130/80." if len(parts) > 1
                        else f"Enter the {label} target as a number.")
        return None
    out: dict[str, Decimal] = {}
    for key, value in zip(parts, numbers, strict=True):
        spec = catalogue.spec(session, key)
        if not spec.plausible(float(value)):
            what = f"The {PART_WORDS[key]} target" if len(parts) > 1 else "The target"
            errors[name] = readings.range_message(what, spec)
            return None
        out[key] = readings.rounded(value, spec.decimals)
    if len(parts) > 1 and out[parts[1]] >= out[parts[0]]:
        errors[name] = "The lower (diastolic) number must be below the upper (systolic) number."
        return None
    return out


def goal(session: Session, values: Any, *, today: date, new_due: bool) -> tuple[CheckedGoal | None, dict[str, str]]:
    """A goal from the form's values (measure, description, comparator, target, target_high, due);
    `new_due`: the due date is being set now (a new goal, or a changed date), so it may not be past."""
    errors: dict[str, str] = {}
    if not isinstance(values, dict):
        return None, {"measure": "Fill in the goal."}
    measure = values.get("measure") or ""
    if not isinstance(measure, str) or (measure and measure not in MEASURES):
        errors["measure"] = "Choose a measure from the list, or none for a goal in words."
        measure = ""
    description = text(values.get("description"), "description", MAX_DESCRIPTION, errors,
                       required="" if measure or "measure" in errors else "Describe the goal, or choose a measure.")
    comparator, bounds = "", {}
    if measure:
        comparator = values.get("comparator") or ""
        if comparator not in COMPARATORS:
            errors["comparator"] = "Choose below, above or between."
        else:
            first = _target(session, measure, values.get("target"), "target", errors)
            second = _target(session, measure, values.get("target_high"), "target_high", errors) \
                if comparator == "between" else None
            if first is not None and comparator == "below":
                bounds = {k: Bound(high=v) for k, v in first.items()}
            elif first is not None and comparator == "above":
                bounds = {k: Bound(low=v) for k, v in first.items()}
            elif first is not None and second is not None:
                if any(second[k] <= first[k] for k in first):
                    errors["target_high"] = "The upper end must be above the lower end."
                bounds = {k: Bound(low=first[k], high=second[k]) for k in first}
    due = day(values.get("due"), errors, today=today, new=new_due)
    if errors:
        return None, errors
    return CheckedGoal(measure, description, comparator, bounds, due), {}


def bounds_of(target: dict[str, Any]) -> tuple[str, dict[str, Bound]]:
    """A stored target as (comparator, bounds by vital key in the catalogue's order: systolic first)."""
    values = target.get("values") or {}
    order = list(catalogue.BY_KEY)
    return target.get("comparator") or "", {
        k: Bound(low=Decimal(v["low"]) if v.get("low") else None, high=Decimal(v["high"]) if v.get("high") else None)
        for k, v in sorted(values.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order))}
