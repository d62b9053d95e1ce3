"""State of the patient's "Billing" page (/patient/billing: what they owe, the statement on screen
and as PDF, paying with a card, their receipts), the home page's "What you owe" card, and the
doctor's "My charges" page (/doctor/charges: the charges of their own visits, read only).

**Paying.** The card fields are plain inputs the state never holds: the browser sends them to
``POST /api/billing/card-token`` (the processor's tokenizing stand-in), empties the number and the
security code, and hands only the token back to ``pay_token``. The card number never travels over
the event websocket nor sits in UI state (which Redis may hold when the app is scaled out).
"""

from __future__ import annotations

import json
from typing import Any

import reflex as rx

from patient_portal.core.access import Action, Actor
from patient_portal.core.clock import plain_day
from patient_portal.domain.billing import dto
from patient_portal.domain.billing import service as svc
from patient_portal.domain.patients.common import PatientNotFound
from patient_portal.state.billing import money, receipt_row
from patient_portal.state.calls import attempt

CARD_INPUTS = {"number": "card-number", "exp_month": "card-exp-month", "exp_year": "card-exp-year", "cvc": "card-cvc"}
FIELD_OF = {"card_number": "number", "expiry": "exp_month", "cvc": "cvc", "amount": "amount"}


def _own(session: Any, actor: Actor) -> dto.Statement:
    if actor.patient_id is None:
        raise PatientNotFound()
    return svc.statement(session, actor, patient_id=actor.patient_id)


def _own_balance(session: Any, actor: Actor) -> int | None:
    if actor.patient_id is None or not actor.can(Action.STATEMENT_READ):
        return None
    return svc.balance(session, actor, patient_id=actor.patient_id)


def _pay_own(session: Any, actor: Actor, amount: str, token: str) -> dto.Receipt:
    if actor.patient_id is None:
        raise PatientNotFound()
    return svc.pay_with_token(session, actor, patient_id=actor.patient_id, amount=amount, token=token,
                              idempotency_key=token)


def _pay_script(amount_ok: bool) -> str:
    ids = json.dumps(CARD_INPUTS)
    return (
        "(async () => {const ids = " + ids + "; const card = {};"
        "for (const [k, id] of Object.entries(ids)) {const el = document.getElementById(id); card[k] = el ? el.value : '';}"
        "const wipe = () => {for (const k of ['number', 'cvc']) {const el = document.getElementById(ids[k]);"
        " if (el) el.value = '';}};"
        + ("" if amount_ok else "return {error: 'Enter the amount to pay.'};") +
        "try {const r = await fetch('/api/billing/card-token', {method: 'POST', credentials: 'same-origin',"
        "headers: {'Content-Type': 'application/json'}, body: JSON.stringify(card)});"
        "const body = await r.json().catch(() => ({}));"
        "if (!r.ok) return {error: body.detail || 'The card could not be read.', errors: body.errors || {}};"
        "wipe(); return {token: body.token || ''};"
        "} catch (e) {return {error: 'The card could not be sent. Check the connection and try again.'};}})()"
    )


