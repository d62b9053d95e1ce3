"""Visits: the one way in for the UI, the API and the seed to visit notes, their signing, addenda,
the patient's visit summaries and the clinician's worklist of unsigned notes.

The rules, and where each lives:

* **Who.** The policy (``core.access``) decides everything: ``visit.read`` (care-team doctors; an
  admin reads for operations — records requests, quality and legal review — recorded with basis
  "role" and purpose "operations"), ``visit.write`` and ``visit.sign`` (AUTHOR_ONLY: ``decide``
  compares ``Resource.author_id`` with the actor, so only the note's author edits its draft and
  signs it), ``visit.addendum.write`` (any care-team doctor, on a signed note),
  ``visit.summary.read`` (the patient, their own record) and ``visit.worklist.read`` (a clinician's
  own drafts). Staff have none of them. Refusals go through ``require``, which audits them.
* **Locking.** A signed note is never changed: an edit or a second signing is ``NoteLocked`` (asked
  after the policy, so a colleague is told "not permitted", the author "signed: add an addendum").
  A correction is an addendum, a row of its own with its author and time.
* **Concurrency.** A save names the version it was loaded at; a stale one is ``VisitConflict``
  naming the fields that changed, with the saved note, and nothing is written.
* **Audit.** Every read and write records one event in the use case's unit: ``visit.list``,
  ``visit.read``, ``visit.summary.list``, ``visit.worklist.list`` (reads: their names end in .list or
  .read) and ``visit.create``, ``visit.update``, ``visit.sign``, ``visit.addendum``; the policy's basis
  and purpose ride on each. Events hold ids and field names, never the text.
* **Signing tells other areas** through ``core.events.VISIT_SIGNED`` in the same unit (appointments
  marks the day's appointment with the author fulfilled); visits imports none of them.
* **Diagnoses** are ICD-10-CM codings of the code tables (``domain.codes``): ``find_diagnoses``
  searches them as the clinician types, and a save keeps only codes the table holds (with the
  table's display). An installation whose ICD-10-CM table is not loaded yet (``portal codes load``)
  accepts well-formed codes with the display sent, so notes can be written before the load.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from patient_portal.core import audit, events
from patient_portal.core.access import AUTHOR_ONLY, Action, Actor, Resource, decide, reach_filter, require
from patient_portal.core.coding import ICD10_CM, Coding
from patient_portal.core.crypto import decrypt_value
from patient_portal.core.db import utcnow
from patient_portal.domain.codes import service as codes
from patient_portal.domain.patients.common import PatientNotFound, as_uuid, load
from patient_portal.domain.patients.dto import display_name
from patient_portal.domain.patients.header import ChartHeader, with_header
from patient_portal.domain.patients.models import Patient
from patient_portal.domain.sensitive import service as sensitive
from patient_portal.domain.sensitive.dto import VISIT_NOTE as SENSITIVE_KIND
from patient_portal.domain.visits import validation as check
from patient_portal.domain.visits.dto import (
    PAGE_SIZE,
    Addendum,
    NoteLocked,
    NotSigned,
    Page,
    UnsignedNote,
    VisitConflict,
    VisitInvalid,
    VisitListItem,
    VisitNoteView,
    VisitNotFound,
    VisitSummary,
    coding_dict,
)
from patient_portal.domain.visits.models import DRAFT, SIGNED, VisitAddendum, VisitNote

__all__ = [
    "PAGE_SIZE", "Addendum", "NoteLocked", "NotSigned", "Page", "UnsignedNote", "VisitConflict", "VisitInvalid",
    "VisitListItem", "VisitNotFound", "VisitNoteView", "VisitSummary",
    "add_addendum", "create_note", "field_error", "find_diagnoses", "get_note", "list_notes", "open_list", "own_summaries",
    "save_draft", "sign_note", "summaries", "unsigned_notes",
    "last_signed_visits", "timeline_items", "with_unsigned_notes",
]

OBJECT = "visit_note"
#: what a conflict calls each field (the form's labels)
LABELS = {"visit_at": "date and time", "reason": "reason", "subjective": "subjective", "objective": "objective",
          "assessment": "assessment", "plan": "plan", "diagnoses": "diagnoses", "orders": "orders"}


# ---------------------------------------------------------------- helpers


def _note_uuid(value: Any) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise VisitNotFound() from None


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _clean(session: Session, values: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """Typed column values from a form's values, and the field errors (empty: all good)."""
    if not isinstance(values, dict):
        raise VisitInvalid(errors={"reason": "Fill in the note."})
    errors: dict[str, str] = {}
    when = check.visit_time(values.get("visit_at"), errors)
    out: dict[str, Any] = dict(check.texts(values, errors))
    loaded = "icd10cm" in codes.loaded(session)
    raw = values.get("diagnoses")
    if loaded:
        diagnoses = check.diagnoses(raw, errors, lambda system, code: codes.get(session, system, code))
    else:
        sent = {str(d.get("code", "")).strip().upper(): str(d.get("display", "")).strip()[:300]
                for d in raw or [] if isinstance(d, dict)} if isinstance(raw, list | tuple) else {}
        diagnoses = check.diagnoses(raw, errors, lambda system, code: Coding(system, code, sent.get(code) or code))
    out["diagnoses"] = [coding_dict(c) for c in diagnoses]
    out["orders"] = check.orders(values.get("orders"), errors)
    out["visit_at"] = when.isoformat() if when else None
    return out, errors


