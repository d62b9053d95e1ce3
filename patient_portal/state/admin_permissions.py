"""State of /admin/permissions: the permission sets, and one being made or edited (its capabilities
ticked from the fixed list its role offers). The services refuse anyone but an admin."""

from __future__ import annotations

import reflex as rx

from patient_portal.domain.identity import permission_sets
from patient_portal.domain.identity.permission_sets import SetView
from patient_portal.state.calls import attempt


class AdminPermissionsState(rx.State):
    sets: list[SetView] = []
    #: the form: "" for a new set, else the id of the set edited
    editing_id: str = ""
    editing: bool = False
    name: str = ""
    role: str = "staff"
    description: str = ""
    chosen: list[str] = []
    options: list[dict[str, str]] = []
    form_errors: dict[str, str] = {}
    error: str = ""
    message: str = ""

    def _clear(self) -> None:
        self.sets, self.options, self.chosen = [], [], []
        self.editing, self.editing_id, self.name, self.description, self.role = False, "", "", "", "staff"

    async def _reload(self, success: str = ""):
        answer = await attempt(self, permission_sets.list_sets)
        if not answer.ok:
            self._clear()
            return answer.show(self)
        self.sets, self.error, self.message = answer.value, "", success
        return None

    @rx.event
    async def load(self):
        self._clear()
        self.form_errors = {}
        return await self._reload()

    def _options(self) -> None:
        self.options = [{"key": o.key, "label": o.label} for o in permission_sets.options(self.role)]
        self.chosen = [k for k in self.chosen if any(o["key"] == k for o in self.options)]

    @rx.event
    def new_set(self):
        self.editing, self.editing_id, self.name, self.description, self.role = True, "", "", "", "staff"
        self.chosen, self.form_errors = [], {}
        self._options()

    @rx.event
    def edit(self, set_id: str):
        row = next((s for s in self.sets if s.id == str(set_id)), None)
        if row is None:
            return
        self.editing, self.editing_id, self.name, self.description = True, row.id, row.name, row.description
        self.role, self.chosen, self.form_errors = row.role, list(row.capabilities), {}
        self._options()

    @rx.event
    def cancel(self):
        self.editing = False
        self.form_errors = {}

    @rx.event
    def set_name(self, value: str):
        self.name = str(value)[:80]

    @rx.event
    def set_description(self, value: str):
        self.description = str(value)[:300]

    @rx.event
    def set_role(self, value: str):
        if not self.editing_id:
            self.role = str(value)[:16]
            self._options()

    @rx.event
    def toggle(self, key: str, on: bool):
        key = str(key)[:32]
        self.chosen = [k for k in self.chosen if k != key] + ([key] if on else [])

    @rx.event
    async def save(self):
        answer = await attempt(self, permission_sets.save_set, set_id=self.editing_id, name=self.name, role=self.role,
                               description=self.description, capabilities=list(self.chosen))
        if not answer.ok:
            if answer.invalid:
                self.form_errors = dict(answer.errors)
                return None
            self._clear()
            return answer.show(self)
        self.editing, self.form_errors = False, {}
        return await self._reload(f"Saved “{answer.value.name}”. Its holders have it from their next click.")
