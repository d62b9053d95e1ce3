"""Care plans: the one way in for the UI, the seed and other areas to a patient's care plans, their
goals, activities and tasks, and progress.

The rules, and where each lives:

* **Who.** The policy (``core.access``) decides: ``careplan.read`` (care-team doctors; an admin reads
  for operations, recorded with basis "role" and purpose "operations"; the patient, their own
  record), ``careplan.write`` (care-team doctors only: plans, goals, activities, progress notes) and
  ``careplan.task.own`` (the patient ticks off a task of their own plan, or unticks it). Staff have
  none of them. Refusals go through ``require``, which audits them.
* **Closed plans.** A completed or cancelled plan is kept as it was: any change is ``PlanClosed``
  (asked after the policy, so someone who may not write is told "not permitted").
* **Concurrency.** Plans, goals and activities carry a version; an edit names the version it was
  opened at, and a stale one is ``CarePlanConflict`` naming the fields that changed (nothing written).
  A patient ticking a task does not change the activity's version (the doctor's edit of its words
  is not stale because of it).
* **Targets** are checked like readings are: against each vital's plausible range from the code
  tables (``validation``); a new due date may not be in the past.
* **Progress.** Each goal on a measure is compared with the patient's latest reading of it
  (``observations.service.latest_values``): "Latest 128/82 on 3 Dec: on target". Doctors add
  progress notes (encrypted, written once).
* **For other areas** (no policy; their callers authorize and audit): ``goals_for`` (the vitals
  trend's goal line), ``timeline_items`` (plan started, goal achieved, progress update).
* **Audit.** Every read and write records one event in its unit: ``careplan.list`` (the chart's
  page, with the header it showed, or the patient's own plans), ``careplan.task.list`` (the
  patient's open tasks), ``careplan.create``, ``careplan.update``, ``careplan.complete``,
  ``careplan.cancel``, ``careplan.goal.create``, ``careplan.goal.update``, ``careplan.goal.status``,
  ``careplan.activity.create``, ``careplan.activity.update``, ``careplan.activity.remove``,
  ``careplan.note.create``, ``careplan.task.tick`` and ``careplan.task.untick``, each with the
  policy's basis and purpose. Details hold ids, counts, field names and codes, never the text.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date, datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from patient_portal.core import audit
from patient_portal.core.access import Action, Actor, Resource, decide, require
from patient_portal.core.clock import clinic_zone
from patient_portal.core.coding import Coding
from patient_portal.core.crypto import decrypt_value
from patient_portal.core.db import utcnow
from patient_portal.domain.careplans import validation as check
from patient_portal.domain.careplans.dto import (
    MEASURE_LABELS,
    ActivityView,
    Board,
    Bound,
    CarePlanConflict,
    CarePlanInvalid,
    CarePlanNotFound,
    GoalView,
    MeasureSpec,
    OwnTask,
    PlanClosed,
    PlanView,
    Problem,
    Progress,
    ProgressNote,
    goal_words,
)
from patient_portal.domain.careplans.models import (
    ACHIEVED,
    ACTIVE,
    CANCELLED,
    COMPLETED,
    GOAL_STATUSES,
    IN_PROGRESS,
    INSTRUCTION,
    TASK,
    CarePlan,
    CarePlanActivity,
    CarePlanGoal,
    CarePlanNote,
)
from patient_portal.domain.history.models import Condition
from patient_portal.domain.observations import catalogue
from patient_portal.domain.observations import service as observations
from patient_portal.domain.observations.dto import Goal
from patient_portal.domain.patients.common import PatientNotFound, as_uuid, load
from patient_portal.domain.patients.header import ChartHeader, with_header

__all__ = [
    "ActivityView", "Board", "CarePlanConflict", "CarePlanInvalid", "CarePlanNotFound", "GoalView", "OwnTask",
    "PlanClosed", "PlanView", "add_activity", "add_goal", "add_note", "board", "close_plan", "create_plan",
    "goals_for", "measures", "open_page", "open_tasks", "own_plans", "remove_activity", "set_goal_status",
    "tick_task", "timeline_items", "update_activity", "update_goal", "update_plan",
]

LIST = "careplan.list"
#: what a conflict calls each field (the forms' labels)
LABELS = {"title": "title", "condition_id": "problem", "measure": "measure", "description": "description",
          "comparator": "target", "target": "target", "target_high": "target", "due": "due date",
          "text": "text", "task": "patient task"}


# ---------------------------------------------------------------- helpers


def _uuid(value: Any, what: str) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value)[:64])
    except ValueError:
        raise CarePlanNotFound(what) from None


def _today() -> date:
    return datetime.now(clinic_zone()).date()


def _version(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise CarePlanInvalid("Open it again and save.", errors={"version": "Open it again and save."}) from None


def _diff(current: dict[str, Any], base: Any) -> list[str]:
    """The names (as the form calls them) of the fields whose saved value differs from `base`."""
    if not isinstance(base, dict):
        return []
    out: list[str] = []
    for key, value in current.items():
        if str(value or "").strip() != str(base.get(key) or "").strip() and LABELS[key] not in out:
            out.append(LABELS[key])
    return out


def _stale(what: str, expected: Any, version: int, current: dict[str, Any], base: Any) -> None:
    if _version(expected) != version:
        raise CarePlanConflict(what, _diff(current, base) or [f"the {what}"], current, version)


def _touch(row: Any) -> None:
    row.version += 1
    row.updated_at = utcnow()


def _writable(plan: CarePlan) -> None:
    if plan.status != ACTIVE:
        raise PlanClosed(plan.status)


def _may(session: Session, actor: Actor, action: Action, pid: uuid.UUID) -> bool:
    return decide(session, actor, action, Resource(patient_id=pid)).allowed


def _authorized(session: Session, actor: Actor | None, action: Action, patient_id: Any, what: str) -> uuid.UUID:
    """The policy first (a refusal audited as `what`), then the record (NotFound for no live one)."""
    pid = as_uuid(patient_id)
    require(session, actor, action, Resource(patient_id=pid), audit_as=what)
    load(session, pid)
    return pid


def _plan(session: Session, pid: uuid.UUID, plan_id: Any) -> CarePlan:
    plan = session.get(CarePlan, _uuid(plan_id, "care plan"))
    if plan is None or plan.patient_id != pid:
        raise CarePlanNotFound()
    return plan


def _goal(session: Session, pid: uuid.UUID, goal_id: Any) -> tuple[CarePlanGoal, CarePlan]:
    goal = session.get(CarePlanGoal, _uuid(goal_id, "goal"))
    if goal is None or goal.patient_id != pid:
        raise CarePlanNotFound("goal")
    return goal, _plan(session, pid, goal.plan_id)


def _activity(session: Session, pid: uuid.UUID, activity_id: Any) -> tuple[CarePlanActivity, CarePlan]:
    row = session.get(CarePlanActivity, _uuid(activity_id, "activity"))
    if row is None or row.patient_id != pid or row.removed:
        raise CarePlanNotFound("activity")
    return row, _plan(session, pid, row.plan_id)


def _coding(problem: dict[str, Any] | None) -> Coding | None:
    if not problem or not problem.get("display"):
        return None
    return Coding(problem.get("system") or "", problem.get("code") or "", problem.get("display") or "")


def _unit_label(session: Session, measure: str) -> str:
    if not measure:
        return ""
    found = catalogue.specs(session).get(catalogue.TREND_KEYS[measure][0])
    return (found.unit_label or "") if found else ""


# ---------------------------------------------------------------- views


def _progress(goal: CarePlanGoal, bounds: dict[str, Bound], comparator: str, unit_label: str,
              latest: dict[str, Any]) -> Progress | None:
    if not goal.measure or not bounds:
        return None
    parts = catalogue.TREND_KEYS[goal.measure]
    readings = [latest.get(key) for key in parts]
    if any(r is None for r in readings) or any(key not in bounds for key in parts):
        return None
    on_target = all(bounds[key].met_by(r.value, comparator) for key, r in zip(parts, readings, strict=True))
    first = readings[0]
    return Progress(at=first.effective_at, values=tuple(r.value for r in readings), unit_label=unit_label,
                    on_target=on_target, by_patient=first.source == "patient")


def _goal_view(session: Session, goal: CarePlanGoal, latest: dict[str, Any] | None,
               notes: list[ProgressNote] | None = None, units: dict[str, str] | None = None) -> GoalView:
    comparator, bounds = check.bounds_of(goal.target or {})
    unit_label = (units or {}).get(goal.measure) if units is not None else _unit_label(session, goal.measure)
    return GoalView(id=goal.id, plan_id=goal.plan_id, measure=goal.measure, description=goal.description or "",
                    comparator=comparator, bounds=bounds, unit_label=unit_label or "", due=goal.due,
                    status=goal.status, status_at=goal.status_at, version=goal.version, created_at=goal.created_at,
                    progress=_progress(goal, bounds, comparator, unit_label or "", latest or {}),
                    notes=tuple(notes or ()))


def _activity_view(row: CarePlanActivity) -> ActivityView:
    return ActivityView(id=row.id, plan_id=row.plan_id, kind=row.kind, text=row.text, done_at=row.done_at,
                        version=row.version)


def _units(session: Session) -> dict[str, str]:
    specs = catalogue.specs(session)
    return {m: (specs[catalogue.TREND_KEYS[m][0]].unit_label or "") for m in MEASURE_LABELS
            if catalogue.TREND_KEYS[m][0] in specs}


def _views(session: Session, pid: uuid.UUID, plans: list[CarePlan], can_write: bool) -> list[PlanView]:
    """The plans with their goals (progress and notes) and activities: one statement per kind."""
    if not plans:
        return []
    ids = [p.id for p in plans]
    goals: dict[uuid.UUID, list[CarePlanGoal]] = defaultdict(list)
    for g in session.exec(select(CarePlanGoal).where(CarePlanGoal.plan_id.in_(ids))  # type: ignore[attr-defined]
                          .order_by(CarePlanGoal.position, CarePlanGoal.created_at)).all():  # type: ignore[arg-type]
        goals[g.plan_id].append(g)
    acts: dict[uuid.UUID, list[CarePlanActivity]] = defaultdict(list)
    for a in session.exec(select(CarePlanActivity).where(
            CarePlanActivity.plan_id.in_(ids), CarePlanActivity.removed.is_(False))  # type: ignore[attr-defined]
            .order_by(CarePlanActivity.position, CarePlanActivity.created_at)).all():  # type: ignore[arg-type]
        acts[a.plan_id].append(a)
    notes: dict[uuid.UUID, list[ProgressNote]] = defaultdict(list)
    for n in session.exec(select(CarePlanNote).where(CarePlanNote.plan_id.in_(ids))  # type: ignore[attr-defined]
                          .order_by(CarePlanNote.created_at.desc())).all():  # type: ignore[attr-defined]
        notes[n.goal_id].append(ProgressNote(n.id, n.author_name, n.created_at, n.text))
    measured = any(g.measure for gs in goals.values() for g in gs)
    latest = observations.latest_values(session, pid) if measured else {}
    units = _units(session)
    return [PlanView(id=p.id, patient_id=p.patient_id, title=p.title, problem=_coding(p.problem),
                     condition_id=p.condition_id, status=p.status, author_name=p.author_name, created_at=p.created_at,
                     ended_at=p.ended_at, version=p.version,
                     goals=tuple(_goal_view(session, g, latest, notes.get(g.id), units) for g in goals[p.id]),
                     activities=tuple(_activity_view(a) for a in acts[p.id]),
                     can_write=can_write and p.status == ACTIVE)
            for p in plans]


def _plan_view(session: Session, actor: Actor, plan: CarePlan) -> PlanView:
    return _views(session, plan.patient_id, [plan], _may(session, actor, Action.CAREPLAN_WRITE, plan.patient_id))[0]


def _plans(session: Session, pid: uuid.UUID, *, active_only: bool = False) -> list[CarePlan]:
    stmt = select(CarePlan).where(CarePlan.patient_id == pid)
    if active_only:
        stmt = stmt.where(CarePlan.status == ACTIVE)
    rows = list(session.exec(stmt).all())
    rows.sort(key=lambda p: (p.status != ACTIVE, -p.created_at.timestamp()))
    return rows


def measures(session: Session) -> list[MeasureSpec]:
    """The measures a goal may be on, with units and plausible ranges from the code tables (no PHI,
    no actor: what any form may show)."""
    specs = catalogue.specs(session)
    out = []
    for key, label in MEASURE_LABELS.items():
        parts = catalogue.TREND_KEYS[key]
        if all(p in specs for p in parts):
            out.append(MeasureSpec(key=key, label=label, unit_label=specs[parts[0]].unit_label or "", parts=parts,
                                   ranges=tuple((specs[p].low, specs[p].high) for p in parts)))
    return out


def _problems(session: Session, pid: uuid.UUID) -> list[Problem]:
    """The patient's problem list (active first), for the plan form's choice."""
    t = Condition.__tablename__
    rows = session.exec(select(Condition.id, Condition.description, Condition.code, Condition.code_system,
                               Condition.status).where(Condition.patient_id == pid)
                        .order_by(Condition.created_at)).all()  # type: ignore[arg-type]
    out = []
    for row_id, desc, code, system, status in rows:
        display = decrypt_value("str", desc, t, "description", row_id)
        code_text = decrypt_value("str", code, t, "code", row_id) or ""
        coding = Coding.of(system, code_text, display) or Coding("", "", display)
        out.append(Problem(row_id, coding, status or "active"))
    out.sort(key=lambda p: p.status != "active")
    return out


# ---------------------------------------------------------------- reading


def board(session: Session, actor: Actor | None, *, patient_id: Any,
          header_sections: list[str] | None = None) -> Board:
    """Every care plan of the patient with goals, progress and activities (care-team doctors,
    admins); for a doctor who may write, the problem list and the measures for the forms."""
    pid = _authorized(session, actor, Action.CAREPLAN_READ, patient_id, LIST)
    assert actor is not None
    can_write = _may(session, actor, Action.CAREPLAN_WRITE, pid)
    plans = _views(session, pid, _plans(session, pid), can_write)
    result = Board(plans=plans, problems=_problems(session, pid) if can_write else [],
                   measures=measures(session) if can_write else [], can_write=can_write)
    detail: dict[str, Any] = {"plans": len(plans), "goals": sum(len(p.goals) for p in plans)}
    if header_sections is not None:
        detail["header"] = list(header_sections)
    audit.record(session, actor, LIST, patient_id=pid, object_type="care_plan", object_id=pid, detail=detail)
    return result


def open_page(session: Session, actor: Actor | None, patient_id: Any) -> tuple[ChartHeader, Board]:
    """The chart's Care plan page opened: the chart header and the board in one unit, ONE audit
    event (``careplan.list`` whose `header` names what the header showed)."""
    return with_header(session, actor, patient_id, _board_for_header, patient_id)


def _board_for_header(session: Session, actor: Actor | None, patient_id: Any, *,
                      header_sections: list[str] | None = None) -> Board:
    return board(session, actor, patient_id=patient_id, header_sections=header_sections)


def _own_pid(session: Session, actor: Actor | None, what: str) -> uuid.UUID:
    if actor is None or actor.patient_id is None:
        if actor is None:
            require(session, actor, Action.CAREPLAN_READ, audit_as=what)
        raise PatientNotFound()
    return actor.patient_id


def own_plans(session: Session, actor: Actor | None) -> list[PlanView]:
    """The signed-in patient's active care plans, with progress on their own readings."""
    pid = _authorized(session, actor, Action.CAREPLAN_READ, _own_pid(session, actor, LIST), LIST)
    plans = _views(session, pid, _plans(session, pid, active_only=True), False)
    audit.record(session, actor, LIST, patient_id=pid, object_type="care_plan", object_id=pid,
                 detail={"plans": len(plans), "goals": sum(len(p.goals) for p in plans), "view": "own"})
    return plans


