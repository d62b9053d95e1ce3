"""Billing tables: payers, the clinic's billing numbers and fee schedule, coverage benefits on a
policy, eligibility checks, charges, claims and their lines with every status transition, the
clearinghouse's files, remittances (835) and their worklist, the money ledger, patient payments and
appeals.

**Money is integer cents** in every column (``*_cents``); no float ever holds an amount.

**What is ciphertext.** What tells about a patient's care or identity is AES-GCM ciphertext
(``encrypted_field``): procedure codes, modifiers and diagnoses of a charge and a claim, the date of
service, member ids, subscriber details, appeal notes, files exchanged with the clearinghouse (they
name patients). What stays plain is what lists, sums and the policy read: amounts, statuses, the
patient id, payer ids, dates the clinic works by (when a charge was posted, a claim billed, an
appeal is due) and CARC/RARC codes (codes of a payer's decision, the same for every patient).

**The ledger.** Every change of what is owed on a charge is a ``LedgerEntry`` row in one of two
buckets: ``insurance`` (waiting for a payer) and ``patient`` (the patient's balance). A charge opens
with its amount in one bucket; an insurance payment or a write-off takes from the insurance bucket;
the patient's share moves from the insurance bucket to the patient's; a patient payment takes from
the patient bucket and a refund puts back. ``Charge.insurance_balance_cents`` and
``patient_balance_cents`` cache the sums of its entries, and ``portal billing verify`` proves they
agree (and every other sum: a claim's total is its lines, a payment is what it allocated, an 835's
check is what it paid).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field

from patient_portal.core.crypto import encrypted_field
from patient_portal.core.db import TimestampedTable, empty_dict, empty_list

# ---------------------------------------------------------------- statuses and kinds

#: A claim's lifecycle (X12 terms in brackets): draft -> ready (validated) -> submitted ->
#: acknowledged [277CA A1/A2] or rejected [A3/A7] -> paid / partial / denied [835] -> appealed ->
#: paid / partial / denied again -> closed. A rejected or denied claim may be corrected and
#: submitted again (a replacement claim, frequency 7).
DRAFT, READY, SUBMITTED, ACKNOWLEDGED, REJECTED = "draft", "ready", "submitted", "acknowledged", "rejected"
PAID, PARTIAL, DENIED, APPEALED, CLOSED = "paid", "partial", "denied", "appealed", "closed"
CLAIM_STATUSES = (DRAFT, READY, SUBMITTED, ACKNOWLEDGED, REJECTED, PAID, PARTIAL, DENIED, APPEALED, CLOSED)
#: Which status may follow which (every transition is a ClaimEvent row; anything else is refused).
TRANSITIONS: dict[str, frozenset[str]] = {
    DRAFT: frozenset({READY, CLOSED}),
    READY: frozenset({DRAFT, SUBMITTED, CLOSED}),
    SUBMITTED: frozenset({ACKNOWLEDGED, REJECTED, PAID, PARTIAL, DENIED}),
    ACKNOWLEDGED: frozenset({PAID, PARTIAL, DENIED, REJECTED}),
    REJECTED: frozenset({DRAFT, READY, CLOSED}),
    # ... and back to acknowledged when the payer reverses its payment (835 CLP02 22) until it pays again
    PAID: frozenset({CLOSED, PARTIAL, DENIED, APPEALED, ACKNOWLEDGED}),
    PARTIAL: frozenset({APPEALED, PAID, DENIED, CLOSED, ACKNOWLEDGED}),
    DENIED: frozenset({APPEALED, PAID, PARTIAL, READY, CLOSED, ACKNOWLEDGED}),
    APPEALED: frozenset({PAID, PARTIAL, DENIED, CLOSED}),
    CLOSED: frozenset(),
}

#: Ledger buckets and entry kinds.
INSURANCE, PATIENT = "insurance", "patient"
CHARGE, INSURANCE_PAYMENT, ADJUSTMENT, PATIENT_SHARE, PATIENT_PAYMENT, REFUND = (
    "charge", "insurance_payment", "adjustment", "patient_share", "patient_payment", "refund")
ENTRY_KINDS = (CHARGE, INSURANCE_PAYMENT, ADJUSTMENT, PATIENT_SHARE, PATIENT_PAYMENT, REFUND)

#: Claim line states after adjudication.
LINE_OPEN, LINE_PAID, LINE_PARTIAL, LINE_DENIED = "open", "paid", "partial", "denied"


# ---------------------------------------------------------------- setup (admin-kept, no PHI)


class Payer(TimestampedTable, table=True):
    """A payer the clinic bills, from the admin's list: its X12 payer id, claim address, and its
    deadlines (payer settings, never constants: Medicare 365 days to file, 120/180/60 to appeal;
    ACA plans at least 180 days for an internal appeal)."""

    __tablename__ = "billing_payer"

    payer_code: str = Field(max_length=80, unique=True, index=True)  # the X12 payer id (NM109 of NM1*PR)
    name: str = Field(max_length=60)
    address_line1: str = Field(default="", max_length=55)
    city: str = Field(default="", max_length=30)
    region: str = Field(default="", max_length=2)
    postal_code: str = Field(default="", max_length=15)
    #: claim filing indicator (SBR09): CI commercial, MB Medicare Part B, MC Medicaid, BL Blue Cross …
    filing_code: str = Field(default="CI", max_length=2)
    timely_filing_days: int = Field(default=365)
    #: days to appeal at each level, counted from the notice (level 1 first)
    appeal_days: list = Field(default_factory=lambda: [180], sa_column=Column(JSON, nullable=False))
    #: which clearinghouse carries its claims ("simulated": the built-in simulated payer)
    clearinghouse: str = Field(default="simulated", max_length=32)
    active: bool = Field(default=True)


class BillingProfile(TimestampedTable, table=True):
    """The clinic as a billing provider (loop 2010AA) and submitter (1000A): one row."""

    __tablename__ = "billing_profile"

    name: str = Field(max_length=60)
    npi: str = Field(max_length=10)
    tax_id: str = Field(max_length=9)  # EIN, digits only
    taxonomy: str = Field(max_length=10)
    address_line1: str = Field(max_length=55)
    city: str = Field(max_length=30)
    region: str = Field(max_length=2)
    postal_code: str = Field(max_length=9)  # ZIP+4 (5010 wants nine digits for the billing provider)
    phone: str = Field(default="", max_length=10)
    submitter_id: str = Field(default="", max_length=80)


class ProviderNumber(TimestampedTable, table=True):
    """A rendering clinician's billing numbers (loop 2310B): their NPI and taxonomy."""

    __tablename__ = "billing_provider_number"

    user_id: uuid.UUID = Field(unique=True, index=True)
    given_name: str = Field(max_length=35)
    family_name: str = Field(max_length=60)
    npi: str = Field(max_length=10)
    taxonomy: str = Field(max_length=10)


