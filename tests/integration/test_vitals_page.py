"""The vitals pages through their handlers: the doctor's page opens with the header (one audit event),
a bad value answers beside its field with the focus on it, a good set shows as latest and in the
table, the patient's home reading reaches the doctor marked reported by patient and is verified there;
a patient opening their own chart address is sent to "Your readings"."""

from __future__ import annotations

import pytest
from reflex_base.event import EventSpec

from patient_portal.domain.identity.sessions import actor_for
from patient_portal.state.chart_header import ChartHeaderState
from patient_portal.state.vitals import FORM_ID, NEEDS_ATTENTION, VitalsState
from tests.integration.clinic_support import desk_patient, run_handler
from tests.integration.identity_support import events, make_user
from tests.integration.patients_support import put_on_care_team
from tests.integration.test_chart_screens import _focuses, _handle, _state

pytestmark = pytest.mark.usefixtures("db")


@pytest.fixture
def pid():
    return desk_patient()


async def test_a_doctor_records_a_set_and_verifies_the_patients_home_reading(pid):
    doctor = make_user("dana@clinic.org", "doctor")
    put_on_care_team(actor_for(doctor), pid)
    state = _state(VitalsState, "dana@clinic.org", None, f"/chart/{pid}/vitals")
    before = len(events("observation.read"))
    await _handle(state, "load_chart")
    assert state.status == "ok" and state.can_record and state.can_verify and state.latest == []
    assert len(events("observation.read")) == before + 1
    header = await state.get_state(ChartHeaderState)
    assert header.header_status == "ok" and header.patient["family_name"] == "Marsh"
    labels = {f["key"]: f["label"] for f in state.fields}
    assert labels["systolic"] == "Systolic (mmHg)" and labels["weight"] == "Weight (kg)" and "bmi" not in labels

    run_handler(state, "open_form")
    assert state.when  # now, in the clinic's time zone
    run_handler(state, "set_value", "systolic", "400")
    run_handler(state, "set_value", "diastolic", "20")
    answer = await _handle(state, "save")
    assert state.form_errors["systolic"] == "Systolic must be between 40 and 300 mmHg."
    assert state.form_error == NEEDS_ATTENTION and state.form["systolic"] == "400" and _focuses(answer, FORM_ID)
    run_handler(state, "set_value", "systolic", "132")
    run_handler(state, "set_value", "diastolic", "84")
    run_handler(state, "set_value", "weight", "70")
    run_handler(state, "set_value", "height", "170")
    answer = await _handle(state, "save")
    assert not state.form_open and "Vitals recorded (BMI 24.2)" in str(answer)
    tiles = {t["key"]: t for t in state.latest}
    assert tiles["blood_pressure"]["value"] == "132/84 mmHg" and tiles["bmi"]["value"] == "24.2 kg/m²"
    assert state.rows[0]["blood_pressure"] == "132/84 mmHg" and state.rows[0]["heart_rate"] == "—"
    assert [c["key"] for c in state.charts] == ["blood_pressure", "weight", "height", "bmi"]
    assert state.charts[0]["two"] and state.charts[0]["points"][0]["a"] == 132.0

    make_user("elena@example.com", "patient", patient_id=pid)
    own = _state(VitalsState, "elena@example.com", None, "/patient/readings")
    await _handle(own, "load_own")
    assert own.status == "ok" and own.can_record and not own.can_verify
    assert [f["key"] for f in own.fields] == ["systolic", "diastolic", "weight", "glucose"]
    run_handler(own, "open_form")
    run_handler(own, "set_value", "glucose", "101")
    run_handler(own, "set_value", "heart_rate", "70")  # not a field of this form: ignored
    answer = await _handle(own, "save")
    assert "Reading added" in str(answer) and own.rows[0]["glucose"] == "101 mg/dL" and own.rows[0]["by_patient"]
    assert "Your latest blood pressure" in own.charts[0]["summary"]

    await _handle(state, "load_chart")
    assert state.unverified == 1 and state.rows[0]["by_patient"] and state.rows[0]["unverified"]
    answer = await _handle(state, "verify", state.rows[0]["id"])
    assert "Reading verified" in str(answer) and state.unverified == 0 and not state.rows[0]["unverified"]
    await _handle(state, "verify", state.rows[0]["id"])  # a second, stale click
    assert state.error == "This reading was already verified."


async def test_the_patient_on_their_own_chart_address_goes_to_their_readings_and_staff_are_refused(pid):
    make_user("elena@example.com", "patient", patient_id=pid)
    state = _state(VitalsState, "elena@example.com", None, f"/chart/{pid}/vitals")
    answer = await _handle(state, "load_chart")
    assert isinstance(answer, EventSpec) and "/patient/readings" in str(answer.args)
    staff = _state(VitalsState, "sam@clinic.org", "staff", f"/chart/{pid}/vitals")
    await _handle(staff, "load_chart")
    assert staff.status == "denied" and staff.rows == [] and staff.fields == []
    header = await staff.get_state(ChartHeaderState)
    assert header.patient == {}  # nothing of the record reaches a refused page
