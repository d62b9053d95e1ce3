"""Appointments: what may be booked (visit types), when (each doctor's weekly availability and its
exceptions, the clinic's scheduling rules), what was booked (appointments, UTC), who waits for an
earlier time (the waitlist), what staff are told (notices) and the links sent in reminders.

What is PHI and so AES-GCM ciphertext: the patient's reason for the visit. Everything the policy,
the constraints and the schedule read stays plain: the patient and doctor ids, the visit type, the
times (UTC), the status and the cancellation code. That a patient has an appointment with a doctor
is visible to whoever may read the patient's appointments at all (the policy decides).

**No double booking, enforced by the database.** An appointment occupies its doctor from
``start_at`` to ``blocked_until`` (the end plus the visit type's buffer) unless it is cancelled or
entered in error (``FREES_SLOT``):

* everywhere, a unique partial index on (doctor, start) over those rows: two bookings of one slot
  at once — one insert wins, the other fails in the database;
* on PostgreSQL also an exclusion constraint (btree_gist) over (doctor =, tstzrange(start,
  blocked_until) &&): overlapping times with different starts (a 40-minute visit at 9:00 and a
  20-minute one at 9:20) fail too. On SQLite the service's overlap check runs under the database's
  one write lock (BEGIN IMMEDIATE, core.db), so it cannot race.

Attendance is not stored: it is read from the statuses (fulfilled or arrived: attended; noshow;
cancelled with ``late_cancel``).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from sqlalchemy import DDL, Column, Index, event, func, text
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.types import JSON
from sqlmodel import Field, SQLModel

from patient_portal.core.crypto import encrypted_field
from patient_portal.core.db import TimestampedTable, utcnow

# FHIR R4 Appointment.status (the values this portal uses)
PROPOSED, PENDING, BOOKED, ARRIVED, FULFILLED = "proposed", "pending", "booked", "arrived", "fulfilled"
CANCELLED, NOSHOW, ENTERED_IN_ERROR = "cancelled", "noshow", "entered-in-error"
STATUSES = (PROPOSED, PENDING, BOOKED, ARRIVED, FULFILLED, CANCELLED, NOSHOW, ENTERED_IN_ERROR)
#: statuses whose time no longer occupies the doctor
FREES_SLOT = (CANCELLED, ENTERED_IN_ERROR)
#: statuses of an appointment still to come (counted against a patient's limit, reminded)
UPCOMING = (PROPOSED, PENDING, BOOKED)

#: how long before its start a telehealth appointment's video call opens (its end closes it), and the
#: statuses whose call may take place (domain/video asks these; an appointment's Join button shows them)
VIDEO_JOIN_EARLY = timedelta(minutes=10)
VIDEO_OPEN_STATUSES = (BOOKED, ARRIVED)

#: who may book a visit type
BY_STAFF, BY_ANYONE = "staff", "anyone"

CLOSED, EXTRA = "closed", "extra"

_ACTIVE_SQL = "status NOT IN ('cancelled', 'entered-in-error')"
_NOSHOW_SQL = "status = 'noshow'"


class VisitType(TimestampedTable, table=True):
    """A kind of visit: how long it takes, the pause after it, who may book it."""

    __tablename__ = "visit_type"

    code: str = Field(max_length=32, unique=True, index=True)  # "follow_up"
    name: str = Field(max_length=80)  # "Follow-up"
    duration_minutes: int = 20
    buffer_minutes: int = 0
    who_may_book: str = Field(default=BY_ANYONE, max_length=16)  # staff | anyone
    self_bookable: bool = True  # patients may book it from the portal
    new_patient: bool = False  # a patient may book it with any doctor (not only their care team)
    telehealth: bool = False
    active: bool = True
    version: int = Field(default=1, nullable=False)


class AvailabilityRule(TimestampedTable, table=True):
    """A weekly block of a doctor's time (clinic-local wall clock), for one visit type or any.
    Several a day are several rows."""

    __tablename__ = "availability_rule"

    doctor_id: uuid.UUID = Field(index=True)
    weekday: int  # 0 Monday … 6 Sunday
    start_time: str = Field(max_length=5)  # "09:00", clinic local
    end_time: str = Field(max_length=5)  # "12:30"
    visit_type_id: uuid.UUID | None = Field(default=None, foreign_key="visit_type.id")  # None: any type
    valid_from: date
    valid_until: date | None = None


class AvailabilityException(TimestampedTable, table=True):
    """A change to the weekly pattern: a closed stretch (vacation: one doctor; clinic closed: every
    doctor) or an extra session. Dates and times are clinic-local; no times means whole days."""

    __tablename__ = "availability_exception"

    kind: str = Field(max_length=8)  # closed | extra
    doctor_id: uuid.UUID | None = Field(default=None, index=True)  # None: the whole clinic (closed only)
    start_date: date = Field(index=True)
    end_date: date
    start_time: str | None = Field(default=None, max_length=5)
    end_time: str | None = Field(default=None, max_length=5)
    visit_type_id: uuid.UUID | None = Field(default=None, foreign_key="visit_type.id")  # extra: for this type
    label: str = Field(default="", max_length=80)  # "Vacation", "Public holiday": never about a patient


class SchedulingRules(TimestampedTable, table=True):
    """The clinic's scheduling rules: one row (``service.rules`` creates it with these defaults).
    The time zone is the clinic's (PORTAL_TIMEZONE, core.clock)."""

    __tablename__ = "scheduling_rules"

    min_notice_hours: int = 24  # patients book at least this far ahead
    max_days_ahead: int = 90  # … and at most this far
    max_future_bookings: int = 3  # upcoming appointments a patient may hold
    cancellation_window_hours: int = 24  # a later cancellation counts as late; no portal rescheduling
    no_show_threshold: int = 3  # after this many no-shows, self-booking pauses
    reminder_hours: list = Field(default_factory=lambda: [72, 24], sa_column=Column(JSON, nullable=False))
    require_approval: bool = False  # portal bookings wait (pending) until staff approve them
    waitlist_hold_minutes: int = 60  # how long a freed time is held for the waitlisted patient offered it
    version: int = Field(default=1, nullable=False)


