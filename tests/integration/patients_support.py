"""Helpers for the patient service tests: actors, a complete draft, a registered patient."""

from __future__ import annotations

import copy
import uuid

from patient_portal.core.access import Actor, CareTeamMember, Role
from patient_portal.core.db import unit_of_work
from patient_portal.domain.patients.registration import register_patient
from tests.integration.identity_support import events  # noqa: F401  (re-exported for the patient tests)

DRAFT = {
    "basic": {"given_name": "Elena", "family_name": "Marsh", "date_of_birth": "1979-04-23", "sex": "female",
              "phone_mobile": "(617) 555-0133", "email": "Elena.Marsh@Example.com", "address_line1": "4 Elm St",
              "city": "Boston", "postal_code": "02118", "preferred_contact_method": "sms",
              "preferred_language": "English"},
    "history": {
        "allergies": [{"substance": "Latex", "reaction": "Itching", "severity": "mild"}],
        "medications": [{"name": "Atorvastatin", "dose": "20 mg", "frequency": "nightly"}],
        "conditions": [{"description": "Asthma", "code": "J45", "code_system": "ICD-10", "status": "active"}],
        "family_history": [{"relative": "Father", "condition": "Heart disease"}],
        "immunizations": [{"vaccine": "MMR", "given_on": "1980-05-01", "cvx": "03"}],
    },
    "insurance": [{"payer": "Tufts Health", "plan": "Silver", "member_id": "TH-0091", "relationship": "self",
                   "order": "primary"}],
    "emergency": [{"name": "Tom Marsh", "relationship": "Husband", "phone": "+1 617 555 0134", "order": "primary"}],
}


def draft(**basic_overrides) -> dict:
    data = copy.deepcopy(DRAFT)
    data["basic"].update(basic_overrides)
    return data


def actor(role: Role, patient_id: uuid.UUID | None = None) -> Actor:
    return Actor(user_id=uuid.uuid4(), role=role, display_name=f"Test {role}", patient_id=patient_id)


STAFF, ADMIN, DOCTOR = Role.STAFF, Role.ADMIN, Role.DOCTOR


def register(data: dict | None = None, by: Actor | None = None, **kw):
    with unit_of_work() as s:
        return register_patient(s, by or actor(STAFF), data or draft(), **kw)


def put_on_care_team(doctor: Actor, patient_id: uuid.UUID) -> None:
    with unit_of_work() as s:
        s.add(CareTeamMember(patient_id=patient_id, user_id=doctor.user_id))


def call(fn, *args, **kwargs):
    """Run a service function in its own unit of work."""
    with unit_of_work() as s:
        return fn(s, *args, **kwargs)

