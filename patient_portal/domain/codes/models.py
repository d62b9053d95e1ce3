"""Code tables: one row per concept of a code set, a derived word index, and what was loaded.

Reference data only, never PHI: nothing here names a patient, so nothing is encrypted or audited.
Other areas store the *codes* they use (system + code + display) on their own rows, never a key into
these tables, so a code set can be reloaded (a new ICD-10-CM release) without touching records.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from patient_portal.core.db import TimestampedTable, utcnow


class CodeSet(SQLModel, table=True):
    """One loaded code set: where it came from and a fingerprint, so loading again is a no-op."""

    __tablename__ = "code_set"

    key: str = Field(primary_key=True, max_length=16)  # "icd10cm", "cvx", "loinc", "formulary"
    system: str = Field(max_length=128)
    source: str = Field(max_length=256)  # e.g. "simple-icd-10-cm 1.5.0 (CMS April 2026 release)"
    fingerprint: str = Field(max_length=128)
    concepts: int = 0
    loaded_at: datetime = Field(default_factory=utcnow, nullable=False)


class CodeConcept(TimestampedTable, table=True):
    """A code of a code set with its display text, the words it is found by and set-specific facts
    in ``extra`` (a vital's unit and plausible range, a drug's classes and dose range, a vaccine's
    full name and status).

    ``id`` is a UUID derived from system and code (uuid5), so every load names a concept the same.
    ``tier`` orders matches first: 0 preferred (a common ICD-10-CM code, an active vaccine), 1 other
    codes, 2 headers and codes not to record. ``rank`` is the concept's place in its set's static
    order (tier, then shorter codes and names), fixed at load so a search sorts by integers.
    ``selectable`` is False for a header that is not itself a code to record (ICD-10-CM categories
    with subcodes, a panel); ``active`` is False for a code the current source retired."""

    __tablename__ = "code_concept"
    __table_args__ = (
        UniqueConstraint("code_set", "code"),
        Index("ix_code_concept_set_code_key", "code_set", "code_key"),
        Index("ix_code_concept_set_rank", "code_set", "rank"),
    )

    code_set: str = Field(max_length=16)
    system: str = Field(max_length=128)
    code: str = Field(max_length=32)
    code_key: str = Field(max_length=32)
    display: str = Field(max_length=512)
    search_text: str = Field(sa_column=Column(Text, nullable=False))
    tier: int
    rank: int
    selectable: bool = True
    active: bool = True
    extra: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class CodeToken(SQLModel, table=True):
    """The word index: one row per (code set, word, concept), found by a b-tree range on the word
    ("diab" -> "diab" <= token < "diac"), which works the same on SQLite and PostgreSQL.

    Derived data, rebuilt whole when its set is loaded, so it has no foreign key (a cascade check per
    deleted concept would cost more than the rebuild). The key ends in the concept's ``rank``: the
    rows of one word come out in search order, and rank is unique within a set."""

    __tablename__ = "code_token"

    code_set: str = Field(primary_key=True, max_length=16)
    token: str = Field(primary_key=True, max_length=64)
    rank: int = Field(primary_key=True)
    concept_id: uuid.UUID
