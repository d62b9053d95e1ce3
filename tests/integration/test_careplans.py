"""Care plans at the service layer (issue 12): a care-team doctor starts a plan for a problem on the
list, sets goals on the patient's readings (checked against the vitals' plausible ranges) and
activities, writes progress updates; progress is computed from the latest reading; the patient reads
their own plan and ticks tasks off (and back); a stale edit is refused with what changed; closed
plans stay as they were; staff, strangers, admins writing and other patients' ids are refused; the
vitals trend carries the goal line; the timeline shows plan events; every read and write is audited
with its purpose and nothing of the plan is plaintext at rest. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text

from patient_portal.core.access import AccessDenied, Role
from patient_portal.core.db import get_engine, unit_of_work
from patient_portal.domain.audit_log.dto import phrase
from patient_portal.domain.audit_log.service import own_access_log
from patient_portal.domain.careplans import service as plans
from patient_portal.domain.careplans.models import CarePlanGoal
from patient_portal.domain.history import service as history
from patient_portal.domain.observations import service as vitals
from patient_portal.domain.timeline import service as timeline
from tests.integration.patients_support import (
    ADMIN,
    DOCTOR,
    STAFF,
    actor,
    call,
    draft,
    events,
    put_on_care_team,
    register,
)

IN_60_DAYS = (date.today() + timedelta(days=60)).isoformat()
BP_GOAL = {"measure": "blood_pressure", "comparator": "below", "target": "130/80", "due": IN_60_DAYS}
WALK = {"text": "Walk 30 minutes a day", "task": False}
HOME_BP = {"text": "Check your blood pressure at home twice a week", "task": True}


def _now(minutes: int = 0) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes)).isoformat()


@pytest.fixture
def clinic(db):
    from patient_portal.domain.codes import service as codes

    codes.load_small()
    elena = register().patient_id
    omar = register(draft(given_name="Omar", family_name="Haddad", date_of_birth="1985-02-11",
                          email="omar@example.com", phone_mobile="+1 617 555 0199")).patient_id
    doctor = replace(actor(DOCTOR), display_name="Dr. Ada")
    colleague, outsider = replace(actor(DOCTOR), display_name="Dr. Cole"), actor(DOCTOR)
    for who in (doctor, colleague):
        put_on_care_team(who, elena)
    put_on_care_team(outsider, omar)
    hypertension = call(history.save_item, doctor, patient_id=elena, kind="conditions",
                        values={"description": "Essential (primary) hypertension", "code": "I10",
                                "code_system": "ICD-10", "status": "active"})
    return {"elena": elena, "omar": omar, "doctor": doctor, "colleague": colleague, "outsider": outsider,
            "patient": actor(Role.PATIENT, elena), "omar_patient": actor(Role.PATIENT, omar),
            "staff": actor(STAFF), "admin": actor(ADMIN), "hypertension": hypertension["id"]}


def _plan(c, **values):
    return call(plans.create_plan, c["doctor"], patient_id=c["elena"],
                values={"title": "Blood pressure plan", "condition_id": c["hypertension"], **values})


def _full(c):
    """A plan with the BP goal, an instruction and a patient task."""
    plan = _plan(c)
    goal = call(plans.add_goal, c["doctor"], patient_id=c["elena"], plan_id=plan.id, values=BP_GOAL)
    walk = call(plans.add_activity, c["doctor"], patient_id=c["elena"], plan_id=plan.id, values=WALK)
    task = call(plans.add_activity, c["doctor"], patient_id=c["elena"], plan_id=plan.id, values=HOME_BP)
    return plan, goal, walk, task


def _board(c, who=None):
    return call(plans.board, who or c["doctor"], patient_id=c["elena"])


# ---------------------------------------------------------------- the doctor's plan


def test_a_doctor_starts_a_plan_for_a_problem_with_a_goal_and_activities(clinic):
    c = clinic
    plan, goal, walk, task = _full(c)
    assert plan.status == "active" and plan.author_name == "Dr. Ada" and plan.can_write
    assert plan.problem.code == "I10" and plan.problem.display == "Essential (primary) hypertension"
    assert goal.words == "Blood pressure below 130/80 mmHg" and goal.due == date.fromisoformat(IN_60_DAYS)
    assert goal.status == "in_progress" and goal.bounds["systolic"].high == Decimal("130")
    assert not walk.task and task.task and task.done_at is None

    board = _board(c)
    shown, = board.plans
    assert [g.words for g in shown.goals] == ["Blood pressure below 130/80 mmHg"]
    assert [a.text for a in shown.activities] == [WALK["text"], HOME_BP["text"]]
    assert board.can_write and [p.coding.code for p in board.problems][-1] == "I10"
    assert [m.key for m in board.measures] == ["blood_pressure", "weight", "bmi", "glucose", "heart_rate"]
    assert board.measures[0].ranges == ((40, 300), (20, 200))

    for what in ("careplan.create", "careplan.goal.create", "careplan.activity.create", "careplan.list"):
        event = events(what)[0]
        assert event.outcome == "success" and event.patient_id == c["elena"]
        assert event.basis == "care_team" and event.purpose == "treatment"
        assert "Walk" not in str(event.detail) and "Blood pressure" not in str(event.detail)
    assert events("careplan.goal.create")[0].detail["measure"] == "blood_pressure"
    assert events("careplan.create")[0].detail == {"problem": "I10"}


def test_goals_in_words_between_and_above_and_a_plan_without_a_problem(clinic):
    c = clinic
    plan = _plan(c, title="Diabetes plan", condition_id="")
    assert plan.problem is None and plan.condition_id is None
    weight = call(plans.add_goal, c["doctor"], patient_id=c["elena"], plan_id=plan.id,
                  values={"measure": "weight", "comparator": "between", "target": "60", "target_high": "68.25",
                          "due": IN_60_DAYS, "description": "slowly"})
    assert weight.words == "Weight between 60 and 68.3 kg: slowly"  # rounded to the vital's decimals
    words = call(plans.add_goal, c["doctor"], patient_id=c["elena"], plan_id=plan.id,
                 values={"measure": "", "description": "Stop smoking", "due": IN_60_DAYS})
    assert words.words == "Stop smoking" and words.progress is None
    hr = call(plans.add_goal, c["doctor"], patient_id=c["elena"], plan_id=plan.id,
              values={"measure": "heart_rate", "comparator": "above", "target": "50", "due": IN_60_DAYS})
    assert hr.words == "Heart rate above 50 beats/min"


def test_bad_input_is_named_field_by_field(clinic):
    c = clinic
    with pytest.raises(plans.CarePlanInvalid) as empty:
        _plan(c, title="  ")
    assert empty.value.errors == {"title": "Enter a title for the plan."}
    with pytest.raises(plans.CarePlanInvalid) as problem:  # Omar's condition or none at all: not on her list
        _plan(c, condition_id="00000000-0000-0000-0000-000000000000")
    assert "problem list" in problem.value.errors["condition_id"]
    plan = _plan(c)
    yesterday = (date.today() - timedelta(days=2)).isoformat()

    def refused(**values):
        with pytest.raises(plans.CarePlanInvalid) as bad:
            call(plans.add_goal, c["doctor"], patient_id=c["elena"], plan_id=plan.id, values={**BP_GOAL, **values})
        return bad.value.errors

    assert refused(measure="cholesterol_mood")["measure"].startswith("Choose a measure from the list")
    assert refused(target="400/20")["target"] == "The upper (systolic) target must be between 40 and 300 mmHg."
    assert refused(target="120/130")["target"].startswith("The lower (diastolic) number must be below")
    assert refused(target="130")["target"] == "Enter the blood pressure target as two numbers, such as 130/80."
    assert refused(due=yesterday)["due"] == "That date is in the past. Choose today or a later date."
    assert refused(due="2026-02-31")["due"].startswith("Enter a real date")
    assert refused(due="")["due"] == "Enter the date to reach this goal by."
    assert refused(comparator="around")["comparator"] == "Choose below, above or between."
    assert refused(measure="weight", target="0")["target"] == "The target must be between 0.3 and 500 kg."
    assert refused(measure="glucose", target="lots")["target"] == "Enter the blood glucose target as a number."
    assert refused(comparator="between", target="130/85", target_high="120/80")["target_high"] == \
        "The upper end must be above the lower end."
    assert refused(measure="", description=" ")["description"] == "Describe the goal, or choose a measure."
    with pytest.raises(plans.CarePlanInvalid) as activity:
        call(plans.add_activity, c["doctor"], patient_id=c["elena"], plan_id=plan.id, values={"text": ""})
    assert "Walk 30 minutes" in activity.value.errors["text"]
    assert events("careplan.goal.create") == [] and events("careplan.activity.create") == []


# ---------------------------------------------------------------- progress


def test_progress_comes_from_the_latest_reading_and_the_doctors_notes(clinic):
    c = clinic
    plan, goal, _walk, _task = _full(c)
    assert _board(c).plans[0].goals[0].progress is None  # no reading yet
    call(vitals.record_vitals, c["doctor"], patient_id=c["elena"], values={"systolic": "136", "diastolic": "86"},
         effective_at=_now(60))
    progress = _board(c).plans[0].goals[0].progress
    assert progress.values == (Decimal("136"), Decimal("86")) and not progress.on_target and not progress.by_patient
    call(vitals.report_reading, c["patient"], patient_id=c["elena"], values={"systolic": "128", "diastolic": "78"},
         effective_at=_now(5))
    progress = _board(c).plans[0].goals[0].progress
    assert progress.values == (Decimal("128"), Decimal("78")) and progress.on_target and progress.by_patient
    assert progress.unit_label == "mmHg"
    call(vitals.report_reading, c["patient"], patient_id=c["elena"], values={"systolic": "128", "diastolic": "82"},
         effective_at=_now(1))
    assert not _board(c).plans[0].goals[0].progress.on_target  # both numbers must be below

    note = call(plans.add_note, c["colleague"], patient_id=c["elena"], goal_id=goal.id,
                text="Home readings are coming down; keep walking.")
    assert note.author_name == "Dr. Cole"
    shown = _board(c).plans[0].goals[0]
    assert [n.text for n in shown.notes] == ["Home readings are coming down; keep walking."]
    with pytest.raises(plans.CarePlanInvalid) as empty:
        call(plans.add_note, c["doctor"], patient_id=c["elena"], goal_id=goal.id, text="  ")
    assert empty.value.errors == {"text": "Write the progress update."}
    assert "keep walking" not in str(events("careplan.note.create")[0].detail)


def test_goal_status_and_the_patients_tasks(clinic):
    c = clinic
    plan, goal, walk, task = _full(c)
    achieved = call(plans.set_goal_status, c["doctor"], patient_id=c["elena"], goal_id=goal.id, status="achieved",
                    expected_version=goal.version)
    assert achieved.status == "achieved" and achieved.status_at is not None and achieved.version == goal.version + 1

    todo = call(plans.open_tasks, c["patient"])
    assert [(t.text, t.plan_title) for t in todo] == [(HOME_BP["text"], "Blood pressure plan")]
    ticked = call(plans.tick_task, c["patient"], activity_id=task.id, done=True)
    assert ticked.done_at is not None and ticked.version == task.version  # a tick is not the doctor's edit
    again = call(plans.tick_task, c["patient"], activity_id=task.id, done=True)
    assert again.done_at == ticked.done_at  # ticking twice keeps the first date
    assert call(plans.open_tasks, c["patient"]) == []
    assert call(plans.tick_task, c["patient"], activity_id=task.id, done=False).done_at is None
    assert len(call(plans.open_tasks, c["patient"])) == 1
    with pytest.raises(plans.CarePlanNotFound):  # an instruction is not ticked off
        call(plans.tick_task, c["patient"], activity_id=walk.id, done=True)
    tick = events("careplan.task.tick")[0]
    assert tick.basis == "self" and tick.purpose == "patient_request" and tick.patient_id == c["elena"]
    assert len(events("careplan.task.tick")) == 2 and len(events("careplan.task.untick")) == 1

    own, = call(plans.own_plans, c["patient"])
    assert own.title == "Blood pressure plan" and not own.can_write and own.goals[0].status == "achieved"
    log = [row.what for row in call(own_access_log, c["patient"]).rows]  # what others did: the doctor
    assert log[:2] == ["Marked how a goal of your care plan went", "Added an activity to your care plan"]
    assert phrase("careplan.list", {"header": ["header"]}) == "Opened your record and looked at your care plan"
    assert phrase("careplan.task.tick") == "Ticked off a task of your care plan"
    assert phrase("careplan.goal.create", outcome="denied") == "Tried to add a goal to your care plan (refused)"


def test_removing_an_activity_and_closing_a_plan(clinic):
    c = clinic
    plan, goal, walk, task = _full(c)
    call(plans.remove_activity, c["doctor"], patient_id=c["elena"], activity_id=walk.id, expected_version=1)
    assert [a.text for a in _board(c).plans[0].activities] == [HOME_BP["text"]]
    with pytest.raises(plans.CarePlanNotFound):
        call(plans.update_activity, c["doctor"], patient_id=c["elena"], activity_id=walk.id, values=WALK,
             expected_version=2)

    done = call(plans.close_plan, c["doctor"], patient_id=c["elena"], plan_id=plan.id, status="completed",
                expected_version=plan.version)
    assert done.status == "completed" and not done.can_write and done.ended_at is not None
    for fn, kwargs in [(plans.add_goal, {"plan_id": plan.id, "values": BP_GOAL}),
                       (plans.add_activity, {"plan_id": plan.id, "values": WALK}),
                       (plans.add_note, {"goal_id": goal.id, "text": "Late note"}),
                       (plans.update_plan, {"plan_id": plan.id, "values": {"title": "New"}, "expected_version": 2}),
                       (plans.close_plan, {"plan_id": plan.id, "status": "cancelled", "expected_version": 2})]:
        with pytest.raises(plans.PlanClosed) as closed:
            call(fn, c["doctor"], patient_id=c["elena"], **kwargs)
        assert "completed" in str(closed.value)
    with pytest.raises(plans.PlanClosed):
        call(plans.tick_task, c["patient"], activity_id=task.id, done=True)
    assert call(plans.own_plans, c["patient"]) == [] and call(plans.open_tasks, c["patient"]) == []
    assert _board(c).plans[0].status == "completed"  # the doctor still reads it
    assert events("careplan.complete")[0].detail["status"] == "completed"


# ---------------------------------------------------------------- concurrency


def test_a_stale_edit_is_refused_naming_what_changed(clinic):
    c = clinic
    plan, goal, walk, _task = _full(c)
    opened = goal.form()
    assert opened == {"measure": "blood_pressure", "description": "", "comparator": "below", "target": "130/80",
                      "target_high": "", "due": IN_60_DAYS}
    saved = call(plans.update_goal, c["colleague"], patient_id=c["elena"], goal_id=goal.id,  # another doctor
                 values={**opened, "target": "135/85"}, expected_version=goal.version)
    assert saved.version == goal.version + 1 and saved.words == "Blood pressure below 135/85 mmHg"
    with pytest.raises(plans.CarePlanConflict) as stale:
        call(plans.update_goal, c["doctor"], patient_id=c["elena"], goal_id=goal.id,
             values={**opened, "description": "by summer"}, expected_version=goal.version, base=opened)
    assert stale.value.fields == ["target"] and stale.value.version == saved.version
    assert "changed since you opened it: target" in str(stale.value) and stale.value.current["target"] == "135/85"
    with pytest.raises(plans.CarePlanConflict):  # marking it achieved from the old view too
        call(plans.set_goal_status, c["doctor"], patient_id=c["elena"], goal_id=goal.id, status="achieved",
             expected_version=goal.version)

    call(plans.update_plan, c["colleague"], patient_id=c["elena"], plan_id=plan.id,
         values={"title": "BP and salt", "condition_id": ""}, expected_version=plan.version)
    with pytest.raises(plans.CarePlanConflict) as plan_stale:
        call(plans.update_plan, c["doctor"], patient_id=c["elena"], plan_id=plan.id,
             values={"title": "Mine", "condition_id": str(c["hypertension"])}, expected_version=plan.version,
             base=plan.form())
    assert plan_stale.value.fields == ["title", "problem"]
    call(plans.update_activity, c["colleague"], patient_id=c["elena"], activity_id=walk.id,
         values={"text": "Walk 45 minutes a day", "task": True}, expected_version=walk.version)
    with pytest.raises(plans.CarePlanConflict) as activity_stale:
        call(plans.update_activity, c["doctor"], patient_id=c["elena"], activity_id=walk.id,
             values={"text": "Swim"}, expected_version=walk.version, base=walk.form())
    assert activity_stale.value.fields == ["text", "patient task"]
    shown = _board(c).plans[0]
    assert shown.title == "BP and salt" and shown.activities[0].text == "Walk 45 minutes a day"

    # a due date changed to the past is refused; one left as it was may be past (the goal is late)
    with pytest.raises(plans.CarePlanInvalid) as past:
        call(plans.update_goal, c["doctor"], patient_id=c["elena"], goal_id=goal.id,
             values={**saved.form(), "due": (date.today() - timedelta(days=1)).isoformat()},
             expected_version=saved.version)
    assert "past" in past.value.errors["due"]
    late = (date.today() - timedelta(days=10)).isoformat()
    with unit_of_work() as s:
        row = s.get(CarePlanGoal, goal.id)
        row.due = date.fromisoformat(late)
        s.add(row)
    kept = call(plans.update_goal, c["doctor"], patient_id=c["elena"], goal_id=goal.id,
                values={**saved.form(), "due": late, "description": "by summer"}, expected_version=saved.version)
    assert kept.words == "Blood pressure below 135/85 mmHg: by summer"
    assert events("careplan.goal.update")[-1].detail["fields_changed"] == ["description"]


# ---------------------------------------------------------------- who is refused


def _writes(c, plan, goal, activity):
    """Every write, as (function, keyword arguments) for Elena's plan."""
    return [
        (plans.create_plan, {"values": {"title": "Mine"}}),
        (plans.update_plan, {"plan_id": plan.id, "values": {"title": "Mine"}, "expected_version": plan.version}),
        (plans.close_plan, {"plan_id": plan.id, "status": "cancelled", "expected_version": plan.version}),
        (plans.add_goal, {"plan_id": plan.id, "values": BP_GOAL}),
        (plans.update_goal, {"goal_id": goal.id, "values": BP_GOAL, "expected_version": goal.version}),
        (plans.set_goal_status, {"goal_id": goal.id, "status": "achieved", "expected_version": goal.version}),
        (plans.add_note, {"goal_id": goal.id, "text": "x"}),
        (plans.add_activity, {"plan_id": plan.id, "values": WALK}),
        (plans.update_activity, {"activity_id": activity.id, "values": WALK, "expected_version": activity.version}),
        (plans.remove_activity, {"activity_id": activity.id, "expected_version": activity.version}),
    ]


