"""State of the chart's Billing page, /chart/<id>/billing (staff, admins): the patient's coverage
with its benefits and an eligibility check, charges from a signed visit or by hand, a claim built
from the unbilled charges, the claims, what the patient owes, desk payments and refunds.

The page reads the chart header with the account in one unit, one audit event (``with_header``).
Every id a button sends back (a policy, a visit, a payment to refund) is a request: the service
checks it belongs to this patient.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import reflex as rx

from patient_portal.core.access import Action, Actor, Role
from patient_portal.core.clock import plain_day, plain_time
from patient_portal.domain.billing import dto
from patient_portal.domain.billing import service as svc
from patient_portal.domain.patients.header import ChartHeader, with_header
from patient_portal.state.billing import METHOD_WORDS, claim_row, money, receipt_row
from patient_portal.state.calls import Answer, attempt, show_kept_failure
from patient_portal.state.chart_header import ChartRoute, show_header, show_read_failure_with_header
from patient_portal.state.focus import focus_first_error

COVERAGE_FORM, VISIT_FORM, HAND_FORM, PAY_FORM = "coverage-form", "visit-charges-form", "hand-charge-form", "desk-pay-form"
NEEDS_ATTENTION = "Some fields need attention — see the messages next to them."
ORDER_WORDS = {"primary": "Primary", "secondary": "Secondary", "tertiary": "Third"}
NOTE_WORDS = {"coverage_inactive": "Coverage is not active", "prior_auth_imaging": "Imaging needs prior authorization",
              "noncovered_counselling": "Preventive counselling is not covered"}
COVERAGE_FIELDS = ("payer_id", "copay", "coinsurance", "deductible", "deductible_met", "oop_max", "oop_met",
                   "subscriber_given_name", "subscriber_family_name", "subscriber_birth_date")
HAND_FIELDS = ("service_date", "code", "units", "modifiers", "diagnoses", "place_of_service")
LINE_FIELDS = ("code", "units", "modifiers", "pointers")
PAY_FIELDS = ("amount", "method", "check_number", "card_last4")
MAX_LINES = 6


def _cents_text(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _coverage_row(c: dto.CoverageView) -> dict[str, Any]:
    e = c.eligibility
    return {
        "policy_id": str(c.policy_id), "order": ORDER_WORDS.get(c.order, c.order.title()), "card": c.payer_text,
        "plan": c.plan, "member_id": c.member_id, "relationship": c.relationship, "dependant": c.relationship != "self",
        "payer_id": str(c.payer_id) if c.payer_id else "", "payer": c.payer_name or "Not chosen yet",
        "has_payer": c.payer_id is not None, "copay": money(c.copay_cents), "coinsurance": f"{c.coinsurance_bp / 100:g} %",
        "deductible": f"{money(c.deductible_met_cents)} met of {money(c.deductible_cents)}",
        "oop": f"{money(c.oop_met_cents)} met of {money(c.oop_max_cents)}",
        "form": {"payer_id": str(c.payer_id) if c.payer_id else "", "copay": _cents_text(c.copay_cents),
                 "coinsurance": f"{c.coinsurance_bp / 100:g}", "deductible": _cents_text(c.deductible_cents),
                 "deductible_met": _cents_text(c.deductible_met_cents), "oop_max": _cents_text(c.oop_max_cents),
                 "oop_met": _cents_text(c.oop_met_cents)},
        "checked": e is not None, "active": bool(e and e.active),
        "eligibility": ("Active" if e.active else "Not active") if e else "",
        "checked_at": plain_time(e.checked_at) if e else "",
        "elig_plan": e.plan if e else "",
        "elig_copay": money(e.copay_cents) if e and e.copay_cents is not None else "—",
        "elig_deductible": money(e.deductible_remaining_cents) if e and e.deductible_remaining_cents is not None else "—",
        "elig_notes": ", ".join(NOTE_WORDS.get(n, n) for n in e.notes) if e else "",
    }


def _charge_row(c: dto.ChargeView) -> dict[str, Any]:
    return {"id": str(c.id), "day": plain_day(c.service_date),
            "code": c.code + (" " + " ".join(c.modifiers) if c.modifiers else ""), "description": c.description,
            "units": c.units, "amount": money(c.amount_cents), "insurance": money(c.insurance_balance_cents),
            "patient": money(c.patient_balance_cents), "diagnoses": ", ".join(c.diagnoses) or "—",
            "claimed": c.claim_id is not None, "claim_href": f"/billing/claims/{c.claim_id}" if c.claim_id else "",
            "from_visit": c.visit_id is not None}


@dataclass
class _Opened:
    header: ChartHeader | None = None
    page: dto.AccountPage | None = None
    fees: list[dto.FeeItem] | None = None
    payers: list[dto.PayerView] | None = None
    redirect: str = ""


def _open(session: Any, actor: Actor, patient_ref: str) -> _Opened:
    if actor.role == Role.PATIENT:
        return _Opened(redirect="/patient/billing")
    header, page = with_header(session, actor, patient_ref, svc.account_page, patient_id=patient_ref)
    return _Opened(header, page, *_lists(session, actor))


def _lists(session: Any, actor: Actor) -> tuple[list[dto.FeeItem], list[dto.PayerView]]:
    """The fee schedule and the payer list the forms choose from (empty for a role that enters nothing)."""
    if not actor.can(Action.CHARGE_WRITE):
        return [], []
    return svc.fee_schedule(session, actor), svc.list_payers(session, actor)


def _reread(session: Any, actor: Actor, patient_ref: str) -> dto.AccountPage:
    return svc.account_page(session, actor, patient_id=patient_ref)


class BillingAccountState(ChartRoute, rx.State):
    status: str = "loading"  # loading | ok | denied | missing
    can_write: bool = False
    can_pay: bool = False
    coverages: list[dict[str, Any]] = []
    visits: list[dict[str, Any]] = []
    charges: list[dict[str, Any]] = []
    claims: list[dict[str, Any]] = []
    receipts: list[dict[str, Any]] = []
    balance: str = ""
    pending: str = ""
    unbilled: int = 0
    fee_options: list[list[str]] = []  # [code, "99213 Office visit — $150.00"]
    payer_options: list[list[str]] = []
    error: str = ""

    # the open form: "" | coverage | visit | hand | pay
    form: str = ""
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    form_error: str = ""
    policy_id: str = ""
    dependant: bool = False
    visit_id: str = ""
    lines: list[dict[str, str]] = []
    prior_auth: str = ""
    refund_of: str = ""
    refund_amount: str = ""
    refund_error: str = ""

    # ------------------------------------------------------------ loading
    def _close(self) -> None:
        self.form, self.values, self.errors, self.form_error, self.policy_id = "", {}, {}, "", ""
        self.visit_id, self.lines, self.dependant = "", [], False
        self.refund_of, self.refund_amount, self.refund_error = "", "", ""

    def _show(self, page: dto.AccountPage) -> None:
        self.coverages = [_coverage_row(c) for c in page.coverages]
        self.visits = [{"id": str(v.id), "label": f"{plain_day(v.day)} — {v.clinician}",
                        "day": plain_day(v.day), "clinician": v.clinician, "diagnoses": list(v.diagnoses),
                        "diagnoses_text": ", ".join(v.diagnoses) or "No diagnosis on the note",
                        "charged": v.charged} for v in page.visits]
        self.charges = [_charge_row(c) for c in page.charges]
        self.unbilled = sum(1 for c in page.charges if c.claim_id is None and c.insurance_balance_cents > 0)
        self.claims = [claim_row(c) for c in page.claims]
        self.receipts = [receipt_row(r) for r in page.receipts]
        self.balance, self.pending = money(page.balance_cents), money(page.pending_insurance_cents)
        self.status = "ok"

    def _failed(self, answer: Answer) -> Any:
        return show_kept_failure(self, answer)

    @rx.event
    async def load(self):
        """on_load of /chart/<id>/billing: header and account in one unit (one audit event)."""
        self.status, self.error, self.prior_auth = "loading", "", ""
        self._close()
        self.coverages, self.visits, self.charges, self.claims, self.receipts = [], [], [], [], []
        self._read_route()
        answer = await attempt(self, _open, self.patient_ref)
        if answer.ok and answer.value.redirect:
            return rx.redirect(answer.value.redirect, replace=True)
        if not answer.ok:
            return await show_read_failure_with_header(self, answer)
        opened: _Opened = answer.value
        actor: Actor = answer.actor
        self.can_write = actor.can(Action.CHARGE_WRITE)
        self.can_pay = actor.can(Action.PAYMENT_RECORD)
        self.fee_options = [[f.code, f"{f.code} {f.description} — {money(f.price_cents)}"]
                            for f in opened.fees or [] if f.active]
        self.payer_options = [[str(p.id), f"{p.name} ({p.payer_code})"] for p in opened.payers or [] if p.active]
        self._show(opened.page)
        await show_header(self, opened.header, patient_ref=self.patient_ref)
        return None

    async def _reload(self) -> None:
        answer = await attempt(self, _reread, self.patient_ref)
        if answer.ok:
            self._show(answer.value)

    async def _saved(self, answer: Answer, form_id: str, done: str) -> Any:
        """After a form's call: messages beside the fields, or close it, reread and say so."""
        if not answer.ok:
            if answer.signed_out:
                return answer.show(self)
            if answer.invalid and answer.errors:
                self.errors = dict(answer.errors)
                known = {k for k in self.errors if k in self.values or k.startswith("line_")}
                self.form_error = NEEDS_ATTENTION if known else answer.message
                return focus_first_error(form_id) if known else None
            self.form_error = answer.message
            return None
        self._close()
        await self._reload()
        return rx.toast.success(done)

    # ------------------------------------------------------------ forms: shared
    @rx.event
    def cancel(self):
        self._close()

    @rx.event
    def set_value(self, name: str, value: str):
        if name in (*COVERAGE_FIELDS, *HAND_FIELDS, *PAY_FIELDS):
            self.values[name] = str(value)[:200]
            self.errors.pop(name, None)

    # ------------------------------------------------------------ coverage and eligibility
    @rx.event
    def edit_coverage(self, policy_id: str):
        row = next((c for c in self.coverages if c["policy_id"] == policy_id), None)
        if row is None or not self.can_write:
            return
        self._close()
        self.form, self.policy_id, self.values = "coverage", policy_id, dict(row["form"])
        self.dependant = bool(row["dependant"])

    @rx.event
    async def save_coverage(self):
        if self.form != "coverage":
            return None
        self.errors, self.form_error = {}, ""
        answer = await attempt(self, svc.save_coverage, patient_id=self.patient_ref, policy_id=self.policy_id,
                               values=dict(self.values))
        return await self._saved(answer, COVERAGE_FORM, "Coverage saved")

    @rx.event
    async def check_eligibility(self, policy_id: str):
        """Ask the payer whether this policy is active (270/271-style); the answer is kept."""
        self.error = ""
        answer = await attempt(self, svc.check_eligibility, patient_id=self.patient_ref, policy_id=str(policy_id)[:64])
        if not answer.ok:
            return self._failed(answer)
        await self._reload()
        view: dto.EligibilityView = answer.value
        return rx.toast.success("Eligibility checked: " + ("active" if view.active else "NOT active"))

    # ------------------------------------------------------------ charges
    @rx.event
    def open_visit_charges(self, visit_id: str):
        if not self.can_write or not any(v["id"] == visit_id for v in self.visits):
            return
        self._close()
        self.form, self.visit_id = "visit", visit_id
        self.lines = [{"code": "", "units": "1", "modifiers": "", "pointers": "1"}]

    @rx.event
    def add_line(self):
        if self.form == "visit" and len(self.lines) < MAX_LINES:
            self.lines.append({"code": "", "units": "1", "modifiers": "", "pointers": "1"})

    @rx.event
    def remove_line(self, index: int):
        if self.form == "visit" and 0 <= index < len(self.lines) and len(self.lines) > 1:
            self.lines.pop(index)

    @rx.event
    def set_line(self, index: int, name: str, value: str):
        if self.form == "visit" and 0 <= index < len(self.lines) and name in LINE_FIELDS:
            self.lines[index][name] = str(value)[:40]
            self.errors.pop(f"line_{index + 1}_{name}", None)

    @rx.event
    async def save_visit_charges(self):
        if self.form != "visit":
            return None
        self.errors, self.form_error = {}, ""
        lines = [{"code": ln.get("code", ""), "units": ln.get("units", "1") or "1",
                  "modifiers": ln.get("modifiers", ""),
                  "pointers": [p.strip() for p in ln.get("pointers", "").replace(",", " ").split() if p.strip()]}
                 for ln in self.lines]
        answer = await attempt(self, svc.charges_from_visit, patient_id=self.patient_ref, visit_id=self.visit_id,
                               lines=lines)
        n = len(self.lines)
        return await self._saved(answer, VISIT_FORM, f"{n} charge{'s' if n != 1 else ''} entered from the visit")

    @rx.event
    def open_hand_charge(self):
        if not self.can_write:
            return
        self._close()
        self.form, self.values = "hand", {"units": "1", "place_of_service": "11"}

    @rx.event
    async def save_hand_charge(self):
        if self.form != "hand":
            return None
        self.errors, self.form_error = {}, ""
        answer = await attempt(self, svc.add_charge, patient_id=self.patient_ref, values=dict(self.values))
        return await self._saved(answer, HAND_FORM, "Charge entered")

    # ------------------------------------------------------------ claims
    @rx.event
    def set_prior_auth(self, value: str):
        self.prior_auth = str(value)[:50]

    @rx.event
    async def build_claim(self):
        """A claim to the primary payer from every unbilled charge; opens the claim."""
        self.error = ""
        answer = await attempt(self, svc.build_claim, patient_id=self.patient_ref, prior_authorization=self.prior_auth)
        if not answer.ok:
            return self._failed(answer)
        claim: dto.ClaimView = answer.value
        words = "Claim created and ready to send" if claim.status == "ready" else "Claim created: it needs fixes first"
        return [rx.redirect(f"/billing/claims/{claim.id}"), rx.toast.success(words)]

    # ------------------------------------------------------------ payments at the desk
    @rx.event
    def open_payment(self):
        if not self.can_pay:
            return
        self._close()
        self.form, self.values = "pay", {"method": "cash", "amount": ""}

    @rx.event
    async def save_payment(self):
        if self.form != "pay":
            return None
        self.errors, self.form_error = {}, ""
        v = self.values
        method = v.get("method", "")
        answer = await attempt(self, svc.record_payment, patient_id=self.patient_ref, amount=v.get("amount", ""),
                               method=method, check_number=v.get("check_number", ""),
                               card_last4=v.get("card_last4", ""))
        words = METHOD_WORDS.get(method, "Payment").lower()
        return await self._saved(answer, PAY_FORM, f"Payment recorded ({words}) — the receipt is in the list")

    @rx.event
    def open_refund(self, payment_id: str):
        row = next((r for r in self.receipts if r["id"] == payment_id and not r["refund"]), None)
        if row is None or not self.can_pay:
            return
        self._close()
        self.refund_of, self.refund_amount = payment_id, row["amount"].replace("$", "").replace(",", "")

    @rx.event
    def set_refund_amount(self, value: str):
        self.refund_amount, self.refund_error = str(value)[:20], ""

    @rx.event
    async def refund(self):
        """Give back (part of) the payment; what it paid is owed again."""
        if not self.refund_of:
            return None
        answer = await attempt(self, svc.refund_payment, patient_id=self.patient_ref, payment_id=self.refund_of,
                               amount=self.refund_amount)
        if not answer.ok:
            if answer.signed_out:
                return answer.show(self)
            self.refund_error = answer.message
            return None
        self._close()
        await self._reload()
        return rx.toast.success("Refund recorded")
