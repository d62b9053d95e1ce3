"""What the prescriptions service hands out, and its errors.

Clinicians get ``PrescriptionView`` (the order, the findings the check made at signing and the
override reason); the patient gets the same rows without the findings and the reason (``for_patient``),
with how to take it in words and the state of their renewal request. Dates are datetimes (UTC).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from patient_portal.core import errors
from patient_portal.domain.prescriptions.checks import Finding


class PrescriptionInvalid(errors.Invalid):
    """The order breaks a rule; ``errors`` maps its fields to messages."""


class OverrideNeeded(errors.Invalid):
    """The check found something and no override reason was given: nothing was saved. ``findings``
    lists each warning; ``errors`` holds the message beside the override-reason field."""

    def __init__(self, findings: list[Finding]):
        super().__init__("Check the warnings: to prescribe anyway, give a reason for the override.",
                         errors={"override_reason": "Give a reason to prescribe despite the warnings above."})
        self.findings = findings


class PrescriptionNotFound(errors.NotFound):
    def __init__(self) -> None:
        super().__init__("That prescription was not found.")


class RenewalNotFound(errors.NotFound):
    def __init__(self) -> None:
        super().__init__("That renewal request was not found.")


class NotActive(errors.Conflict):
    """Only an active prescription is stopped, completed or renewed."""

    def __init__(self, status: str) -> None:
        super().__init__(f"This prescription is {status}: only an active prescription can be changed.")
        self.status = status


class RenewalPending(errors.Conflict):
    def __init__(self) -> None:
        super().__init__("A renewal of this prescription was already asked for; your doctor will answer it.")


class RenewalDecided(errors.Conflict):
    def __init__(self, status: str) -> None:
        super().__init__(f"This renewal request was already {status}.")


@dataclass(frozen=True)
class PrescriptionView:
    id: uuid.UUID
    patient_id: uuid.UUID
    drug: str
    drug_name: str
    sig: dict[str, Any]
    sig_words: str
    status: str
    stop_reason: str
    prescriber_name: str
    signed_at: datetime
    ended_at: datetime | None
    renews_id: uuid.UUID | None
    findings: tuple[dict[str, str], ...] = ()
    override_reason: str = ""
    renewal: str = ""  # the latest renewal request's status: "", pending, approved, declined
    renewal_note: str = ""  # the doctor's note on a declined request
    can_change: bool = False
    can_request_renewal: bool = False

    def for_patient(self) -> PrescriptionView:
        """What the patient sees: no check findings, no override reason."""
        return replace(self, findings=(), override_reason="", can_change=False)


@dataclass(frozen=True)
class RenewalItem:
    """A pending renewal request on the doctor's worklist."""

    id: uuid.UUID
    prescription_id: uuid.UUID
    patient_id: uuid.UUID
    patient_name: str
    drug_name: str
    requested_at: datetime
    message: str = ""


@dataclass(frozen=True)
class Verification:
    """The public verify page's whole answer: valid, stopped or not valid. Nothing else."""

    result: str  # "valid" | "stopped" | "not_valid"
    extra: dict[str, str] = field(default_factory=dict)
