"""Prescriptions, renewal requests and the prescriber's licence number.

Everything that says what a patient takes is PHI, so it is AES-GCM ciphertext: the drug, its name
and classes, the order (dose, route, frequency, duration, quantity, refills, substitution, the note
to the pharmacy), the check's findings and the override reason, a stop reason, the prescriber's name as it
read when they signed. What stays plain is what the policy, the lists and the verify page read:
the patient, the prescriber's user id, the status, the dates and the verification code's hash.

The verification code printed on the PDF is looked up by its SHA-256 (``verify_hash``, unique): the
code is 100 random bits, so a plain hash cannot be reversed by guessing. The code itself is kept
encrypted (``verify_code``) only so a PDF can be printed again; the public verify page never
decrypts anything.

``PrescriberProfile`` is the small doctor profile the printed prescription needs: the licence
number (not PHI; one row per doctor, set by the doctor or an admin, ``service.set_licence_number``).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field

from patient_portal.core.crypto import encrypted_field
from patient_portal.core.db import TimestampedTable

ACTIVE, COMPLETED, STOPPED, RENEWED = "active", "completed", "stopped", "renewed"
STATUSES = (ACTIVE, COMPLETED, STOPPED, RENEWED)
PENDING, APPROVED, DECLINED = "pending", "approved", "declined"


class Prescription(TimestampedTable, table=True):
    """One signed prescription (issued when saved: there is no unsigned prescription)."""

    __tablename__ = "prescription"

    patient_id: uuid.UUID = Field(foreign_key="patient.id", index=True)
    prescriber_id: uuid.UUID = Field(index=True)
    prescriber_name: str = encrypted_field("str")
    drug: str = encrypted_field("str")  # the formulary entry's code ("amoxicillin")
    drug_name: str = encrypted_field("str")
    drug_class: str | None = encrypted_field("str", nullable=True)  # "penicillins; beta-lactam antibiotics"
    rxnorm: str | None = encrypted_field("str", nullable=True)
    #: the order (sig) as signed: {"dose": "500", "dose_unit": "mg", "route": "oral", "frequency": "three_daily",
    #: "duration_days": 7, "quantity": 21, "refills": 0, "substitution": true, "pharmacy_note": ""}
    sig: dict = encrypted_field("json", default={})
    findings: list = encrypted_field("json", default=[])  # [{"kind", "field", "message"}] at signing
    override_reason: str | None = encrypted_field("str", nullable=True)
    status: str = Field(default=ACTIVE, max_length=16, index=True)
    stop_reason: str | None = encrypted_field("str", nullable=True)
    signed_at: datetime
    ended_at: datetime | None = None
    ended_by: uuid.UUID | None = None
    renews_id: uuid.UUID | None = Field(default=None, index=True)  # the prescription this one renewed
    medication_id: uuid.UUID | None = None  # its entry on the medication list
    verify_hash: str = Field(max_length=64, unique=True, index=True)
    verify_code: str = encrypted_field("str")
    version: int = Field(default=1, nullable=False)


class RenewalRequest(TimestampedTable, table=True):
    """A patient's request to renew an active prescription, and the doctor's answer."""

    __tablename__ = "prescription_renewal"

    prescription_id: uuid.UUID = Field(foreign_key="prescription.id", index=True)
    patient_id: uuid.UUID = Field(foreign_key="patient.id", index=True)
    requested_by: uuid.UUID
    message: str | None = encrypted_field("str", nullable=True)  # the patient's words, optional
    status: str = Field(default=PENDING, max_length=16, index=True)
    decided_by: uuid.UUID | None = None
    decided_at: datetime | None = None
    decision_note: str | None = encrypted_field("str", nullable=True)
    new_prescription_id: uuid.UUID | None = None


class PrescriberProfile(TimestampedTable, table=True):
    """A doctor's prescriber details printed on prescriptions (the licence number)."""

    __tablename__ = "prescriber_profile"
    __table_args__ = (UniqueConstraint("user_id"),)

    user_id: uuid.UUID = Field(index=True)
    licence_number: str = Field(max_length=64)
    updated_by: uuid.UUID | None = None
