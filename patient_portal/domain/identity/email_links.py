"""One-time links sent by email: a 256-bit token in the URL, only its SHA-256 in the database.

Used for choosing a new password (``reset``) and confirming a new account's address (``verify``).
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta

from sqlmodel import Session, select

from patient_portal.core.db import utcnow
from patient_portal.core.errors import Invalid
from patient_portal.domain.identity.models import EmailLink, User
from patient_portal.domain.identity.sessions import aware, hash_token
from patient_portal.settings import get_settings

PURPOSES = ("reset", "verify")


class LinkInvalid(Invalid):
    """The link is unknown, used, expired, or its account is closed."""

    def __init__(self, message: str = "This link has expired or was already used."):
        super().__init__(message)


def url(path: str, token: str) -> str:
    return f"{get_settings().public_url}{path}?t={token}"


def issue(session: Session, user: User, purpose: str, ttl: timedelta, ip: str | None = None) -> str:
    """A fresh link token for `user` (only its hash is stored)."""
    assert purpose in PURPOSES
    token = secrets.token_urlsafe(32)
    session.add(EmailLink(user_id=user.id, purpose=purpose, token_hash=hash_token(token),
                          expires_at=utcnow() + ttl, ip=(ip or None) and ip[:64]))
    return token


def find(session: Session, token: str, purpose: str) -> tuple[EmailLink, User]:
    """The link and its account, whatever their state; raises LinkInvalid when there is none."""
    if not token or len(token) > 200:
        raise LinkInvalid()
    row = session.exec(select(EmailLink).where(EmailLink.token_hash == hash_token(token),
                                               EmailLink.purpose == purpose)).first()
    user = session.get(User, row.user_id) if row is not None else None
    if row is None or user is None or not user.active:
        raise LinkInvalid()
    return row, user


def open_link(session: Session, token: str, purpose: str) -> tuple[EmailLink, User]:
    """The link if it may still be used; raises LinkInvalid."""
    row, user = find(session, token, purpose)
    if row.used_at is not None or aware(row.expires_at) <= utcnow():
        raise LinkInvalid()
    return row, user


def use_all(session: Session, user_id: uuid.UUID, purpose: str, now: datetime) -> None:
    """Mark every open link of this purpose used (the one just opened, and older ones)."""
    for row in session.exec(select(EmailLink).where(EmailLink.user_id == user_id, EmailLink.purpose == purpose,
                                                    EmailLink.used_at == None)).all():  # noqa: E711
        row.used_at = now
        session.add(row)

