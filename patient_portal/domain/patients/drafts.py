"""Unsaved registration wizards, kept server-side per user (encrypted) so a reload loses nothing.

Kept on the server rather than in browser storage because front-desk computers are shared: a draft
in localStorage would outlive sign-out and be readable by the next person at the desk.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import Session, select

from patient_portal.core.access import Action, Actor
from patient_portal.core.db import utcnow
from patient_portal.domain.identity.sessions import aware
from patient_portal.domain.patients.common import guard
from patient_portal.domain.patients.models import RegistrationDraftRow
from patient_portal.domain.patients.registration import RegistrationDraft

MAX_AGE = timedelta(hours=24)
MAX_BYTES = 200_000


def _row(session: Session, actor: Actor) -> RegistrationDraftRow | None:
    return session.exec(select(RegistrationDraftRow).where(RegistrationDraftRow.user_id == actor.user_id)).first()


def save_draft(session: Session, actor: Actor, data: dict[str, Any], step: int) -> None:
    """Keep the actor's wizard progress (replaces the previous draft)."""
    guard(session, actor, Action.PATIENT_REGISTER)
    clean = RegistrationDraft.from_dict(data).as_dict()
    if len(str(clean)) > MAX_BYTES:
        return
    row = _row(session, actor) or RegistrationDraftRow(user_id=actor.user_id, data={})
    row.data = clean
    row.step = max(1, min(5, int(step)))
    row.updated_at = utcnow()
    session.add(row)


def load_draft(session: Session, actor: Actor) -> tuple[dict[str, Any], int] | None:
    """The actor's draft and step, unless there is none or it is older than a day."""
    guard(session, actor, Action.PATIENT_REGISTER)
    row = _row(session, actor)
    if row is None:
        return None
    if aware(row.updated_at) < utcnow() - MAX_AGE:
        session.delete(row)
        return None
    return RegistrationDraft.from_dict(row.data).as_dict(), row.step


def discard_draft(session: Session, actor: Actor) -> None:
    guard(session, actor, Action.PATIENT_REGISTER)
    row = _row(session, actor)
    if row is not None:
        session.delete(row)
