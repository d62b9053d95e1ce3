"""State of the registration wizard (/staff/register, /admin/register).

What was typed lives in this state and, after every field the user leaves and every step, in an
encrypted server-side draft for this user (see domain/patients/drafts.py), so a reload loses
nothing. Nothing becomes a patient record until Confirm, which saves everything in one transaction.

A step that does not pass puts its message beside Next and moves the focus to the first field in
error. The review step shows what was typed written for people (``review_basic``, ``review_rows``:
"Female", "4 Jul 1988", the address with state and country). "Start over" asks first whenever there
is something to lose (``has_entries``).
"""

from __future__ import annotations

import reflex as rx

from patient_portal.core.access import Action
from patient_portal.domain.patients import service as patients
from patient_portal.domain.patients import validation as rules
from patient_portal.domain.patients.dto import BASIC_FIELDS
from patient_portal.domain.patients.validation import HISTORY_KINDS
from patient_portal.state import formatting as fmt
from patient_portal.state.calls import attempt, first_error_message, run
from patient_portal.state.focus import focus_first_error
from patient_portal.state.session import current_actor

ROW_SECTIONS = (*HISTORY_KINDS, "insurance", "emergency")
STEPS = ("Basic information", "Medical history", "Insurance", "Emergency contacts", "Review and confirm")
ROW_LIMIT = 20
SECTIONS = ("basic", "history", "insurance", "emergency")
#: The element around the wizard's fields (the focus goes to its first field in error).
FORM_ID = "wizard-form"


def error_prefix(section: str) -> str:
    return f"history.{section}" if section in HISTORY_KINDS else section


def _new_row(section: str, existing: list[dict[str, str]]) -> dict[str, str]:
    if section == "insurance":
        taken = {r.get("order") for r in existing}
        order = next((o for o in rules.POLICY_ORDERS if o not in taken), "")
        return {"order": order, "relationship": "self"}
    if section == "emergency":
        taken = {r.get("order") for r in existing}
        return {"order": next((o for o in rules.CONTACT_ORDERS if o not in taken), "")}
    if section == "allergies":
        return {"severity": "unknown"}
    if section == "conditions":
        return {"status": "active"}
    return {}


