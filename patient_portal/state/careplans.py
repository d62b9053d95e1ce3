"""State of the care-plan screens: /chart/<id>/careplan (care-team doctors write, admins read:
``CarePlanState``) and the patient's own plan on "Your health record" and their home's "Tasks to do"
(``OwnCarePlanState``).

Only display dicts built from the care-plans service's DTOs reach the browser, written for the
person reading them (a clinician's terms, or plain words for the patient); every handler that reads
or writes calls the service through ``state.calls.attempt`` (actor resolved on the server, the policy
decides). The chart's page reads the header with its board in one unit, one audit event
(``careplans.open_page``). The ids the buttons send back are requests: the service checks each
belongs to this patient. The versions of what is shown and the form as opened (for a conflict's
"what changed") are backend-only vars.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import reflex as rx

from patient_portal.core.access import Actor, Role
from patient_portal.core.clock import clinic_zone, plain_day, plain_time
from patient_portal.domain.careplans import service as plans
from patient_portal.domain.careplans.dto import ActivityView, GoalView, PlanView, Progress, number
from patient_portal.domain.patients.header import ChartHeader
from patient_portal.state.calls import Answer, attempt, show_read_failure
from patient_portal.state.chart_header import ChartRoute, show_header, show_read_failure_with_header
from patient_portal.state.focus import focus_first_error

NEEDS_ATTENTION = "Some fields need attention — see the messages next to them."
FORM_ID = "careplan-form"
#: The select's value for "no measure: a goal in words" and "no problem" (a select item needs a value).
NONE = "none"
PLAN_STATUS = {"active": "Active", "completed": "Completed", "cancelled": "Cancelled"}
GOAL_STATUS = {"in_progress": "In progress", "achieved": "Achieved", "not_achieved": "Not achieved"}
PLAIN_GOAL_STATUS = {"in_progress": "Working on it", "achieved": "Reached", "not_achieved": "Not reached"}
COMPARATOR_WORDS = (("below", "Below"), ("above", "Above"), ("between", "Between"))
#: What each editor saves; the fields its form has.
EDITORS = {"plan_new": ("title", "condition_id"), "plan_edit": ("title", "condition_id"),
           "goal_new": ("measure", "comparator", "target", "target_high", "due", "description"),
           "goal_edit": ("measure", "comparator", "target", "target_high", "due", "description"),
           "activity_new": ("text", "task"), "activity_edit": ("text", "task"), "note": ("text",)}
DONE = {"plan_new": "Care plan started.", "plan_edit": "Care plan saved.", "goal_new": "Goal added.",
        "goal_edit": "Goal saved.", "activity_new": "Activity added.", "activity_edit": "Activity saved.",
        "note": "Progress update added."}


def _value_text(progress: Progress) -> str:
    unit = f" {progress.unit_label}" if progress.unit_label and progress.unit_label != "%" else progress.unit_label
    return "/".join(number(v) for v in progress.values) + unit


def progress_words(goal: GoalView, *, plain: bool) -> tuple[str, str]:
    """(what the latest reading says about the goal, its tone: on | off | none)."""
    if not goal.measure:
        return "", "none"
    p = goal.progress
    if p is None:
        return (("No reading yet. Add one in Your readings." if plain else "No reading yet."), "none")
    where = " (reported by patient)" if p.by_patient and not plain else ""
    verdict = "on target" if p.on_target else ("not there yet" if plain else "not on target")
    lead = "Your latest reading" if plain else "Latest"
    return f"{lead}: {_value_text(p)} on {plain_time(p.at)}{where} — {verdict}", "on" if p.on_target else "off"


def _goal(goal: GoalView, *, plain: bool) -> dict[str, Any]:
    text, tone = progress_words(goal, plain=plain)
    return {"id": str(goal.id), "words": goal.words, "due": f"by {plain_day(goal.due)}" if goal.due else "",
            "status": goal.status, "status_label": (PLAIN_GOAL_STATUS if plain else GOAL_STATUS)[goal.status],
            "progress": text, "tone": tone,
            "notes": [{"author": n.author_name, "at": plain_time(n.written_at), "text": n.text} for n in goal.notes]}


def _activity(a: ActivityView) -> dict[str, Any]:
    return {"id": str(a.id), "text": a.text, "task": a.task, "done": a.done_at is not None,
            "done_text": f"Done {plain_time(a.done_at)}" if a.done_at else ""}


def _plan(p: PlanView, *, plain: bool) -> dict[str, Any]:
    problem = p.problem.display if p.problem else ""
    if problem and p.problem and p.problem.code and not plain:
        problem = f"{p.problem.code} — {problem}"
    return {"id": str(p.id), "title": p.title, "status": p.status, "status_label": PLAN_STATUS[p.status],
            "problem": problem, "can_write": p.can_write,
            "meta": f"Started by {p.author_name} on {plain_day(p.created_at.astimezone(clinic_zone()).date())}"
                    + (f" · {PLAN_STATUS[p.status].lower()} {plain_day(p.ended_at.astimezone(clinic_zone()).date())}"
                       if p.ended_at else ""),
            "goals": [_goal(g, plain=plain) for g in p.goals],
            "activities": [_activity(a) for a in p.activities],
            "tasks": [_activity(a) for a in p.activities if a.task],
            "instructions": [_activity(a) for a in p.activities if not a.task]}


# ---------------------------------------------------------------- service calls in one unit


@dataclass
class _Opened:
    header: ChartHeader | None = None
    board: plans.Board | None = None
    redirect: str = ""


def _open_chart_page(session: Any, actor: Actor, patient_ref: str) -> _Opened:
    """The chart's Care plan page (header + board); a patient's own id goes to their record."""
    if actor.role == Role.PATIENT and str(actor.patient_id) == patient_ref:
        return _Opened(redirect="/patient/record")
    header, found = plans.open_page(session, actor, patient_ref)
    return _Opened(header, found)


class CarePlanState(ChartRoute, rx.State):
    status: str = "loading"  # loading | ok | denied | missing
    can_write: bool = False
    plans: list[dict[str, Any]] = []
    problems: list[list[str]] = []  # [value, label] for the plan form's select
    measures: list[list[str]] = []  # [value, label] for the goal form's select

    editor: str = ""  # "" or a key of EDITORS
    editor_plan: str = ""  # the plan a goal or an activity is added to (or the plan edited)
    editor_item: str = ""  # the goal or activity edited, the goal a note is written on
    form: dict[str, str] = {}
    task: bool = False  # the activity form's "the patient ticks this off"
    form_errors: dict[str, str] = {}
    form_error: str = ""
    conflict: list[str] = []
    message: str = ""
    error: str = ""
    _versions: dict[str, int] = {}
    _forms: dict[str, dict[str, Any]] = {}
    _units: dict[str, str] = {}
    _version: int = 0
    _base: dict[str, Any] = {}

    # ------------------------------------------------------------ loading
    def _clear(self) -> None:
        self.can_write, self.plans, self.problems, self.measures = False, [], [], []
        self._versions, self._forms, self._units = {}, {}, {}
        self.message, self.error = "", ""
        self._close()

    def _close(self) -> None:
        self.editor, self.editor_plan, self.editor_item, self.form, self.task = "", "", "", {}, False
        self.form_errors, self.form_error, self.conflict, self._version, self._base = {}, "", [], 0, {}

    def _show(self, board: plans.Board) -> None:
        self.can_write = board.can_write
        self.plans = [_plan(p, plain=False) for p in board.plans]
        versions: dict[str, int] = {}
        forms: dict[str, dict[str, Any]] = {}
        for p in board.plans:
            versions[str(p.id)], forms[str(p.id)] = p.version, p.form()
            for g in p.goals:
                versions[str(g.id)], forms[str(g.id)] = g.version, g.form()
            for a in p.activities:
                versions[str(a.id)], forms[str(a.id)] = a.version, a.form()
        self._versions, self._forms = versions, forms
        self.problems = [[NONE, "None"]] + [[str(p.condition_id), f"{p.coding.code} — {p.coding.display}"
                                             if p.coding.code else p.coding.display] for p in board.problems] \
            if board.can_write else []
        self.measures = [[NONE, "None: a goal in words"]] + [
            [m.key, f"{m.label} ({m.unit_label})" if m.unit_label else m.label] for m in board.measures] \
            if board.can_write else []
        self._units = {m.key: m.unit_label for m in board.measures}
        self.status = "ok"

    def _failed(self, answer: Answer) -> Any:
        return show_read_failure(self, answer)

    @rx.event
    async def load_chart(self):
        """on_load of /chart/<id>/careplan: header and board in one unit (one audit event)."""
        self._clear()
        self.status = "loading"
        self._read_route()
        answer = await attempt(self, _open_chart_page, self.patient_ref)
        if answer.ok and answer.value.redirect:
            return rx.redirect(answer.value.redirect, replace=True)
        if not answer.ok:
            return await show_read_failure_with_header(self, answer)
        self._show(answer.value.board)
        await show_header(self, answer.value.header, patient_ref=self.patient_ref)
        return None

    async def _reload(self) -> Any:
        answer = await attempt(self, plans.board, patient_id=self.patient_ref)
        if not answer.ok:
            return self._failed(answer)
        self._show(answer.value)
        return None

    # ------------------------------------------------------------ the forms
    @rx.var
    def target_label(self) -> str:
        """The target field's label: with the unit, and the shape blood pressure is typed in."""
        measure = self.form.get("measure", "")
        unit = self._units.get(measure, "")
        lower = self.form.get("comparator") == "between"
        first = "From" if lower else "Target"
        shape = ", as 130/80" if measure == "blood_pressure" else ""
        return f"{first} ({unit}{shape})" if unit else first

    @rx.var
    def target_high_label(self) -> str:
        measure = self.form.get("measure", "")
        unit = self._units.get(measure, "")
        return f"To ({unit})" if unit else "To"

    def _open(self, editor: str, *, plan: str = "", item: str = "", form: dict[str, str] | None = None,
              task: bool = False) -> None:
        self._close()
        self.message, self.error = "", ""
        self.editor, self.editor_plan, self.editor_item = editor, plan, item
        self.form, self.task = dict(form or {}), task

    @rx.event
    def start_plan(self):
        if self.can_write:
            self._open("plan_new", form={"title": "", "condition_id": NONE})

    @rx.event
    def edit_plan(self, plan_id: str):
        plan_id = str(plan_id)[:64]
        base = self._forms.get(plan_id)
        if self.can_write and base is not None:
            self._open("plan_edit", plan=plan_id, form={"title": base["title"],
                                                        "condition_id": base["condition_id"] or NONE})
            self._version, self._base = self._versions.get(plan_id, 0), dict(base)

    @rx.event
    def start_goal(self, plan_id: str):
        if self.can_write:
            due = (datetime.now(clinic_zone()).date() + timedelta(days=90)).isoformat()
            self._open("goal_new", plan=str(plan_id)[:64], form={"measure": "blood_pressure", "comparator": "below",
                                                                 "target": "", "target_high": "", "due": due,
                                                                 "description": ""})

    @rx.event
    def edit_goal(self, plan_id: str, goal_id: str):
        goal_id = str(goal_id)[:64]
        base = self._forms.get(goal_id)
        if self.can_write and base is not None:
            self._open("goal_edit", plan=str(plan_id)[:64], item=goal_id,
                       form={**{k: str(v) for k, v in base.items()}, "measure": base["measure"] or NONE,
                             "comparator": base["comparator"] or "below"})
            self._version, self._base = self._versions.get(goal_id, 0), dict(base)

    @rx.event
    def start_activity(self, plan_id: str):
        if self.can_write:
            self._open("activity_new", plan=str(plan_id)[:64], form={"text": ""})

    @rx.event
    def edit_activity(self, plan_id: str, activity_id: str):
        activity_id = str(activity_id)[:64]
        base = self._forms.get(activity_id)
        if self.can_write and base is not None:
            self._open("activity_edit", plan=str(plan_id)[:64], item=activity_id, form={"text": base["text"]},
                       task=bool(base["task"]))
            self._version, self._base = self._versions.get(activity_id, 0), dict(base)

    @rx.event
    def start_note(self, plan_id: str, goal_id: str):
        if self.can_write:
            self._open("note", plan=str(plan_id)[:64], item=str(goal_id)[:64], form={"text": ""})

    @rx.event
    def close_editor(self):
        self._close()

    @rx.event
    def set_form(self, name: str, value: str):
        if self.editor and name in EDITORS[self.editor]:
            self.form[name] = str(value)[:5_000]
            self.form_errors.pop(name, None)

    @rx.event
    def set_task(self, checked: bool):
        self.task = checked is True

    def _values(self) -> dict[str, Any]:
        values: dict[str, Any] = {k: self.form.get(k, "") for k in EDITORS.get(self.editor, ()) if k != "task"}
        for key in ("measure", "condition_id"):
            if values.get(key) == NONE:
                values[key] = ""
        if self.editor.startswith("activity"):
            values["task"] = self.task
        return values

    async def _call(self, fn, **kwargs: Any) -> Answer:
        return await attempt(self, fn, patient_id=self.patient_ref, **kwargs)

    async def _save_answer(self) -> Answer | None:
        values, editor = self._values(), self.editor
        if editor == "plan_new":
            return await self._call(plans.create_plan, values=values)
        if editor == "plan_edit":
            return await self._call(plans.update_plan, plan_id=self.editor_plan, values=values,
                                    expected_version=self._version, base=self._base)
        if editor == "goal_new":
            return await self._call(plans.add_goal, plan_id=self.editor_plan, values=values)
        if editor == "goal_edit":
            return await self._call(plans.update_goal, goal_id=self.editor_item, values=values,
                                    expected_version=self._version, base=self._base)
        if editor == "activity_new":
            return await self._call(plans.add_activity, plan_id=self.editor_plan, values=values)
        if editor == "activity_edit":
            return await self._call(plans.update_activity, activity_id=self.editor_item, values=values,
                                    expected_version=self._version, base=self._base)
        if editor == "note":
            return await self._call(plans.add_note, goal_id=self.editor_item, text=values.get("text", ""))
        return None

    @rx.event
    async def save(self):
        """Save what the open form holds; messages beside the fields, what was typed kept."""
        if self.status != "ok" or not self.editor:
            return None
        self.form_errors, self.form_error, self.message, self.error = {}, "", "", ""
        editor = self.editor
        answer = await self._save_answer()
        if answer is None:
            return None
        if not answer.ok:
            return self._write_failed(answer)
        self._close()
        await self._reload()
        done = DONE[editor]
        self.message = done
        return rx.toast.success(done)

    def _write_failed(self, answer: Answer) -> Any:
        if answer.signed_out:
            self._clear()
            return answer.show(self)
        conflict = answer.error if isinstance(answer.error, plans.CarePlanConflict) else None
        if conflict is not None:
            self.conflict = list(conflict.fields)
            self._version, self._base = conflict.version, dict(conflict.current)
            self.form_error = answer.message + " Saving again keeps what you typed here."
            return None
        self.form_errors = dict(answer.errors)
        self.form_error = NEEDS_ATTENTION if answer.invalid and answer.errors else answer.message
        return focus_first_error(FORM_ID) if answer.errors else None

    # ------------------------------------------------------------ one-click changes
    async def _act(self, answer: Answer, done: str) -> Any:
        if not answer.ok:
            if answer.signed_out:
                self._clear()
                return answer.show(self)
            self.error, self.message = answer.message, ""
            await self._reload()
            return None
        self._close()
        await self._reload()
        self.message, self.error = done, ""
        return rx.toast.success(done)

    @rx.event
    async def close_plan(self, plan_id: str, status: str):
        """Complete or cancel a plan (behind a confirm that says it then stays as it is)."""
        plan_id = str(plan_id)[:64]
        answer = await self._call(plans.close_plan, plan_id=plan_id, status=str(status)[:16],
                                  expected_version=self._versions.get(plan_id, 0))
        return await self._act(answer, "Care plan completed." if status == "completed" else "Care plan cancelled.")

    @rx.event
    async def set_goal_status(self, goal_id: str, status: str):
        goal_id = str(goal_id)[:64]
        answer = await self._call(plans.set_goal_status, goal_id=goal_id, status=str(status)[:16],
                                  expected_version=self._versions.get(goal_id, 0))
        words = {"achieved": "Goal marked achieved.", "not_achieved": "Goal marked not achieved.",
                 "in_progress": "Goal back in progress."}
        return await self._act(answer, words.get(str(status), "Goal saved."))

    @rx.event
    async def remove_activity(self, activity_id: str):
        activity_id = str(activity_id)[:64]
        answer = await self._call(plans.remove_activity, activity_id=activity_id,
                                  expected_version=self._versions.get(activity_id, 0))
        return await self._act(answer, "Activity removed.")


