"""Document tables: one row per document (metadata, status, hold) and one per stored version.

Titles, dates of service, sources, notes, file names and uploader names are PHI or may contain it,
so they are AES-GCM ciphertext. A version keeps its blob's object key, the wrapped data key and the
SHA-256 of the plaintext; purging removes the blob and the key and leaves a tombstone.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field

from patient_portal.core.access import Action
from patient_portal.core.crypto import encrypted_field
from patient_portal.core.db import TimestampedTable


class Category(StrEnum):
    MEDICAL = "medical_document"
    LAB_RESULT = "lab_result"
    IMAGING = "imaging_report"
    PRESCRIPTION = "prescription"
    INSURANCE_CARD = "insurance_card"
    IDENTITY = "identity_document"
    ADVANCE_DIRECTIVE = "advance_directive"
    CONSENT_FORM = "consent_form"  # a signed paper consent, scanned at the desk (issue 15)
    OTHER = "other"


CATEGORY_LABELS: dict[Category, str] = {
    Category.MEDICAL: "Medical document",
    Category.LAB_RESULT: "Lab result",
    Category.IMAGING: "Imaging report",
    Category.PRESCRIPTION: "Prescription",
    Category.INSURANCE_CARD: "Insurance card",
    Category.IDENTITY: "Identity document",
    Category.ADVANCE_DIRECTIVE: "Advance directive",
    Category.CONSENT_FORM: "Consent form",
    Category.OTHER: "Other",
}

#: Front-desk paperwork (a signed consent form too: the desk scans it and records the consent).
#: Everything else — including advance directives (they state treatment wishes) and "other"
#: (unknown content is treated as clinical) — is clinical.
ADMINISTRATIVE = frozenset({Category.INSURANCE_CARD, Category.IDENTITY, Category.CONSENT_FORM})


def is_clinical(category: Category | str) -> bool:
    return Category(category) not in ADMINISTRATIVE


def read_action(category: Category | str) -> Action:
    return Action.CLINICAL_DOC_READ if is_clinical(category) else Action.ADMIN_DOC_READ


def write_action(category: Category | str) -> Action:
    return Action.CLINICAL_DOC_WRITE if is_clinical(category) else Action.ADMIN_DOC_WRITE


class Status(StrEnum):
    ACTIVE = "active"
    DELETED = "deleted"
    PURGED = "purged"


class Document(TimestampedTable, table=True):
    """A patient's document; its bytes live in DocumentVersion rows."""

    __tablename__ = "document"

    patient_id: uuid.UUID = Field(index=True)
    category: str = Field(max_length=40, index=True)
    title: str | None = encrypted_field("str", nullable=True)
    service_date: date | None = encrypted_field("date", nullable=True)
    source: str | None = encrypted_field("str", nullable=True)
    note: str | None = encrypted_field("str", nullable=True)
    provided_by_patient: bool = False
    uploaded_by: uuid.UUID
    uploaded_by_name: str | None = encrypted_field("str", nullable=True)
    current_version: int = 1
    status: str = Field(default=Status.ACTIVE, max_length=10, index=True)
    hold_until: date | None = None
    hold_set_by: uuid.UUID | None = None
    deleted_at: datetime | None = None
    deleted_by: uuid.UUID | None = None
    delete_reason: str | None = encrypted_field("str", nullable=True)
    purged_at: datetime | None = None
    purged_by: uuid.UUID | None = None


class DocumentVersion(TimestampedTable, table=True):
    """One stored file of a document. `number` counts from 1; the highest is current."""

    __tablename__ = "document_version"
    __table_args__ = (UniqueConstraint("document_id", "number"),)

    document_id: uuid.UUID = Field(foreign_key="document.id", index=True)
    number: int
    object_key: str | None = Field(default=None, max_length=200, unique=True)
    wrapped_key: str | None = None
    sha256: str = Field(max_length=64)
    size_bytes: int
    kind: str = Field(max_length=10)
    filename: str | None = encrypted_field("str", nullable=True)
    uploaded_by: uuid.UUID
    uploaded_by_name: str | None = encrypted_field("str", nullable=True)
    replaced_at: datetime | None = None
    replaced_by: uuid.UUID | None = None
    replaced_by_name: str | None = encrypted_field("str", nullable=True)