def open_tasks(session: Session, actor: Actor | None) -> list[OwnTask]:
    """The signed-in patient's tasks not ticked off yet, across their active plans (their home's
    "Tasks to do"), oldest plan first."""
    what = "careplan.task.list"
    pid = _authorized(session, actor, Action.CAREPLAN_READ, _own_pid(session, actor, what), what)
    a, p = CarePlanActivity, CarePlan
    rows = session.exec(select(a, p.title).join(p, p.id == a.plan_id)  # type: ignore[arg-type]
                        .where(a.patient_id == pid, a.kind == TASK, a.removed.is_(False),  # type: ignore[attr-defined]
                               a.done_at.is_(None), p.status == ACTIVE)  # type: ignore[union-attr]
                        .order_by(p.created_at, a.position, a.created_at)).all()  # type: ignore[arg-type]
    tasks = [OwnTask(activity_id=row.id, plan_id=row.plan_id,
                     plan_title=decrypt_value("str", title, p.__tablename__, "title", row.plan_id), text=row.text)
             for row, title in rows]
    audit.record(session, actor, what, patient_id=pid, object_type="care_plan", object_id=pid,
                 detail={"count": len(tasks)})
    return tasks


# ---------------------------------------------------------------- doctors: plans


def _plan_values(session: Session, pid: uuid.UUID, values: Any) -> dict[str, Any]:
    if not isinstance(values, dict):
        raise CarePlanInvalid(errors={"title": "Enter a title for the plan."})
    errors: dict[str, str] = {}
    title = check.text(values.get("title"), "title", check.MAX_TITLE, errors, required="Enter a title for the plan.")
    raw = values.get("condition_id") or ""
    condition_id, problem = None, {}
    if raw:
        try:
            condition_id = uuid.UUID(str(raw)[:64])
        except ValueError:
            condition_id = None
        found = next((p for p in _problems(session, pid) if p.condition_id == condition_id), None)
        if found is None:
            errors["condition_id"] = "Choose a problem from this patient's problem list, or none."
        else:
            problem = {"system": found.coding.system, "code": found.coding.code, "display": found.coding.display}
    if errors:
        raise CarePlanInvalid(errors=errors)
    return {"title": title, "condition_id": condition_id, "problem": problem}


