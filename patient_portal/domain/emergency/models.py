"""Emergency contacts, a patient's emergency information, the clinic's emergency protocols, and each
protocol run for a patient with the notifications it sent to their contacts.

What a clinician or the patient writes about the patient is PHI, so it is AES-GCM ciphertext: the
contacts' details, code status, special instructions, advance directives, a run's title and steps as
they were at the start, who ticked them, the outcome note, and each notification's addressee. What
stays plain is what the policy, the lists and the jobs read: ids, the small closed vocabularies
(statuses, channels, who does a step), times, versions. A protocol itself (its name and checklist)
is the clinic's, not a patient's, and is plain.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Column, Index, UniqueConstraint, text
from sqlmodel import Field

from patient_portal.core.crypto import encrypted_field
from patient_portal.core.db import TimestampedTable

CONTACT_FIELDS = ("name", "relationship", "phone", "alt_phone", "email", "order",
                  "preferred_contact_method", "hours", "language", "notify")

#: A run's status.
ACTIVE, CLOSED = "active", "closed"
_ACTIVE_RUN_SQL = "status = 'active'"

#: A notification's status: decided and waiting in the outbox, handed to the mail server or the
#: text gateway, given up by the outbox, or not sent at all (see ``skipped``).
QUEUED, SENT, FAILED, SKIPPED = "queued", "sent", "failed", "skipped"


class EmergencyContact(TimestampedTable, table=True):
    """Someone to call; `order` is primary or secondary. `notify` "no" is the patient's choice that
    the clinic never messages this contact in an emergency (None or "yes": it may)."""

    __tablename__ = "emergency_contact"

    patient_id: uuid.UUID = Field(foreign_key="patient.id", index=True, ondelete="CASCADE")
    order: str = Field(default="primary", max_length=16)
    name: str = encrypted_field("str")
    relationship: str = encrypted_field("str")
    phone: str = encrypted_field("str")  # E.164
    alt_phone: str | None = encrypted_field("str", nullable=True)
    email: str | None = encrypted_field("str", nullable=True)
    preferred_contact_method: str | None = encrypted_field("str", nullable=True)
    hours: str | None = encrypted_field("str", nullable=True)  # "evenings", "after 6 pm"
    language: str | None = encrypted_field("str", nullable=True)
    notify: str | None = Field(default=None, max_length=8)


class EmergencyInfo(TimestampedTable, table=True):
    """A patient's emergency information (one row per patient, made on the first save).

    `directives`: the advance directives on file, each ``{"kind": living_will | healthcare_poa | dnr
    | polst, "date": ISO date or "", "agent_contact_id": an emergency contact's id or "",
    "document_id": a document of the documents area or ""}``; `instructions`: short lines anyone
    acting on the patient must know ("Deaf — write or text"); `code_status` a code of
    dto.CODE_STATUSES (set by a doctor) or None."""

    __tablename__ = "emergency_info"

    patient_id: uuid.UUID = Field(foreign_key="patient.id", unique=True, ondelete="CASCADE")
    code_status: str | None = encrypted_field("str", nullable=True)
    code_status_by: uuid.UUID | None = None
    code_status_at: datetime | None = None
    directives: list = encrypted_field("json", default=[])
    instructions: list = encrypted_field("json", default=[])
    updated_by: uuid.UUID | None = None
    version: int = Field(default=1, nullable=False)


class EmergencyProtocol(TimestampedTable, table=True):
    """One of the clinic's emergency protocols: a checklist of steps, each with who does it
    (``{"text": …, "who": doctor | nurse | front_desk | anyone}``). `key` names a starter protocol
    (so seeding adds each once); `retired` protocols are kept for the runs that used them."""

    __tablename__ = "emergency_protocol"

    key: str | None = Field(default=None, max_length=32, unique=True)
    name: str = Field(max_length=120)
    description: str = Field(default="", max_length=500)
    steps: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    notify_contacts: bool = True  # starting it notifies the patient's emergency contacts
    retired: bool = False
    updated_by: uuid.UUID | None = None
    version: int = Field(default=1, nullable=False)


class EmergencyRun(TimestampedTable, table=True):
    """A protocol started for a patient: "Emergency in progress" on their chart until it is closed
    with an outcome note. At most one active run per patient (a partial unique index)."""

    __tablename__ = "emergency_run"
    __table_args__ = (
        Index("ux_emergency_run_active", "patient_id", unique=True,
              sqlite_where=text(_ACTIVE_RUN_SQL), postgresql_where=text(_ACTIVE_RUN_SQL)),
    )

    patient_id: uuid.UUID = Field(foreign_key="patient.id", index=True, ondelete="CASCADE")
    protocol_id: uuid.UUID | None = Field(default=None, foreign_key="emergency_protocol.id", ondelete="SET NULL")
    title: str = encrypted_field("str")  # the protocol's name when it was started
    status: str = Field(default=ACTIVE, max_length=16)
    started_by: uuid.UUID
    started_by_name: str = encrypted_field("str")
    closed_at: datetime | None = None
    closed_by: uuid.UUID | None = None
    closed_by_name: str | None = encrypted_field("str", nullable=True)
    outcome: str | None = encrypted_field("str", nullable=True)
    #: contact notification: "" (not asked), "notifying" (waiting for an acknowledgement),
    #: "acknowledged", "exhausted" (every contact that may be messaged was, nobody acknowledged),
    #: "none" (no contact may be messaged)
    notify_status: str = Field(default="", max_length=16)
    version: int = Field(default=1, nullable=False)


class EmergencyRunStep(TimestampedTable, table=True):
    """One step of a run's checklist, copied from the protocol at the start; ticked with its time."""

    __tablename__ = "emergency_run_step"

    run_id: uuid.UUID = Field(foreign_key="emergency_run.id", index=True, ondelete="CASCADE")
    patient_id: uuid.UUID = Field(foreign_key="patient.id", index=True, ondelete="CASCADE")
    position: int = 0
    text: str = encrypted_field("str")
    who: str = Field(default="anyone", max_length=16)
    done_at: datetime | None = None
    done_by: uuid.UUID | None = None
    done_by_name: str | None = encrypted_field("str", nullable=True)


class EmergencyNotice(TimestampedTable, table=True):
    """One emergency contact notified (or skipped) during one run, with what became of the message:
    sent, opened (the link's page was opened), acknowledged. Unique per run and contact, so a
    contact is notified once per run whatever the number of workers or retries."""

    __tablename__ = "emergency_notice"
    __table_args__ = (UniqueConstraint("run_id", "contact_id", name="ux_emergency_notice_once"),)

    run_id: uuid.UUID = Field(foreign_key="emergency_run.id", index=True, ondelete="CASCADE")
    patient_id: uuid.UUID = Field(foreign_key="patient.id", index=True, ondelete="CASCADE")
    contact_id: uuid.UUID  # no foreign key: the notice outlives a contact removed later
    position: int = 0  # 0 primary, 1 secondary
    name: str = encrypted_field("str")  # the contact's name when notified
    channel: str = Field(default="email", max_length=8)  # email | sms | none
    address: str | None = encrypted_field("str", nullable=True)  # where the message goes
    language: str = Field(default="en", max_length=8)
    outside_hours: bool = False  # sent outside the contact's preferred hours (it is urgent)
    status: str = Field(default=QUEUED, max_length=16)
    skipped: str | None = Field(default=None, max_length=16)  # declined (the patient's choice) | no_address
    sent_at: datetime | None = None
    opened_at: datetime | None = None
    acknowledged_at: datetime | None = None
    expires_at: datetime | None = None
