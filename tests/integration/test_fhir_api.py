"""The FHIR R4 API (issue 16 part A): a FHIR client reads a patient's record as FHIR — Patient,
Condition, AllergyIntolerance, MedicationStatement, Immunization, RelatedPerson, vital-sign
Observations — every answer a valid R4 resource (checked with ``fhir.resources``' R4B models);
search with paging links and _include/_revinclude; $everything; create and update with If-Match
(412 when stale) and If-None-Exist; OperationOutcome errors with the right status; other
patients' ids are 404; scopes only narrow; every request is audited with the client."""

from __future__ import annotations

import json
import uuid

import pytest

from patient_portal.api.fhir.scopes import scope_allows
from tests.integration.fhir_support import fhir_clinic, tokens, valid  # noqa: F401 (a fixture)
from tests.integration.identity_support import client, events

FHIR = "application/fhir+json"


@pytest.fixture
def clinic(code_tables):
    return fhir_clinic()


def _ids(bundle: dict, rtype: str | None = None) -> list[str]:
    return [e["resource"]["id"] for e in bundle["entry"] if rtype is None or e["resource"]["resourceType"] == rtype]


def _first(web, rtype: str, pid: str) -> dict:
    name = "_id" if rtype == "Patient" else "patient"
    return web.get(f"/fhir/{rtype}", params={name: pid}).json()["entry"][0]["resource"]


# ---------------------------------------------------------------------------------------------- metadata

def test_the_capability_statement_is_valid_r4_and_lists_what_is_served(db):
    answer = client().get("/fhir/metadata")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith(FHIR)
    body = valid(answer.json())
    assert body["fhirVersion"] == "4.0.1"
    served = {r["type"]: {i["code"] for i in r["interaction"]} for r in body["rest"][0]["resource"]}
    assert {"Patient", "Condition", "AllergyIntolerance", "Observation", "Immunization"} <= set(served)
    assert {"create", "update"} <= served["Condition"] and "create" not in served["Patient"]
    assert {"read", "search-type"} <= served["Observation"]  # vital signs and lab results read by id too


# ---------------------------------------------------------------------------------------------- reads

def test_the_patient_reads_her_own_record_as_valid_us_core_resources(clinic):
    me, pid = clinic["me"], clinic["elena"]
    patient = me.get(f"/fhir/Patient/{pid}")
    assert patient.status_code == 200 and patient.headers["etag"] == 'W/"1"'
    body = valid(patient.json())
    assert body["name"][0]["family"] == "Marsh" and body["birthDate"] == "1979-04-23" and body["gender"] == "female"
    assert body["meta"]["profile"] == ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"]
    for rtype, check in (("Condition", lambda r: r["code"]["coding"][0]["code"] == "J45"),
                         ("AllergyIntolerance", lambda r: r["code"]["text"] == "Latex"),
                         ("MedicationStatement", lambda r: r["medicationCodeableConcept"]["text"] == "Atorvastatin"),
                         ("Immunization", lambda r: r["vaccineCode"]["coding"][0]["code"] == "03"),
                         ("RelatedPerson", lambda r: r["name"][0]["text"] == "Tom Marsh"),
                         ("Coverage", lambda r: (r["payor"][0]["display"], r["subscriberId"]) == ("Tufts Health",
                                                                                                    "TH-0091")),
                         ("Observation", lambda r: r["valueQuantity"]["code"])):
        bundle = valid(me.get(f"/fhir/{rtype}", params={"patient": pid}).json())
        assert bundle["type"] == "searchset" and bundle["total"] >= 1, rtype
        assert all(check(e["resource"]) for e in bundle["entry"]), rtype
    condition = _first(me, "Condition", pid)
    one = me.get(f"/fhir/Condition/{condition['id']}")
    assert one.status_code == 200 and valid(one.json())["id"] == condition["id"]
    assert me.get(f"/fhir/Condition/{condition['id']}/_history/1").json()["id"] == condition["id"]
    assert me.get(f"/fhir/Condition/{condition['id']}/_history/9").status_code == 404
    assert valid(me.get(f"/fhir/Condition/{condition['id']}/_history").json())["type"] == "history"


