"""The small clinics the clinical-area service tests run in: who is on whose care team.

``two_patients`` — Elena Marsh (``patients_support.DRAFT``, or the draft given) with the doctors of
`team` on her care team; Omar Haddad with `outsider` on his (so the outsider reaches a patient, just
not Elena); both patients' own actors, the front desk and an admin. ``one_patient`` — Elena, her
doctor, a doctor on no team, and Elena herself. ``another_patient`` — a third record (Owen Park).
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from patient_portal.core.access import Actor, Role
from tests.integration.patients_support import ADMIN, DOCTOR, STAFF, actor, draft, put_on_care_team, register

PATIENT = Role.PATIENT
OMAR = {"given_name": "Omar", "family_name": "Haddad", "date_of_birth": "1985-02-11", "email": "omar@example.com",
        "phone_mobile": "+1 617 555 0199"}


def doctor(name: str = "Dr. Ada Author") -> Actor:
    """A doctor account (not on any care team yet) with a display name."""
    return replace(actor(DOCTOR), display_name=name)


def two_patients(team: dict[str, Actor], *, outsider: Actor | None = None,
                 elena: dict | None = None) -> dict[str, Any]:
    """{"elena", "omar", <team names>, "outsider", "patient", "omar_patient", "staff", "admin"}."""
    elena_id = register(elena).patient_id
    omar_id = register(draft(**OMAR)).patient_id
    outsider = outsider or doctor("Dr. Out Side")
    for who in team.values():
        put_on_care_team(who, elena_id)
    put_on_care_team(outsider, omar_id)
    return {"elena": elena_id, "omar": omar_id, **team, "outsider": outsider,
            "patient": actor(PATIENT, elena_id), "omar_patient": actor(PATIENT, omar_id),
            "staff": actor(STAFF), "admin": actor(ADMIN)}


def one_patient() -> tuple[uuid.UUID, Actor, Actor, Actor]:
    """(Elena's id, her doctor, a doctor not on her team, Elena)."""
    pid = register().patient_id
    mine, stranger = actor(DOCTOR), actor(DOCTOR)
    put_on_care_team(mine, pid)
    return pid, mine, stranger, actor(PATIENT, pid)


def another_patient() -> uuid.UUID:
    return register(draft(given_name="Owen", family_name="Park", date_of_birth="1990-01-02", sex="male",
                          email="owen.park@example.com", phone_mobile="(617) 555-0177")).patient_id


def desk_patient() -> uuid.UUID:
    """Elena registered at the front desk, with the small code tables (vital signs, CVX, the
    formulary) loaded as the chart pages read them; her record's id."""
    from patient_portal.domain.codes import service as codes

    codes.load_small()
    return register(by=actor(STAFF)).patient_id


def run_handler(state: Any, name: str, *args: Any) -> Any:
    """A state's synchronous handler called as the browser's event would (its plain function)."""
    return type(state).event_handlers[name].fn(state, *args)
