"""State of the patient's appointment screens: /patient/appointments ("Your appointments": upcoming
and past, book, reschedule, cancel, the waitlist) and the next appointment on the patient's home;
and the display helpers every appointment screen shares (state/schedule.py, state/scheduling.py).

Every handler calls domain/appointments/service.py through ``state.calls.attempt`` (the actor resolved
on the server; the service decides, applies the clinic's rules and audits). Vars hold display dicts
made from the DTOs; ids and times the buttons send back are requests the service checks again (a
time must be one of the doctor's free slots; an appointment must be the patient's own).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import reflex as rx

from patient_portal.core.access import Actor
from patient_portal.core.clock import clinic_zone, plain_day, plain_time
from patient_portal.domain.appointments import service as svc
from patient_portal.domain.appointments.dto import AppointmentView, DaySlots, SlotView, WaitlistView
from patient_portal.state.calls import attempt
from patient_portal.state.focus import focus_first_error

FORM_ID = "booking-form"
#: Badge colours of the statuses (the words are the DTO's)
STATUS_COLORS = {"proposed": "violet", "pending": "amber", "booked": "blue", "arrived": "green", "fulfilled": "green",
                 "cancelled": "gray", "noshow": "red", "entered-in-error": "gray"}
REMINDERS_BY = {"email": "We send reminders by email.", "sms": "We send reminders by text message.",
                "none": "We have no email address or mobile number to send you reminders: the clinic will call."}


# ---------------------------------------------------------------- display helpers (every appointment screen)


def local(value: datetime) -> datetime:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(clinic_zone())


def clock(value: datetime) -> str:
    """ "14:30" in the clinic's zone."""
    return local(value).strftime("%H:%M")


def slot_row(s: SlotView) -> dict[str, str]:
    """A free time as a button shows it; `key` names it (start and doctor) when it is sent back."""
    start = s.start.isoformat()
    return {"key": f"{start}|{s.doctor_id}", "start": start, "doctor_id": str(s.doctor_id), "doctor": s.doctor_name,
            "when": plain_time(s.start), "time": clock(s.start), "label": f"{plain_time(s.start)} · {s.doctor_name}",
            "day": plain_day(local(s.start).date()),
            "day_iso": local(s.start).date().isoformat()}


def appointment_row(v: AppointmentView) -> dict[str, Any]:
    """One appointment for any screen: the words people read and what this person may do with it."""
    late = " (late)" if v.late_cancel else ""
    return {"id": str(v.id), "when": plain_time(v.start), "day": plain_day(local(v.start).date()),
            "day_iso": local(v.start).date().isoformat(), "time": clock(v.start), "end": clock(v.end),
            "visit_type": v.visit_type, "visit_type_id": str(v.visit_type_id), "doctor": v.doctor_name,
            "doctor_id": str(v.doctor_id), "patient": v.patient_name, "patient_id": str(v.patient_id),
            "chart": f"/chart/{v.patient_id}", "status": v.status,
            "status_words": ("Cancelled" + late) if v.status == "cancelled" else v.status_words,
            "status_color": STATUS_COLORS.get(v.status, "gray"), "reason": v.reason or "",
            "checked_in": f"Checked in {clock(v.checked_in_at)}" if v.checked_in_at else "",
            "cancel_reason": v.cancel_reason.display if v.cancel_reason else "",
            "hold_until": plain_time(v.hold_until) if v.hold_until else "",
            "via_portal": v.via_portal, "paused": v.booking_paused,
            "can_cancel": v.can_cancel, "can_reschedule": v.can_reschedule, "can_check_in": v.can_check_in,
            "can_mark_no_show": v.can_mark_no_show, "can_approve": v.can_approve, "can_join": v.can_join,
            "join": f"/video/{v.id}", "offered": v.status == "proposed"}