def test_vital_signs_are_us_core_observations_with_loinc_and_ucum(clinic):
    found = valid(clinic["doc"].get("/fhir/Observation", params={"patient": clinic["elena"],
                                                                   "category": "vital-signs"}).json())
    codes = {e["resource"]["code"]["coding"][0]["code"] for e in found["entry"]}
    assert {"8480-6", "8462-4", "8867-4"} <= codes  # systolic, diastolic, heart rate
    systolic = next(e["resource"] for e in found["entry"] if e["resource"]["code"]["coding"][0]["code"] == "8480-6")
    assert systolic["valueQuantity"] == {"value": 128.0, "unit": systolic["valueQuantity"]["unit"],
                                         "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}


def test_other_patients_ids_and_unknown_ids_are_404_never_403(clinic):
    me, omar = clinic["me"], clinic["omar"]
    for url in (f"/fhir/Patient/{omar}", f"/fhir/Patient/{uuid.uuid4()}", "/fhir/Patient/not-an-id",
                f"/fhir/Condition/{uuid.uuid4()}", f"/fhir/Patient/{omar}/$everything"):
        answer = me.get(url)
        assert answer.status_code == 404, url
        assert valid(answer.json())["resourceType"] == "OperationOutcome"
    assert _first(clinic["doc"], "Patient", clinic["elena"])["id"] == clinic["elena"]  # his own patient
    assert clinic["doc"].get(f"/fhir/Patient/{omar}").status_code == 404  # off the care team
    assert me.get("/fhir/Condition", params={"patient": omar}).json()["total"] == 0


def test_without_a_credential_it_is_401_and_a_bearer_token_nobody_issued_is_401(clinic):
    for headers in ({}, {"Authorization": "Bearer made-up"}, {"Authorization": "Basic abc"}):
        answer = client().get(f"/fhir/Patient/{clinic['elena']}", headers=headers)
        assert answer.status_code == 401 and valid(answer.json())["issue"][0]["code"] == "login"


def test_the_front_desk_reads_demographics_but_no_clinical_resources(clinic):
    desk = clinic["desk"]
    assert desk.get(f"/fhir/Patient/{clinic['elena']}").status_code == 200
    refused = desk.get("/fhir/Condition", params={"patient": clinic["elena"]})
    assert refused.status_code == 403 and valid(refused.json())["resourceType"] == "OperationOutcome"


# ---------------------------------------------------------------------------------------------- search

def test_search_filters_pages_with_links_and_includes_the_patient(clinic):
    doc, pid = clinic["doc"], clinic["elena"]
    for name in ("Migraine", "Gout"):
        assert doc.post("/fhir/Condition", json=_condition(pid, name)).status_code == 201
    everything = doc.get("/fhir/Condition", params={"patient": pid}).json()
    assert everything["total"] == 3
    first = valid(doc.get("/fhir/Condition", params={"patient": pid, "_count": "2"}).json())
    assert len(first["entry"]) == 2 and {link["relation"] for link in first["link"]} == {"self", "next"}
    following = doc.get(next(link["url"] for link in first["link"] if link["relation"] == "next")).json()
    assert len(following["entry"]) == 1 and "previous" in {link["relation"] for link in following["link"]}
    assert set(_ids(first) + _ids(following)) == set(_ids(everything))
    coded = doc.get("/fhir/Condition", params={"patient": pid, "code": "http://hl7.org/fhir/sid/icd-10-cm|J45"})
    assert [e["resource"]["code"]["text"] for e in coded.json()["entry"]] == ["Asthma"]
    by_post = doc.post("/fhir/Condition/_search", data={"patient": pid, "clinical-status": "active"})
    assert by_post.status_code == 200 and by_post.json()["total"] == 3
    included = valid(doc.get("/fhir/Condition", params={"patient": pid, "_include": "Condition:patient"}).json())
    assert [e["search"]["mode"] for e in included["entry"]].count("include") == 1
    rev = valid(doc.get("/fhir/Patient", params={"_id": pid, "_revinclude": "AllergyIntolerance:patient"}).json())
    assert {e["resource"]["resourceType"] for e in rev["entry"]} == {"Patient", "AllergyIntolerance"}


def test_unknown_parameters_are_ignored_or_refused_when_strict(clinic):
    doc, pid = clinic["doc"], clinic["elena"]
    assert doc.get("/fhir/Condition", params={"patient": pid, "colour": "blue"}).status_code == 200
    strict = doc.get("/fhir/Condition", params={"patient": pid, "colour": "blue"},
                     headers={"Prefer": "handling=strict"})
    assert strict.status_code == 400 and valid(strict.json())["resourceType"] == "OperationOutcome"
    for bad in ({"_count": "many"}, {"date": "yesterday"}):
        assert doc.get("/fhir/Observation", params={"patient": pid, **bad}).status_code == 400
    assert doc.get("/fhir/Condition").status_code == 400  # a doctor must say whose
    assert doc.get("/fhir/Basic", params={"patient": pid}).status_code == 404


def test_everything_returns_the_whole_record_narrowed_by_type(clinic):
    me, pid = clinic["me"], clinic["elena"]
    whole = valid(me.get(f"/fhir/Patient/{pid}/$everything").json())
    kinds = {e["resource"]["resourceType"] for e in whole["entry"]}
    assert {"Patient", "Condition", "AllergyIntolerance", "MedicationStatement", "Immunization", "Observation",
            "RelatedPerson"} <= kinds
    only = me.get(f"/fhir/Patient/{pid}/$everything", params={"_type": "Condition,Immunization"}).json()
    assert {e["resource"]["resourceType"] for e in only["entry"]} == {"Condition", "Immunization"}
    assert me.get(f"/fhir/Patient/{pid}/$everything", params={"_since": "last week"}).status_code == 400


# ---------------------------------------------------------------------------------------------- _lastUpdated, _since

def _backdate(rtype_table, rid: str, when: str) -> None:
    """Make a row look last changed at `when` (UTC), as if it were entered years ago."""
    from datetime import datetime

    from patient_portal.core.db import unit_of_work

    with unit_of_work() as s:
        row = s.get(rtype_table, uuid.UUID(rid))
        row.updated_at = datetime.fromisoformat(when + "+00:00")
        s.add(row)


@pytest.fixture
def dated(clinic):
    """Elena's asthma last changed on 1 May 2020 at noon; a migraine entered today."""
    from patient_portal.domain.history.models import Condition

    asthma = _first(clinic["doc"], "Condition", clinic["elena"])["id"]
    _backdate(Condition, asthma, "2020-05-01T12:00:00")
    migraine = clinic["doc"].post("/fhir/Condition", json=_condition(clinic["elena"])).json()["id"]
    return {**clinic, "asthma": asthma, "migraine": migraine}


@pytest.mark.parametrize("when,found", [
    (["lt2021-01-01"], {"asthma"}), (["ge2021-01-01"], {"migraine"}),
    (["le2020-05-01"], {"asthma"}), (["gt2020-05-01"], {"migraine"}),  # a date is its whole day
    (["2020-05-01"], {"asthma"}), (["ne2020-05-01"], {"migraine"}),
    (["ge2020-05-01T12:00:00Z"], {"asthma", "migraine"}), (["gt2020-05-01T12:00:00Z"], {"migraine"}),
    (["gt2020-05-01T08:00:00-04:00"], {"migraine"}),  # the same instant in New York
    (["ge2020-01-01", "le2020-12-31"], {"asthma"}), (["ge2099-01-01"], set()),
])
def test_last_updated_filters_by_when_each_resource_last_changed(dated, when, found):
    params = [("patient", dated["elena"])] + [("_lastUpdated", w) for w in when]
    answer = dated["doc"].get("/fhir/Condition", params=params)
    assert answer.status_code == 200
    got = {r["id"] for r in (e["resource"] for e in valid(answer.json()).get("entry", []))}
    assert got == {dated[k] for k in found}


def test_last_updated_is_in_meta_sorts_and_rejects_what_is_not_a_date(dated):
    doc, pid = dated["doc"], dated["elena"]
    asthma = doc.get(f"/fhir/Condition/{dated['asthma']}").json()
    assert asthma["meta"]["lastUpdated"].startswith("2020-05-01T12:00:00")
    newest = doc.get("/fhir/Condition", params={"patient": pid, "_sort": "-_lastUpdated"}).json()
    assert [e["resource"]["id"] for e in newest["entry"]] == [dated["migraine"], dated["asthma"]]
    for bad in ("yesterday", "ge2020-13-45", "lt"):
        assert doc.get("/fhir/Condition", params={"patient": pid, "_lastUpdated": bad}).status_code == 400, bad


def test_everything_since_holds_only_what_changed_after_it(dated):
    me, pid = dated["me"], dated["elena"]
    recent = valid(me.get(f"/fhir/Patient/{pid}/$everything", params={"_since": "2021-01-01T00:00:00Z"}).json())
    conditions = [e["resource"]["id"] for e in recent["entry"] if e["resource"]["resourceType"] == "Condition"]
    assert conditions == [dated["migraine"]] and recent["total"] == len(recent["entry"])
    assert "Patient" in {e["resource"]["resourceType"] for e in recent["entry"]}  # registered today
    old = me.get(f"/fhir/Patient/{pid}/$everything", params={"_since": "2020-01-01"}).json()
    assert {dated["asthma"], dated["migraine"]} <= {e["resource"]["id"] for e in old["entry"]}


# ---------------------------------------------------------------------------------------------- writes

def _condition(pid: str, text: str = "Migraine", **extra) -> dict:
    return {"resourceType": "Condition", "subject": {"reference": f"Patient/{pid}"}, "code": {"text": text},
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                           "code": "active"}]}, **extra}