def test_staff_are_refused_everything_and_see_nothing(clinic):
    c = clinic
    plan, goal, walk, task = _full(c)
    staff, pid = c["staff"], c["elena"]
    attempts = [(plans.board, {}), (plans.open_page, {}), *_writes(c, plan, goal, walk),
                (plans.tick_task, {"activity_id": task.id, "done": True})]
    for fn, kwargs in attempts:
        with pytest.raises(AccessDenied):
            call(fn, staff, patient_id=pid, **kwargs)
    denied = [e for e in events() if e.outcome == "denied"]
    assert len(denied) == len(attempts) and all(e.actor_id == staff.user_id for e in denied)
    assert {e.action for e in denied} >= {"careplan.list", "careplan.create", "careplan.task.tick"}


def test_a_doctor_off_the_care_team_is_refused_with_either_patients_ids(clinic):
    c = clinic
    plan, goal, walk, task = _full(c)
    outsider = c["outsider"]  # on Omar's care team, not Elena's
    for fn, kwargs in [(plans.board, {}), *_writes(c, plan, goal, walk)]:
        with pytest.raises(AccessDenied):
            call(fn, outsider, patient_id=c["elena"], **kwargs)
    # Omar's id (which they reach) with Elena's plan, goal or activity: not found, nothing written
    for fn, kwargs in _writes(c, plan, goal, walk)[1:]:
        with pytest.raises(plans.CarePlanNotFound):
            call(fn, outsider, patient_id=c["omar"], **kwargs)
    with pytest.raises(plans.CarePlanNotFound):
        call(plans.add_goal, c["doctor"], patient_id=c["elena"], plan_id="not-an-id", values=BP_GOAL)
    assert call(plans.board, outsider, patient_id=c["omar"]).plans == []
    assert _board(c).plans[0].title == "Blood pressure plan" and len(_board(c).plans[0].goals) == 1


