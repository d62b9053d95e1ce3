"""FHIR delete (issue 16): ``DELETE /fhir/<type>/<id>`` goes to the area's own delete use case —
a history entry made in error (Condition, AllergyIntolerance, MedicationStatement, Immunization:
doctors on the care team and admins) and a document (DocumentReference: its author or an admin, a
soft delete) — and answers 204. Every other type is 405. Someone who cannot read the resource gets
404 (another patient's id never tells that it exists); someone who reads it but may not delete it
gets 403; an app's scopes must grant ``d`` (v2) or ``.write`` (v1). Each delete is audited by the
area and as a FHIR request."""

from __future__ import annotations

import uuid

import pytest

from patient_portal.core.access import Role
from patient_portal.domain.documents import service as documents
from tests.integration.documents.conftest import PDF_BYTES, chunks_of, meta
from tests.integration.fhir_support import fhir_clinic, signed_in, tokens, valid  # noqa: F401 (a fixture)
from tests.integration.identity_support import client, events, user


@pytest.fixture
def clinic(code_tables):
    """Elena (the doctor's patient, her history from the registration draft, a lab report the doctor
    uploaded), Omar (no one's patient here, his own history), an admin and a doctor off the team."""
    c = fhir_clinic()
    c["lab"] = str(documents.upload(c["doc_actor"], patient_id=uuid.UUID(c["elena"]), meta=meta("lab_result"),
                                    filename="lab.pdf", chunks=chunks_of(PDF_BYTES)).id)
    c["admin"], _ = signed_in("admin@clinic.org", "admin")
    c["other_doc"], _ = signed_in("other.doc@clinic.org", "doctor")
    return c


def _first(web, rtype: str, pid: str) -> str:
    answer = web.get(f"/fhir/{rtype}", params={"patient": pid})
    assert answer.status_code == 200, answer.text
    return answer.json()["entry"][0]["resource"]["id"]


def _deletes() -> list:
    return [e for e in events("fhir.request") if e.detail["interaction"] == "delete"]


def _ids(web, rtype: str, pid: str) -> list[str]:
    return [e["resource"]["id"] for e in web.get(f"/fhir/{rtype}", params={"patient": pid}).json()["entry"]]


@pytest.mark.parametrize("rtype", ["Condition", "AllergyIntolerance", "MedicationStatement", "Immunization"])
def test_a_care_team_doctor_deletes_a_history_entry_made_in_error(clinic, rtype):
    doc, pid = clinic["doc"], clinic["elena"]
    rid = _first(doc, rtype, pid)
    gone = doc.delete(f"/fhir/{rtype}/{rid}")
    assert gone.status_code == 204 and not gone.content
    assert doc.get(f"/fhir/{rtype}/{rid}").status_code == 404
    assert rid not in _ids(doc, rtype, pid)
    assert doc.delete(f"/fhir/{rtype}/{rid}").status_code == 404  # already gone
    removed = [e for e in events("patient.clinical.write") if e.object_id == rid]
    assert removed and removed[-1].detail == {"removed": True} and str(removed[-1].patient_id) == pid
    requests = _deletes()
    assert len(requests) == 1 and requests[0].object_type == rtype  # a 404 writes no request event
    assert str(requests[0].patient_id) == pid


def test_an_admin_deletes_and_the_patient_the_front_desk_and_a_doctor_off_the_team_do_not(clinic):
    pid = clinic["elena"]
    rid = _first(clinic["doc"], "Condition", pid)
    assert clinic["me"].delete(f"/fhir/Condition/{rid}").status_code == 403  # her record: she sees it, may not delete
    assert clinic["desk"].delete(f"/fhir/Condition/{rid}").status_code == 403  # the front desk reads no history
    assert clinic["other_doc"].delete(f"/fhir/Condition/{rid}").status_code == 404  # not his patient: no leak
    assert rid in _ids(clinic["doc"], "Condition", pid)
    assert clinic["admin"].delete(f"/fhir/Condition/{rid}").status_code == 204
    assert rid not in _ids(clinic["doc"], "Condition", pid)


def test_another_patients_unknown_and_malformed_ids_are_404_and_nothing_changes(clinic):
    doc, admin = clinic["doc"], clinic["admin"]
    omars = _first(admin, "AllergyIntolerance", clinic["omar"])
    answer = doc.delete(f"/fhir/AllergyIntolerance/{omars}")
    assert answer.status_code == 404 and valid(answer.json())["resourceType"] == "OperationOutcome"
    assert omars in _ids(admin, "AllergyIntolerance", clinic["omar"])
    assert doc.delete(f"/fhir/Condition/{uuid.uuid4()}").status_code == 404
    assert doc.delete("/fhir/Condition/not-an-id").status_code == 404
    assert client().delete(f"/fhir/Condition/{omars}").status_code == 401


