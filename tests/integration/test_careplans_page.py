"""The care-plan screens through their handlers: the doctor's page opens with the header (one audit
event), a plan is started, a goal with a bad target answers beside its field with the focus on it, a
good goal and a patient task are added, a stale goal edit names what changed; the patient sees the
plan in plain words on their record and the task on their home, ticks it off there; the vitals chart
carries the goal line; the front desk is refused and sees nothing; a patient opening their own chart
address is sent to their record."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from reflex_base.event import EventSpec

from patient_portal.domain.careplans import service as plans
from patient_portal.domain.identity.sessions import actor_for
from patient_portal.state.careplans import FORM_ID, NEEDS_ATTENTION, CarePlanState, OwnCarePlanState
from patient_portal.state.chart_header import ChartHeaderState
from patient_portal.state.vitals import VitalsState
from tests.integration.clinic_support import desk_patient, run_handler
from tests.integration.identity_support import events, make_user
from tests.integration.patients_support import call, put_on_care_team
from tests.integration.test_chart_screens import _focuses, _handle, _state

pytestmark = pytest.mark.usefixtures("db")
DUE = (date.today() + timedelta(days=30)).isoformat()


@pytest.fixture
def pid():
    return desk_patient()


async def test_a_doctor_builds_a_plan_and_the_patient_ticks_the_task(pid):
    doctor = make_user("dana@clinic.org", "doctor")
    put_on_care_team(actor_for(doctor), pid)
    state = _state(CarePlanState, "dana@clinic.org", None, f"/chart/{pid}/careplan")
    before = len(events("careplan.list"))
    await _handle(state, "load_chart")
    assert state.status == "ok" and state.can_write and state.plans == []
    assert len(events("careplan.list")) == before + 1 and events("patient.demographics.read") == []
    header = await state.get_state(ChartHeaderState)
    assert header.header_status == "ok" and header.patient["family_name"] == "Marsh"
    assert state.problems[0] == ["none", "None"] and any("J45" in label for _v, label in state.problems)
    assert ["blood_pressure", "Blood pressure (mmHg)"] in state.measures

    run_handler(state, "start_plan")
    answer = await _handle(state, "save")
    assert state.form_errors == {"title": "Enter a title for the plan."} and _focuses(answer, FORM_ID)
    run_handler(state, "set_form", "title", "Blood pressure plan")
    answer = await _handle(state, "save")
    assert "Care plan started." in str(answer) and state.editor == "" and state.plans[0]["title"] == "Blood pressure plan"
    plan_id = state.plans[0]["id"]

    run_handler(state, "start_goal", plan_id)
    assert state.form["measure"] == "blood_pressure" and state.target_label == "Target (mmHg, as 130/80)"
    run_handler(state, "set_form", "target", "400/20")
    run_handler(state, "set_form", "due", DUE)
    answer = await _handle(state, "save")
    assert state.form_errors["target"] == "The upper (systolic) target must be between 40 and 300 mmHg."
    assert state.form_error == NEEDS_ATTENTION and state.form["target"] == "400/20" and _focuses(answer, FORM_ID)
    run_handler(state, "set_form", "target", "130/80")
    await _handle(state, "save")
    goal = state.plans[0]["goals"][0]
    assert goal["words"] == "Blood pressure below 130/80 mmHg" and goal["progress"] == "No reading yet."

    run_handler(state, "start_activity", plan_id)
    run_handler(state, "set_form", "text", "Check your blood pressure at home twice a week")
    run_handler(state, "set_task", True)
    await _handle(state, "save")
    activity = state.plans[0]["activities"][0]
    assert activity["task"] and not activity["done"]

    # another tab saves the goal first: this one is told what changed, and keeps what was typed
    run_handler(state, "edit_goal", plan_id, goal["id"])
    other = _state(CarePlanState, "dana@clinic.org", None, f"/chart/{pid}/careplan")
    await _handle(other, "load_chart")
    run_handler(other, "edit_goal", plan_id, goal["id"])
    run_handler(other, "set_form", "target", "135/85")
    await _handle(other, "save")
    run_handler(state, "set_form", "description", "by summer")
    await _handle(state, "save")
    assert state.conflict == ["target"] and "changed since you opened it" in state.form_error
    assert state.form["description"] == "by summer" and state.editor == "goal_edit"
    await _handle(state, "save")  # saving again keeps what this tab typed, at the new version
    assert state.plans[0]["goals"][0]["words"] == "Blood pressure below 130/80 mmHg: by summer"

    # the patient: their home lists the task; ticked there, their record shows it done
    make_user("elena@example.com", "patient", patient_id=pid)
    home = _state(OwnCarePlanState, "elena@example.com", None, "/patient")
    await _handle(home, "load_tasks")
    assert home.tasks == [{"id": activity["id"], "text": "Check your blood pressure at home twice a week",
                           "plan": "Blood pressure plan"}]
    answer = await _handle(home, "tick", activity["id"], True)
    assert "Task done" in str(answer) and home.tasks == []
    await _handle(home, "load_own")
    own, = home.own_plans
    assert own["tasks"][0]["done"] and own["tasks"][0]["done_text"].startswith("Done ")
    assert own["goals"][0]["status_label"] == "Working on it"
    assert own["goals"][0]["progress"] == "No reading yet. Add one in Your readings."
    await _handle(home, "tick", activity["id"], False)
    assert not home.own_plans[0]["tasks"][0]["done"]

    # a home reading: progress on the doctor's page and the goal line on the vitals chart
    readings = _state(VitalsState, "elena@example.com", None, "/patient/readings")
    await _handle(readings, "load_own")
    run_handler(readings, "open_form")
    run_handler(readings, "set_value", "systolic", "126")
    run_handler(readings, "set_value", "diastolic", "78")
    await _handle(readings, "save")
    chart = readings.charts[0]
    assert chart["goal_a_high"] == 130.0 and chart["goal_b_high"] == 80.0 and chart["goal_a_low"] is None
    assert chart["goal"].startswith("Your goal: below 130/80 mmHg by ")
    await _handle(state, "load_chart")
    progress = state.plans[0]["goals"][0]["progress"]
    assert progress.startswith("Latest: 126/78 mmHg on ") and progress.endswith("(reported by patient) — on target")
    await _handle(state, "set_goal_status", state.plans[0]["goals"][0]["id"], "achieved")
    assert state.plans[0]["goals"][0]["status_label"] == "Achieved" and state.message == "Goal marked achieved."


async def test_the_front_desk_is_refused_and_the_patient_goes_to_their_record(pid):
    staff = _state(CarePlanState, "sam@clinic.org", "staff", f"/chart/{pid}/careplan")
    await _handle(staff, "load_chart")
    assert staff.status == "denied" and staff.plans == [] and staff.problems == []
    header = await staff.get_state(ChartHeaderState)
    assert header.patient == {}
    run_handler(staff, "start_plan")
    assert staff.editor == ""  # nothing to open for someone who may not write
    make_user("elena@example.com", "patient", patient_id=pid)
    own = _state(CarePlanState, "elena@example.com", None, f"/chart/{pid}/careplan")
    answer = await _handle(own, "load_chart")
    assert isinstance(answer, EventSpec) and "/patient/record" in str(answer.args)


async def test_an_admin_reads_and_has_nothing_to_write_with(pid):
    author = actor_for(make_user("dana@clinic.org", "doctor"))
    put_on_care_team(author, pid)
    made = call(plans.create_plan, author, patient_id=pid, values={"title": "Asthma plan"})
    admin = _state(CarePlanState, "alex@clinic.org", "admin", f"/chart/{pid}/careplan")
    await _handle(admin, "load_chart")
    assert admin.status == "ok" and not admin.can_write and admin.plans[0]["title"] == "Asthma plan"
    assert not admin.plans[0]["can_write"] and admin.measures == []
    await _handle(admin, "close_plan", str(made.id), "cancelled")
    assert admin.error == "You do not have permission to do that." and admin.plans[0]["status"] == "active"
