"""The staff review queue: legal-field change requests and identity checks of self-registrations."""

from __future__ import annotations

import uuid

import pytest
from reflex.state import State
from reflex_base import constants
from sqlmodel import select

from patient_portal.core.access import AccessDenied, Actor, Role
from patient_portal.core.db import unit_of_work
from patient_portal.core.jobs import Job
from patient_portal.domain.identity.models import User
from patient_portal.domain.patients.models import STATUS_ACTIVE, STATUS_MERGED, Patient
from patient_portal.domain.patients.service import (
    PatientNotFound,
    ValidationFailed,
    confirm_link,
    decide_change_request,
    decline_link,
    get_chart,
    link_identity,
    list_change_requests,
    list_identity_checks,
    request_legal_change,
    search_patients,
    self_register_patient,
    verify_identity,
)
from patient_portal.state.review import ReviewState
from tests.integration.identity_support import client, login, make_user
from tests.integration.patients_support import ADMIN, DOCTOR, STAFF, actor, call, draft, events, register


@pytest.fixture
def pid(db):
    return register().patient_id


def test_patient_requests_a_name_change_and_staff_approve_it(pid):
    me = actor(Role.PATIENT, pid)
    call(request_legal_change, me, pid, {"family_name": "Reid", "sex": "female"}, "Married in June")
    assert call(get_chart, me, pid)["pending_changes"][0]["fields"] == "Family name"
    [item] = call(list_change_requests, actor(STAFF))
    assert item["note"] == "Married in June" and item["changes"] == [{"field": "Family name", "from": "Marsh",
                                                                     "to": "Reid"}]
    call(decide_change_request, actor(STAFF), item["id"], approve=True)
    assert call(search_patients, actor(STAFF), "Reid, Elena")["rows"][0]["id"] == str(pid)
    assert call(list_change_requests, actor(STAFF)) == []
    event = events("patient.change_request.decide")[-1]
    assert event.detail["decision"] == "approved" and event.detail["fields_changed"] == ["family_name"]
    assert "Reid" not in str(event.detail)


def test_rejected_request_changes_nothing(pid):
    call(request_legal_change, actor(Role.PATIENT, pid), pid, {"date_of_birth": "1979-04-24"})
    [item] = call(list_change_requests, actor(ADMIN))
    call(decide_change_request, actor(ADMIN), item["id"], approve=False, note="ID shows 23 April")
    assert call(get_chart, actor(STAFF), pid)["basic"]["date_of_birth"] == "1979-04-23"
    with pytest.raises(ValidationFailed):
        call(decide_change_request, actor(ADMIN), item["id"], approve=True)


def test_change_requests_are_validated(pid):
    me = actor(Role.PATIENT, pid)
    with pytest.raises(ValidationFailed):
        call(request_legal_change, me, pid, {})
    with pytest.raises(ValidationFailed) as err:
        call(request_legal_change, me, pid, {"date_of_birth": "2999-01-01"})
    assert "date_of_birth" in err.value.errors


@pytest.mark.parametrize("role", [STAFF, DOCTOR])
def test_only_the_patient_requests_changes(pid, role):
    with pytest.raises(AccessDenied):
        call(request_legal_change, actor(role), pid, {"family_name": "Reid"})


def test_patient_cannot_request_changes_to_another_record(pid):
    with pytest.raises(AccessDenied):
        call(request_legal_change, actor(Role.PATIENT, uuid.uuid4()), pid, {"family_name": "Reid"})


@pytest.mark.parametrize("role", [DOCTOR, Role.PATIENT])
def test_review_queues_are_for_staff_and_admin(pid, role):
    with pytest.raises(AccessDenied):
        call(list_change_requests, actor(role, pid))
    with pytest.raises(AccessDenied):
        call(list_identity_checks, actor(role, pid))


def _self_register(basic: dict) -> tuple[uuid.UUID, uuid.UUID]:
    with unit_of_work() as s:
        user = User(email=f"{uuid.uuid4().hex[:8]}@example.com", role="patient", display_name="x")
        s.add(user)
    done = call(self_register_patient, Actor(user_id=user.id, role=Role.PATIENT), basic)
    return user.id, done.patient_id