def create_plan(session: Session, actor: Actor | None, *, patient_id: Any, values: dict[str, Any]) -> PlanView:
    """Start a care plan (care-team doctors): a title, optionally the problem-list entry it is for."""
    pid = _authorized(session, actor, Action.CAREPLAN_WRITE, patient_id, "careplan.create")
    assert actor is not None
    cleaned = _plan_values(session, pid, values)
    plan = CarePlan(patient_id=pid, author_id=actor.user_id, author_name=actor.display_name or "Clinician", **cleaned)
    session.add(plan)
    session.flush()
    audit.record(session, actor, "careplan.create", patient_id=pid, object_type="care_plan", object_id=plan.id,
                 detail={"problem": cleaned["problem"].get("code") or None})
    return _plan_view(session, actor, plan)


def update_plan(session: Session, actor: Actor | None, *, patient_id: Any, plan_id: Any, values: dict[str, Any],
                expected_version: Any, base: dict[str, Any] | None = None) -> PlanView:
    """Change an active plan's title or problem at the version it was opened (`base`: the form as
    opened, so a conflict names what changed since)."""
    pid = _authorized(session, actor, Action.CAREPLAN_WRITE, patient_id, "careplan.update")
    assert actor is not None
    plan = _plan(session, pid, plan_id)
    _writable(plan)
    current = {"title": plan.title, "condition_id": str(plan.condition_id) if plan.condition_id else ""}
    _stale("care plan", expected_version, plan.version, current, base)
    cleaned = _plan_values(session, pid, values)
    changed = [k for k in ("title", "condition_id") if cleaned[k] != getattr(plan, k)]
    if changed:
        plan.title, plan.condition_id, plan.problem = cleaned["title"], cleaned["condition_id"], cleaned["problem"]
        _touch(plan)
        session.add(plan)
    audit.record(session, actor, "careplan.update", patient_id=pid, object_type="care_plan", object_id=plan.id,
                 detail={"fields_changed": changed, "version": plan.version})
    return _plan_view(session, actor, plan)


