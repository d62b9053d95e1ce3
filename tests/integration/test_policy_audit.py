"""Every allowed access records on what basis and for what purpose it was allowed; refusals record
why not (issue: "the purpose column exists and is never set")."""

from __future__ import annotations

import pytest

from patient_portal.core.access import AccessDenied, Role
from patient_portal.domain.patients import service as patients
from tests.integration.patients_support import actor, call, events, put_on_care_team, register

pytestmark = pytest.mark.usefixtures("db")


def _last(action: str):
    return [e for e in events() if e.action == action][-1]


def test_a_chart_read_records_basis_and_purpose_for_each_role():
    pid = register().patient_id
    doctor, staff, admin = actor(Role.DOCTOR), actor(Role.STAFF), actor(Role.ADMIN)
    put_on_care_team(doctor, pid)
    for who, basis, purpose in ((doctor, "care_team", "treatment"), (admin, "role", "operations"),
                                (actor(Role.PATIENT, pid), "self", "patient_request")):
        call(patients.get_chart, who, str(pid))
        event = _last("patient.demographics.read")
        assert (event.actor_id, event.basis, event.purpose) == (who.user_id, basis, purpose)
    call(patients.get_chart, staff, str(pid))
    assert (_last("patient.demographics.read").basis, _last("patient.demographics.read").purpose) == (
        "role", "operations")


def test_a_refusal_records_its_reason_and_no_basis():
    pid = register().patient_id
    outsider = actor(Role.DOCTOR)  # not on the care team
    with pytest.raises(AccessDenied):
        call(patients.get_chart, outsider, str(pid))
    refused = [e for e in events() if e.outcome == "denied"][-1]
    assert refused.actor_id == outsider.user_id and refused.basis is None and refused.purpose is None
    assert refused.detail["reason"] == "not_reached" and refused.patient_id == pid