def test_a_doctor_creates_and_updates_a_condition_with_versioning(clinic):
    doc, pid = clinic["doc"], clinic["elena"]
    made = doc.post("/fhir/Condition", json=_condition(pid, onsetDateTime="2024-03-01"))
    assert made.status_code == 201 and made.headers["etag"] == 'W/"1"' and "/_history/1" in made.headers["location"]
    body = valid(made.json())
    assert body["code"]["text"] == "Migraine" and body["onsetDateTime"] == "2024-03-01"
    resolved = {**body, "clinicalStatus": {"coding": [{"system": body["clinicalStatus"]["coding"][0]["system"],
                                                       "code": "resolved"}]}}
    changed = doc.put(f"/fhir/Condition/{body['id']}", json=resolved, headers={"If-Match": 'W/"1"'})
    assert changed.status_code == 200 and changed.headers["etag"] == 'W/"2"'
    assert valid(changed.json())["clinicalStatus"]["coding"][0]["code"] == "resolved"
    stale = doc.put(f"/fhir/Condition/{body['id']}", json=resolved, headers={"If-Match": 'W/"1"'})
    assert stale.status_code == 412 and valid(stale.json())["resourceType"] == "OperationOutcome"
    assert clinic["me"].get(f"/fhir/Condition/{body['id']}").json()["meta"]["versionId"] == "2"


