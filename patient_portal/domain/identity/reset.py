"""Forgotten passwords: a one-time emailed link, then a new password.

Asking answers the same whether or not an account uses the address (no account enumeration) and is
throttled per network address and per account. The link (see email_links) works once, for
RESET_TTL; messages go out through the job outbox after the commit. Choosing the new password lifts any lockout and ends every session of the account; MFA
still applies at the next sign-in. Everything is audited; the owner gets a notice of the change.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from patient_portal.core import audit
from patient_portal.core.access import Actor
from patient_portal.core.audit import AuditEvent
from patient_portal.core.db import unit_of_work, utcnow
from patient_portal.core.errors import Invalid
from patient_portal.domain.identity import account_mail, email_links, passwords, service
from patient_portal.domain.identity.credentials import credentials_changed
from patient_portal.domain.identity.models import User
from patient_portal.domain.identity.sessions import actor_for
from patient_portal.domain.identity.signin import normalize_email

RESET_TTL = timedelta(minutes=30)
ADMIN_LINK_TTL = timedelta(hours=24)  # sent by the clinic, often to someone who reads mail later
PER_ACCOUNT_PER_HOUR = 3
PER_ADDRESS_PER_HOUR = 10
REQUESTED = "auth.password_reset.request"
DONE = "auth.password_reset"
ROUTE = "/reset-password"


class ResetLinkInvalid(Invalid):
    """The link is unknown, used, expired, or its account is closed."""

    def __init__(self) -> None:
        super().__init__("This link has expired or was already used. Ask for a new one below.")


def _requests_in_last_hour(session: Session, *where: Any) -> int:
    """Self-service requests (audited as REQUESTED) matching `where`; links an admin sent don't count."""
    stmt = select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == REQUESTED, AuditEvent.at >= utcnow() - timedelta(hours=1), *where)
    return int(session.exec(stmt).one())


def request_reset(email: str, *, ip: str | None = None) -> None:
    """Email a one-time link if an active account uses `email`. Says nothing either way."""
    address = normalize_email(email or "")
    if "@" not in address or len(address) > 320:
        return
    with unit_of_work() as session:
        if ip and _requests_in_last_hour(session, AuditEvent.ip == ip) >= PER_ADDRESS_PER_HOUR:
            return
        user = session.exec(select(User).where(User.email == address)).first()
        if user is None or not user.active:
            audit.record(session, None, REQUESTED, outcome="unknown_account", ip=ip)
            return
        actor = actor_for(user, ip=ip)
        sent = _requests_in_last_hour(session, AuditEvent.object_id == str(user.id), AuditEvent.outcome == "success")
        if sent >= PER_ACCOUNT_PER_HOUR:
            audit.record(session, actor, REQUESTED, object_type="user", object_id=user.id, outcome="throttled")
            return
        token = email_links.issue(session, user, "reset", RESET_TTL, ip)
        audit.record(session, actor, REQUESTED, object_type="user", object_id=user.id)
        account_mail.queue(session, "reset_link", user, link=email_links.url(ROUTE, token),
                           valid=f"{RESET_TTL.seconds // 60} minutes")


def send_link_for_user(session: Session, actor: Actor | None, user_id: uuid.UUID | str) -> str:
    """An admin emails an account a link to choose a password (which also confirms the address).

    Returns the address it went to; raises AccessDenied for anyone but an admin."""
    service.authorize_user_admin(session, actor, "user.reset_link")
    user = service.get_user_row(session, user_id)
    if not user.active:
        raise service.UserInputError("user", "Reactivate the account first.")
    token = email_links.issue(session, user, "reset", ADMIN_LINK_TTL)
    account_mail.queue(session, "admin_reset_link", user, link=email_links.url(ROUTE, token), valid="24 hours")
    audit.record(session, actor, "user.reset_link", object_type="user", object_id=user.id)
    return user.email


def link_is_valid(token: str) -> bool:
    """May this link still be used (shown before the user types a new password)?"""
    with unit_of_work() as session:
        try:
            email_links.open_link(session, token, "reset")
        except email_links.LinkInvalid:
            return False
    return True


def complete_reset(token: str, password: str, *, ip: str | None = None) -> None:
    """Set the new password; raises ResetLinkInvalid or passwords.PasswordRejected."""
    if not link_is_valid(token):
        raise ResetLinkInvalid()
    passwords.check_policy(password)
    hashed = passwords.hash_password(password)  # before the transaction: Argon2 takes a while
    with unit_of_work() as session:
        try:
            _row, user = email_links.open_link(session, token, "reset")  # again: it may have been used meanwhile
        except email_links.LinkInvalid:
            raise ResetLinkInvalid() from None
        now = utcnow()
        user.password_hash = hashed
        user.failed_attempts, user.locked_until, user.updated_at = 0, None, now
        user.email_verified = True  # the link proved the address
        session.add(user)
        ended = credentials_changed(session, user.id, "password_reset")  # this link and every other
        actor = actor_for(user, ip=ip)
        audit.record(session, actor, DONE, object_type="user", object_id=user.id, detail={"sessions_ended": ended})
        account_mail.queue(session, "password_changed", user, how="with an emailed link")
