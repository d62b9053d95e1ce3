"""State of the emergency screens (issue 15 part A).

* ``EmergencyInfoState`` — the emergency information card on the chart (/chart/<id>) and on the
  patient's record (/patient/record): code status, advance directives, special instructions, the
  printable card; its edit form (directives and instructions; the code status for doctors).
* ``EmergencyRunState`` — /chart/<id>/emergency: start a protocol, its checklist, the contacts'
  statuses ("sent 14:02 · opened 14:05 · acknowledged 14:06"), close with an outcome note.
* ``ProtocolEditorState`` — /admin/protocols: the clinic's protocols, written and retired by admins.
* ``AckState`` — /emergency/ack?t=…: an emergency contact acknowledges (no sign-in).

Only display dicts built from the emergency service's DTOs reach the browser; every handler that
reads or writes calls the service through ``state.calls.attempt`` (the actor resolved on the server,
the policy decides). Ids sent back by buttons are requests the service checks. The versions that a
save is checked against are backend-only vars.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import reflex as rx

from patient_portal.core.access import Actor, Role
from patient_portal.core.clock import clinic_zone, plain_day, plain_time
from patient_portal.core.db import utcnow
from patient_portal.domain.emergency import notify
from patient_portal.domain.emergency import service as emergency
from patient_portal.domain.emergency.dto import (
    CODE_STATUSES,
    DIRECTIVE_KINDS,
    NOTICE_STATUS,
    SKIPPED,
    WHO,
    EmergencyConflict,
    EmergencyInformation,
    NoticeView,
    ProtocolView,
    RunView,
)
from patient_portal.domain.patients.header import ChartHeader
from patient_portal.state.calls import Answer, attempt
from patient_portal.state.chart_header import ChartRoute, reread_header, show_header
from patient_portal.state.focus import focus_first_error

NEEDS_ATTENTION = "Some fields need attention — see the messages next to them."
NONE = "none"  # a select's value for "no choice" (a select item needs a value)
INFO_FORM_ID = "emergency-info-form"
PROTOCOL_FORM_ID = "protocol-form"
POSITION = {0: "Primary", 1: "Secondary"}
CHANNEL = {"email": "email", "sms": "text message", "none": ""}


def clock_time(value: datetime | None) -> str:
    """ "14:02" today (clinic time), else "Tue 3 Mar, 14:02"."""
    if value is None:
        return ""
    local = value.astimezone(clinic_zone()) if value.tzinfo else value
    today = datetime.now(clinic_zone()).date()
    return local.strftime("%H:%M") if local.date() == today else plain_time(value)


def notice_line(n: NoticeView) -> str:
    """ "sent 14:02 · opened 14:05 · acknowledged 14:06" (or why it was not sent)."""
    if n.status == "skipped":
        return "not messaged: " + SKIPPED.get(n.skipped, "")
    parts = [f"{NOTICE_STATUS.get(n.status, n.status)} {clock_time(n.sent_at or n.notified_at)}"
             if n.status == "sent" else f"{NOTICE_STATUS.get(n.status, n.status)} (since {clock_time(n.notified_at)})"]
    if n.opened_at:
        parts.append(f"opened {clock_time(n.opened_at)}")
    if n.acknowledged_at:
        parts.append(f"acknowledged {clock_time(n.acknowledged_at)}")
    return " · ".join(parts)


def _notice(n: NoticeView) -> dict[str, Any]:
    how = CHANNEL.get(n.channel, "")
    return {"id": str(n.id), "who": f"{n.name} ({POSITION.get(n.position, 'contact').lower()})",
            "how": (f"by {how}" if how else "") + (", outside their preferred hours (urgent)" if n.outside_hours else ""),
            "line": notice_line(n), "acknowledged": n.acknowledged_at is not None,
            "tone": "green" if n.acknowledged_at else ("gray" if n.status == "skipped" else
                                                       ("red" if n.status == "failed" else "blue"))}


NOTIFY_WORDS = {"": "", "notifying": "Waiting for an emergency contact to acknowledge",
                "acknowledged": "An emergency contact acknowledged", "exhausted":
                "Every contact was messaged; nobody has acknowledged yet — call them", "none":
                "No emergency contact may be messaged — call them"}


def _run(r: RunView) -> dict[str, Any]:
    return {"id": str(r.id), "title": r.title, "status": r.status, "active": r.status == "active",
            "started": f"Started {plain_time(r.started_at)} by {r.started_by_name}",
            "closed": f"Closed {plain_time(r.closed_at)} by {r.closed_by_name}" if r.closed_at else "",
            "outcome": r.outcome, "can_act": r.can_act, "can_notify": r.can_notify,
            "notify": NOTIFY_WORDS.get(r.notify_status, ""),
            "done": f"{sum(1 for s in r.steps if s.done_at)} of {len(r.steps)} steps done",
            "steps": [{"id": str(s.id), "text": s.text, "who": WHO.get(s.who, s.who), "done": s.done_at is not None,
                       "when": f"Done {clock_time(s.done_at)} by {s.done_by_name}" if s.done_at else ""}
                      for s in r.steps],
            "notices": [_notice(n) for n in r.notices]}


# ---------------------------------------------------------------- emergency information


def _directive(d: Any) -> dict[str, str]:
    lines = [f"signed {plain_day(d.on)}" if d.on else "date not recorded"]
    if d.agent_name:
        lines.append(f"agent: {d.agent_name}")
    if d.document_title:
        lines.append(f"signed copy: {d.document_title}")
    elif d.document_id:
        lines.append("signed copy on file")
    return {"label": DIRECTIVE_KINDS.get(d.kind, d.kind), "detail": " · ".join(lines)}


def _own_information(session: Any, actor: Actor) -> EmergencyInformation:
    return emergency.information(session, actor)


class EmergencyInfoState(ChartRoute, rx.State):
    info_status: str = "loading"  # loading | ok | failed
    code_status: str = ""
    directives: list[dict[str, str]] = []
    instructions: list[str] = []
    can_edit: bool = False
    can_set_code: bool = False
    card_href: str = ""
    editing: str = ""  # "" | "info" | "code"
    form_directives: list[dict[str, str]] = []
    form_instructions: str = ""
    form_code: str = NONE
    form_errors: dict[str, str] = {}
    form_error: str = ""
    contact_choices: list[list[str]] = []
    document_choices: list[list[str]] = []
    _version: int = 0
    _forms: list[dict[str, str]] = []
    _code: str = ""
    _own: bool = False
    _pid: str = ""

    def _clear(self) -> None:
        self.code_status, self.directives, self.instructions, self.card_href = "", [], [], ""
        self.can_edit = self.can_set_code = False
        self.contact_choices, self.document_choices, self._forms, self._version, self._code = [], [], [], 0, ""
        self._stop()

    def _stop(self) -> None:
        self.editing, self.form_directives, self.form_instructions, self.form_code = "", [], "", NONE
        self.form_errors, self.form_error = {}, ""

    def _show(self, info: EmergencyInformation) -> None:
        self._pid = str(info.patient_id)
        self.code_status = CODE_STATUSES.get(info.code_status, "")
        self._code = info.code_status
        self.directives = [_directive(d) for d in info.directives]
        self._forms = [d.form() for d in info.directives]
        self.instructions = list(info.instructions)
        self.can_edit, self.can_set_code, self._version = info.can_edit, info.can_set_code_status, info.version
        self.contact_choices = [[NONE, "None"]] + [[x.id, x.label] for x in info.contacts]
        self.document_choices = [[NONE, "None"]] + [[x.id, x.label] for x in info.documents]
        self.card_href = f"/api/patients/{info.patient_id}/emergency-card.pdf"
        self.info_status = "ok"

    async def _read(self) -> Any:
        answer = await (attempt(self, _own_information) if self._own else
                        attempt(self, emergency.information, patient_id=self.patient_ref))
        if not answer.ok:
            self._clear()
            self.info_status = "loading" if answer.signed_out else "failed"
            return None
        self._show(answer.value)
        return None

    @rx.event
    async def load(self):
        """on_load of /chart/<id>: the card of the patient the address names."""
        self._clear()
        self.info_status, self._own = "loading", False
        self._read_route()
        return await self._read()

    @rx.event
    async def load_own(self):
        """on_load of /patient/record: the signed-in patient's own card."""
        self._clear()
        self.info_status, self._own, self.patient_ref = "loading", True, ""
        return await self._read()

    @rx.event
    def start_edit(self):
        if self.can_edit and self.info_status == "ok":
            self._stop()
            self.editing = "info"
            self.form_directives = [{k: (v or NONE) if k in ("agent_contact_id", "document_id") else v
                                     for k, v in d.items()} for d in self._forms]
            self.form_instructions = "\n".join(self.instructions)

    @rx.event
    def start_code(self):
        if self.can_set_code and self.info_status == "ok":
            self._stop()
            self.editing, self.form_code = "code", self._code or NONE

    @rx.event
    def cancel_edit(self):
        self._stop()

    @rx.event
    def add_directive(self):
        if self.editing == "info" and len(self.form_directives) < 8:
            self.form_directives.append({"kind": "living_will", "date": "", "agent_contact_id": NONE,
                                         "document_id": NONE})

    @rx.event
    def remove_directive(self, index: int):
        index = int(index)
        if 0 <= index < len(self.form_directives):
            self.form_directives.pop(index)
            self.form_errors = {}

    @rx.event
    def set_directive(self, index: int, field: str, value: str):
        index = int(index)
        if 0 <= index < len(self.form_directives) and field in ("kind", "date", "agent_contact_id", "document_id"):
            self.form_directives[index][field] = str(value)[:64]
            self.form_errors.pop(f"directives.{index}.{field}", None)

    @rx.event
    def set_instructions(self, value: str):
        self.form_instructions = str(value)[:2000]
        self.form_errors.pop("instructions", None)

    @rx.event
    def set_code(self, value: str):
        self.form_code = str(value)[:32]

    def _failed(self, answer: Answer) -> Any:
        if answer.signed_out:
            return answer.show(self)
        if isinstance(answer.error, EmergencyConflict):
            self.form_error = answer.message
            self._version = answer.error.version if answer.error.version is not None else self._version
            return None
        self.form_errors = dict(answer.errors)
        self.form_error = NEEDS_ATTENTION if answer.errors else answer.message
        return focus_first_error(INFO_FORM_ID) if answer.errors else None

    async def _after_save(self, answer: Answer, done: str) -> Any:
        if not answer.ok:
            return self._failed(answer)
        self._stop()
        self._show(answer.value)
        await reread_header(self)  # the banner shows what was saved
        return rx.toast.success(done)

    @rx.event
    async def save(self):
        if self.editing != "info":
            return None
        self.form_errors, self.form_error = {}, ""
        directives = [{k: ("" if v == NONE else v) for k, v in d.items()} for d in self.form_directives]
        answer = await attempt(self, emergency.save_information, patient_id=self._pid, directives=directives,
                               instructions=self.form_instructions, expected_version=self._version)
        return await self._after_save(answer, "Emergency information saved")

    @rx.event
    async def save_code(self):
        if self.editing != "code":
            return None
        self.form_errors, self.form_error = {}, ""
        answer = await attempt(self, emergency.set_code_status, patient_id=self._pid,
                               code_status="" if self.form_code == NONE else self.form_code,
                               expected_version=self._version)
        return await self._after_save(answer, "Code status saved")


