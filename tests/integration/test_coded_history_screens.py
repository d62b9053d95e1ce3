"""The chart's coded history through its handlers (issue 12): the Conditions picker finds E11.9 for
"type 2 diab" and the keyboard takes it; a duplicate medication answers beside its Save button with
the entry on file named; "No known allergies" is recorded and shown apart from "not recorded"; the
patient reports a medicine on their own record and it reads "Reported by patient"."""

from __future__ import annotations

import pytest

from patient_portal.state.chart import ChartState
from patient_portal.state.chart_header import ChartHeaderState
from tests.integration.identity_support import make_user
from tests.integration.patients_support import draft, register
from tests.integration.test_chart_screens import _handle, _state

pytestmark = pytest.mark.usefixtures("code_tables")


def _link(email: str, pid) -> None:
    from sqlmodel import select

    from patient_portal.core.access import CareTeamMember
    from patient_portal.core.db import unit_of_work
    from patient_portal.domain.identity.models import User as UserAccount

    with unit_of_work() as s:
        user = s.exec(select(UserAccount).where(UserAccount.email == email)).one()
        s.add(CareTeamMember(patient_id=pid, user_id=user.id))


async def test_a_doctor_picks_e11_9_by_words_and_a_duplicate_medication_is_named():
    pid = register().patient_id
    make_user("dr.coded@clinic.org", "doctor")
    _link("dr.coded@clinic.org", pid)
    state = _state(ChartState, "dr.coded@clinic.org", None, f"/chart/{pid}")
    await _handle(state, "load")
    assert state.status == "ok" and state.can["edit_clinical"] and not state.can["report_clinical"]

    type(state).event_handlers["start_add"].fn(state, "conditions")
    await _handle(state, "search_codes", "conditions", "type 2 diab")
    assert state.pick_results[0]["code"] == "E11.9" and state.pick_active == 0
    type(state).event_handlers["pick_key"].fn(state, "ArrowDown")
    type(state).event_handlers["pick_key"].fn(state, "ArrowUp")
    type(state).event_handlers["pick_key"].fn(state, "Enter")
    assert state.new_item["code"] == "E11.9" and state.pick_results == []
    assert state.new_item["description"] == "Type 2 diabetes mellitus without complications"
    await _handle(state, "save_new")
    assert any(c["code"] == "E11.9" for c in state.conditions) and state.new_kind == ""

    type(state).event_handlers["start_add"].fn(state, "conditions")
    await _handle(state, "search_codes", "conditions", "Diabetes")
    type(state).event_handlers["set_new"].fn(state, "code", "E11.95")
    answer = await _handle(state, "save_new")
    assert "not an ICD-10-CM code" in state.new_errors["code"] and answer is not None  # focus goes to the field
    type(state).event_handlers["cancel_add"].fn(state)

    type(state).event_handlers["start_add"].fn(state, "medications")
    await _handle(state, "search_codes", "medications", "atorva")
    assert state.pick_results[0]["label"] == "Atorvastatin (statins)"
    type(state).event_handlers["pick"].fn(state, 0)
    assert state.new_item["drug"] == "atorvastatin"
    await _handle(state, "save_new")
    assert "Atorvastatin is already on the medication list (20 mg, nightly)" in state.add_error
    assert len(state.medications) == 1

    type(state).event_handlers["start_add"].fn(state, "allergies")
    await _handle(state, "search_codes", "allergies", "penicil")
    assert state.pick_results[0]["category"] == "drug_class" and state.pick_results[0]["display"] == "penicillins"
    assert any(r["code"] == "amoxicillin" for r in state.pick_results)


async def test_no_known_allergies_and_what_the_patient_reports():
    bare = draft(given_name="Nia", family_name="Blank", email="nia.blank@example.com", phone_mobile="+1 617 555 0177")
    bare["history"] = {}
    pid = register(bare).patient_id
    make_user("dr.nka@clinic.org", "doctor")
    _link("dr.nka@clinic.org", pid)
    state = _state(ChartState, "dr.nka@clinic.org", None, f"/chart/{pid}")
    await _handle(state, "load")
    header = await state.get_state(ChartHeaderState)
    assert state.allergy_status == header.allergy_status == "not_recorded"
    await _handle(state, "record_no_known_allergies")
    header = await state.get_state(ChartHeaderState)
    assert state.allergy_status == header.allergy_status == "nka" and state.nka_error == ""

    make_user("nia.blank@example.com", "patient", patient_id=pid)
    own = _state(ChartState, "nia.blank@example.com", None, "/patient/record")
    await _handle(own, "load_own")
    assert own.status == "ok" and own.can["report_clinical"] and not own.can["edit_clinical"]
    type(own).event_handlers["start_add"].fn(own, "medications")
    await _handle(own, "search_codes", "medications", "cetiriz")
    type(own).event_handlers["pick"].fn(own, 0)
    type(own).event_handlers["set_new"].fn(own, "dose", "10 mg")
    type(own).event_handlers["set_new"].fn(own, "frequency", "once daily")
    await _handle(own, "save_new")
    med, = own.medications
    assert med["verification"] == "Reported by patient" and med["how_to_take"] == "Take 10 mg by mouth, once daily"

    await _handle(state, "load")
    assert state.medications[0]["verification_code"] == "patient-reported"
    await _handle(state, "verify_item", "medications", state.medications[0]["id"])
    assert state.medications[0]["verification_code"] == "verified"
