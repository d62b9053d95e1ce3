"""State of a patient's chart (/chart/<id> for staff, doctors and admins; /patient/record for the
patient). Holds only what get_chart returned for this role; every handler re-checks on the server.

What is shown is written for people (``state.formatting``: "Female", "Text message", "4 Jul 1988");
what the edit forms start from is kept as the codes and ISO dates the services take, in backend-only
vars (``_basic``, ``_rows``), so an edit never round-trips through the words. The header above the
chart (``state.chart_header``) is read with the chart in one unit and one audit event
(``patients.open_chart``: one entry in the patient's access log per chart opened) and handed over;
reading the chart again after a change (allergies, insurance) reads the header with it.

Edits carry the version they were loaded at: a stale save comes back as a Conflict that names what
someone else changed, keeps what this user typed, and lets them save again after reviewing. A failed
save shows its message beside its Save button and moves the focus to the first field in error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import reflex as rx

from patient_portal.core.access import Action, Role
from patient_portal.domain.codes import service as codes
from patient_portal.domain.codes.text import fold
from patient_portal.domain.emergency import service as emergency
from patient_portal.domain.history import service as history
from patient_portal.domain.history.models import KINDS
from patient_portal.domain.identity import care_team
from patient_portal.domain.insurance import service as insurance
from patient_portal.domain.patients import service as patients
from patient_portal.domain.patients.dto import LABELS, LEGAL_FIELDS
from patient_portal.domain.sensitive.dto import withheld_text
from patient_portal.state import formatting as fmt
from patient_portal.state.calls import Answer, attempt, first_error_message
from patient_portal.state.chart_header import ChartRoute, show_header
from patient_portal.state.code_picker import CodePickerMixin
from patient_portal.state.focus import focus_first_error

#: section -> (its service's save, the name it takes the rows under)
ROW_EDITS = {"insurance": (insurance.update_policies, "policies"), "emergency": (emergency.update_contacts, "contacts")}
FIELD_EDITS = ("demographics", "contact", "preferences")
NEEDS_ATTENTION = "Some fields need attention — see the messages next to them."
GONE = "That entry no longer exists. The chart now shows what is on file."
#: Where each section's form sits on the page (the focus goes to its first field in error).
SECTION_IDS = {"demographics": "details", "preferences": "details", "contact": "details",
               "insurance": "section-insurance", "emergency": "section-emergency"}


def _member(m: care_team.TeamMember) -> dict[str, str]:
    return {"user_id": m.user_id, "name": m.display_name or m.email, "email": m.email}


# ---------------------------------------------------------------- service calls in one unit of work


@dataclass
class _Opened:
    """What opening a chart came to: the chart, and the care team for those who manage it."""

    chart: dict[str, Any] | None = None
    team: tuple[list, list] | None = None
    redirect: str = ""
    header: patients.ChartHeader | None = None


def _open_chart(session: Any, actor: Any, patient_ref: str, own: bool = False) -> _Opened:
    """The chart as this actor may see it (and its care team, for staff and admins). A patient who
    opens /chart/<their own id> is sent to their own record page instead."""
    if own:
        if actor.patient_id is None:
            raise patients.PatientNotFound()
        patient_ref = str(actor.patient_id)
    elif actor.role == Role.PATIENT and str(actor.patient_id) == patient_ref:
        return _Opened(redirect="/patient/record")
    header, chart = patients.open_chart(session, actor, patient_ref)  # one unit, one audit event for both
    team = care_team.manage_view(session, actor, patient_ref) if actor.can(Action.CARE_TEAM_MANAGE) else None
    return _Opened(chart, team, header=header)


def _keeping_conflict(session: Any, actor: Any, fn, *args: Any, **kwargs: Any) -> Any:
    """`fn`; a stale save comes back as its Conflict (rolled back: nothing written) so the handler
    can show what changed. Every other error goes to ``attempt`` as usual."""
    try:
        return fn(session, actor, *args, **kwargs)
    except patients.Conflict as exc:
        session.rollback()
        return exc


#: kind -> (the field the code picker types into, the code set it searches). Picking fills the
#: kind's code fields too (``_picked``); typing again after a pick clears them (``LINKED``).
PICKERS = {"conditions": ("description", "icd10cm"), "family_history": ("condition", "icd10cm"),
           "allergies": ("substance", "formulary"), "medications": ("name", "formulary"),
           "immunizations": ("vaccine", "cvx")}
LINKED = {"conditions": ("code",), "family_history": ("code",), "allergies": ("code", "drug_class"),
          "medications": ("drug", "drug_class", "rxnorm"), "immunizations": ("cvx",)}
PICK_LIMIT = 8


def _search_codes(session: Any, actor: Any, kind: str, text: str) -> list[dict[str, str]]:
    """What the picker of `kind` lists for `text`: ICD-10-CM codes; CVX vaccines; formulary drugs
    with their classes (and, for an allergy, the drug classes whose name matches first)."""
    _field, code_set = PICKERS[kind]
    found = codes.search(session, actor, system=code_set, text=text, limit=PICK_LIMIT)
    if code_set == "icd10cm":
        return [{"code": c.code, "display": c.display, "label": f"{c.code} — {c.display}", "category": ""}
                for c in found]
    if code_set == "cvx":
        names = [(c, history.vaccine_name(c.display)) for c in found]
        return [{"code": c.code, "display": name, "label": f"{name} (CVX {c.code})", "category": ""}
                for c, name in names]
    out: list[dict[str, str]] = []
    if kind == "allergies":
        typed = fold(text).strip()
        out = [{"code": "", "display": name, "label": f"{name} (drug class)", "category": "drug_class"}
               for name in codes.drug_classes(session) if any(w.startswith(typed) for w in [fold(name)] +
                                                              fold(name).split())][:3]
    for c in found:
        drug = codes.formulary_entry(session, c.code)
        classes = ", ".join(drug.classes) if drug is not None else ""
        out.append({"code": c.code, "display": c.display, "category": "medication",
                    "label": f"{c.display} ({classes})" if classes else c.display})
    return out[:PICK_LIMIT]


def _team_change(session: Any, actor: Any, fn, patient_ref: str, doctor_id: str) -> tuple[bool, tuple]:
    changed = fn(session, actor, patient_id=patient_ref, doctor_id=doctor_id)
    return changed, care_team.manage_view(session, actor, patient_ref)


class ChartState(ChartRoute, CodePickerMixin, rx.State):
    status: str = "loading"  # loading | ok | denied | missing
    merged_into: str = ""  # a missing record merged into another this actor may open: that one's id
    patient: dict[str, str] = {}
    details: dict[str, str] = {}
    insurance: list[dict[str, str]] = []
    emergency: list[dict[str, str]] = []
    conditions: list[dict[str, str]] = []
    allergies: list[dict[str, str]] = []
    medications: list[dict[str, str]] = []
    family_history: list[dict[str, str]] = []
    immunizations: list[dict[str, str]] = []
    show_clinical: bool = False
    withheld: str = ""  # conditions marked sensitive not shown to this person, in words
    can: dict[str, bool] = {}
    version: int = 0
    pending_changes: list[dict[str, str]] = []
    _basic: dict[str, str] = {}
    _rows: dict[str, list[dict[str, str]]] = {}
    _own: bool = False  # the patient's own record page (/patient/record), not /chart/<id>

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
    new_errors: dict[str, str] = {}
    add_error: str = ""
    add_conflict: list[str] = []
    add_conflict_values: list[dict[str, str]] = []
    remove_kind: str = ""
    remove_error: str = ""
    # the code picker (CodePickerMixin) serves the open add form (one form is open at a time)
    # allergies: "recorded" | "nka" | "not_recorded" (from the header read with the chart)
    allergy_status: str = ""
    nka_error: str = ""
    verify_error: str = ""

    change: dict[str, str] = {}
    change_note: str = ""
    change_sent: str = ""
    change_errors: dict[str, str] = {}
    change_error: str = ""

    # care team (staff, admin): who is on it, who could be added
    manage_team: bool = False
    team_members: list[dict[str, str]] = []
    team_choices: list[dict[str, str]] = []
    team_pick: str = ""
    team_pick_name: str = ""  # the picked doctor's name, for the confirm ("Add Dr. Lee to the care team?")
    team_error: str = ""

    # ------------------------------------------------------------ loading
    def _clear(self) -> None:
        self.patient, self.details, self.insurance, self.emergency = {}, {}, [], []
        for kind in KINDS:
            setattr(self, kind, [])
        self._basic, self._rows = {}, {}
        self.can, self.pending_changes, self.merged_into = {}, [], ""
        self.show_clinical, self.version, self.withheld = False, 0, ""
        self._stop_editing()
        self._stop_adding()
        self.remove_kind, self.remove_error = "", ""
        self.allergy_status, self.nka_error, self.verify_error = "", "", ""
        self.change, self.change_note, self.change_sent, self.change_errors, self.change_error = {}, "", "", {}, ""
        self._clear_team()

    def _stop_editing(self) -> None:
        self.editing, self.form, self.form_rows, self.form_errors = "", {}, [], {}
        self.conflict, self.conflict_values, self.error, self._base = [], [], "", None

    def _stop_adding(self) -> None:
        self.new_kind, self.new_item, self.new_errors, self.add_error = "", {}, {}, ""
        self.add_conflict, self.add_conflict_values = [], []
        self._close_picker()

    def _show(self, chart: dict[str, Any]) -> None:
        self.patient = fmt.patient(chart["patient"])
        self._basic = dict(chart["basic"])
        self.details = fmt.basic(self._basic)
        history = chart["history"]
        self.show_clinical = history is not None
        self.withheld = withheld_text(chart.get("withheld", 0))
        raw = {"insurance": chart["insurance"] or [], "emergency": chart["emergency"] or [],
               **{kind: (history or {}).get(kind, []) for kind in KINDS}}
        self._rows = {name: [dict(r) for r in rows] for name, rows in raw.items()}
        for name, rows in raw.items():
            setattr(self, name, fmt.rows(rows, name))
        self.can = chart["can"]
        self.version = chart["version"]
        self.pending_changes = chart["pending_changes"]
        self.status = "ok"

    def _show_team(self, team: tuple | None) -> None:
        if team is None:
            self._clear_team()
            return
        members, choices = team
        self.team_members, self.team_choices = [_member(m) for m in members], [_member(d) for d in choices]
        self.manage_team = True

    async def _open(self, *, own: bool = False):
        self._own = own
        answer = await attempt(self, _open_chart, self.patient_ref, own)
        if answer.ok and answer.value.redirect:
            return rx.redirect(answer.value.redirect, replace=True)
        if answer.ok:
            self._show(answer.value.chart)
            self._show_team(answer.value.team)
            self.allergy_status = (answer.value.header.allergy_status or "") if answer.value.header else ""
            await show_header(self, answer.value.header, patient_ref=self.patient.get("id", ""), own=own)
            return None
        self._clear()
        self.status = "loading" if answer.signed_out else ("denied" if answer.denied else "missing")
        if self.status == "missing":  # a merged duplicate: point to the record it was merged into
            found = await attempt(self, patients.merged_into, self.patient_ref)
            self.merged_into = found.value if found.ok else ""
        await show_header(self, None, patient_ref=self.patient_ref, own=own, status=self.status)
        return None  # signed out: the page guard sends the browser to sign in

    @rx.event
    async def load(self):
        """on_load of /chart/<id>: the id in the address is a request, checked by the service."""
        self._clear()
        self.status = "loading"
        self._read_route()
        return await self._open()

    @rx.event
    async def load_own(self):
        """on_load of /patient/record: the signed-in patient's own record."""
        self._clear()
        self.status = "loading"
        self.patient_ref = ""
        answer = await self._open(own=True)
        if self.status == "ok":
            self.patient_ref = self.patient.get("id", "")
        return answer

    async def _reload(self, *then: Any) -> Any:
        """Read the chart (and its header) again after a change, then `then` (a toast)."""
        await self._open(own=self._own)
        return list(then)

    # ------------------------------------------------------------ section edits
    @rx.event
    def start_edit(self, section: str):
        self._stop_editing()
        if section in FIELD_EDITS:
            self.form = dict(self._basic)
            self._base = dict(self._basic)
        elif section in ROW_EDITS:
            rows = self._rows.get(section, [])
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

    def _failed(self, answer: Answer, errors_var: str, message_var: str, where: str, *,
                entry_gone: bool = False) -> Any:
        """Put a failed save's message beside its button and its field messages next to the fields;
        move the focus to the first field in error (inside `where`)."""
        if answer.signed_out:
            return answer.show(self)
        errors = dict(answer.errors)
        gone = errors.pop("item", "") if entry_gone else ""
        setattr(self, errors_var, errors)
        setattr(self, message_var, GONE if gone else (NEEDS_ATTENTION if errors else answer.message))
        return focus_first_error(where) if errors else None

    @rx.event
    async def save_edit(self):
        section = self.editing
        if section in FIELD_EDITS:
            save, args = patients.update_section, {"section": section, "values": dict(self.form)}
        elif section in ROW_EDITS:
            save, rows_name = ROW_EDITS[section]
            args = {rows_name: [dict(r) for r in self.form_rows]}
        else:
            return None
        self.form_errors, self.error = {}, ""
        answer = await attempt(self, _keeping_conflict, save, patient_id=self.patient_ref, **args,
                               expected_version=self.version, base=self._base)
        if not answer.ok:
            return self._failed(answer, "form_errors", "error", SECTION_IDS[section])
        if isinstance(answer.value, patients.Conflict):
            self._on_conflict(answer.value, section)
            return None
        self._stop_editing()
        return await self._reload(rx.toast.success("Saved"))  # the header is read again with the chart

    def _on_conflict(self, exc: patients.Conflict, section: str) -> None:
        """Keep what was typed; show what the other person saved; the next save is against it."""
        self.conflict = exc.fields
        if section in FIELD_EDITS:
            changed = [k for k, label in LABELS.items() if label in exc.fields]
            words = fmt.basic(exc.current)
            self.conflict_values = [{"field": LABELS[k], "value": words.get(k, "") or "(empty)"} for k in changed]
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
            self._stop_adding()
            self.new_kind = kind
            self.new_item = {"allergies": {"severity": "unknown", "status": "active", "verification": "verified"},
                             "conditions": {"status": "active"},
                             "medications": {"status": "active", "origin": "prescribed"}}.get(kind, {})
            if not self.can.get("edit_clinical"):  # the patient reports: the service marks it theirs
                self.new_item = {"severity": "unknown"} if kind == "allergies" else {}

    @rx.event
    def edit_item(self, kind: str, item_id: str):
        """Open an entry shown on the chart for editing, at the version it was loaded."""
        row = next((r for r in self._rows.get(kind, []) if r.get("id") == item_id), None) if kind in KINDS else None
        if row is not None:
            self._stop_adding()
            self.new_kind = kind
            self.new_item = dict(row)

    @rx.event
    def cancel_add(self):
        self._stop_adding()

    @rx.event
    def set_new(self, field: str, value: str):
        self.new_item[field] = str(value)[:300]

    @rx.event
    async def save_new(self):
        kind, item = self.new_kind, dict(self.new_item)
        if kind not in KINDS:
            return None
        existing = item.get("id") or None
        version = item.get("version", "")
        self.new_errors, self.add_error = {}, ""
        self._close_picker()
        if self.can.get("report_clinical") and not self.can.get("edit_clinical"):
            answer = await attempt(self, history.report_item, kind=kind, values=item)
        else:
            answer = await attempt(self, _keeping_conflict, history.save_item, patient_id=self.patient_ref,
                                   kind=kind, values=item, item_id=existing,
                                   expected_version=int(version) if existing and version.isdigit() else None)
        if not answer.ok:
            return self._failed(answer, "new_errors", "add_error", f"history-{kind}", entry_gone=True)
        if isinstance(answer.value, patients.Conflict):
            exc = answer.value
            words = fmt.row(exc.current, kind)
            self.add_conflict = exc.fields
            self.add_conflict_values = [{"field": k.replace("_", " "), "value": words.get(k, "") or "(empty)"}
                                        for k in exc.current if k.replace("_", " ") in exc.fields]
            self.new_item["version"] = str(exc.version)
            self.add_error = ("This entry was changed by someone else while you were editing. Your entries are "
                              "still below: check them, then save again.")
            return None
        self._stop_adding()
        done = "Sent to the clinic — it shows as reported by you until your doctor checks it" \
            if not self.can.get("edit_clinical") else "Saved to the chart"
        return await self._reload(rx.toast.success(done))

    @rx.event
    async def remove_item(self, kind: str, item_id: str):
        """Remove an entry entered in error (after the confirm dialog on the chart)."""
        self.remove_kind, self.remove_error = str(kind)[:32], ""
        answer = await attempt(self, history.remove_item, patient_id=self.patient_ref, kind=kind, item_id=item_id)
        if not answer.ok:
            if answer.signed_out:
                return answer.show(self)
            self.remove_error = GONE if answer.errors else answer.message
            return await self._reload()
        return await self._reload(rx.toast.success("Removed"))

    # ------------------------------------------------------------ the code picker (search as you type)
    @rx.event
    async def search_codes(self, kind: str, text: str):
        """The picker's text changed (debounced in the browser): keep it as the entry's name, forget
        a code picked before, and list what the code tables find for it."""
        if kind not in PICKERS or kind != self.new_kind:
            return None
        field, _set = PICKERS[kind]
        self.new_item[field] = str(text)[:200]
        for linked in LINKED[kind]:
            self.new_item.pop(linked, None)
        if kind == "allergies" and self.new_item.get("category") in ("medication", "drug_class"):
            self.new_item["category"] = ""
        return await self._lookup(text, _search_codes, kind,
                                  nothing="Nothing found — keep what you typed, or try other words.")

    def _picked(self, found: dict[str, str]) -> None:
        kind = self.new_kind
        if kind not in PICKERS:
            return
        field, _set = PICKERS[kind]
        self.new_item[field] = found["display"]
        if kind in ("conditions", "family_history"):
            self.new_item.update(code=found["code"], code_system="ICD-10")
        elif kind == "medications":
            self.new_item["drug"] = found["code"]
        elif kind == "immunizations":
            self.new_item["cvx"] = found["code"]
        elif kind == "allergies":
            self.new_item.update(code=found["code"], category=found["category"])
        for name in (field, "code", "cvx"):
            self.new_errors.pop(name, None)
        self._close_picker()

    # ------------------------------------------------------------ allergies: "no known allergies"; verifying
    @rx.event
    async def record_no_known_allergies(self):
        """The patient was asked and has no known allergies (refused while allergies are on file)."""
        self.nka_error = ""
        answer = await attempt(self, history.record_no_known_allergies, patient_id=self.patient_ref)
        if not answer.ok:
            return answer.show(self, message_var="nka_error")
        return await self._reload(rx.toast.success("Recorded: no known allergies"))

    @rx.event
    async def verify_item(self, kind: str, item_id: str):
        """A clinician confirms what the patient reported (an allergy, a medication)."""
        row = next((r for r in self._rows.get(kind, []) if r.get("id") == item_id), None) if kind in KINDS else None
        self.verify_error = ""
        version = int(row["version"]) if row and str(row.get("version", "")).isdigit() else None
        answer = await attempt(self, history.verify_item, patient_id=self.patient_ref, kind=kind, item_id=item_id,
                               expected_version=version)
        if not answer.ok:
            if answer.signed_out:
                return answer.show(self)
            self.verify_error = GONE if answer.errors.get("item") else answer.message
            return await self._reload()
        return await self._reload(rx.toast.success("Marked as verified"))

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
        self.change_errors, self.change_error, self.change_sent = {}, "", ""
        answer = await attempt(self, patients.request_legal_change, self.patient_ref, dict(self.change),
                               self.change_note)
        if not answer.ok:
            if answer.signed_out:
                return answer.show(self)
            self.change_errors = {k: v for k, v in answer.errors.items() if k != "changes"}
            self.change_error = answer.errors.get("changes") or first_error_message(answer.errors) or answer.message
            return focus_first_error("change-request") if self.change_errors else None
        self.change, self.change_note = {}, ""
        self.change_sent = f"Request sent ({answer.value['fields']}). The clinic will check it and let you know."
        await self._open(own=self._own)
        return None

    # ------------------------------------------------------------ care team (staff, admin)
    def _clear_team(self) -> None:
        self.manage_team, self.team_members, self.team_choices, self.team_pick, self.team_error = False, [], [], "", ""
        self.team_pick_name = ""

    @rx.event
    def set_team_pick(self, value: str):
        self.team_pick = str(value)[:64]
        self.team_pick_name = next((d["name"] for d in self.team_choices if d["user_id"] == self.team_pick), "")

    async def _change_team(self, fn, doctor_id: str, done: str, unchanged: str):
        self.team_error = ""
        answer = await attempt(self, _team_change, fn, self.patient_ref, doctor_id)
        if not answer.ok:
            return answer.show(self, message_var="team_error")
        changed, team = answer.value
        self._show_team(team)
        if not changed:
            self.team_error = unchanged
            return None
        self.team_pick, self.team_pick_name = "", ""
        return rx.toast.success(done)

    @rx.event
    async def add_to_team(self):
        """Add the picked doctor (the service checks the role and that the doctor is active)."""
        return await self._change_team(care_team.assign_doctor, self.team_pick, "Added to the care team",
                                       "That doctor is already on the care team.")

    @rx.event
    async def remove_from_team(self, doctor_id: str):
        """Take a doctor off this patient's care team (after the confirm dialog); they lose the chart."""
        return await self._change_team(care_team.unassign_doctor, doctor_id, "Removed from the care team",
                                       "That doctor was no longer on the care team.")
