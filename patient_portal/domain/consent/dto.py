"""What the consent screens show: each purpose's text (versioned), the decision in force and its history.

The texts are the clinic's words a patient agrees to; each has a version, and a record keeps the
version and the words agreed to, so a later change of wording never changes what someone agreed to.
Purposes and policy rules (opt-in, opt-out) are the policy point's (``core.access_facts``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from patient_portal.core.access_facts import (
    DECLINED,
    EMERGENCY_CONTACTS,
    GRANTED,
    NEWSLETTER,
    OPTIN,
    POLICY_RULES,
    RESEARCH,
    SHARING,
    SMS,
    WITHDRAWN,
)
from patient_portal.core.errors import Conflict, Invalid


@dataclass(frozen=True)
class ConsentText:
    purpose: str
    version: str
    title: str
    text: str


TEXTS: dict[str, ConsentText] = {t.purpose: t for t in (
    ConsentText(SHARING, "2026-01", "Sharing my record with other systems and apps",
                "I agree that the clinic may send my health record to other health systems and to apps I connect "
                "to it, so they can show it to me or to the people treating me. I can withdraw this at any time; "
                "nothing more is shared after that."),
    ConsentText(EMERGENCY_CONTACTS, "2026-01", "Telling my emergency contacts",
                "In an emergency the clinic may contact the people I listed as emergency contacts and ask them to "
                "call the clinic. The message says nothing about my health."),
    ConsentText(SMS, "2026-01", "Text-message reminders",
                "The clinic may send appointment reminders and notices to my mobile phone by text message. Texts "
                "name the clinic, the time and the doctor, nothing about my health. Messaging rates may apply."),
    ConsentText(NEWSLETTER, "2026-01", "Email newsletters",
                "The clinic may email me its newsletter about its services and health topics. I can stop it at "
                "any time."),
    ConsentText(RESEARCH, "2026-01", "Research",
                "Researchers approved by the clinic may use my health record for studies, with my name and "
                "contact details removed. I can withdraw at any time; data already used stays in those studies."),
)}
ORDER = (SHARING, EMERGENCY_CONTACTS, SMS, NEWSLETTER, RESEARCH)
STATUS_WORDS = {GRANTED: "Agreed", DECLINED: "Declined", WITHDRAWN: "Withdrawn"}
METHOD_WORDS = {"portal": "on the portal", "paper": "on paper at the desk"}


@dataclass(frozen=True)
class ConsentItem:
    """One purpose as it stands: the status in force (None: never asked), whether it allows the
    purpose now (the opt-in/opt-out rule applied), and the current text to agree to."""

    purpose: str
    title: str
    text: str
    version: str
    status: str | None
    allowed: bool
    opt_in: bool
    when: datetime | None
    method: str
    recorded_by: str
    agreed_version: str


@dataclass(frozen=True)
class ConsentEntry:
    """One decision in a purpose's history (newest first)."""

    id: uuid.UUID
    purpose: str
    title: str
    status: str
    version: str
    when: datetime
    method: str
    signed_on: date | None
    recorded_by: str
    document_id: uuid.UUID | None


@dataclass(frozen=True)
class ConsentOverview:
    items: list[ConsentItem]
    history: list[ConsentEntry]


def opt_in(purpose: str) -> bool:
    return POLICY_RULES.get(purpose) == OPTIN


class ConsentInvalid(Invalid):
    pass


class ConsentTextChanged(Conflict):
    def __init__(self) -> None:
        super().__init__("The wording of this consent has changed. Read it again before you answer.")