class StatementState(rx.State):
    status: str = "loading"  # loading | ok | missing
    lines: list[dict[str, Any]] = []
    receipts: list[dict[str, Any]] = []
    owed: int = 0
    balance: str = ""
    pending: str = ""
    has_pending: bool = False
    totals: dict[str, str] = {}
    can_pay: bool = False
    pay_amount: str = ""
    pay_error: str = ""
    pay_errors: dict[str, str] = {}
    paying: bool = False
    last_receipt: str = ""

    def _show(self, s: dto.Statement, actor: Actor) -> None:
        self.lines = [{"day": plain_day(ln.service_date), "service": ln.description, "charge": money(ln.charge_cents),
                       "insurance": money(ln.insurance_paid_cents), "adjustments": money(ln.adjustments_cents),
                       "paid": money(ln.patient_paid_cents), "owed": money(ln.owed_cents),
                       "waiting": ln.pending_insurance_cents > 0} for ln in reversed(s.lines)]
        self.receipts = [receipt_row(r) for r in s.receipts]
        self.owed = s.balance_cents
        self.balance = money(s.balance_cents)
        self.pending, self.has_pending = money(s.pending_insurance_cents), s.pending_insurance_cents > 0
        self.totals = {"charges": money(s.total_charges_cents), "insurance": money(s.insurance_paid_cents),
                       "adjustments": money(s.adjustments_cents), "paid": money(s.patient_paid_cents)}
        self.can_pay = actor.can(Action.STATEMENT_PAY) and s.balance_cents > 0
        self.pay_amount = f"{s.balance_cents // 100}.{s.balance_cents % 100:02d}" if s.balance_cents > 0 else ""
        self.status = "ok"

    @rx.event
    async def load(self):
        """on_load of /patient/billing."""
        self.status, self.pay_error, self.pay_errors, self.paying, self.last_receipt = "loading", "", {}, False, ""
        self.lines, self.receipts = [], []
        answer = await attempt(self, _own)
        if not answer.ok:
            if answer.signed_out:
                return answer.show(self)
            self.status = "missing"
            return None
        self._show(answer.value, answer.actor)
        return None

    @rx.event
    def set_pay_amount(self, value: str):
        self.pay_amount = str(value)[:20]
        self.pay_errors.pop("amount", None)

    @rx.event
    def start_pay(self):
        """Send the card from the browser to the tokenizing route; the token comes back to ``pay_token``."""
        if self.status != "ok" or not self.can_pay or self.paying:
            return None
        self.pay_error, self.pay_errors, self.paying = "", {}, True
        return rx.call_script(_pay_script(bool(self.pay_amount.strip())), callback=StatementState.pay_token)

    @rx.event
    async def pay_token(self, answer: dict[str, Any]):
        """Pay the balance (or the amount typed) with the processor's token; a receipt when it went through."""
        answer = answer if isinstance(answer, dict) else {}
        self.paying = False
        if answer.get("error") or not answer.get("token"):
            self.pay_error = str(answer.get("error") or "The card could not be read.")[:300]
            errors = answer.get("errors") if isinstance(answer.get("errors"), dict) else {}
            self.pay_errors = {FIELD_OF.get(str(k), "number"): str(v)[:300] for k, v in errors.items()}
            return None
        result = await attempt(self, _pay_own, self.pay_amount, str(answer["token"])[:200])
        if not result.ok:
            if result.signed_out:
                return result.show(self)
            self.pay_error = result.message
            self.pay_errors = {FIELD_OF.get(k, "number"): v for k, v in result.errors.items()}
            return None
        receipt: dto.Receipt = result.value
        again = await attempt(self, _own)
        if again.ok:
            self._show(again.value, again.actor)
        self.last_receipt = f"Paid {money(receipt.amount_cents)} — receipt {receipt.receipt_number}"
        return rx.toast.success("Thank you — your payment went through")


class OwedState(rx.State):
    """The patient home page's "What you owe" card."""

    loaded: bool = False
    owed: str = ""
    owes: bool = False

    @rx.event
    async def load(self):
        self.loaded, self.owed, self.owes = False, "", False
        answer = await attempt(self, _own_balance)
        if not answer.ok or answer.value is None:
            return None
        self.owed, self.owes, self.loaded = money(answer.value), answer.value > 0, True
        return None


class DoctorChargesState(rx.State):
    status: str = "loading"  # loading | ok | denied
    rows: list[dict[str, Any]] = []

    @rx.event
    async def load(self):
        """on_load of /doctor/charges: the charges of the doctor's own visits (read only)."""
        self.status, self.rows = "loading", []
        answer = await attempt(self, svc.own_charges)
        if not answer.ok:
            if answer.signed_out:
                return answer.show(self)
            self.status = "denied"
            return None
        self.rows = [{"patient": name, "day": plain_day(c.service_date),
                      "code": c.code + (" " + " ".join(c.modifiers) if c.modifiers else ""),
                      "description": c.description, "amount": money(c.amount_cents),
                      "state": "Paid" if c.insurance_balance_cents == 0 and c.patient_balance_cents == 0
                      else ("Billed" if c.claim_id else "Not billed yet")} for name, c in answer.value]
        self.status = "ok"
        return None
