"""State for public pages: nothing here touches patient data."""

from __future__ import annotations

import reflex as rx

from patient_portal.seed import DEMO_EMAILS, DEMO_PASSWORD
from patient_portal.settings import get_settings


class PublicState(rx.State):
    """What the landing page shows: whether demo accounts exist."""

    demo_accounts: list[str] = []
    demo_password: str = ""

    @rx.event
    def load(self):
        settings = get_settings()
        if settings.demo_accounts and not settings.production:
            self.demo_accounts = list(DEMO_EMAILS)
            self.demo_password = DEMO_PASSWORD
        else:
            self.demo_accounts = []
            self.demo_password = ""