def close_plan(session: Session, actor: Actor | None, *, patient_id: Any, plan_id: Any, status: str,
               expected_version: Any) -> PlanView:
    """Mark an active plan completed or cancelled; it is then kept as it was."""
    if status not in (COMPLETED, CANCELLED):
        raise CarePlanInvalid(errors={"status": "Choose completed or cancelled."})
    what = "careplan.complete" if status == COMPLETED else "careplan.cancel"
    pid = _authorized(session, actor, Action.CAREPLAN_WRITE, patient_id, what)
    assert actor is not None
    plan = _plan(session, pid, plan_id)
    _writable(plan)
    _stale("care plan", expected_version, plan.version, {"title": plan.title}, None)
    plan.status, plan.ended_at, plan.ended_by = status, utcnow(), actor.user_id
    _touch(plan)
    session.add(plan)
    audit.record(session, actor, what, patient_id=pid, object_type="care_plan", object_id=plan.id,
                 detail={"status": status, "version": plan.version})
    return _plan_view(session, actor, plan)


# ---------------------------------------------------------------- doctors: goals


def add_goal(session: Session, actor: Actor | None, *, patient_id: Any, plan_id: Any,
             values: dict[str, Any]) -> GoalView:
    """Add a goal to an active plan: a measure with a target and a due date, or a goal in words."""
    pid = _authorized(session, actor, Action.CAREPLAN_WRITE, patient_id, "careplan.goal.create")
    assert actor is not None
    plan = _plan(session, pid, plan_id)
    _writable(plan)
    checked, errors = check.goal(session, values, today=_today(), new_due=True)
    if errors or checked is None:
        raise CarePlanInvalid(errors=errors)
    position = int(session.exec(select(func.count()).select_from(CarePlanGoal)
                                .where(CarePlanGoal.plan_id == plan.id)).one())
    goal = CarePlanGoal(plan_id=plan.id, patient_id=pid, position=position, measure=checked.measure,
                        description=checked.description, target=checked.target(), due=checked.due,
                        created_by=actor.user_id)
    session.add(goal)
    session.flush()
    audit.record(session, actor, "careplan.goal.create", patient_id=pid, object_type="care_plan_goal",
                 object_id=goal.id, detail={"plan": str(plan.id), "measure": checked.measure or None})
    return _goal_view(session, goal, observations.latest_values(session, pid) if goal.measure else {})


