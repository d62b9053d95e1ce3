"""State of /patient/access-log (who has looked at my record) and /admin/audit (the audit log).

Every handler resolves the actor on the server and the audit-log service decides; at most one page
(≤ 50 rows of DTOs) is held here. Sign-out resets both states (SessionState.sign_out).
"""

from __future__ import annotations

from urllib.parse import urlencode

import reflex as rx

from patient_portal.domain.audit_log import service
from patient_portal.domain.audit_log.dto import (
    FILTER_FIELDS,
    AccessEntry,
    AuditEntry,
    AuditFilters,
)
from patient_portal.state.calls import attempt
from patient_portal.state.focus import focus_first_error
from patient_portal.state.paging import PagedMixin


class AccessLogState(PagedMixin, rx.State):
    """One page of what other people did with the signed-in patient's record."""

    rows: list[AccessEntry] = []
    total: int = 0
    pages: int = 1
    loaded: bool = False
    error: str = ""

    def _forget(self) -> None:
        self.rows, self.total, self.page, self.pages, self.loaded = [], 0, 1, 1, False

    async def _show(self, page: int):
        self.error = ""
        answer = await attempt(self, service.own_access_log, page=page)
        if not answer.ok:
            self._forget()
            return answer.show(self)
        result = answer.value
        self.rows, self.total, self.page, self.pages = result.rows, result.total, result.page, result.pages
        self.loaded = True
        return None

    @rx.event
    async def load(self):
        return await self._show(1)

    async def _load_page(self):
        return await self._show(self.page)


class AuditLogState(PagedMixin, rx.State):
    """One page of the audit log for administrators, its filters and the chain check."""

    rows: list[AuditEntry] = []
    total: int = 0
    pages: int = 1
    filters: dict[str, str] = {}
    error: str = ""
    #: a filter the service cannot use: its message beside the Apply button, and under its field
    filter_error: str = ""
    filter_errors: dict[str, str] = {}
    chain_message: str = ""
    chain_ok: bool = True

    @rx.var
    def export_href(self) -> str:
        """The CSV download of what the filters select (the endpoint re-checks who asks)."""
        used = {k: v for k, v in self.filters.items() if k in FILTER_FIELDS and v}
        return "/api/audit/export.csv" + ("?" + urlencode(used) if used else "")

    def _forget(self) -> None:
        self.rows, self.total, self.page, self.pages = [], 0, 1, 1
        self.chain_message = ""

    async def _show(self, page: int):
        self.error, self.filter_error, self.filter_errors = "", "", {}
        answer = await attempt(self, service.audit_events, page=page, filters=AuditFilters.of(self.filters))
        if answer.invalid:  # a filter it cannot use: said next to that field and the Apply button
            answer.show(self, message_var="filter_error", errors_var="filter_errors")
            return focus_first_error("audit-filters") if answer.errors else None
        if not answer.ok:
            self._forget()
            return answer.show(self)
        result = answer.value
        self.rows, self.total, self.page, self.pages = result.rows, result.total, result.page, result.pages
        return None

    @rx.event
    async def load(self):
        self.filters = {}
        self.chain_message = ""
        return await self._show(1)

    @rx.event
    async def apply_filters(self, form_data: dict):
        data = form_data or {}
        self.filters = {k: v for k, v in vars(AuditFilters.of(data)).items() if v}
        return await self._show(1)

    @rx.event
    async def clear_filters(self):
        self.filters = {}
        return await self._show(1)

    async def _load_page(self):
        return await self._show(self.page)

    @rx.event
    async def check_chain(self):
        self.chain_message = ""
        answer = await attempt(self, service.chain_status)
        if not answer.ok:
            self._forget()
            return answer.show(self)
        status = answer.value
        self.chain_ok, self.chain_message = status.ok, status.message
        return None
