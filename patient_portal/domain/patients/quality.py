"""Data quality (issue 17): likely duplicate patients and records missing what the clinic needs,
over the whole database without decrypting everyone.

Duplicates are found in SQL on the blind indexes (same name and date of birth, same email, a phone
number shared by two records); only the few records listed are decrypted, to show their names. Each
listed record's read is audited (purpose operations). Missing data is counted in SQL on columns that
are NULL when empty (ciphertext or not) and on the records' links (emergency contacts, insurance).
Admins only; a pair links to the merge page.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import and_, exists, func
from sqlmodel import Session, select

from patient_portal.core import audit
from patient_portal.core.access import Action, Actor, require
from patient_portal.core.db import utcnow
from patient_portal.domain.emergency.models import EmergencyContact
from patient_portal.domain.insurance.models import InsurancePolicy
from patient_portal.domain.patients.dto import display_name
from patient_portal.domain.patients.models import STATUS_ACTIVE, STATUS_PENDING, Patient, PatientPhoneKey

READ = "patient.quality.read"
#: the most duplicate pairs, and records per missing-data check, one report lists
LIST_AT_MOST = 25
#: a self-registration waiting this long for its identity check is listed
PENDING_TOO_LONG = timedelta(days=14)


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    mrn: str
    born: str


@dataclass(frozen=True)
class DuplicatePair:
    keep: Person  # the older record: the usual one to keep
    duplicate: Person
    reason: str


@dataclass(frozen=True)
class Gap:
    key: str
    label: str
    count: int
    people: list[Person] = field(default_factory=list)


@dataclass(frozen=True)
class QualityReport:
    duplicates: list[DuplicatePair]
    gaps: list[Gap]


def _pairs_by(session: Session, column, reason: str) -> list[tuple[uuid.UUID, uuid.UUID, str]]:
    """Pairs of active records sharing `column`'s blind index (oldest first in each pair)."""
    other = Patient.__table__.alias("other")
    rows = session.exec(select(Patient.id, other.c.id).join(
        other, and_(getattr(other.c, column.key) == column, other.c.id != Patient.id,
                    other.c.created_at > Patient.created_at, other.c.status == STATUS_ACTIVE))
        .where(Patient.status == STATUS_ACTIVE, column.isnot(None)).limit(LIST_AT_MOST)).all()
    return [(a, b, reason) for a, b in rows]


def _phone_pairs(session: Session) -> list[tuple[uuid.UUID, uuid.UUID, str]]:
    one, two = PatientPhoneKey.__table__.alias("one"), PatientPhoneKey.__table__.alias("two")
    a, b = Patient.__table__.alias("a"), Patient.__table__.alias("b")
    rows = session.exec(select(one.c.patient_id, two.c.patient_id).distinct()
                        .join(two, and_(two.c.digest == one.c.digest, two.c.patient_id != one.c.patient_id))
                        .join(a, a.c.id == one.c.patient_id).join(b, b.c.id == two.c.patient_id)
                        .where(a.c.status == STATUS_ACTIVE, b.c.status == STATUS_ACTIVE,
                               a.c.created_at < b.c.created_at).limit(LIST_AT_MOST)).all()
    return [(x, y, "the same phone number") for x, y in rows]


def _gap_queries(now) -> list[tuple[str, str, object]]:
    has_contact = exists().where(EmergencyContact.patient_id == Patient.id)
    has_policy = exists().where(InsurancePolicy.patient_id == Patient.id)
    active = Patient.status == STATUS_ACTIVE
    return [
        ("no_phone", "No phone number", and_(active, Patient.phones.is_(None))),
        ("no_email", "No email address", and_(active, Patient.email.is_(None))),
        ("no_address", "No address", and_(active, Patient.address.is_(None))),
        ("no_emergency_contact", "No emergency contact", and_(active, ~has_contact)),
        ("no_insurance", "No insurance on file", and_(active, ~has_policy)),
        ("not_findable", "Missing search keys (cannot be found by name and birth date)",
         and_(active, Patient.bidx_name_dob.is_(None))),
        ("identity_waiting", "Self-registration waiting for its identity check over 14 days",
         and_(Patient.status == STATUS_PENDING, Patient.created_at < now - PENDING_TOO_LONG)),
    ]


def _people(session: Session, ids: set[uuid.UUID]) -> dict[uuid.UUID, Person]:
    if not ids:
        return {}
    rows = session.exec(select(Patient).where(Patient.id.in_(ids))).all()  # type: ignore[attr-defined]
    return {p.id: Person(str(p.id), display_name(p), p.mrn, p.date_of_birth.isoformat() if p.date_of_birth else "")
            for p in rows}


def report(session: Session, actor: Actor | None) -> QualityReport:
    """Likely duplicates and missing data across all patients (admins; audited per listed record)."""
    require(session, actor, Action.REPORTS, audit_as=READ, object_type="data_quality")
    now = utcnow()
    pairs, seen = [], set()
    for a, b, why in (_pairs_by(session, Patient.bidx_name_dob, "the same name and date of birth")
                      + _pairs_by(session, Patient.bidx_email, "the same email address") + _phone_pairs(session)):
        if (a, b) not in seen:
            seen.add((a, b))
            pairs.append((a, b, why))
    gaps = []
    for key, label, condition in _gap_queries(now):
        count = int(session.exec(select(func.count()).select_from(Patient).where(condition)).one())
        ids = session.exec(select(Patient.id).where(condition).order_by(Patient.created_at)
                           .limit(LIST_AT_MOST)).all() if count else []
        gaps.append((key, label, count, list(ids)))
    people = _people(session, {x for a, b, _ in pairs[:LIST_AT_MOST] for x in (a, b)}
                     | {i for *_rest, ids in gaps for i in ids})
    audit.record_each(session, actor, READ, [{"patient_id": pid, "object_type": "patient", "object_id": pid,
                                              "purpose": "operations"} for pid in people])
    return QualityReport(
        duplicates=[DuplicatePair(people[a], people[b], why) for a, b, why in pairs[:LIST_AT_MOST]
                    if a in people and b in people],
        gaps=[Gap(key, label, count, [people[i] for i in ids if i in people]) for key, label, count, ids in gaps])