def waitlist_row(w: WaitlistView) -> dict[str, str]:
    who = f" with {w.doctor_name}" if w.doctor_name else ""
    return {"id": str(w.id), "text": f"An earlier {w.visit_type.lower()}{who}, before {plain_time(w.before)}",
            "status": "Offered: see above" if w.status == "offered" else "Waiting"}


def today_local() -> str:
    return datetime.now(UTC).astimezone(clinic_zone()).date().isoformat()


def a_day(value: Any) -> str:
    """A yyyy-mm-dd the date input sent ("" when it is not one)."""
    try:
        return date.fromisoformat(str(value)[:10]).isoformat()
    except ValueError:
        return ""


# ---------------------------------------------------------------- composite calls (one unit of work each)


@dataclass
class _Chosen:
    """The choices of the booking panel after a step: the doctors one may see, the day shown, its times."""

    doctors: list[dict[str, str]] = field(default_factory=list)
    doctor_id: str = ""
    day: DaySlots | None = None


def _first_day(session: Any, actor: Actor, visit_type_id: str, doctor_id: str, ignore: str = "") -> _Chosen:
    """The visit type's doctors (a single one chosen), and the day of that doctor's first free time with
    its times (today's when nothing is free)."""
    doctors = [{"id": str(d.id), "name": d.name} for d in svc.bookable_doctors(session, actor,
                                                                               visit_type_id=visit_type_id)]
    if not doctor_id and len(doctors) == 1:
        doctor_id = doctors[0]["id"]
    if not doctor_id or doctor_id not in {d["id"] for d in doctors}:
        return _Chosen(doctors, "")
    first = svc.find_slots(session, actor, visit_type_id=visit_type_id, doctor_id=doctor_id, limit=1)
    day = local(first[0].start).date().isoformat() if first else today_local()
    return _Chosen(doctors, doctor_id, svc.day_slots(session, actor, visit_type_id=visit_type_id, doctor_id=doctor_id,
                                                    day=day, ignore=ignore or None))


def _own(session: Any, actor: Actor) -> Any:
    return svc.own(session, actor)


def _book_own(session: Any, actor: Actor, **kwargs: Any) -> AppointmentView:
    return svc.book(session, actor, patient_id=actor.patient_id, **kwargs)


def _join_own(session: Any, actor: Actor, appointment_id: str) -> Any:
    return svc.join_waitlist(session, actor, patient_id=actor.patient_id, visit_type_id=None,
                             appointment_id=appointment_id)


