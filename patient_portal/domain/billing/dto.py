"""What the billing service hands out, and its errors. Amounts are integer cents; dates are dates.
CARC and RARC codes are shown with the clinic's own short words (``REASON_WORDS``): the official
descriptions are licensed."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from patient_portal.core import errors


class BillingInvalid(errors.Invalid):
    """The input breaks a rule; ``errors`` maps fields to messages."""


class BillingNotFound(errors.NotFound):
    def __init__(self, what: str = "That") -> None:
        super().__init__(f"{what} was not found.")


class WrongStatus(errors.Conflict):
    """The claim is in a status that does not allow this."""

    def __init__(self, status: str, doing: str) -> None:
        super().__init__(f"This claim is {status}: it cannot be {doing} now.")
        self.status = status


class PaymentDeclined(errors.Invalid):
    def __init__(self, message: str, field: str = "card_number") -> None:
        super().__init__(message, errors={field: message})


#: The clinic's short words for the codes the simulated payer and common remittances use.
REASON_WORDS = {
    "1": "Deductible", "2": "Coinsurance", "3": "Copay", "45": "Above the contracted rate",
    "96": "Not covered by the plan", "97": "Included in another service", "197": "Prior authorization missing",
    "16": "Information missing", "18": "Duplicate claim", "29": "Filed too late", "50": "Not medically necessary",
    "M62": "Authorization number missing", "N130": "See the plan's benefit rules",
    "22": "Another payer may cover this (coordination of benefits)", "23": "Paid or adjusted by the primary payer",
    "MA04": "Send the primary payer's payment first",
}


def reason_text(group: str, reason: str) -> str:
    words = REASON_WORDS.get(reason, "Adjustment")
    return f"{group}-{reason} {words}"


@dataclass(frozen=True)
class PayerView:
    id: uuid.UUID
    payer_code: str
    name: str
    address_line1: str
    city: str
    region: str
    postal_code: str
    filing_code: str
    timely_filing_days: int
    appeal_days: tuple[int, ...]
    active: bool


@dataclass(frozen=True)
class FeeItem:
    code: str
    description: str
    price_cents: int
    active: bool


@dataclass(frozen=True)
class EligibilityView:
    active: bool
    plan: str
    copay_cents: int | None
    deductible_remaining_cents: int | None
    oop_remaining_cents: int | None
    notes: tuple[str, ...]
    checked_at: datetime


@dataclass(frozen=True)
class ChargeView:
    id: uuid.UUID
    service_date: date
    code: str
    description: str
    modifiers: tuple[str, ...]
    units: int
    amount_cents: int
    insurance_balance_cents: int
    patient_balance_cents: int
    diagnoses: tuple[str, ...]
    claim_id: uuid.UUID | None
    visit_id: uuid.UUID | None


@dataclass(frozen=True)
class ClaimLineView:
    line_number: int
    code: str
    modifiers: tuple[str, ...]
    units: int
    charge_cents: int
    pointers: tuple[int, ...]
    status: str
    paid_cents: int
    adjusted_cents: int
    patient_cents: int
    reasons: tuple[str, ...]  # "CO-197 Prior authorization missing"
    remarks: tuple[str, ...]


@dataclass(frozen=True)
class ClaimEventView:
    at: datetime
    from_status: str | None
    to_status: str
    who: str
    detail: dict


@dataclass(frozen=True)
class ClaimView:
    id: uuid.UUID
    claim_number: str
    patient_id: uuid.UUID
    patient_name: str
    payer_name: str
    status: str
    sequence: str
    frequency: str
    total_cents: int
    service_from: date
    diagnoses: tuple[str, ...]
    lines: tuple[ClaimLineView, ...]
    events: tuple[ClaimEventView, ...]
    problems: dict
    appeal_deadline: date | None
    appeal_level: int
    payer_claim_number: str
    version: int
    appeals: tuple[AppealView, ...] = ()
    #: coordination of benefits: on a secondary claim, the primary it was made from and the balance it
    #: bills; on a primary, its secondary claim (if made) and whether the patient has a secondary payer
    primary_claim_id: uuid.UUID | None = None
    primary_claim_number: str = ""
    billed_balance_cents: int = 0
    secondary_claim_id: uuid.UUID | None = None
    secondary_claim_number: str = ""
    has_secondary_coverage: bool = False


@dataclass(frozen=True)
class ClaimListItem:
    id: uuid.UUID
    claim_number: str
    patient_id: uuid.UUID
    patient_name: str
    payer_name: str
    status: str
    total_cents: int
    billed_on: date | None


@dataclass(frozen=True)
class AppealView:
    id: uuid.UUID
    claim_id: uuid.UUID
    level: int
    deadline: date
    status: str
    note: str
    document_ids: tuple[str, ...]
    submitted_at: datetime | None


@dataclass(frozen=True)
class DenialItem:
    claim_id: uuid.UUID
    claim_number: str
    patient_id: uuid.UUID
    patient_name: str
    payer_name: str
    reasons: tuple[str, ...]
    denied_cents: int
    deadline: date | None
    days_left: int | None


@dataclass(frozen=True)
class WorkItemView:
    id: uuid.UUID
    kind: str
    control_number: str
    amount_cents: int
    created_at: datetime


@dataclass(frozen=True)
class PostingResult:
    remittance_id: uuid.UUID | None
    already_posted: bool
    claims_posted: int
    unmatched: int
    paid_cents: int


@dataclass(frozen=True)
class SubmitResult:
    accepted: tuple[str, ...]  # claim numbers
    rejected: tuple[str, ...]
    file_id: uuid.UUID | None


@dataclass(frozen=True)
class StatementLine:
    service_date: date
    description: str
    charge_cents: int
    insurance_paid_cents: int
    adjustments_cents: int
    patient_paid_cents: int
    owed_cents: int
    pending_insurance_cents: int


@dataclass(frozen=True)
class Receipt:
    id: uuid.UUID
    receipt_number: str
    at: datetime
    kind: str
    method: str
    amount_cents: int
    card_last4: str | None
    card_brand: str | None


@dataclass(frozen=True)
class Statement:
    patient_id: uuid.UUID
    patient_name: str
    lines: tuple[StatementLine, ...]
    total_charges_cents: int
    insurance_paid_cents: int
    adjustments_cents: int
    patient_paid_cents: int
    pending_insurance_cents: int
    balance_cents: int
    receipts: tuple[Receipt, ...] = ()


@dataclass(frozen=True)
class AgingRow:
    key: str  # payer id or patient id
    name: str
    buckets: tuple[int, int, int, int]  # 0-30, 31-60, 61-90, 90+ (cents)

    @property
    def total(self) -> int:
        return sum(self.buckets)


@dataclass(frozen=True)
class Aging:
    as_of: date
    by_payer: tuple[AgingRow, ...]
    by_patient: tuple[AgingRow, ...]
    totals: tuple[int, int, int, int] = (0, 0, 0, 0)


@dataclass
class VerifyReport:
    checked: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


# ---------------------------------------------------------------- what a screen reads in one call


@dataclass(frozen=True)
class CoverageView:
    """One of the patient's policies as the billing office sees it: the card's words, the payer from
    the clinic's list (None until staff choose it), the benefits, and the last eligibility answer."""

    policy_id: uuid.UUID
    order: str  # primary | secondary | tertiary
    payer_text: str  # as written on the card
    plan: str
    member_id: str
    relationship: str
    payer_id: uuid.UUID | None
    payer_name: str
    copay_cents: int
    coinsurance_bp: int
    deductible_cents: int
    deductible_met_cents: int
    oop_max_cents: int
    oop_met_cents: int
    eligibility: EligibilityView | None


@dataclass(frozen=True)
class BillableVisit:
    """A signed visit the billing office may enter charges from: its day, clinician and the codes of
    its diagnoses (the codes a claim carries, never the note)."""

    id: uuid.UUID
    day: date
    clinician: str
    diagnoses: tuple[str, ...]  # "R05.9 Cough, unspecified"
    charged: bool


@dataclass(frozen=True)
class AccountPage:
    """A patient's billing account on the chart: coverage, visits to bill, charges, claims, receipts."""

    coverages: tuple[CoverageView, ...]
    visits: tuple[BillableVisit, ...]
    charges: tuple[ChargeView, ...]
    claims: tuple[ClaimListItem, ...]
    receipts: tuple[Receipt, ...]
    balance_cents: int
    pending_insurance_cents: int


@dataclass(frozen=True)
class ProviderView:
    user_id: uuid.UUID
    name: str
    npi: str
    taxonomy: str


@dataclass(frozen=True)
class SetupView:
    """The admin's billing setup: payers, fee schedule, the clinic's numbers, each doctor's NPI."""

    payers: tuple[PayerView, ...]
    fees: tuple[FeeItem, ...]
    profile: dict[str, str]
    providers: tuple[ProviderView, ...]
