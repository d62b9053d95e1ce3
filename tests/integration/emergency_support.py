"""The small clinic the emergency tests run in: Elena Marsh with two emergency contacts who can be
emailed (Tom, primary, English; Rosa, secondary, Spanish), her doctor, a doctor on Omar's team only,
the front desk, an admin, Elena and Omar themselves, and the starter protocols."""

from __future__ import annotations

from typing import Any

from patient_portal.core.db import unit_of_work
from patient_portal.domain.emergency import service as emergency
from patient_portal.domain.emergency.protocols import seed_protocols
from patient_portal.domain.patients.models import Patient
from tests.integration.clinic_support import doctor, two_patients
from tests.integration.patients_support import call

TOM = {"name": "Tom Marsh", "relationship": "Husband", "phone": "+1 617 555 0134", "order": "primary",
       "email": "tom.marsh@example.com", "preferred_contact_method": "email", "language": "English"}
ROSA = {"name": "Rosa Marsh", "relationship": "Sister", "phone": "+1 617 555 0145", "order": "secondary",
        "email": "rosa.marsh@example.com", "preferred_contact_method": "email", "language": "Spanish"}


def set_contacts(c: dict[str, Any], *contacts: dict[str, str]) -> list[dict]:
    with unit_of_work() as s:
        version = s.get(Patient, c["elena"]).version
    return call(emergency.update_contacts, c["staff"], patient_id=c["elena"], contacts=[dict(x) for x in contacts],
                expected_version=version)


def emergency_clinic() -> dict[str, Any]:
    c = two_patients({"doctor": doctor("Dr. Ada Author")})
    with unit_of_work() as s:
        seed_protocols(s)
    c["contacts"] = set_contacts(c, TOM, ROSA)
    c["protocols"] = {p.name: p for p in call(emergency.protocols, c["staff"])}
    return c


def start(c: dict[str, Any], name: str = "Anaphylaxis", who: str = "staff", **kw: Any):
    return call(emergency.start_run, c[who], patient_id=c["elena"], protocol_id=c["protocols"][name].id, **kw)
