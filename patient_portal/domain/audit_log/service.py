"""Reading the audit trail.

* ``own_access_log`` — a patient's "Who has looked at my record": what other people did with their
  record (including searches that found it), newest first, in plain words, without IPs or ids.
* ``audit_events`` — the administrators' filterable audit log.
* ``access_records`` — either of the two as data with machine times (the FHIR API's AuditEvent).
* ``chain_status`` — whether the hash chain is intact (``core.audit.verify_chain``).

Every function authorizes first; a refusal is audited on its own and raised as ``AccessDenied``.
Reading is audited too (``audit.own.read`` / ``audit.read`` / ``audit.verify``) with filter names only.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Text, and_, cast, func, or_
from sqlmodel import Session, select

from patient_portal.core import audit
from patient_portal.core.access import Action, Actor, Role, require
from patient_portal.core.audit import AuditEvent
from patient_portal.core.clock import clinic_zone, exact_time, plain_time
from patient_portal.domain.audit_log.dto import (
    OUTCOMES,
    ROLE_WORDS,
    AccessEntry,
    AccessPage,
    AccessRecord,
    AuditEntry,
    AuditFilters,
    AuditPage,
    ChainStatus,
    FilterInvalid,
    RecordPage,
    pages_for,
    phrase,
)
from patient_portal.domain.identity.models import User
from patient_portal.domain.patients import mrn as mrn_format
from patient_portal.domain.patients.models import Patient

OWN_PAGE_SIZE = 25
ADMIN_PAGE_SIZE = 50
SEARCH_ACTION = str(Action.PATIENT_SEARCH)
OWN_READ = str(Action.ACCESS_LOG_OWN)


def guard(session: Session, actor: Actor | None, action: Action) -> Actor:
    """The policy's ``require`` for the audit log (refusals are audited); returns the actor."""
    require(session, actor, action, object_type="audit_event")
    assert actor is not None
    return actor


def _page(page: Any) -> int:
    try:
        return max(1, int(page))
    except (TypeError, ValueError):
        return 1


def _about_patient(patient_id: uuid.UUID):
    """Events about this patient: their patient_id, or a search whose results listed them."""
    listed = and_(AuditEvent.action == SEARCH_ACTION,
                  cast(AuditEvent.detail, Text).like(f'%"{patient_id}"%'))
    return or_(AuditEvent.patient_id == patient_id, listed)


def _users(session: Session, ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, User]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {u.id: u for u in session.exec(select(User).where(User.id.in_(wanted))).all()}


def _count_and_rows(session: Session, conditions: list, page: int, size: int) -> tuple[int, list[AuditEvent]]:
    total = int(session.exec(select(func.count()).select_from(AuditEvent).where(*conditions)).one())
    rows = session.exec(select(AuditEvent).where(*conditions).order_by(AuditEvent.seq.desc())
                        .offset((page - 1) * size).limit(size)).all()
    return total, list(rows)


# ---------------------------------------------------------------- the patient's own view


def _who(event: AuditEvent, users: dict[uuid.UUID, User]) -> str:
    role = event.role or ""
    if role == Role.PATIENT:
        return "Another portal user"  # never another patient's name
    user = users.get(event.actor_id) if event.actor_id else None
    name = (user.display_name if user else "") or "A former clinic user"
    return f"{name} ({ROLE_WORDS.get(role, 'clinic user')})"


def own_access_log(session: Session, actor: Actor | None, *, page: Any = 1) -> AccessPage:
    """What other people did with the signed-in patient's record, newest first, 25 a page."""
    actor = guard(session, actor, Action.ACCESS_LOG_OWN)
    page = _page(page)
    if actor.patient_id is None:
        audit.record(session, actor, OWN_READ, object_type="audit_event", detail={"page": page, "count": 0})
        return AccessPage([], 0, 1, 1)
    conditions = [_about_patient(actor.patient_id), AuditEvent.actor_id.is_not(None),
                  AuditEvent.actor_id != actor.user_id, AuditEvent.action != OWN_READ]
    total, events = _count_and_rows(session, conditions, page, OWN_PAGE_SIZE)
    users = _users(session, (e.actor_id for e in events))
    rows = [AccessEntry(when=plain_time(e.at), who=_who(e, users), what=phrase(e.action, e.detail, e.outcome, e.purpose),
                        refused=e.outcome != "success") for e in events]
    audit.record(session, actor, OWN_READ, patient_id=actor.patient_id, object_type="audit_event",
                 detail={"page": page, "count": len(rows)})
    return AccessPage(rows, total, page, pages_for(total, OWN_PAGE_SIZE))


