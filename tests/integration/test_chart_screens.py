"""The chart and the registration wizard through their handlers, signed in (issue 11 §4).

What reaches the screen is written for people ("Female", "Text message", "Primary", "23 Apr 1979",
the address with state and country) while the edit forms still start from the codes; a failed save
or step puts its message beside its button and asks the page to focus the first field in error;
removing an entry goes through, and a stale removal says so beside the list.
"""

from __future__ import annotations

import uuid

import pytest
from reflex.state import State
from reflex_base import constants
from reflex_base.event import EventSpec

from patient_portal.domain.identity.sessions import actor_for
from patient_portal.state.chart import GONE, NEEDS_ATTENTION, ChartState
from patient_portal.state.chart_header import ChartHeaderState
from patient_portal.state.registration import FORM_ID, RegistrationState
from tests.integration.identity_support import client, login, make_user
from tests.integration.patients_support import STAFF, actor, draft, put_on_care_team, register

pytestmark = pytest.mark.usefixtures("db")


def _state(cls, email: str, role: str | None, path: str):
    """`cls` of a browser tab signed in as `email` (a new account of `role`, unless None) on `path`."""
    if role:
        make_user(email, role)
    web = client()
    login(web, email)
    root = State(_reflex_internal_init=True)
    root._update_router_vars({
        constants.RouteVar.HEADERS: {"cookie": f"portal_session={web.cookies.get('portal_session')}",
                                     "origin": "http://localhost:3000"},
        constants.RouteVar.PATH: path, constants.RouteVar.ORIGIN: path, constants.RouteVar.CLIENT_IP: "127.0.0.1",
    }, {})
    state = root
    for name in cls.get_full_name().split(".")[1:]:
        state = state.substates[name]
    return state


async def _handle(state, name: str, *args):
    return await type(state).event_handlers[name].fn(state, *args)


def _focuses(answer, container: str) -> bool:
    """The handler answered with the script that focuses the first field in error inside `container`."""
    specs = answer if isinstance(answer, list) else [answer]
    return any(isinstance(s, EventSpec) and "focus()" in str(s.args) and container in str(s.args) for s in specs)


@pytest.fixture
def pid():
    record = register(draft(region="MA", country="US"), by=actor(STAFF))
    return record.patient_id


async def test_the_front_desk_reads_words_and_plain_dates_while_the_form_keeps_the_codes(pid):
    state = _state(ChartState, "front@clinic.org", "staff", f"/chart/{pid}")
    await _handle(state, "load")
    assert state.status == "ok" and state.patient_ref == str(pid)
    d = state.details
    assert d["sex"] == "Female" and d["preferred_contact_method"] == "Text message"
    assert d["date_of_birth"] == "23 Apr 1979" and d["legal_name"] == "Elena Marsh"
    assert d["address"] == "4 Elm St, Boston, MA 02118, United States"
    assert state.patient["dob_display"] == "23 Apr 1979" and state.patient["age_text"].endswith(" years")
    assert state.insurance[0]["relationship"] == "Self" and state.insurance[0]["order"] == "Primary"
    assert state.emergency[0]["order"] == "Primary"
    assert not state.show_clinical and state.allergies == []

    type(state).event_handlers["start_edit"].fn(state, "contact")
    assert state.form["preferred_contact_method"] == "sms" and state.form["date_of_birth"] == "1979-04-23"
    type(state).event_handlers["start_edit"].fn(state, "insurance")
    assert state.form_rows[0]["relationship"] == "self" and state.form_rows[0]["order"] == "primary"


async def test_a_failed_section_save_answers_beside_save_and_focuses_the_field(pid):
    state = _state(ChartState, "front@clinic.org", "staff", f"/chart/{pid}")
    await _handle(state, "load")
    type(state).event_handlers["start_edit"].fn(state, "contact")
    type(state).event_handlers["set_form"].fn(state, "email", "not an address")
    answer = await _handle(state, "save_edit")
    assert "email" in state.form_errors and state.error == NEEDS_ATTENTION
    assert state.editing == "contact" and state.form["email"] == "not an address"  # what was typed is kept
    assert _focuses(answer, "details")

    type(state).event_handlers["start_edit"].fn(state, "insurance")
    type(state).event_handlers["set_form_row"].fn(state, "insurance", 0, "payer", "")
    answer = await _handle(state, "save_edit")
    assert "0.payer" in state.form_errors and _focuses(answer, "section-insurance")

    type(state).event_handlers["set_form_row"].fn(state, "insurance", 0, "payer", "Blue Cross")
    answer = await _handle(state, "save_edit")
    assert state.editing == "" and state.error == "" and state.insurance[0]["payer"] == "Blue Cross"
    header = await state.get_state(ChartHeaderState)  # read again with the chart
    assert header.insurance == "Insured: Blue Cross" and header.header_status == "ok"


