"""Retention of the identity area: one-time email links once used or expired, and sign-in sessions
that ended (``sessions.prune_sessions``'s rule: the audit trail keeps their history)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_
from sqlmodel import Session, select

from patient_portal.core.retention import rule
from patient_portal.domain.identity import sessions
from patient_portal.domain.identity.models import EmailLink, UserSession

#: a used or expired link is kept this long (a person asking "did my link work?" can be answered)
LINKS_KEPT = timedelta(days=7)


def _dead_links(now: datetime):
    cutoff = now - LINKS_KEPT
    return or_(EmailLink.expires_at < cutoff, EmailLink.used_at < cutoff)


def _count_links(session: Session, now: datetime) -> int:
    return int(session.exec(select(func.count()).select_from(EmailLink).where(_dead_links(now))).one())


@rule("identity.email_links", "Password-reset and address-confirmation links", "7 days after use or expiry",
      _count_links)
def _remove_links(session: Session, now: datetime) -> int:
    return int(session.exec(delete(EmailLink).where(_dead_links(now))).rowcount or 0)  # type: ignore[call-overload]


def _count_sessions(session: Session, now: datetime) -> int:
    return int(session.exec(select(func.count()).select_from(UserSession).where(sessions.ended_before(now))).one())


@rule("identity.sessions", "Sign-in sessions that ended", "30 days after they ended (or passed 12 hours)",
      _count_sessions)
def _remove_sessions(session: Session, now: datetime) -> int:
    return sessions.prune_sessions(session, now)