# ---------------------------------------------------------------- the administrators' log


def _as_uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def _day(text: str, label: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise FilterInvalid(f"Enter the {label} date as YYYY-MM-DD.", f"date_{label}") from None


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=clinic_zone()).astimezone(UTC)


def _actor_condition(session: Session, text: str):
    user_id = _as_uuid(text)
    if user_id is None:
        user_id = session.exec(select(User.id).where(User.email == text.lower())).first()
    return AuditEvent.actor_id == user_id if user_id else AuditEvent.id.is_(None)


def _patient_id(session: Session, text: str) -> uuid.UUID | None:
    found = _as_uuid(text)
    if found is not None:
        return found
    canonical = mrn_format.parse(text)
    if canonical is None:
        raise FilterInvalid("Enter the patient's MRN (e.g. PP-12345674) or record id.", "patient")
    return session.exec(select(Patient.id).where(Patient.mrn == canonical)).first()


def filter_conditions(session: Session, filters: AuditFilters) -> tuple[list, uuid.UUID | None]:
    """SQL conditions for the filters, and the patient they name (if any)."""
    f = {k: str(v or "").strip() for k, v in vars(filters).items()}
    conditions: list = []
    patient_id = None
    if f["action"]:
        prefix = f["action"][:64].replace("\\", "").replace("%", "").replace("_", "\\_")
        conditions.append(AuditEvent.action.like(prefix + "%", escape="\\"))
    if f["actor"]:
        conditions.append(_actor_condition(session, f["actor"][:320]))
    if f["patient"]:
        patient_id = _patient_id(session, f["patient"][:64])
        conditions.append(_about_patient(patient_id) if patient_id else AuditEvent.id.is_(None))
    if f["outcome"]:
        if f["outcome"] not in OUTCOMES:
            raise FilterInvalid("Choose an outcome: " + ", ".join(OUTCOMES) + ".", "outcome")
        conditions.append(AuditEvent.outcome == f["outcome"])
    start = _day(f["date_from"], "from") if f["date_from"] else None
    end = _day(f["date_to"], "to") if f["date_to"] else None
    if start and end and end < start:
        raise FilterInvalid("The 'to' date is before the 'from' date.", "date_to")
    if start:
        conditions.append(AuditEvent.at >= _day_start(start))
    if end:
        conditions.append(AuditEvent.at < _day_start(end + timedelta(days=1)))
    return conditions, patient_id


def _object_text(event: AuditEvent) -> str:
    if event.action == SEARCH_ACTION and isinstance(event.detail, dict) and "patient_ids" in event.detail:
        return f"search: {len(event.detail.get('patient_ids') or [])} patients"
    if event.object_type and event.object_id:
        return f"{event.object_type} {event.object_id}"
    return event.object_type or ""


def entries(session: Session, events: list[AuditEvent]) -> list[AuditEntry]:
    """Events as administrators read them: names, emails and MRNs instead of ids."""
    users = _users(session, (e.actor_id for e in events))
    pids = {e.patient_id for e in events if e.patient_id}
    mrns = dict(session.exec(select(Patient.id, Patient.mrn).where(Patient.id.in_(pids))).all()) if pids else {}
    rows = []
    for e in events:
        user = users.get(e.actor_id) if e.actor_id else None
        rows.append(AuditEntry(
            seq=e.seq, at=exact_time(e.at), actor=(user.display_name if user else "") or ("system" if not e.actor_id
                                                                                          else "unknown account"),
            actor_email=user.email if user else "", role=e.role or "", action=e.action,
            patient_mrn=mrns.get(e.patient_id, "") if e.patient_id else "", object=_object_text(e),
            outcome=e.outcome, ip=e.ip or ""))
    return rows


def audit_events(session: Session, actor: Actor | None, *, page: Any = 1, filters: AuditFilters | None = None,
                 page_size: int = ADMIN_PAGE_SIZE) -> AuditPage:
    """The audit log for administrators, newest first, filtered, at most 50 a page."""
    actor = guard(session, actor, Action.AUDIT_READ)
    filters = filters or AuditFilters()
    page = _page(page)
    size = max(1, min(ADMIN_PAGE_SIZE, int(page_size)))
    conditions, patient_id = filter_conditions(session, filters)
    total, events = _count_and_rows(session, conditions, page, size)
    rows = entries(session, events)
    audit.record(session, actor, str(Action.AUDIT_READ), patient_id=patient_id, object_type="audit_event",
                 detail={"filters": filters.used(), "page": page, "count": len(rows)})
    return AuditPage(rows, total, page, pages_for(total, size))