class FeeScheduleItem(TimestampedTable, table=True):
    """A procedure code the clinic bills, with its own description (CPT descriptors are licensed)
    and its price in cents."""

    __tablename__ = "billing_fee_item"

    code: str = Field(max_length=5, unique=True, index=True)
    description: str = Field(max_length=120)
    price_cents: int
    active: bool = Field(default=True)


# ---------------------------------------------------------------- coverage and eligibility


class Coverage(TimestampedTable, table=True):
    """Benefits on one insurance policy (``insurance_policy``): its payer from the list, copay,
    coinsurance, deductible and out-of-pocket maximum with the amounts met, and the subscriber when
    the patient is not the subscriber."""

    __tablename__ = "billing_coverage"

    policy_id: uuid.UUID = Field(foreign_key="insurance_policy.id", unique=True, index=True, ondelete="CASCADE")
    patient_id: uuid.UUID = Field(foreign_key="patient.id", index=True, ondelete="CASCADE")
    payer_id: uuid.UUID = Field(foreign_key="billing_payer.id", index=True)
    copay_cents: int = 0
    coinsurance_bp: int = 0  # basis points: 2000 = 20 %
    deductible_cents: int = 0
    deductible_met_cents: int = 0
    oop_max_cents: int = 0
    oop_met_cents: int = 0
    subscriber_given_name: str | None = encrypted_field("str", nullable=True)
    subscriber_family_name: str | None = encrypted_field("str", nullable=True)
    subscriber_birth_date: date | None = encrypted_field("date", nullable=True)
    subscriber_sex: str | None = encrypted_field("str", nullable=True)
    version: int = Field(default=1, nullable=False)


