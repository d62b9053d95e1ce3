"""Every use case that names a patient loads the record first: an unknown or merged id is "not
found" for staff and admins (who reach every id), and nothing is read from or written to it."""

from __future__ import annotations

import uuid

import pytest
from sqlmodel import select

from patient_portal.core.access import AccessDenied
from patient_portal.core.db import unit_of_work
from patient_portal.domain.emergency import service as emergency
from patient_portal.domain.history import service as history
from patient_portal.domain.history.models import KINDS
from patient_portal.domain.insurance import service as insurance
from patient_portal.domain.patients import service as patients
from patient_portal.domain.patients.models import STATUS_MERGED, Patient
from patient_portal.domain.patients.service import PatientNotFound
from tests.integration.patients_support import ADMIN, STAFF, actor, call, register

ALLERGY = {"substance": "Aspirin", "severity": "mild"}
#: name -> (call with (session, actor, patient_id), may staff do it)
USE_CASES = {
    "get_chart": (lambda s, a, p: patients.get_chart(s, a, p), True),
    "update_demographics": (lambda s, a, p: patients.update_demographics(s, a, p, {}, expected_version=1), True),
    "update_contact": (lambda s, a, p: patients.update_contact(s, a, p, {}, expected_version=1), True),
    "insurance.update_policies": (lambda s, a, p: insurance.update_policies(s, a, patient_id=p, policies=[],
                                                                            expected_version=1), True),
    "emergency.update_contacts": (lambda s, a, p: emergency.update_contacts(s, a, patient_id=p, contacts=[],
                                                                            expected_version=1), True),
    "history.save_item": (lambda s, a, p: history.save_item(s, a, patient_id=p, kind="allergies", values=ALLERGY),
                          False),
    "history.remove_item": (lambda s, a, p: history.remove_item(s, a, patient_id=p, kind="allergies",
                                                                item_id=str(uuid.uuid4())), False),
}


def _merge(patient_id: uuid.UUID) -> None:
    with unit_of_work() as session:
        patient = session.get(Patient, patient_id)
        patient.status = STATUS_MERGED
        session.add(patient)


@pytest.fixture(params=["unknown", "merged"])
def missing_id(request, db):
    if request.param == "unknown":
        return uuid.uuid4()
    pid = register().patient_id
    _merge(pid)
    return pid


@pytest.mark.parametrize("role", [STAFF, ADMIN])
@pytest.mark.parametrize("name", sorted(USE_CASES))
def test_a_missing_patient_is_not_found_for_whoever_may_act(missing_id, role, name):
    use_case, staff_may = USE_CASES[name]
    expected = PatientNotFound if role == ADMIN or staff_may else AccessDenied
    with pytest.raises(expected):
        call(use_case, actor(role), missing_id)


def test_a_history_row_of_a_merged_record_is_not_removed(db):
    pid = register().patient_id
    allergy = call(patients.get_chart, actor(ADMIN), pid)["history"]["allergies"][0]
    _merge(pid)
    with pytest.raises(PatientNotFound):
        call(history.remove_item, actor(ADMIN), patient_id=pid, kind="allergies", item_id=allergy["id"])
    model = KINDS["allergies"][0]
    with unit_of_work() as session:
        assert session.exec(select(model).where(model.patient_id == pid)).first() is not None
