"""State of the privacy pages: the patient's "Privacy and sharing" (/patient/privacy) and a chart's
Privacy page (/chart/<id>/privacy) for the front desk, doctors and admins.

One state serves both: consents (the patient agrees or withdraws; the front desk records a paper
consent with its scan), sensitive records (the patient or a care-team doctor marks them), amendment
requests (the patient asks and may disagree with a denial; a doctor answers) and the accounting of
disclosures (the front desk records one; the patient downloads the PDF). Each part is read only when
the role may (``actor.can``), and every call goes through the services, which decide and audit;
vars hold display dicts only, ids are requests re-checked on the server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import reflex as rx

from patient_portal.core.access import Action, Actor
from patient_portal.core.clock import plain_day, plain_time
from patient_portal.domain.consent import service as consent
from patient_portal.domain.consent.dto import METHOD_WORDS, STATUS_WORDS
from patient_portal.domain.patients.common import PatientNotFound
from patient_portal.domain.rights import service as rights
from patient_portal.domain.rights.dto import BASES
from patient_portal.domain.rights.dto import STATUS_WORDS as AMENDMENT_WORDS
from patient_portal.domain.sensitive import service as sensitive
from patient_portal.domain.sensitive.dto import CATEGORIES, KIND_WORDS, withheld_text
from patient_portal.state.calls import attempt
from patient_portal.state.chart_header import ChartRoute

EMPTY_DISCLOSURE = {"disclosed_on": "", "recipient": "", "recipient_address": "", "description": "", "purpose": "",
                    "basis": ""}
EMPTY_AMENDMENT = {"record_part": "", "requested_change": "", "reason": ""}
EMPTY_PAPER = {"purpose": "", "status": "granted", "signed_on": "", "document_id": ""}


@dataclass
class _Read:
    consents: Any = None
    forms: list = field(default_factory=list)
    marks: Any = None
    amendments: list | None = None
    disclosures: list | None = None
    can: dict = field(default_factory=dict)
    patient_id: str = ""


def _read(session: Any, actor: Actor, patient_ref: str, own: bool) -> _Read:
    """Every part of the page this role reads, in one unit."""
    if own:
        if actor.patient_id is None:
            raise PatientNotFound()
        patient_ref = str(actor.patient_id)
    found = _Read(patient_id=patient_ref)
    found.can = {"consent_own": own and actor.can(Action.CONSENT_OWN_WRITE),
                 "paper": actor.can(Action.CONSENT_RECORD), "mark": actor.can(Action.SENSITIVE_MARK),
                 "disclose": actor.can(Action.DISCLOSURE_RECORD), "answer": actor.can(Action.AMENDMENT_DECIDE),
                 "request": own and actor.can(Action.AMENDMENT_REQUEST),
                 "amendments": actor.can(Action.AMENDMENT_READ), "disclosures": actor.can(Action.DISCLOSURE_READ)}
    found.consents = consent.overview(session, actor, patient_id=patient_ref)
    if found.can["paper"]:
        found.forms = consent.consent_forms(session, actor, patient_id=patient_ref)
    if found.can["mark"]:
        found.marks = sensitive.candidates(session, actor, patient_id=patient_ref)
    if found.can["amendments"]:
        found.amendments = rights.amendments(session, actor, patient_id=patient_ref)
    if found.can["disclosures"]:
        found.disclosures = rights.disclosures(session, actor, patient_id=patient_ref)
    return found


def _consent(item: Any) -> dict[str, Any]:
    status = STATUS_WORDS.get(item.status or "", "Not asked yet")
    if item.status is None:
        status += " — " + ("not allowed until you agree" if item.opt_in else "allowed unless you say no")
    return {"purpose": item.purpose, "title": item.title, "text": item.text, "version": item.version,
            "status": status, "allowed": item.allowed, "granted": item.status == "granted",
            "when": plain_time(item.when) if item.when else "",
            "how": METHOD_WORDS.get(item.method, ""), "by": item.recorded_by}


def _history(entry: Any) -> dict[str, str]:
    how = METHOD_WORDS.get(entry.method, "")
    if entry.signed_on:
        how += f", signed {plain_day(entry.signed_on)}"
    return {"title": entry.title, "status": STATUS_WORDS.get(entry.status, entry.status), "when": plain_time(entry.when),
            "how": how, "by": entry.recorded_by, "version": entry.version}


def _mark(item: Any) -> dict[str, str]:
    return {"kind": item.kind, "kind_words": KIND_WORDS.get(item.kind, item.kind), "id": str(item.record_id),
            "title": item.title, "when": plain_day(item.when.date()) if item.when else "",
            "category": item.category, "category_words": CATEGORIES.get(item.category, "")}


def _amendment(a: Any) -> dict[str, Any]:
    return {"id": str(a.id), "requested": plain_time(a.requested_at), "part": a.record_part,
            "change": a.requested_change, "reason": a.reason, "status": a.status,
            "status_words": AMENDMENT_WORDS.get(a.status, a.status), "due": plain_day(a.due_on), "overdue": a.overdue,
            "decided_by": a.decided_by, "decided": plain_time(a.decided_at) if a.decided_at else "",
            "response": a.response, "disagreement": a.disagreement, "version": str(a.version)}


def _disclosure(d: Any) -> dict[str, str]:
    return {"id": str(d.id), "date": plain_day(d.disclosed_on), "recipient": d.recipient,
            "address": d.recipient_address, "what": d.description, "why": d.purpose, "basis": d.basis_words}


class PrivacyState(ChartRoute, rx.State):
    status: str = "loading"  # loading | ok | denied | missing
    own: bool = False
    can: dict[str, bool] = {}
    consents: list[dict[str, Any]] = []
    consent_history: list[dict[str, str]] = []
    consent_forms: list[list[str]] = []
    marks: list[dict[str, str]] = []
    withheld: str = ""
    amendments: list[dict[str, Any]] = []
    disclosures: list[dict[str, str]] = []

    paper: dict[str, str] = dict(EMPTY_PAPER)
    paper_errors: dict[str, str] = {}
    disclosure: dict[str, str] = dict(EMPTY_DISCLOSURE)
    disclosure_errors: dict[str, str] = {}
    amendment: dict[str, str] = dict(EMPTY_AMENDMENT)
    amendment_errors: dict[str, str] = {}
    answers: dict[str, str] = {}  # request id -> the doctor's answer being typed
    statements: dict[str, str] = {}  # request id -> the patient's statement of disagreement being typed
    row_errors: dict[str, str] = {}  # request id / record id -> message
    error: str = ""

    def _clear(self) -> None:
        self.can, self.consents, self.consent_history, self.consent_forms = {}, [], [], []
        self.marks, self.withheld, self.amendments, self.disclosures = [], "", [], []
        self.paper, self.paper_errors = dict(EMPTY_PAPER), {}
        self.disclosure, self.disclosure_errors = dict(EMPTY_DISCLOSURE), {}
        self.amendment, self.amendment_errors = dict(EMPTY_AMENDMENT), {}
        self.answers, self.statements, self.row_errors, self.error = {}, {}, {}, ""

    def _show(self, found: _Read) -> None:
        self.can = found.can
        self.patient_ref = found.patient_id
        self.consents = [_consent(i) for i in found.consents.items]
        self.consent_history = [_history(e) for e in found.consents.history]
        self.consent_forms = [[doc_id, title] for doc_id, title in found.forms]
        self.marks = [_mark(i) for i in found.marks.items] if found.marks else []
        self.withheld = withheld_text(found.marks.withheld) if found.marks else ""
        self.amendments = [_amendment(a) for a in found.amendments or []]
        self.disclosures = [_disclosure(d) for d in found.disclosures or []]
        self.status = "ok"

    async def _load(self) -> Any:
        answer = await attempt(self, _read, self.patient_ref, self.own)
        if answer.ok:
            self._show(answer.value)
            return None
        self._clear()
        if answer.signed_out:
            return answer.show(self)
        self.status = "denied" if answer.denied else "missing"
        return None

    @rx.event
    async def load_own(self):
        """on_load of /patient/privacy."""
        self._clear()
        self.status, self.own, self.patient_ref = "loading", True, ""
        return await self._load()

    @rx.event
    async def load_chart(self):
        """on_load of /chart/<id>/privacy."""
        self._clear()
        self.status, self.own = "loading", False
        self._read_route()
        return await self._load()

    async def _after(self, answer: Any, done: str, *, errors_var: str | None = None, row: str = "") -> Any:
        """Show a change's failure (beside its form or row), or read the page again and say it worked."""
        if not answer.ok:
            if answer.signed_out:
                return answer.show(self)
            if errors_var is not None and answer.errors:
                setattr(self, errors_var, dict(answer.errors))
            elif row:
                self.row_errors = {**self.row_errors, row: next(iter(answer.errors.values()), answer.message)}
            else:
                self.error = answer.message
            return None
        self.error, self.row_errors = "", {}
        await self._load()
        return rx.toast.success(done)

    # ------------------------------------------------------------ consents
    @rx.event
    async def decide(self, purpose: str, status: str, version: str):
        """The patient agrees or withdraws on the portal, to the text at `version`."""
        answer = await attempt(self, consent.decide_own, purpose=str(purpose)[:24], status=str(status)[:16],
                               version=str(version)[:16])
        words = {"granted": "Thank you — saved", "withdrawn": "Withdrawn — it stops now", "declined": "Saved"}
        return await self._after(answer, words.get(str(status), "Saved"), row=str(purpose)[:24])

    @rx.event
    def set_paper(self, name: str, value: str):
        if name in EMPTY_PAPER:
            self.paper[name] = str(value)[:64]
            self.paper_errors.pop(name, None)

    @rx.event
    async def record_paper(self):
        self.paper_errors = {}
        answer = await attempt(self, consent.record_paper, patient_id=self.patient_ref, **dict(self.paper))
        result = await self._after(answer, "Paper consent recorded", errors_var="paper_errors")
        if answer.ok:
            self.paper = dict(EMPTY_PAPER)
        return result

    # ------------------------------------------------------------ sensitive records
    @rx.event
    async def set_sensitivity(self, kind: str, record_id: str, category: str):
        """Mark a record sensitive in `category`, or ("none") make it an ordinary record again."""
        kind, record_id, category = str(kind)[:16], str(record_id)[:64], str(category)[:24]
        if category == "none":
            answer = await attempt(self, sensitive.unmark, patient_id=self.patient_ref, kind=kind, record_id=record_id)
            return await self._after(answer, "No longer marked sensitive", row=record_id)
        answer = await attempt(self, sensitive.mark, patient_id=self.patient_ref, kind=kind, record_id=record_id,
                               category=category)
        return await self._after(answer, "Marked sensitive", row=record_id)

    # ------------------------------------------------------------ amendments
    @rx.event
    def set_amendment(self, name: str, value: str):
        if name in EMPTY_AMENDMENT:
            self.amendment[name] = str(value)[:2000]
            self.amendment_errors.pop(name, None)

    @rx.event
    async def request_amendment(self):
        self.amendment_errors = {}
        answer = await attempt(self, rights.request_amendment, values=dict(self.amendment))
        result = await self._after(answer, "Request sent — the clinic answers within 60 days",
                                   errors_var="amendment_errors")
        if answer.ok:
            self.amendment = dict(EMPTY_AMENDMENT)
        return result

    @rx.event
    def set_answer(self, request_id: str, value: str):
        self.answers[str(request_id)[:64]] = str(value)[:2000]

    @rx.event
    async def answer(self, request_id: str, decision: str):
        """A doctor accepts (saying what they corrected) or denies (with the reason)."""
        key = str(request_id)[:64]
        row = next((a for a in self.amendments if a["id"] == key), None)
        answer = await attempt(self, rights.answer_amendment, patient_id=self.patient_ref, request_id=key,
                               decision=str(decision)[:8], response=self.answers.get(key, ""),
                               expected_version=row["version"] if row else None)
        return await self._after(answer, "Answer saved — the patient can read it", row=key)

    @rx.event
    def set_statement(self, request_id: str, value: str):
        self.statements[str(request_id)[:64]] = str(value)[:2000]

    @rx.event
    async def disagree(self, request_id: str):
        """The patient's statement of disagreement with a denial."""
        key = str(request_id)[:64]
        answer = await attempt(self, rights.add_disagreement, request_id=key, statement=self.statements.get(key, ""))
        return await self._after(answer, "Your statement is filed with your record", row=key)

    # ------------------------------------------------------------ disclosures
    @rx.event
    def set_disclosure(self, name: str, value: str):
        if name in EMPTY_DISCLOSURE:
            self.disclosure[name] = str(value)[:2000]
            self.disclosure_errors.pop(name, None)

    @rx.event
    async def record_disclosure(self):
        self.disclosure_errors = {}
        answer = await attempt(self, rights.record_disclosure, patient_id=self.patient_ref, values=dict(self.disclosure))
        result = await self._after(answer, "Disclosure recorded", errors_var="disclosure_errors")
        if answer.ok:
            self.disclosure = dict(EMPTY_DISCLOSURE)
        return result


CONSENT_STATUSES = (("granted", "Agreed"), ("declined", "Declined"), ("withdrawn", "Withdrawn"))
BASIS_CHOICES = tuple((k, v) for k, v in BASES.items() if k != "app")
CATEGORY_CHOICES = (("none", "Not sensitive"), *CATEGORIES.items())


class AmendmentsDueState(rx.State):
    """The doctor's dashboard card: their care-team patients' open amendment requests, due first."""

    amendments_status: str = "loading"  # loading | ok | failed
    due: list[dict[str, Any]] = []

    @rx.event
    async def load(self):
        self.amendments_status, self.due = "loading", []
        answer = await attempt(self, rights.amendment_worklist)
        if not answer.ok:
            self.amendments_status = "loading" if answer.signed_out else "failed"
            return None
        self.due = [{"patient": a.patient_name, "due": plain_day(a.due_on), "overdue": a.overdue,
                     "href": f"/chart/{a.patient_id}/privacy"} for a in answer.value]
        self.amendments_status = "ok"
        return None
