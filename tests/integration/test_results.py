"""Lab results at the service layer (issue 12): LOINC-coded results with units, reference ranges and
an abnormal flag computed from a numeric range (or given), entered by a care-team doctor or imported
from a lab's CSV (a bad row named by its line, nothing half-imported, another patient's rows refused),
review / comment / release / hold and what the patient sees, corrections that supersede, the
worklist, every role allowed and refused, every read and write audited, values ciphertext at rest."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text

from patient_portal.core.access import AccessDenied, Role
from patient_portal.core.db import get_engine, unit_of_work
from patient_portal.core.errors import Conflict, Invalid, NotFound
from patient_portal.domain.results import service as results
from patient_portal.domain.results.csv_import import ImportInvalid
from patient_portal.domain.results.models import LabResult, ResultPanel
from patient_portal.domain.results.validation import Range, compute_flag, parse_range
from tests.integration.clinic_support import another_patient, one_patient
from tests.integration.patients_support import (
    ADMIN,
    DOCTOR,
    STAFF,
    actor,
    call,
    events,
    put_on_care_team,
)

PATIENT = Role.PATIENT
SAMPLE = Path(__file__).parent.parent / "data" / "lab_results_sample.csv"
DAY = (date.today() - timedelta(days=3)).isoformat()
LIPIDS = [
    {"loinc": "2093-3", "value": "212", "unit": "mg/dL", "range_high": "200"},
    {"loinc": "13457-7", "value": "162", "unit": "mg/dL", "range_high": "100"},
    {"loinc": "2085-9", "value": "52", "unit": "mg/dL", "range_low": "40"},
    {"loinc": "2571-8", "value": "148", "unit": "mg/dL", "range_high": "150"},
]


@pytest.fixture
def setup(db):
    """The lab LOINC table loaded; a patient; their doctor; a doctor not on their team; the patient."""
    from patient_portal.domain.codes import service as codes

    codes.load_small()
    return one_patient()


def mrn_of(pid: uuid.UUID) -> str:
    from patient_portal.domain.patients.models import Patient

    with unit_of_work() as s:
        return s.get(Patient, pid).mrn


def enter(who, pid, rows=None, **kw):
    args = {"name": "Lipid panel", "specimen_date": DAY, "performing_lab": "Quest Diagnostics"} | kw
    return call(results.enter_panel, who, patient_id=pid, results=rows or LIPIDS, **args)


def counts() -> tuple[int, int]:
    with unit_of_work() as s:
        return s.query(ResultPanel).count(), s.query(LabResult).count()


def sample(mrn: str) -> str:
    return SAMPLE.read_text().replace("{MRN}", mrn)


# --- the flag --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "rng", "flag"), [
    ("162", "<100", "H"), ("3.3", "3.5-5.1", "L"), ("139", "135-145", "N"), ("52", ">40", "N"),
    ("35", ">40", "L"), ("5,8", "<5.7", "H"), ("100", "<=100", "N"), ("7", "", "N"),
])
def test_the_abnormal_flag_is_computed_from_a_numeric_range(value, rng, flag):
    from patient_portal.domain.results.validation import number

    assert compute_flag(number(value), parse_range(rng)).value == flag


def test_a_text_range_is_kept_as_words():
    assert parse_range("Negative") == Range(text="Negative")
    assert parse_range("3.5 - 5.1") == Range(Decimal("3.5"), Decimal("5.1"))


# --- entering --------------------------------------------------------------------------------------

def test_a_doctor_enters_a_panel_coded_in_loinc_and_it_waits_for_review(setup):
    pid, doctor, _, _ = setup
    saved = enter(doctor, pid)
    assert saved.status == "to_review" and saved.name == "Lipid panel" and saved.source == "entered"
    ldl = next(r for r in saved.results if r.coding.code == "13457-7")
    assert ldl.coding.display == "LDL cholesterol (calculated)"  # the name from the code table
    assert (ldl.number, ldl.unit, ldl.ref_high, ldl.flag, ldl.flag_given) == (Decimal("162"), "mg/dL", Decimal("100"),
                                                                             "H", False)
    assert [r.flag for r in saved.results] == ["H", "H", "N", "N"]


def test_a_given_flag_and_a_text_result_are_kept(setup):
    pid, doctor, _, _ = setup
    saved = enter(doctor, pid, [{"loinc": "2888-6", "value": "Trace", "range_text": "Negative"},
                                {"loinc": "2345-7", "value": "98", "range_low": "70", "range_high": "99", "flag": "H"},
                                {"loinc": "99999-9", "name": "Special test", "value": "4"}])
    protein, glucose, special = saved.results
    assert (protein.value, protein.number, protein.ref_text, protein.flag) == ("Trace", None, "Negative", "A")
    assert (glucose.flag, glucose.flag_given) == ("H", True)
    assert special.coding.display == "Special test"


@pytest.mark.parametrize(("rows", "kw", "field"), [
    ([{"loinc": "4548-4", "value": ""}], {}, "results.0.value"),
    ([{"loinc": "abc", "value": "5"}], {}, "results.0.loinc"),
    ([{"loinc": "99999-9", "value": "5"}], {}, "results.0.name"),
    ([{"loinc": "4548-4", "value": "5", "flag": "X"}], {}, "results.0.flag"),
    ([{"loinc": "4548-4", "value": "5", "range_low": "9", "range_high": "4"}], {}, "results.0.range_high"),
    ([{"loinc": "4548-4", "value": "5"}], {"specimen_date": (date.today() + timedelta(days=2)).isoformat()},
     "specimen_date"),
    ([{"loinc": "4548-4", "value": "5"}], {"performing_lab": ""}, "performing_lab"),
    ([], {}, "results"),
])
def test_bad_input_is_named_beside_its_field_and_nothing_is_saved(setup, rows, kw, field):
    pid, doctor, _, _ = setup
    with pytest.raises(Invalid) as caught:
        call(results.enter_panel, doctor, patient_id=pid, results=rows,
             **({"name": "HbA1c", "specimen_date": DAY, "performing_lab": "Lab"} | kw))
    assert field in caught.value.errors
    assert counts() == (0, 0)


def test_the_report_document_must_be_this_patients(setup):
    pid, doctor, _, _ = setup
    from patient_portal.domain.documents.models import Document

    other = another_patient()
    with unit_of_work() as s:
        mine = Document(patient_id=pid, category="lab_result", title="Lipids.pdf", uploaded_by=doctor.user_id)
        theirs = Document(patient_id=other, category="lab_result", title="X.pdf", uploaded_by=doctor.user_id)
        s.add_all([mine, theirs])
        s.flush()
        mine_id, theirs_id = mine.id, theirs.id
    with pytest.raises(Invalid) as caught:
        enter(doctor, pid, document_id=str(theirs_id))
    assert "document_id" in caught.value.errors
    assert enter(doctor, pid, document_id=str(mine_id)).document_id == mine_id


# --- CSV import ------------------------------------------------------------------------------------

def test_the_sample_csv_imports_into_panels_by_report(setup):
    pid, doctor, _, _ = setup
    report = call(results.import_csv, doctor, data=sample(mrn_of(pid)).encode())
    assert (report.panels, report.results, report.patients) == (2, 5, 1)
    page = call(results.panels, doctor, patient_id=pid)
    by_name = {p.name: p for p in page.items}
    bmp = by_name["Basic metabolic panel"]
    assert bmp.source == "imported" and bmp.status == "to_review" and bmp.performing_lab == "Quest Diagnostics Boston"
    assert {r.coding.code: r.flag for r in bmp.results} == {"2345-7": "H", "2951-2": "N", "2823-3": "L", "2160-0": "N"}
    assert by_name["Urinalysis"].results[0].flag == "N"
    imported = events("result.import")
    assert len(imported) == 2 and all(e.patient_id == pid and e.outcome == "success" for e in imported)


def test_a_bad_row_is_named_by_its_line_and_nothing_is_imported(setup):
    pid, doctor, _, _ = setup
    lines = sample(mrn_of(pid)).splitlines()
    lines[3] = lines[3].replace(",3.3,", ",,")  # line 4: no value
    lines[5] = lines[5].replace("2026-01-14", "2026-02-30")  # line 6: no such day
    with pytest.raises(ImportInvalid) as caught:
        call(results.import_csv, doctor, data="\n".join(lines))
    assert [n for n, _ in caught.value.lines] == [4, 6]
    assert "Line 4: value" in str(caught.value) and "Nothing was imported" in str(caught.value)
    assert counts() == (0, 0)


@pytest.mark.parametrize(("data", "words"), [
    (b"", "empty"), (b"patient_mrn,loinc,value\n1,2,3\n", "missing column"), (b"\xff\xfe\x00a", "not a CSV"),
    (b"a" * 1_000_001, "larger than 1 MB"),
])
def test_a_file_that_is_not_a_results_csv_is_refused(setup, data, words):
    _, doctor, _, _ = setup
    with pytest.raises(ImportInvalid, match=words):
        call(results.import_csv, doctor, data=data)


def test_an_unknown_mrn_is_a_bad_line(setup):
    pid, doctor, _, _ = setup
    data = sample(mrn_of(pid)) + "999-999-999,X,4548-4,,6.1,%,<5.7,,2026-01-14,Lab\n"
    with pytest.raises(ImportInvalid) as caught:
        call(results.import_csv, doctor, data=data)
    assert [n for n, _ in caught.value.lines] == [7] and counts() == (0, 0)


def test_rows_for_a_patient_the_doctor_does_not_reach_refuse_the_file(setup):
    pid, doctor, _, _ = setup
    other = another_patient()  # not on this doctor's care team (another clinic's patient)
    data = sample(mrn_of(pid)) + sample(mrn_of(other)).split("\n", 1)[1]
    with pytest.raises(AccessDenied, match="Line 7"):
        call(results.import_csv, doctor, data=data)
    assert counts() == (0, 0)
    refused = [e for e in events("result.import") if e.outcome == "denied"]
    assert [e.patient_id for e in refused] == [other]
    for who in (actor(STAFF), actor(ADMIN), actor(PATIENT, pid)):
        with pytest.raises(AccessDenied):
            call(results.import_csv, who, data=sample(mrn_of(pid)))
    assert counts() == (0, 0)


# --- review, release, hold -------------------------------------------------------------------------

def test_the_patient_sees_nothing_until_released_then_values_and_the_comment(setup):
    pid, doctor, _, patient = setup
    saved = enter(doctor, pid)
    assert call(results.own_results, patient) == []
    reviewed = call(results.review, doctor, patient_id=pid, panel_id=saved.id, comment="Your LDL is high: let us talk diet.")
    assert reviewed.status == "reviewed" and reviewed.reviewed_by_name == "Test doctor"
    assert call(results.own_results, patient) == []
    released = call(results.release, doctor, patient_id=pid, panel_id=saved.id)
    assert released.status == "released" and released.comment == "Your LDL is high: let us talk diet."
    own, = call(results.own_results, patient)
    assert not own.held and own.comment.startswith("Your LDL") and len(own.results) == 4
    assert next(r for r in own.results if r.coding.code == "13457-7").flag == "H"


def test_a_held_panel_shows_the_patient_no_values_until_released(setup):
    pid, doctor, _, patient = setup
    saved = enter(doctor, pid, [{"loinc": "4548-4", "value": "8.9", "unit": "%", "range_high": "5.7"}], name="HbA1c")
    call(results.hold, doctor, patient_id=pid, panel_id=saved.id, comment="Let us discuss this together.")
    own, = call(results.own_results, patient)
    assert own.held and own.results == [] and own.comment == "" and own.name == "HbA1c"
    call(results.release, doctor, patient_id=pid, panel_id=saved.id)
    own, = call(results.own_results, patient)
    assert not own.held and own.results[0].value == "8.9" and own.comment == "Let us discuss this together."


def test_a_released_panel_is_immutable_and_a_correction_supersedes(setup):
    pid, doctor, _, patient = setup
    saved = enter(doctor, pid)
    call(results.release, doctor, patient_id=pid, panel_id=saved.id, comment="Fine.")
    for fn in (results.review, results.hold, results.release):
        with pytest.raises(Conflict):
            call(fn, doctor, patient_id=pid, panel_id=saved.id, comment="changed")
    ldl = next(r for r in saved.results if r.coding.code == "13457-7")
    with pytest.raises(Invalid) as caught:
        call(results.correct_result, doctor, patient_id=pid, result_id=ldl.id, value="96", reason="")
    assert "reason" in caught.value.errors
    corrected = call(results.correct_result, doctor, patient_id=pid, result_id=ldl.id, value="96",
                     reason="The lab recalculated it.")
    new = next(r for r in corrected.results if r.coding.code == "13457-7")
    assert (new.value, new.flag, new.corrects_id, new.ref_high) == ("96", "N", ldl.id, Decimal("100"))
    old, = corrected.replaced
    assert old.id == ldl.id and old.superseded_by == new.id and old.value == "162"
    assert counts() == (1, 5)  # both kept
    with pytest.raises(Conflict):
        call(results.correct_result, doctor, patient_id=pid, result_id=ldl.id, value="90", reason="again")
    own, = call(results.own_results, patient)
    assert [r.value for r in own.results if r.coding.code == "13457-7"] == ["96"]
    event, = events("result.correct")
    assert event.detail["corrects"] == str(ldl.id) and event.detail["released"] is True


def test_a_stale_version_is_a_conflict(setup):
    pid, doctor, _, _ = setup
    saved = enter(doctor, pid)
    call(results.review, doctor, patient_id=pid, panel_id=saved.id, comment="a", version=saved.version)
    with pytest.raises(Conflict):
        call(results.release, doctor, patient_id=pid, panel_id=saved.id, version=saved.version)


# --- the worklist ----------------------------------------------------------------------------------

def test_results_to_review_per_patient_for_the_doctor(setup):
    pid, doctor, stranger, _ = setup
    first = enter(doctor, pid)
    enter(doctor, pid, [{"loinc": "4548-4", "value": "6.1", "range_high": "5.7"}], name="HbA1c")
    work = call(results.results_to_review, doctor)
    assert work.count == 2 and len(work.patients) == 1
    row, = work.patients
    assert (row.patient_id, row.panels, row.abnormal, row.patient_name) == (pid, 2, 3, "Elena Marsh")
    call(results.release, doctor, patient_id=pid, panel_id=first.id)
    assert call(results.results_to_review, doctor).count == 1
    assert call(results.results_to_review, stranger).count == 0  # not on the care team
    for who in (actor(ADMIN), actor(STAFF), actor(PATIENT, pid)):
        with pytest.raises(AccessDenied):
            call(results.results_to_review, who)


# --- who may ---------------------------------------------------------------------------------------

def _denied(fn, who, **kwargs) -> None:
    with pytest.raises(AccessDenied):
        call(fn, who, **kwargs)


def test_who_may_read_enter_release_and_see_their_own(setup):
    pid, doctor, stranger, patient = setup
    staff, admin = actor(STAFF), actor(ADMIN)
    other_pid = another_patient()
    other_patient = actor(PATIENT, other_pid)
    saved = enter(doctor, pid)
    one = {"loinc": "4548-4", "value": "6"}

    # the full list: care team and admins (operations); never staff, another doctor, a patient
    assert call(results.panels, admin, patient_id=pid).total == 1
    for who in (stranger, staff, patient, other_patient):
        _denied(results.panels, who, patient_id=pid)
        _denied(results.panel, who, patient_id=pid, panel_id=saved.id)
    # writing and releasing: care-team doctors only (admins read only)
    for who in (stranger, staff, patient, other_patient, admin):
        _denied(results.enter_panel, who, patient_id=pid, name="X", specimen_date=DAY, performing_lab="L", results=[one])
        _denied(results.release, who, patient_id=pid, panel_id=saved.id)
        _denied(results.hold, who, patient_id=pid, panel_id=saved.id)
        _denied(results.review, who, patient_id=pid, panel_id=saved.id)
        _denied(results.correct_result, who, patient_id=pid, result_id=saved.results[0].id, value="1", reason="r")
    # the patient's own: only their own record
    call(results.release, doctor, patient_id=pid, panel_id=saved.id)
    _denied(results.own_results, other_patient, patient_id=pid)
    for who in (doctor, admin, staff):
        _denied(results.own_results, who, patient_id=pid)
    assert call(results.own_results, other_patient) == []
    # another patient's ids through this patient's record: not found, nothing changed
    theirs_doctor = actor(DOCTOR)
    put_on_care_team(theirs_doctor, other_pid)
    theirs = enter(theirs_doctor, other_pid)
    with pytest.raises(NotFound):
        call(results.release, doctor, patient_id=pid, panel_id=theirs.id)
    with pytest.raises(NotFound):
        call(results.panel, doctor, patient_id=pid, panel_id=theirs.id)
    with pytest.raises(NotFound):
        call(results.correct_result, doctor, patient_id=pid, result_id=theirs.results[0].id, value="1", reason="r")
    assert call(results.panel, theirs_doctor, patient_id=other_pid, panel_id=theirs.id).status == "to_review"
    refused = [e for e in events() if e.outcome == "denied"]
    assert {e.action for e in refused} >= {"result.list", "result.read", "result.create", "result.release",
                                          "result.hold", "result.review", "result.correct", "result.own.list"}
    assert counts() == (2, 8)


# --- audit and encryption --------------------------------------------------------------------------

def test_every_read_and_write_is_audited_with_its_purpose(setup):
    pid, doctor, _, patient = setup
    saved = enter(doctor, pid)
    call(results.review, doctor, patient_id=pid, panel_id=saved.id, comment="ok")
    call(results.release, doctor, patient_id=pid, panel_id=saved.id)
    call(results.panels, doctor, patient_id=pid)
    call(results.panel, doctor, patient_id=pid, panel_id=saved.id)
    call(results.panels, actor(ADMIN), patient_id=pid)
    call(results.own_results, patient)
    call(results.results_to_review, doctor)
    names = [e.action for e in events() if e.action.startswith("result.")]
    assert names == ["result.create", "result.review", "result.release", "result.list", "result.read", "result.list",
                     "result.own.list", "result.worklist.list"]
    by = {e.action: e for e in events() if e.action.startswith("result.")}
    assert (by["result.create"].basis, by["result.create"].purpose, by["result.create"].patient_id) == (
        "care_team", "treatment", pid)
    assert (by["result.own.list"].basis, by["result.own.list"].purpose) == ("self", "patient_request")
    admin_list = [e for e in events("result.list")][-1]
    assert (admin_list.basis, admin_list.purpose) == ("role", "operations")
    assert all("162" not in str(e.detail) for e in events())  # events name codes and panels, never values


def test_values_and_words_are_ciphertext_at_rest(setup):
    pid, doctor, _, _ = setup
    saved = enter(doctor, pid, [{"loinc": "4548-4", "value": "8.73", "unit": "%", "range_high": "5.71"}],
                  name="Diabetes check", performing_lab="Zyxlab Inc")
    call(results.review, doctor, patient_id=pid, panel_id=saved.id, comment="Quuxcomment here")
    with get_engine().connect() as conn:
        panel_row = conn.execute(text("SELECT name, performing_lab, comment FROM result_panel")).one()
        result_row = conn.execute(text("SELECT value, ref_high, flag, name, loinc FROM lab_result")).one()
    for cipher in (*panel_row, *result_row[:4]):
        assert cipher.startswith("v1.")
        assert not any(w in cipher for w in ("8.73", "5.71", "Diabetes", "Zyxlab", "Quux", "Hemoglobin"))
    assert result_row[4] == "4548-4"
    assert call(results.panel, doctor, patient_id=pid, panel_id=saved.id).results[0].value == "8.73"


def test_an_unknown_patient_is_not_found(setup):
    from patient_portal.domain.patients.common import PatientNotFound

    with pytest.raises(PatientNotFound):
        call(results.panels, actor(ADMIN), patient_id=uuid.uuid4())


# --- demo data -------------------------------------------------------------------------------------

def test_the_demo_patient_has_a_released_lipid_panel_and_a_new_hba1c_seeded_once(db):
    from patient_portal import seed
    from patient_portal.domain.identity import service as identity
    from patient_portal.domain.identity.models import User

    seed.seed_demo(patients=3)
    with unit_of_work() as s:
        maria = s.get(User, identity.find_user_id(s, "patient@demo.clinic")).patient_id
        doctor_id = identity.find_user_id(s, "doctor@demo.clinic")
    own = call(results.own_results, actor(PATIENT, maria))
    lipids, = own
    assert lipids.name == "Lipid panel" and "LDL" in lipids.comment
    assert [r.flag for r in lipids.results if r.coding.code == "13457-7"] == ["H"]
    from patient_portal.core.access import Actor

    work = call(results.results_to_review, Actor(user_id=doctor_id, role=DOCTOR))
    assert any(t.patient_id == maria and t.panels == 1 for t in work.patients)
    seed.seed_demo(patients=3)
    assert counts() == (2, 5)


# --- the import route and the access log's words ---------------------------------------------------

def test_the_import_route_takes_csv_only_and_answers_with_lines(setup, monkeypatch):
    from starlette.testclient import TestClient

    from patient_portal.api import results as api_results
    from patient_portal.api.app import build_api

    pid, doctor, _, patient = setup
    who = {"doctor": doctor, "patient": patient}
    monkeypatch.setattr(api_results, "actor_from_request", lambda request: who.get(request.headers.get("x-test-as", "")))
    origin = "http://localhost:3000"
    c = TestClient(build_api(), base_url=origin)

    def post(body, kind="text/csv", as_="doctor"):
        return c.post("/api/results/import", content=body, headers={"content-type": kind, "origin": origin,
                                                                    "x-test-as": as_})

    assert post(b"%PDF-1.7", kind="application/pdf").status_code == 415
    assert post(b"a" * 1_000_001).status_code == 413
    bad = sample(mrn_of(pid)).replace(",3.3,", ",,")
    answer = post(bad.encode())
    assert answer.status_code == 422 and answer.json()["lines"][0][0] == 4 and counts() == (0, 0)
    assert post(sample(mrn_of(pid)).encode(), as_="patient").status_code == 403
    assert post(sample(mrn_of(pid)).encode(), as_="nobody").status_code in (401, 403)
    ok = post(sample(mrn_of(pid)).encode())
    assert ok.status_code == 200 and ok.json() == {"panels": 2, "results": 5, "patients": 1}


def test_the_access_log_words_results_events():
    from patient_portal.domain.audit_log.dto import phrase

    assert phrase("result.list", {"header": ["identity"]}) == "Opened your record and looked at your test results"
    assert phrase("result.release") == "Released your test results to you"
    assert phrase("result.hold") == "Kept your test results to discuss with you"
    assert phrase("result.own.list", outcome="denied") == "Tried to look at your test results (refused)"
