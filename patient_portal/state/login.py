"""State of the sign-in page: which step it shows and its messages. Touches no data.

The messages are fixed texts chosen by ``?error=`` and ``?notice=`` (never echoed raw). The code
step (``?step=code``) shows only while the browser holds a valid MFA ticket: the websocket sees the
email the ticket is for (``portal_mfa_for``, written by ``api.auth.websocket_cookie`` from the
HttpOnly ticket, which itself never reaches this state), and nothing else of it.
"""

from __future__ import annotations

from urllib.parse import quote, unquote

import reflex as rx

from patient_portal.core import clinic_config
from patient_portal.domain.identity import mfa_ticket, sessions
from patient_portal.settings import get_settings

ERRORS = {
    "credentials": "Email or password is not right",
    "code": "That code did not work. Enter the current code from your authenticator app, or one of "
            "your recovery codes.",
    "throttled": "Too many attempts from this network. Wait 15 minutes, then try again.",
    "unverified": "Confirm your email address first: open the link we emailed you when you registered. "
                  "Registering again with the same address sends a new link.",
    "ticket": "Sign-in took too long or was interrupted. Enter your password again.",
    "code_locked": "Too many wrong codes. Sign-in to this account is paused for 15 minutes; then try again.",
    "sso": "Sign-in through your organization did not work. Try again, or ask the clinic's administrator "
           "to link your account.",
}
#: The field an error is shown next to ("" = above the form: it is about the whole attempt).
ERROR_FIELDS = {"credentials": "password", "code": "code", "unverified": "email"}
NOTICES = {
    "ended": "Your session ended; please sign in again",
    "signed_out": "You are signed out.",
}


def _safe_next(nxt: str) -> str:
    return nxt if nxt.startswith("/") and not nxt.startswith("//") and "\\" not in nxt and len(nxt) < 200 else ""


class LoginState(rx.State):
    """What /login shows: the password step or the code step, and which message where."""

    error: str = ""
    #: email | password | code, or "" for a message above the form.
    error_field: str = ""
    notice: str = ""
    next_path: str = ""
    #: "password" or "code".
    step: str = "password"
    #: The address the code step is for (from the server's ticket; shown, never sent back).
    code_for: str = ""
    #: The single sign-on button's words when an identity provider is set up ("" hides it).
    sso_label: str = ""
    #: The clinic's name and whether it has a logo (/admin/settings), shown above the form.
    clinic_name: str = ""
    has_logo: bool = False
    #: The code step asks for a recovery code instead of an authenticator code.
    recovery: bool = False

    def _ticket_email(self) -> str:
        try:
            header = self.router.headers.cookie or ""
        except AttributeError:
            return ""
        value = sessions.parse_cookie_header(header, mfa_ticket.HINT_COOKIE_NAME) or ""
        return unquote(value)[:320]

    @rx.var
    def sso_href(self) -> str:
        return "/api/auth/sso/start" + (f"?next={quote(self.next_path, safe='/')}" if self.next_path else "")

    @rx.event
    def load(self):
        params = self.router.url.query_parameters if self.router.url else {}
        error = str(params.get("error", ""))
        self.notice = NOTICES.get(str(params.get("notice", "")), "")
        self.next_path = _safe_next(str(params.get("next", "")))
        self.recovery = False
        settings = get_settings()
        clinic = clinic_config.current()
        self.clinic_name, self.has_logo = clinic.clinic_name, clinic.has_logo
        self.sso_label = settings.oidc_label if settings.oidc_issuer and settings.oidc_client_id else ""
        self.code_for = self._ticket_email() if params.get("step") == "code" else ""
        if params.get("step") == "code" and not self.code_for:
            error = "ticket"  # the ticket expired (or the page was bookmarked): start again
        self.step = "code" if self.code_for else "password"
        if self.step == "password" and error == "code":
            error = "ticket"
        self.error = ERRORS.get(error, ERRORS["credentials"] if error else "")
        self.error_field = ERROR_FIELDS.get(error, "") if error in ERRORS else ("password" if error else "")

    @rx.event
    def use_recovery(self, on: bool):
        """Switch the code field between an authenticator code and a recovery code."""
        self.recovery = bool(on)
