"""Signing in: generic errors, per-account and per-IP throttling, MFA codes, session rotation.

``sign_in`` is sync and slow on purpose (Argon2id); the API uses ``sign_in_async``, which runs the
database phases through ``core.db.off_loop`` and the hash in a small pool of its own.
The password check happens outside any write transaction.
"""

from __future__ import annotations

import asyncio
import uuid
import weakref
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func
from sqlmodel import Session, select

from patient_portal.core import audit
from patient_portal.core.clock import plain_time
from patient_portal.core.db import off_loop, unit_of_work, utcnow
from patient_portal.domain.identity import account_mail, mfa, passwords, signed_in
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
        session.exec(delete(SignInFailure).where(SignInFailure.at < utcnow() - IP_WINDOW))  # keep it small
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


@dataclass(frozen=True)
class Attempt:
    """One sign-in attempt, normalized."""

    email: str
    password: str
    code: str | None
    ip: str
    user_agent: str | None
    old_token: str | None

    @classmethod
    def of(cls, email: str, password: str, code: str | None, ip: str | None, user_agent: str | None,
           old_token: str | None) -> Attempt:
        return cls(normalize_email(email), password or "", code, (ip or "unknown")[:64], user_agent, old_token)


def lookup(attempt: Attempt) -> tuple[str, uuid.UUID | None, str]:
    """Phase 1 (database): verdict ``throttled``/``unknown``/``locked``/``check``, the user id, and the
    PHC string to verify against (a dummy one when there is nothing to check, so timing is alike)."""
    with unit_of_work() as session:
        if _ip_failures(session, attempt.ip) >= IP_MAX_FAILURES:
            return "throttled", None, passwords.dummy_hash()
        user = None
        if attempt.email and len(attempt.password) <= passwords.MAX_LENGTH:
            user = session.exec(select(User).where(User.email == attempt.email)).first()
    if get_settings().production and attempt.email.endswith("@demo.clinic"):
        user = None
    if user is None or not user.active:
        return "unknown", None, passwords.dummy_hash()
    locked = aware(user.locked_until)
    if locked is not None and locked > utcnow():
        return "locked", user.id, passwords.dummy_hash()
    return "check", user.id, user.password_hash


def conclude(attempt: Attempt, verdict: str, user_id: uuid.UUID | None, password_ok: bool) -> SignInResult:
    """Phase 3 (database): record the failure, or check the MFA code and open the session."""
    if verdict == "throttled":
        audit.record_now(None, "auth.sign_in", outcome="throttled", ip=attempt.ip, detail={"reason": "ip_limit"})
        return SignInResult(False, error="throttled")
    if verdict == "unknown":
        return _fail(attempt.ip, None, "unknown_or_inactive")
    if verdict == "locked":
        return _fail(attempt.ip, user_id, "locked")
    if not password_ok:
        return _fail(attempt.ip, user_id, "password")
    return _complete(user_id, attempt.code, ip=attempt.ip, user_agent=attempt.user_agent,
                     old_token=attempt.old_token)


def sign_in(email: str, password: str, code: str | None = None, *, ip: str = "unknown",
            user_agent: str | None = None, old_token: str | None = None) -> SignInResult:
    """Check credentials (and MFA code when enrolled); on success open a fresh session. Sync and slow."""
    attempt = Attempt.of(email, password, code, ip, user_agent, old_token)
    verdict, user_id, encoded = lookup(attempt)
    return conclude(attempt, verdict, user_id, passwords.verify_password(attempt.password, encoded))


_SLOTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()


def _slots() -> asyncio.Semaphore:
    """Sign-ins in progress at once, per event loop: the rest wait on the loop, not in the shared
    DB pool, so other users' events never queue behind a burst of sign-ins."""
    loop = asyncio.get_running_loop()
    if loop not in _SLOTS:
        _SLOTS[loop] = asyncio.Semaphore(passwords.hash_workers() + 1)
    return _SLOTS[loop]


async def sign_in_async(email: str, password: str, code: str | None = None, *, ip: str = "unknown",
                        user_agent: str | None = None, old_token: str | None = None) -> SignInResult:
    """The same, for the web process: database phases in the DB pool, Argon2id in its own small pool,
    a bounded number at a time."""
    attempt = Attempt.of(email, password, code, ip, user_agent, old_token)
    async with _slots():
        verdict, user_id, encoded = await off_loop(lookup, attempt)
        password_ok = await passwords.verify_off_loop(attempt.password, encoded)
        return await off_loop(conclude, attempt, verdict, user_id, password_ok)


def _complete(user_id: uuid.UUID, code: str | None, *, ip: str, user_agent: str | None,
              old_token: str | None) -> SignInResult:
    """Password is right: check the MFA code, rotate the session, reset counters."""
    with unit_of_work() as session:
        user = session.get(User, user_id)
        if not user.email_verified:  # only the one who knows the password learns this
            audit.record(session, actor_for(user, ip=ip), "auth.sign_in", object_type="user", object_id=user.id,
                         outcome="denied", detail={"reason": "email_unconfirmed"})
            return SignInResult(False, error="unverified")
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
            if signed_in.is_new_device(session, row):  # tell the owner, in case it was not them
                account_mail.queue(session, "new_sign_in", user, device=signed_in.describe_agent(user_agent),
                                   ip=ip or "an unknown address", when=plain_time(row.created_at))
            audit.record(session, actor_for(user, session_id=row.id, ip=ip), "auth.sign_in",
                         object_type="user_session", object_id=row.id, detail={"mfa": user.mfa_enabled})
            return SignInResult(True, token=token, role=user.role, needs_enrolment=needs_mfa_enrolment(user))
    if reason == "code_missing":
        # first step passed: ask for the code without counting a failure
        return SignInResult(False, error="code")
    return _fail(ip, user_id, "code", error="code")
