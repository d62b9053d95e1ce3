"""What the messages service hands out: views with only what the reader may see, and its errors."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from patient_portal.core import errors

SUBJECT_MAX = 120
BODY_MAX = 5000


class MessageInvalid(errors.Invalid):
    """The message breaks a rule; ``errors`` maps its fields ("to", "subject", "body") to messages."""


class ThreadNotFound(errors.NotFound):
    def __init__(self, what: str = "conversation") -> None:
        super().__init__(f"That {what} was not found.")


@dataclass(frozen=True)
class Recipient:
    """Someone a patient may write to: ``value`` is "doctor:<user id>", "front_desk" or "billing"."""

    value: str
    label: str


@dataclass(frozen=True)
class AttachmentView:
    document_id: uuid.UUID
    filename: str


@dataclass(frozen=True)
class MessageView:
    id: uuid.UUID
    author_name: str
    from_patient: bool
    mine: bool  # written by the reader
    body: str
    sent_at: datetime
    read_at: datetime | None
    attachments: list[AttachmentView] = field(default_factory=list)


@dataclass(frozen=True)
class ThreadRow:
    """One thread of a list (the patient's, a doctor's inbox, the pool)."""

    id: uuid.UUID
    patient_id: uuid.UUID
    patient_name: str  # "" on the patient's own list
    mrn: str
    subject: str
    box: str
    with_label: str  # "Dr. Dana Doctor", "Front desk", "Billing"
    last_message_at: datetime
    waiting_since: datetime | None
    overdue: bool
    unread: int  # messages of the other side the reader has not opened


@dataclass(frozen=True)
class ThreadPage:
    rows: list[ThreadRow]
    total: int
    page: int
    pages: int
    response_hours: int


@dataclass(frozen=True)
class ThreadView:
    """A thread with its messages, oldest first, and what the reader may do with it."""

    id: uuid.UUID
    patient_id: uuid.UUID
    patient_name: str
    subject: str
    box: str
    with_label: str
    waiting_since: datetime | None
    overdue: bool
    messages: list[MessageView]
    can_reply: bool
    can_route: bool
    can_attach: bool
    routes: list[Recipient] = field(default_factory=list)  # where staff may hand it (the care team, pools)


@dataclass(frozen=True)
class Delegation:
    """A doctor's delegate setting: who answers for them now, and whom they may choose."""

    delegate_id: uuid.UUID | None
    delegate_name: str
    choices: list[Recipient]
    covering_for: list[str]  # the names of doctors who delegated to this one


@dataclass(frozen=True)
class Sent:
    """A message written: its thread and its id (files are attached to it next)."""

    thread_id: uuid.UUID
    message_id: uuid.UUID
