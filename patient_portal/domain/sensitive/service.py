"""Sensitive records: marking them, and the one rule every list and read applies to them.

* **The rule** lives in the policy point: ``core.access.decide`` with a ``Resource`` carrying the
  mark's category, the record's author and the clinicians it is assigned to. ``resource_for`` builds
  that resource for one record (one statement); ``withheld_ids`` (or, joined into a list's own
  statement, ``mark_columns`` and ``rows_shown``) tells a list which of its records to
  leave out for this viewer (one statement for the marks, none per record), and
  the list says how many it left out (``dto.withheld_text``) — so "something is withheld" shows, and
  nothing else about it.
* **Marking** (``mark`` / ``unmark``): the patient on their own record, or a care-team doctor who
  sees the record. A doctor who marks a record is assigned to it (they keep seeing it); the author
  always sees it. Events ``record.sensitivity.write`` name the kind of record and whether it is now
  sensitive — never the category (that alone says something about the patient's health).
* **The marking page** (``candidates``): the patient's conditions, clinical documents and visit notes
  as this person may see them, with their marks.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy import and_
from sqlmodel import Session, select

from patient_portal.core import audit
from patient_portal.core.access import Action, Actor, CareTeamMember, Decision, Resource, Role, require, shows
from patient_portal.core.crypto import decrypt_value
from patient_portal.core.db import utcnow
from patient_portal.domain.documents.models import ADMINISTRATIVE, Document, Status
from patient_portal.domain.history.models import Condition
from patient_portal.domain.patients.common import PatientNotFound, as_uuid, load
from patient_portal.domain.sensitive.dto import (
    CATEGORIES,
    CONDITION,
    DOCUMENT,
    VISIT_NOTE,
    RecordNotFound,
    SensitiveItem,
    SensitiveList,
    SensitivityInvalid,
)
from patient_portal.domain.sensitive.models import SensitiveRecord
from patient_portal.domain.visits.models import SIGNED, VisitNote

__all__ = ["candidates", "mark", "mark_columns", "own_candidates", "resource_for", "rows_shown", "unmark",
           "withheld_ids"]

WRITE = "record.sensitivity.write"
LIST = "record.sensitivity.list"
#: kind -> (its table, the column naming its author)
_TABLES: dict[str, tuple[Any, str]] = {CONDITION: (Condition, "recorded_by"), DOCUMENT: (Document, "uploaded_by"),
                                       VISIT_NOTE: (VisitNote, "author_id")}


def _resource(patient_id: uuid.UUID, mark: SensitiveRecord | None, author_id: uuid.UUID | None = None) -> Resource:
    if mark is None:
        return Resource(patient_id=patient_id, author_id=author_id)
    assigned = frozenset(uuid.UUID(str(u)) for u in mark.assigned or [])
    return Resource(patient_id=patient_id, sensitivity=mark.category, author_id=mark.author_id, assigned=assigned)


def marks(session: Session, patient_id: uuid.UUID, kinds: tuple[str, ...] = (CONDITION, DOCUMENT, VISIT_NOTE)
          ) -> dict[uuid.UUID, SensitiveRecord]:
    """The patient's marks of these kinds, by record id (one indexed statement; no policy)."""
    rows = session.exec(select(SensitiveRecord).where(SensitiveRecord.patient_id == patient_id,
                                                      SensitiveRecord.record_type.in_(kinds))).all()  # type: ignore[attr-defined]
    return {r.record_id: r for r in rows}


def resource_for(session: Session, patient_id: uuid.UUID, kind: str, record_id: uuid.UUID,
                 author_id: uuid.UUID | None = None) -> Resource:
    """The policy's view of one record: its patient, and its mark when it is sensitive."""
    mark = session.exec(select(SensitiveRecord).where(SensitiveRecord.record_type == kind,
                                                      SensitiveRecord.record_id == record_id)).first()
    return _resource(patient_id, mark if mark is not None and mark.patient_id == patient_id else None, author_id)


def withheld_ids(session: Session, actor: Actor, decision: Decision, patient_id: uuid.UUID,
                 kinds: tuple[str, ...] = (CONDITION, DOCUMENT, VISIT_NOTE)) -> set[uuid.UUID]:
    """The ids of the patient's sensitive records of these kinds this actor may not see: what a
    list leaves out. `decision`: the list's own (the policy's answer that let it read); one
    statement for the marks, none per record (``core.access.shows``). The caller audits its list."""
    found = marks(session, patient_id, kinds)
    return {rid for rid, mark in found.items() if not shows(session, actor, decision, _resource(patient_id, mark))}


