"""Disclosures (HIPAA 45 CFR 164.528) and amendment requests (45 CFR 164.526).

* ``Disclosure`` — records of the patient's health information sent outside treatment, payment and
  operations (to a court, public health, an insurer's investigator, an app the patient connected …),
  recorded by the front desk or automatically by the area that sent them. Who received it, what was
  sent and why are PHI: ciphertext. The date and the legal basis (a closed vocabulary) are plain, so
  the six-year accounting filters and sorts in SQL.
* ``AmendmentRequest`` — the patient asks to correct their record; a care-team doctor accepts (and
  amends the record) or denies with a reason in writing; after a denial the patient may file a
  statement of disagreement, which travels with the record. Due 60 days after the request. Every
  text is ciphertext; status, dates and who decided are plain, for the doctor's worklist.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlmodel import Field

from patient_portal.core.crypto import encrypted_field
from patient_portal.core.db import TimestampedTable

PENDING, ACCEPTED, DENIED = "pending", "accepted", "denied"


class Disclosure(TimestampedTable, table=True):
    __tablename__ = "disclosure"

    patient_id: uuid.UUID = Field(index=True)
    disclosed_on: date = Field(index=True)
    basis: str = Field(max_length=24)  # see dto.BASES
    recipient: str = encrypted_field("str")
    recipient_address: str | None = encrypted_field("str", nullable=True)
    description: str = encrypted_field("str")  # what was disclosed
    purpose: str = encrypted_field("str")  # why, in a sentence
    source: str = Field(default="staff", max_length=8)  # staff | app
    recorded_by: uuid.UUID | None = None


class AmendmentRequest(TimestampedTable, table=True):
    __tablename__ = "amendment_request"

    patient_id: uuid.UUID = Field(index=True)
    requested_by: uuid.UUID
    record_part: str = encrypted_field("str")  # which information ("my allergy list says penicillin")
    requested_change: str = encrypted_field("str")  # what it should say
    reason: str | None = encrypted_field("str", nullable=True)
    status: str = Field(default=PENDING, max_length=16, index=True)
    due_on: date
    decided_by: uuid.UUID | None = None
    decided_by_name: str | None = encrypted_field("str", nullable=True)
    decided_at: datetime | None = None
    response: str | None = encrypted_field("str", nullable=True)  # what was amended, or why it was denied
    disagreement: str | None = encrypted_field("str", nullable=True)
    disagreement_at: datetime | None = None
    version: int = Field(default=1, nullable=False)
