"""What every area's demo step is handed: who works at the demo clinic and which records it holds.

`patient_portal.seed` creates the accounts, then runs each area's step in turn (patients, documents,
and later appointments, claims …) with one ``DemoClinic``. A step acts as the clinic's people through
the area's real services, so encryption, blind indexes, policy checks and audit happen as in real use,
and it must be idempotent: run again, it finds its data and writes nothing.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING

from patient_portal.core.access import Actor

if TYPE_CHECKING:
    from patient_portal.domain.patients.demo_people import DemoPerson


def seeded(name: str) -> random.Random:
    """A pseudo-random stream that is the same on every run for the same name (demo data, not secrets)."""
    return random.Random(name)  # noqa: S311 - reproducible demo data, never a secret


@dataclass(frozen=True)
class DemoPatient:
    """One demo record: its id and the made-up person it was registered from."""

    id: uuid.UUID
    person: DemoPerson


@dataclass(frozen=True)
class DemoClinic:
    """The demo clinic's people as actors, and its records (the demo patient account's record first)."""

    today: date
    admin: Actor
    doctors: tuple[Actor, ...]  # the demo doctor (family medicine) first, then pediatrics, internal medicine
    staff: tuple[Actor, ...]  # the demo front-desk account first
    patient: Actor | None = None  # the demo patient account, linked to the first record
    patients: tuple[DemoPatient, ...] = field(default=())

    def with_patients(self, patients: list[DemoPatient], patient: Actor | None) -> DemoClinic:
        return replace(self, patients=tuple(patients), patient=patient)

    def doctor(self, index: int) -> Actor:
        return self.doctors[index % len(self.doctors)]

    def front_desk(self, index: int) -> Actor:
        """The staff member who deals with record `index` (they take turns)."""
        return self.staff[index % len(self.staff)]
