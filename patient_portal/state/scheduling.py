"""State of /admin/scheduling (the clinic's rules, visit types, each doctor's weekly hours and the
exceptions, no-show rates) and of /appointments/respond (the page a reminder's or an offer's link
opens, no sign-in).

Admin handlers call the appointments service through ``state.calls.attempt`` (``appointment.settings.
write``: admins only; everything audited). The link page's token is read from the address on load
and kept in a backend var; nothing about the patient is shown beyond the time and the doctor.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from patient_portal.core.clock import plain_day, plain_time
from patient_portal.core.db import off_loop, transact
from patient_portal.core.errors import ServiceError
from patient_portal.domain.appointments import service as svc
from patient_portal.domain.appointments.dto import VisitTypeView
from patient_portal.domain.appointments.validation import RULE_LIMITS
from patient_portal.state.calls import attempt

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
FLAGS = ("self_bookable", "new_patient", "telehealth", "active")
EMPTY_TYPE = {"name": "", "code": "", "duration_minutes": "20", "buffer_minutes": "0", "who_may_book": "anyone",
              "self_bookable": "true", "new_patient": "", "telehealth": "", "active": "true"}
EMPTY_BLOCK = {"weekday": "0", "start_time": "09:00", "end_time": "12:00", "visit_type_id": "any"}
EMPTY_EXCEPTION = {"kind": "closed", "doctor_id": "clinic", "start_date": "", "end_date": "", "start_time": "",
                   "end_time": "", "label": ""}
ANY = "any"


def _type_row(v: VisitTypeView) -> dict[str, str]:
    words = [f"{v.duration_minutes} min"] + ([f"+ {v.buffer_minutes} min buffer"] if v.buffer_minutes else [])
    who = "Staff only" if v.who_may_book == "staff" else ("Patients online" if v.self_bookable else "Staff only")
    return {"id": str(v.id), "name": v.name, "code": v.code, "length": " ".join(words), "who": who,
            "kind": ", ".join(w for w, on in (("any doctor (new patient)", v.new_patient), ("video", v.telehealth)) if on),
            "active": "Active" if v.active else "Not offered", "version": str(v.version),
            "duration_minutes": str(v.duration_minutes), "buffer_minutes": str(v.buffer_minutes),
            "who_may_book": v.who_may_book, "self_bookable": "true" if v.self_bookable else "",
            "new_patient": "true" if v.new_patient else "", "telehealth": "true" if v.telehealth else "",
            "is_active": "true" if v.active else ""}


def _settings(session: Any, actor: Any, doctor_id: str) -> dict[str, Any]:
    """Everything the page shows, in one unit."""
    doctors = svc.all_doctors(session, actor)
    chosen = doctor_id if doctor_id in {str(d.id) for d in doctors} else (str(doctors[0].id) if doctors else "")
    types = svc.visit_types(session, actor, include_inactive=True)
    blocks, exceptions = svc.availability(session, actor, doctor_id=chosen or None)  # the doctor's and the clinic's
    by_doctor, by_type = svc.no_show_rates(session, actor)
    r = svc.get_rules(session, actor)  # a row: read it while the unit is open
    rules = {name: str(getattr(r, name)) for name in RULE_LIMITS}
    rules.update(reminder_hours=", ".join(str(h) for h in r.reminder_hours or []),
                 require_approval="true" if r.require_approval else "", version=str(r.version))
    blocks = [{"id": str(b.id), "weekday": b.weekday, "start_time": b.start_time, "end_time": b.end_time,
               "visit_type_id": b.visit_type_id, "valid_from": b.valid_from, "valid_until": b.valid_until}
              for b in blocks]
    exceptions = [{"id": str(e.id), "kind": e.kind, "doctor_id": e.doctor_id, "start_date": e.start_date,
                   "end_date": e.end_date, "start_time": e.start_time, "end_time": e.end_time, "label": e.label}
                  for e in exceptions]
    return {"rules": rules, "types": types, "doctors": doctors, "doctor_id": chosen,
            "blocks": blocks, "exceptions": exceptions, "rates": (by_doctor, by_type)}


class SchedulingSettingsState(rx.State):
    settings_status: str = "loading"  # loading | ok | denied
    rules: dict[str, str] = {}
    rules_version: str = ""
    rules_errors: dict[str, str] = {}
    types: list[dict[str, str]] = []
    type_form: dict[str, str] = {}
    type_editing: str = ""  # the visit type being changed ("" a new one)
    type_open: bool = False
    type_errors: dict[str, str] = {}
    doctors: list[dict[str, str]] = []
    doctor_id: str = ""
    blocks: list[dict[str, str]] = []
    block_form: dict[str, str] = {}
    block_errors: dict[str, str] = {}
    exceptions: list[dict[str, str]] = []
    exception_form: dict[str, str] = {}
    exception_errors: dict[str, str] = {}
    rates_by_doctor: list[dict[str, str]] = []
    rates_by_type: list[dict[str, str]] = []
    error: str = ""

    async def _fetch(self) -> Any:
        answer = await attempt(self, _settings, self.doctor_id)
        if not answer.ok:
            if answer.signed_out:
                return answer.show(self)
            self.settings_status = "denied" if answer.denied else "ok"
            self.error = answer.message
            return None
        got = answer.value
        self.rules = dict(got["rules"])
        self.rules_version = self.rules.pop("version")
        self.types = [_type_row(v) for v in got["types"]]
        names = {str(v.id): v.name for v in got["types"]}
        self.doctors = [{"id": str(d.id), "name": d.name} for d in got["doctors"]]
        self.doctor_id = got["doctor_id"]
        self.blocks = [{"id": b["id"], "weekday": WEEKDAYS[b["weekday"]], "hours": f"{b['start_time']}–{b['end_time']}",
                        "visit_type": names.get(str(b["visit_type_id"]), "Any visit") if b["visit_type_id"]
                        else "Any visit", "since": plain_day(b["valid_from"]), "until": plain_day(b["valid_until"])}
                       for b in got["blocks"]]
        doctor_names = {d["id"]: d["name"] for d in self.doctors}
        self.exceptions = [{
            "id": e["id"], "kind": "Closed" if e["kind"] == "closed" else "Extra session",
            "who": doctor_names.get(str(e["doctor_id"]), "") if e["doctor_id"] else "Whole clinic",
            "days": plain_day(e["start_date"]) + ("" if e["end_date"] == e["start_date"]
                                                  else f" – {plain_day(e['end_date'])}"),
            "hours": f"{e['start_time']}–{e['end_time']}" if e["start_time"] else "All day", "label": e["label"]}
            for e in got["exceptions"]]
        by_doctor, by_type = got["rates"]
        self.rates_by_doctor = [_rate(r) for r in by_doctor]
        self.rates_by_type = [_rate(r) for r in by_type]
        self.settings_status = "ok"
        return None

    @rx.event
    async def load(self):
        """on_load of /admin/scheduling."""
        self.settings_status, self.error = "loading", ""
        self.rules_errors, self.type_errors, self.block_errors, self.exception_errors = {}, {}, {}, {}
        self.type_open, self.type_editing, self.type_form = False, "", {}
        self.block_form, self.exception_form = dict(EMPTY_BLOCK), dict(EMPTY_EXCEPTION)
        return await self._fetch()

    # ------------------------------------------------------------ the clinic's rules
    @rx.event
    def set_rule(self, name: str, value: str):
        if name in RULE_LIMITS or name in ("reminder_hours", "require_approval"):
            self.rules[name] = str(value)[:40]
            self.rules_errors.pop(name, None)

    @rx.event
    def set_approval(self, value: bool):
        self.rules["require_approval"] = "true" if value else ""

    @rx.event
    async def save_rules(self):
        values: dict[str, Any] = dict(self.rules)
        values["require_approval"] = self.rules.get("require_approval") == "true"
        answer = await attempt(self, svc.save_rules, values=values, expected_version=self.rules_version)
        if not answer.ok:
            if answer.signed_out:
                return answer.show(self)
            self.rules_errors = dict(answer.errors) or {"min_notice_hours": answer.message}
            return None
        self.rules_errors = {}
        await self._fetch()
        return rx.toast.success("The clinic's rules are saved")

    # ------------------------------------------------------------ visit types
    @rx.event
    def new_type(self):
        self.type_form, self.type_editing, self.type_errors, self.type_open = dict(EMPTY_TYPE), "", {}, True

    @rx.event
    def edit_type(self, type_id: str):
        row = next((r for r in self.types if r["id"] == str(type_id)), None)
        if row is None:
            return
        self.type_form = {k: row[k] for k in ("name", "code", "duration_minutes", "buffer_minutes", "who_may_book",
                                              "self_bookable", "new_patient", "telehealth")}
        self.type_form["active"] = row["is_active"]
        self.type_editing, self.type_errors, self.type_open = row["id"], {}, True

    @rx.event
    def close_type(self):
        self.type_open, self.type_editing, self.type_errors = False, "", {}

    @rx.event
    def set_type_field(self, name: str, value: Any):
        if name in EMPTY_TYPE:
            self.type_form[name] = ("true" if value else "") if name in FLAGS else str(value)[:80]
            self.type_errors.pop(name, None)

    @rx.event
    async def save_type(self):
        values: dict[str, Any] = {k: (v == "true") if k in FLAGS else v for k, v in self.type_form.items()}
        version = next((r["version"] for r in self.types if r["id"] == self.type_editing), None)
        answer = await attempt(self, svc.save_visit_type, values=values, visit_type_id=self.type_editing or None,
                               expected_version=version)
        if not answer.ok:
            if answer.signed_out:
                return answer.show(self)
            self.type_errors = dict(answer.errors) or {"name": answer.message}
            return None
        self.type_open, self.type_editing, self.type_errors = False, "", {}
        await self._fetch()
        return rx.toast.success(f"Visit type saved: {answer.value.name}")

    # ------------------------------------------------------------ weekly hours
    @rx.event
    async def set_doctor(self, value: str):
        self.doctor_id = str(value)[:64]
        self.block_errors, self.exception_errors = {}, {}
        return await self._fetch()

    @rx.event
    def set_block(self, name: str, value: str):
        if name in EMPTY_BLOCK:
            self.block_form[name] = str(value)[:64]
            self.block_errors.pop(name, None)

    @rx.event
    async def add_block(self):
        f = self.block_form
        answer = await attempt(self, _add_block, doctor_id=self.doctor_id, weekday=f.get("weekday"),
                               start_time=f.get("start_time"), end_time=f.get("end_time"),
                               visit_type_id=None if f.get("visit_type_id") in ("", ANY) else f.get("visit_type_id"))
        if not answer.ok:
            if answer.signed_out:
                return answer.show(self)
            self.block_errors = dict(answer.errors) or {"start_time": answer.message}
            return None
        self.block_errors = {}
        await self._fetch()
        return rx.toast.success(f"Added: {answer.value}")

    @rx.event
    async def remove_block(self, block_id: str):
        answer = await attempt(self, svc.remove_availability, rule_id=str(block_id)[:64])
        if not answer.ok:
            return answer.show(self)
        await self._fetch()
        return rx.toast.success("Weekly hours removed")

    # ------------------------------------------------------------ exceptions
    @rx.event
    def set_exception(self, name: str, value: str):
        if name in EMPTY_EXCEPTION:
            self.exception_form[name] = str(value)[:80]
            self.exception_errors.pop(name, None)

    @rx.event
    async def add_exception(self):
        f = self.exception_form
        doctor = f.get("doctor_id", "")
        answer = await attempt(self, svc.add_exception, kind=f.get("kind"), start_date=f.get("start_date"),
                               end_date=f.get("end_date") or None,
                               doctor_id=None if doctor in ("", "clinic") else doctor,
                               start_time=f.get("start_time") or None, end_time=f.get("end_time") or None,
                               label=f.get("label", ""))
        if not answer.ok:
            if answer.signed_out:
                return answer.show(self)
            self.exception_errors = dict(answer.errors) or {"start_date": answer.message}
            return None
        self.exception_errors, self.exception_form = {}, dict(EMPTY_EXCEPTION)
        await self._fetch()
        return rx.toast.success("Exception added")

    @rx.event
    async def remove_exception(self, exception_id: str):
        answer = await attempt(self, svc.remove_exception, exception_id=str(exception_id)[:64])
        if not answer.ok:
            return answer.show(self)
        await self._fetch()
        return rx.toast.success("Exception removed")


def _add_block(session: Any, actor: Any, **values: Any) -> str:
    """Add a weekly block; what was added, in words (read while the unit is open)."""
    rule = svc.add_availability(session, actor, **values)
    return f"{WEEKDAYS[rule.weekday]} {rule.start_time}–{rule.end_time}"


def _rate(r: Any) -> dict[str, str]:
    return {"label": r.label or "—", "no_shows": str(r.no_shows), "seen": str(r.seen), "rate": f"{r.rate:.0%}"}


# ---------------------------------------------------------------- the link page (no sign-in)

DONE_WORDS = {"confirm": "Thank you — your appointment is confirmed.",
              "cancel": "Your appointment is cancelled. If you want another time, book it in the portal or call us.",
              "accept": "The time is yours: your appointment is booked. You will get a reminder before it."}


class AppointmentLinkState(rx.State):
    """/appointments/respond?t=…: what the link does (confirm, cancel, take an offered time), the
    button that does it, and what happened. The token stays on the server (``_token``)."""

    link_checked: bool = False
    purpose: str = ""
    when: str = ""
    doctor: str = ""
    clinic: str = ""
    usable: bool = False
    link_message: str = ""
    done: str = ""
    working: bool = False
    _token: str = ""

    @rx.event
    async def load(self):
        params = self.router.url.query_parameters if self.router.url else {}
        self._token = str(params.get("t", ""))[:200]
        self.link_checked, self.usable, self.done, self.link_message, self.working = False, False, "", "", False
        self.purpose = self.when = self.doctor = self.clinic = ""
        if not self._token:
            self.link_message = "This link is not complete. Open it again from your message, or sign in."
            self.link_checked = True
            return
        view = await off_loop(transact, svc.link_details, token=self._token)
        self.purpose, self.doctor, self.clinic, self.usable = view.purpose, view.doctor_name, view.clinic, view.usable
        self.when = plain_time(view.start) if view.purpose else ""
        self.link_message = view.message
        self.link_checked = True

    @rx.event
    async def respond(self):
        """Do what the link says, once."""
        if not self._token or not self.usable or self.done or self.working:
            return
        self.working = True
        yield
        try:
            view = await off_loop(transact, svc.use_link, token=self._token)
        except ServiceError as exc:
            self.usable, self.link_message, self.working = False, str(exc), False
            return
        self.usable, self.working = False, False
        self.done = DONE_WORDS.get(view.purpose, "Done.")
        self.when = plain_time(view.start)
