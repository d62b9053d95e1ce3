"""A mark that makes one record sensitive: a condition, a document or a visit note.

The record stays where it is (its area's table); the mark says which sensitivity category it falls
in (mental health, sexual health, substance use), who wrote the record (its author, copied when
marked) and which clinicians it is assigned to besides. ``core.access.decide`` reads these through
``Resource.sensitivity`` / ``author_id`` / ``assigned``: only the patient, the author and the
assigned clinicians on the care team see the record; everyone else is told that something is
withheld, and only emergency access opens it. The category is a small closed vocabulary, plain, so
lists filter on it without decrypting; that a record is sensitive is itself shown to nobody who may
not see the record.
"""

from __future__ import annotations

import uuid

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field

from patient_portal.core.db import TimestampedTable


class SensitiveRecord(TimestampedTable, table=True):
    __tablename__ = "sensitive_record"
    __table_args__ = (UniqueConstraint("record_type", "record_id"),)

    patient_id: uuid.UUID = Field(index=True)
    record_type: str = Field(max_length=16)  # condition | document | visit_note
    record_id: uuid.UUID
    category: str = Field(max_length=24)  # mental_health | sexual_health | substance_use
    author_id: uuid.UUID | None = None
    #: user ids (as text) of the care-team clinicians it is assigned to besides its author
    assigned: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    marked_by: uuid.UUID