async def test_a_doctor_edits_from_codes_removes_an_allergy_and_the_header_is_told(pid):
    doctor = make_user("dana@clinic.org", "doctor")
    put_on_care_team(actor_for(doctor), pid)
    state = _state(ChartState, "dana@clinic.org", None, f"/chart/{pid}")
    await _handle(state, "load")
    assert state.show_clinical
    allergy = state.allergies[0]
    assert allergy["substance"] == "Latex" and allergy["severity"] == "Mild" and allergy["severity_code"] == "mild"
    assert state.immunizations[0]["given_on"] == "1 May 1980" and state.conditions[0]["status"] == "Active"

    type(state).event_handlers["edit_item"].fn(state, "allergies", allergy["id"])
    assert state.new_kind == "allergies" and state.new_item["severity"] == "mild"  # the code, for the select
    type(state).event_handlers["edit_item"].fn(state, "allergies", str(uuid.uuid4()))  # not on the chart
    assert state.new_item["severity"] == "mild"  # unchanged

    type(state).event_handlers["set_new"].fn(state, "substance", "")
    answer = await _handle(state, "save_new")
    assert "substance" in state.new_errors and state.add_error == NEEDS_ATTENTION
    assert _focuses(answer, "history-allergies")
    type(state).event_handlers["cancel_add"].fn(state)

    answer = await _handle(state, "remove_item", "allergies", allergy["id"])
    assert state.allergies == [] and state.remove_error == ""
    header = await state.get_state(ChartHeaderState)  # the header is told: read again with the chart
    assert header.allergies == [] and header.show_allergies
    await _handle(state, "remove_item", "allergies", allergy["id"])  # a second, stale click
    assert state.remove_kind == "allergies" and state.remove_error == GONE


async def test_a_patient_opening_their_own_chart_address_goes_to_their_record(pid):
    make_user("elena@example.com", "patient", patient_id=pid)
    state = _state(ChartState, "elena@example.com", None, f"/chart/{pid}")
    answer = await _handle(state, "load")
    assert isinstance(answer, EventSpec) and "/patient/record" in str(answer.args)
    own = _state(ChartState, "elena@example.com", None, "/patient/record")
    await _handle(own, "load_own")
    assert own.status == "ok" and own.patient_ref == str(pid) and own.allergies[0]["substance"] == "Latex"
    type(own).event_handlers["set_change"].fn(own, "date_of_birth", "2999-01-01")
    answer = await _handle(own, "submit_change")
    assert "date_of_birth" in own.change_errors and own.change_error and _focuses(answer, "change-request")


# ---------------------------------------------------------------- the registration wizard


async def test_the_wizard_step_answers_beside_next_and_the_review_reads_words():
    state = _state(RegistrationState, "front@clinic.org", "staff", "/staff/register")
    await _handle(state, "load")
    assert state.has_entries is False  # nothing to lose: Start over needs no question
    answer = await _handle(state, "next_step")
    assert state.step == 1 and state.error and "basic.given_name" in state.errors
    assert _focuses(answer, FORM_ID)

    for name, value in draft(region="MA", country="US")["basic"].items():
        type(state).event_handlers["set_basic"].fn(state, name, value)
    assert state.has_entries is True
    await _handle(state, "next_step")
    assert state.step == 2 and state.error == ""
    await _handle(state, "add_row", "insurance")
    assert state.review_rows["insurance"][0]["relationship"] == "Self"
    assert state.review_rows["insurance"][0]["order"] == "Primary"
    b = state.review_basic
    assert b["sex"] == "Female" and b["date_of_birth"] == "23 Apr 1979"
    assert b["preferred_contact_method"] == "Text message"
    assert b["address"] == "4 Elm St, Boston, MA 02118, United States"

    await _handle(state, "start_over")
    assert state.step == 1 and state.basic == {} and state.has_entries is False
