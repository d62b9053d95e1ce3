"""Every use case that names a patient loads the record first: an unknown or merged id is "not
found" for staff and admins (who reach every id), and nothing is read from or written to it."""

from __future__ import annotations

import uuid

import pytest
from sqlmodel import select

from patient_portal.core.access import AccessDenied
from patient_portal.core.db import unit_of_work
from patient_portal.domain.history.models import KINDS
from patient_portal.domain.patients import profile
from patient_portal.domain.patients.common import PatientNotFound
from patient_portal.domain.patients.models import STATUS_MERGED, Patient
from tests.integration.patients_support import ADMIN, STAFF, actor, call, register

ALLERGY = {"substance": "Aspirin", "severity": "mild"}
#: name -> (call with (session, actor, patient_id), may staff do it)
USE_CASES = {
    "get_chart": (lambda s, a, p: profile.get_chart(s, a, p), True),
    "update_demographics": (lambda s, a, p: profile.update_demographics(s, a, p, {}, expected_version=1), True),
    "update_contact": (lambda s, a, p: profile.update_contact(s, a, p, {}, expected_version=1), True),
    "update_insurance": (lambda s, a, p: profile.update_insurance(s, a, p, [], expected_version=1), True),
    "update_emergency_contacts": (lambda s, a, p: profile.update_emergency_contacts(s, a, p, [],
                                                                                   expected_version=1), True),
    "save_history_item": (lambda s, a, p: profile.save_history_item(s, a, p, "allergies", ALLERGY), False),
    "remove_history_item": (lambda s, a, p: profile.remove_history_item(s, a, p, "allergies", str(uuid.uuid4())),
                            False),
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
    allergy = call(profile.get_chart, actor(ADMIN), pid)["history"]["allergies"][0]
    _merge(pid)
    with pytest.raises(PatientNotFound):
        call(profile.remove_history_item, actor(ADMIN), pid, "allergies", allergy["id"])
    model = KINDS["allergies"][0]
    with unit_of_work() as session:
        assert session.exec(select(model).where(model.patient_id == pid)).first() is not None
