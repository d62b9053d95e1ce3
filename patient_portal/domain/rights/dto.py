"""What the accounting of disclosures and the amendment screens show."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from patient_portal.core.errors import Conflict, Invalid, NotFound

#: Why a disclosure outside treatment, payment and operations was lawful (the accounting lists these).
BASES: dict[str, str] = {
    "required_by_law": "Required by law",
    "public_health": "Public health reporting",
    "court_order": "Court order or subpoena",
    "law_enforcement": "Law enforcement request",
    "health_oversight": "Health oversight agency",
    "research_waiver": "Research (approved waiver)",
    "app": "An app you connected",
    "other": "Other",
}
STATUS_WORDS = {"pending": "Waiting for an answer", "accepted": "Accepted — your record was corrected",
                "denied": "Denied"}
DUE_DAYS = 60
ACCOUNTING_YEARS = 6


@dataclass(frozen=True)
class DisclosureView:
    id: uuid.UUID
    disclosed_on: date
    recipient: str
    recipient_address: str
    description: str
    purpose: str
    basis: str
    basis_words: str
    source: str


@dataclass(frozen=True)
class AmendmentView:
    id: uuid.UUID
    patient_id: uuid.UUID
    patient_name: str
    requested_at: datetime
    record_part: str
    requested_change: str
    reason: str
    status: str
    due_on: date
    overdue: bool
    decided_by: str
    decided_at: datetime | None
    response: str
    disagreement: str
    disagreement_at: datetime | None
    version: int


class RightsInvalid(Invalid):
    pass


class AmendmentNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("That amendment request was not found.")


class AmendmentDecided(Conflict):
    def __init__(self) -> None:
        super().__init__("This request was already answered.")
