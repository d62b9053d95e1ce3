"""What the results service hands out: codes as ``Coding`` (LOINC), values as text with ``Decimal``
beside them when numeric, dates as dates, flags and statuses as codes (the state layer words them)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from patient_portal.core.coding import Coding


@dataclass(frozen=True)
class Result:
    id: uuid.UUID
    coding: Coding
    value: str
    number: Decimal | None
    unit: str
    ref_low: Decimal | None
    ref_high: Decimal | None
    ref_text: str | None
    flag: str  # L | H | N | A
    flag_given: bool
    corrects_id: uuid.UUID | None = None
    superseded_by: uuid.UUID | None = None
    correction_reason: str | None = None

    @property
    def abnormal(self) -> bool:
        return self.flag != "N"


@dataclass(frozen=True)
class Panel:
    """A report and its results (current ones first in order; `replaced`: results a correction superseded)."""

    id: uuid.UUID
    patient_id: uuid.UUID
    name: str
    specimen_date: date
    performing_lab: str
    status: str
    source: str
    document_id: uuid.UUID | None
    entered_by_name: str
    reviewed_by_name: str
    reviewed_at: datetime | None
    comment: str
    decided_by_name: str
    decided_at: datetime | None
    version: int
    results: list[Result] = field(default_factory=list)
    replaced: list[Result] = field(default_factory=list)


@dataclass(frozen=True)
class PanelPage:
    items: list[Panel]
    total: int
    page: int
    pages: int
    page_size: int
    to_review: int = 0


@dataclass(frozen=True)
class OwnPanel:
    """What the patient sees of a report: a held one has no results and no comment (`held`)."""

    id: uuid.UUID
    name: str
    specimen_date: date
    performing_lab: str
    held: bool
    comment: str
    released_at: datetime | None
    results: list[Result] = field(default_factory=list)
    document_id: uuid.UUID | None = None


@dataclass(frozen=True)
class ImportReport:
    panels: int
    results: int
    patients: int


@dataclass(frozen=True)
class ToReviewPatient:
    patient_id: uuid.UUID
    patient_name: str
    mrn: str
    panels: int
    oldest: date
    abnormal: int


@dataclass(frozen=True)
class Worklist:
    count: int  # panels to review across the patients
    patients: list[ToReviewPatient]
