"""Charts per role, section edits per role, optimistic concurrency, clinical edits."""

from __future__ import annotations

import pytest

from patient_portal.core.access import AccessDenied, Role
from patient_portal.domain.emergency.service import update_contacts
from patient_portal.domain.history.service import remove_item, save_item
from patient_portal.domain.insurance.service import update_policies
from patient_portal.domain.patients.service import (
    Conflict,
    PatientNotFound,
    ValidationFailed,
    get_chart,
    search_patients,
    update_contact,
    update_demographics,
    update_section,
)
from tests.integration.patients_support import (
    ADMIN,
    DOCTOR,
    STAFF,
    actor,
    call,
    events,
    put_on_care_team,
    register,
)


@pytest.fixture
def pid(db):
    return register().patient_id


def test_staff_chart_has_demographics_insurance_contacts_but_no_clinical_rows(pid):
    chart = call(get_chart, actor(STAFF), pid)
    assert chart["basic"]["family_name"] == "Marsh" and chart["insurance"][0]["payer"] == "Tufts Health"
    assert chart["emergency"][0]["name"] == "Tom Marsh"
    assert chart["history"] is None and chart["header"]["allergies"] is None
    assert chart["header"]["insurance_status"] == "Insured: Tufts Health"
    [event] = events("patient.demographics.read")
    assert event.detail == {"sections": ["demographics", "insurance", "emergency"]}


def test_doctor_on_care_team_sees_clinical_rows(pid):
    doctor = actor(DOCTOR)
    put_on_care_team(doctor, pid)
    chart = call(get_chart, doctor, pid)
    assert chart["header"]["allergies"] == ["Latex"]
    assert chart["history"]["medications"][0]["name"] == "Atorvastatin"
    assert chart["can"]["edit_clinical"] and not chart["can"]["edit_insurance"]


def test_doctor_off_care_team_is_refused_and_audited(pid):
    with pytest.raises(AccessDenied):
        call(get_chart, actor(DOCTOR), pid)
    assert [e.outcome for e in events("patient.demographics.read")] == ["denied"]


def test_patient_sees_own_record_only(pid):
    other = register(_other()).patient_id
    me = actor(Role.PATIENT, pid)
    chart = call(get_chart, me, pid)
    assert chart["history"]["allergies"][0]["substance"] == "Latex" and chart["can"]["request_legal_change"]
    with pytest.raises(AccessDenied):
        call(get_chart, me, other)


def test_admin_sees_everything(pid):
    chart = call(get_chart, actor(ADMIN), pid)
    assert chart["history"] is not None and chart["insurance"] is not None


def test_unknown_or_malformed_id_reads_as_not_found(db):
    with pytest.raises(PatientNotFound):
        call(get_chart, actor(STAFF), "not-a-uuid")


def _other():
    from tests.integration.patients_support import draft

    return draft(given_name="Ravi", family_name="Shah", date_of_birth="1990-09-09",
                 phone_mobile="+1 617 555 0191", email="ravi@example.com")


def _base(pid):
    chart = call(get_chart, actor(STAFF), pid)
    return chart["basic"], chart["version"]


def test_staff_update_demographics_reindexes_and_audits_field_names_only(pid):
    base, version = _base(pid)
    call(update_demographics, actor(STAFF), pid, {**base, "family_name": "Marsh-Reid"}, expected_version=version)
    assert call(search_patients, actor(STAFF), "Marsh-Reid")["rows"][0]["id"] == str(pid)
    assert call(search_patients, actor(STAFF), "Marsh")["state"] == "none"
    event = events("patient.demographics.write")[-1]
    assert event.detail["fields_changed"] == ["family_name"] and "Reid" not in str(event.detail)


@pytest.mark.parametrize("role", [DOCTOR, Role.PATIENT])
def test_doctors_and_patients_cannot_change_legal_fields_directly(pid, role):
    base, version = _base(pid)
    who = actor(role, pid if role == Role.PATIENT else None)
    if role == DOCTOR:
        put_on_care_team(who, pid)
    with pytest.raises(AccessDenied):
        call(update_demographics, who, pid, {**base, "given_name": "Eli"}, expected_version=version)
    assert events("patient.demographics.write")[-1].outcome == "denied"


def test_patient_updates_own_contact_and_preferences(pid):
    base, version = _base(pid)
    me = actor(Role.PATIENT, pid)
    call(update_contact, me, pid, {**base, "phone_mobile": "+1 617 555 0199"}, expected_version=version)
    call(update_section, me, pid, "preferences", {**base, "preferred_language": "French"},
         expected_version=version + 1)
    basic, _ = _base(pid)
    assert basic["phone_mobile"] == "+1 617-555-0199" and basic["preferred_language"] == "French"
    assert call(search_patients, actor(STAFF), "617 555 0199")["rows"][0]["id"] == str(pid)


def test_patient_cannot_edit_someone_else(pid):
    other = register(_other()).patient_id
    base, version = _base(other)
    with pytest.raises(AccessDenied):
        call(update_contact, actor(Role.PATIENT, pid), other, base, expected_version=version)


