"""State of My patients (/doctor/patients): the doctor's care-team list from
``domain.worklist.service.my_patients`` — sorted and paged on the server, 25 a page — written for
people. The sort and page are requests, checked by the service; the rows hold display strings only."""

from __future__ import annotations

import reflex as rx

from patient_portal.core.clock import plain_day, plain_time
from patient_portal.domain.worklist import service as worklist
from patient_portal.state.calls import attempt
from patient_portal.state.paging import PagedMixin

#: The flags' words and badge colours (FLAGS keys; a new flag without words shows its label).
FLAG_COLOURS = {"unsigned_notes": "amber", "unverified_readings": "orange", "unverified_reports": "orange",
                "results_to_review": "amber", "renewal_requests": "amber"}
LABELS = {f.key: f.label for f in worklist.FLAGS}


def _row(row: worklist.WorklistRow) -> dict:
    return {"id": str(row.patient_id), "name": row.name, "mrn": row.mrn, "age": "" if row.age is None else str(row.age),
            "dob_display": row.dob_display,
            "last_visit": plain_day(row.last_visit.date()) if row.last_visit else "No signed visit yet",
            "flags": [LABELS.get(k, k) for k in row.flags],
            "next_appointment": plain_time(row.next_appointment) if row.next_appointment else "None booked",
            "href": f"/chart/{row.patient_id}", "timeline": f"/chart/{row.patient_id}/timeline"}


class MyPatientsState(PagedMixin, rx.State):
    """The list, its sort (name | name_desc | last_visit | last_visit_asc) and paging."""

    list_status: str = "loading"  # loading | ok | failed
    sort: str = "name"
    rows: list[dict] = []
    total: int = 0
    pages: int = 1
    message: str = ""

    @rx.event
    async def load(self):
        """on_load of /doctor/patients: the first page, by name."""
        self.sort, self.page, self.rows, self.list_status = "name", 1, [], "loading"
        return await self._load_page()

    @rx.event
    async def sort_by(self, sort: str):
        """Sort by a column (clicking the one in use flips its direction); back to page 1."""
        wanted = str(sort)[:20]
        flips = {"name": "name_desc", "name_desc": "name", "last_visit": "last_visit_asc",
                 "last_visit_asc": "last_visit"}
        if wanted not in flips:
            return None
        self.sort = flips[wanted] if self.sort == wanted else wanted
        self.page = 1
        return await self._load_page()

    async def _load_page(self):
        answer = await attempt(self, worklist.my_patients, sort=self.sort, page=self.page)
        if not answer.ok:
            self.rows = []
            self.list_status = "loading" if answer.signed_out else "failed"
            return answer.show(self, message_var="message")
        found = answer.value
        self.rows = [_row(r) for r in found.rows]
        self.total, self.pages, self.page, self.sort = found.total, found.pages, found.page, found.sort
        self.list_status = "ok"
        return None
