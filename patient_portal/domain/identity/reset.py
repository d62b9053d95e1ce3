"""Forgotten passwords: a one-time emailed link, then a new password.

Asking answers the same whether or not an account uses the address (no account enumeration) and is
throttled per network address and per account. The link holds a 256-bit token (only its SHA-256 is
stored), works once, for RESET_TTL. Choosing the new password lifts any lockout and ends every
session of the account; MFA still applies at the next sign-in. Everything is audited; the account
owner gets a notice that the password changed.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from datetime import timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from patient_portal.core import audit, mail
from patient_portal.core.audit import AuditEvent
from patient_portal.core.db import unit_of_work, utcnow
from patient_portal.domain.identity import passwords
from patient_portal.domain.identity.models import PasswordReset, User
from patient_portal.domain.identity.sessions import actor_for, aware, hash_token, revoke_all_for_user
from patient_portal.domain.identity.signin import normalize_email
from patient_portal.settings import get_settings

log = logging.getLogger(__name__)

RESET_TTL = timedelta(minutes=30)
PER_ACCOUNT_PER_HOUR = 3
PER_ADDRESS_PER_HOUR = 10
REQUESTED = "auth.password_reset.request"
DONE = "auth.password_reset"
ROUTE = "/reset-password"


class ResetLinkInvalid(Exception):
    """The link is unknown, used, expired, or its account is closed."""

    def __init__(self) -> None:
        super().__init__("This link has expired or was already used. Ask for a new one below.")


def _recent_requests(session: Session, *, ip: str | None = None, user_id: uuid.UUID | None = None) -> int:
    since = utcnow() - timedelta(hours=1)
    stmt = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == REQUESTED, AuditEvent.at >= since)
    stmt = stmt.where(AuditEvent.ip == ip) if ip is not None else stmt.where(AuditEvent.object_id == str(user_id))
    return int(session.exec(stmt).one())


def _link_mail(user: User, token: str) -> mail.Mail:
    link = f"{get_settings().public_url}{ROUTE}?t={token}"
    return mail.Mail(
        to=user.email,
        subject="Choose a new password for Patient Portal",
        text=("Someone (hopefully you) asked to choose a new password for the Patient Portal account "
              f"of this email address.\n\nOpen this link within {RESET_TTL.seconds // 60} minutes to choose it:\n"
              f"{link}\n\nThe link works once. If you did not ask, ignore this email: your password stays "
              "as it is.\n"),
    )


def request_reset(email: str, *, ip: str | None = None) -> None:
    """Email a one-time link if an active account uses `email`. Says nothing either way."""
    address = normalize_email(email or "")
    if "@" not in address or len(address) > 320:
        return
    message = None
    with unit_of_work() as session:
        if ip and _recent_requests(session, ip=ip) >= PER_ADDRESS_PER_HOUR:
            return
        user = session.exec(select(User).where(User.email == address)).first()
        if user is None or not user.active:
            audit.record(session, None, REQUESTED, outcome="unknown_account", ip=ip)
            return
        actor = actor_for(user, ip=ip)
        if _recent_requests(session, user_id=user.id) >= PER_ACCOUNT_PER_HOUR:
            audit.record(session, actor, REQUESTED, object_type="user", object_id=user.id, outcome="throttled")
            return
        token = secrets.token_urlsafe(32)
        session.add(PasswordReset(user_id=user.id, token_hash=hash_token(token), expires_at=utcnow() + RESET_TTL,
                                  ip=(ip or None) and ip[:64]))
        audit.record(session, actor, REQUESTED, object_type="user", object_id=user.id)
        message = _link_mail(user, token)
    _deliver(message, actor, user.id)


def _deliver(message: mail.Mail, actor, user_id: uuid.UUID) -> None:
    try:
        mail.send(message)
    except mail.MailNotSent as exc:
        log.error("password email not sent: %s", exc)
        audit.record_now(actor, "auth.mail", object_type="user", object_id=user_id, outcome="failed",
                         detail={"subject": message.subject})


def _open_link(session: Session, token: str) -> tuple[PasswordReset, User]:
    if not token or len(token) > 200:
        raise ResetLinkInvalid()
    row = session.exec(select(PasswordReset).where(PasswordReset.token_hash == hash_token(token))).first()
    if row is None or row.used_at is not None or aware(row.expires_at) <= utcnow():
        raise ResetLinkInvalid()
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        raise ResetLinkInvalid()
    return row, user


def link_is_valid(token: str) -> bool:
    """May this link still be used (shown before the user types a new password)?"""
    with unit_of_work() as session:
        try:
            _open_link(session, token)
        except ResetLinkInvalid:
            return False
    return True


def complete_reset(token: str, password: str, *, ip: str | None = None) -> None:
    """Set the new password; raises ResetLinkInvalid or passwords.PasswordRejected."""
    if not link_is_valid(token):
        raise ResetLinkInvalid()
    passwords.check_policy(password)
    hashed = passwords.hash_password(password)  # before the transaction: Argon2 takes a while
    with unit_of_work() as session:
        _row, user = _open_link(session, token)  # again: the link may have been used meanwhile
        now = utcnow()
        user.password_hash = hashed
        user.failed_attempts, user.locked_until, user.updated_at = 0, None, now
        session.add(user)
        for pending in session.exec(select(PasswordReset).where(PasswordReset.user_id == user.id,
                                                                PasswordReset.used_at == None)).all():  # noqa: E711
            pending.used_at = now
            session.add(pending)
        ended = revoke_all_for_user(session, user.id, "password_reset")
        actor = actor_for(user, ip=ip)
        audit.record(session, actor, DONE, object_type="user", object_id=user.id, detail={"sessions_ended": ended})
        notice = mail.Mail(
            to=user.email, subject="Your Patient Portal password was changed",
            text=("The password of your Patient Portal account was just changed with an emailed link. "
                  "If that was not you, call the clinic straight away.\n"))
        user_id = user.id
    _deliver(notice, actor, user_id)
