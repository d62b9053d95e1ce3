"""Bulk Data $export (issue 16 part A): kick-off with Prefer: respond-async → 202 Content-Location;
polling → 202 X-Progress while queued, then 200 with the manifest; NDJSON files of valid R4
resources, stored encrypted in the BlobStore, for the requester only; _type narrows; DELETE
cancels; the system level is for admins; a doctor's Patient-level export holds only their patients."""

from __future__ import annotations

import json

import pytest

from patient_portal.core import jobs
from patient_portal.core.storage import get_blob_store
from tests.integration.fhir_support import fhir_clinic, signed_in, valid

ASYNC = {"Prefer": "respond-async"}


@pytest.fixture
def clinic(code_tables):
    return fhir_clinic()


def _kickoff(web, url="/fhir/Patient/$export", **params):
    answer = web.get(url, params=params, headers=ASYNC)
    assert answer.status_code == 202, answer.text
    return answer.headers["content-location"]


def _manifest(web, status_url):
    waiting = web.get(status_url)
    assert waiting.status_code == 202 and waiting.headers["x-progress"]
    jobs.load_handlers()
    jobs.run_due()
    done = web.get(status_url)
    assert done.status_code == 200
    return done.json()


def _lines(web, url):
    answer = web.get(url)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/fhir+ndjson")
    return [valid(json.loads(line)) for line in answer.text.splitlines() if line]


def test_a_doctor_exports_his_patients_as_encrypted_ndjson(clinic):
    doc = clinic["doc"]
    manifest = _manifest(doc, _kickoff(doc))
    assert manifest["requiresAccessToken"] is True and manifest["error"] == []
    by_type = {o["type"]: o for o in manifest["output"]}
    assert {"Patient", "Condition", "AllergyIntolerance", "Observation"} <= set(by_type)
    patients = _lines(doc, by_type["Patient"]["url"])
    assert [p["id"] for p in patients] == [clinic["elena"]]  # Omar is not on his care team
    assert len(_lines(doc, by_type["Observation"]["url"])) == by_type["Observation"]["count"] >= 3
    store = get_blob_store()
    stored = b"".join(b"".join(store.get(k)) for k in store.keys("fhir-export"))
    assert stored and b"Marsh" not in stored and b"resourceType" not in stored  # ciphertext at rest
    assert clinic["me"].get(by_type["Patient"]["url"]).status_code == 404  # not hers to fetch


def test_type_narrows_and_bad_kickoffs_are_400(clinic):
    doc = clinic["doc"]
    manifest = _manifest(doc, _kickoff(doc, _type="Condition,Immunization"))
    assert {o["type"] for o in manifest["output"]} == {"Condition", "Immunization"}
    assert doc.get("/fhir/Patient/$export").status_code == 400  # no Prefer: respond-async
    for bad in ({"_outputFormat": "text/csv"}, {"_type": "Basic"}, {"_since": "last week"}):
        assert doc.get("/fhir/Patient/$export", params=bad, headers=ASYNC).status_code == 400


def test_delete_cancels_an_export(clinic):
    doc = clinic["doc"]
    status_url = _kickoff(doc)
    assert doc.delete(status_url).status_code == 202
    jobs.run_due()
    assert doc.get(status_url).status_code == 404


def test_the_system_level_is_for_admins(clinic):
    assert clinic["doc"].get("/fhir/$export", headers=ASYNC).status_code == 403
    admin, _ = signed_in("admin@clinic.org", "admin")
    manifest = _manifest(admin, _kickoff(admin, "/fhir/$export", _type="Patient"))
    ids = {p["id"] for p in _lines(admin, manifest["output"][0]["url"])}
    assert {clinic["elena"], clinic["omar"]} <= ids


def test_a_patient_exports_only_herself(clinic):
    me = clinic["me"]
    manifest = _manifest(me, _kickoff(me, _type="Patient"))
    assert [p["id"] for p in _lines(me, manifest["output"][0]["url"])] == [clinic["elena"]]


def test_since_exports_only_what_changed_after_it(clinic):
    from patient_portal.domain.history.models import Condition
    from tests.integration.test_fhir_api import _backdate, _condition

    doc, pid = clinic["doc"], clinic["elena"]
    asthma = doc.get("/fhir/Condition", params={"patient": pid}).json()["entry"][0]["resource"]["id"]
    _backdate(Condition, asthma, "2020-05-01T12:00:00")
    migraine = doc.post("/fhir/Condition", json=_condition(pid)).json()["id"]
    manifest = _manifest(doc, _kickoff(doc, _type="Condition", _since="2021-01-01T00:00:00Z"))
    assert [c["id"] for c in _lines(doc, manifest["output"][0]["url"])] == [migraine]
    everything = _manifest(doc, _kickoff(doc, _type="Condition"))
    assert {c["id"] for c in _lines(doc, everything["output"][0]["url"])} == {asthma, migraine}
    nothing = _manifest(doc, _kickoff(doc, _type="Condition", _since="2099-01-01"))
    assert nothing["output"] == []
