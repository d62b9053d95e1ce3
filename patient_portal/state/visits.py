"""State of the Visits pages: /chart/<id>/visits (care-team doctors write, sign and add addenda;
admins read) and /patient/visits (the patient's own visit summaries), and the doctor dashboard's
"Unsigned notes" card (``WorklistState``).

Only display dicts built from the visits service's DTOs reach the browser; every handler that reads
or writes calls the service through ``state.calls.attempt`` (actor resolved on the server, the
policy decides). The chart's page reads the header with its first list in one unit, one audit event
(``visits.open_list``), and hands the header to ``ChartHeaderState``. The version a draft was opened
at and the note as opened (for a conflict's "what changed") are backend-only vars.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import reflex as rx

from patient_portal.core.access import Action, Actor, Role
from patient_portal.core.clock import clinic_zone, plain_time
from patient_portal.domain.patients.header import ChartHeader
from patient_portal.domain.sensitive.dto import withheld_text
from patient_portal.domain.visits import service as visits
from patient_portal.state.calls import Answer, attempt, show_read_failure
from patient_portal.state.chart_header import ChartRoute, show_header, show_read_failure_with_header
from patient_portal.state.focus import focus_first_error
from patient_portal.state.paging import PagedMixin

FORM_FIELDS = ("visit_at", "reason", "subjective", "objective", "assessment", "plan", "orders")
NEEDS_ATTENTION = "Some fields need attention — see the messages next to them."
FORM_ID = "visit-form"
ADDENDUM_ID = "visit-addendum"
SIGN_WARNING = "Signing locks this note; corrections become addenda."


def _day_time(value: datetime | None) -> str:
    return plain_time(value) if value else ""


def _dx_words(codings: Any) -> list[str]:
    return [f"{c.code} — {c.display}" if c.display else c.code for c in codings]


def _row(item: visits.VisitListItem) -> dict[str, str]:
    addenda = f" · {item.addenda} addend{'um' if item.addenda == 1 else 'a'}" if item.addenda else ""
    return {"id": str(item.id), "date": _day_time(item.visit_at), "reason": item.reason, "status": item.status,
            "meta": item.author_name + addenda, "diagnoses": ", ".join(item.diagnoses),
            "action": "Continue" if item.mine and item.status == "draft" else "Open"}


def _addenda(items: Any) -> list[dict[str, str]]:
    return [{"author": a.author_name, "at": _day_time(a.written_at), "text": a.text} for a in items]


def _summary(s: visits.VisitSummary) -> dict[str, Any]:
    return {"id": str(s.id), "date": _day_time(s.visit_at), "clinician": s.clinician, "reason": s.reason,
            "assessment": s.assessment, "plan": s.plan, "diagnoses": list(s.diagnoses), "addenda": _addenda(s.addenda)}


def _note(v: visits.VisitNoteView) -> dict[str, Any]:
    return {"id": str(v.id), "status": v.status, "date": _day_time(v.visit_at), "reason": v.reason,
            "subjective": v.subjective, "objective": v.objective, "assessment": v.assessment, "plan": v.plan,
            "diagnoses": _dx_words(v.diagnoses), "orders": list(v.orders), "author": v.author_name,
            "signed_at": _day_time(v.signed_at), "addenda": _addenda(v.addenda), "can_edit": v.can_edit,
            "can_sign": v.can_sign, "can_add_addendum": v.can_add_addendum}


def _local_input(value: datetime) -> str:
    """A datetime as a datetime-local input shows it, in the clinic's time zone."""
    return value.astimezone(clinic_zone()).strftime("%Y-%m-%dT%H:%M")


def _form_of(v: visits.VisitNoteView) -> dict[str, str]:
    return {"visit_at": _local_input(v.visit_at), "reason": v.reason, "subjective": v.subjective,
            "objective": v.objective, "assessment": v.assessment, "plan": v.plan, "orders": "\n".join(v.orders)}