def update_goal(session: Session, actor: Actor | None, *, patient_id: Any, goal_id: Any, values: dict[str, Any],
                expected_version: Any, base: dict[str, Any] | None = None) -> GoalView:
    """Change a goal's measure, target, words or due date at the version it was opened. A due date
    that is changed may not be in the past; one left as it was may (the goal is late, not wrong)."""
    pid = _authorized(session, actor, Action.CAREPLAN_WRITE, patient_id, "careplan.goal.update")
    assert actor is not None
    goal, plan = _goal(session, pid, goal_id)
    _writable(plan)
    current = _goal_view(session, goal, {})
    _stale("goal", expected_version, goal.version, current.form(), base)
    same_due = isinstance(values, dict) and str(values.get("due") or "")[:10] == (goal.due.isoformat() if goal.due else "")
    checked, errors = check.goal(session, values, today=_today(), new_due=not same_due)
    if errors or checked is None:
        raise CarePlanInvalid(errors=errors)
    after = {"measure": checked.measure, "description": checked.description, "target": checked.target(),
             "due": checked.due}
    changed = [k for k, v in after.items() if getattr(goal, k) != v]
    if changed:
        for k, v in after.items():
            setattr(goal, k, v)
        _touch(goal)
        session.add(goal)
    audit.record(session, actor, "careplan.goal.update", patient_id=pid, object_type="care_plan_goal",
                 object_id=goal.id, detail={"fields_changed": changed, "version": goal.version})
    return _goal_view(session, goal, observations.latest_values(session, pid) if goal.measure else {})


