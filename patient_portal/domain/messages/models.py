"""Message threads, their messages, attachments (documents of the patient's record) and delegates.

What people write is PHI, so it is AES-GCM ciphertext: a thread's subject, a message's text, its
author's name as it read when they wrote, an attachment's file name. What stays plain is what the
policy, the pool and the inbox read: the patient, the box a thread is in (a doctor, the front desk,
billing) and the doctor it is with, who wrote each message and in which role, and the times —
when it was written, when the other side first read it (the read receipt), since when the patient
has been waiting for an answer (``waiting_since``, None when the clinic answered last).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field

from patient_portal.core.crypto import encrypted_field
from patient_portal.core.db import TimestampedTable

#: Where a thread is: with a doctor (``doctor_id``) or in one of the clinic's pools.
DOCTOR, FRONT_DESK, BILLING = "doctor", "front_desk", "billing"
POOLS = (FRONT_DESK, BILLING)
BOX_LABELS = {DOCTOR: "Doctor", FRONT_DESK: "Front desk", BILLING: "Billing"}
OPEN, CLOSED = "open", "closed"


class MessageThread(TimestampedTable, table=True):
    """One conversation between a patient and the clinic, on one subject."""

    __tablename__ = "message_thread"
    __table_args__ = (
        # the triage pool: open threads of a box, the longest waiting first
        Index("ix_message_thread_pool", "status", "box", "waiting_since"),
    )

    patient_id: uuid.UUID = Field(foreign_key="patient.id", index=True, ondelete="CASCADE")
    subject: str = encrypted_field("str")
    box: str = Field(default=DOCTOR, max_length=16)
    doctor_id: uuid.UUID | None = Field(default=None, index=True)
    started_by: uuid.UUID
    status: str = Field(default=OPEN, max_length=8)
    last_message_at: datetime
    #: when the oldest patient message the clinic has not answered was written (None: not waiting)
    waiting_since: datetime | None = None
    routed_by: uuid.UUID | None = None
    routed_at: datetime | None = None


class Message(TimestampedTable, table=True):
    """One message of a thread; written once, never edited."""

    __tablename__ = "message"

    thread_id: uuid.UUID = Field(foreign_key="message_thread.id", index=True, ondelete="CASCADE")
    patient_id: uuid.UUID = Field(foreign_key="patient.id", index=True, ondelete="CASCADE")
    author_id: uuid.UUID
    author_role: str = Field(max_length=16)
    author_name: str = encrypted_field("str")
    body: str = encrypted_field("str")
    #: the read receipt: when the other side (the patient, or anyone of the clinic) first opened it
    read_at: datetime | None = None
    read_by: uuid.UUID | None = None


class MessageAttachment(TimestampedTable, table=True):
    """A file sent with a message: a document of the patient's record (the documents pipeline stored,
    checked and encrypted it), named here as the sender's file was."""

    __tablename__ = "message_attachment"

    message_id: uuid.UUID = Field(foreign_key="message.id", index=True, ondelete="CASCADE")
    patient_id: uuid.UUID = Field(foreign_key="patient.id", index=True, ondelete="CASCADE")
    document_id: uuid.UUID = Field(foreign_key="document.id", index=True)
    filename: str = encrypted_field("str")


class MessageDelegate(TimestampedTable, table=True):
    """A doctor away names a colleague who answers their messages meanwhile (one row per doctor)."""

    __tablename__ = "message_delegate"

    user_id: uuid.UUID = Field(unique=True, index=True)
    delegate_id: uuid.UUID = Field(index=True)
