"""Demo prescriptions for `portal seed`: the demo doctor's licence number, an active lisinopril
prescription for Maria Garcia (the demo patient account's record) and her pending request to renew
it, so the doctor dashboard's "Renewal requests" and her Prescriptions page show something.

Everything goes through the prescriptions service as the people who would do it (the admin records
the licence, the doctor prescribes, the patient asks), so it is checked, encrypted and audited as in
real use. Lisinopril is already on her medication list (intake), which the check reports as a
duplicate: the doctor's override reason says this prescription continues it. Idempotent: a record
with any prescription gets none.
"""

from __future__ import annotations

from sqlmodel import select

from patient_portal.core.db import unit_of_work
from patient_portal.domain.demo import DemoClinic
from patient_portal.domain.prescriptions import service as rxs
from patient_portal.domain.prescriptions.models import PrescriberProfile, Prescription

LICENCES = ("MA-MD-204518", "MA-MD-311907", "MA-MD-118264")
LISINOPRIL = {"drug": "lisinopril", "dose": "10", "route": "oral", "frequency": "once_daily", "quantity": "30",
              "refills": "2", "substitution": True, "pharmacy_note": ""}
CONTINUES = "Continues the lisinopril already on her medication list (same dose)."


def seed_prescriptions(clinic: DemoClinic) -> int:
    """The doctors' licence numbers, Maria Garcia's lisinopril and its pending renewal; returns how
    many prescriptions were added."""
    with unit_of_work() as session:
        for doctor, licence in zip(clinic.doctors, LICENCES, strict=False):
            if session.exec(select(PrescriberProfile.id).where(PrescriberProfile.user_id == doctor.user_id)).first() is None:
                rxs.set_licence_number(session, clinic.admin, user_id=doctor.user_id, licence_number=licence)
    if not clinic.patients or clinic.patient is None:
        return 0
    pid = clinic.patients[0].id
    with unit_of_work() as session:
        if session.exec(select(Prescription.id).where(Prescription.patient_id == pid)).first() is not None:
            return 0
        try:
            view = rxs.prescribe(session, clinic.doctor(0), patient_id=pid, values=LISINOPRIL)
        except rxs.OverrideNeeded:
            view = rxs.prescribe(session, clinic.doctor(0), patient_id=pid, values=LISINOPRIL,
                                 override_reason=CONTINUES)
    with unit_of_work() as session:
        rxs.request_renewal(session, clinic.patient, prescription_id=view.id,
                            message="I have one week of tablets left.")
    return 1
