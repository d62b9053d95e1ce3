"""State of a patient's chart (/chart/<id> for staff, doctors and admins; /patient/record for the
patient). Holds only what get_chart returned for this role; every handler re-checks on the server.

Edits carry the version they were loaded at: a stale save comes back as a Conflict that names what
someone else changed, keeps what this user typed, and lets them save again after reviewing.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from patient_portal.core.access import AccessDenied, Action
from patient_portal.domain.history.models import KINDS
from patient_portal.domain.identity import care_team
from patient_portal.domain.patients import profile, review
from patient_portal.domain.patients.common import Conflict, PatientNotFound
from patient_portal.domain.patients.dto import LABELS, LEGAL_FIELDS
from patient_portal.domain.patients.validation import ValidationFailed
from patient_portal.state.patient_services import run
from patient_portal.state.session import current_actor, signed_out

ROW_EDITS = {"insurance": profile.update_insurance, "emergency": profile.update_emergency_contacts}
FIELD_EDITS = ("demographics", "contact", "preferences")
NEEDS_ATTENTION = "Some fields need attention — see the messages next to them."


def _member(m: care_team.TeamMember) -> dict[str, str]:
    return {"user_id": m.user_id, "name": m.display_name or m.email, "email": m.email}


class ChartState(rx.State):
    patient_ref: str = ""
    status: str = "loading"  # loading | ok | denied | missing
    patient: dict[str, str] = {}
    basic: dict[str, str] = {}
    insurance: list[dict[str, str]] = []
    emergency: list[dict[str, str]] = []
    conditions: list[dict[str, str]] = []
    allergies: list[dict[str, str]] = []
    medications: list[dict[str, str]] = []
    family_history: list[dict[str, str]] = []
    immunizations: list[dict[str, str]] = []
    allergy_names: list[str] = []
    show_clinical: bool = False
    insurance_status: str = ""
    can: dict[str, bool] = {}
    version: int = 0
    pending_changes: list[dict[str, str]] = []

    editing: str = ""
    form: dict[str, str] = {}
    form_rows: list[dict[str, str]] = []
    form_errors: dict[str, str] = {}
    conflict: list[str] = []
    conflict_values: list[dict[str, str]] = []
    error: str = ""
    _base: Any = None

    new_kind: str = ""
    new_item: dict[str, str] = {}
    change: dict[str, str] = {}
    change_note: str = ""
    change_sent: str = ""

    # care team (staff, admin): who is on it, who could be added
    manage_team: bool = False
    team_members: list[dict[str, str]] = []
    team_choices: list[dict[str, str]] = []
    team_pick: str = ""
    team_error: str = ""

    def _show_failure(self, exc: Exception) -> None:
        """Field messages for invalid input; the plain message for a refusal or a missing record."""
        if isinstance(exc, ValidationFailed):
            self.form_errors, self.error = exc.errors, NEEDS_ATTENTION
        else:
            self.error = str(exc)

    # ------------------------------------------------------------ loading
    def _clear(self) -> None:
        self.patient, self.basic, self.insurance, self.emergency = {}, {}, [], []
        for kind in KINDS:
            setattr(self, kind, [])
        self.allergy_names, self.can, self.pending_changes = [], {}, []
        self.show_clinical, self.insurance_status, self.version = False, "", 0
        self._stop_editing()
        self.new_kind, self.new_item, self.change, self.change_note, self.change_sent = "", {}, {}, "", ""
        self._clear_team()

    def _stop_editing(self) -> None:
        self.editing, self.form, self.form_rows, self.form_errors = "", {}, [], {}
        self.conflict, self.conflict_values, self.error, self._base = [], [], "", None

    def _show(self, chart: dict[str, Any]) -> None:
        self.patient = chart["patient"]
        self.basic = chart["basic"]
        self.insurance = chart["insurance"] or []
        self.emergency = chart["emergency"] or []
        history = chart["history"]
        self.show_clinical = history is not None
        for kind in KINDS:
            setattr(self, kind, (history or {}).get(kind, []))
        self.allergy_names = chart["header"]["allergies"] or []
        self.insurance_status = chart["header"]["insurance_status"]
        self.can = chart["can"]
        self.version = chart["version"]
        self.pending_changes = chart["pending_changes"]
        self.status = "ok"

    async def _fetch(self, actor) -> None:
        try:
            self._show(await run(profile.get_chart, actor, self.patient_ref))
            await self._load_team(actor)
        except AccessDenied:
            self._clear()
            self.status = "denied"
        except PatientNotFound:
            self._clear()
            self.status = "missing"

    @rx.event
    async def load(self):
        """on_load of /chart/<id>: the id in the address is a request, checked by the service."""
        self._clear()
        self.status = "loading"
        path = self.router.url.path if self.router.url else ""
        self.patient_ref = path.rstrip("/").rsplit("/", 1)[-1][:64]
        actor = await current_actor(self)
        if actor is None:
            return None  # the page guard sends the browser to sign in
        if actor.role.value == "patient" and str(actor.patient_id) == self.patient_ref:
            return rx.redirect("/patient/record", replace=True)
        await self._fetch(actor)
        return None

    @rx.event
    async def load_own(self):
        """on_load of /patient/record: the signed-in patient's own record."""
        self._clear()
        self.status = "loading"
        actor = await current_actor(self)
        if actor is None:
            return None
        if actor.patient_id is None:
            self.status = "missing"
            return None
        self.patient_ref = str(actor.patient_id)
        await self._fetch(actor)
        return None

    async def _actor(self):
        actor = await current_actor(self)
        if actor is None:
            self._clear()
        return actor

    # ------------------------------------------------------------ section edits
    @rx.event
    def start_edit(self, section: str):
        self._stop_editing()
        if section in FIELD_EDITS:
            self.form = dict(self.basic)
            self._base = dict(self.basic)
        elif section in ROW_EDITS:
            rows = self.insurance if section == "insurance" else self.emergency
            self.form_rows = [dict(r) for r in rows]
            self._base = [dict(r) for r in rows]
        else:
            return
        self.editing = section

    @rx.event
    def cancel_edit(self):
        self._stop_editing()

    @rx.event
    def set_form(self, field: str, value: str):
        self.form[field] = str(value)[:300]

    @rx.event
    def set_form_row(self, _section: str, index: int, field: str, value: str):
        if 0 <= int(index) < len(self.form_rows):
            self.form_rows[int(index)][field] = str(value)[:300]

    @rx.event
    def noop_row(self, _section: str, _index: int, _field: str):
        """Row fields validate on save in the chart (the wizard validates on blur)."""

    @rx.event
    def add_form_row(self, section: str):
        taken = {r.get("order") for r in self.form_rows}
        orders = ("primary", "secondary", "tertiary") if section == "insurance" else ("primary", "secondary")
        row = {"order": next((o for o in orders if o not in taken), "")}
        if section == "insurance":
            row["relationship"] = "self"
        self.form_rows.append(row)

    @rx.event
    def remove_form_row(self, _section: str, index: int):
        if 0 <= int(index) < len(self.form_rows):
            self.form_rows.pop(int(index))

    @rx.event
    async def save_edit(self):
        actor = await self._actor()
        if actor is None:
            return signed_out()
        section = self.editing
        self.form_errors, self.error = {}, ""
        try:
            if section in FIELD_EDITS:
                await run(profile.update_section, actor, self.patient_ref, section, dict(self.form),
                          expected_version=self.version, base=self._base)
            elif section in ROW_EDITS:
                await run(ROW_EDITS[section], actor, self.patient_ref, [dict(r) for r in self.form_rows],
                          expected_version=self.version, base=self._base)
            else:
                return None
        except Conflict as exc:
            self._on_conflict(exc, section)
            return None
        except (ValidationFailed, AccessDenied, PatientNotFound) as exc:
            self._show_failure(exc)
            return None
        self._stop_editing()
        await self._fetch(actor)
        return rx.toast.success("Saved")

    def _on_conflict(self, exc: Conflict, section: str) -> None:
        """Keep what was typed; show what the other person saved; the next save is against it."""
        self.conflict = exc.fields
        if section in FIELD_EDITS:
            changed = [k for k, label in LABELS.items() if label in exc.fields]
            self.conflict_values = [{"field": LABELS[k], "value": exc.current.get(k, "") or "(empty)"}
                                    for k in changed]
        else:
            self.conflict_values = []
        self._base = exc.current
        self.version = exc.version
        self.error = ("This record was changed by someone else while you were editing. Here is what "
                      "changed. Your entries are still below: check them, then save again.")

    # ------------------------------------------------------------ clinical rows (doctors, admin)
    @rx.event
    def start_add(self, kind: str):
        if kind in KINDS:
            self.new_kind = kind
            self.new_item = {"severity": "unknown"} if kind == "allergies" else {}
            self.form_errors, self.error = {}, ""

    @rx.event
    def edit_item(self, kind: str, row: dict):
        """Open an existing entry for editing, at the version it was loaded."""
        if kind in KINDS:
            self.new_kind = kind
            self.new_item = {k: str(v) for k, v in (row or {}).items()}
            self.form_errors, self.error, self.conflict = {}, "", []

    @rx.event
    def cancel_add(self):
        self.new_kind, self.new_item, self.form_errors, self.conflict, self.error = "", {}, {}, [], ""

    @rx.event
    def set_new(self, field: str, value: str):
        self.new_item[field] = str(value)[:300]

    @rx.event
    async def save_new(self):
        actor = await self._actor()
        if actor is None:
            return signed_out()
        item = dict(self.new_item)
        existing = item.get("id") or None
        try:
            await run(profile.save_history_item, actor, self.patient_ref, self.new_kind, item, item_id=existing,
                      expected_version=int(item["version"]) if existing else None)
        except Conflict as exc:
            self.conflict = exc.fields
            self.conflict_values = [{"field": k.replace("_", " "), "value": str(v) or "(empty)"}
                                    for k, v in exc.current.items() if k.replace("_", " ") in exc.fields]
            self.new_item["version"] = str(exc.version)
            self.error = ("This entry was changed by someone else while you were editing. Your entries are "
                          "still below: check them, then save again.")
            return None
        except (ValidationFailed, AccessDenied, PatientNotFound) as exc:
            self._show_failure(exc)
            return None
        self.new_kind, self.new_item, self.form_errors, self.error, self.conflict = "", {}, {}, "", []
        await self._fetch(actor)
        return rx.toast.success("Saved to the chart")

    @rx.event
    async def remove_item(self, kind: str, item_id: str):
        actor = await self._actor()
        if actor is None:
            return signed_out()
        try:
            await run(profile.remove_history_item, actor, self.patient_ref, kind, item_id)
        except (ValidationFailed, AccessDenied, PatientNotFound) as exc:
            self.error = str(exc) if not isinstance(exc, ValidationFailed) else "That entry no longer exists."
            return None
        await self._fetch(actor)
        return rx.toast.success("Removed")

    # ------------------------------------------------------------ patient: request a legal change
    @rx.event
    def set_change(self, field: str, value: str):
        if field in LEGAL_FIELDS:
            self.change[field] = str(value)[:200]

    @rx.event
    def set_change_note(self, value: str):
        self.change_note = str(value)[:1000]

    @rx.event
    async def submit_change(self):
        actor = await self._actor()
        if actor is None:
            return signed_out()
        self.form_errors, self.error, self.change_sent = {}, "", ""
        try:
            done = await run(review.request_legal_change, actor, self.patient_ref, dict(self.change), self.change_note)
        except ValidationFailed as exc:
            self.form_errors = exc.errors
            self.error = exc.errors.get("changes", NEEDS_ATTENTION)
            return None
        except (AccessDenied, PatientNotFound) as exc:
            self.error = str(exc)
            return None
        self.change, self.change_note = {}, ""
        self.change_sent = f"Request sent ({done['fields']}). The clinic will check it and let you know."
        await self._fetch(actor)
        return None

    # ------------------------------------------------------------ care team (staff, admin)
    def _clear_team(self) -> None:
        self.manage_team, self.team_members, self.team_choices, self.team_pick, self.team_error = False, [], [], "", ""

    async def _load_team(self, actor) -> None:
        """The team and the doctors that could join it, for those who manage care teams only."""
        if not actor.can(Action.CARE_TEAM_MANAGE):
            self._clear_team()
            return
        team, choices = await run(care_team.manage_view, actor, self.patient_ref)
        self.team_members, self.team_choices = [_member(m) for m in team], [_member(d) for d in choices]
        self.manage_team = True

    @rx.event
    def set_team_pick(self, value: str):
        self.team_pick = str(value)[:64]

    async def _team_change(self, fn, doctor_id: str, done: str, unchanged: str):
        actor = await self._actor()
        if actor is None:
            return signed_out()
        self.team_error = ""
        try:
            changed = await run(fn, actor, patient_id=self.patient_ref, doctor_id=doctor_id)
            await self._load_team(actor)
        except (AccessDenied, PatientNotFound, care_team.CareTeamError) as exc:
            self.team_error = str(exc)
            return None
        if not changed:
            self.team_error = unchanged
            return None
        self.team_pick = ""
        return rx.toast.success(done)

    @rx.event
    async def add_to_team(self):
        """Add the picked doctor (the service checks the role and that the doctor is active)."""
        return await self._team_change(care_team.assign_doctor, self.team_pick, "Added to the care team",
                                       "That doctor is already on the care team.")

    @rx.event
    async def remove_from_team(self, doctor_id: str):
        """Take a doctor off this patient's care team (after the confirm dialog); they lose the chart."""
        return await self._team_change(care_team.unassign_doctor, doctor_id, "Removed from the care team",
                                       "That doctor was no longer on the care team.")
