"""Signing in: generic errors, per-account and per-IP throttling, MFA codes, session rotation.

``sign_in`` is sync and slow on purpose (Argon2id); the API runs it through ``core.db.off_loop``.
The password check happens outside any write transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from patient_portal.core import audit
from patient_portal.core.db import unit_of_work, utcnow
from patient_portal.domain.identity import mfa, passwords
from patient_portal.domain.identity.models import SignInFailure, User, UserSession
from patient_portal.domain.identity.sessions import (
    actor_for,
    aware,
    end_session,
    hash_token,
    needs_mfa_enrolment,
    open_session,
)
from patient_portal.settings import get_settings

ACCOUNT_MAX_FAILURES = 5
ACCOUNT_LOCK = timedelta(minutes=15)
IP_MAX_FAILURES = 20
IP_WINDOW = timedelta(minutes=15)
GENERIC_ERROR = "Email or password is not right"


@dataclass(frozen=True)
class SignInResult:
    """ok with a token and role, or an error code: ``credentials``, ``code`` or ``throttled``."""

    ok: bool
    token: str | None = None
    role: str | None = None
    error: str | None = None
    needs_enrolment: bool = False


def normalize_email(email: str | None) -> str:
    return (email or "").strip().lower()


def _ip_failures(session: Session, ip: str) -> int:
    since = utcnow() - IP_WINDOW
    stmt = select(func.count()).select_from(SignInFailure).where(SignInFailure.ip == ip, SignInFailure.at > since)
    return int(session.exec(stmt).one())


def _fail(ip: str, user_id: uuid.UUID | None, reason: str, error: str = "credentials") -> SignInResult:
    """Count the failure against the IP and the account (locking it at the limit); audit it."""
    with unit_of_work() as session:
        session.add(SignInFailure(ip=ip))
        user = session.get(User, user_id) if user_id else None
        actor = actor_for(user, ip=ip) if user else None
        if user is not None and reason in ("password", "code"):
            user.failed_attempts = (user.failed_attempts or 0) + 1
            if user.failed_attempts >= ACCOUNT_MAX_FAILURES:
                user.locked_until = utcnow() + ACCOUNT_LOCK
                user.failed_attempts = 0
                audit.record(session, actor, "auth.lockout", object_type="user", object_id=user.id,
                             outcome="locked", ip=ip, detail={"minutes": int(ACCOUNT_LOCK.total_seconds() // 60)})
            session.add(user)
        audit.record(session, actor, "auth.sign_in", object_type="user" if user else None,
                     object_id=user.id if user else None, outcome="failure", ip=ip, detail={"reason": reason})
    return SignInResult(False, error=error)


def _throttled(ip: str) -> bool:
    with unit_of_work() as session:
        return _ip_failures(session, ip) >= IP_MAX_FAILURES


def _load(email: str) -> User | None:
    with unit_of_work() as session:
        return session.exec(select(User).where(User.email == email)).first()


def sign_in(email: str, password: str, code: str | None = None, *, ip: str = "unknown",
            user_agent: str | None = None, old_token: str | None = None) -> SignInResult:
    """Check credentials (and MFA code when enrolled); on success open a fresh session."""
    email = normalize_email(email)
    password = password or ""
    ip = (ip or "unknown")[:64]
    settings = get_settings()
    if _throttled(ip):
        passwords.burn_time(password)
        audit.record_now(None, "auth.sign_in", outcome="throttled", ip=ip, detail={"reason": "ip_limit"})
        return SignInResult(False, error="throttled")
    user = _load(email) if email and len(password) <= passwords.MAX_LENGTH else None
    if settings.production and email.endswith("@demo.clinic"):
        user = None
    if user is None or not user.active:
        passwords.burn_time(password)
        return _fail(ip, None, "unknown_or_inactive")
    locked = aware(user.locked_until)
    if locked is not None and locked > utcnow():
        passwords.burn_time(password)
        return _fail(ip, user.id, "locked")
    if not passwords.verify_password(password, user.password_hash):
        return _fail(ip, user.id, "password")
    return _complete(user.id, code, ip=ip, user_agent=user_agent, old_token=old_token)


def _complete(user_id: uuid.UUID, code: str | None, *, ip: str, user_agent: str | None,
              old_token: str | None) -> SignInResult:
    """Password is right: check the MFA code, rotate the session, reset counters."""
    with unit_of_work() as session:
        user = session.get(User, user_id)
        if user.mfa_enabled and not mfa.use_code(user, code):
            reason = "code_missing" if not (code or "").strip() else "code"
            code_failed = True
        else:
            code_failed = False
        if code_failed:
            session.add(user)  # nothing consumed; fall through to _fail after this transaction
        else:
            if old_token:
                old = session.exec(select(UserSession).where(UserSession.token_hash == hash_token(old_token))).first()
                if old is not None and not old.revoked:
                    end_session(old, "rotated")
                    session.add(old)
            user.failed_attempts = 0
            user.locked_until = None
            user.last_sign_in_at = utcnow()
            session.add(user)
            token, row = open_session(session, user, ip=ip, user_agent=user_agent)
            audit.record(session, actor_for(user, session_id=row.id, ip=ip), "auth.sign_in",
                         object_type="user_session", object_id=row.id, detail={"mfa": user.mfa_enabled})
            return SignInResult(True, token=token, role=user.role, needs_enrolment=needs_mfa_enrolment(user))
    if reason == "code_missing":
        # first step passed: ask for the code without counting a failure
        return SignInResult(False, error="code")
    return _fail(ip, user_id, "code", error="code")