def test_identity_check_links_the_account_to_the_existing_record(pid):
    user_id, pending = _self_register(draft()["basic"])
    [item] = call(list_identity_checks, actor(STAFF))
    assert item["id"] == str(pending) and [m["id"] for m in item["matches"]] == [str(pid)]
    # the record holds clinical data: one person proposes, a second confirms
    assert call(verify_identity, actor(STAFF), pending, link_to=pid) == str(pending)
    [item] = call(list_identity_checks, actor(STAFF))
    assert call(confirm_link, actor(STAFF), item["proposal"]["id"]) == str(pid)
    with unit_of_work() as s:
        assert s.get(User, user_id).patient_id == pid and s.get(Patient, pending).status == STATUS_MERGED
    assert [r["id"] for r in call(search_patients, actor(STAFF), "Marsh")["rows"]] == [str(pid)]
    detail = events("patient.identity.linked")[-1].detail
    assert detail["outcome"] == "linked" and detail["accounts"] == 1


def test_identity_check_accepts_a_new_person(db):
    user_id, pending = _self_register(draft()["basic"])
    [item] = call(list_identity_checks, actor(ADMIN))
    assert item["matches"] == []
    call(verify_identity, actor(ADMIN), pending)
    with unit_of_work() as s:
        assert s.get(Patient, pending).status == STATUS_ACTIVE and s.get(User, user_id).patient_id == pending
    with pytest.raises(ValidationFailed):
        call(verify_identity, actor(ADMIN), pending)


# ---------------------------------------------------------------- linking: who may link what (issue 10, item 2)

OTHER = {"given_name": "Priya", "family_name": "Nair", "date_of_birth": "1990-02-02", "sex": "female",
         "phone_mobile": "(617) 555-0190", "email": "priya.nair@example.com", "address_line1": "9 Oak St",
         "city": "Boston", "postal_code": "02118", "preferred_contact_method": "email",
         "preferred_language": "English"}


def _no_history() -> dict:
    data = draft()
    data["history"] = {}
    return data


def _user_of(user_id):
    with unit_of_work() as s:
        return s.get(User, user_id)


def _status(patient_id):
    with unit_of_work() as s:
        return s.get(Patient, patient_id).status


def _proposal_of(pending):
    [item] = [i for i in call(list_identity_checks, actor(STAFF)) if i["id"] == str(pending)]
    return item["proposal"]


def test_a_record_without_clinical_data_is_linked_by_one_person(db):
    pid = register(_no_history()).patient_id
    user_id, pending = _self_register(draft()["basic"])
    [item] = call(list_identity_checks, actor(STAFF))
    assert [(m["has_account"], m["needs_second_person"]) for m in item["matches"]] == [(False, False)]
    assert call(link_identity, actor(STAFF), pending, link_to=pid) == {"outcome": "linked", "patient_id": str(pid)}
    assert _user_of(user_id).patient_id == pid and _status(pending) == STATUS_MERGED
    event = events("patient.identity.linked")[-1]
    assert event.patient_id == pid and event.object_id == str(pending) and event.outcome == "success"
    assert event.detail["notified"] is True and "proposal" not in event.detail


def test_linking_to_a_record_the_review_did_not_offer_is_refused(pid):
    other = register(draft(**OTHER)).patient_id
    user_id, pending = _self_register(draft()["basic"])
    for foreign in (other, uuid.uuid4(), pending):
        with pytest.raises(AccessDenied) as err:
            call(verify_identity, actor(STAFF), pending, link_to=foreign)
        assert "suggests" in str(err.value)
    refused = events("patient.identity.link")
    assert [(e.outcome, e.detail["reason"], e.patient_id) for e in refused] == [
        ("denied", "not_offered", other), ("denied", "not_offered", refused[1].patient_id),
        ("denied", "not_offered", pending)]
    assert _user_of(user_id).patient_id == pending and _status(pending) != STATUS_MERGED
    assert events("patient.identity.link_proposed") == [] and events("patient.identity.linked") == []
    # the other person's chart stays out of reach of the self-registered account
    with pytest.raises(AccessDenied):
        call(get_chart, actor(Role.PATIENT, pending), other)


