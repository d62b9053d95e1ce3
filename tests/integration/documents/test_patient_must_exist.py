"""Documents name a patient record that exists: an unknown or merged id is "not found" (404), never
a document filed under nobody. Service level and over HTTP, for the roles that reach every patient."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from urllib.parse import quote

import httpx
import pytest
from sqlmodel import func, select

from patient_portal.api import documents as api_documents
from patient_portal.api.app import build_api
from patient_portal.core.access import AccessDenied, CareTeamMember
from patient_portal.core.db import unit_of_work
from patient_portal.core.storage import get_blob_store
from patient_portal.domain.documents import service as svc
from patient_portal.domain.documents.dto import DocumentInvalid
from patient_portal.domain.documents.models import Document
from patient_portal.domain.patients.common import PatientNotFound
from patient_portal.domain.patients.models import STATUS_MERGED, STATUS_PENDING, Patient
from tests.integration.documents.conftest import PDF_BYTES, PNG_BYTES, add_patient, chunks_of, meta


def _rows() -> int:
    with unit_of_work() as session:
        return session.exec(select(func.count()).select_from(Document)).one()


def _nothing_kept() -> bool:
    return _rows() == 0 and list(get_blob_store().keys()) == []


def _upload(actor, patient_id, category="insurance_card", data=PNG_BYTES, name="card.png"):
    return svc.upload(actor, patient_id=patient_id, meta=meta(category), filename=name, chunks=chunks_of(data))


@pytest.fixture(params=["unknown", "merged"])
def missing_id(request, cast):
    """An id that names no patient record: a random uuid, or a self-registration merged into another."""
    return uuid.uuid4() if request.param == "unknown" else add_patient(STATUS_MERGED)


# ---------------------------------------------------------------- service


@pytest.mark.parametrize("role", ["staff", "admin"])
def test_upload_for_a_patient_that_does_not_exist_is_not_found_and_keeps_nothing(cast, role, missing_id):
    with pytest.raises(PatientNotFound, match="patient record was not found"):
        _upload(getattr(cast, role), missing_id)
    assert _nothing_kept()


def test_admin_clinical_upload_for_a_missing_patient_is_not_found(cast, missing_id):
    with pytest.raises(PatientNotFound):
        _upload(cast.admin, missing_id, "lab_result", PDF_BYTES, "lab.pdf")
    assert _nothing_kept()


@pytest.mark.parametrize("role", ["staff", "admin"])
def test_listing_a_patient_that_does_not_exist_is_not_found(cast, role, missing_id):
    with pytest.raises(PatientNotFound):
        svc.list_documents(getattr(cast, role), patient_id=missing_id)


def test_a_care_team_doctor_of_a_merged_record_gets_not_found(cast):
    merged = add_patient(STATUS_MERGED)
    with unit_of_work() as session:
        session.add(CareTeamMember(patient_id=merged, user_id=cast.doctor.user_id))
    with pytest.raises(PatientNotFound):
        _upload(cast.doctor, merged, "lab_result", PDF_BYTES, "lab.pdf")
    with pytest.raises(PatientNotFound):
        svc.list_documents(cast.doctor, patient_id=merged)
    assert _nothing_kept()


def test_a_record_merged_while_its_file_was_being_stored_keeps_nothing(cast):
    """The record is checked again in the unit that writes the row (the file is stored between)."""
    pid = add_patient()

    def chunks_then_merge():
        yield PNG_BYTES
        with unit_of_work() as session:  # the desk links this sign-up to another record meanwhile
            session.get(Patient, pid).status = STATUS_MERGED

    with pytest.raises(PatientNotFound):
        svc.upload(cast.staff, patient_id=pid, meta=meta("insurance_card"), filename="card.png",
                   chunks=chunks_then_merge())
    assert _nothing_kept()


@pytest.mark.parametrize("role", ["patient", "doctor", "other_doctor"])
def test_whoever_cannot_reach_the_id_is_refused_without_learning_whether_it_exists(cast, role):
    """Authorization comes first: a patient or doctor probing ids gets the same refusal either way."""
    for patient_id in (uuid.uuid4(), add_patient()):  # no such record; a record they don't reach
        with pytest.raises(AccessDenied):
            _upload(getattr(cast, role), patient_id, "lab_result", PDF_BYTES, "lab.pdf")
        with pytest.raises(AccessDenied):
            svc.list_documents(getattr(cast, role), patient_id=patient_id)


def test_a_record_pending_its_identity_check_takes_documents(cast):
    """Pending self-registrations are real records: the desk files the ID scan it checks against."""
    pending = add_patient(STATUS_PENDING)
    doc = _upload(cast.staff, pending, "identity_document", PNG_BYTES, "id.png")
    assert [d.id for d in svc.list_documents(cast.staff, patient_id=pending).items] == [doc.id]
    own = replace(cast.patient, patient_id=pending)
    assert _upload(own, pending).patient_id == pending


def test_malformed_or_blank_patient_ids(cast):
    with pytest.raises(PatientNotFound):
        _upload(cast.staff, "not-a-uuid")
    with pytest.raises(PatientNotFound):
        svc.list_documents(cast.staff, patient_id="not-a-uuid")
    with pytest.raises(DocumentInvalid) as err:
        _upload(cast.staff, "")
    assert set(err.value.errors) == {"patient"}
    assert _nothing_kept()


# ---------------------------------------------------------------- HTTP


@pytest.fixture
def client(cast, monkeypatch):
    actors = {name: getattr(cast, name) for name in ("admin", "staff", "doctor", "patient")}
    monkeypatch.setattr(api_documents, "actor_for", lambda request: actors.get(request.headers.get("x-test-as", "")))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=build_api()), base_url="http://localhost:3000")


def _post(client, role: str, patient_id, category="insurance_card", body=PNG_BYTES, filename="card.png"):
    fields = {"patient_id": str(patient_id), "filename": filename, **meta(category)}
    return client.post("/api/documents", content=body,
                       headers={"x-test-as": role, "x-document-meta": quote(json.dumps(fields))})


@pytest.mark.parametrize("role", ["staff", "admin"])
async def test_api_upload_for_a_missing_patient_answers_404_with_a_reason(cast, client, role, missing_id):
    resp = await _post(client, role, missing_id)
    assert resp.status_code == 404, resp.text
    assert resp.json()["detail"] == "That patient record was not found."
    assert resp.headers["cache-control"] == "no-store"
    assert _nothing_kept()


async def test_api_upload_answers_404_for_a_malformed_id_and_422_for_none(cast, client):
    assert (await _post(client, "admin", "12345")).status_code == 404
    resp = await _post(client, "admin", "")
    assert resp.status_code == 422 and "patient" in resp.json()["errors"]
    assert _nothing_kept()


async def test_api_upload_for_an_existing_patient_still_works(cast, client):
    resp = await _post(client, "staff", cast.patient_id)
    assert resp.status_code == 201, resp.text
    assert _rows() == 1


async def test_api_upload_by_a_patient_for_another_id_is_403_not_404(cast, client):
    resp = await _post(client, "patient", uuid.uuid4(), "lab_result", PDF_BYTES, "lab.pdf")
    assert resp.status_code == 403
