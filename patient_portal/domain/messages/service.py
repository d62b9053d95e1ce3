"""Secure messages: the one way in for the UI, the API, the seed and "download my record" to a
patient's conversations with the clinic.

The rules, and where each lives:

* **Who.** The policy (``core.access``) decides: ``message.read`` (the patient, their own threads;
  care-team doctors; the front desk; admins read for operations), ``message.write`` (the patient
  writes to their care team; care-team doctors and the front desk answer; admins do not),
  ``message.pool.read`` and ``message.route`` (the front desk and admins triage), ``message.inbox.read``
  and ``message.delegate.write`` (a doctor's own inbox and delegate). Refusals go through ``require``
  (audited).
* **Recipients.** A patient writes to a doctor of their care team, the front desk or billing. The
  doctor is the decision's ``Resource.recipient_id``: ``decide`` refuses a doctor off the care team
  ("recipient_off_care_team"), and so does routing a thread to one. ``own_page`` offers only the
  allowed recipients.
* **Waiting and overdue.** A thread waits from the patient's first unanswered message until the
  clinic answers (``waiting_since``); past the clinic's expected response time
  (``settings.message_response_hours``, default 48 h) it is overdue: first in the pool and the inbox,
  marked in both.
* **Read receipts.** Opening a thread marks the other side's messages read (when, by whom): the
  patient sees when the clinic read theirs, the clinic sees whether the patient read the answer.
  An admin reading for operations marks nothing.
* **Delegates.** A doctor away names a colleague; the colleague's inbox shows the away doctor's
  threads — of the patients the colleague reaches (the policy's reach filter: the care team) — and
  gets the email too.
* **Attachments** go through the documents pipeline (``documents.upload``: type by magic bytes,
  size, encryption, its own audit event) as a document of the patient's record, linked to a message
  its author sent in the last 30 minutes.
* **Email.** "You have a new message" and a link (``notify``), nothing else.
* **Audit.** ``message.list`` (the patient's list), ``message.inbox.read``, ``message.pool.read``
  (naming the patients listed), ``message.thread.read``, ``message.send``, ``message.reply``,
  ``message.route``, ``message.attachment.add``, ``message.delegate.set``, ``message.export.list``;
  each with the policy's basis and purpose; details hold ids and counts, never the text.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, nullslast
from sqlmodel import Session, select

from patient_portal.core import audit
from patient_portal.core.access import (
    Action,
    Actor,
    CareTeamMember,
    Resource,
    Role,
    decide,
    reach_filter,
    refuse,
    require,
)
from patient_portal.core.crypto import plain_rows
from patient_portal.core.db import read_only, unit_of_work, utcnow
from patient_portal.core.storage import BlobStore
from patient_portal.domain.documents import service as documents
from patient_portal.domain.documents.dto import TITLE_MAX, DocumentSummary, clean_filename
from patient_portal.domain.identity.models import User
from patient_portal.domain.messages import notify
from patient_portal.domain.messages.dto import (
    BODY_MAX,
    SUBJECT_MAX,
    AttachmentView,
    Delegation,
    MessageInvalid,
    MessageView,
    Recipient,
    Sent,
    ThreadNotFound,
    ThreadPage,
    ThreadRow,
    ThreadView,
)
from patient_portal.domain.messages.models import (
    BILLING,
    BOX_LABELS,
    DOCTOR,
    FRONT_DESK,
    OPEN,
    POOLS,
    Message,
    MessageAttachment,
    MessageDelegate,
    MessageThread,
)
from patient_portal.domain.patients.dto import display_name
from patient_portal.domain.patients.models import Patient
from patient_portal.settings import get_settings

__all__ = [
    "AttachmentView", "Delegation", "MessageInvalid", "MessageView", "Recipient", "Sent", "ThreadNotFound",
    "ThreadPage", "ThreadRow", "ThreadView", "attach", "delegation", "inbox", "open_thread", "own_page", "pool",
    "record_export", "reply", "route", "set_delegate", "start_thread",
]

LIST_OWN, INBOX, POOL = "message.list", "message.inbox.read", "message.pool.read"
READ, SEND, REPLY, ROUTE = "message.thread.read", "message.send", "message.reply", "message.route"
ATTACH, DELEGATE, EXPORT = "message.attachment.add", "message.delegate.set", "message.export.list"
OBJECT = "message_thread"
PAGE_SIZE = 25
ATTACH_WINDOW = timedelta(minutes=30)
#: The pool's views: the front desk's and billing's threads, either one, or every overdue thread.
POOL_VIEWS = ("pool", FRONT_DESK, BILLING, "overdue")
POOL_RECIPIENTS = [Recipient(FRONT_DESK, "Front desk"), Recipient(BILLING, "Billing")]


# ---------------------------------------------------------------- helpers


def _uuid(value: Any, what: str = "conversation") -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value or "")[:64])
    except ValueError:
        raise ThreadNotFound(what) from None


def _page(value: Any) -> int:
    try:
        return min(max(1, int(value)), 100_000)
    except (TypeError, ValueError, OverflowError):
        return 1


def response_hours() -> int:
    return get_settings().message_response_hours


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=utcnow().tzinfo) if value is not None and value.tzinfo is None else value


def _overdue(waiting_since: datetime | None, now: datetime) -> bool:
    since = _aware(waiting_since)
    return since is not None and since + timedelta(hours=response_hours()) <= now


def _text(value: Any, field: str, limit: int, missing: str, errors: dict[str, str]) -> str:
    text = str(value or "").strip() if isinstance(value, (str, int, float)) or value is None else ""
    if not text:
        errors[field] = missing
    elif len(text) > limit:
        errors[field] = f"Keep it under {limit} characters."
    return text


def _parse_to(value: Any) -> tuple[str, uuid.UUID | None]:
    """("doctor", id) | ("front_desk", None) | ("billing", None) from a recipient's value."""
    text = str(value or "") if isinstance(value, str) else ""
    if text in POOLS:
        return text, None
    if text.startswith("doctor:"):
        try:
            return DOCTOR, uuid.UUID(text[7:][:64])
        except ValueError:
            pass
    raise MessageInvalid("Choose who to write to.", errors={"to": "Choose who to write to."})


