"""What the care-plans service hands out, and its errors.

Clinicians (and admins, reading) get the whole ``PlanView`` with its goals (each with its progress
computed from the patient's latest readings and the doctor's progress notes) and activities; the
patient gets the same views of their own active plans (the state layer words them plainly) and
``OwnTask`` rows for "Tasks to do". Dates are dates, times aware datetimes (UTC), numbers Decimal
in the vital's unit, codes ``Coding``.

``goal_words`` is the one place a goal is written out ("Blood pressure below 130/80 mmHg"): the
pages, the timeline and the vitals chart's goal line all read it from here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from patient_portal.core import errors
from patient_portal.core.coding import Coding

#: The measures a goal may be on (keys of observations.catalogue.TREND_KEYS) and what they are called.
MEASURE_LABELS: dict[str, str] = {"blood_pressure": "Blood pressure", "weight": "Weight", "bmi": "BMI",
                                  "glucose": "Blood glucose", "heart_rate": "Heart rate"}
COMPARATORS = ("below", "above", "between")


class CarePlanInvalid(errors.Invalid):
    """The plan, goal, activity or note breaks a rule; ``errors`` maps its fields to messages."""


class CarePlanNotFound(errors.NotFound):
    def __init__(self, what: str = "care plan") -> None:
        super().__init__(f"That {what} was not found.")


class PlanClosed(errors.Conflict):
    """A completed or cancelled plan is kept as it was: nothing on it changes any more."""

    def __init__(self, status: str) -> None:
        super().__init__(f"This care plan is {status} and can no longer be changed. Start a new plan instead.")


class CarePlanConflict(errors.Conflict):
    """What was edited was saved by someone else since it was opened. `fields` names what changed,
    `current` holds the saved form, `version` the version to save against."""

    def __init__(self, what: str, fields: list[str], current: dict[str, Any], version: int):
        super().__init__(f"This {what} was changed since you opened it: " + ", ".join(fields)
                         + ". Check the saved values, then save again.")
        self.fields = fields
        self.current = current
        self.version = version


@dataclass(frozen=True)
class Bound:
    """A target on one vital (systolic, weight …): below `high`, above `low`, or between both."""

    low: Decimal | None = None
    high: Decimal | None = None

    def met_by(self, value: Decimal, comparator: str) -> bool:
        if comparator == "below":
            return self.high is not None and value < self.high
        if comparator == "above":
            return self.low is not None and value > self.low
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)


@dataclass(frozen=True)
class MeasureSpec:
    """A measure the goal form offers: its key, name, unit and the plausible range of each part
    (blood pressure: systolic then diastolic)."""

    key: str
    label: str
    unit_label: str
    parts: tuple[str, ...]
    ranges: tuple[tuple[float | None, float | None], ...]


@dataclass(frozen=True)
class Progress:
    """The patient's latest reading of a goal's measure against its target."""

    at: datetime
    values: tuple[Decimal, ...]  # one, or systolic and diastolic
    unit_label: str
    on_target: bool
    by_patient: bool


@dataclass(frozen=True)
class ProgressNote:
    id: uuid.UUID
    author_name: str
    written_at: datetime
    text: str


@dataclass(frozen=True)
class GoalView:
    id: uuid.UUID
    plan_id: uuid.UUID
    measure: str  # "" for a goal in words
    description: str
    comparator: str
    bounds: dict[str, Bound]  # by vital key (systolic, diastolic, weight …)
    unit_label: str
    due: date | None
    status: str
    status_at: datetime | None
    version: int
    created_at: datetime
    progress: Progress | None = None
    notes: tuple[ProgressNote, ...] = ()

    @property
    def words(self) -> str:
        return goal_words(self.measure, self.comparator, self.bounds, self.unit_label, self.description)

    def form(self) -> dict[str, str]:
        """The editable fields as a save takes them (for a conflict's diff and a form's base)."""
        low, high = _joined(self.bounds, "low"), _joined(self.bounds, "high")
        first = low if self.comparator in ("above", "between") else high
        return {"measure": self.measure, "description": self.description, "comparator": self.comparator,
                "target": first, "target_high": high if self.comparator == "between" else "",
                "due": self.due.isoformat() if self.due else ""}


@dataclass(frozen=True)
class ActivityView:
    id: uuid.UUID
    plan_id: uuid.UUID
    kind: str  # instruction | task
    text: str
    done_at: datetime | None
    version: int

    @property
    def task(self) -> bool:
        return self.kind == "task"

    def form(self) -> dict[str, Any]:
        return {"text": self.text, "task": self.task}


@dataclass(frozen=True)
class PlanView:
    id: uuid.UUID
    patient_id: uuid.UUID
    title: str
    problem: Coding | None
    condition_id: uuid.UUID | None
    status: str
    author_name: str
    created_at: datetime
    ended_at: datetime | None
    version: int
    goals: tuple[GoalView, ...] = ()
    activities: tuple[ActivityView, ...] = ()
    can_write: bool = False  # this actor may change it now (the policy, and the plan still active)

    def form(self) -> dict[str, str]:
        return {"title": self.title, "condition_id": str(self.condition_id) if self.condition_id else ""}


@dataclass(frozen=True)
class Problem:
    """A problem-list entry a plan may be for (the plan form's choices)."""

    condition_id: uuid.UUID
    coding: Coding
    status: str


@dataclass(frozen=True)
class Board:
    """The chart's care-plan page in one read: every plan (active first, then newest), and for a
    clinician who may write, the problem list to link a plan to and the measures a goal may be on."""

    plans: list[PlanView]
    problems: list[Problem] = field(default_factory=list)
    measures: list[MeasureSpec] = field(default_factory=list)
    can_write: bool = False


@dataclass(frozen=True)
class OwnTask:
    """An open task of one of the patient's active plans (their home's "Tasks to do")."""

    activity_id: uuid.UUID
    plan_id: uuid.UUID
    plan_title: str
    text: str
    done_at: datetime | None = None


def number(value: Decimal | None) -> str:
    return "" if value is None else f"{value.normalize():f}" if value == value.to_integral() else f"{value:f}"


def _joined(bounds: dict[str, Bound], side: str) -> str:
    """"130/80" for blood pressure, "7" for one vital: one side of the bounds as a form types it."""
    parts = [number(getattr(b, side)) for b in bounds.values()]
    return "/".join(parts) if all(parts) else ""


def goal_words(measure: str, comparator: str, bounds: dict[str, Bound], unit_label: str, description: str = "") -> str:
    """ "Blood pressure below 130/80 mmHg", "Weight between 60 and 68 kg"; a goal in words as written."""
    if not measure:
        return description
    label = MEASURE_LABELS.get(measure, measure)
    unit = f" {unit_label}" if unit_label and unit_label != "%" else unit_label or ""
    low, high = _joined(bounds, "low"), _joined(bounds, "high")
    if comparator == "below":
        said = f"{label} below {high}{unit}"
    elif comparator == "above":
        said = f"{label} above {low}{unit}"
    else:
        said = f"{label} between {low} and {high}{unit}"
    return f"{said}: {description}" if description else said
