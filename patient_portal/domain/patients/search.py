"""Patient search over blind indexes: name ("last, first" or "first last"), date of birth, MRN, phone,
email. One audit event per search, naming the patients it returned."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, select

from patient_portal.core import audit
from patient_portal.core.access import Action, Actor, Role, reach_filter
from patient_portal.domain.patients import dto, indexes, mrn
from patient_portal.domain.patients.common import guard
from patient_portal.domain.patients.models import STATUS_MERGED, Patient, PatientPhoneKey
from patient_portal.domain.patients.validation import normalize_email, normalize_phone, parse_date

PAGE_SIZE = 25
TOO_MANY = 100  # more matches than this: ask for a narrower search
COUNT_CAP = 1000
_PHONEISH = re.compile(r"^\+?[\d\s().-]{7,}$")


@dataclass
class Criteria:
    """Index equality tests a search runs (all must hold); `keys` names them for the audit."""

    clauses: list[Any] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    phone_digest: str | None = None  # joined through patient_phone_key (a patient has several phones)


def _full_name_digests(text: str) -> list[str]:
    """Digests of every way to split the words into given + family name, in either order."""
    words = indexes.name_key(text).split()
    out = []
    for i in range(1, len(words)):
        first, last = " ".join(words[:i]), " ".join(words[i:])
        out += [indexes.full_name_digest(first, last), indexes.full_name_digest(last, first)]
    return list(dict.fromkeys(d for d in out if d))


def parse_query(query: str, dob: str = "") -> Criteria:
    """Turn what the user typed into index tests; ValueError carries a message for the user."""
    text = (query or "").strip()
    crit = Criteria()
    birth = None
    if (dob or "").strip():
        birth = parse_date(dob)
        if birth is None:
            raise ValueError("Enter the date of birth as YYYY-MM-DD.")
    if not text:
        if birth:
            crit.clauses.append(Patient.bidx_dob == indexes.dob_digest(birth))
            crit.keys.append("date_of_birth")
        return crit
    if mrn.looks_like_mrn(text):
        canonical = mrn.parse(text)
        if canonical is None:
            raise ValueError("That MRN is not valid (its check digit is wrong); check the number.")
        crit.clauses.append(Patient.mrn == canonical)
        crit.keys.append("mrn")
    elif "@" in text:
        if normalize_email(text) is None:
            raise ValueError("That email address is not valid.")
        crit.clauses.append(Patient.bidx_email == indexes.email_digest(text))
        crit.keys.append("email")
    elif parse_date(text) is not None:
        birth = birth or parse_date(text)
    elif _PHONEISH.match(text) and sum(ch.isdigit() for ch in text) >= 7:
        e164 = normalize_phone(text)
        if e164 is None:
            raise ValueError("That phone number is not valid; include the area code.")
        crit.phone_digest = indexes.e164_digest(e164)
        crit.keys.append("phone")
    elif "," in text:
        family, _, given = text.partition(",")
        if not given.strip():
            return _family(crit, family, birth)
        crit.clauses.append(Patient.bidx_full_name == indexes.full_name_digest(given, family))
        crit.keys.append("name")
    elif len(indexes.name_key(text).split()) > 1:
        # "first last", "last first", or a family name of several words ("de la Cruz", "Marsh-Reid")
        crit.clauses.append(or_(Patient.bidx_full_name.in_(_full_name_digests(text)),
                                Patient.bidx_family == indexes.family_digest(text)))
        crit.keys.append("name")
    else:
        return _family(crit, text, birth)
    if birth:
        crit.clauses.append(Patient.bidx_dob == indexes.dob_digest(birth))
        crit.keys.append("date_of_birth")
    return crit


def _family(crit: Criteria, family: str, birth) -> Criteria:
    if birth:
        crit.clauses.append(Patient.bidx_family_dob == indexes.family_dob_digest(family, birth))
        crit.keys += ["family_name", "date_of_birth"]
    else:
        crit.clauses.append(Patient.bidx_family == indexes.family_digest(family))
        crit.keys.append("family_name")
    return crit


def run_query(session: Session, crit: Criteria, *, page: int = 1, actor: Actor | None = None,
              count: bool = True) -> tuple[list[Patient], int]:
    """The page of patients matching `crit` (ordered by MRN) and the capped total; with `actor`,
    only the patients the policy's reach_filter lets them reach."""
    stmt = select(Patient).where(*crit.clauses, Patient.status != STATUS_MERGED)
    if actor is not None:
        stmt = stmt.where(reach_filter(actor, Patient.id))
    if crit.phone_digest:  # digests are unique per patient, so the join adds no duplicate rows
        stmt = stmt.join(PatientPhoneKey, PatientPhoneKey.patient_id == Patient.id).where(
            PatientPhoneKey.digest == crit.phone_digest)
    rows = session.exec(stmt.order_by(Patient.mrn).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    total = len(rows) + (page - 1) * PAGE_SIZE
    if count and (len(rows) == PAGE_SIZE or page > 1):
        capped = stmt.with_only_columns(Patient.id).limit(COUNT_CAP + 1).subquery()
        total = int(session.exec(select(func.count()).select_from(capped)).one())
    return list(rows), total


def _result(state: str, message: str = "", rows=(), total: int = 0, page: int = 1) -> dict[str, Any]:
    pages = max(1, -(-min(total, COUNT_CAP) // PAGE_SIZE))
    return {"state": state, "message": message, "rows": list(rows), "total": total, "page": page,
            "pages": pages, "too_many": total > TOO_MANY}


def search_patients(session: Session, actor: Actor, query: str, *, dob: str = "", page: int = 1) -> dict[str, Any]:
    """Search (staff, admin: everyone; doctors: their care-team patients). Returns a result dict with
    ``state`` = empty | invalid | none | results, rows (summaries), total, page, pages, too_many."""
    guard(session, actor, Action.PATIENT_SEARCH)
    try:
        page = max(1, int(page))
        crit = parse_query(query, dob)
    except (TypeError, ValueError) as exc:
        return _result("invalid", str(exc) if isinstance(exc, ValueError) and str(exc)[:1].isupper()
                       else "Enter a valid search.")
    if not crit.clauses and not crit.phone_digest:
        return _result("empty", "Search by name, date of birth, MRN, phone or email.")
    care_team = actor.role == Role.DOCTOR
    patients, total = run_query(session, crit, page=page, actor=actor)
    audit.record(session, actor, str(Action.PATIENT_SEARCH), object_type="patient",
                 detail={"count": len(patients), "total": total, "page": page, "keys": crit.keys,
                         "patient_ids": [str(p.id) for p in patients]})
    if not patients:
        hint = " Only patients on your care team are shown." if care_team else ""
        return _result("none", "No patients match. Check the spelling, or try the date of birth or MRN." + hint,
                       page=page)
    result = _result("results", "", [dto.summary(p) for p in patients], total, page)
    if result["too_many"]:
        result["message"] = (f"More than {TOO_MANY} patients match. Add a first name or a date of birth to "
                             "narrow the search.")
    return result