class EligibilityCheck(TimestampedTable, table=True):
    """One 270/271-style check of a policy and the payer's answer, with when it was asked."""

    __tablename__ = "billing_eligibility"

    patient_id: uuid.UUID = Field(foreign_key="patient.id", index=True, ondelete="CASCADE")
    policy_id: uuid.UUID = Field(index=True)
    payer_id: uuid.UUID = Field(foreign_key="billing_payer.id")
    checked_by: uuid.UUID | None = None
    active: bool = False
    plan: str | None = encrypted_field("str", nullable=True)
    copay_cents: int | None = None
    deductible_remaining_cents: int | None = None
    oop_remaining_cents: int | None = None
    #: the payer's answer in a few codes (AAA reject reasons, "prior_auth_imaging") - no free text
    notes: list = encrypted_field("json", default=[])


# ---------------------------------------------------------------- charges and claims


class Charge(TimestampedTable, table=True):
    """One billed service: a fee-schedule code, units, modifiers, place of service and pointers to
    the diagnoses it treats; from a signed visit or entered by hand."""

    __tablename__ = "billing_charge"
    __table_args__ = (Index("ix_billing_charge_patient_open", "patient_id", "patient_balance_cents"),)

    patient_id: uuid.UUID = Field(foreign_key="patient.id", index=True, ondelete="CASCADE")
    visit_id: uuid.UUID | None = Field(default=None, foreign_key="visit_note.id", index=True)
    rendering_provider_id: uuid.UUID | None = Field(default=None, index=True)
    service_date: date = encrypted_field("date")
    posted_on: date = Field(index=True)  # the day the charge was entered: A/R ages from it
    code: str = encrypted_field("str")
    description: str = encrypted_field("str")
    modifiers: list = encrypted_field("json", default=[])  # ["25"], up to four
    units: int = 1
    place_of_service: str = Field(default="11", max_length=2)  # CMS POS code: 11 office, 02 telehealth …
    #: the ICD-10-CM codings this charge's diagnoses point at: [{"code": "E11.9", "display": …}]
    diagnoses: list = encrypted_field("json", default=[])
    amount_cents: int
    insurance_balance_cents: int = 0
    patient_balance_cents: int = 0
    payer_id: uuid.UUID | None = Field(default=None, foreign_key="billing_payer.id", index=True)
    claim_id: uuid.UUID | None = Field(default=None, index=True)  # the claim that carries it now
    entered_by: uuid.UUID | None = None
    voided: bool = Field(default=False)


class Claim(TimestampedTable, table=True):
    """A claim to one payer, built from charges and a policy; its lines are ``ClaimLine`` rows."""

    __tablename__ = "billing_claim"
    __table_args__ = (Index("ix_billing_claim_payer_status", "payer_id", "status"),)

    claim_number: str = Field(max_length=20, unique=True, index=True)  # CLM01, the patient control number
    patient_id: uuid.UUID = Field(foreign_key="patient.id", index=True, ondelete="CASCADE")
    payer_id: uuid.UUID = Field(foreign_key="billing_payer.id", index=True)
    policy_id: uuid.UUID | None = None
    sequence: str = Field(default="primary", max_length=10)  # primary | secondary (SBR01 P / S)
    status: str = Field(default=DRAFT, max_length=16, index=True)
    frequency: str = Field(default="1", max_length=1)  # CLM05-3: 1 original, 7 replacement, 8 void
    replaces_id: uuid.UUID | None = None  # the claim a corrected one replaces
    primary_claim_id: uuid.UUID | None = None  # for a secondary claim: the primary that paid
    payer_claim_number: str | None = Field(default=None, max_length=50)  # CLP07, for corrections and appeals
    rendering_provider_id: uuid.UUID | None = None
    member_id: str = encrypted_field("str")
    group_number: str | None = encrypted_field("str", nullable=True)
    relationship: str = Field(default="self", max_length=16)
    diagnoses: list = encrypted_field("json", default=[])  # the claim's HI list, in pointer order
    prior_authorization: str | None = encrypted_field("str", nullable=True)
    service_from: date = encrypted_field("date")
    total_cents: int = 0
    billed_on: date | None = Field(default=None, index=True)  # first submitted
    submitted_at: datetime | None = None
    adjudicated_at: datetime | None = None
    #: set when a line is denied: the payer's deadline for the next appeal level (plain, the worklist sorts on it)
    appeal_deadline: date | None = Field(default=None, index=True)
    appeal_level: int = 0
    #: field -> message of the last validation (shown on the claim; codes, never PHI)
    problems: dict = Field(default_factory=empty_dict, sa_column=Column(JSON, nullable=False))
    version: int = Field(default=1, nullable=False)


