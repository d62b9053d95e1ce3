"""Patient tables: the record itself (PHI encrypted, blind indexes for search), phone search keys,
and the queue of patient-requested changes to legal fields."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import JSON
from sqlmodel import Field

from patient_portal.core.crypto import encrypted_field
from patient_portal.core.db import TimestampedTable

STATUS_ACTIVE = "active"
STATUS_PENDING = "pending_identity_check"
STATUS_MERGED = "merged"  # folded into another record (a sign-up linked, or an admin's merge); kept for the trail


class Patient(TimestampedTable, table=True):
    """One person's record. Every PHI column is AES-GCM ciphertext; `bidx_*` are blind indexes."""

    __tablename__ = "patient"

    mrn: str = Field(max_length=16, unique=True, index=True)
    status: str = Field(default=STATUS_ACTIVE, max_length=32, index=True)
    version: int = Field(default=1, nullable=False)

    given_name: str = encrypted_field("str")
    family_name: str = encrypted_field("str")
    preferred_name: str | None = encrypted_field("str", nullable=True)
    date_of_birth: date = encrypted_field("date")
    sex: str = encrypted_field("str")
    gender_identity: str | None = encrypted_field("str", nullable=True)
    address: dict | None = encrypted_field("json", nullable=True)
    phones: list | None = encrypted_field("json", nullable=True)  # [{"type": "mobile", "number": E.164}]
    email: str | None = encrypted_field("str", nullable=True)
    preferred_language: str | None = encrypted_field("str", nullable=True)
    preferred_contact_method: str | None = encrypted_field("str", nullable=True)

    bidx_family: str | None = Field(default=None, max_length=32, index=True)
    bidx_full_name: str | None = Field(default=None, max_length=32, index=True)
    bidx_dob: str | None = Field(default=None, max_length=32, index=True)
    bidx_family_dob: str | None = Field(default=None, max_length=32, index=True)
    bidx_name_dob: str | None = Field(default=None, max_length=32, index=True)
    bidx_email: str | None = Field(default=None, max_length=32, index=True)
    #: The year of birth alone, plain, for the admins' "patients by age band" report (computed in SQL
    #: without decrypting everyone). A year is what HIPAA's Safe Harbor lets a data set keep (ages
    #: over 89 excepted: the report folds them into one "90 and over" band). Set with the indexes.
    birth_year: int | None = Field(default=None, index=True)

    created_by: uuid.UUID | None = None
    updated_by: uuid.UUID | None = None
    #: set by an admin's merge (domain/patients/merge.py): the record this duplicate was merged into
    merged_into_id: uuid.UUID | None = Field(default=None, index=True)
    merged_at: datetime | None = None


class PatientPhoneKey(TimestampedTable, table=True):
    """Blind index of one of a patient's phone numbers (a patient may have several)."""

    __tablename__ = "patient_phone_key"

    patient_id: uuid.UUID = Field(foreign_key="patient.id", index=True, ondelete="CASCADE")
    digest: str = Field(max_length=32, index=True)


CHANGE_PENDING = "pending"
CHANGE_APPROVED = "approved"
CHANGE_REJECTED = "rejected"


class PatientChangeRequest(TimestampedTable, table=True):
    """A patient's request to change legal name, date of birth or sex, awaiting staff review."""

    __tablename__ = "patient_change_request"

    patient_id: uuid.UUID = Field(foreign_key="patient.id", index=True, ondelete="CASCADE")
    requested_by: uuid.UUID
    changes: dict = encrypted_field("json")  # {field: requested value}
    note: str | None = encrypted_field("str", nullable=True)
    status: str = Field(default=CHANGE_PENDING, max_length=16, index=True)
    decided_by: uuid.UUID | None = None
    decided_at: datetime | None = None
    decision_note: str | None = encrypted_field("str", nullable=True)


class RegistrationDraftRow(TimestampedTable, table=True):
    """A registration wizard in progress, one per user: what was typed so far (encrypted), so a page
    reload or a lost connection loses nothing. Deleted when the registration is confirmed."""

    __tablename__ = "registration_draft"

    user_id: uuid.UUID = Field(index=True, unique=True)
    step: int = 1
    data: dict = encrypted_field("json")


MERGE_DONE = "merged"
MERGE_UNDONE = "unmerged"


class PatientMerge(TimestampedTable, table=True):
    """One admin merge of a duplicate record into the record kept, with what unmerge needs to
    restore both exactly: the rows moved (``[table, row id, column]``), the rows deleted because the
    kept record had their twin (raw column values as stored, ciphertext included) and the duplicate's
    status before. No foreign keys to patient, so the merge's own discovery of patient columns
    never sees this table."""

    __tablename__ = "patient_merge"

    surviving_id: uuid.UUID = Field(index=True)
    merged_id: uuid.UUID = Field(index=True)
    status: str = Field(default=MERGE_DONE, max_length=16, index=True)
    merged_by: uuid.UUID
    merged_at: datetime
    previous_status: str = Field(max_length=32)
    moved: list = Field(default_factory=list, sa_type=JSON)
    kept: list = Field(default_factory=list, sa_type=JSON)
    counts: dict = Field(default_factory=dict, sa_type=JSON)  # {table: rows moved} for the screens
    unmerged_by: uuid.UUID | None = None
    unmerged_at: datetime | None = None