# ---------------------------------------------------------------- the chart's Emergency page


@dataclass
class _Opened:
    header: ChartHeader | None = None
    page: Any = None
    redirect: str = ""


def _open_page(session: Any, actor: Actor, patient_ref: str) -> _Opened:
    if actor.role == Role.PATIENT and str(actor.patient_id) == patient_ref:
        return _Opened(redirect="/patient/record")
    header, page = emergency.open_page(session, actor, patient_ref)
    return _Opened(header, page)


class EmergencyRunState(ChartRoute, rx.State):
    status: str = "loading"  # loading | ok | denied | missing
    active: dict[str, Any] = {}
    earlier: list[dict[str, Any]] = []
    protocols: list[list[str]] = []  # [id, name] to start
    protocol_steps: dict[str, list[str]] = {}  # id -> its steps, shown before starting
    can_start: bool = False
    pick: str = ""
    notify_on_start: bool = True
    outcome: str = ""
    outcome_error: str = ""
    error: str = ""
    checked_at: str = ""
    _notify_default: dict[str, bool] = {}
    _version: int = 0

    def _clear(self) -> None:
        self.active, self.earlier, self.protocols, self.protocol_steps, self.can_start = {}, [], [], {}, False
        self.pick, self.notify_on_start, self.outcome, self.outcome_error, self.error = "", True, "", "", ""
        self._notify_default, self._version, self.checked_at = {}, 0, ""

    def _show(self, page: Any) -> None:
        self.active = _run(page.active) if page.active else {}
        self._version = page.active.version if page.active else 0
        self.earlier = [_run(r) for r in page.earlier]
        self.can_start = page.can_start
        self.protocols = [[str(p.id), p.name] for p in page.protocols]
        self.protocol_steps = {str(p.id): [f"{s['text']} — {WHO.get(s['who'], s['who'])}" for s in p.steps]
                               for p in page.protocols}
        self._notify_default = {str(p.id): p.notify_contacts for p in page.protocols}
        if self.pick not in self._notify_default:
            self.pick = ""
        self.checked_at = clock_time(utcnow())
        self.status = "ok"

    @rx.event
    async def load_chart(self):
        """on_load of /chart/<id>/emergency: header and runs in one unit (one audit event)."""
        self._clear()
        self.status = "loading"
        self._read_route()
        answer = await attempt(self, _open_page, self.patient_ref)
        if answer.ok and answer.value.redirect:
            return rx.redirect(answer.value.redirect, replace=True)
        if not answer.ok:
            self.status = "loading" if answer.signed_out else ("denied" if answer.denied else "missing")
            await show_header(self, None, patient_ref=self.patient_ref, status=self.status)
            return answer.show(self) if answer.signed_out else None
        self._show(answer.value.page)
        await show_header(self, answer.value.header, patient_ref=self.patient_ref)
        return None

    async def _reload(self) -> Any:
        answer = await attempt(self, emergency.run_page, patient_id=self.patient_ref)
        if answer.ok:
            self._show(answer.value)
        elif answer.signed_out:
            self._clear()
            return answer.show(self)
        await reread_header(self)  # "Emergency in progress" comes and goes with the run
        return None

    @rx.event
    async def refresh(self):
        """Read the checklist and the contacts' statuses again."""
        if self.status != "ok":
            return None
        self.error = ""
        return await self._reload()

    @rx.event
    def choose(self, protocol_id: str):
        self.pick = str(protocol_id)[:64]
        self.notify_on_start = self._notify_default.get(self.pick, True)

    @rx.event
    def set_notify(self, checked: bool):
        self.notify_on_start = checked is True

    @rx.event
    def set_outcome(self, value: str):
        self.outcome = str(value)[:4000]
        self.outcome_error = ""

    async def _act(self, answer: Answer, done: str) -> Any:
        if not answer.ok:
            if answer.signed_out:
                self._clear()
                return answer.show(self)
            self.error = answer.message
            await self._reload()
            return None
        self.error = ""
        gone = await self._reload()
        return gone if gone is not None else rx.toast.success(done)

    @rx.event
    async def start(self):
        """Start the chosen protocol for this patient (behind a confirm)."""
        if not self.pick:
            self.error = "Choose the protocol to start."
            return None
        answer = await attempt(self, emergency.start_run, patient_id=self.patient_ref, protocol_id=self.pick,
                               notify_contacts=self.notify_on_start)
        return await self._act(answer, "Emergency protocol started")

    @rx.event
    async def tick(self, step_id: str, checked: bool):
        answer = await attempt(self, emergency.tick_step, patient_id=self.patient_ref, step_id=str(step_id)[:64],
                               done=checked is True)
        return await self._act(answer, "Step done" if checked is True else "Step not done")

    @rx.event
    async def notify_contacts(self):
        run_id = self.active.get("id", "")
        answer = await attempt(self, emergency.notify_contacts, patient_id=self.patient_ref, run_id=run_id)
        return await self._act(answer, "Notifying the emergency contacts")

    @rx.event
    async def close(self):
        """Close the run in progress with the outcome note."""
        run_id = self.active.get("id", "")
        self.outcome_error = ""
        answer = await attempt(self, emergency.close_run, patient_id=self.patient_ref, run_id=run_id,
                               outcome=self.outcome, expected_version=self._version)
        if not answer.ok and answer.errors.get("outcome"):
            self.outcome_error = answer.errors["outcome"]
            return focus_first_error("emergency-close")
        if answer.ok:
            self.outcome = ""
        return await self._act(answer, "Emergency closed")


