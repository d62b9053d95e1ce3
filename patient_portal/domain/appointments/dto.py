"""What the appointments service hands out, and its errors. Times are aware UTC datetimes (the UI
writes them in the clinic's zone with core.clock); codes carry their system."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from patient_portal.core import errors
from patient_portal.core.coding import Coding

CANCEL_REASON_SYSTEM = "http://terminology.hl7.org/CodeSystem/appointment-cancellation-reason"
#: FHIR R4's appointment-cancellation-reason codes the portal offers (code -> display)
CANCEL_REASONS: dict[str, str] = {
    "pat": "Patient",
    "pat-crs": "Patient: Canceled via automated reminder system",
    "pat-cpp": "Patient: Canceled via Patient Portal",
    "pat-dec": "Patient: Deceased",
    "pat-fb": "Patient: Feeling Better",
    "pat-lt": "Patient: Lack of Transportation",
    "pat-mv": "Patient: Moved",
    "pat-swl": "Patient: Scheduled from Wait List",
    "pat-ucp": "Patient: Unhappy/Changed Provider",
    "prov": "Provider",
    "prov-pers": "Provider: Personal",
    "prov-edu": "Provider: Edu/Meeting",
    "prov-hosp": "Provider: Hospitalized",
    "maint": "Equipment Maintenance/Repair",
    "other": "Other",
    "oth-err": "Other: Error",
    "oth-weath": "Other: Weather",
}
#: What staff choose from when they cancel (the rest are set by the portal itself)
STAFF_CANCEL_REASONS = ("pat", "pat-fb", "pat-lt", "pat-mv", "pat-ucp", "prov", "prov-pers", "prov-edu",
                        "prov-hosp", "maint", "oth-weath", "oth-err", "other")

#: The status as people read it
STATUS_WORDS = {"proposed": "Offered", "pending": "Waiting for approval", "booked": "Booked",
                "arrived": "Checked in", "fulfilled": "Attended", "cancelled": "Cancelled", "noshow": "No-show",
                "entered-in-error": "Entered in error"}


def cancel_coding(code: str | None) -> Coding | None:
    return Coding(CANCEL_REASON_SYSTEM, code, CANCEL_REASONS.get(code, code)) if code else None


class AppointmentInvalid(errors.Invalid):
    """A booking breaks a rule; `errors` names the field ("start", "visit_type", ...)."""


class AppointmentNotFound(errors.NotFound):
    def __init__(self) -> None:
        super().__init__("That appointment was not found.")


class SlotTaken(errors.Conflict):
    """Someone else has just taken that time; `alternatives` are the next free ones."""

    def __init__(self, alternatives: list[SlotView]):
        super().__init__("Someone has just booked that time. Choose another one"
                         + (": the next free times are shown." if alternatives else "."))
        self.alternatives = alternatives


class StatusConflict(errors.Conflict):
    """The appointment is in a state that forbids this (already cancelled, not today ...)."""


@dataclass(frozen=True)
class VisitTypeView:
    id: uuid.UUID
    code: str
    name: str
    duration_minutes: int
    buffer_minutes: int
    who_may_book: str
    self_bookable: bool
    new_patient: bool
    telehealth: bool
    active: bool
    version: int


@dataclass(frozen=True)
class DoctorView:
    id: uuid.UUID
    name: str


@dataclass(frozen=True)
class SlotView:
    start: datetime
    end: datetime
    doctor_id: uuid.UUID
    doctor_name: str


@dataclass(frozen=True)
class AppointmentView:
    """One appointment as this actor may see it (`reason`: None when they may not read it)."""

    id: uuid.UUID
    patient_id: uuid.UUID
    patient_name: str
    doctor_id: uuid.UUID
    doctor_name: str
    visit_type_id: uuid.UUID
    visit_type: str
    start: datetime
    end: datetime
    status: str
    reason: str | None
    via_portal: bool
    cancel_reason: Coding | None
    late_cancel: bool
    checked_in_at: datetime | None
    hold_until: datetime | None
    version: int
    can_cancel: bool = False
    can_reschedule: bool = False
    can_check_in: bool = False
    can_mark_no_show: bool = False
    can_approve: bool = False
    booking_paused: bool = False  # the patient's self-booking is paused (no-shows; shown to staff)
    can_join: bool = False  # a video visit of this actor's own, open now: the Join button

    @property
    def status_words(self) -> str:
        return STATUS_WORDS.get(self.status, self.status)


@dataclass(frozen=True)
class Attendance:
    """A patient's attendance, read from the statuses."""

    attended: int = 0
    no_shows: int = 0
    late_cancels: int = 0
    cancelled: int = 0
    paused: bool = False  # self-booking paused (no-shows reached the clinic's threshold)


@dataclass(frozen=True)
class WaitlistView:
    id: uuid.UUID
    visit_type: str
    doctor_name: str  # "" for any doctor
    before: datetime
    status: str
    appointment_id: uuid.UUID | None = None  # the appointment an accepted offer replaces


@dataclass(frozen=True)
class PatientAppointments:
    upcoming: list[AppointmentView]
    past: list[AppointmentView]
    attendance: Attendance
    waitlist: list[WaitlistView] = field(default_factory=list)
    reminders_by: str = "none"  # email | sms | none: how reminders reach the patient (their contact preference)


@dataclass(frozen=True)
class DaySlots:
    """The free times of one doctor on one clinic-local day, and when there are none (or fewer than the
    day's hours), why, in plain words, with the next free time after it."""

    day: date
    slots: list[SlotView]
    message: str = ""
    next_free: SlotView | None = None


@dataclass(frozen=True)
class ScheduleDay:
    day: date
    items: list[AppointmentView]


@dataclass(frozen=True)
class Schedule:
    doctor_id: uuid.UUID
    doctor_name: str
    days: list[ScheduleDay]


@dataclass(frozen=True)
class Notice:
    id: uuid.UUID
    kind: str
    at: datetime
    appointment_id: uuid.UUID
    patient_id: uuid.UUID
    patient_name: str
    start: datetime | None
    doctor_name: str
    read: bool


@dataclass(frozen=True)
class NoShowRate:
    """No-shows among appointments whose time has passed (attended + no-shows), per doctor or type."""

    label: str
    no_shows: int
    seen: int

    @property
    def rate(self) -> float:
        return self.no_shows / self.seen if self.seen else 0.0


@dataclass(frozen=True)
class LinkView:
    """What a reminder's link is for, shown before the person presses the button."""

    purpose: str  # confirm | cancel | accept
    start: datetime
    doctor_name: str
    clinic: str
    usable: bool
    message: str = ""
