"""The documents page through its handlers, signed in (issue 11 §3, §4): the chart header comes with
the first list (one access-log entry), an empty list that hides documents from the role says so, a
refused upload answers as failed, and every service call goes through ``attempt`` (signed out: the
sign-in page; refused: "Not permitted")."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from reflex.state import State
from reflex_base import constants
from reflex_base.event import EventSpec

from patient_portal.core.access import CareTeamMember
from patient_portal.core.db import unit_of_work
from patient_portal.domain.documents import service as svc
from patient_portal.domain.identity.sessions import actor_for
from patient_portal.state.chart_header import ChartHeaderState
from patient_portal.state.documents import NEEDS_ATTENTION, DocumentsState
from tests.integration.documents.conftest import PDF_BYTES
from tests.integration.identity_support import client, login, make_user
from tests.integration.patients_support import draft, register


def _state(email: str, path: str) -> DocumentsState:
    web = client()
    login(web, email)
    root = State(_reflex_internal_init=True)
    root._update_router_vars({
        constants.RouteVar.HEADERS: {"cookie": f"portal_session={web.cookies.get('portal_session')}",
                                     "origin": "http://localhost:3000"},
        constants.RouteVar.PATH: "/chart/[pid]/documents", constants.RouteVar.ORIGIN: path,
        constants.RouteVar.CLIENT_IP: "127.0.0.1"}, {})
    state = root
    for name in DocumentsState.get_full_name().split(".")[1:]:
        state = state.substates[name]
    return state


def _run(state, name: str, *args):
    return asyncio.run(DocumentsState.event_handlers[name].fn(state, *args))


def _header(state) -> ChartHeaderState:
    return asyncio.run(state.get_state(ChartHeaderState))


@pytest.fixture
def clinic(db):
    """Elena Marsh with one lab result by her doctor; the front desk and the doctor can sign in."""
    staff = actor_for(make_user("front@clinic.org", "staff"))
    pid = register(draft(), by=staff).patient_id
    doctor = make_user("dana@clinic.org", "doctor")
    with unit_of_work() as session:
        session.add(CareTeamMember(patient_id=pid, user_id=doctor.id))
    svc.upload(actor_for(doctor), patient_id=pid, filename="lab.pdf", chunks=[PDF_BYTES],
               meta={"category": "lab_result", "title": "Blood panel", "source": "City Lab"})
    return pid


def test_the_front_desk_sees_an_empty_list_that_says_it_hides_clinical_documents(clinic):
    state = _state("front@clinic.org", f"/chart/{clinic}/documents")
    _run(state, "load_chart")
    assert state.status == "ok" and state.total == 0 and state.rows == []
    # the page reads "No documents you can see — You see administrative documents only (…)"
    assert state.seen_kinds == "administrative documents only (insurance cards, identity documents and consent forms)"
    assert _header(state).header_status == "ok" and not _header(state).show_allergies

    doctor = _state("dana@clinic.org", f"/chart/{clinic}/documents")
    _run(doctor, "load_chart")
    assert doctor.total == 1 and doctor.seen_kinds == ""  # sees every kind: an empty list is "No documents yet"


def test_the_empty_list_words_are_on_the_page():
    from patient_portal.pages.documents.views import document_list

    rendered = str(document_list("Upload the first one."))
    assert "No documents you can see" in rendered and "No documents yet" in rendered
    assert "No documents match these filters" in rendered


def test_a_refused_upload_answers_as_failed_not_uploaded(clinic):
    state = _state("front@clinic.org", f"/chart/{clinic}/documents")
    _run(state, "load_chart")
    DocumentsState.event_handlers["set_form"].fn(state, "category", "lab_result")  # not the front desk's
    answer = _run(state, "start_upload")
    assert answer is None and state.form_errors == {"category": "Choose what kind of document this is."}
    assert state.error == NEEDS_ATTENTION  # nothing was sent

    DocumentsState.event_handlers["set_form"].fn(state, "category", "insurance_card")
    answer = _run(state, "start_upload")
    assert isinstance(answer, EventSpec) and "portalDocs.upload" in str(answer.args)
    # the browser reports one file refused by the API (wrong type, too large, denied)
    answer = _run(state, "upload_result", {"ok": 0, "failed": 1})
    assert state.message == "" and state.error == "1 file was not uploaded — see the message next to each file."
    assert answer is None  # no "uploaded" toast
    assert state.form["category"] == "insurance_card"  # the description is kept to try again


def test_off_the_care_team_the_page_and_its_header_say_not_permitted(clinic):
    make_user("dr.out@clinic.org", "doctor")
    state = _state("dr.out@clinic.org", f"/chart/{clinic}/documents")
    _run(state, "load_chart")
    assert state.status == "denied" and state.rows == []
    assert _header(state).header_status == "denied" and _header(state).patient == {}
    missing = _state("dana@clinic.org", f"/chart/{uuid.uuid4()}/documents")
    _run(missing, "load_chart")
    assert missing.status in ("missing", "denied") and _header(missing).patient == {}


def test_a_patient_on_their_own_chart_address_goes_to_their_documents(clinic):
    make_user("elena@example.com", "patient", patient_id=clinic)
    state = _state("elena@example.com", f"/chart/{clinic}/documents")
    answer = _run(state, "load_chart")
    assert isinstance(answer, EventSpec) and "/patient/documents" in str(answer.args)
    own = _state("elena@example.com", "/patient/documents")
    _run(own, "load_own")
    assert own.status == "ok" and [r["title"] for r in own.rows] == ["Blood panel"]


def test_signed_out_handlers_forget_the_list_and_go_to_sign_in(clinic):
    state = _state("dana@clinic.org", f"/chart/{clinic}/documents")
    _run(state, "load_chart")
    doc_id = state.rows[0]["id"]
    state.router_data = {}  # the session cookie is gone
    state.router = type(state.router)()
    for name, args in (("open_preview", (doc_id,)), ("open_versions", (doc_id,)), ("set_sort", ("title",))):
        answer = _run(state, name, *args)
        assert isinstance(answer, EventSpec) and "/login" in str(answer.args), name
        assert state.rows == []