# ---------------------------------------------------------------- the admin's protocol editor


def _protocol(p: ProtocolView) -> dict[str, Any]:
    return {"id": str(p.id), "name": p.name, "description": p.description, "retired": p.retired,
            "notify": "Notifies the emergency contacts" if p.notify_contacts else "Does not notify contacts",
            "steps": [f"{s['text']} — {WHO.get(s['who'], s['who'])}" for s in p.steps]}


class ProtocolEditorState(rx.State):
    status: str = "loading"  # loading | ok | failed
    items: list[dict[str, Any]] = []
    editing: str = ""  # "" | "new" | a protocol id
    form: dict[str, str] = {}
    form_notify: bool = True
    form_steps: list[dict[str, str]] = []
    form_errors: dict[str, str] = {}
    form_error: str = ""
    error: str = ""
    _forms: dict[str, dict[str, Any]] = {}
    _versions: dict[str, int] = {}

    def _show(self, found: list[ProtocolView]) -> None:
        self.items = [_protocol(p) for p in found]
        self._forms = {str(p.id): p.form() for p in found}
        self._versions = {str(p.id): p.version for p in found}
        self.status = "ok"

    async def _read(self) -> Any:
        answer = await attempt(self, emergency.protocols, retired=True)
        if not answer.ok:
            self.items, self.status = [], "loading" if answer.signed_out else "failed"
            return None
        self._show(answer.value)
        return None

    def _stop(self) -> None:
        self.editing, self.form, self.form_steps, self.form_notify = "", {}, [], True
        self.form_errors, self.form_error = {}, ""

    @rx.event
    async def load(self):
        self._stop()
        self.status, self.error = "loading", ""
        return await self._read()

    @rx.event
    def new(self):
        self._stop()
        self.editing = "new"
        self.form = {"name": "", "description": ""}
        self.form_steps = [{"text": "", "who": "anyone"}]

    @rx.event
    def edit(self, protocol_id: str):
        found = self._forms.get(str(protocol_id)[:64])
        if found is None:
            return
        self._stop()
        self.editing = str(protocol_id)[:64]
        self.form = {"name": found["name"], "description": found["description"]}
        self.form_notify = bool(found["notify_contacts"])
        self.form_steps = [dict(s) for s in found["steps"]]

    @rx.event
    def cancel(self):
        self._stop()

    @rx.event
    def set_field(self, name: str, value: str):
        if name in ("name", "description"):
            self.form[name] = str(value)[:500]
            self.form_errors.pop(name, None)

    @rx.event
    def set_form_notify(self, checked: bool):
        self.form_notify = checked is True

    @rx.event
    def set_step(self, index: int, field: str, value: str):
        index = int(index)
        if 0 <= index < len(self.form_steps) and field in ("text", "who"):
            self.form_steps[index][field] = str(value)[:200]
            self.form_errors.pop(f"steps.{index}.{field}", None)

    @rx.event
    def add_step(self):
        if self.editing and len(self.form_steps) < 30:
            self.form_steps.append({"text": "", "who": "anyone"})

    @rx.event
    def remove_step(self, index: int):
        index = int(index)
        if 0 <= index < len(self.form_steps) and len(self.form_steps) > 1:
            self.form_steps.pop(index)
            self.form_errors = {}

    @rx.event
    def move_step(self, index: int, by: int):
        index = int(index)
        other = index + (1 if int(by) > 0 else -1)
        if 0 <= index < len(self.form_steps) and 0 <= other < len(self.form_steps):
            self.form_steps[index], self.form_steps[other] = self.form_steps[other], self.form_steps[index]

    @rx.event
    async def save(self):
        if not self.editing:
            return None
        self.form_errors, self.form_error = {}, ""
        values = {**self.form, "notify_contacts": self.form_notify, "steps": [dict(s) for s in self.form_steps]}
        existing = None if self.editing == "new" else self.editing
        answer = await attempt(self, emergency.save_protocol, values=values, protocol_id=existing,
                               expected_version=self._versions.get(existing or "", None))
        if not answer.ok:
            if answer.signed_out:
                return answer.show(self)
            self.form_errors = dict(answer.errors)
            self.form_error = NEEDS_ATTENTION if answer.errors else answer.message
            return focus_first_error(PROTOCOL_FORM_ID) if answer.errors else None
        self._stop()
        await self._read()
        return rx.toast.success("Protocol saved")

    @rx.event
    async def retire(self, protocol_id: str, retired: bool):
        protocol_id = str(protocol_id)[:64]
        answer = await attempt(self, emergency.retire_protocol, protocol_id=protocol_id, retired=retired is True,
                               expected_version=self._versions.get(protocol_id, 0))
        if not answer.ok:
            if answer.signed_out:
                return answer.show(self)
            self.error = answer.message
            await self._read()
            return None
        self.error = ""
        await self._read()
        return rx.toast.success("Protocol retired" if retired is True else "Protocol offered again")