def test_admins_read_for_operations_and_never_write(clinic):
    c = clinic
    plan, goal, walk, task = _full(c)
    admin = c["admin"]
    board = call(plans.board, admin, patient_id=c["elena"])
    assert board.plans[0].goals[0].words == "Blood pressure below 130/80 mmHg"
    assert not board.can_write and not board.plans[0].can_write and board.problems == [] and board.measures == []
    read = events("careplan.list")[-1]
    assert read.basis == "role" and read.purpose == "operations"
    for fn, kwargs in [*_writes(c, plan, goal, walk), (plans.tick_task, {"activity_id": task.id, "done": True})]:
        with pytest.raises(AccessDenied):
            call(fn, admin, patient_id=c["elena"], **kwargs)
    from patient_portal.domain.patients.common import PatientNotFound

    with pytest.raises(PatientNotFound):  # an admin reaches every id: one naming no record is not found
        call(plans.board, admin, patient_id="00000000-0000-0000-0000-000000000000")


def test_the_patient_reads_and_ticks_their_own_plan_only(clinic):
    c = clinic
    plan, goal, walk, task = _full(c)
    patient = c["patient"]
    own, = call(plans.own_plans, patient)
    assert [a.text for a in own.activities] == [WALK["text"], HOME_BP["text"]] and not own.can_write
    assert events("careplan.list")[-1].purpose == "patient_request"
    for fn, kwargs in _writes(c, plan, goal, walk):
        with pytest.raises(AccessDenied):
            call(fn, patient, patient_id=c["elena"], **kwargs)
    assert call(plans.board, patient, patient_id=c["elena"]).can_write is False  # their own, read only
    with pytest.raises(AccessDenied):
        call(plans.board, patient, patient_id=c["omar"])
    omar = c["omar_patient"]
    assert call(plans.own_plans, omar) == [] and call(plans.open_tasks, omar) == []
    with pytest.raises(plans.CarePlanNotFound):  # Elena's task from Omar's account: not his
        call(plans.tick_task, omar, activity_id=task.id, done=True)
    with pytest.raises(AccessDenied):  # naming Elena's record outright
        call(plans.tick_task, omar, patient_id=c["elena"], activity_id=task.id, done=True)
    with pytest.raises(AccessDenied):  # a doctor does not tick the patient's tasks
        call(plans.tick_task, c["doctor"], patient_id=c["elena"], activity_id=task.id, done=True)
    assert call(plans.open_tasks, patient)[0].done_at is None
    from patient_portal.domain.patients.common import PatientNotFound

    with pytest.raises(PatientNotFound):  # an account with no record linked
        call(plans.own_plans, actor(Role.PATIENT, None))


