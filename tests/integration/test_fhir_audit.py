"""AuditEvent (issue 16): the audit trail as FHIR, through the audit-log area. A patient searches her
own access log (what other people did with her record, the screen's words, no IPs) — never another
patient's; an administrator searches the whole trail or one patient's; the front desk and doctors are
refused (403) as on the screens; every answer validates as R4; SMART scopes narrow; the read is audited."""

from __future__ import annotations

import uuid

import pytest

from patient_portal.core.access import Role
from tests.integration.fhir_support import fhir_clinic, signed_in, tokens, valid  # noqa: F401 (a fixture)
from tests.integration.identity_support import client, events


@pytest.fixture
def clinic(code_tables):
    found = fhir_clinic()
    assert found["doc"].get(f"/fhir/Patient/{found['elena']}").status_code == 200  # the doctor opens her record
    return found


def _events(web, **params) -> dict:
    answer = web.get("/fhir/AuditEvent", params=params)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/fhir+json")
    return valid(answer.json())


def test_the_patient_searches_her_own_access_log_as_audit_events(clinic):
    me, pid = clinic["me"], clinic["elena"]
    found = _events(me, patient=pid)
    assert found["total"] >= 1 and found["entry"]
    events_ = [e["resource"] for e in found["entry"]]
    assert all(e["entity"][0]["what"]["reference"] == f"Patient/{pid}" for e in events_)
    assert any(e["agent"][0]["who"]["display"].startswith("Test doctor") for e in events_)
    assert all("network" not in e["agent"][0] and "identifier" not in e["agent"][0]["who"] for e in events_)
    assert any(e["outcomeDesc"].startswith("Opened your record") for e in events_)  # the screen's words
    assert events_[0]["recorded"] >= events_[-1]["recorded"]  # newest first
    assert _events(me)["total"] == found["total"]  # without patient=: her own
    assert _events(me, patient=clinic["omar"])["total"] == 0  # another patient's log: nothing
    assert events("audit.own.read")[-1].detail["fhir"] is True


def test_paging_follows_the_next_link(clinic):
    me, pid = clinic["me"], clinic["elena"]
    first = _events(me, patient=pid, _count="1")
    assert len(first["entry"]) == 1
    following = next(link["url"] for link in first["link"] if link["relation"] == "next")
    second = valid(me.get(following.split("/fhir", 1)[1].join(["/fhir", ""])).json())
    assert second["entry"][0]["resource"]["id"] != first["entry"][0]["resource"]["id"]


def test_an_admin_searches_the_trail_and_one_patients_events(clinic):
    admin, _ = signed_in("admin@clinic.org", "admin")
    everything = _events(admin)
    assert everything["total"] >= _events(admin, patient=clinic["elena"])["total"] >= 1
    one = _events(admin, patient=clinic["elena"])["entry"][0]["resource"]
    assert one["agent"][0]["who"]["identifier"]["system"] == "urn:patient-portal:account"
    assert one["type"]["code"] == "110110" and one["outcome"] in ("0", "4")
    assert _events(admin, patient=str(uuid.uuid4()))["total"] == 0


def test_the_front_desk_and_doctors_are_refused_and_the_refusal_is_audited(clinic):
    for web in (clinic["desk"], clinic["doc"]):
        answer = web.get("/fhir/AuditEvent", params={"patient": clinic["elena"]})
        assert answer.status_code == 403 and valid(answer.json())["resourceType"] == "OperationOutcome"
    assert client().get("/fhir/AuditEvent").status_code == 401
    assert any(e.outcome != "success" for e in events("audit.read"))


def test_unsupported_parameters_are_refused(clinic):
    me = clinic["me"]
    assert me.get("/fhir/AuditEvent", params={"_sort": "date"}).status_code == 400
    assert me.get("/fhir/AuditEvent", params={"patient": f"{clinic['elena']},{clinic['omar']}"}).status_code == 400


def test_an_event_is_read_by_id_only_where_the_search_finds_it(clinic):
    me, admin = clinic["me"], signed_in("admin@clinic.org", "admin")[0]
    mine = _events(me)["entry"][0]["resource"]
    answer = me.get(f"/fhir/AuditEvent/{mine['id']}")
    assert answer.status_code == 200 and valid(answer.json()) == {**mine, "meta": answer.json()["meta"]}
    assert valid(admin.get(f"/fhir/AuditEvent/{mine['id']}").json())["id"] == mine["id"]
    omars = _events(admin, patient=clinic["omar"])["entry"][0]["resource"]["id"]
    assert me.get(f"/fhir/AuditEvent/{omars}").status_code == 404  # another patient's: 404, not 403
    own_read = next(e.id for e in events("audit.own.read"))  # her own reading of her log is not in it
    assert me.get(f"/fhir/AuditEvent/{own_read}").status_code == 404
    for rid in (str(uuid.uuid4()), "not-an-id"):
        assert me.get(f"/fhir/AuditEvent/{rid}").status_code == 404
    assert clinic["desk"].get(f"/fhir/AuditEvent/{mine['id']}").status_code == 403


def test_scopes_narrow_audit_event_search(clinic, tokens):  # noqa: F811 (the fixture)
    from tests.integration.patients_support import actor

    pid = uuid.UUID(clinic["elena"])
    elena = actor(Role.PATIENT, pid)
    tokens["log"] = (elena, frozenset({"patient/AuditEvent.rs"}), "log-app")
    tokens["vitals"] = (elena, frozenset({"patient/Observation.rs"}), "bp-app")
    app = client()
    assert app.get("/fhir/AuditEvent", headers={"Authorization": "Bearer log"}).json()["total"] >= 1
    assert app.get("/fhir/AuditEvent", headers={"Authorization": "Bearer vitals"}).status_code == 403
    assert events("fhir.request")[-1].detail["client"] == "log-app"  # the refused one wrote no request event


def test_the_capability_statement_lists_audit_event_read_and_search(db):
    body = client().get("/fhir/metadata").json()
    entry = next(r for r in body["rest"][0]["resource"] if r["type"] == "AuditEvent")
    assert {i["code"] for i in entry["interaction"]} == {"read", "vread", "history-instance", "search-type"}
    assert {p["name"] for p in entry["searchParam"]} == {"patient", "entity"}