class OwnCarePlanState(rx.State):
    """The signed-in patient's own care plans (Your health record) and open tasks (their home)."""

    plans_status: str = "loading"  # loading | ok | missing | failed | idle (not on this page)
    own_plans: list[dict[str, Any]] = []
    tasks_status: str = "loading"
    tasks: list[dict[str, str]] = []
    tick_error: str = ""

    @rx.event
    async def load_own(self):
        """on_load of /patient/record: the care plan card."""
        self.own_plans, self.plans_status, self.tick_error = [], "loading", ""
        self.tasks_status = "idle"  # this page shows the tasks inside the plans
        return await self._read_plans()

    async def _read_plans(self) -> Any:
        answer = await attempt(self, plans.own_plans)
        if not answer.ok:
            self.plans_status = "loading" if answer.signed_out else ("failed" if answer.denied else "missing")
            return None
        self.own_plans = [_plan(p, plain=True) for p in answer.value]
        self.plans_status = "ok"
        return None

    @rx.event
    async def load_tasks(self):
        """on_load of /patient: "Tasks to do"."""
        self.tasks, self.tasks_status, self.tick_error = [], "loading", ""
        self.plans_status = "idle"  # the home shows only the open tasks
        return await self._read_tasks()

    async def _read_tasks(self) -> Any:
        answer = await attempt(self, plans.open_tasks)
        if not answer.ok:
            self.tasks_status = "loading" if answer.signed_out else ("failed" if answer.denied else "missing")
            return None
        self.tasks = [{"id": str(t.activity_id), "text": t.text, "plan": t.plan_title} for t in answer.value]
        self.tasks_status = "ok"
        return None

    @rx.event
    async def tick(self, activity_id: str, checked: bool):
        """Tick a task off (or untick it); the list it was ticked on is read again."""
        self.tick_error = ""
        answer = await attempt(self, plans.tick_task, activity_id=str(activity_id)[:64], done=checked is True)
        if not answer.ok:
            if answer.signed_out:
                return answer.show(self, message_var="tick_error")
            self.tick_error = answer.message
        if self.plans_status == "ok":
            await self._read_plans()
        if self.tasks_status == "ok":
            await self._read_tasks()
        if answer.ok:
            return rx.toast.success("Task done — well done!" if checked is True else "Task marked not done.")
        return None
