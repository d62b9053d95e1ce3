"""Fixtures for the document tests: actors of every role around one patient, sample files."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from datetime import date

import pytest
from PIL import Image

from patient_portal.core.access import Actor, CareTeamMember, Role
from patient_portal.core.db import unit_of_work
from patient_portal.domain.patients import mrn
from patient_portal.domain.patients.models import STATUS_ACTIVE, Patient
from tests.samples import one_page_pdf


def _png(width: int = 48, height: int = 32) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


PDF_BYTES = one_page_pdf("HbA1c 5.6")
PNG_BYTES = _png()  # a real (decodable) photo of a card: previews re-encode it
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


def add_patient(status: str = STATUS_ACTIVE, patient_id: uuid.UUID | None = None,
                given: str = "Test", family: str = "Patient") -> uuid.UUID:
    """A patient record with `status` (active, pending identity check, merged); returns its id."""
    pid = patient_id or uuid.uuid4()
    with unit_of_work() as session:
        session.add(Patient(id=pid, mrn=mrn.generate(), status=status, given_name=given, family_name=family,
                            date_of_birth=date(1980, 5, 17), sex="female"))
    return pid


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
    add_patient(patient_id=pid, given="Maria", family="Garcia")
    add_patient(patient_id=other, given="Otto", family="Other")
    with unit_of_work() as session:
        session.add(CareTeamMember(patient_id=pid, user_id=people.doctor.user_id))
        session.add(CareTeamMember(patient_id=other, user_id=people.other_doctor.user_id))
    return people


def chunks_of(data: bytes, size: int = 64 * 1024):
    for start in range(0, len(data), size):
        yield data[start:start + size]


def meta(category: str = "lab_result", title: str = "Blood panel", **extra) -> dict:
    return {"category": category, "title": title, "service_date": "2026-01-15", "source": "City Lab", **extra}
