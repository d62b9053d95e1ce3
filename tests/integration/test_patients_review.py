"""The staff review queue: legal-field change requests and identity checks of self-registrations."""

from __future__ import annotations

import uuid

import pytest

from patient_portal.core.access import AccessDenied, Actor, Role
from patient_portal.core.db import unit_of_work
from patient_portal.domain.identity.models import User
from patient_portal.domain.patients.models import STATUS_ACTIVE, STATUS_MERGED, Patient
from patient_portal.domain.patients.profile import get_chart
from patient_portal.domain.patients.registration import self_register_patient
from patient_portal.domain.patients.review import (
    decide_change_request,
    list_change_requests,
    list_identity_checks,
    request_legal_change,
    verify_identity,
)
from patient_portal.domain.patients.search import search_patients
from patient_portal.domain.patients.validation import ValidationFailed
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
    assert call(verify_identity, actor(STAFF), pending, link_to=pid) == str(pid)
    with unit_of_work() as s:
        assert s.get(User, user_id).patient_id == pid and s.get(Patient, pending).status == STATUS_MERGED
    assert [r["id"] for r in call(search_patients, actor(STAFF), "Marsh")["rows"]] == [str(pid)]
    assert events("patient.identity.verify")[-1].detail == {"outcome": "linked", "accounts": 1}


def test_identity_check_accepts_a_new_person(db):
    user_id, pending = _self_register(draft()["basic"])
    [item] = call(list_identity_checks, actor(ADMIN))
    assert item["matches"] == []
    call(verify_identity, actor(ADMIN), pending)
    with unit_of_work() as s:
        assert s.get(Patient, pending).status == STATUS_ACTIVE and s.get(User, user_id).patient_id == pending
    with pytest.raises(ValidationFailed):
        call(verify_identity, actor(ADMIN), pending)