def rows_shown(session: Session, actor: Actor, decision: Decision, row: Any) -> bool:
    """For a list whose statement joined each record's mark (columns ``sensitivity``,
    ``sensitive_author``, ``sensitive_assigned``): is this row shown to the actor?"""
    if not row.sensitivity:
        return True
    assigned = frozenset(uuid.UUID(str(u)) for u in row.sensitive_assigned or [])
    return shows(session, actor, decision, Resource(patient_id=decision.patient_id, sensitivity=row.sensitivity,
                                                    author_id=row.sensitive_author, assigned=assigned))


def mark_columns(kind: str, record_column: Any) -> tuple[Any, tuple[Any, ...]]:
    """(the outer-join condition, the labelled columns) that bring each row's mark into a list's
    own statement: ``select(..., *columns).outerjoin(SensitiveRecord, on)``."""
    on = and_(SensitiveRecord.record_id == record_column, SensitiveRecord.record_type == kind)
    return on, (SensitiveRecord.category.label("sensitivity"), SensitiveRecord.author_id.label("sensitive_author"),  # type: ignore[attr-defined]
                SensitiveRecord.assigned.label("sensitive_assigned"))  # type: ignore[attr-defined]


# ---------------------------------------------------------------- marking


def _record(session: Session, pid: uuid.UUID, kind: Any, record_id: Any) -> tuple[str, uuid.UUID, uuid.UUID | None]:
    """(kind, record id, its author) of a record of this patient that may be marked."""
    if kind not in _TABLES:
        raise SensitivityInvalid(errors={"kind": "Choose a condition, a document or a visit note."})
    try:
        rid = record_id if isinstance(record_id, uuid.UUID) else uuid.UUID(str(record_id))
    except ValueError:
        raise RecordNotFound() from None
    model, author_column = _TABLES[kind]
    row = session.get(model, rid)
    if row is None or row.patient_id != pid:
        raise RecordNotFound()
    if kind == DOCUMENT and (row.status != Status.ACTIVE or row.category in ADMINISTRATIVE):
        raise SensitivityInvalid(errors={"kind": "Only clinical documents can be marked sensitive."})
    return kind, rid, getattr(row, author_column)


def _authorize(session: Session, actor: Actor | None, patient_id: Any, kind: Any, record_id: Any
               ) -> tuple[Actor, uuid.UUID, str, uuid.UUID, uuid.UUID | None, SensitiveRecord | None]:
    pid = as_uuid(patient_id)
    require(session, actor, Action.SENSITIVE_MARK, Resource(patient_id=pid), audit_as=WRITE)
    assert actor is not None
    load(session, pid)
    kind, rid, author = _record(session, pid, kind, record_id)
    existing = session.exec(select(SensitiveRecord).where(SensitiveRecord.record_type == kind,
                                                          SensitiveRecord.record_id == rid)).first()
    # one who may not see the record (sensitive and not theirs) may not change its mark either
    require(session, actor, Action.SENSITIVE_MARK, _resource(pid, existing, author), audit_as=WRITE,
            object_type=kind, object_id=rid, message="This record is marked sensitive and is not shown to you.")
    return actor, pid, kind, rid, author, existing