def test_contact_edit_is_validated(pid):
    base, version = _base(pid)
    with pytest.raises(ValidationFailed) as err:
        call(update_contact, actor(STAFF), pid, {**base, "email": "nope"}, expected_version=version)
    assert "email" in err.value.errors


def test_second_stale_save_is_refused_with_what_changed(pid):
    base, version = _base(pid)
    call(update_contact, actor(STAFF), pid, {**base, "email": "first@example.com"}, expected_version=version)
    with pytest.raises(Conflict) as conflict:
        call(update_contact, actor(STAFF), pid, {**base, "email": "second@example.com", "city": "Salem"},
             expected_version=version, base=base)
    assert conflict.value.fields == ["Email"] and conflict.value.current["email"] == "first@example.com"
    assert _base(pid)[0]["email"] == "first@example.com"  # nothing overwritten
    # after reviewing, saving against the new version goes through
    call(update_contact, actor(STAFF), pid, {**base, "email": "second@example.com"},
         expected_version=conflict.value.version, base=conflict.value.current)
    assert _base(pid)[0]["email"] == "second@example.com"


def test_stale_save_of_an_untouched_section_goes_through(pid):
    base, version = _base(pid)
    call(update_contact, actor(STAFF), pid, {**base, "city": "Salem"}, expected_version=version)
    call(update_section, actor(STAFF), pid, "preferences", {**base, "preferred_language": "Greek"},
         expected_version=version, base=base)
    assert _base(pid)[0]["preferred_language"] == "Greek" and _base(pid)[0]["city"] == "Salem"


def test_insurance_and_emergency_updates_with_conflicts(pid):
    chart = call(get_chart, actor(STAFF), pid)
    policies, version = chart["insurance"], chart["version"]
    added = policies + [{"payer": "Medicare", "member_id": "1EG4", "relationship": "self", "order": "secondary"}]
    saved = call(update_policies, actor(Role.PATIENT, pid), patient_id=pid, policies=added, expected_version=version, base=policies)
    assert [p["order"] for p in saved] == ["primary", "secondary"] and saved[0]["id"] == policies[0]["id"]
    changed = [{**policies[0], "member_id": "X2"}]
    with pytest.raises(Conflict) as conflict:
        call(update_policies, actor(STAFF), patient_id=pid, policies=changed, expected_version=version, base=policies)
    assert "policy (secondary) added" in conflict.value.fields
    contacts = chart["emergency"]
    with pytest.raises(ValidationFailed):
        call(update_contacts, actor(STAFF), patient_id=pid, contacts=[], expected_version=version + 1)
    saved = call(update_contacts, actor(STAFF), patient_id=pid, contacts=[{**contacts[0], "hours": "evenings"}],
                 expected_version=version + 1, base=contacts)
    assert saved[0]["hours"] == "evenings"
    assert events("patient.emergency.write")[-1].detail["fields_changed"] == ["contact (primary): hours"]


@pytest.mark.parametrize("role,allowed", [(STAFF, True), (ADMIN, True), (DOCTOR, False)])
def test_insurance_write_by_role(pid, role, allowed):
    who = actor(role)
    put_on_care_team(who, pid)
    chart = call(get_chart, actor(ADMIN), pid)
    if allowed:
        call(update_policies, who, patient_id=pid, policies=[], expected_version=chart["version"])
    else:
        with pytest.raises(AccessDenied):
            call(update_policies, who, patient_id=pid, policies=[], expected_version=chart["version"])


def test_doctor_adds_edits_and_removes_history_with_row_versions(pid):
    doctor = actor(DOCTOR)
    put_on_care_team(doctor, pid)
    row = call(save_item, doctor, patient_id=pid, kind="allergies", values={"substance": "Aspirin", "severity": "severe"})
    updated = call(save_item, doctor, patient_id=pid, kind="allergies", values={**row, "reaction": "Wheeze"},
                   item_id=row["id"], expected_version=int(row["version"]))
    assert updated["version"] == "2"
    with pytest.raises(Conflict):
        call(save_item, doctor, patient_id=pid, kind="allergies", values={**row, "reaction": "Hives"},
             item_id=row["id"], expected_version=1)
    with pytest.raises(ValidationFailed):
        call(save_item, doctor, patient_id=pid, kind="allergies", values={"substance": ""})
    call(remove_item, doctor, patient_id=pid, kind="allergies", item_id=row["id"])
    assert call(get_chart, doctor, pid)["header"]["allergies"] == ["Latex"]


@pytest.mark.parametrize("role", [STAFF, Role.PATIENT])
def test_staff_and_patients_cannot_write_clinical_rows(pid, role):
    with pytest.raises(AccessDenied):
        call(save_item, actor(role, pid), patient_id=pid, kind="allergies",
             values={"substance": "Aspirin", "severity": "mild"})


def test_doctor_off_care_team_cannot_write_clinical_rows(pid):
    with pytest.raises(AccessDenied):
        call(save_item, actor(DOCTOR), patient_id=pid, kind="allergies",
             values={"substance": "Aspirin", "severity": "mild"})
