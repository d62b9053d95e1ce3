"""State of /billing/setup (admins): the payer list, the fee schedule, the clinic's billing numbers
and each doctor's NPI. The service decides (``billing.setup.write``) and checks every number (an NPI
with its check digit, a ZIP+4, a taxonomy)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from patient_portal.domain.billing import dto
from patient_portal.domain.billing import service as svc
from patient_portal.state.billing import money
from patient_portal.state.calls import Answer, attempt
from patient_portal.state.focus import focus_first_error

PAYER_FORM, FEE_FORM, PROFILE_FORM, PROVIDER_FORM = "payer-form", "fee-form", "profile-form", "provider-form"
NEEDS_ATTENTION = "Some fields need attention — see the messages next to them."
FIELDS = {
    "payer": ("payer_code", "name", "address_line1", "city", "region", "postal_code", "filing_code",
              "timely_filing_days", "appeal_days"),
    "fee": ("code", "description", "price"),
    "profile": ("name", "npi", "tax_id", "taxonomy", "address_line1", "city", "region", "postal_code", "phone"),
    "provider": ("given_name", "family_name", "npi", "taxonomy"),
}
FORM_IDS = {"payer": PAYER_FORM, "fee": FEE_FORM, "profile": PROFILE_FORM, "provider": PROVIDER_FORM}


class BillingSetupState(rx.State):
    status: str = "loading"  # loading | ok | denied
    payers: list[dict[str, Any]] = []
    fees: list[dict[str, Any]] = []
    providers: list[dict[str, Any]] = []
    profile_set: bool = False
    form: str = ""  # "" | payer | fee | profile | provider
    editing: str = ""  # the payer or doctor being changed
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    form_error: str = ""
    _profile: dict[str, str] = {}

    def _show(self, view: dto.SetupView) -> None:
        self.payers = [{"id": str(p.id), "code": p.payer_code, "name": p.name,
                        "address": ", ".join(x for x in (p.address_line1, p.city, p.region, p.postal_code) if x),
                        "filing": f"{p.timely_filing_days} days", "appeal": ", ".join(str(d) for d in p.appeal_days),
                        "values": {"payer_code": p.payer_code, "name": p.name, "address_line1": p.address_line1,
                                   "city": p.city, "region": p.region, "postal_code": p.postal_code,
                                   "filing_code": p.filing_code, "timely_filing_days": str(p.timely_filing_days),
                                   "appeal_days": ", ".join(str(d) for d in p.appeal_days)}}
                       for p in view.payers]
        self.fees = [{"code": f.code, "description": f.description, "price": money(f.price_cents),
                      "values": {"code": f.code, "description": f.description,
                                 "price": f"{f.price_cents // 100}.{f.price_cents % 100:02d}"}} for f in view.fees]
        self.providers = [{"id": str(p.user_id), "name": p.name, "npi": p.npi or "Not set", "taxonomy": p.taxonomy or "—",
                           "values": {"given_name": "", "family_name": "", "npi": p.npi, "taxonomy": p.taxonomy}}
                          for p in view.providers]
        self._profile = dict(view.profile)
        self.profile_set = bool(view.profile)
        self.status = "ok"

    def _close(self) -> None:
        self.form, self.editing, self.values, self.errors, self.form_error = "", "", {}, {}, ""

    @rx.event
    async def load(self):
        """on_load of /billing/setup."""
        self.status = "loading"
        self._close()
        answer = await attempt(self, svc.setup)
        if not answer.ok:
            if answer.signed_out:
                return answer.show(self)
            self.status = "denied"
            return None
        self._show(answer.value)
        return None

    @rx.event
    def open_form(self, form: str, key: str):
        """Open a form: a new payer or fee (`key` ""), a payer, fee or doctor to change, the clinic's numbers."""
        if form not in FIELDS or self.status != "ok":
            return
        self._close()
        self.form, self.editing = form, str(key)[:64]
        if form == "payer":
            row = next((p for p in self.payers if p["id"] == key), None)
            self.values = dict(row["values"]) if row else {"timely_filing_days": "365", "appeal_days": "180",
                                                             "filing_code": "CI"}
        elif form == "fee":
            row = next((f for f in self.fees if f["code"] == key), None)
            self.values = dict(row["values"]) if row else {}
        elif form == "provider":
            row = next((p for p in self.providers if p["id"] == key), None)
            if row is None:
                self._close()
                return
            parts = str(row["name"]).replace("Dr. ", "").split()
            self.values = {**row["values"], "given_name": " ".join(parts[:-1]), "family_name": parts[-1] if parts else ""}
        else:
            self.values = dict(self._profile)

    @rx.event
    def cancel(self):
        self._close()

    @rx.event
    def set_value(self, name: str, value: str):
        if self.form in FIELDS and name in FIELDS[self.form]:
            self.values[name] = str(value)[:200]
            self.errors.pop(name, None)

    @rx.event
    async def save(self):
        form = self.form
        if form not in FIELDS:
            return None
        self.errors, self.form_error = {}, ""
        values = dict(self.values)
        if form == "payer":
            answer = await attempt(self, svc.save_payer, values=values, payer_id=self.editing or None)
        elif form == "fee":
            answer = await attempt(self, svc.save_fee, values=values)
        elif form == "profile":
            answer = await attempt(self, svc.save_billing_profile, values=values)
        else:
            answer = await attempt(self, svc.save_provider_number, user_id=self.editing, values=values)
        return await self._saved(answer, form)

    async def _saved(self, answer: Answer, form: str) -> Any:
        if not answer.ok:
            if answer.signed_out:
                return answer.show(self)
            self.errors = dict(answer.errors)
            known = any(k in FIELDS[form] for k in self.errors)
            self.form_error = NEEDS_ATTENTION if known else answer.message
            return focus_first_error(FORM_IDS[form]) if known else None
        self._close()
        again = await attempt(self, svc.setup)
        if again.ok:
            self._show(again.value)
        return rx.toast.success({"payer": "Payer saved", "fee": "Fee saved", "profile": "Billing numbers saved",
                                 "provider": "NPI saved"}[form])
