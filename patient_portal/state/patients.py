"""State of patient search (/staff/patients, /doctor/patients, /admin/patients)."""

from __future__ import annotations

import reflex as rx

from patient_portal.core.access import AccessDenied
from patient_portal.domain.patients import service as patients
from patient_portal.state.paging import PagedMixin
from patient_portal.state.patient_services import run
from patient_portal.state.session import current_actor, signed_out


class PatientSearchState(PagedMixin, rx.State):
    """One search box plus an optional date of birth; 25 results a page."""

    query: str = ""
    dob: str = ""
    pages: int = 1
    total: int = 0
    outcome: str = "empty"  # empty | invalid | none | results
    message: str = ""
    too_many: bool = False
    rows: list[dict[str, str]] = []
    loading: bool = False

    @rx.event
    def reset_search(self):
        """on_load: a fresh page shows the empty state (results of an earlier visit are not kept)."""
        self.query, self.dob, self.page, self.pages, self.total = "", "", 1, 1, 0
        self.outcome, self.message, self.too_many, self.rows, self.loading = "empty", "", False, [], False

    @rx.event
    def set_query(self, value: str):
        self.query = str(value)[:200]

    @rx.event
    def set_dob(self, value: str):
        self.dob = str(value)[:10]

    @rx.event
    async def search(self, _form: dict | None = None):
        self.page = 1
        return await self._run()

    async def _load_page(self):
        return await self._run()

    async def _run(self):
        actor = await current_actor(self)
        if actor is None:
            self.rows = []
            return signed_out()
        self.loading = True
        try:
            result = await run(patients.search_patients, actor, self.query, dob=self.dob, page=self.page)
        except AccessDenied as exc:
            self.rows, self.outcome, self.message = [], "invalid", str(exc)
        else:
            self.rows = result["rows"]
            self.outcome, self.message = result["state"], result["message"]
            self.total, self.pages, self.too_many = result["total"], result["pages"], result["too_many"]
        self.loading = False
        return None
