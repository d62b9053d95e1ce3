"""Training: an admin publishes a policy or training document that chosen roles must acknowledge;
each account of those roles is asked at its next sign-in (the page guard sends it to the
acknowledgement page until it has); a report shows who has not. Everything is audited.

Documents are few (a handful a year), so "which apply to this role" is read in Python from the
active ones rather than in SQL over a JSON column the two databases query differently.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists
from sqlmodel import Session, select

from patient_portal.core import audit
from patient_portal.core.access import Action, Actor, Role, require
from patient_portal.core.clock import plain_time
from patient_portal.core.db import read_only, utcnow
from patient_portal.core.errors import Invalid, NotFound
from patient_portal.domain.identity.models import User
from patient_portal.domain.training.models import TrainingAcknowledgement, TrainingDocument

OBJECT = "training_document"
ROLES = tuple(r.value for r in Role)


class TrainingInvalid(Invalid):
    def __init__(self, field: str, message: str):
        super().__init__(message, {field: message})


@dataclass(frozen=True)
class DocumentView:
    """A document as its reader, or the admin's list, shows it."""

    id: str
    title: str
    body: str
    roles: list[str]
    published: str
    active: bool
    acknowledged: int = 0
    due: int = 0


@dataclass(frozen=True)
class Outstanding:
    """An account that has not acknowledged a document yet."""

    name: str
    email: str
    role: str
    last_sign_in: str


def _doc(session: Session, document_id: Any) -> TrainingDocument:
    try:
        row = session.get(TrainingDocument, uuid.UUID(str(document_id)))
    except ValueError:
        row = None
    if row is None:
        raise NotFound("No such document.")
    return row


def _view(row: TrainingDocument, acknowledged: int = 0, due: int = 0) -> DocumentView:
    return DocumentView(str(row.id), row.title, row.body, list(row.roles), plain_time(row.created_at),
                        row.retired_at is None, acknowledged, due)


def publish(session: Session, actor: Actor | None, *, title: Any, body: Any, roles: Any) -> DocumentView:
    """Publish a document the accounts of `roles` must acknowledge (from their next sign-in)."""
    require(session, actor, Action.TRAINING_MANAGE, audit_as="training.publish", object_type=OBJECT)
    clean_title = " ".join(str(title or "").split())
    text = str(body or "").strip()
    chosen = sorted({str(r) for r in (roles or [])}, key=ROLES.index) if all(str(r) in ROLES for r in roles or []) \
        else None
    if not clean_title or len(clean_title) > 200:
        raise TrainingInvalid("title", "Give the document a title (up to 200 characters).")
    if not text or len(text) > 50_000:
        raise TrainingInvalid("body", "Write the text people must read (up to 50,000 characters).")
    if not chosen:
        raise TrainingInvalid("roles", "Choose at least one role that must acknowledge it.")
    row = TrainingDocument(title=clean_title, body=text, roles=chosen, published_by=actor.user_id)
    session.add(row)
    session.flush()
    audit.record(session, actor, "training.publish", object_type=OBJECT, object_id=row.id,
                 detail={"roles": chosen, "title": clean_title})
    return _view(row)


def retire(session: Session, actor: Actor | None, *, document_id: Any) -> DocumentView:
    """Stop asking for a document (its acknowledgements stay on record)."""
    require(session, actor, Action.TRAINING_MANAGE, audit_as="training.retire", object_type=OBJECT)
    row = _doc(session, document_id)
    if row.retired_at is None:
        row.retired_at = row.updated_at = utcnow()
        session.add(row)
        audit.record(session, actor, "training.retire", object_type=OBJECT, object_id=row.id)
    return _view(row)


def _accounts(session: Session, roles: list[str]) -> list[User]:
    return list(session.exec(select(User).where(User.active == True, User.role.in_(roles))  # noqa: E712
                             .order_by(User.email)).all())


def _acknowledged_by(session: Session, document_id: uuid.UUID) -> set[uuid.UUID]:
    return set(session.exec(select(TrainingAcknowledgement.user_id)
                            .where(TrainingAcknowledgement.document_id == document_id)).all())


def list_documents(session: Session, actor: Actor | None) -> list[DocumentView]:
    """Every document, newest first, with how many of the accounts it asks have acknowledged it."""
    require(session, actor, Action.TRAINING_MANAGE, audit_as="training.list", object_type=OBJECT)
    rows = session.exec(select(TrainingDocument).order_by(TrainingDocument.created_at.desc())).all()
    views = []
    for row in rows:
        ids = {u.id for u in _accounts(session, list(row.roles))}
        views.append(_view(row, len(ids & _acknowledged_by(session, row.id)), len(ids)))
    return views


def outstanding(session: Session, actor: Actor | None, *, document_id: Any) -> list[Outstanding]:
    """The report: active accounts of the document's roles that have not acknowledged it."""
    require(session, actor, Action.TRAINING_MANAGE, audit_as="training.report", object_type=OBJECT)
    row = _doc(session, document_id)
    done = _acknowledged_by(session, row.id)
    people = [u for u in _accounts(session, list(row.roles)) if u.id not in done]
    audit.record(session, actor, "training.report", object_type=OBJECT, object_id=row.id,
                 detail={"outstanding": len(people)})
    return [Outstanding(u.display_name or "", u.email, u.role,
                        plain_time(u.last_sign_in_at) if u.last_sign_in_at else "never") for u in people]


def _pending_rows(session: Session, user_id: uuid.UUID, role: str) -> list[TrainingDocument]:
    docs = [d for d in session.exec(select(TrainingDocument).where(TrainingDocument.retired_at.is_(None))
                                    .order_by(TrainingDocument.created_at)).all() if role in d.roles]
    if not docs:
        return []
    done = set(session.exec(select(TrainingAcknowledgement.document_id).where(
        TrainingAcknowledgement.user_id == user_id,
        TrainingAcknowledgement.document_id.in_([d.id for d in docs]))).all())
    return [d for d in docs if d.id not in done]


def has_pending(actor: Actor | None) -> bool:
    """Must this actor acknowledge something before going on? The page guard's question, on every
    page load: one read-only statement (active documents this account has not acknowledged, their
    roles only), their own account only."""
    if actor is None:
        return False
    done = exists().where(TrainingAcknowledgement.document_id == TrainingDocument.id,
                          TrainingAcknowledgement.user_id == actor.user_id)
    with read_only() as session:
        rows = session.exec(select(TrainingDocument.roles).where(TrainingDocument.retired_at.is_(None), ~done)).all()
    return any(actor.role.value in (roles or []) for roles in rows)


def pending(session: Session, actor: Actor | None) -> list[DocumentView]:
    """The documents the actor must still acknowledge, oldest first."""
    require(session, actor, Action.TRAINING_ACKNOWLEDGE, audit_as="training.pending", object_type=OBJECT)
    return [_view(d) for d in _pending_rows(session, actor.user_id, actor.role.value)]


def acknowledge(session: Session, actor: Actor | None, *, document_id: Any) -> bool:
    """The actor confirms they read a document asked of their role; False when already done."""
    require(session, actor, Action.TRAINING_ACKNOWLEDGE, audit_as="training.acknowledge", object_type=OBJECT)
    row = _doc(session, document_id)
    if row.retired_at is not None or actor.role.value not in row.roles:
        raise NotFound("No such document.")
    if actor.user_id in _acknowledged_by(session, row.id):
        return False
    session.add(TrainingAcknowledgement(document_id=row.id, user_id=actor.user_id))
    audit.record(session, actor, "training.acknowledge", object_type=OBJECT, object_id=row.id)
    return True
