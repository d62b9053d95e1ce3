"""State of the clinic's side of appointments: a doctor's day and week (/doctor/schedule for their own,
the front desk's "Day and week" on /staff/appointments for any doctor), booking for a patient
(find the patient, "first available" or a doctor and dates, book, move, cancel with a reason, the
waitlist), the portal bookings waiting for approval, and the notices card on the staff dashboard.

Every handler calls domain/appointments/service.py through ``state.calls.attempt``; the service
decides who may see which schedule and do what. Ids, times and reason codes sent back by buttons
are requests the service checks again.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import reflex as rx

from patient_portal.core.access import Action, Actor
from patient_portal.core.clock import plain_day, plain_time
from patient_portal.domain.appointments import service as svc
from patient_portal.domain.appointments.dto import (
    CANCEL_REASONS,
    STAFF_CANCEL_REASONS,
    AppointmentView,
    Schedule,
)
from patient_portal.domain.patients import search as patient_search
from patient_portal.domain.patients.header import chart_header
from patient_portal.state.appointments import a_day, appointment_row, slot_row, today_local, waitlist_row
from patient_portal.state.calls import attempt
from patient_portal.state.focus import focus_first_error

BOOK_FORM_ID = "staff-booking-form"
#: What staff choose from when they cancel: (code, words)
CANCEL_OPTIONS = [(code, CANCEL_REASONS[code]) for code in STAFF_CANCEL_REASONS]
NOTICE_WORDS = {"booked": "booked online", "pending": "asks for approval of", "rescheduled": "moved",
                "cancelled": "cancelled", "waitlist": "took a waitlist offer for"}


def schedule_rows(schedule: Schedule) -> list[dict[str, Any]]:
    """The days of a schedule as one list: a heading row per day ("kind" day), then its appointments
    ("kind" item), or one "empty" row."""
    rows: list[dict[str, Any]] = []
    for d in schedule.days:
        rows.append({"kind": "day", "id": d.day.isoformat(), "day": plain_day(d.day), "count": str(len(d.items))})
        if not d.items:
            rows.append({"kind": "empty", "id": f"empty-{d.day.isoformat()}", "day": plain_day(d.day)})
        rows.extend({"kind": "item", **appointment_row(v)} for v in d.items)
    return rows


def _shift(day: str, by: int) -> str:
    start = date.fromisoformat(day) if a_day(day) else date.fromisoformat(today_local())
    return (start + timedelta(days=by)).isoformat()


class ScheduleState(rx.State):
    """A doctor's day or week. `own`: the signed-in doctor's (no picker); else the chosen doctor's."""

    schedule_status: str = "loading"  # loading | ok | denied | failed
    own: bool = False
    doctors: list[dict[str, str]] = []
    doctor_id: str = ""
    doctor_name: str = ""
    day: str = ""
    days: str = "1"  # "1" the day | "7" the week
    rows: list[dict[str, Any]] = []
    heading: str = ""
    pending: list[dict[str, Any]] = []
    cancel_reason: str = "pat"
    message: str = ""
    can_act: bool = False

    async def _fetch(self) -> Any:
        self.message = ""
        ask: dict[str, Any] = {"day": self.day or None, "days": self.days}
        if not self.own:
            if not self.doctor_id:
                self.rows, self.heading = [], ""
                return None
            ask["doctor_id"] = self.doctor_id
        answer = await attempt(self, svc.schedule, **ask)
        if not answer.ok:
            if answer.signed_out:
                return answer.show(self)
            self.rows = []
            self.schedule_status = "denied" if answer.denied else "ok"
            self.message = answer.message
            return None
        schedule: Schedule = answer.value
        self.rows = schedule_rows(schedule)
        self.doctor_name = schedule.doctor_name
        first, last = schedule.days[0].day, schedule.days[-1].day
        self.day = first.isoformat()
        self.heading = plain_day(first) if self.days == "1" else f"{plain_day(first)} – {plain_day(last)}"
        self.can_act = answer.actor.can(Action.APPOINTMENT_ATTENDANCE)
        self.schedule_status = "ok"
        return None

    async def _fetch_pending(self) -> None:
        answer = await attempt(self, svc.pending)
        self.pending = [appointment_row(v) for v in answer.value] if answer.ok else []

    @rx.event
    async def load_own(self):
        """on_load of /doctor/schedule: the signed-in doctor's day."""
        self.schedule_status, self.own, self.day, self.days, self.rows = "loading", True, "", "1", []
        self.doctors, self.doctor_id, self.pending = [], "", []
        return await self._fetch()

    @rx.event
    async def load_clinic(self):
        """on_load of /staff/appointments: the doctors with a schedule, the first one's day, approvals."""
        self.schedule_status, self.own, self.day, self.days, self.rows = "loading", False, "", "1", []
        answer = await attempt(self, svc.scheduled_doctors)
        if not answer.ok:
            if answer.signed_out:
                return answer.show(self)
            self.schedule_status = "denied" if answer.denied else "failed"
            return None
        self.doctors = [{"id": str(d.id), "name": d.name} for d in answer.value]
        if self.doctor_id not in {d["id"] for d in self.doctors}:
            self.doctor_id = self.doctors[0]["id"] if self.doctors else ""
        await self._fetch_pending()
        if not self.doctor_id:
            self.schedule_status = "ok"
            return None
        return await self._fetch()

    @rx.event
    async def set_doctor(self, value: str):
        self.doctor_id = str(value)[:64]
        return await self._fetch()

    @rx.event
    async def set_day(self, value: str):
        self.day = a_day(value) or today_local()
        return await self._fetch()

    @rx.event
    async def set_days(self, value: str):
        self.days = "7" if str(value) == "7" else "1"
        return await self._fetch()

    @rx.event
    async def previous(self):
        self.day = _shift(self.day, -int(self.days))
        return await self._fetch()

    @rx.event
    async def following(self):
        self.day = _shift(self.day, int(self.days))
        return await self._fetch()

    @rx.event
    async def today(self):
        self.day = today_local()
        return await self._fetch()

    async def _act(self, fn: Any, appointment_id: str, done: str, **kwargs: Any) -> Any:
        self.message = ""
        answer = await attempt(self, fn, appointment_id=str(appointment_id)[:64], **kwargs)
        if not answer.ok:
            if answer.signed_out:
                return answer.show(self)
            self.message = answer.message
            await self._fetch()
            return None
        view: AppointmentView = answer.value
        await self._fetch()
        if not self.own:
            await self._fetch_pending()
        return rx.toast.success(f"{done}: {view.patient_name}, {plain_time(view.start)}")

    @rx.event
    async def check_in(self, appointment_id: str):
        return await self._act(svc.check_in, appointment_id, "Checked in")

    @rx.event
    async def no_show(self, appointment_id: str):
        return await self._act(svc.mark_no_show, appointment_id, "Marked as a no-show")

    @rx.event
    async def approve(self, appointment_id: str):
        return await self._act(svc.approve, appointment_id, "Approved")

    @rx.event
    def set_cancel_reason(self, value: str):
        if value in STAFF_CANCEL_REASONS:
            self.cancel_reason = value

    @rx.event
    async def cancel(self, appointment_id: str):
        return await self._act(svc.cancel, appointment_id, "Cancelled", reason_code=self.cancel_reason)