# ---------------------------------------------------------------- other areas: the goal line, the timeline


def test_the_vitals_trend_carries_the_active_goal_as_its_goal_line(clinic):
    c = clinic
    plan, goal, _walk, _task = _full(c)
    call(vitals.record_vitals, c["doctor"], patient_id=c["elena"], values={"systolic": "136", "diastolic": "86",
                                                                          "weight": "70"}, effective_at=_now(60))
    trend = call(vitals.trend, c["doctor"], patient_id=c["elena"], vital="blood_pressure")
    systolic, diastolic = trend.series
    assert systolic.goal.high == Decimal("130") and diastolic.goal.high == Decimal("80")
    assert systolic.goal.low is None and systolic.goal.due == date.fromisoformat(IN_60_DAYS)
    overview = call(vitals.overview, c["patient"], patient_id=c["elena"])
    weight = next(t for t in overview.trends if t.key == "weight")
    assert weight.series[0].goal is None
    assert events("observation.read")[-1].detail["goals"] == ["diastolic", "systolic"]
    # an empty range still draws the line; a cancelled plan draws none
    empty = call(vitals.trend, c["doctor"], patient_id=c["elena"], vital="blood_pressure", date_to="2001-01-01")
    assert empty.empty and empty.series[0].goal.high == Decimal("130")
    call(plans.close_plan, c["doctor"], patient_id=c["elena"], plan_id=plan.id, status="cancelled",
         expected_version=plan.version)
    assert call(vitals.trend, c["doctor"], patient_id=c["elena"], vital="blood_pressure").series[0].goal is None
    assert plans.goals_for.__doc__  # the contract other areas read


