"""The access policy, role by action, with object checks — written out independently of the code.

Adding an Action to core/access.py makes this test fail until someone decides here who may do it.
"""

from __future__ import annotations

import uuid

import pytest

from patient_portal.core.access import (
    PATIENT_SCOPED,
    AccessDenied,
    Action,
    Actor,
    CareTeamMember,
    Role,
    authorize,
)
from patient_portal.core.db import unit_of_work

ADMIN, DOCTOR, STAFF, PATIENT = "A", "D", "S", "P"

#: Who may do what (before object checks). Read a row as: this action is allowed for these roles.
EXPECTED: dict[str, str] = {
    "patient.search": "ADS",
    "patient.register": "AS",
    "patient.self_register": "P",
    "patient.demographics.read": "ADSP",
    "patient.demographics.write": "ASP",
    "patient.clinical.read": "ADP",
    "patient.clinical.write": "AD",
    "patient.insurance.read": "ADSP",
    "patient.insurance.write": "ASP",
    "patient.emergency.read": "ADSP",
    "patient.emergency.write": "ASP",
    "document.clinical.read": "ADP",
    "document.clinical.write": "ADP",
    "document.administrative.read": "ADSP",
    "document.administrative.write": "ASP",
    "document.purge": "A",
    "careteam.manage": "AS",
    "patient.identity.review": "AS",
    "audit.own.read": "P",
    "audit.read": "A",
    "user.manage": "A",
    "reports.generate": "A",
    "system.configure": "A",
}
LETTER = {Role.ADMIN: ADMIN, Role.DOCTOR: DOCTOR, Role.STAFF: STAFF, Role.PATIENT: PATIENT}


def test_every_action_has_a_decision():
    missing = sorted(a.value for a in Action if a.value not in EXPECTED)
    assert not missing, f"decide in EXPECTED who may do: {missing}"


def _actor(role: Role, patient_id: uuid.UUID | None = None) -> Actor:
    return Actor(user_id=uuid.uuid4(), role=role, patient_id=patient_id)


CASES = [(role, action) for role in Role for action in Action]


@pytest.mark.parametrize(("role", "action"), CASES, ids=[f"{r.value}-{a.value}" for r, a in CASES])
def test_role_matrix(db, role, action):
    """Role-level answer, with the object check satisfied (own record / on the care team)."""
    allowed = LETTER[role] in EXPECTED.get(action.value, "")
    patient_id = uuid.uuid4()
    actor = _actor(role, patient_id if role is Role.PATIENT else None)
    if role is Role.DOCTOR:
        with unit_of_work() as s:
            s.add(CareTeamMember(patient_id=patient_id, user_id=actor.user_id))
    assert actor.can(action) is allowed
    with unit_of_work() as s:
        if allowed:
            assert authorize(s, actor, action, patient_id=patient_id) is actor
        else:
            with pytest.raises(AccessDenied):
                authorize(s, actor, action, patient_id=patient_id)


SCOPED = sorted(PATIENT_SCOPED, key=lambda a: a.value)


@pytest.mark.parametrize("action", SCOPED, ids=[a.value for a in SCOPED])
def test_object_checks(db, action):
    mine, other = uuid.uuid4(), uuid.uuid4()
    doctor = _actor(Role.DOCTOR)
    with unit_of_work() as s:
        s.add(CareTeamMember(patient_id=mine, user_id=doctor.user_id))
    patient = _actor(Role.PATIENT, mine)
    admin, staff = _actor(Role.ADMIN), _actor(Role.STAFF)
    with unit_of_work() as s:
        # a doctor reaches only patients on their care team
        if doctor.can(action):
            authorize(s, doctor, action, patient_id=mine)
        with pytest.raises(AccessDenied):
            authorize(s, doctor, action, patient_id=other)
        # a patient reaches only their own record
        if patient.can(action):
            authorize(s, patient, action, patient_id=mine)
        with pytest.raises(AccessDenied):
            authorize(s, patient, action, patient_id=other)
        # a patient account without a linked record reaches nothing
        with pytest.raises(AccessDenied):
            authorize(s, _actor(Role.PATIENT, None), action, patient_id=mine)
        # admin reaches any patient; staff any patient for what their role allows
        authorize(s, admin, action, patient_id=other)
        if staff.can(action):
            authorize(s, staff, action, patient_id=other)
        # patient-scoped actions always need the patient
        with pytest.raises(AccessDenied):
            authorize(s, admin, action, patient_id=None)


def test_nobody_signed_in_is_denied_everything(db):
    with unit_of_work() as s:
        for action in Action:
            with pytest.raises(AccessDenied):
                authorize(s, None, action, patient_id=uuid.uuid4())


def test_staff_never_reach_clinical_details():
    staff = _actor(Role.STAFF)
    clinical = [a for a in Action if "clinical" in a.value]
    assert clinical and not any(staff.can(a) for a in clinical)
