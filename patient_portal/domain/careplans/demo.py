"""Demo care plans for `portal seed`: Maria Garcia (the demo patient account's record, hypertension,
on the demo doctor's care team) has a blood pressure plan for her hypertension — a weight goal, a
goal in words, an instruction and a task for her to tick off, with a progress update — and James
Okafor a diabetes plan from the internist on his care team with a blood glucose goal.

Maria's plan has no blood pressure target of its own: the browser test sets one and watches the goal
line appear on her trend. Written through the care-plans service as the doctors who write them, so
everything is validated, encrypted and audited as in real use. Idempotent: a record with any care
plan gets none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlmodel import select

from patient_portal.core.access import Actor
from patient_portal.core.db import unit_of_work
from patient_portal.domain.careplans import service
from patient_portal.domain.careplans.models import CarePlan
from patient_portal.domain.demo import DemoClinic


@dataclass(frozen=True)
class DemoPlan:
    title: str
    problem: str  # the ICD-10-CM code of the problem-list entry it is for
    goals: list[dict] = field(default_factory=list)  # values, with "in_days" for the due date and "note"
    activities: list[dict] = field(default_factory=list)


MARIA = DemoPlan("Blood pressure plan", "I10", goals=[
    {"measure": "weight", "comparator": "below", "target": "70", "in_days": 90,
     "note": "Down about 3 kg since the spring. Keep going: it helps your blood pressure too."},
    {"measure": "", "description": "Less salt: no more than a teaspoon a day, none added at the table", "in_days": 60},
], activities=[
    {"text": "Walk 30 minutes on most days", "task": False},
    {"text": "Bring your home blood pressure monitor to your next visit", "task": True},
])
OKAFOR = DemoPlan("Diabetes plan", "E11.9", goals=[
    {"measure": "glucose", "comparator": "between", "target": "80", "target_high": "130", "in_days": 120,
     "description": "before breakfast"},
], activities=[
    {"text": "Check your blood sugar before breakfast three times a week", "task": False},
    {"text": "Book your yearly eye exam", "task": True},
])


def _write(session, doctor: Actor, pid, plan: DemoPlan, today) -> None:
    board = service.board(session, doctor, patient_id=pid)
    problem = next((p.condition_id for p in board.problems if p.coding.code == plan.problem), None)
    made = service.create_plan(session, doctor, patient_id=pid,
                               values={"title": plan.title, "condition_id": str(problem) if problem else ""})
    for goal in plan.goals:
        values = {k: v for k, v in goal.items() if k not in ("in_days", "note")}
        values["due"] = (today + timedelta(days=goal["in_days"])).isoformat()
        saved = service.add_goal(session, doctor, patient_id=pid, plan_id=made.id, values=values)
        if goal.get("note"):
            service.add_note(session, doctor, patient_id=pid, goal_id=saved.id, text=goal["note"])
    for activity in plan.activities:
        service.add_activity(session, doctor, patient_id=pid, plan_id=made.id, values=activity)


def seed_careplans(clinic: DemoClinic) -> int:
    """Maria Garcia's and James Okafor's care plans; returns how many were added (0 when present)."""
    added = 0
    for index, doctor, plan in ((0, clinic.doctor(0), MARIA), (1, clinic.doctor(2), OKAFOR)):
        if index >= len(clinic.patients):
            continue
        pid = clinic.patients[index].id
        with unit_of_work() as session:
            if session.exec(select(CarePlan.id).where(CarePlan.patient_id == pid).limit(1)).first():
                continue
            _write(session, doctor, pid, plan, clinic.today)
        added += 1
    return added