def _addenda(session: Session, note_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Addendum]]:
    if not note_ids:
        return {}
    rows = session.exec(select(VisitAddendum).where(VisitAddendum.note_id.in_(note_ids))  # type: ignore[attr-defined]
                        .order_by(VisitAddendum.created_at)).all()  # type: ignore[arg-type]
    out: dict[uuid.UUID, list[Addendum]] = {}
    for row in rows:
        out.setdefault(row.note_id, []).append(Addendum(row.id, row.author_name, row.created_at, row.text))
    return out


def _codings(note: VisitNote) -> tuple[Coding, ...]:
    return tuple(Coding(d.get("system", ""), d.get("code", ""), d.get("display", "")) for d in note.diagnoses or [])


def _view(session: Session, actor: Actor, note: VisitNote) -> VisitNoteView:
    """The whole note with its addenda, and what the policy lets this actor do with it now."""
    def may(action: Action) -> bool:
        return decide(session, actor, action, Resource(patient_id=note.patient_id, author_id=note.author_id)).allowed

    draft = note.status == DRAFT
    return VisitNoteView(
        id=note.id, patient_id=note.patient_id, version=note.version, status=note.status,
        visit_at=_when(note.visit_at), reason=note.reason, subjective=note.subjective or "",
        objective=note.objective or "", assessment=note.assessment or "", plan=note.plan or "",
        diagnoses=_codings(note), orders=tuple(note.orders or ()), author_id=note.author_id,
        author_name=note.author_name, signed_at=note.signed_at,
        addenda=tuple(_addenda(session, [note.id]).get(note.id, [])),
        can_edit=draft and may(Action.VISIT_WRITE), can_sign=draft and may(Action.VISIT_SIGN),
        can_add_addendum=not draft and may(Action.VISIT_ADDENDUM))


def _note_on(session: Session, actor: Actor | None, action: Action, patient_id: Any, note_id: Any, what: str
             ) -> tuple[uuid.UUID, VisitNote]:
    """Authorize `action` on one note of one patient: reach first (a refusal audited as `what`), then
    the record and the note (NotFound for one that is not this patient's), then the policy again
    with the note's author, for the actions only an author may take."""
    pid = as_uuid(patient_id)
    require(session, actor, action, Resource(patient_id=pid), audit_as=what)
    load(session, pid)
    note = session.get(VisitNote, _note_uuid(note_id))
    if note is None or note.patient_id != pid:
        raise VisitNotFound()
    marked = sensitive.resource_for(session, pid, SENSITIVE_KIND, note.id, note.author_id)
    if marked.sensitivity:
        require(session, actor, action, marked, audit_as=what, object_type=OBJECT, object_id=note.id,
                message="This note is marked sensitive: only the patient's own clinicians see it. Emergency access "
                        "opens it.")
    if action in AUTHOR_ONLY:
        require(session, actor, action, Resource(patient_id=pid, author_id=note.author_id), audit_as=what,
                object_type=OBJECT, object_id=note.id,
                message="Only the clinician who wrote this note can change or sign it.")
    return pid, note


