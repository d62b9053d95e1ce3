"""My patients (issue 12): the doctor's care-team list, its flags, sorting, paging, who may read
it and how it is audited — at the service layer, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from patient_portal.core.access import AccessDenied, Role
from patient_portal.core.errors import Invalid
from patient_portal.domain.history import service as history
from patient_portal.domain.observations import service as vitals
from patient_portal.domain.visits import service as visits
from patient_portal.domain.worklist import service as worklist
from tests.integration.identity_support import events
from tests.integration.patients_support import (
    ADMIN,
    DOCTOR,
    STAFF,
    actor,
    call,
    draft,
    put_on_care_team,
    register,
)
from tests.integration.sql_counter import statements

NOTE = {"reason": "Follow-up", "assessment": "Stable.", "plan": "Review in 3 months."}
FAMILIES = ["Abbott", "Baker", "Carter", "Dalton", "Ellis", "Foster", "Garner", "Hughes", "Irwin", "Jensen",
            "Keller", "Lawson", "Morgan", "Nolan", "Osborne", "Porter", "Quincy", "Reeves", "Sutton", "Turner",
            "Upton", "Vaughn", "Walker", "Young", "Zimmer", "Ashford", "Brennan"]


def _patient(given: str, family: str, i: int, born: str = "1980-01-01"):
    return register(draft(given_name=given, family_name=family, date_of_birth=born,
                          email=f"{family.lower()}{i}@example.com", phone_mobile=f"+1 617 555 {1000 + i}")).patient_id


def _when(days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")


def _signed(author, pid, days: int):
    note = call(visits.create_note, author, patient_id=pid, values={**NOTE, "visit_at": _when(days)})
    return call(visits.sign_note, author, patient_id=pid, note_id=note.id, expected_version=note.version)


@pytest.fixture
def clinic(db):
    from patient_portal.domain.codes import service as codes

    codes.load(sets=("loinc",))  # the vital signs' units and ranges (home readings are checked against them)
    doctor = replace(actor(DOCTOR), display_name="Dr. Ada")
    other = replace(actor(DOCTOR), display_name="Dr. Other")
    maria = _patient("Maria", "Garcia", 1, "1968-07-02")
    james = _patient("James", "Okafor", 2, "1990-03-15")
    aiko = _patient("Aiko", "Tanaka", 3, "1955-11-30")
    theirs = _patient("Oona", "Other", 4)
    for pid in (maria, james, aiko):
        put_on_care_team(doctor, pid)
    put_on_care_team(other, theirs)
    return {"doctor": doctor, "other": other, "maria": maria, "james": james, "aiko": aiko, "theirs": theirs}


def _names(page) -> list[str]:
    return [row.name for row in page.rows]


def test_the_doctor_sees_their_care_team_only_with_age_mrn_and_last_visit(clinic):
    _signed(clinic["doctor"], clinic["maria"], 30)
    _signed(clinic["doctor"], clinic["maria"], 5)
    call(visits.create_note, clinic["doctor"], patient_id=clinic["maria"], values={**NOTE, "visit_at": _when(1)})
    page = call(worklist.my_patients, clinic["doctor"])
    assert _names(page) == ["Maria Garcia", "James Okafor", "Aiko Tanaka"]  # family name A→Z
    assert "Oona Other" not in _names(page) and page.total == 3 and page.pages == 1
    maria = page.rows[0]
    assert maria.mrn and maria.dob_display == "2 Jul 1968" and maria.age is not None and maria.age >= 56
    assert maria.last_visit is not None  # the latest *signed* visit, not the draft of yesterday
    assert (datetime.now(UTC) - maria.last_visit).days in (4, 5)
    assert page.rows[1].last_visit is None
    other = call(worklist.my_patients, clinic["other"])
    assert _names(other) == ["Oona Other"]


def test_flags_name_unsigned_notes_unverified_readings_and_patient_reports(clinic):
    doctor = clinic["doctor"]
    call(visits.create_note, doctor, patient_id=clinic["maria"], values={**NOTE, "visit_at": _when(2)})
    call(vitals.report_reading, actor(Role.PATIENT, clinic["james"]), patient_id=clinic["james"],
         values={"systolic": "150", "diastolic": "95"}, effective_at=(datetime.now(UTC) - timedelta(hours=2)).isoformat())
    call(history.report_item, actor(Role.PATIENT, clinic["aiko"]), kind="allergies",
         values={"substance": "Shellfish", "category": "food", "severity": "moderate"})
    call(visits.create_note, clinic["other"], patient_id=clinic["theirs"], values={**NOTE, "visit_at": _when(2)})
    flags = {row.name: row.flags for row in call(worklist.my_patients, doctor).rows}
    assert flags == {"Maria Garcia": ("unsigned_notes",), "James Okafor": ("unverified_readings",),
                     "Aiko Tanaka": ("unverified_reports",)}


def test_flags_name_new_results_to_review_and_renewal_requests_until_the_doctor_answers(clinic):
    from patient_portal.domain.codes import service as codes
    from patient_portal.domain.prescriptions import service as rx
    from patient_portal.domain.results import service as results

    codes.load(sets=("loinc_lab", "formulary"))
    doctor = clinic["doctor"]
    panel = call(results.enter_panel, doctor, patient_id=clinic["james"], name="HbA1c",
                 specimen_date=_when(3)[:10], performing_lab="City Lab",
                 results=[{"loinc": "4548-4", "value": "6.1", "unit": "%", "range_high": "5.6"}])
    given = call(rx.prescribe, doctor, patient_id=clinic["aiko"],
                 values={"drug": "azithromycin", "dose": "500", "route": "oral", "frequency": "once_daily",
                         "duration_days": "3", "quantity": "3", "refills": "0", "substitution": True})
    call(rx.request_renewal, actor(Role.PATIENT, clinic["aiko"]), prescription_id=given.id)
    rows = {row.name: row.flags for row in call(worklist.my_patients, doctor).rows}
    assert rows == {"Maria Garcia": (), "James Okafor": ("results_to_review",), "Aiko Tanaka": ("renewal_requests",)}
    assert [row.flags for row in call(worklist.my_patients, clinic["other"]).rows] == [()]  # not their patients

    call(results.release, doctor, patient_id=clinic["james"], panel_id=panel.id)
    [request] = call(rx.renewal_requests, doctor)
    call(rx.decline_renewal, doctor, patient_id=clinic["aiko"], request_id=request.id, note="Finish the course.")
    assert {row.name: row.flags for row in call(worklist.my_patients, doctor).rows} == {
        "Maria Garcia": (), "James Okafor": (), "Aiko Tanaka": ()}


def test_a_colleagues_draft_is_not_my_unsigned_note_and_verified_reports_clear_the_flag(clinic):
    colleague = replace(actor(DOCTOR), display_name="Dr. Col")
    put_on_care_team(colleague, clinic["maria"])
    call(visits.create_note, colleague, patient_id=clinic["maria"], values={**NOTE, "visit_at": _when(2)})
    entry = call(history.report_item, actor(Role.PATIENT, clinic["maria"]), kind="medications",
                 values={"name": "Ibuprofen", "dose": "200 mg"})
    rows = {row.name: row.flags for row in call(worklist.my_patients, clinic["doctor"]).rows}
    assert rows["Maria Garcia"] == ("unverified_reports",)
    call(history.verify_item, clinic["doctor"], patient_id=clinic["maria"], kind="medications", item_id=entry["id"])
    rows = {row.name: row.flags for row in call(worklist.my_patients, clinic["doctor"]).rows}
    assert rows["Maria Garcia"] == ()


def test_sorting_by_name_and_by_last_visit(clinic):
    doctor = clinic["doctor"]
    _signed(doctor, clinic["aiko"], 3)
    _signed(doctor, clinic["james"], 40)
    assert _names(call(worklist.my_patients, doctor, sort="name_desc")) == ["Aiko Tanaka", "James Okafor",
                                                                           "Maria Garcia"]
    assert _names(call(worklist.my_patients, doctor, sort="last_visit")) == ["Aiko Tanaka", "James Okafor",
                                                                            "Maria Garcia"]  # never seen: last
    assert _names(call(worklist.my_patients, doctor, sort="last_visit_asc")) == ["James Okafor", "Aiko Tanaka",
                                                                                "Maria Garcia"]
    with pytest.raises(Invalid):
        call(worklist.my_patients, doctor, sort="dob")


def test_25_a_page_in_a_fixed_few_statements(clinic):
    doctor = clinic["doctor"]
    for i, family in enumerate(FAMILIES):
        put_on_care_team(doctor, _patient("Pat", family, 10 + i))
    first = call(worklist.my_patients, doctor)
    assert first.total == 30 and first.pages == 2 and len(first.rows) == 25
    second = call(worklist.my_patients, doctor, page=2)
    assert len(second.rows) == 5 and second.page == 2
    assert not set(_names(first)) & set(_names(second))
    assert call(worklist.my_patients, doctor, page=99).page == 2  # past the end: the last page
    for sort in ("name", "last_visit"):
        with statements() as seen:
            call(worklist.my_patients, doctor, sort=sort)
        reads = [s for s in seen if not s.lstrip().upper().startswith("BEGIN") and "audit_event" not in s
                 and "pg_advisory" not in s and "LOCK TABLE" not in s.upper()]
        assert len(reads) <= 10, reads  # one per flag, the next appointments (issue 13)


@pytest.mark.parametrize("role", [STAFF, Role.PATIENT, ADMIN])
def test_staff_patients_and_admins_are_refused_and_the_refusal_audited(clinic, role):
    who = actor(role, clinic["maria"] if role == Role.PATIENT else None)
    with pytest.raises(AccessDenied):
        call(worklist.my_patients, who)
    refused = [e for e in events(worklist.READ) if e.actor_id == who.user_id]
    assert [e.outcome for e in refused] == ["denied"]


def test_one_list_read_audited_with_its_purpose_and_the_patients_it_named(clinic):
    call(worklist.my_patients, clinic["doctor"], sort="last_visit")
    mine = [e for e in events() if e.actor_id == clinic["doctor"].user_id]
    assert [e.action for e in mine] == [worklist.READ]
    event = mine[0]
    assert event.purpose == "treatment" and event.outcome == "success" and event.patient_id is None
    assert set(event.detail["patient_ids"]) == {str(clinic[k]) for k in ("maria", "james", "aiko")}
    assert event.detail["sort"] == "last_visit" and event.detail["count"] == 3
