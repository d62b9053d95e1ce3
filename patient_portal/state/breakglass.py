"""State of break-the-glass: the request page (/chart/<id>/emergency-access, doctors and the front
desk) and the admins' page (/admin/emergency-access: active grants, review tasks).

The request form's password and code are read from the submitted form only, never kept in a var;
the patient id in the address is a request like any other, checked by the service (which also
refuses admins and patients, audited). Who may end or review a grant is the service's to decide.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from patient_portal.core.clock import plain_time
from patient_portal.domain.breakglass import service as svc
from patient_portal.domain.breakglass.dto import AlreadyReached, Grant
from patient_portal.domain.identity.reauth import WrongCode, WrongCurrentPassword
from patient_portal.state.calls import attempt
from patient_portal.state.chart_header import ChartRoute

FORM_ID = "emergency-form"
ROLE_WORDS = {"doctor": "Doctor", "staff": "Front desk"}
REVIEW_WORDS = {"pending": "To review", "approved": "Approved", "flagged": "Flagged"}
STATE_WORDS = {"active": "Active", "expired": "Ran out", "ended": "Ended early"}


class EmergencyAccessState(ChartRoute, rx.State):
    """The request form of one patient's emergency access."""

    status: str = "loading"  # loading | ok | denied | missing
    minutes: int = 60
    errors: dict[str, str] = {}
    error: str = ""

    @rx.event
    async def load(self):
        """on_load: may this person ask for this patient? (A grant already running: back to the chart.)"""
        self.status, self.errors, self.error = "loading", {}, ""
        self._read_route()
        answer = await attempt(self, svc.check_request, patient_id=self.patient_ref)
        if answer.ok:
            self.minutes = svc.grant_minutes()
            self.status = "ok"
            return None
        if isinstance(answer.error, AlreadyReached):
            return rx.redirect(f"/chart/{self.patient_ref}", replace=True)
        if answer.signed_out:
            return answer.show(self)
        self.status = "denied" if answer.denied else "missing"
        return None

    @rx.event
    async def submit(self, form_data: dict[str, str | None]):
        """Break the glass: reason, password (and code); then the chart, with the banner. (A field the
        form does not draw — the code, for an account without two-step sign-in — comes as None.)"""
        form = {k: v or "" for k, v in (form_data or {}).items()}
        self.errors, self.error = {}, ""
        answer = await attempt(self, svc.request_access, patient_id=self.patient_ref,
                               reason_code=str(form.get("reason_code", ""))[:32],
                               reason_text=str(form.get("reason_text", ""))[:600],
                               password=str(form.get("password", ""))[:128], code=str(form.get("code", ""))[:32],
                               own_units=True)
        if answer.ok:
            grant: Grant = answer.value
            return [rx.redirect(f"/chart/{self.patient_ref}"),
                    rx.toast.warning(f"Emergency access until {plain_time(grant.expires_at)}. Everything you open "
                                     "is recorded.")]
        if answer.signed_out:
            return answer.show(self)
        if isinstance(answer.error, WrongCode):
            self.errors = {"code": answer.message}
        elif isinstance(answer.error, WrongCurrentPassword):
            self.errors = {"password": answer.message}
        elif isinstance(answer.error, AlreadyReached):
            return rx.redirect(f"/chart/{self.patient_ref}", replace=True)
        else:
            self.errors = dict(answer.errors)
            self.error = "" if answer.errors else answer.message
        return rx.set_value(f"{FORM_ID}-password", "")


def _grant_row(g: Grant) -> dict[str, str]:
    return {"id": str(g.id), "patient": f"{g.patient_name} (MRN {g.mrn})", "href": f"/chart/{g.patient_id}",
            "who": f"{g.user_name} ({ROLE_WORDS.get(g.role, g.role)})", "reason": g.reason,
            "reason_text": g.reason_text, "started": plain_time(g.started_at), "until": plain_time(g.expires_at),
            "ended": plain_time(g.ended_at) if g.ended_at else "", "state": STATE_WORDS.get(g.state, g.state),
            "active": "yes" if g.state == "active" else "", "review": REVIEW_WORDS.get(g.review_status, ""),
            "review_status": g.review_status, "note": g.review_note, "reviewer": g.reviewer_name}


def _admin_view(session: Any, actor: Any) -> tuple[list[Grant], list[Grant], list[Grant]]:
    return (svc.active_grants(session, actor), svc.reviews(session, actor),
            svc.reviews(session, actor, status="flagged"))


class EmergencyAdminState(rx.State):
    """Active grants (end one), grants to review (approve or flag with a note), flagged ones."""

    list_status: str = "loading"  # loading | ok | failed
    active: list[dict[str, str]] = []
    pending: list[dict[str, str]] = []
    flagged: list[dict[str, str]] = []
    notes: dict[str, str] = {}
    errors: dict[str, str] = {}
    error: str = ""

    async def _read(self):
        answer = await attempt(self, _admin_view)
        if not answer.ok:
            self.active, self.pending, self.flagged = [], [], []
            self.list_status = "loading" if answer.signed_out else "failed"
            return answer.show(self)
        active, pending, flagged = answer.value
        self.active = [_grant_row(g) for g in active]
        self.pending = [_grant_row(g) for g in pending]
        self.flagged = [_grant_row(g) for g in flagged]
        self.list_status = "ok"
        return None

    @rx.event
    async def load(self):
        self.list_status, self.notes, self.errors, self.error = "loading", {}, {}, ""
        return await self._read()

    @rx.event
    def set_note(self, grant_id: str, value: str):
        self.notes[str(grant_id)[:64]] = str(value)[:1000]

    @rx.event
    async def end(self, grant_id: str):
        """End an active grant now (after the confirm dialog)."""
        self.error = ""
        answer = await attempt(self, svc.end_grant, grant_id=str(grant_id)[:64])
        if not answer.ok:
            return answer.show(self)
        await self._read()
        return rx.toast.success("Emergency access ended")

    @rx.event
    async def review(self, grant_id: str, decision: str):
        """Approve, or flag with a note (the service asks for the note)."""
        key = str(grant_id)[:64]
        self.errors = {k: v for k, v in self.errors.items() if k != key}
        answer = await attempt(self, svc.review, grant_id=key, decision=str(decision)[:8], note=self.notes.get(key, ""))
        if not answer.ok:
            if answer.signed_out:
                return answer.show(self)
            self.errors = {**self.errors, key: answer.errors.get("note") or answer.message}
            return None
        self.notes.pop(key, None)
        await self._read()
        return rx.toast.success("Review saved")
