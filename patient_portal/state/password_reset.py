"""State of the forgotten-password pages (/forgot-password, /reset-password). No session, no patient data.

The new password is read from the submitted form only, never kept in a var. The link's token is
already in the browser's address bar; it is kept in a var only to post it back.
"""

from __future__ import annotations

import reflex as rx

from patient_portal.domain.identity import reset
from patient_portal.state.calls import attempt

SENT = ("If an account uses that address, we have emailed it a link to choose a new password. "
        "The link works once, for 30 minutes.")


class PasswordResetState(rx.State):
    sent: str = ""
    token: str = ""
    link_ok: bool = False
    checked: bool = False
    done: bool = False
    error: str = ""
    saving: bool = False

    @rx.event
    def load_request(self):
        self.sent, self.error, self.saving = "", "", False

    @rx.event
    async def request(self, form: dict):
        """Ask for a link; the answer is the same whether or not the address has an account."""
        self.saving = True
        yield
        await attempt(self, reset.request_reset, str(form.get("email", ""))[:320],
                      ip=self.router.session.client_ip or None, anonymous=True, own_units=True)
        self.sent, self.saving = SENT, False

    @rx.event
    async def load_reset(self):
        params = self.router.url.query_parameters if self.router.url else {}
        self.token = str(params.get("t", ""))[:200]
        self.done, self.error, self.saving, self.checked = False, "", False, False
        self.link_ok = bool(self.token) and (
            await attempt(self, reset.link_is_valid, self.token, anonymous=True, own_units=True)).value is True
        self.checked = True

    @rx.event
    async def choose(self, form: dict):
        password, again = str(form.get("password", ""))[:128], str(form.get("password_again", ""))[:128]
        if password != again:
            self.error = "The two passwords are not the same."
            return
        self.saving, self.error = True, ""
        yield
        answer = await attempt(self, reset.complete_reset, self.token, password,
                               ip=self.router.session.client_ip or None, anonymous=True, own_units=True)
        if answer.ok:
            self.done, self.token = True, ""
        else:  # beside the new-password fields; a used or expired link also hides them
            self.link_ok = not isinstance(answer.error, reset.ResetLinkInvalid)
            answer.show(self)
        self.saving = False