def test_conditional_create_makes_one_then_finds_it(clinic):
    doc, pid = clinic["doc"], clinic["elena"]
    allergy = {"resourceType": "AllergyIntolerance", "patient": {"reference": f"Patient/{pid}"},
               "code": {"text": "Peanuts"}, "category": ["food"],
               "reaction": [{"manifestation": [{"text": "Hives"}], "severity": "moderate"}]}
    first = doc.post("/fhir/AllergyIntolerance", json=allergy, headers={"If-None-Exist": "code=none|none"})
    assert first.status_code == 201 and valid(first.json())["reaction"][0]["severity"] == "moderate"
    made = first.json()["id"]
    again = doc.post("/fhir/AllergyIntolerance", json=allergy, headers={"If-None-Exist": f"_id={made}"})
    assert again.status_code == 200 and again.json()["id"] == made
    several = doc.post("/fhir/AllergyIntolerance", json=allergy, headers={"If-None-Exist": "clinical-status=active"})
    assert several.status_code == 412  # Latex and Peanuts both match


@pytest.mark.parametrize("body,status", [
    (b"{not json", 400), (b"[1, 2]", 400), (json.dumps({"resourceType": "Patient"}).encode(), 400),
    (json.dumps({"resourceType": "Condition", "subject": {"reference": "Patient/x"}, "code": {"text": "A"},
                 "onsetDateTime": "not-a-date"}).encode(), 422),
    (json.dumps({"resourceType": "Condition", "code": {"text": "A"}}).encode(), 422),
    (b"{" + b'"a":"' + b"x" * 1_100_000 + b'"}', 413),
])
def test_bad_bodies_are_operation_outcomes_never_500(clinic, body, status):
    answer = clinic["doc"].post("/fhir/Condition", content=body, headers={"Content-Type": FHIR})
    assert answer.status_code == status and valid(answer.json())["resourceType"] == "OperationOutcome"