def test_the_timeline_shows_plans_started_goals_achieved_and_progress_updates(clinic):
    c = clinic
    plan, goal, _walk, _task = _full(c)
    call(plans.add_note, c["doctor"], patient_id=c["elena"], goal_id=goal.id, text="Better at home.")
    call(plans.set_goal_status, c["doctor"], patient_id=c["elena"], goal_id=goal.id, status="achieved",
         expected_version=goal.version)
    page = call(timeline.timeline, c["doctor"], patient_id=c["elena"], kinds=["careplans"])
    assert [(i.title, i.detail) for i in page.items] == [
        ("Goal achieved: Blood pressure below 130/80 mmHg", "Blood pressure plan"),
        ("Progress update: Blood pressure below 130/80 mmHg", "By Dr. Ada"),
        ("Care plan started: Blood pressure plan", "For Essential (primary) hypertension"),
    ]
    assert all(i.link == f"/chart/{c['elena']}/careplan" for i in page.items)
    assert "careplans" in page.available and timeline.LABELS["careplans"] == "Care plans"


# ---------------------------------------------------------------- at rest


_UUID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}")


def test_plans_goals_activities_and_notes_are_ciphertext_at_rest(clinic):
    c = clinic
    plan, goal, walk, task = _full(c)
    call(plans.add_note, c["doctor"], patient_id=c["elena"], goal_id=goal.id, text="Readings improving nicely.")
    secrets = ["Blood pressure plan", "Essential (primary) hypertension", "130", "Walk 30 minutes",
               "twice a week", "Readings improving", "Dr. Ada", IN_60_DAYS]
    with get_engine().connect() as conn:
        cells = [str(v) for table in ("care_plan", "care_plan_goal", "care_plan_activity", "care_plan_note")
                 for row in conn.execute(text(f'SELECT * FROM "{table}"')).fetchall() for v in row]
    assert "blood_pressure" in cells  # the rows are there (the measure is a plain key)
    assert any(c.startswith("v1.") for c in cells)  # and the secrets are ciphertext
    # every cell but ciphertext and ids (whose random characters may spell "130" by chance)
    plain = "\n".join(c for c in cells if not c.startswith("v1.") and not _UUID.fullmatch(c))
    assert [s for s in secrets if s.lower() in plain.lower()] == []


