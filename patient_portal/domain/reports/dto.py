"""What a report screen and its downloads carry: the filters, and each report as display strings
(plus the chart's numbers). Plain dataclasses of values — no ids of patients, no PHI."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from patient_portal.core.errors import Invalid

#: The longest period one request may cover (a report over decades is a mistake, and slow).
MAX_DAYS = 3 * 366
DEFAULT_DAYS = 365


@dataclass(frozen=True)
class ReportFilters:
    """A date range (both ends included, clinic days) and optionally one doctor."""

    start: date
    end: date
    doctor_id: uuid.UUID | None = None

    @classmethod
    def default(cls, today: date) -> ReportFilters:
        return cls(today - timedelta(days=DEFAULT_DAYS - 1), today)

    @classmethod
    def of(cls, params: Mapping[str, Any], today: date) -> ReportFilters:
        """Read ``start``, ``end`` (YYYY-MM-DD) and ``doctor`` (a user id or empty) from a form or a
        query string; Invalid with field errors when they do not make a range."""
        errors: dict[str, str] = {}
        fallback = cls.default(today)

        def day(name: str, default: date) -> date:
            raw = str(params.get(name) or "").strip()
            if not raw:
                return default
            try:
                return date.fromisoformat(raw)
            except ValueError:
                errors[name] = "Enter a date as YYYY-MM-DD."
                return default

        start, end = day("start", fallback.start), day("end", fallback.end)
        raw_doctor = str(params.get("doctor") or "").strip()
        doctor = None
        if raw_doctor:
            try:
                doctor = uuid.UUID(raw_doctor)
            except ValueError:
                errors["doctor"] = "Choose a doctor from the list."
        if not errors and start > end:
            errors["end"] = "The end date must be on or after the start date."
        if not errors and (end - start).days >= MAX_DAYS:
            errors["start"] = "Choose a period of at most three years."
        if errors:
            raise Invalid("Check the report's dates and doctor.", errors)
        return cls(start, end, doctor)

    def query(self) -> str:
        """The query string a download link carries (the same filters as the screen)."""
        values = {"start": self.start.isoformat(), "end": self.end.isoformat()}
        if self.doctor_id:
            values["doctor"] = str(self.doctor_id)
        return urlencode(values)

    def used(self) -> dict[str, str]:
        """For the audit event: the range, and whether one doctor was chosen (their id)."""
        out = {"start": self.start.isoformat(), "end": self.end.isoformat()}
        if self.doctor_id:
            out["doctor"] = str(self.doctor_id)
        return out


@dataclass
class Report:
    """One report: its table as display strings (suppressed counts read "<11") and its chart's
    rows ``{"label", "value", "value2"}`` (a suppressed value is None: a gap, never a made-up 0)."""

    key: str = ""
    title: str = ""
    description: str = ""
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    chart: list[dict[str, Any]] = field(default_factory=list)
    value_name: str = ""
    value2_name: str = ""
    suppressed: bool = False
    csv_href: str = ""

    @property
    def empty(self) -> bool:
        return not self.rows


@dataclass
class DoctorOption:
    id: str = ""
    name: str = ""


@dataclass
class ReportPage:
    """Everything /admin/reports shows for one choice of filters."""

    start: str = ""
    end: str = ""
    doctor: str = ""
    doctors: list[DoctorOption] = field(default_factory=list)
    reports: list[Report] = field(default_factory=list)
    pdf_href: str = ""
