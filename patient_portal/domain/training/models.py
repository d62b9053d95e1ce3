"""Tables of training: published policy or training documents and each account's acknowledgement."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field

from patient_portal.core.db import TimestampedTable, utcnow


class TrainingDocument(TimestampedTable, table=True):
    """A document (the annual HIPAA training, a policy) the accounts of `roles` must acknowledge.
    Not PHI. A retired document is asked of nobody any more; its acknowledgements stay."""

    __tablename__ = "training_document"

    title: str = Field(max_length=200)
    body: str = Field(sa_column=Column(Text, nullable=False))
    roles: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    published_by: uuid.UUID | None = None
    retired_at: datetime | None = None


class TrainingAcknowledgement(TimestampedTable, table=True):
    """One account acknowledged one document (once)."""

    __tablename__ = "training_acknowledgement"
    __table_args__ = (UniqueConstraint("document_id", "user_id"),)

    document_id: uuid.UUID = Field(index=True)
    user_id: uuid.UUID = Field(index=True)
    acknowledged_at: datetime = Field(default_factory=utcnow, nullable=False)