def _apply(note: VisitNote, cleaned: dict[str, Any]) -> list[str]:
    """Write the cleaned values onto the note; the names of the fields that changed."""
    changed = []
    for name, value in cleaned.items():
        if (getattr(note, name) or "") != (value or ""):
            changed.append(name)
        setattr(note, name, value)
    return changed


def _diff(current: dict[str, Any], base: dict[str, Any]) -> list[str]:
    def same(a: Any, b: Any) -> bool:
        if isinstance(a, list) or isinstance(b, list):
            return [d.get("code") if isinstance(d, dict) else d for d in a or []] == \
                   [d.get("code") if isinstance(d, dict) else d for d in b or []]
        return str(a or "").strip() == str(b or "").strip()
    return [LABELS[k] for k in LABELS if not same(current.get(k), base.get(k))]


def field_error(name: str, value: Any) -> str:
    """What a form field shows as the clinician leaves it ("" when fine): the checks that read
    nothing (the date and time, the reason); a save checks everything again."""
    errors: dict[str, str] = {}
    if name == "visit_at":
        check.visit_time(value, errors)
    elif name == "reason":
        check.texts({"reason": value}, errors)
    return errors.get(name, "")


# ---------------------------------------------------------------- clinicians: reading


def find_diagnoses(session: Session, actor: Actor | None, *, text: str, limit: int = 10) -> list[Coding]:
    """ICD-10-CM codes matching what the clinician typed ("type 2 diab", "E11.9"), best first."""
    return codes.search(session, actor, system=ICD10_CM, text=text, limit=limit)


def _sorted_ids(session: Session, pid: uuid.UUID, *, signed_only: bool) -> list[uuid.UUID]:
    """The patient's note ids, newest visit first: only the visit time is decrypted (one column)."""
    stmt = select(VisitNote.id, VisitNote.visit_at, VisitNote.created_at).where(VisitNote.patient_id == pid)
    if signed_only:
        stmt = stmt.where(VisitNote.status == SIGNED)
    rows = session.exec(stmt).all()
    keyed = [(_when(decrypt_value("str", token, VisitNote.__tablename__, "visit_at", row_id)), created, row_id)
             for row_id, token, created in rows]
    keyed.sort(reverse=True)
    return [row_id for _when_, _created, row_id in keyed]