def _active_doctor(session: Session, user_id: uuid.UUID | None) -> User | None:
    user = session.get(User, user_id) if user_id else None
    return user if user is not None and user.role == Role.DOCTOR.value and user.active else None


def _names(session: Session, user_ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    ids = {i for i in user_ids if i}
    if not ids:
        return {}
    return {u.id: u.display_name or "" for u in session.exec(select(User).where(User.id.in_(ids))).all()}


def _care_team_doctors(session: Session, patient_id: uuid.UUID) -> list[Recipient]:
    users = session.exec(select(User).join(CareTeamMember, CareTeamMember.user_id == User.id).where(
        CareTeamMember.patient_id == patient_id, User.role == Role.DOCTOR.value, User.active == True)).all()  # noqa: E712
    found = [Recipient(f"doctor:{u.id}", u.display_name or "Your doctor") for u in users]
    return sorted(found, key=lambda r: r.label)


def _with_label(box: str, doctor_id: uuid.UUID | None, names: dict[uuid.UUID, str]) -> str:
    if box == DOCTOR:
        return names.get(doctor_id, "") if doctor_id else "A doctor"
    return BOX_LABELS.get(box, box)


def _thread(session: Session, thread_id: Any) -> MessageThread:
    thread = session.get(MessageThread, _uuid(thread_id))
    if thread is None:
        raise ThreadNotFound()
    return thread


def _from_patient(role: str) -> bool:
    return role == Role.PATIENT.value


def _clinic_side(actor: Actor) -> bool:
    return actor.role in (Role.DOCTOR, Role.STAFF)


# ---------------------------------------------------------------- lists


def _unread_count(*, patient_reads: bool) -> Any:
    """Per thread (correlated), the other side's messages nobody of the reader's side opened yet."""
    side = Message.author_role != Role.PATIENT.value if patient_reads else Message.author_role == Role.PATIENT.value
    return (select(func.count()).where(Message.thread_id == MessageThread.id, Message.read_at.is_(None), side)
            .correlate(MessageThread).scalar_subquery())


def _patients(session: Session, ids: set[uuid.UUID]) -> dict[uuid.UUID, tuple[str, str]]:
    """{id: (name, MRN)}: only the two name columns decrypted (crypto.plain_rows), not whole records."""
    if not ids:
        return {}
    found = plain_rows(session, Patient, ["given_name", "family_name", "mrn"], lambda c: c.id.in_(ids))
    return {r["id"]: (f"{r['given_name']} {r['family_name']}".strip(), r["mrn"]) for r in found}


def _rows(session: Session, threads: list[tuple[MessageThread, int]], *, patient_reads: bool) -> list[ThreadRow]:
    now = utcnow()
    names = _names(session, [t.doctor_id for t, _ in threads])
    people = {} if patient_reads else _patients(session, {t.patient_id for t, _ in threads})
    rows = []
    for t, unread in threads:
        name, mrn = people.get(t.patient_id, ("", ""))
        rows.append(ThreadRow(
            id=t.id, patient_id=t.patient_id, patient_name=name, mrn=mrn, subject=t.subject, box=t.box,
            with_label=_with_label(t.box, t.doctor_id, names), last_message_at=_aware(t.last_message_at),
            waiting_since=_aware(t.waiting_since), overdue=_overdue(t.waiting_since, now), unread=int(unread or 0)))
    return rows


def _paged(session: Session, where: list[Any], order: list[Any], page: Any, *, patient_reads: bool
           ) -> tuple[list[ThreadRow], int, int, int]:
    """One page of threads with their unread counts and the total, in one statement (a page past the
    end asks for the count, then shows the last page)."""
    number = _page(page)
    unread = _unread_count(patient_reads=patient_reads)

    def fetch(n: int) -> list[Any]:
        return list(session.exec(select(MessageThread, func.count().over(), unread).where(*where).order_by(*order)
                                 .offset((n - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all())

    found = fetch(number)
    if found:
        total = int(found[0][1])
    else:
        total = int(session.exec(select(func.count()).select_from(MessageThread).where(*where)).one())
        number = max(1, math.ceil(total / PAGE_SIZE))
        found = fetch(number) if total else []
    pages = max(1, math.ceil(total / PAGE_SIZE))
    return _rows(session, [(t, n) for t, _, n in found], patient_reads=patient_reads), total, number, pages


#: Waiting threads first, the longest waiting first; then the most recent.
_WAITING_FIRST = (nullslast(MessageThread.waiting_since.asc()), MessageThread.last_message_at.desc())


def own_page(session: Session, actor: Actor | None, *, page: Any = 1) -> tuple[ThreadPage, list[Recipient]]:
    """The patient's own threads (newest first) and whom they may write to (their care team's
    doctors, the front desk, billing)."""
    pid = actor.patient_id if actor is not None and actor.role == Role.PATIENT else None
    require(session, actor, Action.MESSAGE_READ, Resource(patient_id=pid), audit_as=LIST_OWN)
    assert actor is not None and pid is not None
    rows, total, number, pages = _paged(session, [MessageThread.patient_id == pid],
                                        [MessageThread.last_message_at.desc()], page, patient_reads=True)
    choices: list[Recipient] = []
    if decide(session, actor, Action.MESSAGE_WRITE, Resource(patient_id=pid)).allowed:
        choices = [*_care_team_doctors(session, pid), *POOL_RECIPIENTS]
    audit.record(session, actor, LIST_OWN, patient_id=pid, object_type=OBJECT, detail={"count": total})
    return ThreadPage(rows, total, number, pages, response_hours()), choices


def _delegators(session: Session, doctor_id: uuid.UUID) -> list[uuid.UUID]:
    return list(session.exec(select(MessageDelegate.user_id).where(MessageDelegate.delegate_id == doctor_id)).all())


def inbox(session: Session, actor: Actor | None, *, page: Any = 1) -> ThreadPage:
    """The doctor's open threads — and those of doctors away who named them — of patients they reach:
    waiting ones first, the longest waiting first."""
    require(session, actor, Action.MESSAGE_INBOX, audit_as=INBOX)
    assert actor is not None
    doctors = [actor.user_id, *_delegators(session, actor.user_id)]
    where = [MessageThread.status == OPEN, MessageThread.box == DOCTOR, MessageThread.doctor_id.in_(doctors),
             reach_filter(actor, MessageThread.patient_id)]
    rows, total, number, pages = _paged(session, where, list(_WAITING_FIRST), page, patient_reads=False)
    audit.record(session, actor, INBOX, object_type=OBJECT,
                 detail={"count": total, "patient_ids": sorted({str(r.patient_id) for r in rows})})
    return ThreadPage(rows, total, number, pages, response_hours())


def pool(session: Session, actor: Actor | None, *, view: Any = "pool", page: Any = 1) -> ThreadPage:
    """The triage pool: open threads of the front desk and billing (``view`` "pool"), one of them, or
    every overdue thread whoever has it ("overdue"); waiting ones first, the longest waiting first."""
    require(session, actor, Action.MESSAGE_POOL, audit_as=POOL)
    assert actor is not None
    view = view if isinstance(view, str) and view in POOL_VIEWS else "pool"
    where: list[Any] = [MessageThread.status == OPEN]
    if view == "pool":
        where.append(MessageThread.box.in_(POOLS))
    elif view == "overdue":
        where.append(MessageThread.waiting_since <= utcnow() - timedelta(hours=response_hours()))
    else:
        where.append(MessageThread.box == view)
    rows, total, number, pages = _paged(session, where, list(_WAITING_FIRST), page, patient_reads=False)
    audit.record(session, actor, POOL, object_type=OBJECT,
                 detail={"view": view, "count": total, "patient_ids": sorted({str(r.patient_id) for r in rows})})
    return ThreadPage(rows, total, number, pages, response_hours())


# ---------------------------------------------------------------- one thread


def _routes(session: Session, patient_id: uuid.UUID) -> list[Recipient]:
    return [*_care_team_doctors(session, patient_id), *POOL_RECIPIENTS]


def open_thread(session: Session, actor: Actor | None, *, thread_id: Any) -> ThreadView:
    """A thread with its messages, oldest first; the other side's unread messages are marked read."""
    thread = _thread(session, thread_id)
    pid = thread.patient_id
    require(session, actor, Action.MESSAGE_READ, Resource(patient_id=pid), audit_as=READ,
            object_type=OBJECT, object_id=thread.id)
    assert actor is not None
    now = utcnow()
    rows = list(session.exec(select(Message).where(Message.thread_id == thread.id)
                             .order_by(Message.created_at, Message.id)).all())
    marked = 0
    patient_reads = actor.role == Role.PATIENT
    if patient_reads or _clinic_side(actor):
        for m in rows:
            if m.read_at is None and _from_patient(m.author_role) != patient_reads:
                m.read_at, m.read_by = now, actor.user_id
                session.add(m)
                marked += 1
    files: dict[uuid.UUID, list[AttachmentView]] = {}
    for a in session.exec(select(MessageAttachment).where(MessageAttachment.message_id.in_([m.id for m in rows]))
                          .order_by(MessageAttachment.created_at)).all():
        files.setdefault(a.message_id, []).append(AttachmentView(a.document_id, a.filename))
    messages = [MessageView(id=m.id, author_name=m.author_name, from_patient=_from_patient(m.author_role),
                            mine=m.author_id == actor.user_id, body=m.body, sent_at=_aware(m.created_at),
                            read_at=_aware(m.read_at), attachments=files.get(m.id, [])) for m in rows]
    can_reply = decide(session, actor, Action.MESSAGE_WRITE, Resource(patient_id=pid)).allowed
    can_route = decide(session, actor, Action.MESSAGE_ROUTE, Resource(patient_id=pid)).allowed
    person = session.get(Patient, pid)
    names = _names(session, [thread.doctor_id])
    audit.record(session, actor, READ, patient_id=pid, object_type=OBJECT, object_id=thread.id,
                 detail={"messages": len(rows), "marked_read": marked})
    return ThreadView(
        id=thread.id, patient_id=pid, patient_name=display_name(person) if person else "", subject=thread.subject,
        box=thread.box, with_label=_with_label(thread.box, thread.doctor_id, names),
        waiting_since=_aware(thread.waiting_since), overdue=_overdue(thread.waiting_since, now), messages=messages,
        can_reply=can_reply, can_route=can_route, can_attach=can_reply and actor.can(Action.CLINICAL_DOC_WRITE),
        routes=_routes(session, pid) if can_route else [])


# ---------------------------------------------------------------- writing


def _write(session: Session, actor: Actor, thread: MessageThread, body: str, now: datetime) -> Message:
    message = Message(thread_id=thread.id, patient_id=thread.patient_id, author_id=actor.user_id,
                      author_role=actor.role.value, author_name=actor.display_name or "", body=body, created_at=now)
    thread.last_message_at, thread.updated_at = now, now
    if actor.role == Role.PATIENT:
        thread.waiting_since = thread.waiting_since or now
    else:
        thread.waiting_since = None
    session.add(thread)
    session.flush()  # the thread's row first: the message references it (no ORM relationship orders them)
    session.add(message)
    return message


def _tell(session: Session, actor: Actor, thread: MessageThread) -> int:
    if actor.role != Role.PATIENT:
        return notify.tell_patient(session, thread.patient_id)
    if thread.box == DOCTOR and thread.doctor_id:
        return notify.tell_doctor(session, thread.doctor_id)
    return 0


def start_thread(session: Session, actor: Actor | None, *, to: Any, subject: Any, body: Any) -> Sent:
    """The patient writes to a doctor of their care team, the front desk or billing, on a new subject."""
    pid = actor.patient_id if actor is not None and actor.role == Role.PATIENT else None
    # the patient's own record only: the clinic answers threads, it does not open them here
    require(session, actor, Action.MESSAGE_WRITE, Resource(patient_id=pid), audit_as=SEND)
    assert actor is not None and pid is not None
    box, doctor_id = _parse_to(to)
    if doctor_id is not None:
        require(session, actor, Action.MESSAGE_WRITE, Resource(patient_id=pid, recipient_id=doctor_id), audit_as=SEND,
                message="You can write only to a doctor of your care team, the front desk or billing.")
    errors: dict[str, str] = {}
    if doctor_id is not None and _active_doctor(session, doctor_id) is None:
        errors["to"] = "Choose who to write to."
    subject_text = _text(subject, "subject", SUBJECT_MAX, "Give your message a subject.", errors)
    body_text = _text(body, "body", BODY_MAX, "Write your message.", errors)
    if errors:
        raise MessageInvalid(next(iter(errors.values())), errors=errors)
    now = utcnow()
    thread = MessageThread(patient_id=pid, subject=subject_text, box=box, doctor_id=doctor_id, started_by=actor.user_id,
                           last_message_at=now, waiting_since=now)
    message = _write(session, actor, thread, body_text, now)
    emails = _tell(session, actor, thread)
    audit.record(session, actor, SEND, patient_id=pid, object_type=OBJECT, object_id=thread.id,
                 detail={"box": box, "doctor": str(doctor_id) if doctor_id else None, "message": str(message.id),
                         "emails": emails})
    return Sent(thread.id, message.id)


def reply(session: Session, actor: Actor | None, *, thread_id: Any, body: Any) -> Sent:
    """An answer in a thread: the patient's own, or the clinic's (care-team doctors, the front desk)."""
    thread = _thread(session, thread_id)
    require(session, actor, Action.MESSAGE_WRITE, Resource(patient_id=thread.patient_id), audit_as=REPLY,
            object_type=OBJECT, object_id=thread.id)
    assert actor is not None
    errors: dict[str, str] = {}
    body_text = _text(body, "body", BODY_MAX, "Write your message.", errors)
    if errors:
        raise MessageInvalid(errors["body"], errors=errors)
    now = utcnow()
    thread.status = OPEN
    message = _write(session, actor, thread, body_text, now)
    emails = _tell(session, actor, thread)
    audit.record(session, actor, REPLY, patient_id=thread.patient_id, object_type=OBJECT, object_id=thread.id,
                 detail={"message": str(message.id), "emails": emails})
    return Sent(thread.id, message.id)


def route(session: Session, actor: Actor | None, *, thread_id: Any, to: Any) -> ThreadView:
    """The front desk hands a thread to a doctor of the patient's care team, or to a pool."""
    thread = _thread(session, thread_id)
    box, doctor_id = _parse_to(to)
    require(session, actor, Action.MESSAGE_ROUTE, Resource(patient_id=thread.patient_id, recipient_id=doctor_id),
            audit_as=ROUTE, object_type=OBJECT, object_id=thread.id,
            message="A thread goes only to a doctor of the patient's care team, the front desk or billing.")
    assert actor is not None
    if doctor_id is not None and _active_doctor(session, doctor_id) is None:
        raise MessageInvalid("Choose who to write to.", errors={"to": "Choose who to hand it to."})
    now = utcnow()
    thread.box, thread.doctor_id, thread.routed_by, thread.routed_at, thread.updated_at = box, doctor_id, \
        actor.user_id, now, now
    session.add(thread)
    emails = notify.tell_doctor(session, doctor_id) if doctor_id and thread.waiting_since else 0
    audit.record(session, actor, ROUTE, patient_id=thread.patient_id, object_type=OBJECT, object_id=thread.id,
                 detail={"box": box, "doctor": str(doctor_id) if doctor_id else None, "emails": emails})
    return open_thread(session, actor, thread_id=thread.id)


def attach(actor: Actor | None, *, message_id: Any, filename: Any, chunks: Iterable[bytes],
           store: BlobStore | None = None) -> DocumentSummary:
    """A file for a message its author sent in the last 30 minutes, stored by the documents pipeline
    as a document of the patient's record (its checks, encryption and audit), then linked here."""
    name = clean_filename(filename)
    mid = _uuid(message_id, "message")
    with read_only() as session:
        message = session.get(Message, mid)
        if message is None:
            raise ThreadNotFound("message")
        pid, author = message.patient_id, message.author_id
        require(session, actor, Action.MESSAGE_WRITE, Resource(patient_id=pid), audit_as=ATTACH,
                object_type="message", object_id=mid)
        assert actor is not None
        if author != actor.user_id:
            refuse(session, actor, ATTACH, reason="not_author", patient_id=pid, object_type="message", object_id=mid)
        if (_aware(message.created_at) or utcnow()) + ATTACH_WINDOW < utcnow():
            raise MessageInvalid("Attach files when you send the message.",
                                 errors={"file": "Attach files when you send the message."})
    summary = documents.upload(actor, patient_id=pid, filename=name, chunks=chunks, store=store,
                               meta={"category": "medical_document", "title": f"Sent with a message: {name}"[:TITLE_MAX]})
    with unit_of_work() as session:
        require(session, actor, Action.MESSAGE_WRITE, Resource(patient_id=pid), audit_as=ATTACH,
                object_type="message", object_id=mid)
        session.add(MessageAttachment(message_id=mid, patient_id=pid, document_id=summary.id, filename=name))
        audit.record(session, actor, ATTACH, patient_id=pid, object_type="message", object_id=mid,
                     detail={"document": str(summary.id), "kind": summary.kind, "size": summary.size_bytes})
    return summary


# ---------------------------------------------------------------- delegates


def delegation(session: Session, actor: Actor | None) -> Delegation:
    """The doctor's delegate, the colleagues they may name, and whom they cover for (no PHI)."""
    require(session, actor, Action.MESSAGE_DELEGATE, audit_as=DELEGATE)
    assert actor is not None
    delegate_id = notify.delegate_of(session, actor.user_id)
    doctors = session.exec(select(User).where(User.role == Role.DOCTOR.value, User.active == True,  # noqa: E712
                                              User.id != actor.user_id)).all()
    choices = sorted((Recipient(str(u.id), u.display_name or "") for u in doctors), key=lambda r: r.label)
    names = _names(session, [delegate_id, *_delegators(session, actor.user_id)])
    covering = sorted(names[i] for i in _delegators(session, actor.user_id) if i in names)
    return Delegation(delegate_id, names.get(delegate_id, "") if delegate_id else "", choices, covering)


def set_delegate(session: Session, actor: Actor | None, *, delegate: Any) -> Delegation:
    """Name a colleague who answers this doctor's messages while they are away ("" when back)."""
    require(session, actor, Action.MESSAGE_DELEGATE, audit_as=DELEGATE)
    assert actor is not None
    text = delegate.strip() if isinstance(delegate, str) else ""
    row = session.exec(select(MessageDelegate).where(MessageDelegate.user_id == actor.user_id)).first()
    chosen: uuid.UUID | None = None
    if text:
        try:
            chosen = uuid.UUID(text[:64])
        except ValueError:
            chosen = None
        if chosen is None or chosen == actor.user_id or _active_doctor(session, chosen) is None:
            raise MessageInvalid("Choose a colleague.", errors={"delegate": "Choose a doctor of the clinic."})
        if row is None:
            row = MessageDelegate(user_id=actor.user_id, delegate_id=chosen)
        row.delegate_id, row.updated_at = chosen, utcnow()
        session.add(row)
    elif row is not None:
        session.delete(row)
    audit.record(session, actor, DELEGATE, object_type="message_delegate", object_id=actor.user_id,
                 detail={"delegate": str(chosen) if chosen else None})
    session.flush()
    return delegation(session, actor)


# ---------------------------------------------------------------- download my record


def record_export(session: Session, actor: Actor | None) -> list[dict[str, Any]]:
    """The patient's own messages as FHIR R4 Communication resources (for "download my record")."""
    pid = actor.patient_id if actor is not None and actor.role == Role.PATIENT else None
    require(session, actor, Action.MESSAGE_READ, Resource(patient_id=pid), audit_as=EXPORT)
    threads = {t.id: t for t in session.exec(select(MessageThread).where(MessageThread.patient_id == pid)).all()}
    rows = list(session.exec(select(Message).where(Message.patient_id == pid)
                             .order_by(Message.created_at, Message.id)).all())
    files: dict[uuid.UUID, list[MessageAttachment]] = {}
    for a in session.exec(select(MessageAttachment).where(MessageAttachment.patient_id == pid)).all():
        files.setdefault(a.message_id, []).append(a)
    names = _names(session, [t.doctor_id for t in threads.values()])
    out = []
    for m in rows:
        thread = threads[m.thread_id]
        resource: dict[str, Any] = {
            "resourceType": "Communication", "id": str(m.id), "status": "completed",
            "subject": {"reference": f"Patient/{pid}"},
            "topic": {"text": thread.subject},
            "category": [{"text": _with_label(thread.box, thread.doctor_id, names)}],
            "sent": _aware(m.created_at).isoformat(),
            "sender": {"display": m.author_name or ("You" if _from_patient(m.author_role) else "The clinic")},
            "payload": [{"contentString": m.body}, *({"contentReference": {
                "reference": f"DocumentReference/{a.document_id}", "display": a.filename}} for a in files.get(m.id, []))],
            "identifier": [{"system": "urn:patient-portal:message-thread", "value": str(thread.id)}],
        }
        if m.read_at is not None:
            resource["received"] = _aware(m.read_at).isoformat()
        out.append(resource)
    audit.record(session, actor, EXPORT, patient_id=pid, object_type=OBJECT, detail={"count": len(out)})
    return out
