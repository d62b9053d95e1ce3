"""Facts about the areas' rows that the FHIR API needs and no area service answers.

* ``patient_of(session, rtype, rid)`` — whose record a resource id belongs to (Observation: a
  vital sign's set or a lab result), so a read by id can
  then ask the area service (which decides and audits) for that patient's compartment. No policy
  here on purpose: the answer is only ever used to make that policed read, never shown.
* ``last_updated(session, rtype, ids)`` — ``meta.lastUpdated`` of resources already read through
  their services (the areas' DTOs do not carry ``updated_at``): ``_lastUpdated`` search, ``_since``
  on ``$everything`` and bulk export all filter on it.
* ``practitioners(session, actor)`` — the clinic's doctors (a name and an id: no PHI), for whoever
  may look for free times (``Action.SLOTS_SEARCH``: every signed-in role).

One table per FHIR type, named once in ``TABLES``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from patient_portal.core.access import Action, Actor, Role, require
from patient_portal.core.access_facts import ConsentRecord
from patient_portal.core.crypto import plain_rows
from patient_portal.domain.appointments.models import Appointment
from patient_portal.domain.billing.models import Claim as BillingClaim
from patient_portal.domain.careplans.models import CarePlan, CarePlanGoal
from patient_portal.domain.documents.models import Document
from patient_portal.domain.emergency.models import EmergencyContact
from patient_portal.domain.history.models import Allergy, Condition, Immunization, Medication
from patient_portal.domain.identity.models import User
from patient_portal.domain.insurance.models import InsurancePolicy
from patient_portal.domain.observations.models import Observation
from patient_portal.domain.patients.models import Patient
from patient_portal.domain.prescriptions.models import Prescription
from patient_portal.domain.results.models import LabResult
from patient_portal.domain.visits.models import VisitNote

#: FHIR type -> the table its resources come from (Observation: one vital-sign set, id "<set>.<key>",
#: or one lab result, id its row's).
TABLES: dict[str, Any] = {
    "Patient": Patient, "Condition": Condition, "AllergyIntolerance": Allergy, "MedicationStatement": Medication,
    "Immunization": Immunization, "RelatedPerson": EmergencyContact, "Coverage": InsurancePolicy,
    "MedicationRequest": Prescription, "Encounter": VisitNote, "Appointment": Appointment,
    "DocumentReference": Document, "CarePlan": CarePlan, "Goal": CarePlanGoal, "Consent": ConsentRecord,
    "Practitioner": User, "Claim": BillingClaim, "ClaimResponse": BillingClaim,
    "ExplanationOfBenefit": BillingClaim,
}
#: Types read by id through ``patient_of`` (the history kinds have their own: ``history.patient_of``).
BY_ID = ("Encounter", "Appointment", "DocumentReference", "CarePlan", "Goal", "Consent", "Claim",
         "ClaimResponse", "ExplanationOfBenefit")


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)[:64])
    except ValueError:
        return None


def patient_of(session: Session, rtype: str, rid: str) -> uuid.UUID | None:
    """The patient whose record holds resource `rid` of `rtype` (one of ``BY_ID``), None if none."""
    if rtype == "Observation":
        return _observation_patient(session, rid)
    table, found = TABLES.get(rtype), _uuid(rid)
    if rtype not in BY_ID or found is None:
        return None
    return session.exec(select(table.patient_id).where(table.id == found)).first()


def _observation_patient(session: Session, rid: str) -> uuid.UUID | None:
    """A vital sign's id is ``<set>.<key>`` (the set's rows); a lab result's is its own row's id."""
    if "." in rid:
        set_id = _uuid(rid.split(".", 1)[0])
        return session.exec(select(Observation.patient_id).where(Observation.set_id == set_id)).first() \
            if set_id is not None else None
    found = _uuid(rid)
    return session.exec(select(LabResult.patient_id).where(LabResult.id == found)).first() \
        if found is not None else None


def last_updated(session: Session, rtype: str, ids: list[str]) -> dict[str, datetime]:
    """{resource id: when its row last changed (UTC)} for the ids that name a row; one statement."""
    if not ids:
        return {}
    if rtype == "Observation":  # not in TABLES: two tables (a vital's set, a lab result)
        sets = {i: _uuid(i.split(".", 1)[0]) for i in ids if "." in i}
        wanted = {s for s in sets.values() if s is not None}
        rows = dict(session.exec(select(Observation.set_id, func.max(Observation.updated_at))
                                 .where(col(Observation.set_id).in_(wanted)).group_by(Observation.set_id)).all()
                    ) if wanted else {}
        out = {i: _utc(rows[s]) for i, s in sets.items() if s in rows}
        labs = {i: _uuid(i) for i in ids if "." not in i}
        wanted = {k for k in labs.values() if k is not None}
        if wanted:
            found = dict(session.exec(select(LabResult.id, LabResult.updated_at)
                                      .where(col(LabResult.id).in_(wanted))).all())
            out.update({i: _utc(found[k]) for i, k in labs.items() if k in found})
        return out
    table = TABLES.get(rtype)
    if table is None:
        return {}
    keyed = {i: _uuid(i) for i in ids}
    wanted = {k for k in keyed.values() if k is not None}
    if not wanted:
        return {}
    rows = dict(session.exec(select(table.id, table.updated_at).where(col(table.id).in_(wanted))).all())
    return {i: _utc(rows[k]) for i, k in keyed.items() if k in rows}


def utc(value: datetime) -> datetime:
    """`value` as an aware UTC instant (SQLite gives naive UTC)."""
    return _utc(value)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def practitioners(session: Session, actor: Actor | None) -> list[tuple[uuid.UUID, str, datetime]]:
    """(id, name, updated) of every active doctor, by name; the refusal is audited."""
    require(session, actor, Action.SLOTS_SEARCH, audit_as="fhir.practitioners")
    rows = plain_rows(session, User, ("display_name", "updated_at"),
                      lambda c: c.role == Role.DOCTOR.value, lambda c: c.active == True)  # noqa: E712
    return sorted(((r["id"], r["display_name"] or "", _utc(r["updated_at"])) for r in rows),
                  key=lambda r: (r[1].casefold(), str(r[0])))
