"""State of /admin/retention: the retention rules with how much each would remove now (a dry run on
every load), and "Clean up now" behind a confirm (``domain.operations.cleanup``, admins only)."""

from __future__ import annotations

import reflex as rx

from patient_portal.domain.operations import cleanup
from patient_portal.state.calls import attempt


def _rows(report: cleanup.CleanupReport) -> list[dict[str, str]]:
    return [{"key": r.key, "label": r.label, "kept": r.kept, "count": str(r.count)} for r in report.results]


class RetentionState(rx.State):
    retention_status: str = "loading"  # loading | ok | denied
    rules: list[dict[str, str]] = []
    due_total: int = 0
    documents_to_purge: int = 0
    removed: str = ""  # what the last "Clean up now" removed, in words
    error: str = ""

    async def _check(self):
        answer = await attempt(self, cleanup.run, dry_run=True)
        if not answer.ok:
            return answer.show_page(self, status_var="retention_status")
        report = answer.value
        self.rules, self.due_total = _rows(report), report.total
        self.documents_to_purge, self.retention_status = report.documents_to_purge, "ok"
        return None

    @rx.event
    async def load(self):
        """on_load of /admin/retention: the policy with what is due now (a dry run, audited)."""
        self.retention_status, self.error, self.removed = "loading", "", ""
        return await self._check()

    @rx.event
    async def clean_up(self):
        answer = await attempt(self, cleanup.run, dry_run=False)
        if not answer.ok:
            return answer.show(self)
        total = answer.value.total
        self.removed = f"Removed {total} item{'s' if total != 1 else ''} past their time."
        await self._check()
        return rx.toast.success(self.removed)