class RegistrationState(rx.State):
    """The wizard: current step, the draft, field errors, possible duplicates, the outcome."""

    step: int = 1
    basic: dict[str, str] = {}
    conditions: list[dict[str, str]] = []
    allergies: list[dict[str, str]] = []
    medications: list[dict[str, str]] = []
    family_history: list[dict[str, str]] = []
    immunizations: list[dict[str, str]] = []
    insurance: list[dict[str, str]] = []
    emergency: list[dict[str, str]] = []
    errors: dict[str, str] = {}
    duplicates: list[dict[str, str]] = []
    confirmed_different: bool = False
    error: str = ""
    #: False when the person's permission set leaves out registering patients: the page says so
    #: instead of offering a form whose last step would be refused
    may_register: bool = True
    saving: bool = False
    registered_mrn: str = ""
    registered_id: str = ""

    # ------------------------------------------------------------ draft plumbing
    def _draft(self) -> dict:
        return {"basic": dict(self.basic),
                "history": {k: [dict(r) for r in getattr(self, k)] for k in HISTORY_KINDS},
                "insurance": [dict(r) for r in self.insurance],
                "emergency": [dict(r) for r in self.emergency]}

    def _apply(self, data: dict, step: int) -> None:
        self.basic = {k: str(v) for k, v in (data.get("basic") or {}).items() if k in BASIC_FIELDS}
        for kind in HISTORY_KINDS:
            setattr(self, kind, list((data.get("history") or {}).get(kind) or []))
        self.insurance = list(data.get("insurance") or [])
        self.emergency = list(data.get("emergency") or [])
        self.step = step

    def _reset(self) -> None:
        self._apply({}, 1)
        self.emergency = [_new_row("emergency", [])]
        self.errors = {}
        self.duplicates = []
        self.confirmed_different = False
        self.error = ""
        self.saving = False
        self.registered_mrn = ""
        self.registered_id = ""

    async def _save_draft(self) -> None:
        await attempt(self, patients.save_draft, self._draft(), self.step)  # a refusal keeps the typing here

    # ------------------------------------------------------------ what the review step shows
    @rx.var
    def review_basic(self) -> dict[str, str]:
        """The basic details as people read them ("Female", "4 Jul 1988", the address on one line)."""
        return fmt.basic(self.basic)

    @rx.var
    def review_rows(self) -> dict[str, list[dict[str, str]]]:
        """Every list of the draft (history, insurance, emergency contacts) as people read it."""
        lists = {"conditions": self.conditions, "allergies": self.allergies, "medications": self.medications,
                 "family_history": self.family_history, "immunizations": self.immunizations,
                 "insurance": self.insurance, "emergency": self.emergency}  # named: the var's dependencies
        return {section: fmt.rows(rows, section) for section, rows in lists.items()}

    @rx.var
    def has_entries(self) -> bool:
        """Something typed that "Start over" would throw away (the empty first contact does not count)."""
        if self.step > 1 or any(str(v).strip() for v in self.basic.values()):
            return True
        if (self.conditions or self.allergies or self.medications or self.family_history or self.immunizations
                or self.insurance):
            return True
        return any(str(v).strip() for row in self.emergency for k, v in row.items() if k != "order")

    @rx.event
    async def load(self):
        """on_load: pick up this user's unfinished registration, if any."""
        self._reset()
        actor = await current_actor(self)
        self.may_register = actor is not None and actor.can(Action.PATIENT_REGISTER)
        if not self.may_register:
            return None
        saved = await run(patients.load_draft, actor)
        if saved:
            self._apply(*saved)
            if not self.emergency:
                self.emergency = [_new_row("emergency", [])]
        return None

    # ------------------------------------------------------------ typing and leaving fields
    @rx.event
    def set_basic(self, field: str, value: str):
        if field in BASIC_FIELDS:
            self.basic[field] = str(value)[:300]

    @rx.event
    async def blur_basic(self, field: str):
        """Validate the field the user just left, then keep the draft."""
        found = rules.validate_basic(self.basic)
        self._set_error(f"basic.{field}", found.get(field, ""))
        if field == "preferred_contact_method" or field.startswith(("phone_", "email", "address")):
            for other in ("phone_mobile", "email", "address_line1"):
                if self.basic.get(other) or other in found:
                    self._set_error(f"basic.{other}", found.get(other, ""))
        await self._save_draft()

    @rx.event
    def set_row(self, section: str, index: int, field: str, value: str):
        rows = self._rows(section)
        if rows is not None and 0 <= int(index) < len(rows):
            rows[int(index)][field] = str(value)[:300]

    @rx.event
    async def blur_row(self, section: str, index: int, field: str):
        rows = self._rows(section)
        if rows is None:
            return
        found = self._validate_section(section)
        key = f"{index}.{field}"
        self._set_error(f"{error_prefix(section)}.{key}", found.get(key, ""))
        await self._save_draft()

    @rx.event
    async def add_row(self, section: str):
        rows = self._rows(section)
        if rows is not None and len(rows) < ROW_LIMIT:
            rows.append(_new_row(section, rows))
            await self._save_draft()

    @rx.event
    async def remove_row(self, section: str, index: int):
        rows = self._rows(section)
        if rows is not None and 0 <= int(index) < len(rows):
            rows.pop(int(index))
            prefix = error_prefix(section) + "."
            self.errors = {k: v for k, v in self.errors.items() if not k.startswith(prefix)}
            await self._save_draft()

    def _rows(self, section: str) -> list[dict[str, str]] | None:
        return getattr(self, section) if section in ROW_SECTIONS else None

    def _validate_section(self, section: str) -> dict[str, str]:
        if section in HISTORY_KINDS:
            return {k.removeprefix(section + "."): v
                    for k, v in rules.validate_history({section: self._rows(section)}).items()}
        check = rules.validate_insurance if section == "insurance" else rules.validate_emergency
        return check(self._rows(section))

    def _set_error(self, key: str, message: str) -> None:
        errors = dict(self.errors)
        if message:
            errors[key] = message
        else:
            errors.pop(key, None)
        self.errors = errors

    # ------------------------------------------------------------ moving between steps
    def _step_errors(self, step: int) -> dict[str, str]:
        draft = self._draft()
        if step == 1:
            return {f"basic.{k}": v for k, v in rules.validate_basic(draft["basic"]).items()}
        if step == 2:
            return {f"history.{k}": v for k, v in rules.validate_history(draft["history"]).items()}
        if step == 3:
            return {f"insurance.{k}": v for k, v in rules.validate_insurance(draft["insurance"]).items()}
        if step == 4:
            return {f"emergency.{k}": v for k, v in rules.validate_emergency(draft["emergency"]).items()}
        return {}

    @rx.event
    async def next_step(self):
        """Check the whole step; move on only when it is valid. Entering review runs the duplicate check."""
        found = self._step_errors(self.step)
        prefix = ("basic.", "history.", "insurance.", "emergency.")[self.step - 1] if self.step < 5 else "-"
        self.errors = {**{k: v for k, v in self.errors.items() if not k.startswith(prefix)}, **found}
        if found:
            self.error = first_error_message(found)
            return focus_first_error(FORM_ID)
        self.error = ""
        self.step = min(5, self.step + 1)
        await self._save_draft()
        if self.step == 5:
            return await self._check_duplicates()
        return None

    @rx.event
    async def previous_step(self):
        self.error = ""
        self.step = max(1, self.step - 1)
        await self._save_draft()

    @rx.event
    async def go_to_step(self, step: int):
        """Jump back to an earlier step (from the review)."""
        if 1 <= int(step) < self.step:
            self.step = int(step)
            self.error = ""
            await self._save_draft()

    async def _check_duplicates(self):
        answer = await attempt(self, patients.find_possible_duplicates, dict(self.basic))
        self.confirmed_different = False
        if not answer.ok:
            return answer.show(self)
        self.duplicates = answer.value
        return None

    # ------------------------------------------------------------ duplicates and confirm
    @rx.event
    async def mark_different_person(self):
        answer = await attempt(self, patients.record_duplicate_decision, decision="different_person",
                               patient_ids=[d.get("id", "") for d in self.duplicates])
        if not answer.ok:
            return answer.show(self)
        self.confirmed_different = True
        return None

    @rx.event
    async def open_existing(self, patient_id: str):
        answer = await attempt(self, patients.record_duplicate_decision, decision="open_existing",
                               patient_ids=[patient_id])
        if not answer.ok:
            return answer.show(self)
        return rx.redirect(f"/chart/{patient_id}")

    @rx.event
    async def confirm(self):
        """Save the whole registration in one transaction (the service re-validates everything)."""
        self.saving = True
        self.error = ""
        yield
        try:
            answer = await attempt(self, patients.register_patient, self._draft(),
                                   confirmed_different=self.confirmed_different)
        except patients.PossibleDuplicates as exc:  # not an error of the family: it carries matches
            self.duplicates = exc.matches
            self.confirmed_different = False
            self.error = "This person may already have a record. Open it, or confirm this is a different person."
            self.saving = False
            return
        self.saving = False
        if not answer.ok and answer.errors:
            self.errors = dict(answer.errors)
            steps = [SECTIONS.index(k.split(".")[0]) for k in answer.errors if k.split(".")[0] in SECTIONS]
            self.step = min(steps) + 1 if steps else self.step
            self.error = first_error_message(answer.errors)
            yield focus_first_error(FORM_ID)
            return
        if not answer.ok:
            yield answer.show(self)
            return
        done = answer.value
        self._reset()
        self.registered_mrn = done.mrn
        self.registered_id = str(done.patient_id)
        self.step = 6
        yield rx.toast.success(f"Patient registered — MRN {done.mrn}")

    @rx.event
    async def start_over(self):
        """Throw the draft away and begin again (the page asks first when there is something to lose)."""
        answer = await attempt(self, patients.discard_draft)
        if not answer.ok:
            return answer.show(self)
        self._reset()
        return None
