"""Demo vitals for `portal seed`: a year of clinic visits for Maria Garcia (the demo patient account's
record, on the demo doctor's care team) — about monthly, her blood pressure rising through the
spring, then coming down once treated — and a few home readings from the last weeks, the older ones
verified by her doctor, the newest two still "reported by patient".

Recorded through the observations service as the people who would record them (the demo doctor, the
patient), so values are range-checked, BMI computed, encrypted and audited as in real use.
Idempotent: a record with any observation gets none.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlmodel import select

from patient_portal.core.clock import clinic_zone
from patient_portal.core.db import unit_of_work
from patient_portal.domain.demo import DemoClinic, seeded
from patient_portal.domain.observations import service
from patient_portal.domain.observations.models import Observation

#: (days before today, systolic, diastolic, heart rate, weight kg) of each clinic visit, oldest first
VISITS = (
    (368, 128, 82, 72, 74.8), (336, 131, 84, 74, 75.1), (301, 136, 87, 76, 75.6), (272, 141, 90, 78, 76.0),
    (243, 147, 93, 80, 76.4), (214, 152, 96, 82, 76.2), (182, 149, 95, 79, 75.5), (150, 142, 91, 76, 74.6),
    (119, 136, 88, 74, 73.7), (88, 132, 85, 72, 72.9), (57, 128, 82, 70, 72.2), (16, 126, 80, 68, 71.6),
)
HEIGHT_CM = "163"
#: (days before today, values, verified by the doctor) of the patient's home readings
HOME = (
    (12, {"systolic": "131", "diastolic": "84"}, True),
    (9, {"weight": "71.4"}, True),
    (4, {"systolic": "127", "diastolic": "81"}, False),
    (2, {"glucose": "104"}, False),
)


def _at(today: date, days: int, hour: int, minute: int) -> datetime:
    return datetime.combine(today - timedelta(days=days), time(hour, minute), clinic_zone())


def seed_vitals(clinic: DemoClinic) -> int:
    """The demo patient's vitals and home readings; returns how many sets were added (0 when present)."""
    if not clinic.patients or clinic.patient is None:
        return 0
    pid = clinic.patients[0].id
    doctor, patient = clinic.doctors[0], clinic.patient
    with unit_of_work() as session:
        if session.exec(select(Observation.id).where(Observation.patient_id == pid).limit(1)).first():
            return 0
    rng = seeded("vitals:maria")
    added = 0
    for n, (days, sys, dia, hr, kg) in enumerate(VISITS):
        values = {"systolic": str(sys), "diastolic": str(dia), "heart_rate": str(hr), "weight": f"{kg:.1f}",
                  "temperature": f"{rng.choice((36.5, 36.6, 36.7, 36.8, 36.9)):.1f}",
                  "respiratory_rate": str(rng.choice((14, 15, 16))), "spo2": str(rng.choice((97, 98, 99)))}
        if n == 0:
            values["height"] = HEIGHT_CM
        if n % 4 == 0:
            values["glucose"] = str(rng.randint(94, 108))
        with unit_of_work() as session:
            service.record_vitals(session, doctor, patient_id=pid, values=values,
                                  effective_at=_at(clinic.today, days, rng.randint(9, 15), rng.choice((0, 15, 30, 45))))
        added += 1
    for days, values, verified in HOME:
        with unit_of_work() as session:
            saved = service.report_reading(session, patient, patient_id=pid, values=values,
                                           effective_at=_at(clinic.today, days, 7, rng.choice((5, 20, 40))))
        if verified:
            with unit_of_work() as session:
                service.verify_reading(session, doctor, patient_id=pid, set_id=saved.id)
        added += 1
    return added
