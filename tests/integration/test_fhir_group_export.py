"""Group-level Bulk Data export (issue 16): a doctor's care team is a FHIR Group (id: the doctor's);
a Backend Services app (client_credentials with a private_key_jwt assertion, ``system/*.rs``) lists
the Groups, kicks off ``Group/<id>/$export``, polls and downloads NDJSON of that care team's patients
only — through the same job, files and audit as the other levels. Doctors, the front desk and
patients are refused; an unknown group is 404."""

from __future__ import annotations

import json
import uuid

import pytest

from patient_portal.core import jobs
from tests.integration.fhir_support import fhir_clinic, signed_in, valid
from tests.integration.identity_support import client, events
from tests.integration.smart_support import assertion, backend_keys, register

ASYNC = {"Prefer": "respond-async"}
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@pytest.fixture
def clinic(code_tables):
    return fhir_clinic()


def backend_token(scope: str = "system/*.rs") -> dict[str, str]:
    key, jwks = backend_keys()
    app = register(scope=scope, kind="backend", jwks=jwks).app
    answer = client().post("/api/smart/token", data={"grant_type": "client_credentials", "scope": scope,
                                                     "client_assertion_type": JWT_BEARER,
                                                     "client_assertion": assertion(key, app.client_id)})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _doctor_id(clinic) -> str:
    return str(clinic["doc_actor"].user_id)


def test_a_backend_app_exports_one_care_team_as_ndjson(clinic):
    app, auth = client(), backend_token()
    groups = valid(app.get("/fhir/Group", headers=auth).json())
    team = next(e["resource"] for e in groups["entry"] if e["resource"]["id"] == _doctor_id(clinic))
    assert [m["entity"]["reference"] for m in team["member"]] == [f"Patient/{clinic['elena']}"]
    assert team["name"] == "Care team of Test doctor" and team["managingEntity"]["display"] == "Test doctor"
    assert valid(app.get(f"/fhir/Group/{team['id']}", headers=auth).json())["quantity"] == 1
    kickoff = app.get(f"/fhir/Group/{team['id']}/$export", headers={**auth, **ASYNC})
    assert kickoff.status_code == 202, kickoff.text
    status_url = kickoff.headers["content-location"]
    assert app.get(status_url, headers=auth).status_code == 202
    jobs.load_handlers()
    jobs.run_due()
    manifest = app.get(status_url, headers=auth)
    assert manifest.status_code == 200
    by_type = {o["type"]: o for o in manifest.json()["output"]}
    patients = [valid(json.loads(line)) for line in app.get(by_type["Patient"]["url"], headers=auth).text.splitlines()]
    assert [p["id"] for p in patients] == [clinic["elena"]]  # Omar is on no care team: not in it
    observations = app.get(by_type["Observation"]["url"], headers=auth).text.splitlines()
    assert all(json.loads(line)["subject"]["reference"] == f"Patient/{clinic['elena']}" for line in observations)
    assert events("fhir.export")[-1].detail["step"] == "downloaded"


def test_an_unknown_group_is_404_and_types_are_checked(clinic):
    app, auth = client(), backend_token()
    for gid in (str(uuid.uuid4()), "not-a-group"):
        answer = app.get(f"/fhir/Group/{gid}/$export", headers={**auth, **ASYNC})
        assert answer.status_code == 404 and valid(answer.json())["resourceType"] == "OperationOutcome"
    assert app.get(f"/fhir/Group/{_doctor_id(clinic)}/$export", headers={**auth, **ASYNC},
                   params={"_type": "Nonsense"}).status_code == 400
    assert app.get(f"/fhir/Group/{_doctor_id(clinic)}/$export", headers=auth).status_code == 400  # no Prefer


def test_only_admins_and_backend_apps_export_or_list_groups(clinic):
    url = f"/fhir/Group/{_doctor_id(clinic)}/$export"
    for web in (clinic["doc"], clinic["desk"], clinic["me"]):
        assert web.get(url, headers=ASYNC).status_code == 403
        assert web.get("/fhir/Group").status_code == 403
    assert client().get(url, headers=ASYNC).status_code == 401
    admin, _ = signed_in("admin@clinic.org", "admin")
    assert admin.get(url, headers=ASYNC).status_code == 202
    assert any(e.outcome != "success" for e in events("fhir.export"))  # the refusals are audited


def test_the_capability_statement_lists_group_export(db):
    body = client().get("/fhir/metadata").json()
    group = next(r for r in body["rest"][0]["resource"] if r["type"] == "Group")
    assert [o["name"] for o in group["operation"]] == ["export"] and {"read", "search-type"} <= {
        i["code"] for i in group["interaction"]}
