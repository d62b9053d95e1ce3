"""State of the "Page not found" page: whether someone is signed in, for the shell and the way back.
Reads the session tables only."""

from __future__ import annotations

import reflex as rx

from patient_portal.state.session import SessionState, session_check


class NotFoundState(rx.State):
    """Signed in → the role shell and a link home; signed out → the public shell and the landing page."""

    signed_in: bool = False

    @rx.event
    async def load(self):
        check = await session_check(self)
        self.signed_in = check.actor is not None and check.status in ("ok", "enrol")
        if self.signed_in:
            return SessionState.require("any")  # fills the shell (name, navigation), as on every page
        return None
