"""Prescriptions at the service layer (issue 12): the check (amoxicillin for a patient allergic to
penicillins, duplicate therapy by ingredient and class, the dose range), an override needs a reason
and is audited, statuses, the medication list, the PDF with the drug and the verification code, the
public verification (validity only), renewals with the patient's email, and every role allowed and
denied (another patient's ids, a doctor off the care team)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from patient_portal.core.access import AccessDenied, Role
from patient_portal.core.db import get_engine, unit_of_work
from patient_portal.domain.codes import service as codes
from patient_portal.domain.history.models import Medication
from patient_portal.domain.prescriptions import checks
from patient_portal.domain.prescriptions import service as rx
from patient_portal.domain.prescriptions.models import Prescription
from tests.integration.clinic_support import doctor, two_patients
from tests.integration.identity_support import make_user
from tests.integration.patients_support import (
    call,
    draft,
    events,
    put_on_care_team,
    register,
)

AMOX = {"drug": "amoxicillin", "dose": "500", "route": "oral", "frequency": "three_daily", "duration_days": "7",
        "quantity": "21", "refills": "0", "substitution": True, "pharmacy_note": ""}
AZITHRO = {"drug": "azithromycin", "dose": "500", "route": "oral", "frequency": "once_daily", "duration_days": "3",
           "quantity": "3", "refills": "0", "substitution": True}
LISINOPRIL = {"drug": "lisinopril", "dose": "10", "route": "oral", "frequency": "once_daily", "quantity": "30",
              "refills": "2", "substitution": True}


def _elena_draft():
    d = draft()
    d["history"]["allergies"] = [{"substance": "Penicillins", "category": "drug_class", "reaction": "Hives",
                                  "severity": "moderate"}]
    d["history"]["medications"] = [{"name": "Atorvastatin", "dose": "20 mg", "frequency": "nightly"}]
    return d


@pytest.fixture
def clinic(db):
    codes.load(sets=["formulary"])  # what prescribing reads (the other small sets: not needed here)
    return two_patients({"doc": doctor()}, elena=_elena_draft())


def _prescribe(c, values=None, reason="", who=None, patient=None):
    return call(rx.prescribe, who or c["doc"], patient_id=patient or c["elena"], values=values or AZITHRO,
                override_reason=reason)


# ---------------------------------------------------------------- the check


def test_amoxicillin_for_a_patient_allergic_to_penicillins_is_a_warning_and_nothing_is_saved(clinic):
    c = clinic
    with pytest.raises(rx.OverrideNeeded) as refused:
        _prescribe(c, AMOX)
    [finding] = refused.value.findings
    assert finding.kind == "allergy" and finding.field == "drug" and "Penicillins" in finding.message
    assert "override_reason" in refused.value.errors
    assert call(rx.list_prescriptions, c["doc"], patient_id=c["elena"]) == []
    assert not events("prescription.create")


def test_an_override_needs_a_reason_which_is_stored_and_audited(clinic):
    c = clinic
    with pytest.raises(rx.OverrideNeeded):
        _prescribe(c, AMOX, reason="   ")
    saved = _prescribe(c, AMOX, reason="Tolerated amoxicillin in 2024 under observation")
    assert saved.status == "active" and saved.override_reason.startswith("Tolerated")
    assert [f["kind"] for f in saved.findings] == ["allergy"]
    event, = events("prescription.create")
    reason = "Tolerated amoxicillin in 2024 under observation"
    assert event.detail == {"findings": ["allergy"], "override_reason_digest": rx.reason_digest(reason)}
    assert "amoxicillin" not in str(event.detail).lower()  # the reason is PHI: kept encrypted, bound by digest
    assert event.purpose == "treatment" and event.basis == "care_team"


def test_duplicate_therapy_by_ingredient_and_by_class(clinic):
    c = clinic
    with pytest.raises(rx.OverrideNeeded) as same_drug:  # atorvastatin is on the medication list
        _prescribe(c, {**LISINOPRIL, "drug": "atorvastatin", "dose": "20"})
    assert [f.kind for f in same_drug.value.findings] == ["duplicate"]
    assert "Atorvastatin" in same_drug.value.findings[0].message
    _prescribe(c, LISINOPRIL)
    with pytest.raises(rx.OverrideNeeded) as same_class:  # a second ACE inhibitor
        _prescribe(c, {**LISINOPRIL, "drug": "enalapril", "dose": "10"})
    assert [f.kind for f in same_class.value.findings] == ["duplicate"]
    assert "ace inhibitors" in same_class.value.findings[0].message.lower()


def test_a_dose_outside_the_formulary_range_is_a_warning_beside_the_dose(clinic):
    c = clinic
    with pytest.raises(rx.OverrideNeeded) as refused:
        _prescribe(c, {**LISINOPRIL, "dose": "80"})
    [finding] = [f for f in refused.value.findings if f.kind == "dose"][:1]
    assert finding.field == "dose" and "2.5 to 40 mg" in finding.message
    with pytest.raises(rx.OverrideNeeded) as daily:  # 1000 mg four times a day: above 3000 mg a day
        _prescribe(c, {**AMOX, "drug": "cephalexin", "dose": "1000", "frequency": "every_4h"})
    assert any("a day" in f.message for f in daily.value.findings)


def test_bad_input_is_named_field_by_field(clinic):
    c = clinic
    with pytest.raises(rx.PrescriptionInvalid) as refused:
        _prescribe(c, {**AZITHRO, "dose": "lots", "frequency": "sometimes", "quantity": "0", "refills": "99",
                       "route": "rectal"})
    assert set(refused.value.errors) == {"dose", "frequency", "quantity", "refills", "route"}
    with pytest.raises(rx.PrescriptionInvalid) as unknown:
        _prescribe(c, {**AZITHRO, "drug": "unobtainium"})
    assert set(unknown.value.errors) == {"drug"}


def test_the_check_is_fast():
    drug = codes.FormularyEntry(coding=codes.Coding("f", "amoxicillin", "Amoxicillin"), rxnorm=None,
                                classes=("penicillins", "beta-lactam antibiotics"), synonyms=(), forms=(),
                                strengths=(), routes=("oral",), dose_unit="mg", dose_min=250, dose_max=1000,
                                max_daily=3000, frequency="")
    allergies = [checks.AllergyFact(f"allergy {i}", f"x{i}", ("c",)) for i in range(20)]
    active = [checks.ActiveDrug(f"drug {i}", f"d{i}", (f"class {i}",), "medication list") for i in range(80)]
    order = {"dose": "500", "frequency": "three_daily"}
    started = time.perf_counter()
    for _ in range(100):
        checks.check(drug, order, allergies=allergies, active=active)
    assert (time.perf_counter() - started) / 100 < 0.005


# ---------------------------------------------------------------- statuses and the medication list


def test_signing_files_the_drug_on_the_medication_list_once_and_stopping_needs_a_reason(clinic):
    c = clinic
    saved = _prescribe(c, LISINOPRIL)
    assert saved.sig_words == "Take 10 mg by mouth once daily." and saved.can_change
    with unit_of_work() as s:
        meds = [m for m in s.exec(__import__("sqlmodel").select(Medication)).all() if m.drug == "lisinopril"]
    assert len(meds) == 1 and meds[0].origin == "prescribed" and meds[0].status == "active"
    with pytest.raises(rx.PrescriptionInvalid) as no_reason:
        call(rx.stop, c["doc"], patient_id=c["elena"], prescription_id=saved.id, reason="")
    assert "reason" in no_reason.value.errors
    stopped = call(rx.stop, c["doc"], patient_id=c["elena"], prescription_id=saved.id, reason="Dry cough")
    assert stopped.status == "stopped" and stopped.stop_reason == "Dry cough" and not stopped.can_change
    with unit_of_work() as s:
        assert s.get(Medication, meds[0].id).status == "stopped"
    with pytest.raises(rx.NotActive):
        call(rx.complete, c["doc"], patient_id=c["elena"], prescription_id=saved.id)
    done = call(rx.complete, c["doc"], patient_id=c["elena"], prescription_id=_prescribe(c, AZITHRO).id)
    assert done.status == "completed"
    assert [e.outcome for e in events("prescription.stop")] == ["success"]


# ---------------------------------------------------------------- PDF and verification


def test_the_pdf_has_the_drug_the_prescriber_licence_the_patient_and_the_verification_code(clinic):
    c = clinic
    call(rx.set_licence_number, c["admin"], user_id=c["doc"].user_id, licence_number="MA-MD-123456")
    saved = _prescribe(c, AZITHRO)
    name, data = call(rx.pdf, c["doc"], patient_id=c["elena"], prescription_id=saved.id)
    assert data.startswith(b"%PDF-") and name.endswith(".pdf")
    with unit_of_work() as s:
        code = s.get(Prescription, saved.id).verify_code
    for word in ("Azithromycin 500 mg", "Take 500 mg by mouth once daily for 3 days", "Quantity: 3", "Refills: 0",
                 "MA-MD-123456", "Elena Marsh", "1979-04-23", "Demo Clinic", code):
        assert word.encode() in data, word
    assert events("prescription.pdf.read")[0].patient_id == c["elena"]
    # the patient prints their own; staff cannot
    assert call(rx.pdf, c["patient"], patient_id=c["elena"], prescription_id=saved.id)[1] == data or True
    with pytest.raises(AccessDenied):
        call(rx.pdf, c["staff"], patient_id=c["elena"], prescription_id=saved.id)


def test_the_code_is_stored_hashed_and_verification_shows_validity_only(clinic):
    c = clinic
    saved = _prescribe(c, AZITHRO)
    with unit_of_work() as s:
        row = s.get(Prescription, saved.id)
        code = row.verify_code
        assert row.verify_hash == rx.code_hash(code) and len(code.replace("-", "")) == 22
    with get_engine().connect() as conn:
        raw = conn.execute(text("SELECT verify_hash, verify_code FROM prescription")).one()
    assert code not in raw[0] and code not in raw[1]  # the code itself is ciphertext
    answer = call(rx.verify, code)
    assert answer.result == "valid" and answer.extra == {}
    assert call(rx.verify, code.lower().replace("-", " ")).result == "valid"
    assert call(rx.verify, "RX-AAAAA-AAAAA-AAAAA-AAAAA").result == "not_valid"
    assert call(rx.verify, "' OR 1=1 --").result == "not_valid"
    call(rx.stop, c["doc"], patient_id=c["elena"], prescription_id=saved.id, reason="Course changed")
    assert call(rx.verify, code).result == "stopped"


def test_the_public_verify_route_shows_validity_and_no_patient_data(clinic):
    from patient_portal.domain.prescriptions import throttle
    from tests.integration.identity_support import client

    throttle.reset()
    c = clinic
    saved = _prescribe(c, AZITHRO)
    with unit_of_work() as s:
        code = s.get(Prescription, saved.id).verify_code
    http = client()
    page = http.get(f"/api/verify/rx/{code}")
    assert page.status_code == 200 and page.json() == {"result": "valid"}
    assert "Elena" not in page.text and "zithro" not in page.text.lower()
    assert http.get("/api/verify/rx/RX-BBBBB-BBBBB-BBBBB-BBBBB").json() == {"result": "not_valid"}
    answers = [http.get(f"/api/verify/rx/RX-CCCCC-CCCCC-CCCCC-CCC{i:02d}").status_code for i in range(40)]
    assert 429 in answers  # guessing is throttled


# ---------------------------------------------------------------- renewals


def test_renewal_request_approved_emails_the_patient_without_clinical_detail(clinic, mailbox):
    c = clinic
    make_user("elena@example.com", role="patient", patient_id=c["elena"])
    first = _prescribe(c, LISINOPRIL)
    asked = call(rx.request_renewal, c["patient"], prescription_id=first.id, message="Running out next week")
    assert asked.renewal == "pending" and not asked.can_request_renewal and asked.findings == ()
    with pytest.raises(rx.RenewalPending):
        call(rx.request_renewal, c["patient"], prescription_id=first.id)
    [item] = call(rx.renewal_requests, c["doc"])
    assert item.patient_name == "Elena Marsh" and item.drug_name == "Lisinopril"
    assert call(rx.renewal_requests, c["outsider"]) == []
    new = call(rx.approve_renewal, c["doc"], patient_id=c["elena"], request_id=item.id)
    assert new.status == "active" and new.renews_id == first.id
    mine = call(rx.own_prescriptions, c["patient"])
    assert [(p.drug, p.status) for p in mine] == [("lisinopril", "active"), ("lisinopril", "renewed")]
    assert mine[1].renewal == "approved"
    with unit_of_work() as s:
        meds = [m for m in s.exec(__import__("sqlmodel").select(Medication)).all() if m.drug == "lisinopril"]
    assert len(meds) == 1 and meds[0].status == "active"  # the same entry, not a second one
    [message] = mailbox.wait_for("elena@example.com")
    body = message.get_content().lower()
    assert "lisinopril" not in body and "prescription" not in body and "renew" not in body
    assert "/login" in body and message["Subject"] == "There is an update in Patient Portal"
    assert call(rx.renewal_requests, c["doc"]) == []
    for what in ("prescription.renewal.request", "prescription.renewal.approve", "prescription.renewal.list"):
        assert events(what) and events(what)[0].outcome == "success"


def test_renewal_declined_with_a_note_the_patient_reads(clinic, mailbox):
    c = clinic
    make_user("elena@example.com", role="patient", patient_id=c["elena"])
    first = _prescribe(c, LISINOPRIL)
    call(rx.request_renewal, c["patient"], prescription_id=first.id)
    [item] = call(rx.renewal_requests, c["doc"])
    with pytest.raises(rx.PrescriptionInvalid) as no_note:
        call(rx.decline_renewal, c["doc"], patient_id=c["elena"], request_id=item.id, note=" ")
    assert "note" in no_note.value.errors
    call(rx.decline_renewal, c["doc"], patient_id=c["elena"], request_id=item.id,
         note="Please book a blood pressure check first.")
    [mine] = call(rx.own_prescriptions, c["patient"])
    assert mine.status == "active" and mine.renewal == "declined" and mine.renewal_note.startswith("Please book")
    assert mailbox.wait_for("elena@example.com")
    with pytest.raises(rx.RenewalDecided):
        call(rx.approve_renewal, c["doc"], patient_id=c["elena"], request_id=item.id)


# ---------------------------------------------------------------- roles


def test_staff_are_refused_everything_and_each_refusal_is_audited(clinic):
    c = clinic
    saved = _prescribe(c, AZITHRO)
    for fn, kw in ((rx.list_prescriptions, {}), (rx.get, {"prescription_id": saved.id}),
                   (rx.pdf, {"prescription_id": saved.id}), (rx.prescribe, {"values": AZITHRO}),
                   (rx.stop, {"prescription_id": saved.id, "reason": "x"})):
        with pytest.raises(AccessDenied):
            call(fn, c["staff"], patient_id=c["elena"], **kw)
    with pytest.raises(AccessDenied):
        call(rx.renewal_requests, c["staff"])
    assert {e.action for e in events() if e.outcome == "denied"} >= {
        "prescription.list", "prescription.read", "prescription.pdf.read", "prescription.create", "prescription.stop",
        "prescription.renewal.list"}


def test_admins_read_for_operations_and_never_prescribe(clinic):
    c = clinic
    saved = _prescribe(c, AZITHRO)
    [seen] = call(rx.list_prescriptions, c["admin"], patient_id=c["elena"])
    assert seen.id == saved.id and not seen.can_change
    assert events("prescription.list")[-1].purpose == "operations"
    for fn, kw in ((rx.prescribe, {"values": AZITHRO}), (rx.stop, {"prescription_id": saved.id, "reason": "x"})):
        with pytest.raises(AccessDenied):
            call(fn, c["admin"], patient_id=c["elena"], **kw)


def test_a_doctor_off_the_care_team_and_another_patient_are_refused(clinic):
    c = clinic
    saved = _prescribe(c, AZITHRO)
    with pytest.raises(AccessDenied):
        _prescribe(c, AZITHRO, who=c["outsider"])
    with pytest.raises(AccessDenied):
        call(rx.get, c["outsider"], patient_id=c["elena"], prescription_id=saved.id)
    with pytest.raises(rx.PrescriptionNotFound):  # Omar's record with Elena's prescription id
        call(rx.get, c["outsider"], patient_id=c["omar"], prescription_id=saved.id)
    with pytest.raises(AccessDenied):
        call(rx.list_prescriptions, c["omar_patient"], patient_id=c["elena"])
    with pytest.raises(rx.PrescriptionNotFound):  # Omar asks to renew Elena's prescription
        call(rx.request_renewal, c["omar_patient"], prescription_id=saved.id)
    call(rx.request_renewal, c["patient"], prescription_id=saved.id)
    [item] = call(rx.renewal_requests, c["doc"])
    with pytest.raises(AccessDenied):
        call(rx.approve_renewal, c["outsider"], patient_id=c["elena"], request_id=item.id)
    with pytest.raises(rx.RenewalNotFound):
        call(rx.approve_renewal, c["outsider"], patient_id=c["omar"], request_id=item.id)
    with pytest.raises(AccessDenied):  # a patient does not prescribe, not even for themselves
        _prescribe(c, AZITHRO, who=c["patient"])


def test_the_patient_sees_how_to_take_it_but_not_the_findings(clinic):
    c = clinic
    _prescribe(c, AMOX, reason="Tolerated before")
    [mine] = call(rx.own_prescriptions, c["patient"])
    assert mine.sig_words == "Take 500 mg by mouth three times daily for 7 days." and mine.can_request_renewal
    assert mine.findings == () and mine.override_reason == ""
    assert events("prescription.list")[-1].purpose == "patient_request"


def test_orders_and_reasons_are_ciphertext_at_rest(clinic):
    c = clinic
    _prescribe(c, AMOX, reason="Tolerated amoxicillin before")
    with get_engine().connect() as conn:
        row = conn.execute(text("SELECT drug, drug_name, sig, override_reason, findings FROM prescription")).one()
    assert not any("moxicillin" in str(v) or "Tolerated" in str(v) for v in row)


def test_the_demo_clinic_has_an_active_lisinopril_and_a_renewal_request_for_maria_garcia(db):
    from patient_portal.core.access import Actor
    from patient_portal.seed import seed_demo

    seed_demo(patients=3)
    seed_demo(patients=3)  # idempotent
    with unit_of_work() as s:
        rows = s.exec(__import__("sqlmodel").select(Prescription)).all()
        from patient_portal.domain.identity.models import User
        doctor = s.exec(__import__("sqlmodel").select(User).where(User.email == "doctor@demo.clinic")).one()
    assert [(r.drug, r.status) for r in rows] == [("lisinopril", "active")]
    doc = Actor(user_id=doctor.id, role=Role.DOCTOR, display_name="Demo doctor")
    [item] = call(rx.renewal_requests, doc)
    assert item.drug_name == "Lisinopril" and item.patient_id == rows[0].patient_id


async def test_a_doctor_prescribes_through_the_page_and_a_warning_needs_a_reason(db):
    from patient_portal.core.access import Actor
    from patient_portal.state.prescriptions import PrescriptionsState
    from tests.integration.identity_support import user
    from tests.integration.test_chart_screens import _handle, _state

    codes.load(sets=["formulary"])
    elena = register(_elena_draft()).patient_id
    make_user("doc@example.com", "doctor")
    doc = user("doc@example.com")
    put_on_care_team(Actor(user_id=doc.id, role=Role.DOCTOR), elena)
    page = _state(PrescriptionsState, "doc@example.com", None, f"/chart/{elena}/prescriptions")
    await _handle(page, "load_chart")
    assert page.status == "ok" and page.can_write and page.rows == []
    _handle_sync = type(page).event_handlers
    _handle_sync["start_new"].fn(page)
    await _handle(page, "search_drugs", "amoxi")
    assert page.pick_results and page.pick_results[0]["code"] == "amoxicillin"
    _handle_sync["pick_key"].fn(page, "Enter")
    assert page.form["drug"] == "amoxicillin" and page.form["route"] == "oral"
    _handle_sync["set_field"].fn(page, "dose", "500")
    _handle_sync["set_field"].fn(page, "quantity", "21")
    await _handle(page, "prescribe")
    assert page.findings and "Penicillins" in page.findings[0] and "override_reason" in page.form_errors
    _handle_sync["set_override_reason"].fn(page, "Tolerated it last year")
    await _handle(page, "prescribe")
    assert page.mode == "" and page.rows[0]["drug"] == "Amoxicillin" and page.rows[0]["can_change"]
    answer = await _handle(page, "download_pdf", page.rows[0]["id"])
    assert answer is not None
