"""The timeline (issue 12): every clinical event of a patient newest first, filtered by kind, 25 a
page; who may read it; one audit event per page — at the service layer, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from patient_portal.core.access import AccessDenied, Role
from patient_portal.core.db import unit_of_work
from patient_portal.core.errors import Invalid
from patient_portal.domain.audit_log.service import own_access_log
from patient_portal.domain.documents.models import Document
from patient_portal.domain.history import service as history
from patient_portal.domain.observations import service as vitals
from patient_portal.domain.results import service as results
from patient_portal.domain.timeline import service as timeline
from patient_portal.domain.timeline.dto import order_key
from patient_portal.domain.visits import service as visits
from tests.integration.identity_support import events
from tests.integration.patients_support import ADMIN, DOCTOR, STAFF, actor, call, put_on_care_team, register

NOTE = {"reason": "Blood pressure review", "assessment": "Improving.", "plan": "Same dose."}


def _ago(days: int) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


@pytest.fixture
def chart(db):
    """Elena Marsh (intake: Asthma, Latex, Atorvastatin, MMR 1980) with a year of events."""
    from patient_portal.domain.codes import service as codes

    codes.load(sets=("loinc", "loinc_lab"))
    pid = register().patient_id
    doctor = replace(actor(DOCTOR), display_name="Dr. Ada")
    put_on_care_team(doctor, pid)
    note = call(visits.create_note, doctor, patient_id=pid,
                values={**NOTE, "visit_at": _ago(10).strftime("%Y-%m-%dT%H:%M")})
    call(visits.sign_note, doctor, patient_id=pid, note_id=note.id, expected_version=note.version)
    call(visits.create_note, doctor, patient_id=pid, values={**NOTE, "visit_at": _ago(2).strftime("%Y-%m-%dT%H:%M")})
    call(vitals.record_vitals, doctor, patient_id=pid, values={"systolic": "128", "diastolic": "80", "weight": "70",
                                                               "height": "170"}, effective_at=_ago(10).isoformat())
    call(history.save_item, doctor, patient_id=pid, kind="conditions",
         values={"description": "Hypertension", "code": "I10", "onset": (_ago(200)).date().isoformat()})
    call(results.enter_panel, doctor, patient_id=pid, name="Lipid panel", specimen_date=_ago(30).date().isoformat(),
         performing_lab="City Lab", results=[{"loinc": "2093-3", "value": "212", "unit": "mg/dL", "range_high": "200"},
                                             {"loinc": "2085-9", "value": "52", "unit": "mg/dL", "range_low": "40"}])
    call(history.save_item, doctor, patient_id=pid, kind="medications",
         values={"name": "Lisinopril", "dose": "10 mg", "start_date": _ago(100).date().isoformat(),
                 "stop_date": _ago(20).date().isoformat(), "status": "stopped"})
    with unit_of_work() as s:
        s.add(Document(patient_id=pid, category="lab_result", uploaded_by=doctor.user_id, title="Lipid panel"))
        s.add(Document(patient_id=pid, category="insurance_card", uploaded_by=doctor.user_id, title="Card"))
        s.add(Document(patient_id=pid, category="medical_document", uploaded_by=doctor.user_id, title="Gone",
                       status="deleted"))
    return {"pid": pid, "doctor": doctor, "stranger": actor(DOCTOR), "staff": actor(STAFF), "admin": actor(ADMIN),
            "patient": actor(Role.PATIENT, pid)}


def _titles(page) -> list[str]:
    return [item.title for item in page.items]


def test_every_kind_newest_first(chart):
    page = call(timeline.timeline, chart["doctor"], patient_id=chart["pid"])
    whens = [item.when for item in page.items]
    assert whens == sorted(whens, reverse=True)
    kinds = {item.kind for item in page.items}
    assert kinds == {"conditions", "allergies", "medications", "immunizations", "visits", "vitals", "results",
                     "documents"}
    titles = _titles(page)
    assert titles[-1] == "Immunization: MMR"  # given 1980: the oldest event
    assert titles.index("Visit: Blood pressure review") < titles.index("Stopped Lisinopril") \
        < titles.index("Started Lisinopril") < titles.index("Condition: Hypertension")
    assert titles.count("Visit: Blood pressure review") == 1  # the draft is not an event yet
    assert "Document: Lipid panel" in titles and "Document: Card" in titles and "Document: Gone" not in titles
    vitals_item = next(i for i in page.items if i.kind == "vitals")
    assert vitals_item.detail == "Blood pressure, weight, height, BMI" and vitals_item.link.endswith("/vitals")
    visit = next(i for i in page.items if i.kind == "visits")
    assert "/visits?note=" in visit.link and visit.detail == "Signed by Dr. Ada"
    lab = next(i for i in page.items if i.kind == "results")
    assert (lab.title, lab.detail, lab.day_only) == ("Results: Lipid panel", "2 results, to review", True)
    assert lab.link == f"/chart/{chart['pid']}/results" and lab.when.date() == _ago(30).date()
    assert titles.index("Stopped Lisinopril") < titles.index("Results: Lipid panel") < titles.index("Started Lisinopril")
    assert page.available == ("conditions", "allergies", "medications", "immunizations", "visits", "vitals",
                              "results", "careplans", "emergencies", "documents")


def test_filters_by_kind(chart):
    page = call(timeline.timeline, chart["doctor"], patient_id=chart["pid"], kinds=["medications", "visits"])
    assert {i.kind for i in page.items} == {"medications", "visits"} and page.kinds == ("medications", "visits")
    # Atorvastatin came at intake with no start date: an event when it was recorded (today)
    assert _titles(page) == ["Started Atorvastatin", "Visit: Blood pressure review", "Stopped Lisinopril",
                             "Started Lisinopril"]
    only = call(timeline.timeline, chart["doctor"], patient_id=chart["pid"], kinds="vitals")
    assert [i.kind for i in only.items] == ["vitals"]
    with pytest.raises(Invalid):
        call(timeline.timeline, chart["doctor"], patient_id=chart["pid"], kinds=["passwords"])


def test_25_a_page(chart):
    doctor, pid = chart["doctor"], chart["pid"]
    for i in range(30):
        call(vitals.record_vitals, doctor, patient_id=pid, values={"heart_rate": str(60 + i)},
             effective_at=_ago(40 + i).isoformat())
    first = call(timeline.timeline, doctor, patient_id=pid, kinds=["vitals"])
    assert first.total == 31 and first.pages == 2 and len(first.items) == 25
    second = call(timeline.timeline, doctor, patient_id=pid, kinds=["vitals"], page=2)
    assert len(second.items) == 6 and second.items[0].when < first.items[-1].when


def test_an_admin_reads_for_operations_the_front_desk_patients_and_strangers_are_refused(chart):
    admin = call(timeline.timeline, chart["admin"], patient_id=chart["pid"])
    assert admin.total >= 9
    assert events(timeline.READ)[-1].purpose == "operations"
    for who in ("staff", "patient", "stranger"):
        with pytest.raises(AccessDenied):
            call(timeline.timeline, chart[who], patient_id=chart["pid"])
        refused = [e for e in events(timeline.READ) if e.actor_id == chart[who].user_id]
        assert [e.outcome for e in refused] == ["denied"]


def test_one_audit_event_per_page_and_one_with_the_header(chart):
    doctor, pid = chart["doctor"], chart["pid"]
    before = len(events())
    call(timeline.timeline, doctor, patient_id=pid, kinds=["visits"])
    new = events()[before:]
    assert [(e.action, e.patient_id, e.purpose) for e in new] == [(timeline.READ, pid, "treatment")]
    assert new[0].detail["kinds"] == ["visits"] and new[0].detail["page"] == 1
    before = len(events())
    header, page = call(timeline.open_timeline, doctor, pid)
    new = events()[before:]
    assert header.patient["name"] == "Elena Marsh" and page.total > 0
    assert [e.action for e in new] == [timeline.READ] and "allergies" in new[0].detail["header"]
    log = [row.what for row in call(own_access_log, chart["patient"]).rows]
    assert log[0] == "Opened your record and looked at your timeline"


def test_pages_join_up_to_the_whole_timeline_across_every_kind(chart):
    """Each source gives only its newest events for a page (the paged source contract): page after
    page still shows every event once, in order, and a page past the end shows the last one."""
    doctor, pid = chart["doctor"], chart["pid"]
    for i in range(12):
        call(vitals.record_vitals, doctor, patient_id=pid, values={"heart_rate": str(60 + i)},
             effective_at=_ago(3 * i + 1).isoformat())
        call(history.save_item, doctor, patient_id=pid, kind="conditions",
             values={"description": f"Condition {i}", "onset": _ago(3 * i + 2).date().isoformat()})
        note = call(visits.create_note, doctor, patient_id=pid,
                    values={**NOTE, "visit_at": _ago(3 * i + 3).strftime("%Y-%m-%dT%H:%M")})
        call(visits.sign_note, doctor, patient_id=pid, note_id=note.id, expected_version=note.version)
    first = call(timeline.timeline, doctor, patient_id=pid)
    assert first.total == 12 + 36 and first.pages == 2  # the fixture's 12 events (its lab report too) and 3 × 12 more
    pages = [first] + [call(timeline.timeline, doctor, patient_id=pid, page=n) for n in range(2, first.pages + 1)]
    joined = [item for page in pages for item in page.items]
    assert len(joined) == first.total == len({(item.kind, item.key) for item in joined})
    assert joined == sorted(joined, key=order_key, reverse=True)
    assert [p.total for p in pages] == [first.total] * len(pages)
    past = call(timeline.timeline, doctor, patient_id=pid, page=99)
    assert past.page == first.pages and past.items == pages[-1].items
    visits_only = call(timeline.timeline, doctor, patient_id=pid, kinds=["visits"], page=1)
    assert visits_only.total == 13 and [i.kind for i in visits_only.items] == ["visits"] * 13
