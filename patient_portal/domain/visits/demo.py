"""Demo visit notes for `portal seed`: signed notes (one with an addendum) and one unsigned draft for
Maria Garcia, the demo patient account's record, written by the demo doctor; a few signed notes for
James Okafor and Aiko Tanaka by the internist on their care team.

Each note goes through the visits service as the doctor who writes it (create, then sign), so it is
validated, encrypted and audited as in real use. Idempotent: a record that has any visit note gets
no demo notes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlmodel import select

from patient_portal.core.coding import ICD10_CM
from patient_portal.core.db import unit_of_work
from patient_portal.domain.demo import DemoClinic
from patient_portal.domain.visits import service as visits
from patient_portal.domain.visits.models import VisitNote


def _dx(code: str, display: str) -> dict[str, str]:
    return {"system": ICD10_CM, "code": code, "display": display}


@dataclass(frozen=True)
class DemoNote:
    days_ago: int
    at: time
    values: dict
    sign: bool = True
    addendum: str = ""


HYPERTENSION = _dx("I10", "Essential (primary) hypertension")
LIPIDS = _dx("E78.5", "Hyperlipidemia, unspecified")
RHINITIS = _dx("J30.9", "Allergic rhinitis, unspecified")
DIABETES = _dx("E11.9", "Type 2 diabetes mellitus without complications")

MARIA = [
    DemoNote(330, time(9, 30), {
        "reason": "Blood pressure follow-up",
        "subjective": "Taking lisinopril daily, no side effects. Occasional headaches at work.",
        "objective": "BP 142/88 (repeat 138/86), HR 74. Heart and lungs normal.",
        "assessment": "Hypertension, not yet at goal on lisinopril 10 mg.",
        "plan": "Continue lisinopril 10 mg. Cut down on salt, walk 30 minutes most days. Home readings twice a "
                "week; come back in 3 months.",
        "diagnoses": [HYPERTENSION], "orders": ["Basic metabolic panel"]},
        addendum="Basic metabolic panel normal (potassium 4.2, creatinine 0.8). No change to the plan."),
    DemoNote(200, time(14, 0), {
        "reason": "Cholesterol results review",
        "subjective": "Feels well. Diet changes since last visit; walking 4 days a week.",
        "objective": "BP 132/84. LDL 162 mg/dL, HDL 48 mg/dL.",
        "assessment": "Hyperlipidemia; blood pressure improving with lifestyle changes.",
        "plan": "Start atorvastatin 20 mg at bedtime. Recheck cholesterol and liver tests in 3 months.",
        "diagnoses": [LIPIDS, HYPERTENSION], "orders": ["Lipid panel in 3 months", "Liver function tests in 3 months"]}),
    DemoNote(60, time(10, 15), {
        "reason": "Sneezing and itchy eyes",
        "subjective": "Spring symptoms as every year; cetirizine helps but not fully.",
        "objective": "Pale, swollen nasal mucosa. Lungs clear.",
        "assessment": "Seasonal allergic rhinitis.",
        "plan": "Keep taking cetirizine 10 mg once a day in spring and summer; add a steroid nose spray each "
                "morning during the season.",
        "diagnoses": [RHINITIS], "orders": []}),
    DemoNote(1, time(11, 0), {
        "reason": "Annual check-up",
        "subjective": "No new complaints. Home BP readings mostly 125-130 / 80-84.",
        "objective": "BP 128/82, weight stable.",
        "assessment": "", "plan": "",
        "diagnoses": [HYPERTENSION], "orders": []}, sign=False),
]
OKAFOR = [
    DemoNote(240, time(8, 45), {
        "reason": "Diabetes review",
        "subjective": "Taking metformin twice daily. Some morning readings above 150.",
        "objective": "HbA1c 7.4%. Feet: sensation intact, no ulcers.",
        "assessment": "Type 2 diabetes, slightly above target.",
        "plan": "Continue metformin 500 mg twice daily; meet the dietitian. HbA1c again in 3 months.",
        "diagnoses": [DIABETES], "orders": ["HbA1c in 3 months", "Dietitian referral"]}),
    DemoNote(90, time(9, 15), {
        "reason": "Diabetes follow-up",
        "subjective": "Saw the dietitian; fewer high morning readings.",
        "objective": "HbA1c 6.9%.",
        "assessment": "Type 2 diabetes at target.",
        "plan": "No change. Yearly eye exam; review in 6 months.",
        "diagnoses": [DIABETES], "orders": ["Eye exam"]}),
]
TANAKA = [
    DemoNote(150, time(16, 30), {
        "reason": "Sore throat for three days",
        "subjective": "Sore throat, mild fever, no cough.",
        "objective": "Temperature 37.9 C. Red throat, no exudate. Rapid strep test negative.",
        "assessment": "Viral sore throat.",
        "plan": "Rest, fluids, paracetamol as needed. Come back if not better in a week.",
        "diagnoses": [], "orders": []}),
]


def _when(today: date, note: DemoNote) -> str:
    return datetime.combine(today - timedelta(days=note.days_ago), note.at).isoformat(timespec="minutes")


def seed_visits(clinic: DemoClinic) -> int:
    """Write the demo notes (as their doctors, through the service); returns how many were added."""
    plans = [(0, clinic.doctor(0), MARIA), (1, clinic.doctor(2), OKAFOR), (2, clinic.doctor(2), TANAKA)]
    added = 0
    for index, author, notes in plans:
        if index >= len(clinic.patients):
            continue
        pid = clinic.patients[index].id
        with unit_of_work() as session:
            if session.exec(select(VisitNote.id).where(VisitNote.patient_id == pid)).first() is not None:
                continue
            for note in notes:
                values = {**note.values, "visit_at": _when(clinic.today, note)}
                view = visits.create_note(session, author, patient_id=pid, values=values)
                if note.sign:
                    view = visits.sign_note(session, author, patient_id=pid, note_id=view.id,
                                            expected_version=view.version)
                if note.addendum:
                    visits.add_addendum(session, author, patient_id=pid, note_id=view.id, text=note.addendum)
                added += 1
    return added
