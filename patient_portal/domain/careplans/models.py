"""Care plans, their goals, activities (and the patient's tasks among them) and progress notes.

Everything a clinician writes about a patient's care is PHI, so it is AES-GCM ciphertext: the plan's
title and the problem it is for (a coding copied from the problem list, so a later edit of that entry
does not rewrite the plan), a goal's words, target and due date, an activity's text, a progress note,
and the authors' names as they read when they wrote. What stays plain is what the policy, the lists
and the lock read: the patient, the author's user id, the small closed vocabularies (plan and goal
status, the measure a goal is on — a vital's key, as the observations area keeps its LOINC codes
plain — whether an activity is a patient task), the times of events and the versions a save is
checked against.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlmodel import Field

from patient_portal.core.crypto import encrypted_field
from patient_portal.core.db import TimestampedTable

#: A plan's status: worked on, finished as planned, or stopped (both of the last two are closed).
ACTIVE, COMPLETED, CANCELLED = "active", "completed", "cancelled"
PLAN_STATUSES = (ACTIVE, COMPLETED, CANCELLED)
#: A goal's status.
IN_PROGRESS, ACHIEVED, NOT_ACHIEVED = "in_progress", "achieved", "not_achieved"
GOAL_STATUSES = (IN_PROGRESS, ACHIEVED, NOT_ACHIEVED)
#: An activity is an instruction the patient reads, or a task they tick off when done.
INSTRUCTION, TASK = "instruction", "task"


class CarePlan(TimestampedTable, table=True):
    """One care plan of one patient ("Blood pressure plan"), optionally for a problem-list entry."""

    __tablename__ = "care_plan"

    patient_id: uuid.UUID = Field(foreign_key="patient.id", index=True, ondelete="CASCADE")
    author_id: uuid.UUID
    author_name: str = encrypted_field("str")
    title: str = encrypted_field("str")
    condition_id: uuid.UUID | None = None  # the problem-list entry it is for (history_condition.id)
    #: {"system": <URI>, "code": "I10", "display": "Essential (primary) hypertension"}, or {} for none
    problem: dict = encrypted_field("json", default={})
    status: str = Field(default=ACTIVE, max_length=16, index=True)
    ended_at: datetime | None = None
    ended_by: uuid.UUID | None = None
    version: int = Field(default=1, nullable=False)


class CarePlanGoal(TimestampedTable, table=True):
    """A goal of a plan: on a measure (a vital's key) with a target, or described in words."""

    __tablename__ = "care_plan_goal"

    plan_id: uuid.UUID = Field(foreign_key="care_plan.id", index=True, ondelete="CASCADE")
    patient_id: uuid.UUID = Field(foreign_key="patient.id", index=True, ondelete="CASCADE")
    position: int = 0
    measure: str = Field(default="", max_length=32)  # "" for a goal described in words
    description: str = encrypted_field("str")  # the goal in the doctor's words ("" when the target says it)
    #: {"comparator": "below", "values": {"systolic": {"low": null, "high": "130"}, "diastolic": {...}}}
    target: dict = encrypted_field("json", default={})
    due: date | None = encrypted_field("date", nullable=True)
    status: str = Field(default=IN_PROGRESS, max_length=16)
    status_at: datetime | None = None  # when it was marked achieved or not achieved
    created_by: uuid.UUID | None = None
    version: int = Field(default=1, nullable=False)


class CarePlanActivity(TimestampedTable, table=True):
    """An activity or instruction of a plan; a task the patient ticks off (and may untick)."""

    __tablename__ = "care_plan_activity"

    plan_id: uuid.UUID = Field(foreign_key="care_plan.id", index=True, ondelete="CASCADE")
    patient_id: uuid.UUID = Field(foreign_key="patient.id", index=True, ondelete="CASCADE")
    position: int = 0
    kind: str = Field(default=INSTRUCTION, max_length=16)
    text: str = encrypted_field("str")
    removed: bool = False  # taken off the plan by a doctor (kept for the record)
    done_at: datetime | None = None  # a task ticked off: when; None when open (or unticked)
    done_by: uuid.UUID | None = None
    created_by: uuid.UUID | None = None
    version: int = Field(default=1, nullable=False)


class CarePlanNote(TimestampedTable, table=True):
    """A progress update a doctor writes on a goal; written once, never edited."""

    __tablename__ = "care_plan_note"

    goal_id: uuid.UUID = Field(foreign_key="care_plan_goal.id", index=True, ondelete="CASCADE")
    plan_id: uuid.UUID = Field(foreign_key="care_plan.id", ondelete="CASCADE")
    patient_id: uuid.UUID = Field(foreign_key="patient.id", index=True, ondelete="CASCADE")
    author_id: uuid.UUID
    author_name: str = encrypted_field("str")
    text: str = encrypted_field("str")
