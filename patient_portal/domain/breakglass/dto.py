"""What the emergency-access screens show, and the words and codes of its audit events.

Audit events follow FHIR's AuditEvent for emergency access: type DICOM 110113 "Security Alert",
subtype 110127 "Emergency Override Started" / 110138 "Emergency Override Stopped", purpose of use
ETREAT (emergency treatment). The free-text reason is never in an event (it may name the patient's
condition): only its code.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from patient_portal.core.errors import Conflict, Invalid, NotFound

#: The short list a requester picks from (code -> words); "other" needs words of their own.
REASONS: dict[str, str] = {
    "life_threatening": "Life-threatening emergency",
    "urgent_care": "Urgent care, the care team cannot be reached",
    "covering": "Covering for the patient's clinician",
    "unable_to_consent": "The patient cannot communicate or consent",
    "other": "Other (explained in the note)",
}
#: What a patient reads about a reason in their access log and email.
REASON_WORDS: dict[str, str] = {**REASONS, "other": "an emergency (the reason is on file)"}

START, END, REVIEW = "emergency_access.start", "emergency_access.end", "emergency_access.review"
DICOM = "http://dicom.nema.org/resources/ontology/DCM"
#: detail codes of the start and end events (FHIR AuditEvent.type / subtype / purposeOfEvent)
STARTED = {"type": "110113", "subtype": "110127", "purpose_of_use": "ETREAT"}
STOPPED = {"type": "110113", "subtype": "110138", "purpose_of_use": "ETREAT"}

ACTIVE, EXPIRED, ENDED = "active", "expired", "ended"


@dataclass(frozen=True)
class Grant:
    """One emergency grant as the requester, an admin or the patient's page reads it. `reason_text`
    (the free text) is filled for admins reviewing it only."""

    id: uuid.UUID
    patient_id: uuid.UUID
    patient_name: str
    mrn: str
    user_id: uuid.UUID
    user_name: str
    role: str
    reason_code: str
    reason: str
    reason_text: str
    started_at: datetime
    expires_at: datetime
    ended_at: datetime | None
    state: str  # active | expired | ended
    review_status: str  # pending | approved | flagged
    review_note: str
    reviewer_name: str


class GrantNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("That emergency access was not found.")


class GrantInvalid(Invalid):
    """A request or review the service cannot take; field messages beside the fields."""


class AlreadyReached(Conflict):
    def __init__(self) -> None:
        super().__init__("You can already open this record: no emergency access is needed.")
