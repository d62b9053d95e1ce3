"""The emergency screens through their handlers: the front desk opens the Emergency page with the
header (one audit event), starts a protocol, ticks a step, sees "Emergency in progress" in the header
and the primary contact's status; closing without a note answers beside the field with the focus on
it, then closes; the emergency information card saves directives and instructions (a power of
attorney without an agent answers beside its field) and a doctor sets the code status, which the
banner then shows; the admin's editor writes a protocol; the acknowledgement page works without a
session, in the contact's language; a patient is refused the Emergency page."""

from __future__ import annotations

import pytest

from patient_portal.core.db import unit_of_work
from patient_portal.domain.emergency.protocols import seed_protocols
from patient_portal.domain.identity.sessions import actor_for
from patient_portal.state.chart_header import ChartHeaderState
from patient_portal.state.emergency import (
    INFO_FORM_ID,
    AckState,
    EmergencyInfoState,
    EmergencyRunState,
    ProtocolEditorState,
    notice_line,
)
from tests.integration.clinic_support import another_patient
from tests.integration.emergency_support import ROSA, TOM
from tests.integration.identity_support import events, make_user
from tests.integration.patients_support import STAFF, actor, call, put_on_care_team, register
from tests.integration.test_chart_screens import _focuses, _handle, _state

pytestmark = pytest.mark.usefixtures("db")


@pytest.fixture
def pid():
    from patient_portal.domain.emergency import service as emergency
    from patient_portal.domain.patients.models import Patient

    record = register(by=actor(STAFF)).patient_id
    with unit_of_work() as s:
        seed_protocols(s)
        version = s.get(Patient, record).version
    call(emergency.update_contacts, actor(STAFF), patient_id=record, contacts=[TOM, ROSA], expected_version=version)
    return record


def _call(state, name: str, *args):
    return type(state).event_handlers[name].fn(state, *args)


async def test_the_front_desk_runs_a_protocol_from_the_emergency_page(pid):
    state = _state(EmergencyRunState, "desk@clinic.org", "staff", f"/chart/{pid}/emergency")
    await _handle(state, "load_chart")
    assert state.status == "ok" and state.can_start and state.active == {}
    assert len(events("emergency.run.list")) == 1 and events("patient.demographics.read") == []
    anaphylaxis = next(p for p, name in state.protocols if name == "Anaphylaxis")
    _call(state, "choose", anaphylaxis)
    assert state.notify_on_start and state.protocol_steps[anaphylaxis][0].endswith("— Anyone")
    await _handle(state, "start")
    assert state.active["title"] == "Anaphylaxis" and state.active["can_act"] and not state.can_start
    header = await state.get_state(ChartHeaderState)
    assert header.in_progress.startswith("Anaphylaxis, started ")
    assert state.active["notices"][0]["who"] == "Tom Marsh (primary)"
    assert state.active["notices"][0]["line"].startswith("waiting to send")
    step = state.active["steps"][0]["id"]
    await _handle(state, "tick", step, True)
    assert state.active["steps"][0]["when"].startswith("Done ") and state.active["done"] == "1 of 10 steps done"

    answer = await _handle(state, "close")
    assert state.outcome_error and _focuses(answer, "emergency-close") and state.active
    _call(state, "set_outcome", "Recovered after one dose")
    await _handle(state, "close")
    assert state.active == {} and state.earlier[0]["outcome"] == "Recovered after one dose"
    assert header.in_progress == ""


