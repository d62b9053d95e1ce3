"""Medical-history rows. Each kind is its own table with a shared base (patient link, version,
who recorded it), so the medical-history area can add columns and kinds without reshaping these.

Coded entries (issue 12) store the *codes* they were chosen by — an ICD-10-CM code, a formulary
drug with its classes and RxNorm code — on the row itself, never a key into the code tables, so a
code set can be reloaded without touching records and a row written before codes existed (free
text only) still reads as it was typed. Everything that names the patient's health is encrypted;
the small closed vocabularies (status, severity, category …) are plain, so lists can filter on them.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import UniqueConstraint
from sqlmodel import Field

from patient_portal.core.crypto import encrypted_field
from patient_portal.core.db import TimestampedTable

#: Who vouches for an allergy or a medication: a clinician, or only the patient so far.
VERIFIED, PATIENT_REPORTED = "verified", "patient-reported"


class HistoryRow(TimestampedTable):
    """Columns every history row has."""

    patient_id: uuid.UUID = Field(foreign_key="patient.id", index=True, ondelete="CASCADE")
    version: int = Field(default=1, nullable=False)
    recorded_by: uuid.UUID | None = None
    source: str = Field(default="intake", max_length=32)  # intake, clinician, patient, import


class Condition(HistoryRow, table=True):
    """A problem-list entry: ICD-10-CM coded (or SNOMED, or free text on older rows)."""

    __tablename__ = "history_condition"

    description: str = encrypted_field("str")
    code: str | None = encrypted_field("str", nullable=True)
    code_system: str | None = Field(default=None, max_length=16)  # ICD-10, SNOMED
    onset: date | None = encrypted_field("date", nullable=True)
    status: str = Field(default="active", max_length=16)  # active, resolved, inactive
    note: str | None = encrypted_field("str", nullable=True)


class Allergy(HistoryRow, table=True):
    """An allergy or intolerance: a formulary drug (with its classes), a drug class, a food or
    something in the environment."""

    __tablename__ = "history_allergy"

    substance: str = encrypted_field("str")
    reaction: str | None = encrypted_field("str", nullable=True)  # the reactions, as written
    severity: str = Field(default="unknown", max_length=16)  # mild, moderate, severe, unknown
    category: str | None = Field(default=None, max_length=16)  # medication, drug_class, food, environment, other
    code: str | None = encrypted_field("str", nullable=True)  # the formulary drug's code, when a drug
    drug_class: str | None = encrypted_field("str", nullable=True)  # "penicillins; beta-lactam antibiotics"
    criticality: str | None = Field(default=None, max_length=16)  # low, high, unable-to-assess
    status: str = Field(default="active", max_length=16)  # active, inactive, resolved
    verification: str = Field(default=VERIFIED, max_length=16)  # verified, patient-reported


class Medication(HistoryRow, table=True):
    """A medication the patient takes: a formulary drug (ingredient, classes, RxNorm where known)
    or, on older rows and drugs outside the formulary, a name as typed."""

    __tablename__ = "history_medication"

    name: str = encrypted_field("str")
    dose: str | None = encrypted_field("str", nullable=True)
    frequency: str | None = encrypted_field("str", nullable=True)
    rxnorm: str | None = encrypted_field("str", nullable=True)
    drug: str | None = encrypted_field("str", nullable=True)  # the formulary entry's code ("amoxicillin")
    drug_class: str | None = encrypted_field("str", nullable=True)
    route: str | None = encrypted_field("str", nullable=True)
    start_date: date | None = encrypted_field("date", nullable=True)
    stop_date: date | None = encrypted_field("date", nullable=True)
    prescriber: str | None = encrypted_field("str", nullable=True)
    status: str = Field(default="active", max_length=16)  # active, stopped, completed
    origin: str | None = Field(default=None, max_length=16)  # prescribed, patient-reported (None: not said)
    verification: str = Field(default=VERIFIED, max_length=16)  # verified, patient-reported


class FamilyHistory(HistoryRow, table=True):
    __tablename__ = "history_family"

    relative: str = encrypted_field("str")
    condition: str = encrypted_field("str")
    code: str | None = encrypted_field("str", nullable=True)
    code_system: str | None = Field(default=None, max_length=16)  # ICD-10
    age_at_onset: str | None = encrypted_field("str", nullable=True)  # whole years, as text


class Immunization(HistoryRow, table=True):
    """A vaccine given: CVX-coded (the CDC table), with the dose number in its series, the lot, where
    and how it was given and who gave it — what an immunization record prints."""

    __tablename__ = "history_immunization"

    vaccine: str = encrypted_field("str")
    given_on: date | None = encrypted_field("date", nullable=True)
    cvx: str | None = encrypted_field("str", nullable=True)
    dose_number: str | None = encrypted_field("str", nullable=True)  # 1, 2 … in the series, as text
    lot: str | None = encrypted_field("str", nullable=True)
    site: str | None = Field(default=None, max_length=16)  # left_arm, right_arm, left_thigh, right_thigh, other
    route: str | None = Field(default=None, max_length=16)  # intramuscular, subcutaneous, intradermal, oral, intranasal
    given_by: str | None = encrypted_field("str", nullable=True)  # the clinician or the place, as written


class AllergyStatus(TimestampedTable, table=True):
    """"No known allergies", asked and answered: one row per patient who said so. No row and no
    allergy on file is "not asked" — a different fact, which the chart header tells apart. Adding an
    active allergy deletes the row (the audit trail keeps both events)."""

    __tablename__ = "history_allergy_status"
    __table_args__ = (UniqueConstraint("patient_id"),)

    patient_id: uuid.UUID = Field(foreign_key="patient.id", ondelete="CASCADE")
    recorded_by: uuid.UUID | None = None
    version: int = Field(default=1, nullable=False)


#: kind name (as used by forms and DTOs) -> (model, editable fields)
KINDS: dict[str, tuple[type[HistoryRow], tuple[str, ...]]] = {
    "conditions": (Condition, ("description", "code", "code_system", "onset", "status", "note")),
    "allergies": (Allergy, ("substance", "category", "code", "drug_class", "reaction", "severity", "criticality",
                            "status", "verification")),
    "medications": (Medication, ("name", "drug", "drug_class", "rxnorm", "dose", "route", "frequency",
                                 "start_date", "stop_date", "prescriber", "status", "origin", "verification")),
    "family_history": (FamilyHistory, ("relative", "condition", "code", "code_system", "age_at_onset")),
    "immunizations": (Immunization, ("vaccine", "given_on", "cvx", "dose_number", "lot", "site", "route",
                                     "given_by")),
}
