"""State of /admin/care-teams: every care-team assignment (paginated, optionally one doctor's) and
taking a doctor off a patient's team. The services refuse anyone but an admin (the list) or the
roles that manage care teams (removal); the ids a row sends are requests, checked there."""

from __future__ import annotations

import math

import reflex as rx

from patient_portal.domain.identity import care_team
from patient_portal.domain.identity.care_team import Assignment, TeamMember
from patient_portal.state.calls import attempt
from patient_portal.state.paging import PagedMixin

PER_PAGE = 25
ALL_DOCTORS = "all"


def _view(session, actor, *, doctor_id: str, page: int):
    rows, total = care_team.list_assignments(session, actor, doctor_id=doctor_id, page=page, per_page=PER_PAGE)
    return rows, total, care_team.active_doctors(session, actor)


class AdminCareTeamsState(PagedMixin, rx.State):
    rows: list[Assignment] = []
    total: int = 0
    doctors: list[TeamMember] = []
    doctor: str = ALL_DOCTORS
    error: str = ""
    message: str = ""

    @rx.var
    def pages(self) -> int:
        return max(1, math.ceil(self.total / PER_PAGE))

    async def _load_page(self, success: str = ""):
        answer = await attempt(self, _view, doctor_id="" if self.doctor == ALL_DOCTORS else self.doctor,
                               page=self.page)
        if not answer.ok:
            self.rows, self.doctors, self.total = [], [], 0
            return answer.show(self)
        self.rows, self.total, self.doctors = answer.value
        self.error, self.message = "", success
        return None

    @rx.event
    async def load(self):
        self.page, self.doctor = 1, ALL_DOCTORS
        return await self._load_page()

    @rx.event
    async def filter_doctor(self, value: str):
        self.doctor, self.page = str(value)[:64], 1
        return await self._load_page()

    @rx.event
    async def remove(self, patient_id: str, doctor_id: str):
        answer = await attempt(self, care_team.unassign_doctor, patient_id=str(patient_id)[:64],
                               doctor_id=str(doctor_id)[:64])
        if not answer.ok:
            return answer.show(self)
        return await self._load_page("Taken off the care team." if answer.value else "That assignment was gone already.")