def set_goal_status(session: Session, actor: Actor | None, *, patient_id: Any, goal_id: Any, status: str,
                    expected_version: Any) -> GoalView:
    """Mark a goal achieved, not achieved, or in progress again."""
    if status not in GOAL_STATUSES:
        raise CarePlanInvalid(errors={"status": "Choose in progress, achieved or not achieved."})
    pid = _authorized(session, actor, Action.CAREPLAN_WRITE, patient_id, "careplan.goal.status")
    assert actor is not None
    goal, plan = _goal(session, pid, goal_id)
    _writable(plan)
    _stale("goal", expected_version, goal.version, _goal_view(session, goal, {}).form(), None)
    if goal.status != status:
        goal.status, goal.status_at = status, (None if status == IN_PROGRESS else utcnow())
        _touch(goal)
        session.add(goal)
    audit.record(session, actor, "careplan.goal.status", patient_id=pid, object_type="care_plan_goal",
                 object_id=goal.id, detail={"status": status, "version": goal.version})
    return _goal_view(session, goal, observations.latest_values(session, pid) if goal.measure else {})


def add_note(session: Session, actor: Actor | None, *, patient_id: Any, goal_id: Any, text: Any) -> ProgressNote:
    """A doctor's progress update on a goal of an active plan (written once, never edited)."""
    pid = _authorized(session, actor, Action.CAREPLAN_WRITE, patient_id, "careplan.note.create")
    assert actor is not None
    goal, plan = _goal(session, pid, goal_id)
    _writable(plan)
    errors: dict[str, str] = {}
    cleaned = check.text(text, "text", check.MAX_NOTE, errors, required="Write the progress update.")
    if errors:
        raise CarePlanInvalid(errors=errors)
    note = CarePlanNote(goal_id=goal.id, plan_id=plan.id, patient_id=pid, author_id=actor.user_id,
                        author_name=actor.display_name or "Clinician", text=cleaned)
    session.add(note)
    session.flush()
    audit.record(session, actor, "careplan.note.create", patient_id=pid, object_type="care_plan_goal",
                 object_id=goal.id, detail={"note": str(note.id)})
    return ProgressNote(note.id, note.author_name, note.created_at, note.text)


# ---------------------------------------------------------------- doctors: activities