async def test_the_information_card_saves_and_the_banner_shows_it(pid):
    doctor = make_user("dana@clinic.org", "doctor")
    put_on_care_team(actor_for(doctor), pid)
    state = _state(EmergencyInfoState, "dana@clinic.org", None, f"/chart/{pid}")
    await _handle(state, "load")
    assert state.info_status == "ok" and state.can_edit and state.can_set_code and state.directives == []
    assert state.card_href == f"/api/patients/{pid}/emergency-card.pdf"
    _call(state, "start_edit")
    _call(state, "add_directive")
    _call(state, "set_directive", 0, "kind", "healthcare_poa")
    _call(state, "set_instructions", "Pacemaker\nKeep away from latex")
    answer = await _handle(state, "save")
    assert "directives.0.agent_contact_id" in state.form_errors and _focuses(answer, INFO_FORM_ID)
    tom = next(value for value, label in state.contact_choices if label.startswith("Tom Marsh"))
    _call(state, "set_directive", 0, "agent_contact_id", tom)
    await _handle(state, "save")
    assert state.editing == "" and state.directives[0]["label"] == "Healthcare power of attorney"
    assert "agent: Tom Marsh (Husband)" in state.directives[0]["detail"]
    assert state.instructions == ["Pacemaker", "Keep away from latex"]
    _call(state, "start_code")
    _call(state, "set_code", "dnr")
    await _handle(state, "save_code")
    assert state.code_status == "DNR — do not resuscitate"
    header = await state.get_state(ChartHeaderState)
    header._read_route()
    await _handle(header, "load")
    assert header.code_status == "DNR — do not resuscitate" and header.show_banner
    assert header.directives == ["Healthcare power of attorney"] and header.instructions[0] == "Pacemaker"


async def test_the_admin_writes_a_protocol(db):
    state = _state(ProtocolEditorState, "alex@clinic.org", "admin", "/admin/protocols")
    with unit_of_work() as s:
        seed_protocols(s)
    await _handle(state, "load")
    assert [p["name"] for p in state.items] == ["Anaphylaxis", "Cardiac arrest", "Fire evacuation", "Patient fall"]
    _call(state, "new")
    answer = await _handle(state, "save")
    assert "name" in state.form_errors and "steps.0.text" in state.form_errors and _focuses(answer, "protocol-form")
    _call(state, "set_field", "name", "Seizure")
    _call(state, "set_step", 0, "text", "Time the seizure")
    _call(state, "add_step")
    _call(state, "set_step", 1, "text", "Protect the head")
    _call(state, "set_step", 1, "who", "nurse")
    _call(state, "move_step", 1, -1)
    await _handle(state, "save")
    seizure = next(p for p in state.items if p["name"] == "Seizure")
    assert seizure["steps"] == ["Protect the head — Nurse", "Time the seizure — Anyone"]


async def test_a_patient_is_refused_the_emergency_page_and_the_ack_page_needs_no_session(pid):
    from patient_portal.domain.identity import service as identity

    user = make_user("elena@example.com", "patient")
    with unit_of_work() as s:
        identity.link_patient_system(s, user.id, pid)
    state = _state(EmergencyRunState, "elena@example.com", None, f"/chart/{pid}/emergency")
    answer = await _handle(state, "load_chart")
    assert "/patient/record" in str(answer)  # her own chart address: her record instead
    other = another_patient()
    state = _state(EmergencyRunState, "elena@example.com", None, f"/chart/{other}/emergency")
    await _handle(state, "load_chart")
    assert state.status == "denied" and state.active == {}

    ack = _state(AckState, "elena@example.com", None, "/emergency/ack")
    await _handle(ack, "load")
    assert ack.checked and ack.problem and not ack.acknowledged  # no token: nothing to acknowledge


def test_a_notice_line_reads_as_people_say_it():
    import uuid
    from datetime import UTC, datetime, timedelta

    from patient_portal.domain.emergency.dto import NoticeView

    now = datetime.now(UTC)
    seen = NoticeView(id=uuid.uuid4(), position=1, name="Rosa", channel="email", status="sent",
                      notified_at=now - timedelta(minutes=4), sent_at=now - timedelta(minutes=4),
                      opened_at=now - timedelta(minutes=1), acknowledged_at=now)
    line = notice_line(seen)
    assert line.startswith("sent ") and " · opened " in line and " · acknowledged " in line
    skipped = NoticeView(id=seen.id, position=0, name="Tom", channel="none", status="skipped", skipped="declined")
    assert notice_line(skipped) == "not messaged: the patient asked that this contact is not messaged"