def _page_of(ids: list[uuid.UUID], page: Any) -> tuple[int, list[uuid.UUID]]:
    try:
        number = max(1, int(page))
    except (TypeError, ValueError):
        number = 1
    pages = max(1, -(-len(ids) // PAGE_SIZE))
    number = min(number, pages)
    return number, ids[(number - 1) * PAGE_SIZE: number * PAGE_SIZE]


def _load_notes(session: Session, ids: list[uuid.UUID]) -> list[VisitNote]:
    if not ids:
        return []
    found = {n.id: n for n in session.exec(select(VisitNote).where(VisitNote.id.in_(ids))).all()}  # type: ignore[attr-defined]
    return [found[i] for i in ids if i in found]


def list_notes(session: Session, actor: Actor | None, *, patient_id: Any, page: Any = 1,
               header_sections: list[str] | None = None) -> Page:
    """One page (25) of the patient's visit notes, drafts and signed, newest visit first."""
    pid = as_uuid(patient_id)
    decision = require(session, actor, Action.VISIT_READ, Resource(patient_id=pid), audit_as="visit.list")
    assert actor is not None
    load(session, pid)
    hidden = sensitive.withheld_ids(session, actor, decision, pid, (SENSITIVE_KIND,))
    ids = [i for i in _sorted_ids(session, pid, signed_only=False) if i not in hidden]
    number, chosen = _page_of(ids, page)
    notes = _load_notes(session, chosen)
    counts = dict(session.exec(select(VisitAddendum.note_id, func.count()).where(
        VisitAddendum.note_id.in_(chosen)).group_by(VisitAddendum.note_id)).all()) if chosen else {}  # type: ignore[attr-defined]
    items = [VisitListItem(id=n.id, visit_at=_when(n.visit_at), reason=n.reason, status=n.status,
                           author_name=n.author_name, diagnoses=tuple(c.display or c.code for c in _codings(n)),
                           addenda=int(counts.get(n.id, 0)), mine=n.author_id == actor.user_id) for n in notes]
    detail: dict[str, Any] = {"count": len(items), "page": number}
    if header_sections is not None:
        detail["header"] = list(header_sections)
    if hidden:
        detail["withheld"] = len(hidden)
    audit.record(session, actor, "visit.list", patient_id=pid, object_type=OBJECT, detail=detail)
    return Page(items, len(ids), number, withheld=len(hidden))


def open_list(session: Session, actor: Actor | None, *, patient_id: Any, page: Any = 1) -> tuple[ChartHeader, Page]:
    """A chart's Visits page opened: the chart header and the first page in one unit, ONE audit
    event (``visit.list`` whose `header` names what the header showed)."""
    return with_header(session, actor, patient_id, _list_for_header, patient_id, page=page)


def _list_for_header(session: Session, actor: Actor | None, patient_id: Any, *, page: Any = 1,
                     header_sections: list[str] | None = None) -> Page:
    return list_notes(session, actor, patient_id=patient_id, page=page, header_sections=header_sections)


def get_note(session: Session, actor: Actor | None, *, patient_id: Any, note_id: Any) -> VisitNoteView:
    """One note in full with its addenda (care-team doctors, admins)."""
    pid, note = _note_on(session, actor, Action.VISIT_READ, patient_id, note_id, "visit.read")
    assert actor is not None
    audit.record(session, actor, "visit.read", patient_id=pid, object_type=OBJECT, object_id=note.id,
                 detail={"status": note.status})
    return _view(session, actor, note)


# ---------------------------------------------------------------- clinicians: writing


def create_note(session: Session, actor: Actor | None, *, patient_id: Any, values: dict[str, Any]) -> VisitNoteView:
    """Start a visit note as a draft; the actor (a care-team doctor) is its author."""
    pid = as_uuid(patient_id)
    require(session, actor, Action.VISIT_WRITE, Resource(patient_id=pid), audit_as="visit.create")
    assert actor is not None
    load(session, pid)
    cleaned, errors = _clean(session, values)
    if errors:
        raise VisitInvalid(errors=errors)
    note = VisitNote(patient_id=pid, author_id=actor.user_id, author_name=actor.display_name or "Clinician",
                     status=DRAFT, **cleaned)
    session.add(note)
    session.flush()
    audit.record(session, actor, "visit.create", patient_id=pid, object_type=OBJECT, object_id=note.id,
                 detail={"fields": sorted(k for k, v in cleaned.items() if v)})
    return _view(session, actor, note)


def _save(session: Session, actor: Actor, note: VisitNote, values: dict[str, Any], expected_version: Any,
          base: dict[str, Any] | None) -> list[str]:
    """The draft made equal to `values` at `expected_version` (the caller authorized and checked the
    lock); the fields that changed."""
    cleaned, errors = _clean(session, values)
    if errors:
        raise VisitInvalid(errors=errors)
    try:
        expected = int(expected_version)
    except (TypeError, ValueError):
        raise VisitInvalid(errors={"version": "Open the note again and save."}) from None
    if expected != note.version:
        current = _view(session, actor, note)
        changed = _diff(current.form(), base if isinstance(base, dict) else cleaned)
        raise VisitConflict(changed or ["the note"], current, note.version)
    changed = _apply(note, cleaned)
    if changed:
        note.version += 1
        note.updated_at = utcnow()
        session.add(note)
    return changed


def save_draft(session: Session, actor: Actor | None, *, patient_id: Any, note_id: Any, values: dict[str, Any],
               expected_version: Any, base: dict[str, Any] | None = None) -> VisitNoteView:
    """Save the author's draft at the version it was opened (`base`: the note as opened, so a
    conflict names what changed since, not what the author typed)."""
    pid, note = _note_on(session, actor, Action.VISIT_WRITE, patient_id, note_id, "visit.update")
    assert actor is not None
    if note.status != DRAFT:
        raise NoteLocked()
    changed = _save(session, actor, note, values, expected_version, base)
    audit.record(session, actor, "visit.update", patient_id=pid, object_type=OBJECT, object_id=note.id,
                 detail={"fields_changed": changed, "version": note.version})
    return _view(session, actor, note)


def sign_note(session: Session, actor: Actor | None, *, patient_id: Any, note_id: Any, expected_version: Any,
              values: dict[str, Any] | None = None, base: dict[str, Any] | None = None) -> VisitNoteView:
    """Sign (lock) the author's draft; with `values`, save them first in the same unit (what is on
    the screen is what is signed). A signed note needs a reason, an assessment and a plan."""
    pid, note = _note_on(session, actor, Action.VISIT_SIGN, patient_id, note_id, "visit.sign")
    assert actor is not None
    if note.status != DRAFT:
        raise NoteLocked()
    changed: list[str] = []
    if values is not None:
        changed = _save(session, actor, note, values, expected_version, base)
    elif str(expected_version) != str(note.version):
        current = _view(session, actor, note)
        raise VisitConflict(_diff(current.form(), base) if isinstance(base, dict) else ["the note"], current,
                            note.version)
    missing = check.ready_to_sign({"assessment": note.assessment, "plan": note.plan})
    if missing:
        raise VisitInvalid("Complete the note before signing.", errors=missing)
    note.status, note.signed_at, note.signed_by = SIGNED, utcnow(), actor.user_id
    note.version += 1
    note.updated_at = note.signed_at
    session.add(note)
    audit.record(session, actor, "visit.sign", patient_id=pid, object_type=OBJECT, object_id=note.id,
                 detail={"fields_changed": changed, "version": note.version})
    events.emit(session, events.VISIT_SIGNED, actor=actor, patient_id=pid, author_id=note.author_id,
                visit_at=_when(note.visit_at), note_id=note.id)  # e.g. the day's appointment is fulfilled
    return _view(session, actor, note)


def add_addendum(session: Session, actor: Actor | None, *, patient_id: Any, note_id: Any, text: Any) -> VisitNoteView:
    """Add an addendum to a signed note (any care-team doctor); the note itself is unchanged."""
    pid, note = _note_on(session, actor, Action.VISIT_ADDENDUM, patient_id, note_id, "visit.addendum")
    assert actor is not None
    if note.status != SIGNED:
        raise NotSigned()
    cleaned, errors = check.addendum_text(text)
    if errors:
        raise VisitInvalid(errors=errors)
    row = VisitAddendum(note_id=note.id, patient_id=pid, author_id=actor.user_id,
                        author_name=actor.display_name or "Clinician", text=cleaned)
    session.add(row)
    session.flush()
    audit.record(session, actor, "visit.addendum", patient_id=pid, object_type=OBJECT, object_id=note.id,
                 detail={"addendum": str(row.id)})
    return _view(session, actor, note)


# ---------------------------------------------------------------- the patient


def summaries(session: Session, actor: Actor | None, *, patient_id: Any, page: Any = 1) -> Page:
    """One page of the patient's visit summaries: signed notes only, newest first, in the words a
    patient reads (no drafts, no working notes, no codes)."""
    pid = as_uuid(patient_id)
    decision = require(session, actor, Action.VISIT_SUMMARY_READ, Resource(patient_id=pid),
                       audit_as="visit.summary.list")
    assert actor is not None
    load(session, pid)
    hidden = sensitive.withheld_ids(session, actor, decision, pid, (SENSITIVE_KIND,))
    ids = [i for i in _sorted_ids(session, pid, signed_only=True) if i not in hidden]
    number, chosen = _page_of(ids, page)
    notes = _load_notes(session, chosen)
    addenda = _addenda(session, chosen)
    items = [VisitSummary(id=n.id, visit_at=_when(n.visit_at), clinician=n.author_name, reason=n.reason,
                          assessment=n.assessment or "", plan=n.plan or "",
                          diagnoses=tuple(c.display or c.code for c in _codings(n)),
                          addenda=tuple(addenda.get(n.id, []))) for n in notes]
    audit.record(session, actor, "visit.summary.list", patient_id=pid, object_type=OBJECT,
                 detail={"count": len(items), "page": number})
    return Page(items, len(ids), number)


def own_summaries(session: Session, actor: Actor | None, *, page: Any = 1) -> Page:
    """The signed-in patient's own visit summaries (PatientNotFound: no record linked)."""
    if actor is None or actor.patient_id is None:
        if actor is None:
            require(session, actor, Action.VISIT_SUMMARY_READ, audit_as="visit.summary.list")
        raise PatientNotFound()
    return summaries(session, actor, patient_id=actor.patient_id, page=page)


# ---------------------------------------------------------------- the worklist


def unsigned_notes(session: Session, actor: Actor | None) -> list[UnsignedNote]:
    """The clinician's own drafts on patients they still reach, oldest visit first (the longest
    waiting at the top), with the patient's name: the dashboard's "Unsigned notes"."""
    require(session, actor, Action.VISIT_WORKLIST, Resource(owner_id=actor.user_id if actor else None),
            audit_as="visit.worklist.list")
    assert actor is not None
    rows = session.exec(select(VisitNote.id, VisitNote.patient_id, VisitNote.visit_at, Patient)
                        .join(Patient, Patient.id == VisitNote.patient_id)  # type: ignore[arg-type]
                        .where(VisitNote.author_id == actor.user_id, VisitNote.status == DRAFT,
                               reach_filter(actor, VisitNote.patient_id))).all()
    items = sorted((UnsignedNote(note_id=row_id, patient_id=pid, patient_name=display_name(patient),
                                 visit_at=_when(decrypt_value("str", token, VisitNote.__tablename__, "visit_at", row_id)))
                    for row_id, pid, token, patient in rows), key=lambda u: (u.visit_at, str(u.note_id)))
    audit.record(session, actor, "visit.worklist.list", object_type=OBJECT,
                 detail={"count": len(items), "notes": [str(u.note_id) for u in items]})
    return items


# ---------------------------------------------------------------- for other areas (no policy: callers authorize and audit)


def with_unsigned_notes(session: Session, actor: Actor, patient_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these patients have a draft note by this clinician (only its author can sign it):
    the worklist's "Unsigned note" flag. One statement, nothing decrypted."""
    if not patient_ids:
        return set()
    return set(session.exec(select(VisitNote.patient_id).distinct().where(
        VisitNote.patient_id.in_(patient_ids), VisitNote.author_id == actor.user_id,  # type: ignore[attr-defined]
        VisitNote.status == DRAFT)).all())


def last_signed_visits(session: Session, patient_ids: list[uuid.UUID]) -> dict[uuid.UUID, datetime]:
    """The latest signed visit's time of each of these patients (none signed: absent). One
    statement; the visit time is ciphertext (order does not survive encryption), so it decrypts one
    column per signed note of these patients."""
    if not patient_ids:
        return {}
    out: dict[uuid.UUID, datetime] = {}
    rows = session.exec(select(VisitNote.id, VisitNote.patient_id, VisitNote.visit_at).where(
        VisitNote.patient_id.in_(patient_ids), VisitNote.status == SIGNED)).all()  # type: ignore[attr-defined]
    for row_id, pid, token in rows:
        when = _when(decrypt_value("str", token, VisitNote.__tablename__, "visit_at", row_id))
        if pid not in out or when > out[pid]:
            out[pid] = when
    return out


def timeline_items(session: Session, patient_id: uuid.UUID, *, limit: int) -> Any:
    """The newest `limit` of the patient's signed visit notes as timeline events (drafts are not events
    yet), and how many there are: when the visit was, its reason, who signed it. One statement; the
    visit time (ciphertext: order does not survive encryption) is decrypted for every signed note,
    the reason and the author only for the notes kept (``timeline.dto``: the paged source contract)."""
    from patient_portal.domain.timeline.dto import Event, newest

    table = VisitNote.__tablename__
    rows = session.exec(select(VisitNote.id, VisitNote.visit_at, VisitNote.reason, VisitNote.author_name).where(
        VisitNote.patient_id == patient_id, VisitNote.status == SIGNED)).all()

    def words(row_id: uuid.UUID, reason: str, author: str) -> tuple[str, str]:
        return ("Visit: " + decrypt_value("str", reason, table, "reason", row_id),
                "Signed by " + (decrypt_value("str", author, table, "author_name", row_id) or "clinician"))

    return newest([Event(_when(decrypt_value("str", at, table, "visit_at", row_id)), "visits", str(row_id),
                         lambda row_id=row_id, reason=reason, author=author: words(row_id, reason, author),
                         f"/chart/{patient_id}/visits?note={row_id}")
                   for row_id, at, reason, author in rows], limit)