def test_invalid_elements_are_named_by_their_path(clinic):
    answer = clinic["doc"].post("/fhir/Condition", json=_condition(clinic["elena"], onsetDateTime="soon"))
    assert answer.status_code == 422
    assert any("onsetDateTime" in path for path in answer.json()["issue"][0]["expression"])


def test_writes_are_refused_to_a_patient_and_hidden_for_other_patients(clinic):
    mine = clinic["me"].post("/fhir/Condition", json=_condition(clinic["elena"]))
    assert mine.status_code == 403  # her own record: she may see it, not write a diagnosis
    assert clinic["doc"].post("/fhir/Condition", json=_condition(clinic["omar"])).status_code == 404
    assert clinic["me"].post("/fhir/Patient", json={"resourceType": "Patient"}).status_code == 405


def test_every_request_is_audited_with_the_client_and_no_phi(clinic):
    clinic["me"].get("/fhir/Condition", params={"patient": clinic["elena"]})
    event = events("fhir.request")[-1]
    assert str(event.patient_id) == clinic["elena"] and event.outcome == "success"
    assert event.detail == {"interaction": "search", "client": "portal", "count": 1, "scoped": False}
    from patient_portal.domain.audit_log.dto import phrase

    assert phrase(event.action, event.detail) == "Used your record through the clinic's data connection (FHIR)"


# ---------------------------------------------------------------------------------------------- scopes

@pytest.mark.parametrize("scopes,rtype,interaction,allowed", [
    ({"patient/Observation.rs"}, "Observation", "read", True),
    ({"patient/Observation.rs"}, "Observation", "search", True),
    ({"patient/Observation.rs"}, "Observation", "create", False),
    ({"patient/Observation.rs"}, "Condition", "read", False),
    ({"user/*.cruds"}, "Condition", "update", True),
    ({"patient/*.read"}, "Condition", "search", True),
    ({"patient/*.read"}, "Condition", "create", False),
    ({"patient/Condition.write"}, "Condition", "create", True),
    ({"patient/Condition.write"}, "Condition", "read", False),
    ({"patient/Condition.sr"}, "Condition", "read", False),  # not cruds order: not a scope
    ({"patient/Observation.rs?category=laboratory"}, "Observation", "read", False),  # narrower: not the type
    ({"openid", "fhirUser"}, "Patient", "read", False),
    (None, "Condition", "create", True),  # the portal's own session: the person's rights
])
def test_scopes_only_narrow(scopes, rtype, interaction, allowed):
    assert scope_allows(None if scopes is None else frozenset(scopes), rtype, interaction) is allowed