class ClaimLine(TimestampedTable, table=True):
    """One service line of a claim (loop 2400), carrying one charge."""

    __tablename__ = "billing_claim_line"
    __table_args__ = (UniqueConstraint("claim_id", "line_number"),)

    claim_id: uuid.UUID = Field(foreign_key="billing_claim.id", index=True, ondelete="CASCADE")
    charge_id: uuid.UUID = Field(foreign_key="billing_charge.id", index=True)
    line_number: int
    charge_cents: int
    pointers: list = Field(default_factory=empty_list, sa_column=Column(JSON, nullable=False))  # [1, 2]: into the claim's diagnoses
    status: str = Field(default=LINE_OPEN, max_length=16)
    paid_cents: int = 0
    adjusted_cents: int = 0
    patient_cents: int = 0
    #: the payer's codes on the last decision: [{"group": "CO", "reason": "197", "cents": 12000}], ["N54"]
    adjustments: list = Field(default_factory=empty_list, sa_column=Column(JSON, nullable=False))
    remarks: list = Field(default_factory=empty_list, sa_column=Column(JSON, nullable=False))


class ClaimEvent(TimestampedTable, table=True):
    """One transition of a claim: from, to, who and when (the claim's history), with codes only."""

    __tablename__ = "billing_claim_event"

    claim_id: uuid.UUID = Field(foreign_key="billing_claim.id", index=True, ondelete="CASCADE")
    from_status: str | None = Field(default=None, max_length=16)
    to_status: str = Field(max_length=16)
    actor_id: uuid.UUID | None = None
    actor_name: str = Field(default="", max_length=120)  # "Simulated payer" for the payer's own answers
    #: codes, never free text: {"ack": "A1"}, {"reason": "CO-197"}, {"remittance": <id>}
    detail: dict = Field(default_factory=empty_dict, sa_column=Column(JSON, nullable=False))


# ---------------------------------------------------------------- clearinghouse, remittance, worklist


class ClearinghouseFile(TimestampedTable, table=True):
    """A file sent to or received from a clearinghouse (837P out; 835, 277CA in), kept encrypted
    (it names patients). ``read_at`` marks an inbound file as fetched for posting."""

    __tablename__ = "billing_clearinghouse_file"

    clearinghouse: str = Field(max_length=32)
    direction: str = Field(max_length=3)  # out | in
    kind: str = Field(max_length=8)  # 837P, 835, 277CA
    content: str = encrypted_field("str")
    claim_count: int = 0
    read_at: datetime | None = None


class Remittance(TimestampedTable, table=True):
    """A posted 835: its payer, trace (TRN02), check amount. The same trace is never posted twice."""

    __tablename__ = "billing_remittance"
    __table_args__ = (UniqueConstraint("payer_code", "trace_number"),)

    payer_code: str = Field(max_length=80)
    payer_id: uuid.UUID | None = None
    trace_number: str = Field(max_length=50)
    paid_cents: int  # BPR02
    provider_adjustment_cents: int = 0  # PLB total (positive: taken back)
    posted_cents: int = 0  # what was posted to claims
    payment_date: date | None = None
    source: str = Field(default="clearinghouse", max_length=16)  # clearinghouse | upload
    posted_by: uuid.UUID | None = None
    claim_count: int = 0
    unmatched_count: int = 0
    digest: str = Field(max_length=64, index=True)