# ---------------------------------------------------------------- booking for a patient (front desk)


def _patient_and_appointments(session: Any, actor: Actor, patient_id: str) -> tuple[dict[str, str], Any]:
    """Who the patient is (the chart header's facts) and their appointments, in one unit."""
    header = chart_header(session, actor, patient_id).patient
    person = {"id": header["id"], "name": header["name"], "dob": header["dob_display"], "age": header["age"],
              "mrn": header["mrn"]}
    return person, svc.for_patient(session, actor, patient_id=patient_id)


def _choices(session: Any, actor: Actor) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    types = [{"id": str(v.id), "name": v.name} for v in svc.visit_types(session, actor)]
    doctors = [{"id": str(d.id), "name": d.name} for d in svc.scheduled_doctors(session, actor)]
    return types, doctors


class StaffBookingState(rx.State):
    """Book for a patient: find them, find a time, book it (or move one of theirs to it)."""

    booking_status: str = "loading"  # loading | ok | denied
    query: str = ""
    results: list[dict[str, str]] = []
    search_message: str = ""
    patient: dict[str, str] = {}
    appointments: list[dict[str, Any]] = []
    waitlist: list[dict[str, str]] = []
    paused: bool = False
    attendance: str = ""

    visit_types: list[dict[str, str]] = []
    doctors: list[dict[str, str]] = []
    visit_type_id: str = ""
    doctor_id: str = "any"
    date_from: str = ""
    date_to: str = ""
    slots: list[dict[str, str]] = []
    slots_message: str = ""
    chosen: str = ""  # the chosen slot's key (start|doctor)
    reason: str = ""
    moving: str = ""
    moving_words: str = ""
    cancel_reason: str = "pat"
    form_errors: dict[str, str] = {}
    form_error: str = ""
    error: str = ""

    @rx.event
    async def load(self):
        """on_load of /staff/appointments: the visit types and doctors to choose from."""
        self.booking_status, self.results, self.search_message, self.error = "loading", [], "", ""
        self._forget_times()
        answer = await attempt(self, _choices)
        if not answer.ok:
            if answer.signed_out:
                return answer.show(self)
            self.booking_status = "denied"
            return None
        self.visit_types, self.doctors = answer.value
        if self.visit_type_id not in {v["id"] for v in self.visit_types}:
            self.visit_type_id = self.visit_types[0]["id"] if self.visit_types else ""
        self.booking_status = "ok"
        if self.patient:
            return await self._load_patient(self.patient["id"])
        return None

    def _forget_times(self) -> None:
        self.slots, self.slots_message, self.chosen, self.reason = [], "", "", ""
        self.moving, self.moving_words, self.form_errors, self.form_error = "", "", {}, ""

    # ------------------------------------------------------------ the patient
    @rx.event
    def set_query(self, value: str):
        self.query = str(value)[:100]

    @rx.event
    async def search(self, form: dict[str, Any]):
        """Find the patient (the search form: name, date of birth, MRN, phone or email)."""
        self.query = str(form.get("query", self.query) or "")[:100]
        self.search_message = ""
        answer = await attempt(self, patient_search.search_patients, self.query)
        if not answer.ok:
            return answer.show(self, message_var="search_message")
        found = answer.value
        self.results = [{"id": r["id"], "name": r["name"], "dob": r["dob_display"], "age": r["age"], "mrn": r["mrn"]}
                        for r in found["rows"][:10]]
        self.search_message = found.get("message", "")
        return None

    async def _load_patient(self, patient_id: str) -> Any:
        answer = await attempt(self, _patient_and_appointments, str(patient_id)[:64])
        if not answer.ok:
            return answer.show(self)
        person, mine = answer.value
        self.patient = person
        self.appointments = [appointment_row(v) for v in mine.upcoming]
        self.waitlist = [waitlist_row(w) for w in mine.waitlist]
        a = mine.attendance
        self.paused = a.paused
        self.attendance = f"Attended {a.attended} · No-shows {a.no_shows} · Late cancellations {a.late_cancels}"
        return None

    @rx.event
    async def choose_patient(self, patient_id: str):
        self.results, self.query, self.error = [], "", ""
        self._forget_times()
        return await self._load_patient(patient_id)

    @rx.event
    def change_patient(self):
        self.patient, self.appointments, self.waitlist, self.paused, self.attendance = {}, [], [], False, ""
        self._forget_times()

    # ------------------------------------------------------------ finding a time
    @rx.event
    def set_visit_type(self, value: str):
        self.visit_type_id = str(value)[:64]
        self.slots, self.chosen, self.slots_message = [], "", ""

    @rx.event
    def set_doctor(self, value: str):
        self.doctor_id = str(value)[:64]
        self.slots, self.chosen, self.slots_message = [], "", ""

    @rx.event
    def set_date_from(self, value: str):
        self.date_from = a_day(value)

    @rx.event
    def set_date_to(self, value: str):
        self.date_to = a_day(value)

    @rx.event
    async def find_times(self):
        """First available (any doctor), or the chosen doctor's free times in the dates given."""
        self.form_errors, self.form_error, self.slots, self.chosen = {}, "", [], ""
        answer = await attempt(self, svc.find_slots, visit_type_id=self.visit_type_id,
                               doctor_id=None if self.doctor_id in ("", "any") else self.doctor_id,
                               date_from=self.date_from or None, date_to=self.date_to or None, limit=12)
        if not answer.ok:
            if answer.signed_out:
                return answer.show(self)
            self.form_errors, self.form_error = dict(answer.errors), answer.message
            return None
        self.slots = [slot_row(s) for s in answer.value]
        self.slots_message = "" if self.slots else "No free times in those dates. Widen the dates or choose another doctor."
        return None

    @rx.event
    def choose(self, key: str):
        if any(s["key"] == key for s in self.slots):
            self.chosen = key
            self.form_errors.pop("start", None)

    @rx.event
    def set_reason(self, value: str):
        self.reason = str(value)[:600]

    @rx.event
    async def book(self):
        """Book the chosen time for the patient (or move the chosen appointment to it)."""
        if not self.patient:
            self.form_error = "Find and choose the patient first."
            return None
        slot = next((s for s in self.slots if s["key"] == self.chosen), None)
        if slot is None:
            self.form_errors, self.form_error = {"start": "Choose a time."}, ""
            return focus_first_error(BOOK_FORM_ID)
        if self.moving:
            answer = await attempt(self, svc.reschedule, appointment_id=self.moving, start=slot["start"],
                                   doctor_id=slot["doctor_id"])
        else:
            answer = await attempt(self, svc.book, patient_id=self.patient["id"], visit_type_id=self.visit_type_id,
                                   doctor_id=slot["doctor_id"], start=slot["start"], reason=self.reason or None)
        if not answer.ok:
            if answer.signed_out:
                return answer.show(self)
            self.form_error = answer.message
            alternatives = getattr(answer.error, "alternatives", None)
            if alternatives is not None:
                self.slots, self.chosen = [slot_row(s) for s in alternatives], ""
            return None
        view: AppointmentView = answer.value
        moved = bool(self.moving)
        self._forget_times()
        await self._load_patient(self.patient["id"])
        return rx.toast.success(f"{'Moved' if moved else 'Booked'}: {view.patient_name}, {view.visit_type} with "
                                f"{view.doctor_name}, {plain_time(view.start)}")

    # ------------------------------------------------------------ the patient's appointments
    @rx.event
    def start_move(self, appointment_id: str):
        row = next((r for r in self.appointments if r["id"] == str(appointment_id)), None)
        if row is None or not row["can_reschedule"]:
            return
        self._forget_times()
        self.moving, self.moving_words = row["id"], f"{row['visit_type']} with {row['doctor']}, {row['when']}"
        self.visit_type_id, self.doctor_id = row["visit_type_id"], row["doctor_id"]

    @rx.event
    def stop_move(self):
        self._forget_times()

    @rx.event
    def set_cancel_reason(self, value: str):
        if value in STAFF_CANCEL_REASONS:
            self.cancel_reason = value

    @rx.event
    async def cancel(self, appointment_id: str):
        self.error = ""
        answer = await attempt(self, svc.cancel, appointment_id=str(appointment_id)[:64], reason_code=self.cancel_reason)
        if not answer.ok:
            return answer.show(self)
        await self._load_patient(self.patient.get("id", ""))
        return rx.toast.success(f"Cancelled: {plain_time(answer.value.start)}")

    @rx.event
    async def wait_for_earlier(self, appointment_id: str):
        self.error = ""
        answer = await attempt(self, svc.join_waitlist, patient_id=self.patient.get("id", ""), visit_type_id=None,
                               appointment_id=str(appointment_id)[:64])
        if not answer.ok:
            return answer.show(self)
        await self._load_patient(self.patient.get("id", ""))
        return rx.toast.success("On the waitlist: the patient is offered an earlier time when one frees up.")


class NoticesState(rx.State):
    """The staff dashboard's card: what patients booked, changed or cancelled from the portal."""

    notices_status: str = "loading"  # loading | ok | failed
    notices: list[dict[str, str]] = []
    unread: int = 0
    notices_error: str = ""

    @rx.event
    async def load(self):
        self.notices_status = "loading"
        answer = await attempt(self, svc.notices, limit=10)
        if not answer.ok:
            self.notices, self.unread = [], 0
            self.notices_status = "loading" if answer.signed_out else "failed"
            return None
        self.notices = [{"id": str(n.id), "patient": n.patient_name, "what": NOTICE_WORDS.get(n.kind, n.kind),
                         "when": plain_time(n.start) if n.start else "", "doctor": n.doctor_name,
                         "at": plain_time(n.at), "read": "yes" if n.read else ""} for n in answer.value]
        self.unread = sum(1 for n in answer.value if not n.read)
        self.notices_status = "ok"
        return None

    @rx.event
    async def mark_read(self):
        answer = await attempt(self, svc.mark_notices_read)
        if not answer.ok:
            return answer.show(self, message_var="notices_error")
        return await self.load()