def _coding_rows(codings: Any) -> list[dict[str, str]]:
    return [{"system": c.system, "code": c.code, "display": c.display} for c in codings]


# ---------------------------------------------------------------- service calls in one unit


@dataclass
class _Opened:
    header: ChartHeader | None = None
    page: visits.Page | None = None
    redirect: str = ""


def _open_chart_page(session: Any, actor: Actor, patient_ref: str) -> _Opened:
    """The chart's Visits page (header + first list); a patient's own id goes to their summaries."""
    if actor.role == Role.PATIENT and str(actor.patient_id) == patient_ref:
        return _Opened(redirect="/patient/visits")
    header, page = visits.open_list(session, actor, patient_id=patient_ref)
    return _Opened(header, page)


def _create_and_sign(session: Any, actor: Actor, *, patient_id: str, values: dict[str, Any]) -> visits.VisitNoteView:
    """A new note signed at once: written and signed in one unit (both audited)."""
    note = visits.create_note(session, actor, patient_id=patient_id, values=values)
    return visits.sign_note(session, actor, patient_id=patient_id, note_id=note.id, expected_version=note.version)


class VisitsState(ChartRoute, PagedMixin, rx.State):
    status: str = "loading"  # loading | ok | denied | missing
    own: bool = False
    rows: list[dict[str, str]] = []  # the chart's list
    summaries: list[dict[str, Any]] = []  # the patient's own page
    total: int = 0
    pages: int = 1
    can_write: bool = False

    mode: str = ""  # "" | new | edit | read
    note: dict[str, Any] = {}
    note_id: str = ""
    form: dict[str, str] = {}
    diagnoses: list[dict[str, str]] = []
    form_errors: dict[str, str] = {}
    dx_query: str = ""
    dx_results: list[dict[str, str]] = []
    dx_message: str = ""
    conflict: list[str] = []
    addendum: str = ""
    addendum_error: str = ""
    message: str = ""
    error: str = ""
    withheld: str = ""  # notes marked sensitive not shown to this person, in words
    _version: int = 0
    _base: dict[str, Any] = {}

    # ------------------------------------------------------------ loading
    def _clear(self) -> None:
        self.rows, self.summaries, self.total, self.page, self.pages, self.can_write = [], [], 0, 1, 1, False
        self.withheld = ""
        self.message, self.error = "", ""
        self._close()

    def _close(self) -> None:
        self.mode, self.note, self.note_id, self.form, self.diagnoses, self.form_errors = "", {}, "", {}, [], {}
        self.dx_query, self.dx_results, self.dx_message, self.conflict = "", [], "", []
        self.addendum, self.addendum_error, self._version, self._base = "", "", 0, {}

    def _show_page(self, page: visits.Page) -> None:
        if self.own:
            self.summaries = [_summary(s) for s in page.items]
        else:
            self.rows = [_row(i) for i in page.items]
        self.total, self.pages, self.page = page.total, page.pages, page.page
        self.withheld = withheld_text(page.withheld)
        self.status = "ok"

    def _failed(self, answer: Answer) -> Any:
        return show_read_failure(self, answer)

    @rx.event
    async def load_chart(self):
        """on_load of /chart/<id>/visits: header and first page in one unit (one audit event); a
        `?note=<id>` in the address (the worklist's links) opens that note."""
        self._clear()
        self.status, self.own = "loading", False
        self._read_route()
        answer = await attempt(self, _open_chart_page, self.patient_ref)
        if answer.ok and answer.value.redirect:
            return rx.redirect(answer.value.redirect, replace=True)
        if not answer.ok:
            return await show_read_failure_with_header(self, answer)
        self.can_write = answer.actor.can(Action.VISIT_WRITE)
        self._show_page(answer.value.page)
        await show_header(self, answer.value.header, patient_ref=self.patient_ref)
        params = self.router.url.query_parameters if self.router.url else {}
        wanted = str(params.get("note") or "")[:64]
        if wanted:
            return await self._open_note(wanted)
        return None

    @rx.event
    async def load_own(self):
        """on_load of /patient/visits: the signed-in patient's own visit summaries."""
        self._clear()
        self.status, self.own, self.patient_ref = "loading", True, ""
        answer = await attempt(self, visits.own_summaries, page=1)
        if not answer.ok:
            return self._failed(answer)
        self.patient_ref = str(answer.actor.patient_id)
        self._show_page(answer.value)
        return None

    async def _fetch(self) -> Any:
        if self.own:
            answer = await attempt(self, visits.own_summaries, page=self.page)
        else:
            answer = await attempt(self, visits.list_notes, patient_id=self.patient_ref, page=self.page)
        if not answer.ok:
            return self._failed(answer)
        self._show_page(answer.value)
        return None

    async def _load_page(self):
        return await self._fetch()

    # ------------------------------------------------------------ one note
    async def _open_note(self, note_id: str) -> Any:
        answer = await attempt(self, visits.get_note, patient_id=self.patient_ref, note_id=note_id)
        if not answer.ok:
            if answer.signed_out:
                return self._failed(answer)
            self.error = answer.message
            return None
        self._take(answer.value)
        return None

    def _take(self, view: visits.VisitNoteView) -> None:
        """Show a note the service handed back: its form when this actor may edit it, else read-only."""
        self._close()
        self.note, self.note_id = _note(view), str(view.id)
        if view.can_edit:
            self.mode = "edit"
            self.form, self.diagnoses = _form_of(view), _coding_rows(view.diagnoses)
            self._version, self._base = view.version, view.form()
        else:
            self.mode = "read"

    @rx.event
    async def open_note(self, note_id: str):
        self.message, self.error = "", ""
        return await self._open_note(str(note_id)[:64])

    @rx.event
    def start_new(self):
        """The empty "New visit note" form, dated now."""
        self._close()
        self.message, self.error = "", ""
        self.mode = "new"
        self.form = {name: "" for name in FORM_FIELDS}
        self.form["visit_at"] = datetime.now(clinic_zone()).strftime("%Y-%m-%dT%H:%M")

    @rx.event
    def close_note(self):
        self._close()

    @rx.event
    def set_field(self, field: str, value: str):
        if field in FORM_FIELDS and self.mode in ("new", "edit"):
            self.form[field] = str(value)[:20_000]
            self.form_errors.pop(field, None)

    @rx.event
    def check_field(self, field: str):
        """Leaving a field: the checks that need nothing from the server (the save checks all again)."""
        if field not in FORM_FIELDS or self.mode not in ("new", "edit"):
            return
        message = visits.field_error(field, self.form.get(field, ""))
        if message:
            self.form_errors[field] = message
        else:
            self.form_errors.pop(field, None)

    def _values(self) -> dict[str, Any]:
        values: dict[str, Any] = {name: self.form.get(name, "") for name in FORM_FIELDS if name != "orders"}
        values["orders"] = [line for line in self.form.get("orders", "").splitlines() if line.strip()]
        values["diagnoses"] = [dict(d) for d in self.diagnoses]
        return values

    # ------------------------------------------------------------ diagnoses
    @rx.event
    async def search_diagnoses(self, text: str):
        self.dx_query = str(text)[:100]
        self.dx_message = ""
        if len(self.dx_query.strip()) < 2:
            self.dx_results = []
            return None
        answer = await attempt(self, visits.find_diagnoses, text=self.dx_query)
        if not answer.ok:
            self.dx_results = []
            if answer.signed_out:
                return answer.show(self)
            self.dx_message = answer.message
            return None
        self.dx_results = _coding_rows(answer.value)
        if not self.dx_results:
            self.dx_message = "No ICD-10-CM code matches — try other words or the code."
        return None

    @rx.event
    def add_diagnosis(self, code: str):
        found = next((d for d in self.dx_results if d["code"] == code), None)
        if found and all(d["code"] != code for d in self.diagnoses):
            self.diagnoses = [*self.diagnoses, dict(found)]
            self.form_errors.pop("diagnoses", None)
        self.dx_query, self.dx_results = "", []

    @rx.event
    def remove_diagnosis(self, code: str):
        self.diagnoses = [d for d in self.diagnoses if d["code"] != code]

    # ------------------------------------------------------------ saving and signing
    def _after_write(self, answer: Answer) -> Any:
        """A save or sign that failed: messages beside the fields or the buttons (what was typed stays)."""
        if answer.signed_out:
            self._clear()
            return answer.show(self)
        conflict = answer.error if isinstance(answer.error, visits.VisitConflict) else None
        if conflict is not None:
            self.conflict = list(conflict.fields)
            self._version, self._base = conflict.version, conflict.current.form()
            self.error = (answer.message + " Saving again keeps what you typed here.")
            return None
        self.form_errors = dict(answer.errors)
        self.error = NEEDS_ATTENTION if answer.invalid and answer.errors else answer.message
        return focus_first_error(FORM_ID) if answer.errors else None

    async def _wrote(self, view: visits.VisitNoteView, message: str) -> Any:
        self._take(view)
        self.message, self.error = message, ""
        await self._fetch()
        return rx.toast.success(message)

    @rx.event
    async def save(self):
        """Save the draft (a new note is created as a draft)."""
        self.error, self.message, self.form_errors = "", "", {}
        if self.mode == "new":
            answer = await attempt(self, visits.create_note, patient_id=self.patient_ref, values=self._values())
        elif self.mode == "edit":
            answer = await attempt(self, visits.save_draft, patient_id=self.patient_ref, note_id=self.note_id,
                                   values=self._values(), expected_version=self._version, base=self._base)
        else:
            return None
        if not answer.ok:
            return self._after_write(answer)
        return await self._wrote(answer.value, "Draft saved.")

    @rx.event
    async def sign(self):
        """Sign what is on the screen (saved first, in the same unit); the note is then locked."""
        self.error, self.message, self.form_errors = "", "", {}
        if self.mode == "new":
            answer = await attempt(self, _create_and_sign, patient_id=self.patient_ref, values=self._values())
        elif self.mode == "edit":
            answer = await attempt(self, visits.sign_note, patient_id=self.patient_ref, note_id=self.note_id,
                                   expected_version=self._version, values=self._values(), base=self._base)
        else:
            return None
        if not answer.ok:
            return self._after_write(answer)
        return await self._wrote(answer.value, "Note signed. Corrections can now be made as addenda.")

    @rx.event
    def set_addendum(self, value: str):
        self.addendum = str(value)[:10_000]
        self.addendum_error = ""

    @rx.event
    async def add_addendum(self):
        self.addendum_error, self.message = "", ""
        if self.mode != "read" or not self.note_id:
            return None
        answer = await attempt(self, visits.add_addendum, patient_id=self.patient_ref, note_id=self.note_id,
                               text=self.addendum)
        if not answer.ok:
            if answer.signed_out:
                self._clear()
                return answer.show(self)
            self.addendum_error = answer.message
            return focus_first_error(ADDENDUM_ID) if answer.errors else None
        return await self._wrote(answer.value, "Addendum added.")


class WorklistState(rx.State):
    """The doctor dashboard's "Unsigned notes": the doctor's own drafts, with links to finish them."""

    unsigned: list[dict[str, str]] = []
    worklist_status: str = "loading"  # loading | ok | failed

    @rx.event
    async def load(self):
        self.unsigned = []
        answer = await attempt(self, visits.unsigned_notes)
        if not answer.ok:
            self.worklist_status = "loading" if answer.signed_out else "failed"
            return None
        self.unsigned = [{"href": f"/chart/{u.patient_id}/visits?note={u.note_id}", "patient": u.patient_name,
                          "date": _day_time(u.visit_at), "id": str(u.note_id)} for u in answer.value]
        self.worklist_status = "ok"
        return None