def chain_status(session: Session, actor: Actor | None) -> ChainStatus:
    """Walk the whole hash chain (slow on a big trail: run it off the event loop, on request)."""
    actor = guard(session, actor, Action.AUDIT_READ)
    report = audit.verify_chain(session)
    session.expunge_all()
    audit.record(session, actor, "audit.verify", object_type="audit_event",
                 detail={"ok": report.ok, "checked": report.checked})
    if report.ok:
        return ChainStatus(True, f"Audit chain intact: {report.checked} events", report.checked)
    return ChainStatus(False, f"Audit chain problem: {report.problem}", report.checked)


# ---------------------------------------------------------------- the log as data (FHIR AuditEvent)


def access_records(session: Session, actor: Actor | None, *, patient_id: Any = None, page: Any = 1,
                   page_size: int = ADMIN_PAGE_SIZE, event_id: Any = None) -> RecordPage:
    """The audit trail as records with machine times and codes (the FHIR API's AuditEvent), newest
    first. A patient gets exactly their own access log (``ACCESS_LOG_OWN``: what other people did with
    their record, the same rows and words as the screen, no IPs; another patient's id answers nothing);
    everyone else needs ``AUDIT_READ`` (administrators) and may narrow to one patient. `event_id`:
    only that event (a read by id: found only where the search would find it). Audited like the
    screens (``audit.own.read`` / ``audit.read``)."""
    page, size = _page(page), max(1, min(ADMIN_PAGE_SIZE, int(page_size)))
    wanted = _as_uuid(str(patient_id)) if patient_id not in (None, "") else None
    only = [] if event_id is None else [AuditEvent.id == (_as_uuid(str(event_id)[:64]) or uuid.UUID(int=0))]
    if actor is not None and actor.role == Role.PATIENT:
        actor = guard(session, actor, Action.ACCESS_LOG_OWN)
        if actor.patient_id is None or (patient_id not in (None, "") and wanted != actor.patient_id):
            audit.record(session, actor, OWN_READ, object_type="audit_event",
                         detail={"page": page, "count": 0, "fhir": True})
            return RecordPage([], 0)
        conditions = [_about_patient(actor.patient_id), AuditEvent.actor_id.is_not(None),
                      AuditEvent.actor_id != actor.user_id, AuditEvent.action != OWN_READ, *only]
        total, events = _count_and_rows(session, conditions, page, size)
        users = _users(session, (e.actor_id for e in events))
        rows = [AccessRecord(id=e.id, at=e.at, action=e.action, outcome=e.outcome, purpose=e.purpose,
                             who=_who(e, users), role=e.role or "", patient_id=actor.patient_id,
                             what=phrase(e.action, e.detail, e.outcome, e.purpose), ip="") for e in events]
        audit.record(session, actor, OWN_READ, patient_id=actor.patient_id, object_type="audit_event",
                     detail={"page": page, "count": len(rows), "fhir": True})
        return RecordPage(rows, total)
    actor = guard(session, actor, Action.AUDIT_READ)
    conditions = [*only] if patient_id in (None, "") else [_about_patient(wanted) if wanted else AuditEvent.id.is_(None),
                                                            *only]
    total, events = _count_and_rows(session, conditions, page, size)
    users = _users(session, (e.actor_id for e in events))
    rows = []
    for e in events:
        user = users.get(e.actor_id) if e.actor_id else None
        who = (user.display_name if user else "") or ("system" if not e.actor_id else "unknown account")
        rows.append(AccessRecord(id=e.id, at=e.at, action=e.action, outcome=e.outcome, purpose=e.purpose, who=who,
                                 role=e.role or "", patient_id=e.patient_id, what=_object_text(e), ip=e.ip or "",
                                 actor_id=e.actor_id))
    audit.record(session, actor, str(Action.AUDIT_READ), patient_id=wanted, object_type="audit_event",
                 detail={"filters": ["patient"] if wanted else [], "page": page, "count": len(rows), "fhir": True})
    return RecordPage(rows, total)
