"""State of the Prescriptions pages: /chart/<id>/prescriptions (care-team doctors prescribe, stop,
print; admins read), /patient/prescriptions (the patient's own, with how to take them and "Ask for
a renewal"), the doctor dashboard's "Renewal requests" card (``RenewalsState``) and the public
/verify/rx/<code> page (``VerifyRxState``: validity only, rate-limited by address).

Only display dicts built from the service's DTOs reach the browser; every handler calls the service
through ``state.calls.attempt`` (actor resolved on the server; the policy decides).
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from patient_portal.core.access import Action, Actor, Role
from patient_portal.core.clock import plain_time
from patient_portal.domain.prescriptions import checks, throttle
from patient_portal.domain.prescriptions import service as rxs
from patient_portal.state.calls import attempt, run, show_read_failure
from patient_portal.state.chart_header import ChartRoute, show_header, show_read_failure_with_header
from patient_portal.state.code_picker import CodePickerMixin

FORM_ID = "rx-form"
FORM_FIELDS = ("drug", "dose", "route", "frequency", "duration_days", "quantity", "refills", "pharmacy_note")
NEEDS_ATTENTION = "Some fields need attention — see the messages next to them."
FREQUENCY_OPTIONS = [(key, words) for key, (words, _times) in checks.FREQUENCIES.items()]
STATUS_WORDS = {"active": "Active", "completed": "Completed", "stopped": "Stopped", "renewed": "Renewed"}
RENEWAL_WORDS = {"pending": "Renewal asked for — waiting for your doctor",
                 "approved": "Renewal approved — see the new prescription",
                 "declined": "Renewal declined"}


def _row(v: rxs.PrescriptionView) -> dict[str, Any]:
    return {"id": str(v.id), "drug": v.drug_name, "sig": v.sig_words, "status": v.status,
            "status_words": STATUS_WORDS.get(v.status, v.status), "prescriber": v.prescriber_name,
            "date": plain_time(v.signed_at), "quantity": str(v.sig.get("quantity", "")),
            "refills": str(v.sig.get("refills", "")), "stop_reason": v.stop_reason,
            "override_reason": v.override_reason, "findings": [f.get("message", "") for f in v.findings],
            "renewal": v.renewal, "renewal_words": RENEWAL_WORDS.get(v.renewal, ""), "renewal_note": v.renewal_note,
            "can_change": v.can_change, "can_request_renewal": v.can_request_renewal}


def _open(session: Any, actor: Actor, patient_ref: str) -> Any:
    if actor.role == Role.PATIENT and str(actor.patient_id) == patient_ref:
        return "/patient/prescriptions"
    return rxs.open_list(session, actor, patient_id=patient_ref)


def _drugs(session: Any, actor: Actor, text: str) -> list[dict[str, str]]:
    from patient_portal.domain.codes import service as codes

    found = rxs.find_drugs(session, actor, text=text)
    out = []
    for c in found:
        entry = codes.formulary_entry(session, c.code)
        usual = (f" · usual {entry.dose_min:g}–{entry.dose_max:g} {entry.dose_unit}"
                 if entry and entry.dose_min is not None and entry.dose_max is not None else "")
        out.append({"code": c.code, "display": c.display, "label": c.display + usual,
                    "routes": ",".join(entry.routes if entry else ()), "unit": entry.dose_unit if entry else ""})
    return out


class PrescriptionsState(ChartRoute, CodePickerMixin, rx.State):
    status: str = "loading"  # loading | ok | denied | missing
    own: bool = False
    rows: list[dict[str, Any]] = []
    can_write: bool = False
    mode: str = ""  # "" | new
    form: dict[str, str] = {}
    substitution: bool = True
    form_errors: dict[str, str] = {}
    findings: list[str] = []
    override_reason: str = ""
    drug_query: str = ""  # the drug picker's text (CodePickerMixin holds its list)
    chosen: str = ""
    unit: str = ""
    routes: list[str] = []
    message: str = ""
    error: str = ""
    stop_reason: str = ""
    stop_error: str = ""

    def _clear(self) -> None:
        self.rows, self.can_write, self.message, self.error = [], False, "", ""
        self._close()

    def _close(self) -> None:
        self.mode, self.form, self.form_errors, self.findings, self.override_reason = "", {}, {}, [], ""
        self.drug_query, self.chosen = "", ""
        self._close_picker()
        self.unit, self.routes, self.substitution, self.stop_reason, self.stop_error = "", [], True, "", ""

    def _failed(self, answer: Any) -> Any:
        return show_read_failure(self, answer)

    @rx.event
    async def load_chart(self):
        """on_load of /chart/<id>/prescriptions: header and list in one unit (one audit event)."""
        self._clear()
        self.status, self.own = "loading", False
        self._read_route()
        answer = await attempt(self, _open, self.patient_ref)
        if answer.ok and isinstance(answer.value, str):
            return rx.redirect(answer.value, replace=True)
        if not answer.ok:
            return await show_read_failure_with_header(self, answer)
        header, views = answer.value
        self.can_write = answer.actor.can(Action.PRESCRIPTION_WRITE)
        self.rows = [_row(v) for v in views]
        self.status = "ok"
        await show_header(self, header, patient_ref=self.patient_ref)
        return None

    @rx.event
    async def load_own(self):
        """on_load of /patient/prescriptions: the signed-in patient's own prescriptions."""
        self._clear()
        self.status, self.own, self.patient_ref = "loading", True, ""
        answer = await attempt(self, rxs.own_prescriptions)
        if not answer.ok:
            return self._failed(answer)
        self.patient_ref = str(answer.actor.patient_id)
        self.rows = [_row(v) for v in answer.value]
        self.status = "ok"
        return None

    async def _reload(self) -> None:
        if self.own:
            answer = await attempt(self, rxs.own_prescriptions)
        else:
            answer = await attempt(self, rxs.list_prescriptions, patient_id=self.patient_ref)
        if answer.ok:
            self.rows = [_row(v) for v in answer.value]

    # ------------------------------------------------------------ the form
    @rx.event
    def start_new(self):
        self._close()
        self.message, self.error, self.mode = "", "", "new"
        self.form = {name: "" for name in FORM_FIELDS}
        self.form.update(refills="0", frequency="once_daily")

    @rx.event
    def close_form(self):
        self._close()

    @rx.event
    def set_field(self, field: str, value: str):
        if field in FORM_FIELDS and field != "drug" and self.mode == "new":
            self.form[field] = str(value)[:500]
            self.form_errors.pop(field, None)
            self.findings, self.form_errors = [], {k: v for k, v in self.form_errors.items() if k != "override_reason"}

    @rx.event
    def set_substitution(self, value: bool):
        self.substitution = bool(value)

    @rx.event
    def set_override_reason(self, value: str):
        self.override_reason = str(value)[:checks.MAX_REASON]
        self.form_errors.pop("override_reason", None)

    @rx.event
    async def search_drugs(self, text: str):
        """The drug picker's text changed (debounced): a picked drug is forgotten; list matches."""
        if self.mode != "new":
            return None
        self.drug_query = str(text)[:100]
        self.form["drug"], self.chosen, self.routes, self.unit = "", "", [], ""
        return await self._lookup(self.drug_query, _drugs, nothing="Not in the formulary — try another name.")

    def _picked(self, found: dict[str, str]) -> None:
        self.form["drug"], self.drug_query, self.chosen = found["code"], found["display"], found["label"]
        self.routes = [r for r in found.get("routes", "").split(",") if r]
        self.unit = found.get("unit", "")
        if len(self.routes) == 1:
            self.form["route"] = self.routes[0]
        self._close_picker()
        self.findings = []
        self.form_errors.pop("drug", None)

    def _values(self) -> dict[str, Any]:
        return {**{name: self.form.get(name, "") for name in FORM_FIELDS}, "substitution": self.substitution}

    @rx.event
    async def prescribe(self):
        """Sign the prescription; warnings come back as findings that need an override reason."""
        self.error, self.message = "", ""
        if self.mode != "new":
            return None
        answer = await attempt(self, rxs.prescribe, patient_id=self.patient_ref, values=self._values(),
                               override_reason=self.override_reason)
        if not answer.ok:
            if answer.signed_out:
                self._clear()
                return answer.show(self)
            if isinstance(answer.error, rxs.OverrideNeeded):
                self.findings = [f.message for f in answer.error.findings]
                self.form_errors = {"override_reason": answer.errors["override_reason"]} if self.override_reason.strip() == "" else {}
                self.error = answer.message
                return None
            self.form_errors = dict(answer.errors)
            self.error = NEEDS_ATTENTION if answer.errors else answer.message
            return None
        drug = answer.value.drug_name
        self._close()
        await self._reload()
        self.message = f"{drug} prescribed and added to the medication list."
        return rx.toast.success(self.message)

    # ------------------------------------------------------------ stop, PDF
    @rx.event
    def set_stop_reason(self, value: str):
        self.stop_reason, self.stop_error = str(value)[:checks.MAX_REASON], ""

    @rx.event
    async def stop(self, prescription_id: str):
        self.message, self.error = "", ""
        answer = await attempt(self, rxs.stop, patient_id=self.patient_ref, prescription_id=str(prescription_id)[:64],
                               reason=self.stop_reason)
        if not answer.ok:
            if answer.signed_out:
                return answer.show(self)
            self.stop_error = self.error = answer.message
            return None
        self.stop_reason = ""
        await self._reload()
        self.message = f"{answer.value.drug_name} stopped."
        return rx.toast.success(self.message)

    @rx.event
    async def download_pdf(self, prescription_id: str):
        answer = await attempt(self, rxs.pdf, patient_id=self.patient_ref, prescription_id=str(prescription_id)[:64])
        if not answer.ok:
            return answer.show(self)
        name, data = answer.value
        return rx.download(data=data, filename=name)

    # ------------------------------------------------------------ the patient
    @rx.event
    async def request_renewal(self, prescription_id: str):
        self.message, self.error = "", ""
        answer = await attempt(self, rxs.request_renewal, prescription_id=str(prescription_id)[:64])
        if not answer.ok:
            return answer.show(self)
        await self._reload()
        self.message = "Your doctor was asked to renew it. You will get an email when they answer."
        return rx.toast.success("Renewal asked for")


