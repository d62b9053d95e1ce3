"""Observations: one row per measured (or computed) value, grouped into the set recorded together.

The value, and the names of who recorded and verified it, are AES-GCM ciphertext bound to the row
(``encrypted_field``). The LOINC code, unit, time and source stay plain so that a trend, the latest
value of each vital and a page of readings are index range reads (the same trade the documents area
makes with a document's category): what was measured and when, never what it measured.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index
from sqlmodel import Field

from patient_portal.core.crypto import encrypted_field
from patient_portal.core.db import TimestampedTable


class Source(StrEnum):
    CLINICIAN = "clinician"  # measured at the clinic by the care team: verified when recorded
    PATIENT = "patient"  # a home reading the patient reported: unverified until a doctor verifies it


class Observation(TimestampedTable, table=True):
    """One vital-sign value (FHIR Observation, category vital-signs)."""

    __tablename__ = "observation"
    __table_args__ = (
        Index("ix_observation_patient_code_time", "patient_id", "loinc", "effective_at"),
        # the timeline's newest sets and their count, index-only (0014); time ranges of one patient too
        Index("ix_observation_patient_time_set", "patient_id", "effective_at", "set_id"),
    )

    patient_id: uuid.UUID = Field(foreign_key="patient.id", ondelete="CASCADE")
    set_id: uuid.UUID = Field(index=True)  # the values recorded together (a BP's two, a weight and its BMI)
    loinc: str = Field(max_length=16)
    value: str = encrypted_field("str")  # a decimal as text, in `unit`
    unit: str = Field(max_length=16)  # UCUM
    effective_at: datetime
    source: str = Field(max_length=16)
    recorded_by: uuid.UUID | None = None
    recorded_by_name: str | None = encrypted_field("str", nullable=True)
    computed: bool = False  # derived by the service (BMI), never typed
    verified: bool = False
    verified_by: uuid.UUID | None = None
    verified_by_name: str | None = encrypted_field("str", nullable=True)
    verified_at: datetime | None = None