@pytest.mark.parametrize("rtype", ["Patient", "Observation", "Encounter", "Appointment", "Consent", "Coverage",
                                   "Practitioner", "AuditEvent"])
def test_types_whose_area_has_no_delete_are_405(clinic, rtype):
    answer = clinic["doc"].delete(f"/fhir/{rtype}/{uuid.uuid4()}")
    assert answer.status_code == 405 and valid(answer.json())["issue"][0]["code"] == "not-supported"
    assert clinic["doc"].delete(f"/fhir/Nonsense/{uuid.uuid4()}").status_code == 404


def test_the_capability_statement_lists_delete_only_where_it_works(clinic):
    resources = {r["type"]: r for r in client().get("/fhir/metadata").json()["rest"][0]["resource"]}
    for rtype, deletes in (("Condition", True), ("AllergyIntolerance", True), ("MedicationStatement", True),
                           ("Immunization", True), ("DocumentReference", True), ("Observation", False),
                           ("Patient", False), ("Appointment", False)):
        assert ({"code": "delete"} in resources[rtype]["interaction"]) is deletes, rtype


def test_a_document_is_soft_deleted_by_its_author_and_hidden_from_the_others(clinic):
    doc, pid, lab = clinic["doc"], clinic["elena"], clinic["lab"]
    assert lab in _ids(clinic["me"], "DocumentReference", pid)
    assert clinic["me"].delete(f"/fhir/DocumentReference/{lab}").status_code == 403  # she reads it, did not write it
    assert clinic["other_doc"].delete(f"/fhir/DocumentReference/{lab}").status_code == 404
    assert doc.delete(f"/fhir/DocumentReference/{lab}").status_code == 204
    assert lab not in _ids(doc, "DocumentReference", pid)
    assert doc.get(f"/fhir/DocumentReference/{lab}").status_code == 404
    assert doc.get(f"/fhir/Binary/{lab}").status_code == 404
    removed = [e for e in events("document.delete") if e.object_id == lab]
    assert removed and removed[-1].outcome == "success"
    assert [e.object_type for e in _deletes()] == ["DocumentReference"]
    from patient_portal.core.db import unit_of_work
    from patient_portal.domain.documents.models import Document

    with unit_of_work() as s:  # soft: the row and its file stay until an admin purges them
        kept = s.get(Document, uuid.UUID(lab))
        assert kept is not None and kept.status == "deleted" and "FHIR" in (kept.delete_reason or "")


@pytest.mark.parametrize("scopes,status", [
    ({"user/Condition.rs"}, 403),  # read and search only
    ({"user/Condition.read"}, 403),  # v1 read: no delete
    ({"user/Observation.cruds"}, 403),  # another type
    ({"user/Condition.d"}, 204),
    ({"user/Condition.rds"}, 204),
    ({"user/Condition.rsd"}, 403),  # not in cruds order: not a scope
    ({"user/Condition.write"}, 204),  # v1 write = cud
    ({"user/*.cruds"}, 204),
    ({"user/*.*"}, 204),
])
def test_an_apps_scopes_must_grant_delete(clinic, tokens, scopes, status):  # noqa: F811 (the fixture)
    from patient_portal.domain.identity.sessions import actor_for

    doc_actor = actor_for(user("doc@clinic.org"))
    pid = clinic["elena"]
    rid = _first(clinic["doc"], "Condition", pid)
    tokens["app"] = (doc_actor, frozenset(scopes), "chart-app")
    answer = client().delete(f"/fhir/Condition/{rid}", headers={"Authorization": "Bearer app"})
    assert answer.status_code == status
    assert (rid in _ids(clinic["doc"], "Condition", pid)) is (status != 204)
    if status == 204:
        assert [e.detail for e in _deletes()] == [{"interaction": "delete", "client": "chart-app", "count": 1,
                                                    "scoped": True}]


def test_a_patients_app_cannot_delete_even_with_every_scope(clinic, tokens):  # noqa: F811 (the fixture)
    from tests.integration.patients_support import actor

    pid = clinic["elena"]
    rid = _first(clinic["doc"], "AllergyIntolerance", pid)
    tokens["mine"] = (actor(Role.PATIENT, uuid.UUID(pid)), frozenset({"patient/*.cruds"}), "my-app")
    answer = client().delete(f"/fhir/AllergyIntolerance/{rid}", headers={"Authorization": "Bearer mine"})
    assert answer.status_code == 403  # the scope says yes; the history area says a patient does not delete
    omars = _first(clinic["admin"], "AllergyIntolerance", clinic["omar"])
    assert client().delete(f"/fhir/AllergyIntolerance/{omars}", headers={"Authorization": "Bearer mine"}
                           ).status_code == 404
