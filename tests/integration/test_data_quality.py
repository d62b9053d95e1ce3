"""Data quality (issue 17): likely duplicates found on the blind indexes, records missing data,
admins only, each listed record's read audited; the page links each pair to the merge page."""

from __future__ import annotations

import pytest
from sqlmodel import delete, select

from patient_portal.core.access import AccessDenied
from patient_portal.core.db import unit_of_work
from patient_portal.domain.emergency.models import EmergencyContact
from patient_portal.domain.identity.sessions import actor_for
from patient_portal.domain.insurance.models import InsurancePolicy
from patient_portal.domain.patients import quality
from patient_portal.domain.patients.models import Patient, PatientPhoneKey
from patient_portal.state.quality import DataQualityState
from tests.integration.identity_support import events, make_user
from tests.integration.patients_support import call, draft, register
from tests.integration.test_chart_screens import _handle, _state

pytestmark = pytest.mark.usefixtures("db")


@pytest.fixture
def clinic():
    """Elena Marsh twice (same name and birth date), Ana Lopez and Ana Lopes sharing a phone and email,
    and Tom Reed with no phone, email, address, insurance or emergency contact."""
    first = register()
    second = register(draft(phone_mobile="(617) 555-0190", email="other@example.com"), confirmed_different=True)
    ana = register(draft(given_name="Ana", family_name="Lopez", date_of_birth="1990-02-02",
                         phone_mobile="(617) 555-0177", email="ana@example.com"), confirmed_different=True)
    anna = register(draft(given_name="Anna", family_name="Lopes", date_of_birth="1990-02-02",
                          phone_mobile="(617) 555-0177", email="ana@example.com"), confirmed_different=True)
    tom = register(draft(given_name="Tom", family_name="Reed", date_of_birth="1962-07-09",
                         phone_mobile="(617) 555-0150", email="tom@example.com"), confirmed_different=True)
    with unit_of_work() as s:  # a record imported from an older system, before the wizard's rules
        record = s.get(Patient, tom.patient_id)
        record.phones = record.email = record.address = None
        s.add(record)
        s.execute(delete(EmergencyContact).where(EmergencyContact.patient_id == tom.patient_id))
        s.execute(delete(InsurancePolicy).where(InsurancePolicy.patient_id == tom.patient_id))
        s.execute(delete(PatientPhoneKey).where(PatientPhoneKey.patient_id == tom.patient_id))
    return {"first": first.patient_id, "second": second.patient_id, "ana": ana.patient_id,
            "anna": anna.patient_id, "tom": tom.patient_id}


def test_duplicates_and_missing_data_are_found_without_decrypting_everyone(clinic):
    admin = actor_for(make_user("root@clinic.org", "admin"))
    r = call(quality.report, admin)
    pairs = {(d.keep.id, d.duplicate.id): d.reason for d in r.duplicates}
    assert pairs[(str(clinic["first"]), str(clinic["second"]))] == "the same name and date of birth"
    assert pairs[(str(clinic["ana"]), str(clinic["anna"]))] in {"the same email address", "the same phone number"}
    assert len(pairs) == 2  # one line per pair, whatever they share
    gaps = {g.key: g for g in r.gaps}
    for key in ("no_phone", "no_email", "no_address", "no_emergency_contact", "no_insurance"):
        assert gaps[key].count == 1 and [p.name for p in gaps[key].people] == ["Tom Reed"], key
    assert gaps["not_findable"].count == 0 and gaps["identity_waiting"].count == 0
    read = events("patient.quality.read")
    assert {str(e.patient_id) for e in read} == {str(v) for v in clinic.values()}
    assert {e.purpose for e in read} == {"operations"}


@pytest.mark.parametrize("role", ["staff", "doctor", "patient"])
def test_only_admins_see_the_data_quality_report(clinic, role):
    other = actor_for(make_user(f"{role}@clinic.org", role))
    with pytest.raises(AccessDenied):
        call(quality.report, other)
    assert [e.outcome for e in events("patient.quality.read")] == ["denied"]


def test_a_merged_record_is_no_longer_a_duplicate(clinic):
    admin = actor_for(make_user("root@clinic.org", "admin"))
    with unit_of_work() as s:
        s.exec(select(Patient).where(Patient.id == clinic["second"])).one().status = "merged"
    pairs = call(quality.report, admin).duplicates
    assert [(d.keep.name, d.duplicate.name) for d in pairs] == [("Ana Lopez", "Anna Lopes")]


async def test_the_page_links_each_pair_to_the_merge_page(clinic):
    state = _state(DataQualityState, "boss@clinic.org", "admin", "/admin/data-quality")
    await _handle(state, "load")
    assert state.quality_status == "ok"
    row = next(d for d in state.duplicates if d["reason"] == "the same name and date of birth")
    assert row["merge"] == f"/admin/merge?keep={clinic['first']}&duplicate={clinic['second']}"
    assert row["keep"] == row["duplicate"] == "Elena Marsh"
    assert {g["key"]: g["count"] for g in state.gaps}["no_phone"] == "1"
    assert [p["name"] for p in state.gap_people["no_email"]] == ["Tom Reed"]
    desk = _state(DataQualityState, "desk@clinic.org", "staff", "/admin/data-quality")
    await _handle(desk, "load")
    assert desk.quality_status == "denied" and desk.duplicates == []
