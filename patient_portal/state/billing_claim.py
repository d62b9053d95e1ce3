"""State of one claim's page, /billing/claims/<id> (staff, admins): its lines with the payer's
decision, what keeps it from being ready, every transition (who, when), its appeals — and what can
be done next: check it again, submit it, write an appeal (letter as PDF), send the appeal, correct
and resubmit, bill the patient's secondary payer for what the primary left (coordination of
benefits), or write off and close.

The id in the address is a request like any other: the service checks the claim is one this person
may see and act on.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from patient_portal.core.clock import plain_day, plain_time
from patient_portal.domain.billing import dto
from patient_portal.domain.billing import service as svc
from patient_portal.state.billing import LINE_WORDS, STATUS_COLORS, days_left_text, money, status_word
from patient_portal.state.calls import Answer, attempt, show_kept_failure

APPEAL_FORM = "appeal-form"
ID_LIMIT = 64


def claim_id_in(path: str) -> str:
    parts = [p for p in (path or "").split("?", 1)[0].split("/") if p]
    return parts[2][:ID_LIMIT] if len(parts) >= 3 and parts[:2] == ["billing", "claims"] else ""


def _event_text(e: dto.ClaimEventView) -> str:
    d = e.detail or {}
    bits = []
    if "ack" in d:
        bits.append(f"acknowledgement {d['ack']}" + (f" ({d['code']})" if d.get("code") else ""))
    if d.get("problems"):
        bits.append("missing: " + ", ".join(str(p).replace("_", " ") for p in d["problems"]))
    if "paid" in d:
        bits.append(f"paid {money(d['paid'])}")
    if d.get("level"):
        bits.append(f"appeal level {d['level']}")
    if d.get("replaced"):
        bits.append("replaced by a corrected claim")
    if d.get("write_off"):
        bits.append("the rest written off")
    return "; ".join(bits)


class ClaimState(rx.State):
    status: str = "loading"  # loading | ok | denied | missing
    claim_ref: str = ""
    claim: dict[str, Any] = {}
    lines: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    problems: list[str] = []
    appeals: list[dict[str, Any]] = []
    draft_appeal: str = ""  # the id of the appeal written and not yet sent
    can_validate: bool = False
    can_submit: bool = False
    can_appeal: bool = False
    can_correct: bool = False
    can_close: bool = False
    #: coordination of benefits: a paid primary with a secondary payer on file offers the secondary
    #: claim; without one, ``secondary_note`` says what to do; ``cob`` links primary and secondary
    can_secondary: bool = False
    secondary_note: str = ""
    cob: dict[str, str] = {}
    note: str = ""
    note_error: str = ""
    prior_auth: str = ""
    error: str = ""

    def _show(self, c: dto.ClaimView) -> None:
        self.claim = {
            "id": str(c.id), "number": c.claim_number, "patient": c.patient_name,
            "patient_href": f"/chart/{c.patient_id}/billing", "payer": c.payer_name,
            "subtitle": f"{c.patient_name} · {c.payer_name} · {c.sequence} · service {plain_day(c.service_from)}", "status": c.status,
            "status_text": status_word(c.status), "color": STATUS_COLORS.get(c.status, "gray"),
            "total": money(c.total_cents), "service": plain_day(c.service_from),
            "payer_number": c.payer_claim_number or "Not yet given", "sequence": c.sequence.title(),
            "corrected": c.frequency == "7", "diagnoses": ", ".join(c.diagnoses) or "None",
            "deadline": plain_day(c.appeal_deadline) if c.appeal_deadline else "",
            "days_left": days_left_text((c.appeal_deadline - svc.today()).days) if c.appeal_deadline else "",
        }
        self.lines = [{"n": ln.line_number, "code": ln.code + (" " + " ".join(ln.modifiers) if ln.modifiers else ""),
                       "units": ln.units, "charge": money(ln.charge_cents),
                       "pointers": ", ".join(str(p) for p in ln.pointers), "status": ln.status,
                       "status_text": LINE_WORDS.get(ln.status, ln.status), "paid": money(ln.paid_cents),
                       "adjusted": money(ln.adjusted_cents), "patient": money(ln.patient_cents),
                       "reasons": ", ".join((*ln.reasons, *ln.remarks)) or "—"} for ln in c.lines]
        self.events = [{"when": plain_time(e.at), "from": status_word(e.from_status) if e.from_status else "New",
                        "to": status_word(e.to_status), "who": e.who or "The system", "detail": _event_text(e)}
                       for e in reversed(c.events)]
        self.problems = [str(v) for v in c.problems.values()]
        self.appeals = [{"id": str(a.id), "level": a.level, "deadline": plain_day(a.deadline),
                         "status": {"draft": "Written, not sent", "submitted": "Sent, waiting for the payer",
                                    "won": "Paid on appeal", "lost": "Denied again"}.get(a.status, a.status),
                         "sent": plain_time(a.submitted_at) if a.submitted_at else "",
                         "letter": f"/api/billing/appeals/{a.id}/letter.pdf"} for a in c.appeals]
        draft = next((a for a in c.appeals if a.status == "draft"), None)
        self.draft_appeal = str(draft.id) if draft else ""
        if draft and not self.note:
            self.note = draft.note
        s = c.status
        self.can_validate = s in ("draft", "rejected")
        self.can_submit = s == "ready"
        self.can_appeal = s in ("denied", "partial") and c.appeal_deadline is not None \
            and any(ln.status == "denied" for ln in c.lines)
        self.can_correct = s in ("rejected", "denied", "partial")
        self.can_close = s not in ("closed", "submitted", "acknowledged", "appealed")
        paid_primary = c.sequence == "primary" and s in ("paid", "partial") and c.secondary_claim_id is None
        self.can_secondary = paid_primary and c.has_secondary_coverage
        self.secondary_note = ("No secondary insurance is on file for this patient, so there is no one to bill for "
                               "what the primary left: add the secondary policy and choose its payer on the "
                               "patient's billing page.") if paid_primary and not c.has_secondary_coverage else ""
        if c.primary_claim_id:
            self.cob = {"text": f"Secondary claim for the {money(c.billed_balance_cents)} the primary payer left to "
                                f"the patient. Primary claim:", "number": c.primary_claim_number,
                        "href": f"/billing/claims/{c.primary_claim_id}"}
        elif c.secondary_claim_id:
            self.cob = {"text": "What the primary left is billed to the secondary payer on claim",
                        "number": c.secondary_claim_number, "href": f"/billing/claims/{c.secondary_claim_id}"}
        else:
            self.cob = {}
        self.status = "ok"

    def _failed(self, answer: Answer) -> Any:
        return show_kept_failure(self, answer)

    @rx.event
    async def load(self):
        """on_load of /billing/claims/<id>."""
        self.status, self.error, self.note, self.note_error, self.prior_auth = "loading", "", "", "", ""
        self.claim, self.lines, self.events, self.problems, self.appeals = {}, [], [], [], []
        self.cob, self.can_secondary, self.secondary_note = {}, False, ""
        self.claim_ref = claim_id_in(self.router.url.path if self.router.url else "")
        answer = await attempt(self, svc.get_claim, claim_id=self.claim_ref)
        if not answer.ok:
            return self._failed(answer)
        self._show(answer.value)
        return None

    async def _act(self, fn, done: str, **kwargs: Any) -> Any:
        self.error = ""
        answer = await attempt(self, fn, **kwargs)
        if not answer.ok:
            return self._failed(answer)
        again = await attempt(self, svc.get_claim, claim_id=self.claim_ref)
        if again.ok:
            self._show(again.value)
        return rx.toast.success(done)

    @rx.event
    async def validate(self):
        return await self._act(svc.validate_claim, "Claim checked again", claim_id=self.claim_ref)

    @rx.event
    async def submit(self):
        """Send the ready claim to its payer (837P through the clearinghouse)."""
        self.error = ""
        answer = await attempt(self, svc.submit_claims, claim_ids=[self.claim_ref])
        if not answer.ok:
            return self._failed(answer)
        result: dto.SubmitResult = answer.value
        again = await attempt(self, svc.get_claim, claim_id=self.claim_ref)
        if again.ok:
            self._show(again.value)
        if result.rejected:
            return rx.toast.error("The payer rejected the claim: see its history.")
        return rx.toast.success("Claim submitted — the payer acknowledged it")

    @rx.event
    def set_note(self, value: str):
        self.note, self.note_error = str(value)[:4000], ""

    @rx.event
    def set_prior_auth(self, value: str):
        self.prior_auth = str(value)[:50]

    @rx.event
    async def save_appeal(self):
        """Write (or rewrite) the appeal: the note goes into the letter."""
        self.error, self.note_error = "", ""
        answer = await attempt(self, svc.create_appeal, claim_id=self.claim_ref, note=self.note)
        if not answer.ok:
            if answer.invalid and "note" in answer.errors:
                self.note_error = answer.errors["note"]
                return None
            return self._failed(answer)
        again = await attempt(self, svc.get_claim, claim_id=self.claim_ref)
        if again.ok:
            self._show(again.value)
        return rx.toast.success("Appeal saved — download the letter, then send the appeal")

    @rx.event
    async def submit_appeal(self):
        if not self.draft_appeal:
            return None
        return await self._act(svc.submit_appeal, "Appeal sent to the payer", appeal_id=self.draft_appeal)

    @rx.event
    async def correct(self):
        """A rejected claim goes back to draft; a denied one is replaced by a corrected claim."""
        self.error = ""
        answer = await attempt(self, svc.correct_claim, claim_id=self.claim_ref, prior_authorization=self.prior_auth)
        if not answer.ok:
            return self._failed(answer)
        new: dto.ClaimView = answer.value
        if str(new.id) != self.claim_ref:
            return [rx.redirect(f"/billing/claims/{new.id}"), rx.toast.success("Corrected claim created")]
        self._show(new)
        return rx.toast.success("Claim back in draft: fix it and submit it again")

    @rx.event
    async def create_secondary(self):
        """Bill the secondary payer for what the primary left (the service checks the claim, the
        patient's secondary coverage and the balance), then open the new claim."""
        self.error = ""
        answer = await attempt(self, svc.create_secondary_claim, claim_id=self.claim_ref)
        if not answer.ok:
            return self._failed(answer)
        new: dto.ClaimView = answer.value
        return [rx.redirect(f"/billing/claims/{new.id}"),
                rx.toast.success(f"Secondary claim created for {money(new.billed_balance_cents)} — review and submit it")]

    @rx.event
    async def close(self):
        """Close the claim, writing off what still waits for the payer."""
        return await self._act(svc.close_claim, "Claim closed", claim_id=self.claim_ref, write_off=True)