def test_linking_to_a_record_that_already_has_an_account_is_refused(pid):
    with unit_of_work() as s:
        s.add(User(email="elena@example.com", role="patient", display_name="Elena", patient_id=pid))
    user_id, pending = _self_register(draft()["basic"])
    [item] = call(list_identity_checks, actor(STAFF))
    assert item["matches"][0]["has_account"] is True
    with pytest.raises(AccessDenied) as err:
        call(verify_identity, actor(STAFF), pending, link_to=pid)
    assert "already has an online account" in str(err.value)
    assert events("patient.identity.link")[-1].detail == {"reason": "has_account"}
    assert _user_of(user_id).patient_id == pending and call(list_identity_checks, actor(STAFF))[0]["proposal"] is None


@pytest.mark.parametrize("second", [STAFF, ADMIN])
def test_a_record_with_clinical_data_needs_a_second_person(pid, second):
    user_id, pending = _self_register(draft()["basic"])
    proposer = actor(STAFF)
    [item] = call(list_identity_checks, proposer)
    assert item["matches"][0]["needs_second_person"] is True
    done = call(link_identity, proposer, pending, link_to=pid)
    assert done["outcome"] == "proposed" and done["patient_id"] == str(pending)
    # nothing moved yet: the account still cannot open the chart
    assert _user_of(user_id).patient_id == pending
    with pytest.raises(AccessDenied):
        call(get_chart, actor(Role.PATIENT, pending), pid)
    [item] = call(list_identity_checks, proposer)
    proposal = item["proposal"]
    assert proposal["id"] == done["proposal_id"] and proposal["target_id"] == str(pid) and proposal["mine"] is True
    assert _proposal_of(pending)["mine"] is False  # someone else looking at the queue
    proposed = events("patient.identity.link_proposed")[-1]
    assert proposed.patient_id == pid and proposed.detail["reason"] == "clinical_data"

    with pytest.raises(AccessDenied) as err:  # the proposer cannot confirm their own proposal
        call(confirm_link, proposer, proposal["id"])
    assert "someone else must confirm" in str(err.value)
    assert events("patient.identity.link_confirm")[-1].detail == {"reason": "own_proposal"}
    assert _user_of(user_id).patient_id == pending
    with pytest.raises(ValidationFailed):  # no second proposal, no "accept as new" while one waits
        call(link_identity, actor(STAFF), pending, link_to=pid)
    with pytest.raises(ValidationFailed):
        call(verify_identity, actor(STAFF), pending)

    assert call(confirm_link, actor(second), proposal["id"]) == str(pid)
    assert _user_of(user_id).patient_id == pid and _status(pending) == STATUS_MERGED
    chart = call(get_chart, actor(Role.PATIENT, pid), pid)
    assert chart["header"]["allergies"] == ["Latex"]
    linked = events("patient.identity.linked")[-1]
    assert linked.role == str(second) and linked.detail["proposal"] == proposal["id"]
    assert linked.detail["proposed_by"] == str(proposer.user_id)
    with pytest.raises(ValidationFailed):  # handled once
        call(confirm_link, actor(STAFF), proposal["id"])


def test_confirming_checks_everything_again(pid):
    _, pending = _self_register(draft()["basic"])
    call(link_identity, actor(STAFF), pending, link_to=pid)
    proposal = _proposal_of(pending)
    with unit_of_work() as s:  # meanwhile the record got an online account of its own
        s.add(User(email="elena@example.com", role="patient", display_name="Elena", patient_id=pid))
    with pytest.raises(AccessDenied):
        call(confirm_link, actor(ADMIN), proposal["id"])
    assert events("patient.identity.link_confirm")[-1].detail == {"reason": "has_account"}
    assert _status(pending) != STATUS_MERGED


def test_a_declined_link_changes_nothing_and_the_sign_up_stays_in_the_queue(pid):
    user_id, pending = _self_register(draft()["basic"])
    call(link_identity, actor(STAFF), pending, link_to=pid)
    proposal = _proposal_of(pending)
    call(decline_link, actor(ADMIN), proposal["id"])
    assert _user_of(user_id).patient_id == pending and _proposal_of(pending) is None
    declined = events("patient.identity.link_declined")[-1]
    assert declined.patient_id == pid and declined.detail["by_proposer"] is False
    with pytest.raises(ValidationFailed):
        call(confirm_link, actor(STAFF), proposal["id"])
    call(verify_identity, actor(STAFF), pending)  # now it can be kept as a new person
    assert _status(pending) == STATUS_ACTIVE


