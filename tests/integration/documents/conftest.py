"""Fixtures for the document tests: actors of every role around one patient, sample files."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest

from patient_portal.core.access import Actor, CareTeamMember, Role
from patient_portal.core.db import unit_of_work
from tests.samples import one_page_pdf

PDF_BYTES = one_page_pdf("HbA1c 5.6")
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
ELF_BYTES = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 600


@dataclass(frozen=True)
class Cast:
    patient_id: uuid.UUID
    other_patient_id: uuid.UUID
    admin: Actor
    doctor: Actor
    other_doctor: Actor
    staff: Actor
    patient: Actor
    other_patient: Actor


def _actor(role: Role, name: str, patient_id: uuid.UUID | None = None) -> Actor:
    return Actor(user_id=uuid.uuid4(), role=role, display_name=name, patient_id=patient_id,
                 session_id=uuid.uuid4(), ip="127.0.0.1")


@pytest.fixture
def cast(db) -> Cast:
    """A patient with a care-team doctor, a doctor outside the team, staff, an admin, two patients."""
    pid, other = uuid.uuid4(), uuid.uuid4()
    people = Cast(
        patient_id=pid, other_patient_id=other,
        admin=_actor(Role.ADMIN, "Ada Admin"), doctor=_actor(Role.DOCTOR, "Dr Dana Doctor"),
        other_doctor=_actor(Role.DOCTOR, "Dr Olly Other"), staff=_actor(Role.STAFF, "Sam Staff"),
        patient=_actor(Role.PATIENT, "Maria Garcia", pid), other_patient=_actor(Role.PATIENT, "Otto Other", other),
    )
    with unit_of_work() as session:
        session.add(CareTeamMember(patient_id=pid, user_id=people.doctor.user_id))
        session.add(CareTeamMember(patient_id=other, user_id=people.other_doctor.user_id))
    return people


def chunks_of(data: bytes, size: int = 64 * 1024):
    for start in range(0, len(data), size):
        yield data[start:start + size]


def meta(category: str = "lab_result", title: str = "Blood panel", **extra) -> dict:
    return {"category": category, "title": title, "service_date": "2026-01-15", "source": "City Lab", **extra}
