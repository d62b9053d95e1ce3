"""State of /admin/reports (the admins' reports).

``load`` and ``apply`` resolve the actor on the server and ask the reports service, which asks the
policy decision (admins only: others get "Not permitted.") and audits each opening. A filter the
service cannot use is said under its field. The reports hold counts and money only (no patient
ids); sign-out resets this state with every other.
"""

from __future__ import annotations

import reflex as rx

from patient_portal.domain.reports import service
from patient_portal.domain.reports.dto import DoctorOption, Report
from patient_portal.state.calls import attempt

#: The doctor select's "every doctor" (a Radix select item cannot have an empty value).
ALL_DOCTORS = "all"


class ReportsState(rx.State):
    """The reports shown for the chosen filters."""

    status: str = "loading"  # loading | ok | denied
    error: str = ""
    filter_errors: dict[str, str] = {}
    start: str = ""
    end: str = ""
    doctor: str = ALL_DOCTORS
    doctors: list[DoctorOption] = []
    reports: list[Report] = []
    pdf_href: str = ""

    def _clear(self) -> None:
        self.reports, self.doctors, self.pdf_href = [], [], ""

    async def _show(self, params: dict[str, str]):
        self.error, self.filter_errors = "", {}
        answer = await attempt(self, service.open_reports, params)
        if answer.invalid:  # bad dates: said under the field, the last reports stay
            return answer.show(self, errors_var="filter_errors")
        if not answer.ok:
            self._clear()
            return answer.show_page(self)
        page = answer.value
        self.start, self.end, self.doctor = page.start, page.end, page.doctor or ALL_DOCTORS
        self.doctors, self.reports, self.pdf_href = page.doctors, page.reports, page.pdf_href
        self.status = "ok"
        return None

    @rx.event
    async def load(self):
        self.status = "loading"
        return await self._show({})

    @rx.event
    async def apply(self, form_data: dict):
        data = form_data if isinstance(form_data, dict) else {}
        doctor = str(data.get("doctor") or "")
        return await self._show({"start": str(data.get("start") or ""), "end": str(data.get("end") or ""),
                                 "doctor": "" if doctor == ALL_DOCTORS else doctor})

    @rx.event
    def set_doctor(self, value: str):
        self.doctor = str(value or ALL_DOCTORS)

    @rx.event
    def set_start(self, value: str):
        self.start = str(value or "")[:10]

    @rx.event
    def set_end(self, value: str):
        self.end = str(value or "")[:10]
