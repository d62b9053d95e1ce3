"""State of /patient/access-log (who has looked at my record) and /admin/audit (the audit log).

Every handler resolves the actor on the server and the audit-log service decides; at most one page
(≤ 50 rows of DTOs) is held here. Sign-out resets both states (SessionState.sign_out).
"""

from __future__ import annotations

from urllib.parse import urlencode

import reflex as rx

from patient_portal.core.access import AccessDenied, Actor
from patient_portal.core.db import off_loop, unit_of_work
from patient_portal.domain.audit_log import service
from patient_portal.domain.audit_log.dto import (
    FILTER_FIELDS,
    AccessEntry,
    AuditEntry,
    AuditFilters,
    FilterInvalid,
)
from patient_portal.state.paging import PagedMixin
from patient_portal.state.session import current_actor, signed_out


def _call(fn, actor: Actor, **kwargs):
    with unit_of_work() as session:
        return fn(session, actor, **kwargs)


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
        actor = await current_actor(self)
        if actor is None:
            self._forget()
            return signed_out()
        self.error = ""
        try:
            result = await off_loop(_call, service.own_access_log, actor, page=page)
        except AccessDenied as exc:
            self._forget()
            self.error = str(exc)
            return None
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
        actor = await current_actor(self)
        if actor is None:
            self._forget()
            return signed_out()
        self.error = ""
        filters = AuditFilters.of(self.filters)
        try:
            result = await off_loop(_call, service.audit_events, actor, page=page, filters=filters)
        except AccessDenied as exc:
            self._forget()
            self.error = str(exc)
            return None
        except FilterInvalid as exc:
            self.error = str(exc)
            return None
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
        actor = await current_actor(self)
        if actor is None:
            self._forget()
            return signed_out()
        self.chain_message = ""
        try:
            status = await off_loop(_call, service.chain_status, actor)
        except AccessDenied as exc:
            self._forget()
            self.error = str(exc)
            return None
        self.chain_ok, self.chain_message = status.ok, status.message
        return None
