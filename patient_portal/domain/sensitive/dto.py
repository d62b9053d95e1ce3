"""What the sensitive-records screens show."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from patient_portal.core.errors import Invalid, NotFound

CATEGORIES: dict[str, str] = {"mental_health": "Mental health", "sexual_health": "Sexual health",
                              "substance_use": "Substance use"}
CONDITION, DOCUMENT, VISIT_NOTE = "condition", "document", "visit_note"
KIND_WORDS = {CONDITION: "Condition", DOCUMENT: "Document", VISIT_NOTE: "Visit note"}


@dataclass(frozen=True)
class SensitiveItem:
    """One record that may be marked: what it is (as this person may see it) and its mark."""

    kind: str
    record_id: uuid.UUID
    title: str
    when: datetime | None
    category: str  # "" when not sensitive


@dataclass(frozen=True)
class SensitiveList:
    items: list[SensitiveItem]
    withheld: int  # records marked sensitive this person does not see


class RecordNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("That record was not found.")


class SensitivityInvalid(Invalid):
    pass


def withheld_text(count: int) -> str:
    """What a list says about records it leaves out ("" when none)."""
    if not count:
        return ""
    records = "record is" if count == 1 else "records are"
    return (f"{count} {records} marked sensitive and not shown to you. Only the patient's own clinicians "
            "see them; emergency access opens them.")