def test_a_cookie_write_from_another_site_is_refused_but_a_bearer_app_is_not_stopped_by_origin(clinic):
    elsewhere = {"Origin": "https://app.example.org"}
    forged = clinic["doc"].post("/fhir/Condition", json=_condition(clinic["elena"]), headers=elsewhere)
    assert forged.status_code == 403
    app = client().post("/fhir/Condition", json=_condition(clinic["elena"]),
                        headers={**elsewhere, "Authorization": "Bearer not-issued"})
    assert app.status_code == 401  # past the origin check; the token decides (and nobody issued this one)


def test_an_app_token_reads_only_what_its_scopes_grant_and_the_policy_still_decides(clinic, tokens):  # noqa: F811 (the fixture)
    from patient_portal.core.access import Role
    from tests.integration.patients_support import actor

    pid = clinic["elena"]
    tokens["vitals-only"] = (actor(Role.PATIENT, uuid.UUID(pid)), frozenset({"patient/Observation.rs"}), "bp-app")
    app = client()
    bearer = {"Authorization": "Bearer vitals-only"}
    seen = app.get("/fhir/Observation", params={"patient": pid}, headers=bearer)
    assert seen.status_code == 200 and valid(seen.json())["total"] >= 3
    assert app.get("/fhir/Condition", params={"patient": pid}, headers=bearer).status_code == 403
    assert app.post("/fhir/Observation", json={"resourceType": "Observation"}, headers=bearer).status_code == 403
    assert app.get("/fhir/Observation", params={"patient": clinic["omar"]}, headers=bearer).json()["total"] == 0
    event = events("fhir.request")[-1]
    assert event.detail["client"] == "bp-app" and event.detail["scoped"] is True
    from patient_portal.domain.audit_log.dto import phrase

    assert phrase(event.action, event.detail).startswith("An app you connected used your record")

    tokens["wide"] = (actor(Role.PATIENT, uuid.UUID(pid)), frozenset({"user/*.cruds"}), "wide-app")
    wide = app.post("/fhir/Condition", json=_condition(pid), headers={"Authorization": "Bearer wide"})
    assert wide.status_code == 403  # the scope says yes; a patient still may not file a diagnosis


# ---------------------------------------------------------------------------------------------- download my record

def test_the_patient_downloads_her_whole_record_as_fhir_json_and_as_a_readable_pdf(clinic):
    import pypdfium2 as pdfium

    me = clinic["me"]
    as_json = me.get("/api/record/download.json")
    assert as_json.status_code == 200 and as_json.headers["content-type"].startswith(FHIR)
    assert as_json.headers["content-disposition"].startswith('attachment; filename="health-record-')
    assert as_json.headers["cache-control"] == "no-store"
    bundle = valid(json.loads(as_json.content))
    assert bundle["type"] == "collection"
    kinds = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert {"Patient", "Condition", "AllergyIntolerance", "MedicationStatement", "Immunization", "Observation",
            "RelatedPerson"} <= kinds
    assert all(e["resource"].get("subject", e["resource"].get("patient", {"reference": f"Patient/{clinic['elena']}"}))
               ["reference"] == f"Patient/{clinic['elena']}" for e in bundle["entry"] if e["resource"]["resourceType"]
               != "Patient")

    as_pdf = me.get("/api/record/download.pdf")
    assert as_pdf.status_code == 200 and as_pdf.content.startswith(b"%PDF-")
    document = pdfium.PdfDocument(as_pdf.content)
    shown = "\n".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    for words in ("Your health record", "Patient: Elena Marsh", "Date of birth: 1979-04-23", "Latex", "Asthma",
                  "Atorvastatin", "MMR", "Tom Marsh", "Vital signs", ": 128 mm", "Tufts Health, member TH-0091"):
        assert words in shown, words
    exports = [e.detail for e in events("record.download")]
    assert [d["export"] for d in exports] == ["json", "pdf"] and all(d["resources"] == len(bundle["entry"]) for d in exports)