def test_the_proposer_may_withdraw_their_proposal(pid):
    _, pending = _self_register(draft()["basic"])
    proposer = actor(STAFF)
    call(link_identity, proposer, pending, link_to=pid)
    call(decline_link, proposer, _proposal_of(pending)["id"])
    assert events("patient.identity.link_declined")[-1].detail["by_proposer"] is True


@pytest.mark.parametrize("role", [DOCTOR, Role.PATIENT])
def test_doctors_and_patients_cannot_link_confirm_or_decline(pid, role):
    user_id, pending = _self_register(draft()["basic"])
    who = actor(role, pending if role == Role.PATIENT else None)
    with pytest.raises(AccessDenied):
        call(link_identity, who, pending, link_to=pid)
    call(link_identity, actor(STAFF), pending, link_to=pid)
    proposal = _proposal_of(pending)
    with pytest.raises(AccessDenied):
        call(confirm_link, who, proposal["id"])
    with pytest.raises(AccessDenied):
        call(decline_link, who, proposal["id"])
    assert [e.detail["reason"] for e in events("patient.identity.link") + events("patient.identity.link_confirm")
            + events("patient.identity.link_decline")] == ["role", "role", "role"]
    assert _user_of(user_id).patient_id == pending and _proposal_of(pending)["id"] == proposal["id"]


@pytest.mark.parametrize("bad", ["not-an-id", "6f1e0c2a-3b4d-4e5f-8a9b-0c1d2e3f4a5b", ""])
def test_unknown_proposal_ids_are_refused(pid, bad):
    _, pending = _self_register(draft()["basic"])
    call(link_identity, actor(STAFF), pending, link_to=pid)
    for fn in (confirm_link, decline_link):
        with pytest.raises(ValidationFailed):
            call(fn, actor(ADMIN), bad)
    assert _proposal_of(pending) is not None and _status(pending) != STATUS_MERGED


def test_linking_needs_a_waiting_sign_up(pid):
    other = register(draft(**OTHER)).patient_id
    with pytest.raises(ValidationFailed):  # an active record is not a sign-up waiting for a check
        call(link_identity, actor(STAFF), other, link_to=pid)
    with pytest.raises(PatientNotFound):
        call(link_identity, actor(STAFF), uuid.uuid4(), link_to=pid)


def test_the_record_email_is_told_that_an_account_was_linked(mailbox, db):
    pid = register(_no_history()).patient_id
    _, pending = _self_register(draft()["basic"])
    with unit_of_work() as s:
        address, mrn = s.get(Patient, pid).email, s.get(Patient, pid).mrn
    call(link_identity, actor(STAFF), pending, link_to=pid)
    [message] = mailbox.wait_for(address)
    assert message["Subject"] == "An online account was linked to your clinic record"
    text = message.get_content()
    assert "call the clinic" in text and "/login" in text
    for phi in ("Elena", "Marsh", mrn, "1979", "Latex", "Boston"):
        assert phi not in text and phi not in message["Subject"]


def test_no_email_when_the_record_has_none(mailbox, db):
    data = _no_history()
    data["basic"]["email"] = ""
    data["basic"]["preferred_contact_method"] = "sms"
    pid = register(data).patient_id
    _, pending = _self_register(draft()["basic"])
    call(link_identity, actor(STAFF), pending, link_to=pid)
    assert events("patient.identity.linked")[-1].detail["notified"] is False
    with unit_of_work() as s:
        assert s.exec(select(Job)).all() == []


# ---------------------------------------------------------------- paging (issue 10, item 9b)


