"""The facts the policy point reads besides roles and care teams: emergency grants and consents.

They live in core because ``core.access.decide`` reads them (core never imports domain); the use
cases that write them are the areas' (``domain.breakglass`` requests, ends and reviews grants;
``domain.consent`` records consents). Both reads are one indexed statement, and only asked when the
answer can change the decision (see ``core.access.decide``), so a care-team doctor opening a chart
pays nothing for them.

* **EmergencyGrant** — break-the-glass: one clinician, one patient, from ``started_at`` until
  ``expires_at`` (or ``ended_at`` when someone ended it early). The reason's free text and the
  reviewer's note are AES-GCM ciphertext; the reason code, the times and the review's status are
  plain, so the policy, the admin's list and the patient's log read them without decrypting. The
  row is also the admin's review task (``review_status`` pending → approved | flagged).
* **ConsentRecord** — append-only: every grant, decline or withdrawal is a new row with the version
  and the words of the text agreed to, how it was given (portal, or on paper with the scan as a
  document) and who recorded it. The newest row of a (patient, purpose) is its status.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, Session, select

from patient_portal.core.crypto import encrypted_field
from patient_portal.core.db import TimestampedTable, utcnow

#: review_status of a grant: waiting for an admin, approved, or flagged for follow-up.
PENDING, APPROVED, FLAGGED = "pending", "approved", "flagged"

#: Consent purposes (what the patient agrees to) and their policy rule (FHIR Consent.policyRule):
#: OPTIN — nothing happens without a "granted" record; OPTOUT — it happens unless declined or withdrawn.
SHARING, EMERGENCY_CONTACTS, SMS, NEWSLETTER, RESEARCH = (
    "sharing", "emergency_contacts", "sms", "newsletter", "research")
OPTIN, OPTOUT = "optin", "optout"
POLICY_RULES: dict[str, str] = {SHARING: OPTIN, EMERGENCY_CONTACTS: OPTOUT, SMS: OPTIN, NEWSLETTER: OPTIN,
                                RESEARCH: OPTIN}
GRANTED, DECLINED, WITHDRAWN = "granted", "declined", "withdrawn"


class EmergencyGrant(TimestampedTable, table=True):
    """Break-the-glass access of one clinician to one patient's record, for a limited time."""

    __tablename__ = "emergency_grant"
    __table_args__ = (Index("ix_emergency_grant_lookup", "user_id", "patient_id", "expires_at"),)

    patient_id: uuid.UUID = Field(index=True)
    user_id: uuid.UUID
    role: str = Field(max_length=16)
    reason_code: str = Field(max_length=32)
    reason_text: str | None = encrypted_field("str", nullable=True)
    started_at: datetime = Field(default_factory=utcnow, nullable=False)
    expires_at: datetime = Field(nullable=False)
    ended_at: datetime | None = None
    ended_by: uuid.UUID | None = None
    review_status: str = Field(default=PENDING, max_length=16, index=True)
    reviewed_by: uuid.UUID | None = None
    reviewed_at: datetime | None = None
    review_note: str | None = encrypted_field("str", nullable=True)
    #: when its end was recorded and (PORTAL_EMERGENCY_ACCESS_TELL_PATIENT) the patient emailed
    closed_at: datetime | None = None


class ConsentRecord(TimestampedTable, table=True):
    """One consent decision of one patient for one purpose (the newest is in force)."""

    __tablename__ = "consent_record"
    __table_args__ = (Index("ix_consent_record_lookup", "patient_id", "purpose", "created_at"),)

    patient_id: uuid.UUID
    purpose: str = Field(max_length=24)
    status: str = Field(max_length=16)  # granted | declined | withdrawn
    text_version: str = Field(max_length=16)
    text: str  # the words the person agreed to (or declined), as shown then: not PHI
    method: str = Field(max_length=16)  # portal | paper
    signed_on: date | None = None  # paper: the date on the form
    document_id: uuid.UUID | None = None  # paper: the scan, in the documents area
    recorded_by: uuid.UUID
    detail: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


def grant_query(user_id: Any, patient_id: Any, *, now: Any = None) -> Any:
    """The end of this user's running grant on this patient (one row or none): an index range scan.
    The arguments are values or bound parameters (``core.access`` builds its statement once)."""
    return (select(EmergencyGrant.expires_at).where(
        EmergencyGrant.user_id == user_id, EmergencyGrant.patient_id == patient_id,
        EmergencyGrant.expires_at > (utcnow() if now is None else now),
        EmergencyGrant.ended_at.is_(None))  # type: ignore[union-attr]
        .order_by(EmergencyGrant.expires_at.desc()).limit(1))  # type: ignore[attr-defined]


def known_grant(session: Session, user_id: uuid.UUID, patient_id: uuid.UUID) -> bool:
    """Has this unit of work looked this grant up already?"""
    return (user_id, patient_id) in session.info.get("portal_grants", {})


def note_grant(session: Session, user_id: uuid.UUID, patient_id: uuid.UUID, until: datetime | None) -> None:
    """Keep a grant looked up with another statement (``core.access``: with the care-team check)."""
    session.info.setdefault("portal_grants", {})[(user_id, patient_id)] = until


def grant_until(session: Session, user_id: uuid.UUID, patient_id: uuid.UUID) -> datetime | None:
    """When this user's active emergency grant on this patient ends, or None (no grant now).

    Kept on the session for its unit of work (``forget``: a use case that starts or ends a grant),
    and compared with the clock on every call, so a grant that runs out mid-unit ends there too."""
    memo = session.info.setdefault("portal_grants", {})
    key = (user_id, patient_id)
    if key not in memo:
        memo[key] = session.exec(grant_query(user_id, patient_id)).first()
    until = memo[key]
    if until is None:
        return None
    until = until if until.tzinfo else until.replace(tzinfo=utcnow().tzinfo)
    return until if until > utcnow() else None


def forget(session: Session) -> None:
    """Drop the grants kept on the session (after starting or ending one in this unit)."""
    session.info.pop("portal_grants", None)


def consent_query(patient_id: Any, purpose: Any) -> Any:
    """The newest consent decision of the patient for `purpose` (one row or none)."""
    return (select(ConsentRecord.status).where(ConsentRecord.patient_id == patient_id, ConsentRecord.purpose == purpose)
            .order_by(ConsentRecord.created_at.desc()).limit(1))  # type: ignore[attr-defined]


def consent_status(session: Session, patient_id: uuid.UUID, purpose: str) -> str | None:
    """The newest consent decision of the patient for `purpose` (granted, declined, withdrawn), or None."""
    return session.exec(consent_query(patient_id, purpose)).first()


def allows(purpose: str, status: str | None) -> bool:
    """The policy rule applied to a consent status: opt-in purposes need "granted"; opt-out purposes
    are allowed until declined or withdrawn; an unknown purpose never."""
    rule = POLICY_RULES.get(purpose)
    if rule is None:
        return False
    return rule == OPTOUT if status is None else status == GRANTED


def consent_allows(session: Session, patient_id: uuid.UUID | None, purpose: str) -> bool:
    """Does the patient's consent allow `purpose` now? (``allows`` of the newest decision.)"""
    if patient_id is None or purpose not in POLICY_RULES:
        return False
    return allows(purpose, consent_status(session, patient_id, purpose))
