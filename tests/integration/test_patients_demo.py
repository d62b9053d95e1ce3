"""Demo patients exist once, however often the seed runs."""

from __future__ import annotations

from sqlmodel import select

from patient_portal.core.db import unit_of_work
from patient_portal.domain.patients.demo import ensure_demo_patients
from patient_portal.domain.patients.models import Patient


def test_demo_patients_are_idempotent_and_maria_garcia_comes_first(db):
    first = ensure_demo_patients()
    assert ensure_demo_patients() == first
    with unit_of_work() as s:
        maria = s.get(Patient, first[0])
        assert (maria.given_name, maria.family_name, maria.date_of_birth.isoformat()) == ("Maria", "Garcia", "1984-03-12")
        assert s.get(Patient, first[1]).family_name == "Okafor"
        assert len(s.exec(select(Patient)).all()) == len(first)