class Appointment(TimestampedTable, table=True):
    """One appointment of one patient with one doctor, times in UTC."""

    __tablename__ = "appointment"
    __table_args__ = (
        Index("ix_appointment_doctor_start_active", "doctor_id", "start_at", unique=True,
              sqlite_where=text(_ACTIVE_SQL), postgresql_where=text(_ACTIVE_SQL)),
        Index("ix_appointment_start", "start_at"),
        Index("ix_appointment_patient_start", "patient_id", "start_at"),
        # a patient's no-shows, counted for every row of a day or week view (self-booking paused?)
        Index("ix_appointment_noshow_patient", "patient_id", sqlite_where=text(_NOSHOW_SQL),
              postgresql_where=text(_NOSHOW_SQL)),
        ExcludeConstraint(("doctor_id", "="), (func.tstzrange(text("start_at"), text("blocked_until")), "&&"),
                          name="ex_appointment_no_overlap", using="gist",
                          where=text(_ACTIVE_SQL)).ddl_if(dialect="postgresql"),
    )

    patient_id: uuid.UUID = Field(foreign_key="patient.id")
    doctor_id: uuid.UUID
    visit_type_id: uuid.UUID = Field(foreign_key="visit_type.id")
    start_at: datetime
    end_at: datetime
    blocked_until: datetime  # end_at + the visit type's buffer
    status: str = Field(default=BOOKED, max_length=16, index=True)
    reason: str | None = encrypted_field("str", nullable=True)  # the patient's reason for the visit (PHI)
    booked_by: uuid.UUID | None = None
    via_portal: bool = False  # booked by the patient themselves
    cancel_reason: str | None = Field(default=None, max_length=16)  # appointment-cancellation-reason code
    cancelled_at: datetime | None = None
    cancelled_by: uuid.UUID | None = None
    late_cancel: bool = False
    checked_in_at: datetime | None = None
    hold_until: datetime | None = None  # a waitlist offer (proposed) lapses then
    confirmed_at: datetime | None = None  # the patient confirmed from a reminder
    sequence: int = 0  # the .ics SEQUENCE: rises with every change sent
    version: int = Field(default=1, nullable=False)


WAITING, OFFERED, DONE, REMOVED = "waiting", "offered", "done", "removed"


class WaitlistEntry(TimestampedTable, table=True):
    """A patient waiting for an earlier time of a visit type (with one doctor, or any they may see)."""

    __tablename__ = "waitlist_entry"

    patient_id: uuid.UUID = Field(foreign_key="patient.id", index=True)
    visit_type_id: uuid.UUID = Field(foreign_key="visit_type.id")
    doctor_id: uuid.UUID | None = None
    before: datetime  # a time earlier than this (their current appointment, or the end of the wish)
    appointment_id: uuid.UUID | None = None  # the appointment an accepted offer replaces
    status: str = Field(default=WAITING, max_length=16, index=True)
    offered_appointment_id: uuid.UUID | None = None


class AppointmentNotice(TimestampedTable, table=True):
    """What staff are told: a patient booked, changed or cancelled from the portal, or a booking
    waits for approval. Ids and a kind only; the list composes names when it is read."""

    __tablename__ = "appointment_notice"

    appointment_id: uuid.UUID = Field(index=True)
    patient_id: uuid.UUID
    kind: str = Field(max_length=16)  # booked | pending | rescheduled | cancelled | waitlist
    read_at: datetime | None = None


class AppointmentLink(SQLModel, table=True):
    """A one-time link of a reminder or an offer (confirm, cancel, accept): a 256-bit token in the
    URL, only its SHA-256 here (domain/identity/email_links.py's pattern)."""

    __tablename__ = "appointment_link"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    appointment_id: uuid.UUID = Field(index=True)
    purpose: str = Field(max_length=16)  # confirm | cancel | accept
    token_hash: str = Field(max_length=64, unique=True, index=True)
    sequence: int = 0  # the appointment's sequence it was sent for: a changed appointment voids it
    created_at: datetime = Field(default_factory=utcnow, nullable=False)
    expires_at: datetime
    used_at: datetime | None = None


class ReminderSent(SQLModel, table=True):
    """One reminder decided (and queued) for one appointment time: the unique key makes a second
    run of the same reminder job — a second worker, a lease run out — a no-op."""

    __tablename__ = "appointment_reminder_sent"
    __table_args__ = (Index("ux_reminder_once", "appointment_id", "hours", "start_at", unique=True),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    appointment_id: uuid.UUID
    hours: int
    start_at: datetime
    channel: str = Field(max_length=8)  # email | sms | none
    created_at: datetime = Field(default_factory=utcnow, nullable=False)


# the exclusion constraint needs btree_gist (for the uuid "=" part); create_all and the migration both ask
event.listen(Appointment.__table__, "before_create",  # type: ignore[attr-defined]
             DDL("CREATE EXTENSION IF NOT EXISTS btree_gist").execute_if(dialect="postgresql"))
