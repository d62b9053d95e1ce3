"""State of the sign-in page: only the messages chosen by the query string. Touches no data."""

from __future__ import annotations

import reflex as rx

ERRORS = {
    "credentials": "Email or password is not right",
    "code": "Enter a current code from your authenticator app, or one of your recovery codes.",
    "throttled": "Too many attempts from this network. Wait 15 minutes, then try again.",
    "unverified": "Confirm your email address first: open the link we emailed you when you registered. "
                  "Registering again with the same address sends a new link.",
}
NOTICES = {
    "ended": "Your session ended; please sign in again",
    "signed_out": "You are signed out.",
}


class LoginState(rx.State):
    """Messages for /login, picked from fixed texts by ?error= and ?notice= (never echoed raw)."""

    error: str = ""
    notice: str = ""
    next_path: str = ""

    @rx.event
    def load(self):
        params = self.router.url.query_parameters if self.router.url else {}
        error = params.get("error", "")
        self.error = ERRORS.get(error, ERRORS["credentials"] if error else "")
        self.notice = NOTICES.get(params.get("notice", ""), "")
        nxt = params.get("next", "")
        self.next_path = nxt if nxt.startswith("/") and not nxt.startswith("//") and len(nxt) < 200 else ""
