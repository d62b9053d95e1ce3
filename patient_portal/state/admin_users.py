"""State of /admin/users: accounts (paginated), create, deactivate, unlock, MFA reset, care teams;
and for one chosen account ("Manage"): its role (changed after the admin's password, in a confirm
dialog), its permission set, and where it is signed in.

Every handler resolves the actor on the server; the services refuse anyone but an admin
(care-team assignment: admin or staff). The chosen account's id is a request, re-checked by every
service call; the password and code are read from the submitted form only, never kept in a var.
"""

from __future__ import annotations

import math

import reflex as rx

from patient_portal.core.access import Actor
from patient_portal.domain.identity import (
    account_admin,
    care_team,
    enrolment,
    permission_sets,
    reset,
    service,
)
from patient_portal.domain.identity.care_team import TeamMember
from patient_portal.domain.identity.service import UserSummary
from patient_portal.domain.identity.signed_in import SignedIn
from patient_portal.state.calls import attempt
from patient_portal.state.paging import PagedMixin
from patient_portal.state.session import signed_out


def _page_of_users(session, actor: Actor, *, page: int, query: str):
    """One page of accounts, their total and the doctors for the care-team picker (one unit)."""
    users, total = service.list_users(session, actor, page=page, query=query)
    return users, total, care_team.active_doctors(session, actor)


#: The permission-set picker's value for "no set: the role's full permissions" (Radix needs a value).
FULL_ROLE = "full"


def _manage_view(session, actor: Actor, user_id: str):
    """The chosen account's activity and the permission sets its role may hold (one unit)."""
    activity = account_admin.activity_of(session, actor, user_id)
    summary = service.summarize(service.get_user_row(session, user_id))
    sets = [s for s in permission_sets.list_sets(session, actor) if s.role == summary.role]
    current = str(service.get_user_row(session, user_id).permission_set_id or "")
    return activity, summary, sets, current


class AdminUsersState(PagedMixin, rx.State):
    """One page of accounts and the results of the admin's actions."""

    users: list[UserSummary] = []
    total: int = 0
    query: str = ""
    doctors: list[TeamMember] = []
    form_errors: dict[str, str] = {}
    error: str = ""
    message: str = ""
    #: the account being managed ("" : none), and what the manage card shows of it
    selected_id: str = ""
    selected_email: str = ""
    selected_role: str = ""
    selected_set: str = FULL_ROLE
    last_active: str = ""
    signed_in: list[SignedIn] = []
    set_choices: list[dict[str, str]] = []
    role_dialog: bool = False
    role_error: str = ""
    manage_error: str = ""

    @rx.var
    def pages(self) -> int:
        return max(1, math.ceil(self.total / service.PAGE_SIZE))

    def _forget(self) -> None:
        self.users = []
        self.doctors = []
        self.total = 0
        self._close()

    def _close(self) -> None:
        self.selected_id = self.selected_email = self.selected_role = self.last_active = ""
        self.selected_set = FULL_ROLE
        self.signed_in, self.set_choices = [], []
        self.role_dialog, self.role_error, self.manage_error = False, "", ""

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

    async def _show_selected(self, user_id: str):
        answer = await attempt(self, _manage_view, str(user_id)[:64])
        if not answer.ok:
            if answer.signed_out or answer.denied:
                self._forget()
            return answer.show(self, message_var="manage_error")
        activity, summary, sets, current = answer.value
        self.selected_id, self.selected_email, self.selected_role = activity.user_id, activity.email, summary.role
        self.last_active, self.signed_in = activity.last_active, activity.sessions
        self.set_choices = [{"id": FULL_ROLE, "name": f"Full {summary.role} permissions"}] + [
            {"id": s.id, "name": s.name} for s in sets]
        self.selected_set = current or FULL_ROLE
        return None

    @rx.event
    async def manage(self, user_id: str):
        """Open the manage card of one account: role, permission set, sessions."""
        self._close()
        return await self._show_selected(user_id)

    @rx.event
    def close_manage(self):
        self._close()

    @rx.event
    def open_role_dialog(self, value: bool = True):
        self.role_dialog = bool(value)
        self.role_error = ""

    @rx.event
    async def change_role(self, form_data: dict):
        """Change the chosen account's role (the admin's password and code from the form)."""
        data = {k: str(v or "") for k, v in (form_data or {}).items()}
        self.role_error = ""
        answer = await attempt(self, account_admin.change_role, own_units=True, user_id=self.selected_id,
                               role=data.get("role", "")[:16], password=data.get("password", "")[:1024],
                               code=data.get("code", "")[:32])
        if not answer.ok:
            if answer.signed_out or answer.denied:
                self._forget()
            return answer.show(self, message_var="role_error")
        if answer.value.self_signed_out:
            self._forget()
            return signed_out()
        self.role_dialog = False
        chosen = self.selected_id
        reloaded = await self._run(None, success=f"Role changed to {answer.value.user.role}; "
                                                 "the account was signed out everywhere.")
        return reloaded or await self._show_selected(chosen)

    @rx.event
    def set_selected_set(self, value: str):
        self.selected_set = str(value)[:64]

    @rx.event
    async def save_set(self):
        """Give the chosen account the picked permission set (or the role's full permissions)."""
        set_id = "" if self.selected_set == FULL_ROLE else self.selected_set
        answer = await attempt(self, permission_sets.assign_set, user_id=self.selected_id, set_id=set_id)
        if not answer.ok:
            if answer.signed_out or answer.denied:
                self._forget()
            return answer.show(self, message_var="manage_error")
        self.manage_error = ""
        return await self._run(None, success=f"Permission set: {answer.value or 'full role permissions'}.")

    @rx.event
    async def end_sessions(self):
        """Sign the chosen account out everywhere."""
        chosen = self.selected_id
        answer = await attempt(self, account_admin.end_sessions, chosen)
        if not answer.ok:
            if answer.signed_out or answer.denied:
                self._forget()
            return answer.show(self, message_var="manage_error")
        self.message = f"Signed out of {answer.value} session(s)."
        return await self._show_selected(chosen)