def mark(session: Session, actor: Actor | None, *, patient_id: Any, kind: Any, record_id: Any, category: Any,
         assigned: Any = ()) -> SensitiveItem:
    """Mark a record sensitive in a category (or change its category). `assigned`: care-team
    doctors to assign it to besides its author (a doctor marking it is assigned)."""
    actor, pid, kind, rid, author, existing = _authorize(session, actor, patient_id, kind, record_id)
    if category not in CATEGORIES:
        raise SensitivityInvalid(errors={"category": "Choose what kind of sensitive record this is."})
    team = {str(d) for d in session.exec(select(CareTeamMember.user_id).where(CareTeamMember.patient_id == pid)).all()}
    wanted = {str(a) for a in (assigned or ()) if isinstance(a, str | uuid.UUID)}
    if wanted - team:
        raise SensitivityInvalid(errors={"assigned": "Choose doctors on the patient's care team."})
    if actor.role == Role.DOCTOR:
        wanted.add(str(actor.user_id))
    row = existing or SensitiveRecord(patient_id=pid, record_type=kind, record_id=rid, category=str(category),
                                      author_id=author, marked_by=actor.user_id)
    row.category, row.marked_by, row.updated_at = str(category), actor.user_id, utcnow()
    row.assigned = sorted(wanted | {str(a) for a in (existing.assigned if existing else [])})
    session.add(row)
    session.flush()
    audit.record(session, actor, WRITE, patient_id=pid, object_type=kind, object_id=rid, detail={"sensitive": True})
    return SensitiveItem(kind=kind, record_id=rid, title="", when=None, category=row.category)


def unmark(session: Session, actor: Actor | None, *, patient_id: Any, kind: Any, record_id: Any) -> None:
    """Make a sensitive record an ordinary one again (the patient, or a doctor who sees it)."""
    actor, pid, kind, rid, _author, existing = _authorize(session, actor, patient_id, kind, record_id)
    if existing is not None:
        session.delete(existing)
        session.flush()
    audit.record(session, actor, WRITE, patient_id=pid, object_type=kind, object_id=rid, detail={"sensitive": False})


# ---------------------------------------------------------------- the marking page


def _when(day: Any, created: datetime) -> datetime:
    return datetime.combine(day, time(12, tzinfo=UTC)) if day else created


def candidates(session: Session, actor: Actor | None, *, patient_id: Any) -> SensitiveList:
    """The patient's conditions, clinical documents and visit notes this person may see, with their
    marks (a patient: signed notes only), newest first; and how many sensitive ones are withheld."""
    pid = as_uuid(patient_id)
    decision = require(session, actor, Action.SENSITIVE_MARK, Resource(patient_id=pid), audit_as=LIST)
    assert actor is not None
    load(session, pid)
    found = marks(session, pid)
    hidden = {rid for rid, mark in found.items() if not shows(session, actor, decision, _resource(pid, mark))}
    items: list[SensitiveItem] = []

    def add(kind: str, rid: uuid.UUID, title: str, when: datetime | None) -> None:
        if rid not in hidden:
            mark_ = found.get(rid)
            items.append(SensitiveItem(kind, rid, title, when, mark_.category if mark_ else ""))

    t = Condition.__tablename__
    for rid, desc, onset, created in session.exec(select(Condition.id, Condition.description, Condition.onset,
                                                         Condition.created_at).where(Condition.patient_id == pid)).all():
        add(CONDITION, rid, decrypt_value("str", desc, t, "description", rid),
            _when(decrypt_value("date", onset, t, "onset", rid), created))
    t = Document.__tablename__
    for rid, title, category, created in session.exec(select(Document.id, Document.title, Document.category,
                                                             Document.created_at).where(
            Document.patient_id == pid, Document.status == Status.ACTIVE)).all():
        if category not in ADMINISTRATIVE:
            add(DOCUMENT, rid, decrypt_value("str", title, t, "title", rid) or "Document", created)
    t = VisitNote.__tablename__
    stmt = select(VisitNote.id, VisitNote.reason, VisitNote.visit_at, VisitNote.status).where(VisitNote.patient_id == pid)
    for rid, reason, at, status in session.exec(stmt).all():
        if actor.role == Role.PATIENT and status != SIGNED:
            continue
        add(VISIT_NOTE, rid, "Visit: " + decrypt_value("str", reason, t, "reason", rid),
            datetime.fromisoformat(decrypt_value("str", at, t, "visit_at", rid)))
    items.sort(key=lambda i: (i.when.timestamp() if i.when else 0.0), reverse=True)
    audit.record(session, actor, LIST, patient_id=pid, object_type="sensitive_record",
                 detail={"count": len(items), "withheld": len(hidden)})
    return SensitiveList(items, len(hidden))


def own_candidates(session: Session, actor: Actor | None) -> SensitiveList:
    if actor is None or actor.patient_id is None:
        if actor is None:
            require(session, actor, Action.SENSITIVE_MARK, audit_as=LIST)
        raise PatientNotFound()
    return candidates(session, actor, patient_id=actor.patient_id)