def _activity_values(values: Any) -> tuple[str, str]:
    if not isinstance(values, dict):
        raise CarePlanInvalid(errors={"text": "Describe the activity."})
    errors: dict[str, str] = {}
    text = check.text(values.get("text"), "text", check.MAX_ACTIVITY, errors,
                      required="Describe the activity, such as “Walk 30 minutes a day”.")
    task = values.get("task")
    if not isinstance(task, bool | None) and task not in ("true", "false", "", 0, 1):
        errors["task"] = "Say whether the patient ticks this off."
    if errors:
        raise CarePlanInvalid(errors=errors)
    return text, TASK if task in (True, "true", 1) else INSTRUCTION


def add_activity(session: Session, actor: Actor | None, *, patient_id: Any, plan_id: Any,
                 values: dict[str, Any]) -> ActivityView:
    """Add an activity or instruction to an active plan; `task` true makes it one the patient ticks off."""
    pid = _authorized(session, actor, Action.CAREPLAN_WRITE, patient_id, "careplan.activity.create")
    assert actor is not None
    plan = _plan(session, pid, plan_id)
    _writable(plan)
    text, kind = _activity_values(values)
    position = int(session.exec(select(func.count()).select_from(CarePlanActivity)
                                .where(CarePlanActivity.plan_id == plan.id)).one())
    row = CarePlanActivity(plan_id=plan.id, patient_id=pid, position=position, kind=kind, text=text,
                           created_by=actor.user_id)
    session.add(row)
    session.flush()
    audit.record(session, actor, "careplan.activity.create", patient_id=pid, object_type="care_plan_activity",
                 object_id=row.id, detail={"plan": str(plan.id), "kind": kind})
    return _activity_view(row)


def update_activity(session: Session, actor: Actor | None, *, patient_id: Any, activity_id: Any,
                    values: dict[str, Any], expected_version: Any, base: dict[str, Any] | None = None) -> ActivityView:
    """Change an activity's words or whether it is a patient task, at the version it was opened."""
    pid = _authorized(session, actor, Action.CAREPLAN_WRITE, patient_id, "careplan.activity.update")
    assert actor is not None
    row, plan = _activity(session, pid, activity_id)
    _writable(plan)
    _stale("activity", expected_version, row.version, _activity_view(row).form(), base)
    text, kind = _activity_values(values)
    changed = [name for name, now, before in (("text", text, row.text), ("task", kind, row.kind)) if now != before]
    if changed:
        row.text, row.kind = text, kind
        if kind != TASK:
            row.done_at, row.done_by = None, None
        _touch(row)
        session.add(row)
    audit.record(session, actor, "careplan.activity.update", patient_id=pid, object_type="care_plan_activity",
                 object_id=row.id, detail={"fields_changed": changed, "version": row.version})
    return _activity_view(row)


def remove_activity(session: Session, actor: Actor | None, *, patient_id: Any, activity_id: Any,
                    expected_version: Any) -> None:
    """Take an activity off an active plan (kept for the record, no longer shown)."""
    pid = _authorized(session, actor, Action.CAREPLAN_WRITE, patient_id, "careplan.activity.remove")
    assert actor is not None
    row, plan = _activity(session, pid, activity_id)
    _writable(plan)
    _stale("activity", expected_version, row.version, _activity_view(row).form(), None)
    row.removed = True
    _touch(row)
    session.add(row)
    audit.record(session, actor, "careplan.activity.remove", patient_id=pid, object_type="care_plan_activity",
                 object_id=row.id, detail={"plan": str(plan.id), "version": row.version})


# ---------------------------------------------------------------- the patient's tasks


def tick_task(session: Session, actor: Actor | None, *, activity_id: Any, done: bool,
              patient_id: Any = None) -> ActivityView:
    """The patient ticks off a task of their own active plan (`done` true: done now) or unticks it.
    Ticking a task already ticked keeps its first date."""
    what = "careplan.task.tick" if done is True else "careplan.task.untick"
    if patient_id is None:
        patient_id = _own_pid(session, actor, what)
    pid = _authorized(session, actor, Action.CAREPLAN_TASK_OWN, patient_id, what)
    assert actor is not None
    row, plan = _activity(session, pid, activity_id)
    if row.kind != TASK:
        raise CarePlanNotFound("task")
    _writable(plan)
    if done is True and row.done_at is None:
        row.done_at, row.done_by = utcnow(), actor.user_id
    elif done is not True:
        row.done_at, row.done_by = None, None
    row.updated_at = utcnow()
    session.add(row)
    audit.record(session, actor, what, patient_id=pid, object_type="care_plan_activity", object_id=row.id,
                 detail={"plan": str(plan.id)})
    return _activity_view(row)


