"""State of the lab results pages: /chart/<id>/results (the care team reviews, comments, releases or
holds; enters results; imports a lab's CSV), /patient/results ("Your results") and the doctor
dashboard's "Results to review" card. Every handler calls the results service through
``state.calls.attempt`` (the actor resolved on the server; the service decides and audits); vars hold
display dicts made from the DTOs. Panel and result ids sent back by buttons are requests: the service
checks they belong to this patient and that this person may act on them.

The CSV file goes from the browser straight to ``POST /api/results/import`` (api/results.py), which
parses it on the server; this state only asks the browser to send it and shows the answer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import reflex as rx

from patient_portal.core.access import Action, Actor, Role
from patient_portal.core.clock import plain_day, plain_time
from patient_portal.domain.codes import service as codes
from patient_portal.domain.patients.header import ChartHeader
from patient_portal.domain.results import service as svc
from patient_portal.domain.results.dto import OwnPanel, Panel, Result
from patient_portal.state.calls import Answer, attempt, show_read_failure
from patient_portal.state.chart_header import ChartRoute, show_header, show_read_failure_with_header
from patient_portal.state.code_picker import CodePickerMixin
from patient_portal.state.focus import focus_first_error
from patient_portal.state.paging import PagedMixin

FORM_ID = "results-form"
IMPORT_INPUT = "results-csv"
NEEDS_ATTENTION = "Some fields need attention — see the messages next to them."
STATUS_WORDS = {"to_review": "To review", "reviewed": "Reviewed", "released": "Released to patient",
                "held": "Held until discussed"}
STATUS_COLORS = {"to_review": "amber", "reviewed": "blue", "released": "green", "held": "orange"}
#: What a flag says to a clinician, and to a patient in plain words.
FLAG_WORDS = {"L": "Low", "H": "High", "N": "Normal", "A": "Abnormal"}
PLAIN_FLAG = {"L": "Lower than the usual range", "H": "Higher than the usual range", "N": "In the usual range",
              "A": "Not the usual result"}
EMPTY_ROW = {"loinc": "", "name": "", "value": "", "unit": "", "range_low": "", "range_high": "", "range_text": "",
             "flag": ""}
MAX_ROWS = 30


def number(value: Decimal | None) -> str:
    return "" if value is None else f"{value:f}"


def range_text(r: Result) -> str:
    if r.ref_low is not None and r.ref_high is not None:
        return f"{number(r.ref_low)}–{number(r.ref_high)}"
    if r.ref_high is not None:
        return f"≤ {number(r.ref_high)}"
    if r.ref_low is not None:
        return f"≥ {number(r.ref_low)}"
    return r.ref_text or ""


def bar(r: Result) -> dict[str, Any]:
    """The range visual: the usual band and the value's marker as percentages of a scale that holds
    both with a margin (shown only for a numeric value with a numeric range)."""
    if r.number is None or (r.ref_low is None and r.ref_high is None):
        return {"show": False, "band_left": "0%", "band_width": "0%", "marker": "0%"}
    low = r.ref_low if r.ref_low is not None else Decimal(0)
    high = r.ref_high if r.ref_high is not None else low * 2 or Decimal(1)
    span = max(high - low, abs(high) * Decimal("0.1"), Decimal("0.1"))
    start = min(low - span / 2, r.number - span / 4)
    if r.ref_low is None:
        start = min(Decimal(0), r.number)
    end = max(high + span / 2, r.number + span / 4)
    width = end - start

    def pct(x: Decimal) -> str:
        return f"{max(Decimal(0), min(Decimal(100), (x - start) / width * 100)):.1f}%"

    return {"show": True, "band_left": pct(low), "band_width": f"{(high - low) / width * 100:.1f}%",
            "marker": pct(r.number)}


def _result(r: Result, plain: bool) -> dict[str, Any]:
    unit = f" {r.unit}" if r.unit and r.unit != "%" else (r.unit or "")
    rng = range_text(r)
    return {"id": str(r.id), "code": r.coding.code, "name": r.coding.display or r.coding.code,
            "value": f"{r.value}{unit}", "range": f"{rng}{unit}" if rng and r.number is not None else rng,
            "flag": r.flag, "flag_words": (PLAIN_FLAG if plain else FLAG_WORDS).get(r.flag, r.flag),
            "abnormal": r.flag != "N", "corrected": r.corrects_id is not None,
            "reason": r.correction_reason or "", **{f"bar_{k}": v for k, v in bar(r).items()}}


def _panel(p: Panel) -> dict[str, Any]:
    return {"id": str(p.id), "name": p.name, "day": plain_day(p.specimen_date), "lab": p.performing_lab,
            "status": p.status, "status_words": STATUS_WORDS.get(p.status, p.status),
            "color": STATUS_COLORS.get(p.status, "gray"), "to_review": p.status == "to_review",
            "open": p.status in ("to_review", "reviewed", "held"), "comment": p.comment, "version": str(p.version),
            "source": "Imported from the lab's file" if p.source == "imported" else f"Entered by {p.entered_by_name}",
            "reviewed": f"Reviewed by {p.reviewed_by_name}, {plain_time(p.reviewed_at)}" if p.reviewed_at else "",
            "decided": (f"{STATUS_WORDS.get(p.status, '')} by {p.decided_by_name}, {plain_time(p.decided_at)}"
                        if p.decided_at else ""),
            "document": f"/chart/{p.patient_id}/documents" if p.document_id else "",
            "results": [_result(r, False) for r in p.results],
            "replaced": [_result(r, False) for r in p.replaced]}


def _own(p: OwnPanel) -> dict[str, Any]:
    return {"id": str(p.id), "name": p.name, "day": plain_day(p.specimen_date), "lab": p.performing_lab,
            "held": p.held, "comment": p.comment, "results": [_result(r, True) for r in p.results]}


# ---------------------------------------------------------------- service calls in one unit of work

@dataclass
class _Opened:
    header: ChartHeader | None = None
    page: svc.PanelPage | None = None
    redirect: str = ""


def _open_chart_page(session: Any, actor: Actor, patient_ref: str, page: int) -> _Opened:
    if actor.role == Role.PATIENT and str(actor.patient_id) == patient_ref:
        return _Opened(redirect="/patient/results")
    header, found = svc.open_page(session, actor, patient_ref, page=page)
    return _Opened(header, found)


def _search_tests(session: Any, actor: Actor, text: str) -> list[dict[str, str]]:
    found = codes.search(session, actor, system="loinc_lab", text=text, limit=8)
    out = []
    for c in found:
        test = codes.lab_test(session, c.code)
        out.append({"code": c.code, "display": c.display, "label": f"{c.display} ({c.code})",
                    "unit": (test.unit or "") if test else "",
                    "low": "" if not test or test.low is None else f"{test.low:g}",
                    "high": "" if not test or test.high is None else f"{test.high:g}",
                    "text": (test.range_text or "") if test else ""})
    return out


class ResultsState(ChartRoute, PagedMixin, CodePickerMixin, rx.State):
    status: str = "loading"  # loading | ok | denied | missing
    own: bool = False
    can_write: bool = False
    can_release: bool = False

    panels: list[dict[str, Any]] = []
    total: int = 0
    pages: int = 1
    to_review: int = 0
    comments: dict[str, str] = {}
    error: str = ""

    form_open: bool = False
    form: dict[str, str] = {}
    rows: list[dict[str, str]] = []
    form_errors: dict[str, str] = {}
    form_error: str = ""
    pick_text: str = ""  # the test picker's text (CodePickerMixin holds its list)

    import_open: bool = False
    import_message: str = ""
    import_error: str = ""
    import_lines: list[str] = []

    # ------------------------------------------------------------ loading
    def _clear(self) -> None:
        self.can_write = self.can_release = False
        self.panels, self.comments, self.total, self.page, self.pages, self.to_review = [], {}, 0, 1, 1, 0
        self.error = ""
        self._close_form()
        self.import_open, self.import_message, self.import_error, self.import_lines = False, "", "", []

    def _close_form(self) -> None:
        self.form_open, self.form, self.rows, self.form_errors, self.form_error = False, {}, [], {}, ""
        self.pick_text = ""
        self._close_picker()

    def _show_page(self, page: svc.PanelPage, actor: Actor) -> None:
        self.can_write = actor.can(Action.RESULT_WRITE)
        self.can_release = actor.can(Action.RESULT_RELEASE)
        self.panels = [_panel(p) for p in page.items]
        self.comments = {str(p.id): p.comment for p in page.items}
        self.total, self.page, self.pages, self.to_review = page.total, page.page, page.pages, page.to_review
        self.status = "ok"

    def _failed(self, answer: Answer) -> Any:
        return show_read_failure(self, answer, loading=False)

    @rx.event
    async def load_chart(self):
        """on_load of /chart/<id>/results: header and the first page read together (one audit event)."""
        self._clear()
        self.status, self.own = "loading", False
        self._read_route()
        answer = await attempt(self, _open_chart_page, self.patient_ref, 1)
        if answer.ok and answer.value.redirect:
            return rx.redirect(answer.value.redirect, replace=True)
        if not answer.ok:
            return await show_read_failure_with_header(self, answer)
        self._show_page(answer.value.page, answer.actor)
        await show_header(self, answer.value.header, patient_ref=self.patient_ref)
        return None

    @rx.event
    async def load_own(self):
        """on_load of /patient/results: the signed-in patient's released (and held) results."""
        self._clear()
        self.status, self.own, self.patient_ref = "loading", True, ""
        answer = await attempt(self, svc.own_results)
        if not answer.ok:
            if answer.signed_out:
                return None
            return self._failed(answer)
        self.panels = [_own(p) for p in answer.value]
        self.status = "ok"
        return None

    async def _load_page(self):
        answer = await attempt(self, svc.panels, patient_id=self.patient_ref, page=self.page)
        if not answer.ok:
            return self._failed(answer)
        self._show_page(answer.value, answer.actor)
        return None

    # ------------------------------------------------------------ review, comment, release, hold
    @rx.event
    def set_comment(self, panel_id: str, text: str):
        if any(p["id"] == panel_id for p in self.panels):
            self.comments[str(panel_id)] = str(text)[:2000]

    def _version(self, panel_id: str) -> str:
        return next((p["version"] for p in self.panels if p["id"] == panel_id), "")

    async def _decide(self, fn: Any, panel_id: str, done: str):
        self.error = ""
        pid = str(panel_id)[:64]
        answer = await attempt(self, fn, patient_id=self.patient_ref, panel_id=pid,
                               comment=self.comments.get(pid, ""), version=self._version(pid))
        if not answer.ok:
            if answer.signed_out:
                return answer.show(self)
            self.error = answer.errors.get("comment") or answer.message
            await self._load_page()
            return None
        await self._load_page()
        return rx.toast.success(done)

    @rx.event
    async def review(self, panel_id: str):
        """Mark reviewed (with the comment typed), not yet shown to the patient."""
        return await self._decide(svc.review, panel_id, "Marked reviewed")

    @rx.event
    async def release(self, panel_id: str):
        """Release (from the confirm dialog): the patient sees the values and the comment."""
        return await self._decide(svc.release, panel_id, "Released to the patient")

    @rx.event
    async def hold(self, panel_id: str):
        """Hold until discussed: the patient sees only that results are ready to discuss."""
        return await self._decide(svc.hold, panel_id, "Held until discussed")

    # ------------------------------------------------------------ entering results
    @rx.event
    def open_form(self):
        self._close_form()
        self.import_open = False
        self.form = {"name": "", "specimen_date": "", "performing_lab": ""}
        self.form_open = True

    @rx.event
    def cancel_form(self):
        self._close_form()

    @rx.event
    def set_field(self, key: str, value: str):
        if key in ("name", "specimen_date", "performing_lab"):
            self.form[key] = str(value)[:200]
            self.form_errors.pop(key, None)

    @rx.event
    def set_cell(self, index: int, key: str, value: str):
        i = int(index) if str(index).lstrip("-").isdigit() else -1
        if 0 <= i < len(self.rows) and key in EMPTY_ROW:
            self.rows[i][key] = str(value)[:200]
            self.form_errors.pop(f"results.{i}.{key}", None)

    @rx.event
    def remove_row(self, index: int):
        i = int(index) if str(index).lstrip("-").isdigit() else -1
        if 0 <= i < len(self.rows):
            self.rows.pop(i)
            self.form_errors = {}

    @rx.event
    async def search_tests(self, text: str):
        """The test picker's text changed (debounced): list the laboratory tests found."""
        self.pick_text = str(text)[:100]
        return await self._lookup(self.pick_text, _search_tests,
                                  nothing="Nothing found — try other words or the LOINC code.")

    def _picked(self, found: dict[str, str]) -> None:
        if len(self.rows) >= MAX_ROWS:
            self.pick_note = f"A report holds at most {MAX_ROWS} results here."
            return
        self.rows.append({**EMPTY_ROW, "loinc": found["code"], "name": found["display"], "unit": found["unit"],
                          "range_low": found["low"], "range_high": found["high"], "range_text": found["text"]})
        self.form_errors.pop("results", None)
        self.pick_text, self.pick_results, self.pick_active = "", [], -1
        self.pick_note = f"Added {found['display']}: type its value below."

    @rx.event
    async def save(self):
        """Save the report (to review); messages beside the fields."""
        if self.status != "ok" or not self.form_open:
            return None
        self.form_errors, self.form_error = {}, ""
        answer = await attempt(self, svc.enter_panel, patient_id=self.patient_ref, name=self.form.get("name", ""),
                               specimen_date=self.form.get("specimen_date", ""),
                               performing_lab=self.form.get("performing_lab", ""), results=[dict(r) for r in self.rows])
        if not answer.ok:
            if answer.signed_out:
                return answer.show(self)
            self.form_errors = dict(answer.errors)
            self.form_error = (answer.errors.get("results") or NEEDS_ATTENTION) if answer.errors else answer.message
            return focus_first_error(FORM_ID) if answer.errors else None
        self._close_form()
        self.page = 1
        await self._load_page()
        return rx.toast.success("Results saved — they wait for review")

    # ------------------------------------------------------------ importing a lab's CSV
    @rx.event
    def open_import(self):
        self._close_form()
        self.import_open, self.import_message, self.import_error, self.import_lines = True, "", "", []

    @rx.event
    def cancel_import(self):
        self.import_open, self.import_error, self.import_lines = False, "", []

    @rx.event
    def start_import(self):
        """Ask the browser to send the chosen file to the import route; the answer comes back to
        ``import_done``."""
        self.import_message, self.import_error, self.import_lines = "Importing…", "", []
        script = (
            "(async () => {const input = document.getElementById(" + json.dumps(IMPORT_INPUT) + ");"
            "const file = input && input.files && input.files[0];"
            "if (!file) return {error: 'Choose the CSV file first.'};"
            "if (file.size > 1000000) return {error: 'The file is larger than 1 MB: split it.'};"
            "try {const r = await fetch('/api/results/import', {method: 'POST', credentials: 'same-origin',"
            "headers: {'Content-Type': 'text/csv'}, body: file});"
            "const body = await r.json().catch(() => ({}));"
            "return r.ok ? body : {error: body.detail || 'The file could not be imported.', lines: body.lines || []};"
            "} catch (e) {return {error: 'The file could not be sent. Check the connection and try again.'};}})()"
        )
        return rx.call_script(script, callback=ResultsState.import_done)

    @rx.event
    async def import_done(self, answer: dict[str, Any]):
        """The import route's answer (from the browser: only words to show; the route did the work)."""
        answer = answer if isinstance(answer, dict) else {}
        if not self.import_open or self.status != "ok":
            return None
        if answer.get("error"):
            self.import_message = ""
            self.import_error = str(answer["error"])[:2000]
            lines = answer.get("lines") if isinstance(answer.get("lines"), list) else []
            self.import_lines = [f"Line {x[0]}: {str(x[1])[:300]}" for x in lines[:20]
                                 if isinstance(x, list) and len(x) == 2 and isinstance(x[0], int)]
            return None
        try:
            count, panels = int(answer.get("results", 0) or 0), int(answer.get("panels", 0) or 0)
        except (TypeError, ValueError):
            count = panels = 0
        done = (f"Imported {count} result{'s' if count != 1 else ''} in {panels} report"
                f"{'s' if panels != 1 else ''}; they wait for review.")
        self.import_open, self.import_error, self.import_lines, self.import_message = False, "", [], done
        self.page = 1
        await self._load_page()
        return rx.toast.success(done)


# ---------------------------------------------------------------- the dashboard card

class ResultsWorklistState(rx.State):
    count: int = 0
    patients: list[dict[str, Any]] = []
    review_status: str = "loading"  # loading | ok | failed

    @rx.event
    async def load(self):
        """The doctor dashboard's "Results to review" card."""
        self.count, self.patients = 0, []
        answer = await attempt(self, svc.results_to_review)
        if not answer.ok:
            self.review_status = "loading" if answer.signed_out else "failed"
            return None
        work = answer.value
        self.count = work.count
        self.patients = [{"id": str(t.patient_id), "name": t.patient_name, "mrn": t.mrn,
                          "panels": f"{t.panels} report{'s' if t.panels != 1 else ''}",
                          "abnormal": f"{t.abnormal} outside the range" if t.abnormal else "",
                          "since": plain_day(t.oldest), "href": f"/chart/{t.patient_id}/results"}
                         for t in work.patients[:20]]
        self.review_status = "ok"
        return None
