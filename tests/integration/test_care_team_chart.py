"""Care teams from the chart (issue 10, item 9a): staff and admins remove a doctor (and add one);
the removed doctor can no longer open the chart or find the patient; audited; others refused.

Service level first, then the chart's handlers as a signed-in browser calls them.
"""

from __future__ import annotations

import uuid

import pytest
from reflex.state import State
from reflex_base import constants

from patient_portal.core.access import AccessDenied, Actor, CareTeamMember, Role, on_care_team
from patient_portal.core.db import unit_of_work
from patient_portal.domain.identity import care_team
from patient_portal.domain.identity.sessions import actor_for
from patient_portal.domain.patients.service import get_chart, search_patients
from patient_portal.state.chart import ChartState
from tests.integration.identity_support import client, events, login, make_user
from tests.integration.patients_support import call, register


@pytest.fixture
def world(db):
    doctor = make_user("dr.lee@clinic.org", "doctor")
    other = make_user("dr.ross@clinic.org", "doctor")
    pid = register().patient_id
    call(care_team.assign_doctor, actor_for(make_user("desk@clinic.org", "staff")), patient_id=pid,
         doctor_id=doctor.id)
    return {"pid": pid, "doctor": actor_for(doctor), "other": actor_for(other)}


def _on_team(doctor: Actor, pid) -> bool:
    with unit_of_work() as s:
        return on_care_team(s, doctor.user_id, pid)


@pytest.mark.parametrize("role", ["staff", "admin"])
def test_a_removed_doctor_can_no_longer_open_the_chart(world, role):
    pid, doctor = world["pid"], world["doctor"]
    assert call(get_chart, doctor, pid)["header"]["allergies"] == ["Latex"]
    assert [r["id"] for r in call(search_patients, doctor, "Marsh")["rows"]] == [str(pid)]
    who = actor_for(make_user(f"{role}2@clinic.org", role))
    assert call(care_team.unassign_doctor, who, patient_id=pid, doctor_id=doctor.user_id) is True
    assert not _on_team(doctor, pid)
    with pytest.raises(AccessDenied):
        call(get_chart, doctor, pid)
    assert call(search_patients, doctor, "Marsh")["rows"] == []
    [event] = events("careteam.unassign")
    assert (event.outcome, event.patient_id, event.object_id, event.actor_id) == (
        "success", pid, str(doctor.user_id), who.user_id)
    assert call(care_team.unassign_doctor, who, patient_id=pid, doctor_id=doctor.user_id) is False  # already off
    assert len(events("careteam.unassign")) == 1


@pytest.mark.parametrize("role", [Role.DOCTOR, Role.PATIENT])
def test_doctors_and_patients_cannot_remove_anyone(world, role):
    pid, doctor = world["pid"], world["doctor"]
    who = doctor if role == Role.DOCTOR else Actor(user_id=uuid.uuid4(), role=Role.PATIENT, patient_id=pid)
    with pytest.raises(AccessDenied):
        call(care_team.unassign_doctor, who, patient_id=pid, doctor_id=doctor.user_id)
    assert _on_team(doctor, pid)
    assert [(e.outcome, e.patient_id) for e in events("careteam.unassign")] == [("denied", pid)]


def test_bad_ids_are_refused_with_a_message(world):
    staff = actor_for(make_user("s@clinic.org", "staff"))
    for pid, did in (("not-an-id", world["doctor"].user_id), (world["pid"], "nope"), (world["pid"], "")):
        with pytest.raises(care_team.CareTeamError):
            call(care_team.unassign_doctor, staff, patient_id=pid, doctor_id=did)
    assert _on_team(world["doctor"], world["pid"])


def test_the_chart_view_lists_the_team_and_the_doctors_who_could_join(world):
    staff = actor_for(make_user("s@clinic.org", "staff"))
    team, choices = call(care_team.manage_view, staff, world["pid"])
    assert [m.email for m in team] == ["dr.lee@clinic.org"] and [d.email for d in choices] == ["dr.ross@clinic.org"]
    with pytest.raises(AccessDenied):
        call(care_team.manage_view, world["doctor"], world["pid"])


# ---------------------------------------------------------------- the chart's handlers, signed in


def _chart_state(email: str, role: str | None, pid):
    """The chart state of a browser tab signed in as `email` (a new account of `role`, unless None)."""
    if role:
        make_user(email, role)
    c = client()
    login(c, email)
    root = State(_reflex_internal_init=True)
    path = f"/chart/{pid}"
    root._update_router_vars({
        constants.RouteVar.HEADERS: {"cookie": f"portal_session={c.cookies.get('portal_session')}",
                                     "origin": "http://localhost:3000"},
        constants.RouteVar.PATH: path, constants.RouteVar.ORIGIN: "http://localhost:3000" + path,
        constants.RouteVar.CLIENT_IP: "127.0.0.1",
    }, {})
    state = root
    for name in ChartState.get_full_name().split(".")[1:]:
        state = state.substates[name]
    return state


async def _handle(state, name: str, *args):
    """Call a handler by name, as the browser does (the event's function on this state)."""
    return await type(state).event_handlers[name].fn(state, *args)


async def test_staff_remove_and_add_doctors_from_the_chart(world):
    pid, doctor = world["pid"], world["doctor"]
    state = _chart_state("front@clinic.org", "staff", pid)
    await _handle(state, "load")
    assert state.status == "ok" and state.manage_team is True
    assert [m["email"] for m in state.team_members] == ["dr.lee@clinic.org"]
    assert [d["email"] for d in state.team_choices] == ["dr.ross@clinic.org"]
    await _handle(state, "remove_from_team", str(doctor.user_id))
    assert state.team_error == "" and state.team_members == [] and not _on_team(doctor, pid)
    assert {d["email"] for d in state.team_choices} == {"dr.lee@clinic.org", "dr.ross@clinic.org"}
    await _handle(state, "remove_from_team", str(doctor.user_id))  # a stale second click
    assert state.team_error == "That doctor was no longer on the care team."
    type(state).event_handlers["set_team_pick"].fn(state, str(world["other"].user_id))
    await _handle(state, "add_to_team")
    assert [m["email"] for m in state.team_members] == ["dr.ross@clinic.org"] and state.team_pick == ""


async def test_a_doctor_sees_no_care_team_controls_and_cannot_remove_through_the_handler(world):
    pid, doctor = world["pid"], world["doctor"]
    with unit_of_work() as s:  # the signed-in doctor below is a second doctor on the team
        second = make_user("dr.kim@clinic.org", "doctor")
        s.add(CareTeamMember(patient_id=pid, user_id=second.id))
    state = _chart_state("dr.kim@clinic.org", None, pid)
    await _handle(state, "load")
    assert state.status == "ok" and state.manage_team is False and state.team_members == []
    await _handle(state, "remove_from_team", str(doctor.user_id))
    assert "permission" in state.team_error and _on_team(doctor, pid)


def test_a_doctor_cannot_be_put_on_the_team_of_a_record_that_does_not_exist(db):
    """Like documents: every patient-scoped use case loads the patient first."""
    import uuid

    from patient_portal.core.access import Role
    from patient_portal.domain.identity import care_team
    from patient_portal.domain.patients.common import PatientNotFound
    from tests.integration.identity_support import make_user
    from tests.integration.patients_support import actor, call

    doctor = make_user("lee@clinic.org", "doctor")
    with pytest.raises(PatientNotFound):
        call(care_team.assign_doctor, actor(Role.STAFF), patient_id=uuid.uuid4(), doctor_id=doctor.id)
