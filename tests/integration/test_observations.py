"""Vital signs and home readings at the service layer (issue 12): LOINC codes and UCUM units from the
code tables, plausible ranges, blood pressure's two numbers, no future times, BMI computed and never
typed, a patient's home reading unverified until a doctor verifies it, trends for a chart, every role
allowed and refused, every read and write audited with its purpose, values ciphertext at rest."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text

from patient_portal.core.access import AccessDenied, Role
from patient_portal.core.coding import LOINC, Coding
from patient_portal.core.db import get_engine, unit_of_work
from patient_portal.core.errors import Conflict, Invalid, NotFound
from patient_portal.domain.observations import service as vitals
from patient_portal.domain.observations.models import Observation
from patient_portal.domain.patients.common import PatientNotFound
from tests.integration.clinic_support import another_patient, one_patient
from tests.integration.patients_support import (
    ADMIN,
    STAFF,
    actor,
    call,
    events,
    put_on_care_team,
    register,
)

PATIENT = Role.PATIENT
NOW = datetime.now(UTC).replace(microsecond=0)


def ago(**kw) -> str:
    return (NOW - timedelta(**kw)).isoformat()


@pytest.fixture
def setup(db):
    """LOINC vital signs loaded; a patient; their doctor; a doctor not on their team; the patient."""
    from patient_portal.domain.codes import service as codes

    codes.load_small()
    return one_patient()


def record(who, pid, values, when=None):
    return call(vitals.record_vitals, who, patient_id=pid, values=values, effective_at=when or ago(hours=1))


def count() -> int:
    with unit_of_work() as s:
        return s.query(Observation).count()


def errors_of(fn, *args, **kwargs) -> dict[str, str]:
    with pytest.raises(Invalid) as caught:
        call(fn, *args, **kwargs)
    return caught.value.errors


# --- recording -------------------------------------------------------------------------------------

def test_a_doctor_records_a_set_coded_in_loinc_with_ucum_units(setup):
    pid, doctor, _, _ = setup
    saved = record(doctor, pid, {"systolic": "132", "diastolic": "84", "heart_rate": "72", "temperature": "36,8",
                                 "respiratory_rate": "14", "spo2": "98", "glucose": "105"})
    assert saved.source == "clinician" and saved.verified and saved.recorded_by_name == "Test doctor"
    assert saved.values["systolic"].coding == Coding(LOINC, "8480-6", "Systolic blood pressure")
    assert saved.values["diastolic"].coding.code == "8462-4"
    assert saved.values["temperature"].value == Decimal("36.8") and saved.values["temperature"].unit == "Cel"
    assert saved.values["spo2"].coding.code == "59408-5" and saved.values["spo2"].unit == "%"
    assert saved.values["glucose"].unit == "mg/dL" and saved.values["heart_rate"].unit == "/min"
    latest = call(vitals.latest, doctor, patient_id=pid)
    assert latest["systolic"].value == 132 and latest["heart_rate"].unit_label == "beats/min"
    assert "bmi" not in latest  # no weight or height yet


@pytest.mark.parametrize(("values", "field", "words"), [
    ({"systolic": "400", "diastolic": "20"}, "systolic", "Systolic must be between 40 and 300 mmHg."),
    ({"weight": "0"}, "weight", "Weight must be between 0.3 and 500 kg."),
    ({"spo2": "120"}, "spo2", "SpO2 must be between 50 and 100%."),
    ({"systolic": "120", "diastolic": "130"}, "diastolic", "below the systolic"),
    ({"systolic": "120", "diastolic": "120"}, "diastolic", "below the systolic"),
    ({"systolic": "120"}, "diastolic", "Enter both numbers"),
    ({"diastolic": "80"}, "systolic", "Enter both numbers"),
    ({"heart_rate": "fast"}, "heart_rate", "enter a number"),
    ({"temperature": "NaN"}, "temperature", "enter a number"),
    ({"height": "2000"}, "height", "Height must be between 20 and 275 cm."),
    ({"bmi": "24"}, "bmi", "computed from the latest weight and height"),
    ({"pulse_pressure": "40"}, "pulse_pressure", "not a vital sign"),
    ({}, "values", "Enter at least one"),
])
def test_each_bad_value_is_refused_beside_its_field_and_nothing_is_saved(setup, values, field, words):
    pid, doctor, _, _ = setup
    found = errors_of(vitals.record_vitals, doctor, patient_id=pid, values=values, effective_at=ago(hours=1))
    assert words in found[field]
    assert count() == 0


def test_several_bad_values_are_all_named_at_once(setup):
    pid, doctor, _, _ = setup
    found = errors_of(vitals.record_vitals, doctor, patient_id=pid,
                      values={"systolic": "400", "diastolic": "20", "weight": "0", "spo2": "120"},
                      effective_at=ago(hours=1))
    assert set(found) == {"systolic", "weight", "spo2"}
    assert count() == 0


@pytest.mark.parametrize(("when", "words"), [
    ((NOW + timedelta(days=1)).isoformat(), "in the future"),
    ("", "Enter the date and time"),
    ("yesterday", "Enter a real date and time"),
    ("1850-01-01T10:00", "after 1900"),
], ids=["tomorrow", "blank", "words", "1850"])  # fixed ids: pytest-xdist workers must collect the same names
def test_the_measuring_time_is_real_and_not_in_the_future(setup, when, words):
    pid, doctor, _, _ = setup
    found = errors_of(vitals.record_vitals, doctor, patient_id=pid, values={"heart_rate": "70"}, effective_at=when)
    assert words in found["effective_at"]
    assert count() == 0


def test_a_local_time_from_the_form_is_read_in_the_clinic_time_zone(setup, monkeypatch):
    from patient_portal.settings import reset_settings

    monkeypatch.setenv("PORTAL_TIMEZONE", "America/New_York")
    reset_settings()
    pid, doctor, _, _ = setup
    saved = record(doctor, pid, {"heart_rate": "70"}, when="2025-07-01T09:30")
    assert saved.effective_at == datetime(2025, 7, 1, 13, 30, tzinfo=UTC)


def test_bmi_is_computed_from_the_latest_weight_and_height(setup):
    pid, doctor, _, _ = setup
    first = record(doctor, pid, {"weight": "80", "height": "180"}, when=ago(days=30))
    assert first.values["bmi"].value == Decimal("24.7") and first.values["bmi"].computed
    assert first.values["bmi"].coding.code == "39156-5" and first.values["bmi"].unit == "kg/m2"
    later = record(doctor, pid, {"weight": "90.04"}, when=ago(days=1))  # the height on file: 180 cm
    assert later.values["weight"].value == Decimal("90.0")  # the vital's decimals
    assert later.values["bmi"].value == Decimal("27.8")
    assert call(vitals.latest, doctor, patient_id=pid)["bmi"].value == Decimal("27.8")
    assert not record(doctor, pid, {"heart_rate": "60"}).values.get("bmi")


def test_no_bmi_without_a_height_and_an_implausible_bmi_points_at_the_typo(setup):
    pid, doctor, _, _ = setup
    assert "bmi" not in record(doctor, pid, {"weight": "70"}).values
    record(doctor, pid, {"height": "170"}, when=ago(minutes=30))
    found = errors_of(vitals.record_vitals, doctor, patient_id=pid, values={"weight": "400", "height": "30"},
                      effective_at=ago(minutes=10))
    assert "BMI" in found["weight"]


# --- home readings ---------------------------------------------------------------------------------

def test_a_patient_reading_is_shown_unverified_until_a_doctor_verifies_it(setup):
    pid, doctor, _, patient = setup
    record(doctor, pid, {"height": "165"}, when=ago(days=10))
    reading = call(vitals.report_reading, patient, patient_id=pid, values={"systolic": "141", "diastolic": "91"},
                   effective_at=ago(hours=2))
    assert reading.source == "patient" and not reading.verified and reading.recorded_by_name == ""
    weight = call(vitals.report_reading, patient, patient_id=pid, values={"weight": "68"}, effective_at=ago(hours=1))
    assert weight.values["bmi"].value == Decimal("25.0") and not weight.values["bmi"].verified

    seen = call(vitals.overview, doctor, patient_id=pid)
    assert seen.unverified == 2
    newest = seen.page.items[0]
    assert newest.id == weight.id and newest.source == "patient" and not newest.verified
    assert seen.latest["systolic"].source == "patient" and not seen.latest["systolic"].verified

    verified = call(vitals.verify_reading, doctor, patient_id=pid, set_id=str(reading.id))
    assert verified.verified and verified.verified_by_name == "Test doctor" and verified.source == "patient"
    assert call(vitals.overview, doctor, patient_id=pid).unverified == 1
    event, = events("observation.verify")
    assert event.outcome == "success" and event.purpose == "treatment" and event.basis == "care_team"
    assert event.object_id == str(reading.id) and event.patient_id == pid
    with pytest.raises(Conflict):
        call(vitals.verify_reading, doctor, patient_id=pid, set_id=str(reading.id))


def test_a_patient_reports_only_blood_pressure_weight_and_glucose(setup):
    pid, _, _, patient = setup
    found = errors_of(vitals.report_reading, patient, patient_id=pid, values={"heart_rate": "70", "glucose": "5000"},
                      effective_at=ago(hours=1))
    assert "blood pressure, weight or blood glucose" in found["heart_rate"]
    assert "Glucose must be between 10 and 1500 mg/dL." == found["glucose"]
    saved = call(vitals.report_reading, patient, patient_id=pid, values={"glucose": "98"}, effective_at=ago(hours=1))
    assert saved.values["glucose"].coding.code == "2339-0"
    assert count() == 1


def test_verify_names_a_reading_of_this_patient(setup):
    pid, doctor, _, patient = setup
    other = another_patient()
    put_on_care_team(doctor, other)
    theirs = record(doctor, other, {"heart_rate": "70"})
    with pytest.raises(NotFound):
        call(vitals.verify_reading, doctor, patient_id=pid, set_id=str(theirs.id))
    with pytest.raises(NotFound):
        call(vitals.verify_reading, doctor, patient_id=pid, set_id="not-an-id")
    with pytest.raises(Conflict):  # a clinician's set is verified as recorded
        call(vitals.verify_reading, doctor, patient_id=other, set_id=str(theirs.id))


# --- trends and pages ------------------------------------------------------------------------------

def test_a_trend_is_the_series_of_one_vital_over_time_with_an_optional_range(setup):
    pid, doctor, _, patient = setup
    for months, (sys, dia) in enumerate([(150, 96), (144, 92), (136, 86), (128, 82)]):
        record(doctor, pid, {"systolic": str(sys), "diastolic": str(dia), "heart_rate": "70"},
               when=ago(days=30 * (4 - months)))
    bp = call(vitals.trend, doctor, patient_id=pid, vital="blood_pressure")
    systolic, diastolic = bp.series
    assert [p.value for p in systolic.points] == [150, 144, 136, 128]
    assert [p.value for p in diastolic.points] == [96, 92, 86, 82]
    assert systolic.coding.code == "8480-6" and systolic.unit == "mm[Hg]" and systolic.goal is None
    assert systolic.points[0].at < systolic.points[-1].at
    start = (NOW - timedelta(days=70)).date()
    recent = call(vitals.trend, patient, patient_id=pid, vital="blood_pressure", date_from=start.isoformat())
    assert [p.value for p in recent.series[0].points] == [136, 128] and recent.date_from == start
    assert call(vitals.trend, doctor, patient_id=pid, vital="glucose").empty
    assert errors_of(vitals.trend, doctor, patient_id=pid, vital="mood")["vital"]
    assert errors_of(vitals.trend, doctor, patient_id=pid, vital="weight", date_from="2026-02-01",
                     date_to="2026-01-01")["date_to"]
    keys = [t.key for t in call(vitals.overview, doctor, patient_id=pid).trends]
    assert keys == ["blood_pressure", "heart_rate"]


def test_readings_come_25_sets_a_page_newest_first(setup):
    pid, doctor, _, _ = setup
    for day in range(30):
        record(doctor, pid, {"heart_rate": str(60 + day)}, when=ago(days=day + 1))
    first = call(vitals.readings, doctor, patient_id=pid)
    assert (first.total, first.pages, len(first.items)) == (30, 2, 25)
    assert first.items[0].values["heart_rate"].value == 60
    second = call(vitals.readings, doctor, patient_id=pid, page=2)
    assert len(second.items) == 5 and second.items[-1].values["heart_rate"].value == 89
    assert call(vitals.readings, doctor, patient_id=pid, page=99).page == 2


def test_the_chart_page_reads_header_and_vitals_with_one_audit_event(setup):
    pid, doctor, _, _ = setup
    record(doctor, pid, {"heart_rate": "70"})
    before = len(events())
    header, seen = call(vitals.open_page, doctor, str(pid))
    assert header.patient["family_name"] == "Marsh" and seen.latest["heart_rate"].value == 70
    assert [f.key for f in seen.fields][:3] == ["systolic", "diastolic", "heart_rate"]
    assert next(f for f in seen.fields if f.key == "weight").unit_label == "kg"
    new = events()[before:]
    assert [e.action for e in new] == ["observation.read"]
    assert new[0].detail["header"][0] == "header" and new[0].purpose == "treatment"
    from patient_portal.domain.audit_log.dto import phrase

    assert phrase("observation.read", new[0].detail) == "Opened your record and looked at your vital signs"


# --- who may -------------------------------------------------------------------------------------

def _denied(fn, who, **kwargs) -> None:
    with pytest.raises(AccessDenied):
        call(fn, who, **kwargs)


def test_who_may_read_record_report_and_verify(setup):
    pid, doctor, stranger, patient = setup
    staff, admin = actor(STAFF), actor(ADMIN)
    other_patient = actor(PATIENT, another_patient())
    bp = {"systolic": "120", "diastolic": "80"}
    reported = call(vitals.report_reading, patient, patient_id=pid, values=bp, effective_at=ago(hours=1))

    # readers: the care team, the patient themself, admins
    for who in (doctor, patient, admin):
        assert call(vitals.latest, who, patient_id=pid)["systolic"].value == 120
    for who in (stranger, staff, other_patient):
        _denied(vitals.latest, who, patient_id=pid)
        _denied(vitals.readings, who, patient_id=pid)
        _denied(vitals.trend, who, patient_id=pid, vital="blood_pressure")
        _denied(vitals.overview, who, patient_id=pid)
    _denied(vitals.latest, actor(PATIENT, None), patient_id=pid)  # an account with no record linked

    # recording: the care team and admins; never staff, another doctor or a patient
    record(admin, pid, {"heart_rate": "66"})
    for who in (stranger, staff, patient, other_patient):
        _denied(vitals.record_vitals, who, patient_id=pid, values={"heart_rate": "70"}, effective_at=ago(hours=1))

    # home readings: only the patient, into their own record
    for who in (other_patient, doctor, admin, staff):
        _denied(vitals.report_reading, who, patient_id=pid, values=bp, effective_at=ago(hours=1))

    # verifying: the care team and admins
    for who in (stranger, staff, patient, other_patient):
        _denied(vitals.verify_reading, who, patient_id=pid, set_id=str(reported.id))
    call(vitals.verify_reading, admin, patient_id=pid, set_id=str(reported.id))

    refused = [e for e in events() if e.outcome == "denied"]
    assert {e.action for e in refused} == {"observation.read", "observation.write", "observation.report_own",
                                          "observation.verify"}
    assert all(e.patient_id == pid for e in refused)
    assert count() == 3  # the patient's BP (2 values) and the admin's heart rate; nothing refused was written


def test_an_unknown_patient_is_not_found(setup):
    _, doctor, _, _ = setup
    admin = actor(ADMIN)
    with pytest.raises(PatientNotFound):
        call(vitals.latest, admin, patient_id=uuid.uuid4())
    with pytest.raises(PatientNotFound):
        call(vitals.record_vitals, admin, patient_id="nonsense", values={"heart_rate": "70"}, effective_at=ago(hours=1))


# --- audit and encryption --------------------------------------------------------------------------

def test_every_read_and_write_is_audited_with_its_purpose(setup):
    pid, doctor, _, patient = setup
    record(doctor, pid, {"weight": "71", "height": "170"})
    call(vitals.report_reading, patient, patient_id=pid, values={"glucose": "99"}, effective_at=ago(minutes=5))
    write, = events("observation.write")
    assert (write.purpose, write.basis, write.patient_id) == ("treatment", "care_team", pid)
    assert write.detail == {"vitals": ["height", "weight"], "bmi_computed": True, "source": "clinician"}
    report, = events("observation.report_own")
    assert (report.purpose, report.basis) == ("patient_request", "self")

    reads = [(vitals.latest, {}), (vitals.readings, {}), (vitals.trend, {"vital": "weight"}), (vitals.overview, {})]
    for who, purpose in ((doctor, "treatment"), (patient, "patient_request"), (actor(ADMIN), "operations")):
        before = len(events("observation.read"))
        for fn, kwargs in reads:
            call(fn, who, patient_id=pid, **kwargs)
        new = events("observation.read")[before:]
        assert [e.detail["view"] for e in new] == ["latest", "readings", "trend", "overview"]
        assert all(e.purpose == purpose and e.patient_id == pid and e.actor_id == who.user_id for e in new)
    assert all("71" not in str(e.detail) for e in events())  # events name vitals, never values


def test_values_and_names_are_ciphertext_at_rest(setup, portal_env):
    pid, doctor, _, patient = setup
    record(doctor, pid, {"weight": "83.7", "systolic": "187", "diastolic": "113"})
    call(vitals.report_reading, patient, patient_id=pid, values={"glucose": "311"}, effective_at=ago(minutes=5))
    with get_engine().connect() as conn:
        rows = conn.execute(text("SELECT value, recorded_by_name, verified_by_name, loinc FROM observation")).all()
    assert len(rows) == 4
    for value, recorded, verified, _loinc in rows:
        assert value.startswith("v1.") and not any(n in value for n in ("83.7", "187", "113", "311"))
        assert recorded is None or (recorded.startswith("v1.") and "Test" not in recorded)
        assert verified is None or verified.startswith("v1.")
    assert call(vitals.latest, doctor, patient_id=pid)["weight"].value == Decimal("83.7")


def test_nothing_is_recorded_while_the_code_tables_are_not_loaded(db):
    pid = register().patient_id
    with pytest.raises(Conflict, match="portal codes load"):
        call(vitals.record_vitals, actor(ADMIN), patient_id=pid, values={"heart_rate": "70"}, effective_at=ago(hours=1))


# --- demo data -----------------------------------------------------------------------------------

def test_the_demo_patient_has_a_year_of_vitals_and_home_readings_seeded_once(db):
    from patient_portal import seed
    from patient_portal.domain.observations.demo import HOME, VISITS

    seed.seed_demo(patients=3)
    with unit_of_work() as s:
        from patient_portal.domain.identity import service as identity
        from patient_portal.domain.identity.models import User

        maria = s.get(User, identity.find_user_id(s, "patient@demo.clinic")).patient_id
        sets = s.query(Observation.set_id).filter(Observation.patient_id == maria).distinct().count()
    assert sets == len(VISITS) + len(HOME)
    patient = actor(PATIENT, maria)
    seen = call(vitals.overview, patient, patient_id=maria, date_from=None)
    assert seen.unverified == 2 and seen.latest["bmi"].value > 0
    systolic = next(t for t in seen.trends if t.key == "blood_pressure").series[0].points
    peak = max(range(len(systolic)), key=lambda i: systolic[i].value)
    assert 0 < peak < len(systolic) - 1 and systolic[-1].value < systolic[peak].value - 15  # rose, then improved
    seed.seed_demo(patients=3)
    with unit_of_work() as s:
        assert s.query(Observation.set_id).filter(Observation.patient_id == maria).distinct().count() == sets
