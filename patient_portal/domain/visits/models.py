"""Visit notes and their addenda.

Everything a clinician writes about a visit is PHI, so it is AES-GCM ciphertext: the visit's date
and time, reason, subjective, objective, assessment and plan, the diagnoses (a JSON list of codings),
the orders (a JSON list of text), and the author's name as it read when they wrote. What stays plain
is what the policy, the worklist and the lock read: the patient, the author's user id, the status,
who signed and when, and the version a save is checked against.

A signed note is never updated again (the service refuses it); a correction is a ``VisitAddendum``
row of its own, with its own author, time and audit event.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Field

from patient_portal.core.crypto import encrypted_field
from patient_portal.core.db import TimestampedTable

DRAFT, SIGNED = "draft", "signed"


class VisitNote(TimestampedTable, table=True):
    """One visit's note: a draft its author edits, then signed and locked."""

    __tablename__ = "visit_note"

    patient_id: uuid.UUID = Field(foreign_key="patient.id", index=True)
    author_id: uuid.UUID = Field(index=True)
    author_name: str = encrypted_field("str")
    #: the visit's date and time, ISO 8601 in UTC ("2026-03-03T14:30:00+00:00"); lists sort on it
    #: after decrypting only this column (order does not survive encryption)
    visit_at: str = encrypted_field("str")
    reason: str = encrypted_field("str")
    subjective: str | None = encrypted_field("str", nullable=True)
    objective: str | None = encrypted_field("str", nullable=True)
    assessment: str | None = encrypted_field("str", nullable=True)
    plan: str | None = encrypted_field("str", nullable=True)
    #: [{"system": <URI>, "code": "E11.9", "display": "Type 2 diabetes mellitus without complications"}]
    diagnoses: list = encrypted_field("json", default=[])
    orders: list = encrypted_field("json", default=[])  # ["HbA1c in 3 months", …]
    status: str = Field(default=DRAFT, max_length=16, index=True)
    signed_at: datetime | None = None
    signed_by: uuid.UUID | None = None
    version: int = Field(default=1, nullable=False)


class VisitAddendum(TimestampedTable, table=True):
    """A correction or addition to a signed note; written once, never edited."""

    __tablename__ = "visit_addendum"

    note_id: uuid.UUID = Field(foreign_key="visit_note.id", index=True)
    patient_id: uuid.UUID = Field(foreign_key="patient.id", index=True)
    author_id: uuid.UUID
    author_name: str = encrypted_field("str")
    text: str = encrypted_field("str")
