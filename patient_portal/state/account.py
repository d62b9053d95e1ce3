"""State of the account pages (profile, sign-in security): only ever the signed-in user's own account.

Works while MFA enrolment is still required (that is where such users are sent), so its handlers
call services with ``attempt(..., allow_enrol=True)``, which accepts the ``enrol`` status; the
services act only on the actor's own account, never on another user's id. Changing the password
is not among them: it needs a fully signed-in session.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import reflex as rx
from sqlmodel import Session

from patient_portal.core.access import Actor
from patient_portal.domain.identity import enrolment, password_change, signed_in
from patient_portal.state.calls import attempt


def _overview(session: Session, actor: Actor) -> tuple[enrolment.MfaStatus, list[signed_in.SignedIn]]:
    """The account's MFA status and where it is signed in, in one unit."""
    return enrolment.status(session, actor), signed_in.list_signed_in(session, actor)


class AccountState(rx.State):
    """Own-account facts and the MFA set-up flow."""

    email: str = ""
    mfa_enabled: bool = False
    codes_left: int = 0
    required: bool = False
    enrolling: bool = False
    qr: str = ""
    manual_key: str = ""
    recovery_codes: list[str] = []
    error: str = ""
    message: str = ""
    pw_error: str = ""
    pw_message: str = ""
    devices: list[dict[str, Any]] = []  # where this account is signed in (its own sessions only)
    dev_error: str = ""
    dev_message: str = ""

    def _reset_flow(self) -> None:
        self.enrolling = False
        self.qr = ""
        self.manual_key = ""
        self.recovery_codes = []
        self.error = ""
        self.message = ""

    async def _refresh(self) -> Any:
        """Show the account's facts again; the sign-in redirect when the session is gone."""
        answer = await attempt(self, _overview, allow_enrol=True)
        if not answer.ok:
            if answer.signed_out:
                self.email = ""
            return answer.show(self)
        status, devices = answer.value
        self.email = status.email
        self.mfa_enabled = status.enabled
        self.codes_left = status.recovery_codes_left
        self.devices = [asdict(d) for d in devices]
        return None

    @rx.event
    async def load(self):
        self._reset_flow()
        params = self.router.url.query_parameters if self.router.url else {}
        self.required = params.get("required") == "1"
        return await self._refresh()

    @rx.event
    async def start(self):
        """Make a new secret and show its QR code and key."""
        self._reset_flow()
        answer = await attempt(self, enrolment.begin, allow_enrol=True)
        if not answer.ok:
            return answer.show(self)
        started = answer.value
        self.enrolling = True
        self.qr = started.qr_svg
        self.manual_key = " ".join(started.secret[i:i + 4] for i in range(0, len(started.secret), 4))
        return None

    @rx.event
    async def confirm(self, form_data: dict):
        """Check the first code; on success show the recovery codes once."""
        code = str((form_data or {}).get("code", ""))[:16]
        answer = await attempt(self, enrolment.confirm, code, allow_enrol=True)
        if not answer.ok:
            return answer.show(self)
        self.enrolling = False
        self.qr = ""
        self.manual_key = ""
        self.error = ""
        self.recovery_codes = answer.value
        self.message = "Two-step sign-in is on. Keep these recovery codes somewhere safe."
        return await self._refresh()

    @rx.event
    async def change_password(self, form_data: dict):
        """Change the own password (read from the form only, never kept in a var)."""
        form = form_data or {}
        self.pw_error, self.pw_message = "", ""
        answer = await attempt(self, password_change.change_password, str(form.get("current", ""))[:128],
                               str(form.get("new", ""))[:128], str(form.get("again", ""))[:128], own_units=True)
        if not answer.ok:  # a lockout ended this session too: that answer is the sign-in page
            return answer.show(self, message_var="pw_error")
        ended = answer.value
        others = f" {ended} other sign-in{'s' if ended != 1 else ''} ended." if ended else ""
        self.pw_message = "Your password was changed." + others
        return [rx.set_value(f"pw-{name}", "") for name in ("current", "new", "again")]

    @rx.event
    async def renew_codes(self, form_data: dict):
        """Replace the recovery codes (needs a current code)."""
        code = str((form_data or {}).get("code", ""))[:16]
        answer = await attempt(self, enrolment.new_recovery_codes, code, allow_enrol=True)
        if not answer.ok:
            return answer.show(self)
        self.error = ""
        self.recovery_codes = answer.value
        self.message = "New recovery codes made; the old ones no longer work."
        return await self._refresh()

    async def _end_sessions(self, fn, *args) -> Any:
        self.dev_error, self.dev_message = "", ""
        answer = await attempt(self, fn, *args, allow_enrol=True)
        if answer.signed_out:
            return answer.show(self)
        if answer.ok:
            ended = answer.value
            self.dev_message = (f"Signed out {ended} other device{'s' if ended != 1 else ''}. They need the "
                                "password to come back." if ended else "You are not signed in anywhere else.")
        else:
            answer.show(self, message_var="dev_error")
        return await self._refresh()

    @rx.event
    async def sign_out_device(self, session_id: str):
        """End one other sign-in of this account (the id is re-checked: it must be the actor's own)."""
        return await self._end_sessions(signed_in.sign_out_session, str(session_id or "")[:64])

    @rx.event
    async def sign_out_others(self):
        """End every sign-in of this account except this one."""
        return await self._end_sessions(signed_in.sign_out_everywhere_else)

    @rx.event
    def hide_codes(self):
        self.recovery_codes = []
        self.message = ""
