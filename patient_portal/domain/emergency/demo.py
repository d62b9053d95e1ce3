"""Demo emergency data for `portal seed`: the starter protocols, and Maria Garcia's emergency
information — a living will and a healthcare power of attorney naming her husband Luis (her primary
emergency contact) as agent, full code ordered by the demo doctor, and two special instructions.
Written through the emergency service as the people who write it, so everything is validated,
encrypted and audited as in real use. Idempotent: a record with emergency information gets none."""

from __future__ import annotations

from sqlmodel import select

from patient_portal.core.db import unit_of_work
from patient_portal.domain.demo import DemoClinic
from patient_portal.domain.emergency import service
from patient_portal.domain.emergency.models import EmergencyInfo
from patient_portal.domain.emergency.protocols import seed_protocols

INSTRUCTIONS = ["Hard of hearing in the left ear: speak on her right side", "Keep away from latex"]


def seed_emergency(clinic: DemoClinic) -> int:
    """The starter protocols and Maria Garcia's emergency information; returns how many records
    got information now (0 when present)."""
    with unit_of_work() as session:
        seed_protocols(session)
    if not clinic.patients:
        return 0
    pid = clinic.patients[0].id
    with unit_of_work() as session:
        if session.exec(select(EmergencyInfo.id).where(EmergencyInfo.patient_id == pid)).first():
            return 0
        found = service.information(session, clinic.staff[0], patient_id=pid)
        spouse = next((c.id for c in found.contacts if c.label.startswith("Luis Garcia")), "")
        saved = service.save_information(
            session, clinic.staff[0], patient_id=pid, expected_version=found.version, instructions=INSTRUCTIONS,
            directives=[{"kind": "living_will", "date": "2023-05-10"},
                        {"kind": "healthcare_poa", "date": "2023-05-10", "agent_contact_id": spouse}])
        service.set_code_status(session, clinic.doctor(0), patient_id=pid, code_status="full_code",
                                expected_version=saved.version)
    return 1
