"""Demo lab results for `portal seed`: Maria Garcia (the demo patient account's record, on the demo
doctor's care team) has a lipid panel from about five weeks ago, reviewed and released with a comment
(her LDL is high), and an HbA1c from three days ago that is new and waits for review — the dashboard's
"Results to review" card and the e2e test start from it.

Entered through the results service as the demo doctor, so values are checked, flags computed,
encrypted and audited as in real use. Idempotent: a record with any result panel gets none.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from patient_portal.core.db import unit_of_work
from patient_portal.domain.demo import DemoClinic
from patient_portal.domain.results import service
from patient_portal.domain.results.models import ResultPanel

LAB = "Boston Clinical Laboratories"
LIPIDS = [
    {"loinc": "2093-3", "value": "224", "unit": "mg/dL", "range_high": "200"},
    {"loinc": "13457-7", "value": "148", "unit": "mg/dL", "range_high": "100"},
    {"loinc": "2085-9", "value": "51", "unit": "mg/dL", "range_low": "40"},
    {"loinc": "2571-8", "value": "126", "unit": "mg/dL", "range_high": "150"},
]
LIPID_COMMENT = ("Your LDL (\"bad\") cholesterol is higher than we would like. Your other numbers are fine. "
                 "Let's talk at your next visit about diet, exercise and whether a medicine would help.")
HBA1C = [{"loinc": "4548-4", "value": "6.1", "unit": "%", "range_high": "5.6"}]


def seed_results(clinic: DemoClinic) -> int:
    """Maria Garcia's released lipid panel and new HbA1c; returns how many panels were added."""
    if not clinic.patients or clinic.patient is None:
        return 0
    pid = clinic.patients[0].id
    doctor = clinic.doctors[0]
    with unit_of_work() as session:
        if session.exec(select(ResultPanel.id).where(ResultPanel.patient_id == pid).limit(1)).first():
            return 0
    with unit_of_work() as session:
        lipids = service.enter_panel(session, doctor, patient_id=pid, name="Lipid panel",
                                     specimen_date=clinic.today - timedelta(days=36), performing_lab=LAB,
                                     results=LIPIDS)
    with unit_of_work() as session:
        service.release(session, doctor, patient_id=pid, panel_id=lipids.id, comment=LIPID_COMMENT)
    with unit_of_work() as session:
        service.enter_panel(session, doctor, patient_id=pid, name="Hemoglobin A1c",
                            specimen_date=clinic.today - timedelta(days=3), performing_lab=LAB, results=HBA1C)
    return 2
