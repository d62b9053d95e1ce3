"""Medical-history rows. Each kind is its own table with a shared base (patient link, version,
who recorded it), so the medical-history area can add columns and kinds without reshaping these."""

from __future__ import annotations

import uuid
from datetime import date

from sqlmodel import Field

from patient_portal.core.crypto import encrypted_field
from patient_portal.core.db import TimestampedTable


class HistoryRow(TimestampedTable):
    """Columns every history row has."""

    patient_id: uuid.UUID = Field(foreign_key="patient.id", index=True, ondelete="CASCADE")
    version: int = Field(default=1, nullable=False)
    recorded_by: uuid.UUID | None = None
    source: str = Field(default="intake", max_length=32)  # intake, clinician, patient, import


class Condition(HistoryRow, table=True):
    __tablename__ = "history_condition"

    description: str = encrypted_field("str")
    code: str | None = encrypted_field("str", nullable=True)
    code_system: str | None = Field(default=None, max_length=16)  # ICD-10, SNOMED
    onset: date | None = encrypted_field("date", nullable=True)
    status: str = Field(default="active", max_length=16)


class Allergy(HistoryRow, table=True):
    __tablename__ = "history_allergy"

    substance: str = encrypted_field("str")
    reaction: str | None = encrypted_field("str", nullable=True)
    severity: str = Field(default="unknown", max_length=16)  # mild, moderate, severe, unknown


class Medication(HistoryRow, table=True):
    __tablename__ = "history_medication"

    name: str = encrypted_field("str")
    dose: str | None = encrypted_field("str", nullable=True)
    frequency: str | None = encrypted_field("str", nullable=True)
    rxnorm: str | None = encrypted_field("str", nullable=True)


class FamilyHistory(HistoryRow, table=True):
    __tablename__ = "history_family"

    relative: str = encrypted_field("str")
    condition: str = encrypted_field("str")


class Immunization(HistoryRow, table=True):
    __tablename__ = "history_immunization"

    vaccine: str = encrypted_field("str")
    given_on: date | None = encrypted_field("date", nullable=True)
    cvx: str | None = encrypted_field("str", nullable=True)


#: kind name (as used by forms and DTOs) -> (model, editable fields)
KINDS: dict[str, tuple[type[HistoryRow], tuple[str, ...]]] = {
    "conditions": (Condition, ("description", "code", "code_system", "onset", "status")),
    "allergies": (Allergy, ("substance", "reaction", "severity")),
    "medications": (Medication, ("name", "dose", "frequency", "rxnorm")),
    "family_history": (FamilyHistory, ("relative", "condition")),
    "immunizations": (Immunization, ("vaccine", "given_on", "cvx")),
}
