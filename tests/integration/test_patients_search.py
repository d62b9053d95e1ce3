"""Search by every key over blind indexes, role scoping, paging, helpful states, one audit per search."""

from __future__ import annotations

import pytest

from patient_portal.core.access import AccessDenied, Role
from patient_portal.domain.patients.search import PAGE_SIZE, search_patients
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


@pytest.fixture
def elena(db):
    return register()


@pytest.mark.parametrize("query,dob", [
    ("Marsh", ""), ("marsh", "1979-04-23"), ("Marsh, Elena", ""), ("Elena Marsh", ""), ("marsh elena", ""),
    ("MARSH,  elena", "1979-04-23"), ("", "1979-04-23"), ("1979-04-23", ""), ("617-555-0133", ""),
    ("+16175550133", ""), ("elena.marsh@EXAMPLE.com", ""),
])
def test_search_finds_by_each_key(elena, query, dob):
    result = call(search_patients, actor(STAFF), query, dob=dob)
    assert result["state"] == "results", result
    assert [r["id"] for r in result["rows"]] == [str(elena.patient_id)]
    assert result["rows"][0]["name"] == "Elena Marsh"


def test_search_by_mrn_with_or_without_prefix(elena):
    for typed in (elena.mrn, elena.mrn.lower(), elena.mrn[3:]):
        assert call(search_patients, actor(STAFF), typed)["rows"][0]["mrn"] == elena.mrn


def test_mrn_with_a_wrong_check_digit_is_explained(elena):
    wrong = elena.mrn[:-1] + str((int(elena.mrn[-1]) + 1) % 10)
    result = call(search_patients, actor(STAFF), wrong)
    assert result["state"] == "invalid" and "check digit" in result["message"]


def test_wrong_dob_or_other_name_finds_nothing_with_a_hint(elena):
    assert call(search_patients, actor(STAFF), "Marsh", dob="1979-04-24")["state"] == "none"
    result = call(search_patients, actor(STAFF), "Nobody")
    assert result["state"] == "none" and "spelling" in result["message"]


def test_empty_search_asks_for_input(db):
    result = call(search_patients, actor(STAFF), "  ")
    assert result["state"] == "empty" and result["rows"] == []


def test_bad_inputs_are_explained(db):
    assert "YYYY-MM-DD" in call(search_patients, actor(STAFF), "Marsh", dob="tomorrow")["message"]
    assert call(search_patients, actor(STAFF), "not@valid")["state"] == "invalid"


def test_each_search_is_audited_once_with_the_returned_ids(elena):
    call(search_patients, actor(STAFF), "Marsh")
    [event] = events("patient.search")
    assert event.detail["count"] == 1 and event.detail["patient_ids"] == [str(elena.patient_id)]
    assert event.detail["keys"] == ["family_name"] and "Marsh" not in str(event.detail)


def test_doctor_sees_only_care_team_patients(elena):
    doctor, other = actor(DOCTOR), actor(DOCTOR)
    put_on_care_team(doctor, elena.patient_id)
    assert len(call(search_patients, doctor, "Marsh")["rows"]) == 1
    result = call(search_patients, other, "Marsh")
    assert result["state"] == "none" and "care team" in result["message"]


def test_admin_searches_everyone(elena):
    assert len(call(search_patients, actor(ADMIN), "Marsh")["rows"]) == 1


def test_patients_cannot_search_and_the_refusal_is_audited(elena):
    with pytest.raises(AccessDenied):
        call(search_patients, actor(Role.PATIENT, elena.patient_id), "Marsh")
    assert [e.outcome for e in events("patient.search")] == ["denied"]


def test_pages_of_25_and_too_many_state(db):
    staff = actor(STAFF)
    from patient_portal.core.db import unit_of_work
    from patient_portal.domain.patients.registration import RegistrationDraft, create_record

    with unit_of_work() as s:  # 110 Marshes (bulk, bypassing the duplicate check on purpose)
        for i in range(110):
            d = draft(given_name=f"Person{i}", phone_mobile="", email=f"p{i}@example.com",
                      preferred_contact_method="")
            create_record(s, staff, RegistrationDraft.from_dict(d), "active")
    first = call(search_patients, staff, "Marsh")
    assert len(first["rows"]) == PAGE_SIZE and first["total"] == 110 and first["pages"] == 5
    assert first["too_many"] and "narrow" in first["message"]
    last = call(search_patients, staff, "Marsh", page=5)
    assert len(last["rows"]) == 110 - 4 * PAGE_SIZE
    ids = {r["id"] for p in range(1, 6) for r in call(search_patients, staff, "Marsh", page=p)["rows"]}
    assert len(ids) == 110