class RenewalsState(rx.State):
    """The doctor dashboard's "Renewal requests": approve or decline (with a note) in place."""

    requests: list[dict[str, str]] = []
    renewals_status: str = "loading"  # loading | ok | failed
    decline_note: str = ""
    renewal_error: str = ""

    @rx.event
    async def load(self):
        self.requests, self.renewal_error = [], ""
        answer = await attempt(self, rxs.renewal_requests)
        if not answer.ok:
            self.renewals_status = "loading" if answer.signed_out else "failed"
            return None
        self.requests = [{"id": str(i.id), "patient_id": str(i.patient_id), "patient": i.patient_name,
                          "drug": i.drug_name, "date": plain_time(i.requested_at), "message": i.message,
                          "href": f"/chart/{i.patient_id}/prescriptions"} for i in answer.value]
        self.renewals_status = "ok"
        return None

    def _find(self, request_id: str) -> dict[str, str] | None:
        return next((r for r in self.requests if r["id"] == str(request_id)), None)

    @rx.event
    def set_decline_note(self, value: str):
        self.decline_note, self.renewal_error = str(value)[:checks.MAX_REASON], ""

    @rx.event
    async def approve(self, request_id: str):
        item = self._find(request_id)
        if item is None:
            return None
        answer = await attempt(self, rxs.approve_renewal, patient_id=item["patient_id"], request_id=item["id"])
        if not answer.ok:
            if answer.signed_out:
                return answer.show(self)
            self.renewal_error = (answer.message if not isinstance(answer.error, rxs.OverrideNeeded) else
                                  "The check found warnings: open the chart's prescriptions to prescribe with a reason.")
            return None
        await self.load()
        return rx.toast.success(f"Renewed {item['drug']} for {item['patient']}")

    @rx.event
    async def decline(self, request_id: str):
        item = self._find(request_id)
        if item is None:
            return None
        answer = await attempt(self, rxs.decline_renewal, patient_id=item["patient_id"], request_id=item["id"],
                               note=self.decline_note)
        if not answer.ok:
            if answer.signed_out:
                return answer.show(self)
            self.renewal_error = answer.message
            return None
        self.decline_note = ""
        await self.load()
        return rx.toast.success("Declined; the patient was told")


class VerifyRxState(rx.State):
    """The public /verify/rx/<code> page: valid, stopped or not valid — nothing else."""

    verify_result: str = "checking"  # checking | valid | stopped | not_valid | try_later

    @rx.event
    async def check(self):
        path = self.router.url.path if self.router.url else ""
        code = path.rstrip("/").rsplit("/", 1)[-1][:64]
        address = (self.router.session.client_ip if self.router.session else "") or "unknown"
        if not throttle.allow(address):
            self.verify_result = "try_later"
            return
        answer = await run(rxs.verify, code)
        self.verify_result = answer.result
