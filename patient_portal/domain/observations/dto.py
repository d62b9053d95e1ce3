"""What the observations service hands out: codes as ``Coding`` (LOINC), values as ``Decimal`` in
their UCUM unit, times as aware datetimes (UTC), sources as codes. No display text: the state
layer words them for people."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from patient_portal.core.coding import Coding


@dataclass(frozen=True)
class FieldSpec:
    """One vital of the record form: its key, LOINC coding, unit and plausible range (the form's
    labels and hints), whether a patient may report it, and whether it is computed."""

    key: str
    coding: Coding
    unit: str
    unit_label: str
    low: float | None
    high: float | None
    decimals: int
    reportable: bool
    computed: bool


@dataclass(frozen=True)
class Reading:
    """One value: `key` (systolic, weight …), its LOINC coding and UCUM unit."""

    key: str
    coding: Coding
    value: Decimal
    unit: str
    unit_label: str
    effective_at: datetime
    source: str
    verified: bool
    computed: bool = False
    set_id: uuid.UUID | None = None
    updated_at: datetime | None = None  # when its row last changed (the FHIR API's meta.lastUpdated), if read


@dataclass(frozen=True)
class VitalSet:
    """The values recorded together at one time by one person (a row of the readings table)."""

    id: uuid.UUID
    effective_at: datetime
    source: str  # clinician | patient
    verified: bool
    recorded_by_name: str
    verified_by_name: str
    verified_at: datetime | None
    values: dict[str, Reading]


@dataclass(frozen=True)
class ReadingPage:
    items: list[VitalSet]
    total: int
    page: int
    pages: int
    page_size: int


@dataclass(frozen=True)
class Goal:
    """A target a care plan sets for a vital ("below 130", by `due`); the care-plan area fills it."""

    high: Decimal | None = None
    low: Decimal | None = None
    due: date | None = None


@dataclass(frozen=True)
class Point:
    at: datetime
    value: Decimal
    source: str
    verified: bool


@dataclass(frozen=True)
class Series:
    """One line of a chart: a vital's points, oldest first, and its goal when a care plan sets one."""

    key: str
    coding: Coding
    unit: str
    unit_label: str
    points: list[Point]
    goal: Goal | None = None


@dataclass(frozen=True)
class Trend:
    """A chart: one series, or two for blood pressure (systolic, diastolic). `truncated`: older
    points in the range were left out (only the newest MAX_POINTS per series are drawn)."""

    key: str
    series: list[Series]
    date_from: date | None = None
    date_to: date | None = None
    truncated: bool = False

    @property
    def empty(self) -> bool:
        return not any(s.points for s in self.series)


@dataclass(frozen=True)
class Overview:
    """The vitals page in one read: the form's fields, the latest value of each vital, the first
    page of readings and a trend per vital that has data."""

    fields: list[FieldSpec]
    latest: dict[str, Reading]
    page: ReadingPage
    trends: list[Trend] = field(default_factory=list)
    unverified: int = 0  # readings the patient reported that no doctor has verified yet
