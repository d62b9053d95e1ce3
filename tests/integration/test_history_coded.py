"""The coded problem list, allergies and medication list (issue 12), at the service layer: codes
found by words and checked against the code tables, "no known allergies" told apart from "not
asked", a second active entry of the same drug refused with the existing one named, what a patient
reports flagged until a clinician verifies it — and who may do each of these."""

from __future__ import annotations

import uuid

import pytest

from patient_portal.core.access import AccessDenied, Role
from patient_portal.core.coding import FORMULARY, ICD10_CM, Coding
from patient_portal.domain.codes import service as codes
from patient_portal.domain.history import service as history
from patient_portal.domain.patients import header as hdr
from patient_portal.domain.patients.validation import ValidationFailed
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

PATIENT = Role.PATIENT


@pytest.fixture
def chart(code_tables):
    pid = register().patient_id
    doctor = actor(DOCTOR)
    put_on_care_team(doctor, pid)
    return {"pid": pid, "doctor": doctor, "patient": actor(PATIENT, pid)}


def _save(chart, kind, values, **kw):
    return call(history.save_item, chart["doctor"], patient_id=chart["pid"], kind=kind, values=values, **kw)


def _entries(chart, kind):
    return call(history.read_for_chart, chart["doctor"], patient_id=chart["pid"])[kind]


# ------------------------------------------------------------------------------------------ problem list

def test_typing_words_finds_e11_9_and_saving_the_code_names_the_condition(chart):
    found = call(codes.search, chart["doctor"], system="icd10cm", text="type 2 diab")
    assert found[0] == Coding(ICD10_CM, "E11.9", "Type 2 diabetes mellitus without complications")
    saved = _save(chart, "conditions", {"code": "e11.9", "onset": "2020-03-01", "status": "active",
                                        "note": "Diet controlled until 2022"})
    assert (saved["code"], saved["code_system"]) == ("E11.9", "ICD-10")
    assert saved["description"] == "Type 2 diabetes mellitus without complications"
    condition = _entries(chart, "conditions")[-1]
    assert condition.coding == Coding(ICD10_CM, "E11.9", "Type 2 diabetes mellitus without complications")
    assert condition.values["note"] == "Diet controlled until 2022"
    event = events("patient.clinical.write")[-1]
    assert event.object_type == "history.conditions" and event.basis == "care_team" and event.purpose == "treatment"


def test_an_unknown_code_is_refused_next_to_the_code_field(chart):
    with pytest.raises(ValidationFailed) as refused:
        _save(chart, "conditions", {"description": "Diabetes", "code": "E11.95"})
    assert "E11.95 is not an ICD-10-CM code" in refused.value.errors["code"]
    with pytest.raises(ValidationFailed) as refused:
        _save(chart, "conditions", {"description": "Diabetes", "status": "cured"})
    assert "Choose one of" in refused.value.errors["status"]
    assert len(_entries(chart, "conditions")) == 1  # only the intake's


def test_family_history_is_coded_the_same_way_with_the_age_at_onset(chart):
    saved = _save(chart, "family_history", {"relative": "Mother", "code": "E11.9", "age_at_onset": "52"})
    assert saved["condition"] == "Type 2 diabetes mellitus without complications" and saved["code_system"] == "ICD-10"
    assert _entries(chart, "family_history")[-1].coding.code == "E11.9"
    with pytest.raises(ValidationFailed) as refused:
        _save(chart, "family_history", {"relative": "Father", "code": "X99.999", "age_at_onset": "old"})
    assert set(refused.value.errors) == {"code", "age_at_onset"}


def test_older_free_text_rows_still_read_and_save(chart):
    free = _save(chart, "conditions", {"description": "Long COVID symptoms"})
    assert free["code"] == "" and _entries(chart, "conditions")[-1].coding is None
    intake, = [e for e in _entries(chart, "conditions") if e.values["description"] == "Asthma"]
    assert intake.values["status"] == "active" and intake.values["note"] == ""


# ------------------------------------------------------------------------------------------ allergies

