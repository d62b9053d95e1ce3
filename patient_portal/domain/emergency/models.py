"""Emergency contacts."""

from __future__ import annotations

import uuid

from sqlmodel import Field

from patient_portal.core.crypto import encrypted_field
from patient_portal.core.db import TimestampedTable

CONTACT_FIELDS = ("name", "relationship", "phone", "alt_phone", "email", "order",
                  "preferred_contact_method", "hours", "language")


class EmergencyContact(TimestampedTable, table=True):
    """Someone to call; `order` is primary or secondary."""

    __tablename__ = "emergency_contact"

    patient_id: uuid.UUID = Field(foreign_key="patient.id", index=True, ondelete="CASCADE")
    order: str = Field(default="primary", max_length=16)
    name: str = encrypted_field("str")
    relationship: str = encrypted_field("str")
    phone: str = encrypted_field("str")  # E.164
    alt_phone: str | None = encrypted_field("str", nullable=True)
    email: str | None = encrypted_field("str", nullable=True)
    preferred_contact_method: str | None = encrypted_field("str", nullable=True)
    hours: str | None = encrypted_field("str", nullable=True)  # "evenings", "after 6 pm"
    language: str | None = encrypted_field("str", nullable=True)
