"""Lab results: a panel (one report from one lab, one specimen date: "Lipid panel") and its results,
one row per LOINC-coded test.

What a result says (its value, reference range and abnormal flag, the lab's name for the test) and
everything written by people (the panel's name, the performing lab, the doctor's comment, the names of
who entered, reviewed and released it, a correction's reason) are AES-GCM ciphertext bound to the row
(``encrypted_field``). The LOINC code, unit, specimen date and the review status stay plain so that
the chart's list, the worklist and "newest first" are index reads — what was tested and when, never
what it showed (the same trade the observations area makes).

A released panel is immutable. A correction is a new result row (``corrects_id``) that supersedes
the old one (``superseded_by``): both are kept, and both events are audited.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Index
from sqlmodel import Field

from patient_portal.core.crypto import encrypted_field
from patient_portal.core.db import TimestampedTable


class Status(StrEnum):
    TO_REVIEW = "to_review"  # new: on the care team's worklist; the patient sees nothing
    REVIEWED = "reviewed"  # a doctor looked at it; not yet shown to the patient
    RELEASED = "released"  # the patient sees the values and the comment; immutable from here
    HELD = "held"  # until discussed: the patient sees only that results are ready to discuss


class Flag(StrEnum):
    LOW = "L"
    HIGH = "H"
    NORMAL = "N"
    ABNORMAL = "A"  # a text result outside its expected text ("Positive" where "Negative" is usual)


class Source(StrEnum):
    ENTERED = "entered"  # typed into the form by a doctor
    IMPORTED = "imported"  # from a CSV file a lab sent


class ResultPanel(TimestampedTable, table=True):
    """One report: results of one specimen date from one lab, reviewed and released together."""

    __tablename__ = "result_panel"
    __table_args__ = (
        Index("ix_result_panel_patient_date", "patient_id", "specimen_date"),
        Index("ix_result_panel_status", "status", "patient_id"),
    )

    patient_id: uuid.UUID = Field(foreign_key="patient.id", ondelete="CASCADE")
    name: str = encrypted_field("str")
    specimen_date: date
    performing_lab: str = encrypted_field("str")
    document_id: uuid.UUID | None = None  # the report document (same patient, checked)
    source: str = Field(max_length=16)
    status: str = Field(default=Status.TO_REVIEW, max_length=16)
    entered_by: uuid.UUID | None = None
    entered_by_name: str | None = encrypted_field("str", nullable=True)
    reviewed_by: uuid.UUID | None = None
    reviewed_by_name: str | None = encrypted_field("str", nullable=True)
    reviewed_at: datetime | None = None
    comment: str | None = encrypted_field("str", nullable=True)  # the doctor's words for the patient
    decided_by: uuid.UUID | None = None  # who released or held it
    decided_by_name: str | None = encrypted_field("str", nullable=True)
    decided_at: datetime | None = None
    version: int = 1


class LabResult(TimestampedTable, table=True):
    """One test's result (FHIR Observation, category laboratory)."""

    __tablename__ = "lab_result"
    __table_args__ = (Index("ix_lab_result_patient_code", "patient_id", "loinc"),)

    panel_id: uuid.UUID = Field(foreign_key="result_panel.id", ondelete="CASCADE", index=True)
    patient_id: uuid.UUID = Field(foreign_key="patient.id", ondelete="CASCADE")
    position: int = 0
    loinc: str = Field(max_length=16)
    name: str = encrypted_field("str")  # the test's name as the lab (or the code table) gives it
    value: str = encrypted_field("str")  # a decimal as text, or words ("Negative")
    numeric: bool = True
    unit: str = Field(default="", max_length=24)  # UCUM, plain like the code
    ref_low: str | None = encrypted_field("str", nullable=True)
    ref_high: str | None = encrypted_field("str", nullable=True)
    ref_text: str | None = encrypted_field("str", nullable=True)
    flag: str = encrypted_field("str")  # Flag: computed from a numeric range, or as given
    flag_given: bool = False  # the lab (or the doctor) stated the flag; else computed
    corrects_id: uuid.UUID | None = None  # the result this one corrects
    superseded_by: uuid.UUID | None = None  # the correction that replaced this one
    superseded_at: datetime | None = None
    correction_reason: str | None = encrypted_field("str", nullable=True)
    entered_by: uuid.UUID | None = None
