"""Lab results as FHIR Observations (issue 16): US Core laboratory Observations from the results area,
found by searching the patient's compartment (category laboratory, code, date) and read by id with the
same rules as that search — the care-team doctor and an admin read every report, to review and held
ones too; the patient only released ones (a held or unreviewed report is 404 for her, as is anyone
else's); the front desk's role does not read results (403); an unknown id is 404."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest

from patient_portal.core.db import unit_of_work
from patient_portal.domain.results import service as results
from tests.integration.fhir_support import fhir_clinic, signed_in, valid
from tests.integration.identity_support import events

DAY = (date.today() - timedelta(days=3)).isoformat()
LAB = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-observation-lab"


@pytest.fixture
def clinic(code_tables):
    """Elena's care-team doctor entered two reports: a lipid panel he released and an HbA1c he holds."""
    found = fhir_clinic()
    doctor, pid = found["doc_actor"], found["elena"]
    with unit_of_work() as s:
        lipids = results.enter_panel(s, doctor, patient_id=pid, name="Lipid panel", specimen_date=DAY,
                                     performing_lab="Quest", results=[
                                         {"loinc": "2093-3", "value": "212", "unit": "mg/dL", "range_high": "200"},
                                         {"loinc": "2085-9", "value": "52", "unit": "mg/dL", "range_low": "40"}])
        results.release(s, doctor, patient_id=pid, panel_id=lipids.id, comment="A little high.")
        held = results.enter_panel(s, doctor, patient_id=pid, name="HbA1c", specimen_date=DAY, performing_lab="Quest",
                                   results=[{"loinc": "4548-4", "value": "8.1", "unit": "%", "range_high": "5.7"}])
        results.hold(s, doctor, patient_id=pid, panel_id=held.id)
    found["released"] = [str(r.id) for r in lipids.results]
    found["held"] = [str(r.id) for r in held.results]
    return found


def _labs(web, pid: str, **params) -> dict:
    answer = web.get("/fhir/Observation", params={"patient": pid, "category": "laboratory", **params})
    assert answer.status_code == 200, answer.text
    return valid(answer.json())


def test_the_doctor_finds_and_reads_every_lab_result_as_us_core_laboratory_observations(clinic):
    doc, pid = clinic["doc"], clinic["elena"]
    found = _labs(doc, pid)
    ids = {e["resource"]["id"] for e in found["entry"]}
    assert ids == set(clinic["released"] + clinic["held"])
    cholesterol = doc.get(f"/fhir/Observation/{clinic['released'][0]}")
    assert cholesterol.status_code == 200 and cholesterol.headers["etag"] == 'W/"1"'
    body = valid(cholesterol.json())
    assert body["meta"]["profile"] == [LAB] and body["status"] == "final"
    assert body["category"][0]["coding"][0]["code"] == "laboratory"
    assert body["code"]["coding"][0] == {**body["code"]["coding"][0], "system": "http://loinc.org", "code": "2093-3"}
    assert body["valueQuantity"]["value"] == 212.0 and body["valueQuantity"]["code"] == "mg/dL"
    assert body["referenceRange"][0]["high"]["value"] == 200.0
    assert body["interpretation"][0]["coding"][0]["code"] == "H"
    assert body["effectiveDateTime"] == DAY and body["subject"]["reference"] == f"Patient/{pid}"
    assert valid(doc.get(f"/fhir/Observation/{clinic['held'][0]}").json())["status"] == "final"
    by_code = _labs(doc, pid, code="http://loinc.org|4548-4")
    assert [e["resource"]["id"] for e in by_code["entry"]] == clinic["held"]
    assert doc.get(f"/fhir/Observation/{clinic['released'][0]}/_history/1").status_code == 200


def test_the_patient_reads_only_her_released_results_and_a_held_one_is_404(clinic):
    me, pid = clinic["me"], clinic["elena"]
    found = _labs(me, pid)
    assert {e["resource"]["id"] for e in found["entry"]} == set(clinic["released"])
    assert me.get(f"/fhir/Observation/{clinic['released'][1]}").status_code == 200
    held = me.get(f"/fhir/Observation/{clinic['held'][0]}")
    assert held.status_code == 404 and held.json()["resourceType"] == "OperationOutcome"
    vitals = me.get("/fhir/Observation", params={"patient": pid, "category": "vital-signs"}).json()
    one = vitals["entry"][0]["resource"]["id"]
    assert valid(me.get(f"/fhir/Observation/{one}").json())["category"][0]["coding"][0]["code"] == "vital-signs"


def test_other_people_cannot_read_a_lab_result_by_id(clinic):
    rid = clinic["released"][0]
    omar_web, _ = signed_in("omar@example.com", "patient", uuid.UUID(clinic["omar"]))
    assert omar_web.get(f"/fhir/Observation/{rid}").status_code == 404  # another patient's: 404, not 403
    other_doc, _ = signed_in("other.doc@clinic.org", "doctor")
    assert other_doc.get(f"/fhir/Observation/{rid}").status_code == 404  # off the care team
    assert clinic["desk"].get(f"/fhir/Observation/{rid}").status_code == 403  # the role reads no results
    admin, _ = signed_in("admin@clinic.org", "admin")
    assert valid(admin.get(f"/fhir/Observation/{rid}").json())["id"] == rid  # operations, basis role
    for unknown in (str(uuid.uuid4()), f"{uuid.uuid4()}.systolic", "not-an-id"):
        assert clinic["doc"].get(f"/fhir/Observation/{unknown}").status_code == 404, unknown


def test_a_lab_read_by_id_is_audited_by_the_results_area_and_as_a_fhir_request(clinic):
    before = len(events("result.list"))
    assert clinic["doc"].get(f"/fhir/Observation/{clinic['released'][0]}").status_code == 200
    assert len(events("result.list")) > before
    last = events("fhir.request")[-1]
    assert (last.object_type, last.detail["interaction"]) == ("Observation", "read")


def test_the_capability_statement_claims_observation_read(db):
    from tests.integration.identity_support import client

    body = client().get("/fhir/metadata").json()
    served = {r["type"]: {i["code"] for i in r["interaction"]} for r in body["rest"][0]["resource"]}
    assert {"read", "vread", "search-type"} <= served["Observation"]


def test_everything_start_and_end_keep_the_care_dates_in_the_period(clinic):
    me, pid = clinic["me"], clinic["elena"]

    def kinds(**params) -> set[tuple[str, str]]:
        found = valid(me.get(f"/fhir/Patient/{pid}/$everything", params={"_type": "Patient,Observation", **params}
                             ).json())
        return {(e["resource"]["resourceType"], (e["resource"].get("category") or [{"coding": [{"code": "-"}]}])[0]
                 ["coding"][0]["code"]) for e in found["entry"]}

    assert kinds() == {("Patient", "-"), ("Observation", "vital-signs"), ("Observation", "laboratory")}
    yesterday, day_before = (date.today() - timedelta(days=1)).isoformat(), (date.today() - timedelta(days=2)).isoformat()
    assert kinds(start=yesterday) == {("Patient", "-"), ("Observation", "vital-signs")}  # the labs were 3 days ago
    assert kinds(end=day_before) == {("Patient", "-"), ("Observation", "laboratory")}
    assert kinds(start=DAY, end=DAY) == {("Patient", "-"), ("Observation", "laboratory")}
    assert me.get(f"/fhir/Patient/{pid}/$everything", params={"start": "last week"}).status_code == 400