# ---------------------------------------------------------------- for other areas (no policy: callers authorize and audit)


def goals_for(session: Session, patient_id: uuid.UUID) -> dict[str, Goal]:
    """The target each vital has in the patient's active plans, by vital key (systolic, diastolic,
    weight …): the vitals trend's goal line. A goal in progress wins over an achieved one (kept as
    the level to stay at), and a newer goal over an older one; goals not achieved are left out.
    Two statements; one target and one due date decrypted per goal."""
    g, p = CarePlanGoal, CarePlan
    rows = session.exec(select(g).join(p, p.id == g.plan_id)  # type: ignore[arg-type]
                        .where(g.patient_id == patient_id, g.measure != "", p.status == ACTIVE,
                               g.status.in_((IN_PROGRESS, ACHIEVED)))  # type: ignore[attr-defined]
                        ).all()
    out: dict[str, Goal] = {}
    for goal in sorted(rows, key=lambda r: (r.status == IN_PROGRESS, r.created_at)):  # the last one wins
        _comparator, bounds = check.bounds_of(goal.target or {})
        for key, bound in bounds.items():
            out[key] = Goal(high=bound.high, low=bound.low, due=goal.due)
    return out


def timeline_items(session: Session, patient_id: uuid.UUID, *, limit: int) -> Any:
    """The newest `limit` care-plan events (a plan started, a goal achieved, a progress update) and how
    many there are. One statement per kind over plain moments; titles, goals and authors are
    decrypted only for the events kept (``timeline.dto``: the paged source contract)."""
    from patient_portal.domain.timeline.dto import Event, aware, newest

    link = f"/chart/{patient_id}/careplan"
    t, nt = CarePlan.__tablename__, CarePlanNote.__tablename__
    plans = {row_id: (title, problem, created) for row_id, title, problem, created in session.exec(select(
        CarePlan.id, CarePlan.title, CarePlan.problem, CarePlan.created_at).where(
        CarePlan.patient_id == patient_id)).all()}
    goals = {g.id: g for g in session.exec(select(CarePlanGoal).where(CarePlanGoal.patient_id == patient_id)).all()}
    notes = session.exec(select(CarePlanNote.id, CarePlanNote.goal_id, CarePlanNote.author_name,
                                CarePlanNote.created_at).where(CarePlanNote.patient_id == patient_id)).all()
    cache: dict[Any, Any] = {}

    def title(plan_id: uuid.UUID) -> str:
        if plan_id not in plans:
            return ""
        if ("plan", plan_id) not in cache:
            cache[("plan", plan_id)] = decrypt_value("str", plans[plan_id][0], t, "title", plan_id)
        return cache[("plan", plan_id)]

    def goal(goal_id: uuid.UUID | None) -> str:
        g = goals.get(goal_id) if goal_id is not None else None
        if g is None:
            return "goal"
        if "units" not in cache:
            cache["units"] = _units(session)
        return goal_words(g.measure, *check.bounds_of(g.target or {}), cache["units"].get(g.measure, ""),
                          g.description)

    def started(plan_id: uuid.UUID) -> tuple[str, str]:
        coding = _coding(decrypt_value("json", plans[plan_id][1], t, "problem", plan_id))
        return "Care plan started: " + title(plan_id), f"For {coding.display}" if coding else ""

    def update(row_id: uuid.UUID, goal_id: uuid.UUID, author: str) -> tuple[str, str]:
        return ("Progress update: " + goal(goal_id),
                "By " + (decrypt_value("str", author, nt, "author_name", row_id) or "clinician"))

    events = [Event(aware(created), "careplans", str(row_id), lambda row_id=row_id: started(row_id), link)
              for row_id, (_, _, created) in plans.items()]
    events += [Event(aware(g.status_at), "careplans", f"{gid}:achieved",
                     lambda g=g: ("Goal achieved: " + goal(g.id), title(g.plan_id)), link)
               for gid, g in goals.items() if g.status == ACHIEVED and g.status_at is not None]
    events += [Event(aware(created), "careplans", str(row_id),
                     lambda row_id=row_id, goal_id=goal_id, author=author: update(row_id, goal_id, author), link)
               for row_id, goal_id, author, created in notes]
    return newest(events, limit)
