"""A proposed link of a self-registered account to an existing record with clinical data, waiting
for a second staff member or an administrator (the two-person rule in ``review.link_identity``)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Field

from patient_portal.core.db import TimestampedTable

LINK_PENDING = "pending"
LINK_CONFIRMED = "confirmed"
LINK_DECLINED = "declined"


class IdentityLinkProposal(TimestampedTable, table=True):
    """One proposal: link the accounts of `pending_patient_id` to `target_patient_id`. Only ids and
    who/when: nothing here is PHI."""

    __tablename__ = "identity_link_proposal"

    pending_patient_id: uuid.UUID = Field(foreign_key="patient.id", index=True, ondelete="CASCADE")
    target_patient_id: uuid.UUID = Field(foreign_key="patient.id", index=True, ondelete="CASCADE")
    proposed_by: uuid.UUID
    status: str = Field(default=LINK_PENDING, max_length=16, index=True)
    decided_by: uuid.UUID | None = None
    decided_at: datetime | None = None