class RemitClaim(TimestampedTable, table=True):
    """One claim payment (CLP) of a remittance, matched to a claim or not."""

    __tablename__ = "billing_remit_claim"
    __table_args__ = (UniqueConstraint("remittance_id", "position"),)

    remittance_id: uuid.UUID = Field(foreign_key="billing_remittance.id", index=True, ondelete="CASCADE")
    position: int
    claim_id: uuid.UUID | None = Field(default=None, index=True)
    control_number: str = Field(max_length=38)  # CLP01 as sent
    status_code: str = Field(max_length=2)
    charge_cents: int
    paid_cents: int
    patient_cents: int = 0
    payer_claim_number: str | None = Field(default=None, max_length=50)


class WorkItem(TimestampedTable, table=True):
    """What posting could not place: an 835 claim payment for no claim of ours, a line that does not
    match, a payment that does not balance. Staff resolve it; nothing crashed."""

    __tablename__ = "billing_work_item"

    remittance_id: uuid.UUID | None = Field(default=None, index=True)
    kind: str = Field(max_length=24)  # unmatched_claim | unmatched_line | unbalanced
    control_number: str = Field(default="", max_length=38)
    amount_cents: int = 0
    resolved_at: datetime | None = Field(default=None, index=True)
    resolved_by: uuid.UUID | None = None


# ---------------------------------------------------------------- money


class LedgerEntry(TimestampedTable, table=True):
    """One change of what is owed on a charge, in one bucket (module docstring)."""

    __tablename__ = "billing_ledger_entry"

    patient_id: uuid.UUID = Field(foreign_key="patient.id", index=True, ondelete="CASCADE")
    charge_id: uuid.UUID = Field(foreign_key="billing_charge.id", index=True)
    claim_id: uuid.UUID | None = Field(default=None, index=True)
    bucket: str = Field(max_length=10)  # insurance | patient
    kind: str = Field(max_length=20)
    amount_cents: int  # + owed more, - owed less
    group_code: str | None = Field(default=None, max_length=2)  # CARC group: CO, PR, OA, PI
    reason_code: str | None = Field(default=None, max_length=5)  # CARC
    remark_codes: list = Field(default_factory=empty_list, sa_column=Column(JSON, nullable=False))  # RARC
    remittance_id: uuid.UUID | None = Field(default=None, index=True)
    payment_id: uuid.UUID | None = Field(default=None, index=True)
    entered_by: uuid.UUID | None = None


class Payment(TimestampedTable, table=True):
    """Money from (or, a refund, back to) a patient. A card is never stored: only the processor's
    token and the last four digits."""

    __tablename__ = "billing_payment"

    patient_id: uuid.UUID = Field(foreign_key="patient.id", index=True, ondelete="CASCADE")
    kind: str = Field(default="payment", max_length=8)  # payment | refund
    method: str = Field(max_length=16)  # card_online | card_desk | cash | check
    amount_cents: int  # always positive; a refund's entries add back
    receipt_number: str = Field(max_length=20, unique=True)
    processor: str | None = Field(default=None, max_length=32)
    processor_token: str | None = Field(default=None, max_length=80)
    card_last4: str | None = Field(default=None, max_length=4)
    card_brand: str | None = Field(default=None, max_length=16)
    check_number: str | None = encrypted_field("str", nullable=True)
    refund_of: uuid.UUID | None = None
    received_by: uuid.UUID | None = None


class Appeal(TimestampedTable, table=True):
    """An appeal of a denied claim: its level, deadline, the letter's note and attached documents,
    tracked to its outcome."""

    __tablename__ = "billing_appeal"

    claim_id: uuid.UUID = Field(foreign_key="billing_claim.id", index=True, ondelete="CASCADE")
    patient_id: uuid.UUID = Field(foreign_key="patient.id", index=True, ondelete="CASCADE")
    level: int = 1
    deadline: date
    note: str = encrypted_field("str")
    document_ids: list = Field(default_factory=empty_list, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="draft", max_length=16)  # draft | submitted | won | lost
    submitted_at: datetime | None = None
    decided_at: datetime | None = None
    created_by: uuid.UUID | None = None