class PatientAppointmentsState(rx.State):
    """Your appointments: the lists, and the booking panel (book a new one, or move one: `moving`)."""

    status: str = "loading"  # loading | ok | missing
    upcoming: list[dict[str, Any]] = []
    past: list[dict[str, Any]] = []
    waitlist: list[dict[str, str]] = []
    paused: bool = False
    attendance: str = ""
    reminders_by: str = ""
    error: str = ""

    panel_open: bool = False
    moving: str = ""  # the appointment being moved ("" when booking a new one)
    moving_words: str = ""
    visit_types: list[dict[str, str]] = []
    visit_type_id: str = ""
    doctors: list[dict[str, str]] = []
    doctor_id: str = ""
    day: str = ""
    times: list[dict[str, str]] = []
    day_message: str = ""
    next_free: dict[str, str] = {}
    chosen: str = ""  # the chosen time's start (ISO)
    reason: str = ""
    form_errors: dict[str, str] = {}
    form_error: str = ""
    saving: bool = False

    # ------------------------------------------------------------ the lists
    def _close_panel(self) -> None:
        self.panel_open, self.moving, self.moving_words = False, "", ""
        self.visit_type_id, self.doctors, self.doctor_id, self.day = "", [], "", ""
        self.times, self.day_message, self.next_free, self.chosen, self.reason = [], "", {}, "", ""
        self.form_errors, self.form_error, self.saving = {}, "", False

    def _show(self, mine: Any) -> None:
        waiting_for = {w.appointment_id for w in mine.waitlist}
        self.upcoming = [{**appointment_row(v), "can_wait": v.can_cancel and v.status == "booked"
                          and v.id not in waiting_for} for v in mine.upcoming]
        self.past = [appointment_row(v) for v in mine.past]
        self.waitlist = [waitlist_row(w) for w in mine.waitlist]
        a = mine.attendance
        self.paused = a.paused
        self.attendance = (f"Attended {a.attended}, missed {a.no_shows}, cancelled late {a.late_cancels}"
                           if (a.attended or a.no_shows or a.late_cancels) else "")
        self.reminders_by = REMINDERS_BY.get(mine.reminders_by, "")
        self.status = "ok"

    async def _reload(self) -> Any:
        answer = await attempt(self, _own)
        if not answer.ok:
            if answer.signed_out:
                return answer.show(self)
            self.status = "missing"
            return None
        self._show(answer.value)
        return None

    @rx.event
    async def load(self):
        """on_load of /patient/appointments."""
        self.status, self.error = "loading", ""
        self._close_panel()
        return await self._reload()

    # ------------------------------------------------------------ the booking panel
    @rx.event
    async def open_booking(self):
        """Book an appointment: the visit types the patient may book themselves."""
        self._close_panel()
        answer = await attempt(self, svc.visit_types)
        if not answer.ok:
            return answer.show(self)
        self.visit_types = [{"id": str(v.id), "name": v.name + (" (video)" if v.telehealth else "")}
                            for v in answer.value]
        self.panel_open = True
        return None

    @rx.event
    async def open_move(self, appointment_id: str):
        """Move an appointment: the same visit and doctor, another time."""
        row = next((r for r in self.upcoming if r["id"] == str(appointment_id)), None)
        if row is None or not row["can_reschedule"]:
            return None
        self._close_panel()
        self.moving, self.moving_words = row["id"], f"{row['visit_type']} with {row['doctor']}, now {row['when']}"
        self.visit_type_id, self.panel_open = row["visit_type_id"], True
        return await self._choose(row["doctor_id"])

    @rx.event
    def close_panel(self):
        self._close_panel()

    async def _choose(self, doctor_id: str) -> Any:
        self.times, self.chosen, self.day_message, self.next_free = [], "", "", {}
        answer = await attempt(self, _first_day, self.visit_type_id, doctor_id, self.moving)
        if not answer.ok:
            self.form_error = answer.message
            return answer.show(self, message_var="form_error") if answer.signed_out else None
        chosen: _Chosen = answer.value
        self.doctors, self.doctor_id = chosen.doctors, chosen.doctor_id
        if chosen.day is not None:
            self._show_day(chosen.day)
        return None

    def _show_day(self, found: DaySlots) -> None:
        self.day = found.day.isoformat()
        self.times = [slot_row(s) for s in found.slots]
        self.day_message = found.message
        self.next_free = slot_row(found.next_free) if found.next_free else {}
        self.chosen = ""

    @rx.event
    async def set_visit_type(self, value: str):
        self.visit_type_id = str(value)[:64]
        self.doctor_id, self.doctors, self.form_error, self.form_errors = "", [], "", {}
        return await self._choose("")

    @rx.event
    async def set_doctor(self, value: str):
        self.form_error, self.form_errors = "", {}
        return await self._choose(str(value)[:64])

    async def _load_day(self, day: str) -> Any:
        self.form_error, self.form_errors = "", {}
        if not day or not self.doctor_id:
            return None
        answer = await attempt(self, svc.day_slots, visit_type_id=self.visit_type_id, doctor_id=self.doctor_id,
                               day=day, ignore=self.moving or None)
        if not answer.ok:
            if answer.signed_out:
                return answer.show(self)
            self.form_error = answer.message
            return None
        self._show_day(answer.value)
        return None

    @rx.event
    async def set_day(self, value: str):
        self.day = a_day(value)
        return await self._load_day(self.day)

    @rx.event
    async def show_next_free(self):
        return await self._load_day(self.next_free.get("day_iso", ""))

    @rx.event
    def choose(self, start: str):
        if any(t["start"] == start for t in self.times):
            self.chosen = start
            self.form_errors.pop("start", None)

    @rx.event
    def set_reason(self, value: str):
        self.reason = str(value)[:600]
        self.form_errors.pop("reason", None)

    @rx.event
    async def save(self):
        """Book the chosen time (or move the appointment to it); the service checks every rule again."""
        if not self.panel_open or self.saving:
            return None
        if not self.chosen:
            self.form_errors = {"start": "Choose a time."}
            self.form_error = ""
            return focus_first_error(FORM_ID)
        self.saving, self.form_error = True, ""
        if self.moving:
            answer = await attempt(self, svc.reschedule, appointment_id=self.moving, start=self.chosen)
        else:
            answer = await attempt(self, _book_own, visit_type_id=self.visit_type_id, doctor_id=self.doctor_id,
                                   start=self.chosen, reason=self.reason)
        self.saving = False
        if not answer.ok:
            if answer.signed_out:
                return answer.show(self)
            self.form_errors = {k: v for k, v in answer.errors.items() if k in ("reason",)}
            self.form_error = answer.message
            taken = getattr(answer.error, "alternatives", None)
            if taken is not None:
                await self._load_day(self.day)
                self.form_error = answer.message
            return None
        view: AppointmentView = answer.value
        moved = bool(self.moving)
        self._close_panel()
        await self._reload()
        if view.status == "pending":
            return rx.toast.success(f"Requested: {plain_time(view.start)} with {view.doctor_name}. The clinic will "
                                    "confirm it.")
        return rx.toast.success(f"{'Moved to' if moved else 'Booked:'} {plain_time(view.start)} with {view.doctor_name}")

    # ------------------------------------------------------------ cancel, waitlist, offers
    @rx.event
    async def cancel(self, appointment_id: str):
        self.error = ""
        answer = await attempt(self, svc.cancel, appointment_id=str(appointment_id)[:64])
        if not answer.ok:
            return answer.show(self)
        await self._reload()
        late = " It was less than a day away, so it counts as a late cancellation." if answer.value.late_cancel else ""
        return rx.toast.success(f"Cancelled: {plain_time(answer.value.start)}.{late}")

    @rx.event
    async def wait_for_earlier(self, appointment_id: str):
        self.error = ""
        answer = await attempt(self, _join_own, str(appointment_id)[:64])
        if not answer.ok:
            return answer.show(self)
        await self._reload()
        return rx.toast.success("You are on the waitlist. If an earlier time frees up, we email you and hold it for you.")

    @rx.event
    async def leave_waitlist(self, entry_id: str):
        self.error = ""
        answer = await attempt(self, svc.leave_waitlist, entry_id=str(entry_id)[:64])
        if not answer.ok:
            return answer.show(self)
        await self._reload()
        return rx.toast.success("You have left the waitlist.")

    @rx.event
    async def take_offer(self, appointment_id: str):
        self.error = ""
        answer = await attempt(self, svc.accept_offer, appointment_id=str(appointment_id)[:64])
        if not answer.ok:
            await self._reload()
            return answer.show(self)
        await self._reload()
        return rx.toast.success(f"Booked: {plain_time(answer.value.start)} with {answer.value.doctor_name}")


class NextAppointmentState(rx.State):
    """The patient's home: their next appointment (or how to book one)."""

    next_status: str = "loading"  # loading | ok | failed
    next_appointment: dict[str, Any] = {}

    @rx.event
    async def load(self):
        self.next_status, self.next_appointment = "loading", {}
        answer = await attempt(self, _own)
        if not answer.ok:
            self.next_status = "loading" if answer.signed_out else "failed"
            return None
        coming = [v for v in answer.value.upcoming if v.status in ("booked", "pending", "arrived")]
        self.next_appointment = appointment_row(coming[0]) if coming else {}
        self.next_status = "ok"
        return None
