"""What the emergency services hand out: the closed vocabularies (with the words people read), views
of a patient's emergency information, of protocols, runs and notifications, and the area's errors.

Views carry codes and aware UTC times; the state layer writes them for people."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from patient_portal.core.coding import Coding
from patient_portal.core.errors import Conflict, Invalid, NotFound

#: LOINC 42348-3 "Advance directives": how the record codes the directives on file.
ADVANCE_DIRECTIVES_LOINC = Coding("http://loinc.org", "42348-3", "Advance directives")

#: The kinds of advance directive (FHIR Consent categories name DNR and POLST the same way).
DIRECTIVE_KINDS: dict[str, str] = {
    "living_will": "Living will",
    "healthcare_poa": "Healthcare power of attorney",
    "dnr": "Do not resuscitate (DNR)",
    "polst": "POLST (portable medical orders)",
}
#: Kinds that name a healthcare agent (the person who decides for the patient).
AGENT_KINDS = frozenset({"healthcare_poa"})

#: Code status, as a doctor orders it.
CODE_STATUSES: dict[str, str] = {
    "full_code": "Full code",
    "dnr": "DNR — do not resuscitate",
    "dnr_dni": "DNR/DNI — do not resuscitate, do not intubate",
    "comfort": "Comfort measures only",
}

#: Who does a protocol's step.
WHO: dict[str, str] = {"doctor": "Doctor", "nurse": "Nurse", "front_desk": "Front desk", "anyone": "Anyone"}

#: What became of a notification, in the words the run page shows.
NOTICE_STATUS = {"queued": "waiting to send", "sent": "sent", "failed": "could not be sent", "skipped": "not sent"}
SKIPPED = {"declined": "the patient asked that this contact is not messaged",
           "no_address": "no email address or mobile number on file"}


class EmergencyNotFound(NotFound):
    def __init__(self, what: str = "emergency") -> None:
        super().__init__(f"That {what} was not found.")


class EmergencyInvalid(Invalid):
    """Bad input; ``errors`` names the fields."""


class EmergencyConflict(Conflict):
    """Saved by someone else since it was opened (`version` the one to save against), or in a state
    that forbids this (a closed run, a run already in progress)."""

    def __init__(self, message: str, version: int | None = None) -> None:
        super().__init__(message)
        self.version = version


@dataclass(frozen=True)
class Directive:
    kind: str
    on: date | None = None
    agent_contact_id: str = ""
    agent_name: str = ""  # the agent's name from the contacts on file ("" when none or removed)
    document_id: str = ""
    document_title: str = ""  # the signed document's title ("" when none or no longer on file)

    @property
    def label(self) -> str:
        return DIRECTIVE_KINDS.get(self.kind, self.kind)

    def form(self) -> dict[str, str]:
        return {"kind": self.kind, "date": self.on.isoformat() if self.on else "",
                "agent_contact_id": self.agent_contact_id, "document_id": self.document_id}


@dataclass(frozen=True)
class Choice:
    """Something a form offers: an emergency contact as agent, a document as the signed copy."""

    id: str
    label: str


@dataclass(frozen=True)
class EmergencyInformation:
    """A patient's emergency information as one role may see it; `can_edit` directives and
    instructions, `can_set_code_status`; `contacts` and `documents` what the form may link."""

    patient_id: uuid.UUID
    code_status: str = ""
    directives: tuple[Directive, ...] = ()
    instructions: tuple[str, ...] = ()
    version: int = 0
    can_edit: bool = False
    can_set_code_status: bool = False
    contacts: tuple[Choice, ...] = ()
    documents: tuple[Choice, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.code_status or self.directives or self.instructions)


@dataclass(frozen=True)
class Banner:
    """The emergency part of the chart header's banner: `code_status` code, the directives' labels,
    the special instructions, and the active run (its title and start) when one is in progress."""

    code_status: str = ""
    directives: tuple[str, ...] = ()
    instructions: tuple[str, ...] = ()
    run_id: str = ""
    run_title: str = ""
    run_started: datetime | None = None


@dataclass(frozen=True)
class ProtocolView:
    id: uuid.UUID
    name: str
    description: str
    steps: tuple[dict[str, str], ...]
    notify_contacts: bool
    retired: bool
    version: int

    def form(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "notify_contacts": self.notify_contacts,
                "steps": [dict(s) for s in self.steps]}


@dataclass(frozen=True)
class StepView:
    id: uuid.UUID
    position: int
    text: str
    who: str
    done_at: datetime | None = None
    done_by_name: str = ""


@dataclass(frozen=True)
class NoticeView:
    id: uuid.UUID
    position: int
    name: str
    channel: str
    status: str
    skipped: str = ""
    outside_hours: bool = False
    notified_at: datetime | None = None
    sent_at: datetime | None = None
    opened_at: datetime | None = None
    acknowledged_at: datetime | None = None


@dataclass(frozen=True)
class RunView:
    id: uuid.UUID
    patient_id: uuid.UUID
    title: str
    status: str
    started_at: datetime
    started_by_name: str
    steps: tuple[StepView, ...]
    notices: tuple[NoticeView, ...] = ()
    notify_status: str = ""
    closed_at: datetime | None = None
    closed_by_name: str = ""
    outcome: str = ""
    version: int = 1
    can_act: bool = False  # tick steps, close (doctors and staff while it is active)
    can_notify: bool = False  # a doctor may notify the contacts (when not yet notified)


@dataclass(frozen=True)
class RunPage:
    """The chart's Emergency page: the active run (or None), earlier runs, the protocols one may start."""

    active: RunView | None
    earlier: list[RunView] = field(default_factory=list)
    protocols: list[ProtocolView] = field(default_factory=list)
    can_start: bool = False


@dataclass(frozen=True)
class AckView:
    """What the acknowledgement page shows: the clinic and its phone, and whether it is acknowledged
    (`problem` says why the link cannot be used; "" when it can)."""

    clinic: str
    phone: str
    acknowledged: bool = False
    problem: str = ""
    language: str = "en"
