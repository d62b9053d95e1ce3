"""State of /admin/health (the system health page).

``load`` and ``refresh`` resolve the actor on the server and ask the operations service, which asks
the policy decision (admins only: others get "Not permitted.") and audits the opening. The report
holds no patient data; sign-out resets it with every other state.
"""

from __future__ import annotations

import reflex as rx

from patient_portal.domain.operations import service
from patient_portal.domain.operations.dto import CheckResult, DayCount, ErrorReference, SlowCall
from patient_portal.state.calls import attempt


class SystemHealthState(rx.State):
    """The latest health report shown to an admin."""

    status: str = "loading"  # loading | ok | denied
    error: str = ""
    checks: list[CheckResult] = []
    failing: int = 0
    jobs_queued: int = 0
    jobs_failed: int = 0
    last_backup: str = ""
    backup_overdue: bool = False
    backup_check: str = ""
    backup_check_failed: bool = False
    key_age: str = ""
    errors: list[ErrorReference] = []
    sessions_active: int = 0
    sign_ins: list[DayCount] = []
    slowest: list[SlowCall] = []

    @rx.var
    def sign_in_chart(self) -> list[dict[str, str | int]]:
        """The sign-ins per day as the bar chart's rows."""
        return [{"day": d.day, "count": d.count} for d in self.sign_ins]

    def _clear(self) -> None:
        self.checks, self.errors, self.sign_ins, self.slowest = [], [], [], []
        self.failing = self.jobs_queued = self.jobs_failed = self.sessions_active = 0
        self.last_backup = self.key_age = ""
        self.backup_overdue = self.backup_check_failed = False
        self.backup_check = ""

    async def _show(self):
        self.error = ""
        answer = await attempt(self, service.system_health)
        if not answer.ok:
            self._clear()
            return answer.show_page(self)
        r = answer.value
        self.checks, self.failing = r.checks, r.failing
        self.jobs_queued, self.jobs_failed = r.jobs_queued, r.jobs_failed
        self.last_backup, self.backup_overdue, self.key_age = r.last_backup, r.backup_overdue, r.key_age
        self.backup_check, self.backup_check_failed = r.backup_check, r.backup_check_failed
        self.errors, self.sessions_active, self.sign_ins = r.errors, r.sessions_active, r.sign_ins
        self.slowest = r.slowest
        self.status = "ok"
        return None

    @rx.event
    async def load(self):
        self.status = "loading"
        return await self._show()

    @rx.event
    async def refresh(self):
        return await self._show()
