"""Merge a duplicate patient record into the record kept, and undo it exactly (issue 17, admins).

Merge moves every row that names the duplicate — found generically: each table with a ``patient_id``
column or a foreign key to ``patient.id`` — to the kept record with one UPDATE of its patient column.
Encrypted columns bind table, column and row id (not the patient), so moved ciphertext stays valid.
A row whose move would break a unique key with the kept record's own row (the same doctor on both
care teams, one emergency-information row per patient) is deleted from the duplicate and its raw
values, ciphertext as stored, are kept in the merge record. The duplicate's own row stays, marked
merged (``status``, ``merged_into_id``): search and lists skip it, its chart points to the kept one.

Unmerge moves exactly the recorded rows back, re-inserts the set-aside rows and clears the mark;
rows added to the kept record since stay with it. Not moved: the audit trail (its hash chain is
history as written; both use cases are audited under both patients) and the phone search keys,
which index the duplicate's own demographics and stay with them.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from patient_portal.core import audit
from patient_portal.core.access import Action, Actor, reaches_patient, require
from patient_portal.core.db import utcnow
from patient_portal.core.errors import Invalid, NotFound
from patient_portal.domain.patients import dto
from patient_portal.domain.patients.common import PatientNotFound, as_uuid
from patient_portal.domain.patients.models import (
    MERGE_DONE,
    MERGE_UNDONE,
    STATUS_MERGED,
    Patient,
    PatientMerge,
)

#: Tables a merge never touches: the records themselves, the merge log, the audit trail, and the
#: phone blind indexes (derived from the duplicate's own demographics, which stay on its row).
NOT_MOVED = frozenset({"patient", "patient_merge", "audit_event", "audit_event_pending", "patient_phone_key"})
_BATCH = 500

#: Plain names for the counts the merge screen shows (other tables: their name, spaced).
LABELS = {
    "history_allergy": "Allergies", "history_condition": "Problems", "history_medication": "Medications",
    "history_family": "Family history", "history_immunization": "Immunizations", "document": "Documents",
    "appointment": "Appointments", "care_team_member": "Care team", "insurance_policy": "Insurance policies",
    "emergency_contact": "Emergency contacts", "observation": "Vital signs", "lab_result": "Lab results",
    "visit_note": "Visit notes", "prescription": "Prescriptions", "care_plan": "Care plans",
    "user_account": "Portal accounts", "consent_record": "Consents", "billing_charge": "Charges",
    "billing_claim": "Claims", "billing_payment": "Payments",
}


def label(table: str) -> str:
    return LABELS.get(table) or table.replace("_", " ").capitalize()


@dataclass(frozen=True)
class Link:
    """One column naming a patient; `uniques` are the unique keys it is part of, as (the key's
    other columns, the partial index's condition or None); `referenced`: other tables point at it."""

    table: sa.Table
    column: sa.Column
    uniques: tuple[tuple[tuple[sa.Column, ...], Any], ...]
    referenced: bool

    @property
    def pk(self) -> sa.Column:
        (pk,) = self.table.primary_key.columns
        return pk


@cache
def patient_links() -> tuple[Link, ...]:
    """Every column of every table that names a patient, bar NOT_MOVED (computed once)."""
    from patient_portal.models import metadata  # every table; imported here, it imports this area

    links = []
    tables = sorted(metadata.tables.values(), key=lambda t: t.name)
    for table in tables:
        if table.name in NOT_MOVED:
            continue
        referenced = any(fk.column.table is table for other in tables for c in other.columns
                         for fk in c.foreign_keys if other is not table)
        for column in table.columns:
            if column.name != "patient_id" and not any(fk.column.table.name == "patient" for fk in column.foreign_keys):
                continue
            keys = [(tuple(con.columns), None) for con in table.constraints if isinstance(con, sa.UniqueConstraint)]
            keys += [(tuple(ix.columns), ix.dialect_options["postgresql"].get("where")) for ix in table.indexes
                     if ix.unique]
            uniques = tuple((tuple(c for c in cols if c is not column), where) for cols, where in keys
                            if any(c is column for c in cols))
            links.append(Link(table, column, uniques, referenced))
    return tuple(links)


# -- raw values, kept as JSON ------------------------------------------------------------------------

_TAGS: dict[str, tuple[type, Any, Any]] = {
    "uuid": (uuid.UUID, str, uuid.UUID),
    "datetime": (datetime, datetime.isoformat, datetime.fromisoformat),
    "date": (date, date.isoformat, date.fromisoformat),
    "time": (time, time.isoformat, time.fromisoformat),
    "bytes": (bytes, lambda v: base64.b64encode(v).decode(), base64.b64decode),
    "decimal": (Decimal, str, Decimal),
}


def encode_row(table: sa.Table, row: sa.Row) -> dict[str, Any]:
    """A row's stored values as JSON: ``values`` and, for values JSON has no type for, ``types``."""
    values, types = {}, {}
    for key, value in row._mapping.items():
        for tag, (kind, out, _back) in _TAGS.items():
            if isinstance(value, kind) and not (kind is date and isinstance(value, datetime)):
                values[key], types[key] = out(value), tag
                break
        else:
            values[key] = value
    return {"table": table.name, "values": values, "types": types}


def decode_row(kept: dict[str, Any]) -> dict[str, Any]:
    return {key: _TAGS[kept["types"][key]][2](value) if key in kept["types"] and value is not None else value
            for key, value in kept["values"].items()}


def _admin(session: Session, actor: Actor | None, what: str) -> Actor:
    """Admins only (Action.PATIENT_MERGE); a refusal is audited as `what`."""
    require(session, actor, Action.PATIENT_MERGE, audit_as=what)
    assert actor is not None
    return actor


# -- reading -----------------------------------------------------------------------------------------

def _counts(session: Session, patient_id: uuid.UUID) -> dict[str, int]:
    """Rows naming this patient, by table (only tables with some)."""
    out: dict[str, int] = {}
    for link in patient_links():
        n = session.execute(sa.select(sa.func.count()).select_from(link.table).where(link.column == patient_id)).scalar()
        if n:
            out[link.table.name] = out.get(link.table.name, 0) + int(n)
    return out


def _pair(session: Session, keep: Any, duplicate: Any, *, lock: bool = False) -> tuple[Patient, Patient]:
    """Both live records (locked for a merge), checked: they exist, differ and neither is merged."""
    keep_id, dup_id = as_uuid(keep), as_uuid(duplicate)
    if keep_id == dup_id:
        raise Invalid("Choose two different records: a record cannot be merged into itself.",
                      {"duplicate": "This is the record you keep. Choose the duplicate."})
    stmt = select(Patient).where(Patient.id.in_([keep_id, dup_id])).order_by(Patient.id)
    found = {p.id: p for p in session.exec(stmt.with_for_update() if lock else stmt).all()}
    if keep_id not in found or dup_id not in found:
        raise PatientNotFound()
    for pid, name in ((keep_id, "keep"), (dup_id, "duplicate")):
        if found[pid].status == STATUS_MERGED:
            raise Invalid("That record was already merged into another record. Choose a live record.",
                          {name: "Already merged into another record."})
    return found[keep_id], found[dup_id]


def _side(session: Session, patient: Patient) -> dict[str, Any]:
    counts = _counts(session, patient.id)
    return {**dto.summary(patient), "counts": [{"what": label(t), "count": n} for t, n in sorted(counts.items())],
            "total": sum(counts.values())}


def preview_merge(session: Session, actor: Actor, *, keep: Any, duplicate: Any) -> dict[str, Any]:
    """Both records side by side (name, birth date, MRN, what each holds) before an admin merges."""
    _admin(session, actor, "patient.merge.preview")
    kept, dup = _pair(session, keep, duplicate)
    out = {"keep": _side(session, kept), "duplicate": _side(session, dup)}
    for p in (kept, dup):
        audit.record(session, actor, "patient.merge.preview", patient_id=p.id, object_type="patient",
                     object_id=p.id, detail={"keep": str(kept.id), "duplicate": str(dup.id)})
    return out


# -- merge -------------------------------------------------------------------------------------------

def _colliding(session: Session, link: Link, keep_id: uuid.UUID, dup_id: uuid.UUID) -> set[Any]:
    """Ids of the duplicate's rows in this column whose move would break one of its unique keys."""
    out: set[Any] = set()
    for others, where in link.uniques:
        def rows(pid, cols, _where=where):
            stmt = sa.select(*cols).where(link.column == pid)
            return session.execute(stmt.where(_where) if _where is not None else stmt).all()
        taken = {tuple(r) for r in rows(keep_id, others or (sa.literal(1),))}
        if taken:
            out |= {r[0] for r in rows(dup_id, (link.pk, *(others or (sa.literal(1),)))) if tuple(r[1:]) in taken}
    return out


def merge_patients(session: Session, actor: Actor, *, keep: Any, duplicate: Any) -> dict[str, Any]:
    """Merge `duplicate` into `keep` in the caller's one transaction (admins). Returns the merge's id
    and what moved. Raises Invalid for the same record twice or one already merged, PatientNotFound
    for an unknown id, and Invalid when both hold a row nothing can combine (one running emergency
    protocol each): the admin resolves that on one record first."""
    _admin(session, actor, str(Action.PATIENT_MERGE))
    kept, dup = _pair(session, keep, duplicate, lock=True)
    moved: list[list[str]] = []
    set_aside: list[dict[str, Any]] = []
    counts: dict[str, int] = {}
    for link in patient_links():
        clash = _colliding(session, link, kept.id, dup.id)
        if clash and link.referenced:
            raise Invalid(f"Both records have {label(link.table.name).lower()} that cannot be combined. "
                          "Close or remove it on one record first, then merge.")
        if clash:
            rows = session.execute(sa.select(link.table).where(link.pk.in_(clash))).all()
            set_aside += [encode_row(link.table, r) for r in rows]
            session.execute(sa.delete(link.table).where(link.pk.in_(clash)))
        ids = session.execute(sa.select(link.pk).where(link.column == dup.id)).scalars().all()
        for start in range(0, len(ids), _BATCH):
            chunk = ids[start:start + _BATCH]
            session.execute(sa.update(link.table).where(link.pk.in_(chunk)).values({link.column.name: kept.id}))
        moved += [[link.table.name, str(pk), link.column.name] for pk in ids]
        if ids or clash:
            counts[link.table.name] = counts.get(link.table.name, 0) + len(ids) + len(clash)
    now = utcnow()
    record = PatientMerge(surviving_id=kept.id, merged_id=dup.id, merged_by=actor.user_id, merged_at=now,
                          previous_status=dup.status, moved=moved, kept=set_aside, counts=counts)
    session.add(record)
    session.execute(sa.update(Patient.__table__).where(Patient.__table__.c.id == dup.id)
                    .values(status=STATUS_MERGED, merged_into_id=kept.id, merged_at=now))
    session.flush()
    detail = {"merge": str(record.id), "keep": str(kept.id), "duplicate": str(dup.id), "moved": len(moved),
              "set_aside": len(set_aside)}
    for pid in (kept.id, dup.id):
        audit.record(session, actor, str(Action.PATIENT_MERGE), patient_id=pid, object_type="patient_merge",
                     object_id=record.id, detail=detail)
    session.expunge(dup)  # its row changed under the ORM: never reuse the stale copy
    return {"merge_id": str(record.id), "keep": str(kept.id), "duplicate": str(dup.id), "moved": len(moved),
            "set_aside": len(set_aside), "counts": [{"what": label(t), "count": n} for t, n in sorted(counts.items())]}


# -- unmerge -----------------------------------------------------------------------------------------

def unmerge(session: Session, actor: Actor, merge_id: Any) -> dict[str, Any]:
    """Undo a merge exactly (admins): the recorded rows go back to the duplicate (those deleted since
    stay deleted), set-aside rows come back as stored, the duplicate is live again with its status
    before. Rows added to the kept record after the merge stay with it. Invalid when already undone
    or when the kept record was itself merged since (undo that one first)."""
    _admin(session, actor, "patient.unmerge")
    try:
        record = session.exec(select(PatientMerge).where(PatientMerge.id == uuid.UUID(str(merge_id)))
                              .with_for_update()).first()
    except ValueError:
        record = None
    if record is None:
        raise NotFound("That merge was not found.")
    if record.status != MERGE_DONE:
        raise Invalid("This merge was already undone.")
    kept = session.exec(select(Patient).where(Patient.id == record.surviving_id).with_for_update()).first()
    if kept is None or kept.status == STATUS_MERGED:
        raise Invalid("The kept record was itself merged into another record since. Undo that merge first.")
    tables = {link.table.name: link.table for link in patient_links()}
    groups: dict[tuple[str, str], list[str]] = {}
    for table, pk, column in record.moved:
        groups.setdefault((table, column), []).append(pk)
    returned = 0
    for (name, column), pks in groups.items():
        table = tables[name]
        (pk_col,) = table.primary_key.columns
        keys = [uuid.UUID(k) if isinstance(pk_col.type, sa.Uuid) else k for k in pks]
        for start in range(0, len(keys), _BATCH):
            returned += session.execute(
                sa.update(table).where(pk_col.in_(keys[start:start + _BATCH]), table.c[column] == record.surviving_id)
                .values({column: record.merged_id})).rowcount or 0
    for row in record.kept:
        session.execute(sa.insert(tables[row["table"]]).values(decode_row(row)))
    session.execute(sa.update(Patient.__table__).where(Patient.__table__.c.id == record.merged_id)
                    .values(status=record.previous_status, merged_into_id=None, merged_at=None))
    record.status, record.unmerged_by, record.unmerged_at = MERGE_UNDONE, actor.user_id, utcnow()
    session.add(record)
    session.flush()
    detail = {"merge": str(record.id), "keep": str(record.surviving_id), "duplicate": str(record.merged_id),
              "returned": returned, "gone_since": len(record.moved) - returned, "restored": len(record.kept)}
    for pid in (record.surviving_id, record.merged_id):
        audit.record(session, actor, "patient.unmerge", patient_id=pid, object_type="patient_merge",
                     object_id=record.id, detail=detail)
    return {"merge_id": str(record.id), "returned": returned, "gone_since": len(record.moved) - returned,
            "restored": len(record.kept)}


def list_merges(session: Session, actor: Actor, *, page: int = 1) -> list[dict[str, Any]]:
    """Past merges, newest first (25 a page), with both records' names and MRNs (admins; audited)."""
    _admin(session, actor, "patient.merge.list")
    page = max(1, int(page))
    rows = session.exec(select(PatientMerge).order_by(PatientMerge.merged_at.desc(), PatientMerge.id)
                        .offset((page - 1) * 25).limit(25)).all()
    ids = {r.surviving_id for r in rows} | {r.merged_id for r in rows}
    people = {p.id: p for p in session.exec(select(Patient).where(Patient.id.in_(ids))).all()} if ids else {}
    out = []
    for r in rows:
        keep, dup = people.get(r.surviving_id), people.get(r.merged_id)
        out.append({"id": str(r.id), "status": r.status, "merged_at": r.merged_at.isoformat(),
                    "keep_id": str(r.surviving_id), "duplicate_id": str(r.merged_id),
                    "keep_name": dto.display_name(keep) if keep else "", "keep_mrn": keep.mrn if keep else "",
                    "duplicate_name": dto.display_name(dup) if dup else "", "duplicate_mrn": dup.mrn if dup else "",
                    "moved": sum((r.counts or {}).values())})
    if rows:
        audit.record(session, actor, "patient.merge.list", object_type="patient_merge",
                     detail={"count": len(rows), "page": page, "patient_ids": sorted(str(i) for i in ids)})
    return out


def merged_into(session: Session, actor: Actor | None, patient_id: Any) -> str:
    """The id of the record a merged duplicate now lives in, when this actor may open that record
    ("" otherwise), so the duplicate's chart can point there. Ids only: nothing to audit."""
    try:
        pid = as_uuid(patient_id)
    except PatientNotFound:
        return ""
    target = session.exec(select(Patient.merged_into_id).where(Patient.id == pid)).first()
    if target is None or actor is None or not reaches_patient(session, actor, target):
        return ""
    return str(target)
