"""The FHIR API's visits, appointments, documents, care plans, consents and doctors (issue 16):
Encounter, Appointment, DocumentReference (its file through the documents area's audited
download as ``Binary``), CarePlan, Goal, Consent and Practitioner — read and search, every answer
valid R4; each role reads what the portal shows it and is refused the rest (403 for a whole type,
404 for another patient's ids); scopes narrow; every request is audited with the client app."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from patient_portal.core.access import Role
from patient_portal.domain.appointments import service as appts
from patient_portal.domain.careplans import service as plans
from patient_portal.domain.consent import service as consent
from patient_portal.domain.documents import service as documents
from patient_portal.domain.visits import service as visits
from tests.integration.documents.conftest import PDF_BYTES, PNG_BYTES, chunks_of, meta
from tests.integration.fhir_support import fhir_clinic, signed_in, tokens, valid  # noqa: F401 (a fixture)
from tests.integration.identity_support import client, events
from tests.integration.patients_support import ADMIN, actor, call

NOTE = {"visit_at": "2026-01-14T09:30", "reason": "Wheezing at night", "subjective": "Coughs at night.",
        "objective": "Scattered wheeze.", "assessment": "Asthma, not well controlled.", "plan": "Step up inhaler.",
        "diagnoses": [], "orders": []}
NEW_TYPES = ("Encounter", "Appointment", "DocumentReference", "CarePlan", "Goal", "Consent")


def _next_weekday(ahead: int = 4) -> datetime:
    day = (datetime.now(UTC) + timedelta(days=ahead)).date()
    while day.weekday() > 4:
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)


@pytest.fixture
def clinic(code_tables):
    """Elena's record with a signed visit and a draft, a booked visit, a lab report and an insurance
    card, a care plan with a goal and a task, consents (texts agreed then withdrawn); Omar's own
    consent and card; the doctor, Elena, the front desk and an admin signed in."""
    c = fhir_clinic()
    doc, elena, omar = c["doc_actor"], uuid.UUID(c["elena"]), uuid.UUID(c["omar"])
    signed = call(visits.create_note, doc, patient_id=elena, values=NOTE)
    call(visits.sign_note, doc, patient_id=elena, note_id=signed.id, expected_version=signed.version)
    c["draft"] = str(call(visits.create_note, doc, patient_id=elena,
                          values={**NOTE, "visit_at": "2026-02-01T10:00", "reason": "Draft only"}).id)
    c["signed"] = str(signed.id)
    admin = actor(ADMIN)
    follow = call(appts.save_visit_type, admin, values={"name": "Follow-up", "duration_minutes": 20})
    for weekday in range(5):
        call(appts.add_availability, admin, doctor_id=doc.user_id, weekday=weekday, start_time="08:00",
             end_time="12:00", valid_from=(datetime.now(UTC) - timedelta(days=7)).date())
    booked = call(appts.book, c["desk_actor"], patient_id=elena, visit_type_id=follow.id, doctor_id=doc.user_id,
                  start=_next_weekday().isoformat(), reason="Inhaler review")
    c["appointment"] = str(booked.id)
    c["lab"] = str(documents.upload(doc, patient_id=elena, meta=meta("lab_result"), filename="lab.pdf",
                                    chunks=chunks_of(PDF_BYTES)).id)
    c["card"] = str(documents.upload(c["desk_actor"], patient_id=elena, meta=meta("insurance_card", title="Card"),
                                     filename="card.png", chunks=chunks_of(PNG_BYTES)).id)
    c["omar_card"] = str(documents.upload(c["desk_actor"], patient_id=omar, meta=meta("insurance_card"),
                                          filename="card.png", chunks=chunks_of(PNG_BYTES)).id)
    plan = call(plans.create_plan, doc, patient_id=elena, values={"title": "Asthma plan", "condition_id": ""})
    goal = call(plans.add_goal, doc, patient_id=elena, plan_id=plan.id,
                values={"measure": "blood_pressure", "comparator": "below", "target": "130/80",
                        "due": (datetime.now(UTC) + timedelta(days=60)).date().isoformat()})
    call(plans.add_activity, doc, patient_id=elena, plan_id=plan.id, values={"text": "Use the spacer", "task": True})
    c["plan"], c["goal"] = str(plan.id), str(goal.id)
    me = actor(Role.PATIENT, elena)
    call(consent.decide_own, me, purpose="sms", status="granted")
    call(consent.decide_own, me, purpose="sms", status="withdrawn")
    call(consent.decide_own, actor(Role.PATIENT, omar), purpose="sms", status="granted")
    c["admin"], _ = signed_in("admin@clinic.org", "admin")
    return c


def _search(web, rtype: str, pid: str, **params) -> dict:
    answer = web.get(f"/fhir/{rtype}", params={"patient": pid, **params})
    assert answer.status_code == 200, (rtype, answer.text)
    return valid(answer.json())


def _resources(bundle: dict) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e.get("search", {}).get("mode", "match") == "match"]


# ---------------------------------------------------------------------------------------------- what each shows

def test_the_doctor_reads_every_new_type_as_valid_r4_by_search_and_by_id(clinic):
    doc, pid = clinic["doc"], clinic["elena"]
    for rtype in NEW_TYPES:
        found = _resources(_search(doc, rtype, pid))
        assert found, rtype
        one = doc.get(f"/fhir/{rtype}/{found[0]['id']}")
        assert one.status_code == 200 and valid(one.json())["id"] == found[0]["id"], rtype
        assert one.headers["etag"] == f'W/"{found[0]["meta"]["versionId"]}"'
        assert "lastUpdated" in found[0]["meta"], rtype
    encounters = {r["id"]: r for r in _resources(_search(doc, "Encounter", pid))}
    assert encounters[clinic["signed"]]["status"] == "finished"
    assert encounters[clinic["draft"]]["status"] == "in-progress"  # the author's draft: a clinician sees it
    assert encounters[clinic["signed"]]["reasonCode"][0]["text"] == "Wheezing at night"
    visit = _resources(_search(doc, "Appointment", pid))[0]
    assert (visit["status"], visit["reasonCode"][0]["text"]) == ("booked", "Inhaler review")
    doctor = next(p["actor"]["reference"] for p in visit["participant"] if "Practitioner" in p["actor"]["reference"])
    practitioner = doc.get(f"/fhir/{doctor}")
    assert practitioner.status_code == 200 and valid(practitioner.json())["resourceType"] == "Practitioner"
    plan = _resources(_search(doc, "CarePlan", pid))[0]
    assert plan["title"] == "Asthma plan" and plan["goal"] == [{"reference": f"Goal/{clinic['goal']}"}]
    assert plan["activity"][0]["detail"] == {"status": "not-started", "description": "Use the spacer"}
    goal = doc.get(f"/fhir/Goal/{clinic['goal']}").json()
    assert goal["description"]["text"].startswith("Blood pressure below 130/80") and goal["lifecycleStatus"] == "active"
    assert goal["target"][0]["dueDate"]


def test_the_patient_sees_her_signed_visits_only_and_her_consents_as_they_stand(clinic):
    me, pid = clinic["me"], clinic["elena"]
    assert [r["id"] for r in _resources(_search(me, "Encounter", pid))] == [clinic["signed"]]
    assert me.get(f"/fhir/Encounter/{clinic['draft']}").status_code == 404  # a draft is not hers to see yet
    consents = _resources(_search(me, "Consent", pid))
    assert [(c["status"], c["provision"]["type"]) for c in consents] == [("active", "deny"), ("inactive", "permit")]
    assert [c["id"] for c in _resources(_search(me, "Consent", pid, status="active"))] == [consents[0]["id"]]
    for rtype in ("Appointment", "DocumentReference", "CarePlan", "Goal"):
        assert _resources(_search(me, rtype, pid)), rtype


def test_documents_list_their_type_and_the_file_downloads_through_the_audited_path(clinic):
    doc, me, pid = clinic["doc"], clinic["me"], clinic["elena"]
    found = {r["id"]: r for r in _resources(_search(doc, "DocumentReference", pid))}
    lab = found[clinic["lab"]]
    assert lab["type"]["coding"][0]["code"] == "11502-2" and lab["category"][0]["coding"][0]["code"] == "clinical-note"
    assert lab["meta"]["profile"] == ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-documentreference"]
    attachment = lab["content"][0]["attachment"]
    assert attachment["contentType"] == "application/pdf" and attachment["url"].endswith(f"/fhir/Binary/{clinic['lab']}")
    labs = _resources(_search(doc, "DocumentReference", pid, type="http://loinc.org|11502-2"))
    assert [r["id"] for r in labs] == [clinic["lab"]]
    before = len(events("document.download"))
    for web in (doc, me):
        got = web.get(f"/fhir/Binary/{clinic['lab']}")
        assert got.status_code == 200 and got.content == PDF_BYTES
        assert got.headers["content-disposition"].startswith("attachment;")
    downloads = events("document.download")
    assert len(downloads) == before + 2 and str(downloads[-1].patient_id) == pid
    assert me.get(f"/fhir/Binary/{clinic['omar_card']}").status_code == 404  # Omar's file
    assert me.get(f"/fhir/Binary/{uuid.uuid4()}").status_code == 404
    assert client().get(f"/fhir/Binary/{clinic['lab']}").status_code == 401


def test_the_front_desk_sees_appointments_consents_and_paperwork_but_no_clinical_record(clinic):
    desk, pid = clinic["desk"], clinic["elena"]
    assert _resources(_search(desk, "Appointment", pid))
    assert _resources(_search(desk, "Consent", pid))
    assert [r["id"] for r in _resources(_search(desk, "DocumentReference", pid))] == [clinic["card"]]
    assert desk.get(f"/fhir/Binary/{clinic['lab']}").status_code == 404  # a lab report is clinical
    assert desk.get(f"/fhir/Binary/{clinic['card']}").status_code == 200
    for rtype in ("Encounter", "CarePlan", "Goal"):
        refused = desk.get(f"/fhir/{rtype}", params={"patient": pid})
        assert refused.status_code == 403 and valid(refused.json())["resourceType"] == "OperationOutcome", rtype
    assert desk.get(f"/fhir/Encounter/{clinic['signed']}").status_code == 403


def test_an_admin_reads_them_all_for_operations(clinic):
    for rtype in NEW_TYPES:
        assert _resources(_search(clinic["admin"], rtype, clinic["elena"])), rtype


@pytest.mark.parametrize("rtype,key", [("Consent", None), ("DocumentReference", "omar_card")])
def test_another_patients_ids_are_404_and_searching_them_finds_nothing(clinic, rtype, key):
    omar = clinic["omar"]
    admin_view = _resources(_search(clinic["admin"], rtype, omar))
    target = clinic[key] if key else admin_view[0]["id"]
    assert target in [r["id"] for r in admin_view]
    for web in (clinic["me"], clinic["doc"]):  # Elena; a doctor off Omar's care team
        refused = web.get(f"/fhir/{rtype}/{target}")
        assert refused.status_code == 404 and valid(refused.json())["resourceType"] == "OperationOutcome"
        assert web.get(f"/fhir/{rtype}", params={"patient": omar}).json()["total"] == 0
    for rtype_any in NEW_TYPES:
        assert clinic["me"].get(f"/fhir/{rtype_any}/{uuid.uuid4()}").status_code == 404


def test_practitioners_are_the_clinics_doctors_for_every_signed_in_role(clinic):
    doctor = str(clinic["doc_actor"].user_id)
    for who in ("doc", "me", "desk", "admin"):
        found = valid(clinic[who].get("/fhir/Practitioner").json())
        assert [r["id"] for r in _resources(found)] == [doctor], who
    named = clinic["me"].get("/fhir/Practitioner", params={"name": clinic["doc_actor"].display_name.split()[-1]})
    assert named.json()["total"] == 1
    assert clinic["me"].get("/fhir/Practitioner", params={"name": "Nobody"}).json()["total"] == 0
    assert clinic["me"].get(f"/fhir/Practitioner/{uuid.uuid4()}").status_code == 404
    assert clinic["me"].get(f"/fhir/Practitioner/{clinic['elena']}").status_code == 404  # not a doctor
    assert client().get("/fhir/Practitioner").status_code == 401


def test_include_and_revinclude_reach_the_new_types(clinic):
    doc, pid = clinic["doc"], clinic["elena"]
    included = valid(doc.get("/fhir/Encounter", params={"patient": pid, "_include": "Encounter:patient"}).json())
    assert [e["resource"]["resourceType"] for e in included["entry"] if e["search"]["mode"] == "include"] == ["Patient"]
    rev = valid(doc.get("/fhir/Patient", params={"_id": pid, "_revinclude": "CarePlan:subject"}).json())
    assert {e["resource"]["resourceType"] for e in rev["entry"]} == {"Patient", "CarePlan"}


def test_everything_holds_the_new_types(clinic):
    whole = valid(clinic["me"].get(f"/fhir/Patient/{clinic['elena']}/$everything", params={"_count": "200"}).json())
    assert set(NEW_TYPES) <= {e["resource"]["resourceType"] for e in whole["entry"]}


# ---------------------------------------------------------------------------------------------- scopes and audit

def test_an_apps_scopes_narrow_each_new_type(clinic, tokens):  # noqa: F811 (the fixture)
    pid = clinic["elena"]
    tokens["visits"] = (actor(Role.PATIENT, uuid.UUID(pid)), frozenset({"patient/Appointment.rs",
                                                                         "patient/DocumentReference.r"}), "visit-app")
    app, bearer = client(), {"Authorization": "Bearer visits"}
    assert app.get("/fhir/Appointment", params={"patient": pid}, headers=bearer).json()["total"] == 1
    assert app.get(f"/fhir/Appointment/{clinic['appointment']}", headers=bearer).status_code == 200
    for rtype in ("Encounter", "CarePlan", "Goal", "Consent"):
        assert app.get(f"/fhir/{rtype}", params={"patient": pid}, headers=bearer).status_code == 403, rtype
    assert app.get("/fhir/DocumentReference", params={"patient": pid}, headers=bearer).status_code == 403  # no .s
    assert app.get(f"/fhir/DocumentReference/{clinic['lab']}", headers=bearer).status_code == 200
    assert app.get(f"/fhir/Binary/{clinic['lab']}", headers=bearer).content == PDF_BYTES  # .r covers the file
    tokens["plans"] = (actor(Role.PATIENT, uuid.UUID(pid)), frozenset({"patient/CarePlan.rs"}), "plan-app")
    assert app.get(f"/fhir/Binary/{clinic['lab']}", headers={"Authorization": "Bearer plans"}).status_code == 403
    event = events("fhir.request")[-2]
    assert event.detail == {"interaction": "read", "client": "visit-app", "count": 1, "scoped": True}


def test_each_read_is_audited_with_the_areas_own_event_and_the_fhir_request(clinic):
    clinic["me"].get("/fhir/CarePlan", params={"patient": clinic["elena"]})
    assert events("careplan.list")[-1].patient_id == uuid.UUID(clinic["elena"])
    request = events("fhir.request")[-1]
    assert request.object_type == "CarePlan" and request.detail["interaction"] == "search"
    clinic["desk"].get("/fhir/Consent", params={"patient": clinic["elena"]})
    assert events("consent.list")[-1].patient_id == uuid.UUID(clinic["elena"])


def test_the_capability_statement_lists_the_new_types_and_binary(db):
    body = valid(client().get("/fhir/metadata").json())
    served = {r["type"]: r for r in body["rest"][0]["resource"]}
    for rtype in (*NEW_TYPES, "Practitioner"):
        codes = {i["code"] for i in served[rtype]["interaction"]}
        assert {"read", "search-type"} <= codes, rtype
        assert "_lastUpdated" in {p["name"] for p in served[rtype]["searchParam"]}, rtype
    assert {i["code"] for i in served["Binary"]["interaction"]} == {"read"}


def test_a_bulk_export_holds_the_new_types_of_the_doctors_patients(clinic):
    from tests.integration.test_fhir_bulk import _kickoff, _lines, _manifest

    doc = clinic["doc"]
    manifest = _manifest(doc, _kickoff(doc, _type=",".join(NEW_TYPES)))
    by_type = {o["type"]: o["url"] for o in manifest["output"]}
    assert set(by_type) == set(NEW_TYPES)
    consents = _lines(doc, by_type["Consent"])
    assert {c["patient"]["reference"] for c in consents} == {f"Patient/{clinic['elena']}"}  # not Omar's
    assert {d["id"] for d in _lines(doc, by_type["DocumentReference"])} == {clinic["lab"], clinic["card"]}