# ---------------------------------------------------------------- the acknowledgement page (no sign-in)


class AckState(rx.State):
    """/emergency/ack?t=…: the contact's page, in their language; nothing of the patient."""

    checked: bool = False
    acknowledged: bool = False
    problem: str = ""
    title: str = ""
    lead: str = ""
    button: str = ""
    done: str = ""
    _token: str = ""

    def _words(self, view: Any) -> None:
        if view.problem:  # a link that does not work: say so, and nothing else
            self.problem, self.acknowledged = view.problem, False
            return
        said = notify.words(view.language)
        values = {"clinic": view.clinic, "phone": view.phone}
        self.title, self.button = said.page_title, said.button
        self.lead, self.done = said.page_lead.format(**values), said.done.format(**values)
        self.acknowledged, self.problem = view.acknowledged, view.problem

    @rx.event
    async def load(self):
        params = self.router.url.query_parameters if self.router.url else {}
        self._token = str(params.get("t", ""))[:200]
        self.checked, self.acknowledged, self.problem = False, False, ""
        answer = await attempt(self, emergency.ack_details, anonymous=True, token=self._token)
        if answer.ok:
            self._words(answer.value)
        else:
            self.problem = answer.message
        self.checked = True

    @rx.event
    async def acknowledge(self):
        if not self._token:
            self.problem = "This link has expired or is not valid. Please call the clinic."
            return None
        answer = await attempt(self, emergency.acknowledge, anonymous=True, token=self._token)
        if answer.ok:
            self._words(answer.value)
        else:
            self.problem = answer.message
        return None
