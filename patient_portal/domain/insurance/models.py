"""Insurance policies on file."""

from __future__ import annotations

import uuid
from datetime import date

from sqlmodel import Field

from patient_portal.core.crypto import encrypted_field
from patient_portal.core.db import TimestampedTable

POLICY_FIELDS = ("payer", "plan", "member_id", "group_number", "subscriber_name", "relationship",
                 "effective_date", "end_date", "order")
#: How policies are listed: primary, then secondary, then tertiary.
ORDER_RANK = {"primary": 0, "secondary": 1, "tertiary": 2}


class InsurancePolicy(TimestampedTable, table=True):
    """One policy; `order` is primary, secondary or tertiary (unique per patient)."""

    __tablename__ = "insurance_policy"

    patient_id: uuid.UUID = Field(foreign_key="patient.id", index=True, ondelete="CASCADE")
    order: str = Field(default="primary", max_length=16)
    payer: str = encrypted_field("str")
    plan: str | None = encrypted_field("str", nullable=True)
    member_id: str = encrypted_field("str")
    group_number: str | None = encrypted_field("str", nullable=True)
    subscriber_name: str | None = encrypted_field("str", nullable=True)
    relationship: str = encrypted_field("str")  # self, spouse, child, other
    effective_date: date | None = encrypted_field("date", nullable=True)
    end_date: date | None = encrypted_field("date", nullable=True)