def test_a_drug_allergy_carries_the_formulary_drug_and_its_classes(chart):
    saved = _save(chart, "allergies", {"code": "amoxicillin", "reaction": "Hives, wheeze", "severity": "severe",
                                       "criticality": "high"})
    assert saved["substance"] == "Amoxicillin" and saved["category"] == "medication"
    assert "penicillins" in saved["drug_class"] and saved["verification"] == "verified" and saved["status"] == "active"
    assert _entries(chart, "allergies")[-1].coding == Coding(FORMULARY, "amoxicillin", "Amoxicillin")
    by_class = _save(chart, "allergies", {"substance": "PENICILLINS", "category": "drug_class", "severity": "moderate"})
    assert (by_class["substance"], by_class["drug_class"]) == ("PENICILLINS", "penicillins")
    with pytest.raises(ValidationFailed) as refused:
        _save(chart, "allergies", {"substance": "Moon dust", "category": "drug_class", "severity": "mild"})
    assert "drug class" in refused.value.errors["substance"]
    food = _save(chart, "allergies", {"substance": "Peanuts", "category": "food", "severity": "severe"})
    assert food["code"] == "" and food["drug_class"] == ""


def test_no_known_allergies_is_an_answer_apart_from_not_asked(code_tables):
    bare = draft(given_name="Nia", family_name="Blank", email="nia@example.com", phone_mobile="+1 617 555 0177")
    bare["history"] = {}
    pid = register(bare).patient_id
    doctor = actor(DOCTOR)
    put_on_care_team(doctor, pid)
    assert call(hdr.chart_header, doctor, pid).allergy_status == hdr.ALLERGIES_NOT_RECORDED
    assert call(history.record_no_known_allergies, doctor, patient_id=pid) == history.NO_KNOWN_ALLERGIES
    header = call(hdr.chart_header, doctor, pid)
    assert header.allergies == [] and header.allergy_status == hdr.NO_KNOWN_ALLERGIES
    assert events("patient.clinical.write")[-1].detail == {"no_known_allergies": True}

    call(history.save_item, doctor, patient_id=pid, kind="allergies", values={"substance": "Latex", "severity": "mild"})
    assert events("patient.clinical.write")[-1].detail["no_known_allergies_cleared"] is True
    header = call(hdr.chart_header, doctor, pid)
    assert header.allergies == ["Latex"] and header.allergy_status == hdr.ALLERGIES_RECORDED
    with pytest.raises(history.AllergiesOnFile) as refused:
        call(history.record_no_known_allergies, doctor, patient_id=pid)
    assert "Latex" in str(refused.value)
    assert call(hdr.chart_header, doctor, pid).allergy_status == hdr.ALLERGIES_RECORDED


def test_a_resolved_allergy_leaves_the_header_and_lets_no_known_allergies_be_recorded(chart):
    latex, = _entries(chart, "allergies")
    _save(chart, "allergies", {**latex.form(), "status": "resolved"}, item_id=latex.id, expected_version=latex.version)
    assert call(hdr.chart_header, chart["doctor"], chart["pid"]).allergies == []
    call(history.record_no_known_allergies, chart["doctor"], patient_id=chart["pid"])
    assert call(hdr.chart_header, chart["doctor"], chart["pid"]).allergy_status == hdr.NO_KNOWN_ALLERGIES


# ------------------------------------------------------------------------------------------ medications

def test_a_duplicate_medication_is_refused_naming_the_existing_entry(chart):
    first = _save(chart, "medications", {"drug": "amoxicillin", "dose": "500 mg", "route": "oral",
                                         "frequency": "three times daily", "start_date": "2025-03-03",
                                         "prescriber": "Dr. Rivera", "origin": "prescribed"})
    assert (first["name"], first["rxnorm"]) == ("Amoxicillin", "723") and "penicillins" in first["drug_class"]
    with pytest.raises(history.DuplicateMedication) as refused:
        _save(chart, "medications", {"drug": "amoxicillin", "dose": "875 mg"})
    message = str(refused.value)
    assert "Amoxicillin is already on the medication list" in message and "500 mg" in message
    assert "three times daily" in message and "since 3 Mar 2025" in message
    assert refused.value.existing.id == first["id"]
    with pytest.raises(history.DuplicateMedication):  # typed by name, it is the same drug
        _save(chart, "medications", {"name": "amoxicillin"})
    # the intake's free-text "Atorvastatin" is the formulary's atorvastatin too
    with pytest.raises(history.DuplicateMedication) as refused:
        _save(chart, "medications", {"drug": "atorvastatin", "dose": "40 mg"})
    assert "Atorvastatin is already on the medication list (20 mg, nightly)" in str(refused.value)
    assert len(_entries(chart, "medications")) == 2
    # once stopped, it may be started again; and an entry saved again is not its own duplicate
    _save(chart, "medications", {**first, "status": "stopped", "stop_date": "2025-03-10"}, item_id=first["id"],
          expected_version=int(first["version"]))
    again = _save(chart, "medications", {"drug": "amoxicillin", "dose": "875 mg"})
    _save(chart, "medications", {**again, "frequency": "twice daily"}, item_id=again["id"],
          expected_version=int(again["version"]))