def test_identity_checks_are_paged_25_at_a_time_oldest_first(db):
    ids = []
    for n in range(30):
        _, pending = _self_register(draft(given_name=f"Person{n:02d}", family_name="Queue",
                                          phone_mobile=f"(617) 555-{1000 + n}", email=f"p{n}@example.com")["basic"])
        ids.append(str(pending))
    first = call(list_identity_checks, actor(STAFF))
    assert (len(first), first.total, first.page, first.pages) == (25, 30, 1, 2)
    second = call(list_identity_checks, actor(STAFF), page=2)
    assert (len(second), second.page) == (5, 2)
    assert [i["id"] for i in first] + [i["id"] for i in second] == ids
    assert call(list_identity_checks, actor(STAFF), page=99).page == 2  # past the end: the last page
    assert call(list_identity_checks, actor(STAFF), page="x").page == 1
    event = events("patient.identity.list")[1]
    assert event.detail["page"] == 2 and event.detail["total"] == 30 and event.detail["count"] == 5


def test_change_requests_are_paged_25_at_a_time(pid):
    from patient_portal.domain.patients.models import PatientChangeRequest

    with unit_of_work() as s:
        for n in range(27):
            s.add(PatientChangeRequest(patient_id=pid, requested_by=uuid.uuid4(), changes={"family_name": f"N{n}"}))
    first = call(list_change_requests, actor(ADMIN))
    last = call(list_change_requests, actor(ADMIN), page=2)
    assert (len(first), first.total, first.pages, len(last)) == (25, 27, 2, 2)
    assert {i["id"] for i in first}.isdisjoint({i["id"] for i in last})
    assert [c["to"] for i in list(first) + list(last) for c in i["changes"]] == [f"N{n}" for n in range(27)]
    empty = call(list_change_requests, actor(STAFF), page=3)
    assert empty.page == 2  # clamped


# ---------------------------------------------------------------- the review screen's handlers, signed in


def _review_state(email: str, role: str) -> ReviewState:
    """The review state of a browser tab signed in as a new `role` account."""
    make_user(email, role)
    c = client()
    login(c, email)
    root = State(_reflex_internal_init=True)
    root._update_router_vars({
        constants.RouteVar.HEADERS: {"cookie": f"portal_session={c.cookies.get('portal_session')}",
                                     "origin": "http://localhost:3000"},
        constants.RouteVar.PATH: "/staff/review", constants.RouteVar.CLIENT_IP: "127.0.0.1",
    }, {})
    state = root
    for name in ReviewState.get_full_name().split(".")[1:]:
        state = state.substates[name]
    return state


async def _handle(state, name: str, *args) -> list:
    result = ReviewState.event_handlers[name].fn(state, *args)
    if hasattr(result, "__aiter__"):
        return [event async for event in result]
    return [await result]


async def test_the_screen_proposes_and_a_second_person_confirms(pid):
    user_id, pending = _self_register(draft()["basic"])
    first, second = _review_state("desk1@clinic.org", "staff"), _review_state("desk2@clinic.org", "staff")
    await _handle(first, "load")
    [item] = first.identity_checks
    assert item.matches[0].needs_second_person and not item.matches[0].has_account
    await _handle(first, "link", item.id, item.matches[0].id)
    assert first.error == "" and first.identity_checks[0].proposal_mine is True
    assert first.identity_checks[0].proposal_by == "Test staff"
    await _handle(first, "confirm_link", first.identity_checks[0].proposal_id)  # the browser can still send it
    assert "someone else must confirm" in first.error and _user_of(user_id).patient_id == pending
    await _handle(second, "load")
    assert second.identity_checks[0].proposal_mine is False
    await _handle(second, "confirm_link", second.identity_checks[0].proposal_id)
    assert second.error == "" and second.identity_checks == [] and second.identity_total == 0
    assert _user_of(user_id).patient_id == pid


async def test_the_screen_pages_the_identity_queue(db):
    for n in range(26):
        _self_register(draft(given_name=f"Page{n:02d}", family_name="Turner", phone_mobile=f"(617) 555-{2000 + n}",
                             email=f"t{n}@example.com")["basic"])
    state = _review_state("desk@clinic.org", "staff")
    await _handle(state, "load")
    assert (len(state.identity_checks), state.identity_total, state.identity_pages) == (25, 26, 2)
    await _handle(state, "identity_next")
    assert state.identity_page == 2 and [i.name for i in state.identity_checks] == ["Page25 Turner"]
    await _handle(state, "identity_next")  # there is no page 3
    assert state.identity_page == 2
    await _handle(state, "identity_prev")
    assert state.identity_page == 1 and state.identity_checks[0].name == "Page00 Turner"
