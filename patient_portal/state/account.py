"""State of the account pages (profile, sign-in security): only ever the signed-in user's own account.

Works while MFA enrolment is still required (that is where such users are sent), so it resolves the
session with ``session_check`` and accepts the ``enrol`` status, never another user's id.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import reflex as rx

from patient_portal.core.access import AccessDenied, Actor
from patient_portal.core.db import off_loop, unit_of_work
from patient_portal.domain.identity import enrolment, password_change, signed_in
from patient_portal.domain.identity.passwords import PasswordRejected
from patient_portal.state.session import session_check, signed_out


def _call(fn, actor: Actor, *args):
    with unit_of_work() as session:
        return fn(session, actor, *args)


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

    async def _actor(self) -> Actor | None:
        check = await session_check(self)
        return check.actor if check.status in ("ok", "enrol") else None

    async def _refresh(self, actor: Actor) -> None:
        status = await off_loop(_call, enrolment.status, actor)
        self.email = status.email
        self.mfa_enabled = status.enabled
        self.codes_left = status.recovery_codes_left
        self.devices = [asdict(d) for d in await off_loop(_call, signed_in.list_signed_in, actor)]

    @rx.event
    async def load(self):
        self._reset_flow()
        actor = await self._actor()
        if actor is None:
            self.email = ""
            return signed_out()
        params = self.router.url.query_parameters if self.router.url else {}
        self.required = params.get("required") == "1"
        await self._refresh(actor)
        return None

    @rx.event
    async def start(self):
        """Make a new secret and show its QR code and key."""
        actor = await self._actor()
        if actor is None:
            return signed_out()
        self._reset_flow()
        try:
            started = await off_loop(_call, enrolment.begin, actor)
        except AccessDenied as exc:
            self.error = str(exc)
            return None
        self.enrolling = True
        self.qr = started.qr_svg
        self.manual_key = " ".join(started.secret[i:i + 4] for i in range(0, len(started.secret), 4))
        return None

    @rx.event
    async def confirm(self, form_data: dict):
        """Check the first code; on success show the recovery codes once."""
        actor = await self._actor()
        if actor is None:
            return signed_out()
        code = str((form_data or {}).get("code", ""))[:16]
        try:
            codes = await off_loop(_call, enrolment.confirm, actor, code)
        except (enrolment.EnrolmentError, AccessDenied) as exc:
            self.error = str(exc)
            return None
        self.enrolling = False
        self.qr = ""
        self.manual_key = ""
        self.error = ""
        self.recovery_codes = codes
        self.message = "Two-step sign-in is on. Keep these recovery codes somewhere safe."
        await self._refresh(actor)
        return None

    @rx.event
    async def change_password(self, form_data: dict):
        """Change the own password (read from the form only, never kept in a var)."""
        check = await session_check(self)
        if check.status != "ok":
            return signed_out()
        form = form_data or {}
        self.pw_error, self.pw_message = "", ""
        try:
            ended = await off_loop(password_change.change_password, check.actor, str(form.get("current", ""))[:128],
                                   str(form.get("new", ""))[:128], str(form.get("again", ""))[:128])
        except password_change.WrongCurrentPassword as exc:
            if exc.locked:
                return signed_out()
            self.pw_error = str(exc)
        except PasswordRejected as exc:
            self.pw_error = str(exc)
        except AccessDenied:
            return signed_out()
        else:
            others = f" {ended} other sign-in{'s' if ended != 1 else ''} ended." if ended else ""
            self.pw_message = "Your password was changed." + others
            return [rx.set_value(f"pw-{name}", "") for name in ("current", "new", "again")]
        return None

    @rx.event
    async def renew_codes(self, form_data: dict):
        """Replace the recovery codes (needs a current code)."""
        actor = await self._actor()
        if actor is None:
            return signed_out()
        code = str((form_data or {}).get("code", ""))[:16]
        try:
            codes = await off_loop(_call, enrolment.new_recovery_codes, actor, code)
        except (enrolment.EnrolmentError, AccessDenied) as exc:
            self.error = str(exc)
            return None
        self.error = ""
        self.recovery_codes = codes
        self.message = "New recovery codes made; the old ones no longer work."
        await self._refresh(actor)
        return None

    async def _end_sessions(self, fn, *args) -> Any:
        actor = await self._actor()
        if actor is None:
            return signed_out()
        self.dev_error, self.dev_message = "", ""
        try:
            ended = await off_loop(_call, fn, actor, *args)
        except AccessDenied as exc:
            self.dev_error = str(exc)
        else:
            self.dev_message = (f"Signed out {ended} other device{'s' if ended != 1 else ''}. They need the "
                                "password to come back." if ended else "You are not signed in anywhere else.")
        await self._refresh(actor)
        return None

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