def test_a_stale_medication_save_is_a_conflict_as_before(chart):
    first = _save(chart, "medications", {"drug": "lisinopril", "dose": "10 mg"})
    _save(chart, "medications", {**first, "dose": "20 mg"}, item_id=first["id"], expected_version=1)
    with pytest.raises(history.Conflict) as stale:
        _save(chart, "medications", {**first, "dose": "5 mg"}, item_id=first["id"], expected_version=1)
    assert "dose" in stale.value.fields and stale.value.version == 2


# ------------------------------------------------------------------------------------------ patient reports

def test_what_the_patient_reports_is_flagged_until_a_clinician_verifies_it(chart):
    me = chart["patient"]
    med = call(history.report_item, me, kind="medications",
               values={"drug": "cetirizine", "dose": "10 mg", "frequency": "once daily", "verification": "verified"})
    assert (med["verification"], med["origin"]) == ("patient-reported", "patient-reported")
    allergy = call(history.report_item, me, kind="allergies", values={"substance": "Cats", "category": "environment",
                                                                       "severity": "mild"})
    assert allergy["verification"] == "patient-reported"
    reported = events("patient.clinical.report_own")
    assert len(reported) == 2 and reported[-1].basis == "self" and reported[-1].purpose == "patient_request"
    assert reported[-1].detail["reported_by_patient"] is True
    verified = call(history.verify_item, chart["doctor"], patient_id=chart["pid"], kind="medications",
                    item_id=med["id"], expected_version=1)
    assert verified["verification"] == "verified" and verified["origin"] == "patient-reported"
    with pytest.raises(ValidationFailed):
        call(history.report_item, me, kind="conditions", values={"description": "Gout"})
    with pytest.raises(history.DuplicateMedication):
        call(history.report_item, me, kind="medications", values={"name": "Cetirizine"})


# ------------------------------------------------------------------------------------------ who may

def test_roles_allowed_and_denied(chart):
    pid, values = chart["pid"], {"code": "E11.9"}
    stranger, staff = actor(DOCTOR), actor(STAFF)
    other = register(draft(given_name="Omar", family_name="Haddad", email="omar@example.com",
                           phone_mobile="+1 617 555 0190")).patient_id
    for who in (stranger, staff, chart["patient"], actor(PATIENT, other)):
        with pytest.raises(AccessDenied):
            call(history.save_item, who, patient_id=pid, kind="conditions", values=values)
        with pytest.raises(AccessDenied):
            call(history.record_no_known_allergies, who, patient_id=pid)
    with pytest.raises(AccessDenied):
        call(history.verify_item, stranger, patient_id=pid, kind="medications", item_id=str(uuid.uuid4()))
    for who in (actor(ADMIN), chart["doctor"], staff, actor(PATIENT, None)):  # only a patient, on their own record
        with pytest.raises(AccessDenied):
            call(history.report_item, who, kind="allergies", values={"substance": "Dust", "severity": "mild"})
    call(history.save_item, actor(ADMIN), patient_id=pid, kind="conditions", values=values)
    call(history.report_item, actor(PATIENT, other), kind="allergies", values={"substance": "Dust", "severity": "mild"})
    assert [e.values["substance"] for e in _entries(chart, "allergies")] == ["Latex"]  # Omar's went on his own
    denied = [e for e in events("patient.clinical.write") if e.outcome == "denied"]
    assert {e.actor_id for e in denied} >= {stranger.user_id, staff.user_id}
    assert call(history.read_for_chart, staff, patient_id=pid) is None


# ------------------------------------------------------------------------------------------ demo data

def test_the_demo_patient_has_a_verified_penicillin_allergy_and_formulary_medications(code_tables):
    from patient_portal.domain.patients.demo import ensure_demo_patients

    maria = ensure_demo_patients()[0]
    assert ensure_demo_patients()[0] == maria  # idempotent
    entries = call(history.read_for_chart, actor(ADMIN), patient_id=maria)
    penicillin = entries["allergies"][0].values
    assert (penicillin["category"], penicillin["drug_class"], penicillin["verification"]) == \
        ("drug_class", "penicillins", "verified")
    assert all(m.values["drug"] and m.values["drug_class"] and m.values["status"] == "active"
               for m in entries["medications"])
    assert entries["medications"][0].coding == Coding("http://www.nlm.nih.gov/research/umls/rxnorm", "29046", "Lisinopril")
    assert all(c.coding is not None and c.coding.system == ICD10_CM for c in entries["conditions"])
    assert [f.values["code"] for f in entries["family_history"]] == ["E11.9", "I25.10"]
