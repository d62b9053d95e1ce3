"""State of /verify-email?t=…: confirms a new account's address. No session, no patient data."""

from __future__ import annotations

import reflex as rx

from patient_portal.core.db import off_loop
from patient_portal.domain.identity import verification


class VerifyEmailState(rx.State):
    checked: bool = False
    confirmed: bool = False

    @rx.event
    async def load(self):
        params = self.router.url.query_parameters if self.router.url else {}
        token = str(params.get("t", ""))[:200]
        self.checked, self.confirmed = False, False
        self.confirmed = bool(token) and await off_loop(verification.confirm, token,
                                                        ip=self.router.session.client_ip or None)
        self.checked = True
