"""State of /admin/users: accounts (paginated), create, deactivate, unlock, MFA reset, care teams.

Every handler resolves the actor on the server; the services refuse anyone but an admin
(care-team assignment: admin or staff).
"""

from __future__ import annotations

import math

import reflex as rx

from patient_portal.core.access import Actor
from patient_portal.domain.identity import care_team, enrolment, reset, service
from patient_portal.domain.identity.care_team import TeamMember
from patient_portal.domain.identity.service import UserSummary
from patient_portal.state.calls import attempt
from patient_portal.state.paging import PagedMixin


def _page_of_users(session, actor: Actor, *, page: int, query: str):
    """One page of accounts, their total and the doctors for the care-team picker (one unit)."""
    users, total = service.list_users(session, actor, page=page, query=query)
    return users, total, care_team.active_doctors(session, actor)


class AdminUsersState(PagedMixin, rx.State):
    """One page of accounts and the results of the admin's actions."""

    users: list[UserSummary] = []
    total: int = 0
    query: str = ""
    doctors: list[TeamMember] = []
    form_errors: dict[str, str] = {}
    error: str = ""
    message: str = ""

    @rx.var
    def pages(self) -> int:
        return max(1, math.ceil(self.total / service.PAGE_SIZE))

    def _forget(self) -> None:
        self.users = []
        self.doctors = []
        self.total = 0

    async def _run(self, fn, *args, success: str = "", **kwargs):
        """Run one service call (none: just reload), then reload the page; messages for the UI."""
        self.error = ""
        self.message = ""
        answer = await attempt(self, fn, *args, **kwargs) if fn is not None else None
        if answer is None or answer.ok:
            answer = await attempt(self, _page_of_users, page=self.page, query=self.query)
            if answer.ok:
                self.users, self.total, self.doctors = answer.value
                self.message = success
                return None
        if answer.signed_out or answer.denied:
            self._forget()
        return answer.show(self)

    @rx.event
    async def load(self):
        self.page = 1
        self.query = ""
        self.form_errors = {}
        return await self._run(None)

    @rx.event
    async def search(self, form_data: dict):
        self.query = str((form_data or {}).get("query", ""))[:100]
        self.page = 1
        return await self._run(None)

    async def _load_page(self):
        return await self._run(None)

    @rx.event
    async def create(self, form_data: dict):
        data = {k: str(v) for k, v in (form_data or {}).items()}
        self.form_errors = {}
        answer = await attempt(self, service.create_user, email=data.get("email", ""), role=data.get("role", ""),
                               display_name=data.get("display_name", ""), password=data.get("password", ""))
        if not answer.ok:
            if answer.invalid:
                self.form_errors = dict(answer.errors)
                return None
            if answer.signed_out or answer.denied:
                self._forget()
            return answer.show(self)
        return await self._run(None, success="Account created.")

    @rx.event
    async def deactivate(self, user_id: str):
        return await self._run(service.set_active, str(user_id), False, success="Account deactivated.")

    @rx.event
    async def activate(self, user_id: str):
        return await self._run(service.set_active, str(user_id), True, success="Account reactivated.")

    @rx.event
    async def unlock(self, user_id: str):
        return await self._run(service.unlock_user, str(user_id), success="Sign-in unlocked.")

    @rx.event
    async def reset_mfa(self, user_id: str):
        return await self._run(enrolment.reset_for_user, str(user_id),
                               success="Two-step sign-in reset; they set it up again at next sign-in.")

    @rx.event
    async def send_password_link(self, user_id: str):
        """Email the account a link to choose a password (it also confirms the address)."""
        return await self._run(reset.send_link_for_user, str(user_id),
                               success="A link to choose a password was emailed to the account's address "
                                       "(valid 24 hours).")

    @rx.event
    async def assign_doctor(self, form_data: dict):
        data = form_data or {}
        return await self._run(care_team.assign_doctor_to_account, patient_email=str(data.get("patient_email", "")),
                               doctor_id=str(data.get("doctor_id", "")), success="Doctor assigned.")