# ---------------------------------------------------------------- the demo clinic


def test_the_demo_clinic_gives_maria_garcia_and_james_okafor_a_plan(db):
    from sqlmodel import select

    from patient_portal.domain.careplans.models import CarePlan
    from patient_portal.domain.identity.sessions import actor_for
    from patient_portal.seed import seed_demo
    from tests.integration.identity_support import user

    seed_demo(patients=3)
    seed_demo(patients=3)  # idempotent: nothing added the second time
    patient = actor_for(user("patient@demo.clinic"))
    own, = call(plans.own_plans, patient)
    assert own.title == "Blood pressure plan" and own.problem.code == "I10" and own.author_name == "Dr. Dana Doctor"
    weight = own.goals[0]
    assert weight.words == "Weight below 70 kg" and weight.progress.values == (Decimal("71.4"),)
    assert not weight.progress.on_target and weight.notes[0].text.startswith("Down about 3 kg")
    assert [t.text for t in call(plans.open_tasks, patient)] == [
        "Bring your home blood pressure monitor to your next visit"]
    assert "blood_pressure" not in {g.measure for g in own.goals}  # the browser test sets that one
    internist = actor_for(user("marcus.bell@demo.clinic"))
    with unit_of_work() as s:  # his plan is the internist's
        okafor_id = s.exec(select(CarePlan.patient_id).where(CarePlan.author_id == internist.user_id)).one()
    okafor, = call(plans.board, internist, patient_id=okafor_id).plans
    assert okafor.goals[0].words == "Blood glucose between 80 and 130 mg/dL: before breakfast"
