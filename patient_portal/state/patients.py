"""State of patient search (/staff/patients, /doctor/patients, /admin/patients)."""

from __future__ import annotations

import reflex as rx

from patient_portal.domain.patients import service as patients
from patient_portal.state.calls import attempt
from patient_portal.state.paging import PagedMixin


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
        self.loading = True
        answer = await attempt(self, patients.search_patients, self.query, dob=self.dob, page=self.page)
        self.loading = False
        if not answer.ok:  # said where the results would be
            self.rows, self.outcome = [], "invalid"
            return answer.show(self, message_var="message")
        result = answer.value
        self.rows = result["rows"]
        self.outcome, self.message = result["state"], result["message"]
        self.total, self.pages, self.too_many = result["total"], result["pages"], result["too_many"]
        return None