def test_only_a_signed_in_patient_downloads_and_only_her_own(clinic):
    assert client().get("/api/record/download.json").status_code == 401
    refused = clinic["doc"].get("/api/record/download.pdf")
    assert refused.status_code == 403 and b"%PDF" not in refused.content
    assert clinic["me"].get(f"/api/record/download.json?patient={clinic['omar']}").json()["entry"][0][
        "resource"]["id"] == clinic["elena"]  # the id comes from her session, never the address


def test_prescriptions_are_us_core_medication_requests(clinic):
    from patient_portal.domain.prescriptions import service as rx
    from tests.integration.patients_support import call

    lisinopril = {"drug": "lisinopril", "dose": "10", "route": "oral", "frequency": "once_daily", "quantity": "30",
                  "refills": "0"}
    made = call(rx.prescribe, clinic["doc_actor"], patient_id=clinic["elena"], values=lisinopril)
    for web in (clinic["doc"], clinic["me"]):
        found = valid(web.get("/fhir/MedicationRequest", params={"patient": clinic["elena"], "status": "active"}).json())
        request = found["entry"][0]["resource"]
        assert (request["id"], request["intent"], request["status"]) == (str(made.id), "order", "active")
        assert request["medicationCodeableConcept"]["coding"][0]["code"] == "lisinopril"
        assert request["dosageInstruction"][0]["text"] == made.sig_words
    assert clinic["desk"].get("/fhir/MedicationRequest", params={"patient": clinic["elena"]}).status_code == 403


# ---------------------------------------------------------------------------------------------- narrowed reads

def test_an_observation_search_by_code_and_date_finds_what_the_record_holds_in_the_window(clinic):
    from datetime import UTC, datetime, timedelta

    from patient_portal.core.db import unit_of_work, utcnow
    from patient_portal.domain.observations import service as observations

    doc, pid = clinic["doc"], clinic["elena"]
    with unit_of_work() as s:  # an older set, two years back
        observations.record_vitals(s, clinic["doc_actor"], patient_id=pid, values={"systolic": "141", "diastolic": "90"},
                                   effective_at=utcnow() - timedelta(days=730))
    today = datetime.now(UTC).date()

    def values(**params) -> list[float]:
        answer = doc.get("/fhir/Observation", params={"patient": pid, **params})
        assert answer.status_code == 200, answer.text
        return sorted(e["resource"].get("valueQuantity", {}).get("value") for e in valid(answer.json())["entry"])

    assert values(code="http://loinc.org|8480-6") == [128.0, 141.0]
    assert values(code="http://loinc.org|8480-6", date=f"ge{today - timedelta(days=30)}") == [128.0]
    assert values(code="8480-6,8462-4", date=f"lt{today - timedelta(days=30)}") == [90.0, 141.0]
    assert values(date=f"ge{today - timedelta(days=800)}") == [70.0, 82.0, 90.0, 128.0, 141.0]
    assert values(code="http://loinc.org|8480-6", category="laboratory") == []
    assert values(code="http://snomed.info/sct|271649006") == []  # a code no vital has
    event = events("observation.read")[-1]
    assert event.detail["view"] == "search" and event.detail["count"] == 0 and str(event.patient_id) == pid


def test_a_vital_read_by_id_reads_its_own_set(clinic):
    found = clinic["doc"].get("/fhir/Observation", params={"patient": clinic["elena"], "code": "8867-4"}).json()
    rid = found["entry"][0]["resource"]["id"]
    one = clinic["doc"].get(f"/fhir/Observation/{rid}")
    assert one.status_code == 200 and valid(one.json())["valueQuantity"]["value"] == 70.0
    assert one.json()["meta"]["lastUpdated"]
    assert clinic["doc"].get(f"/fhir/Observation/{rid.split('.')[0]}.nothing").status_code == 404
    assert clinic["me"].get(f"/fhir/Observation/{rid}").status_code == 200  # her own
    assert all(e["resource"]["meta"]["lastUpdated"] for e in found["entry"])
