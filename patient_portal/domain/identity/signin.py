"""Signing in: generic errors, per-account and per-IP throttling, MFA codes, session rotation.

``sign_in`` is sync and slow on purpose (Argon2id); the API uses ``sign_in_async``, which runs the
database phases through ``core.db.off_loop`` and the hash in a small pool of its own.
The password check happens outside any write transaction.

Two steps for accounts with MFA: a right password without a code answers ``error="code"`` with a
``ticket`` (``mfa_ticket``: short-lived, single-use, bound to the account) instead of a session;
``redeem`` takes that ticket and the code. A wrong password never gets a ticket, and the answer to
it is the same as for an unknown address. A code may still come with the password in one request
(scripts, the JSON API).
"""

from __future__ import annotations

import asyncio
import uuid
import weakref
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func
from sqlmodel import Session, select

from patient_portal.core import audit, metrics
from patient_portal.core.clock import plain_time
from patient_portal.core.db import off_loop, read_only, unit_of_work, utcnow
from patient_portal.domain.identity import account_mail, mfa, mfa_ticket, passwords, signed_in
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
CODE_MAX_LENGTH = 32


@dataclass(frozen=True)
class SignInResult:
    """ok with a token and role, or an error code: ``credentials``, ``code`` (with a ``ticket`` for
    the code step when the password was right), ``ticket`` (the code step's ticket is gone: expired,
    used, forged, or the account changed), ``code_locked`` (that wrong code locked the account),
    ``unverified`` or ``throttled``."""

    ok: bool
    token: str | None = None
    role: str | None = None
    error: str | None = None
    needs_enrolment: bool = False
    ticket: str | None = None


def normalize_email(email: str | None) -> str:
    return (email or "").strip().lower()


def _ip_failures(session: Session, ip: str) -> int:
    since = utcnow() - IP_WINDOW
    stmt = select(func.count()).select_from(SignInFailure).where(SignInFailure.ip == ip, SignInFailure.at > since)
    return int(session.exec(stmt).one())


def _ip_throttled(ip: str) -> bool:
    with read_only() as session:
        return _ip_failures(session, ip) >= IP_MAX_FAILURES


def _record_failure(session: Session, ip: str, user: User | None, reason: str) -> bool:
    """In the caller's transaction: count the failure against the IP and (for a wrong password or
    code) the account, locking it at the limit; audit it. True when this failure locked the account."""
    session.exec(delete(SignInFailure).where(SignInFailure.at < utcnow() - IP_WINDOW))  # keep it small
    session.add(SignInFailure(ip=ip))
    actor = actor_for(user, ip=ip) if user else None
    locked = False
    if user is not None and reason in ("password", "code"):
        user.failed_attempts = (user.failed_attempts or 0) + 1
        if user.failed_attempts >= ACCOUNT_MAX_FAILURES:
            user.locked_until = utcnow() + ACCOUNT_LOCK
            user.failed_attempts = 0
            locked = True
            audit.record(session, actor, "auth.lockout", object_type="user", object_id=user.id,
                         outcome="locked", ip=ip, detail={"minutes": int(ACCOUNT_LOCK.total_seconds() // 60)})
        session.add(user)
    audit.record(session, actor, "auth.sign_in", object_type="user" if user else None,
                 object_id=user.id if user else None, outcome="failure", ip=ip, detail={"reason": reason})
    metrics.sign_in_failed(reason)
    return locked


def _fail(ip: str, user_id: uuid.UUID | None, reason: str, error: str = "credentials") -> SignInResult:
    """Count the failure against the IP and the account (locking it at the limit); audit it."""
    with unit_of_work() as session:
        user = session.get(User, user_id) if user_id else None
        _record_failure(session, ip, user, reason)
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
        return cls(normalize_email(email), password or "", (code or "")[:CODE_MAX_LENGTH] or None,
                   (ip or "unknown")[:64], user_agent, old_token)


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
        metrics.sign_in_failed("throttled")
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


def _open(session: Session, user: User, *, ip: str, user_agent: str | None, old_token: str | None) -> SignInResult:
    """Everything checked: rotate the session, reset the counters, tell the owner about a new device."""
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


def _after_wrong_code(user_id: uuid.UUID, locked: bool, expires_at: int | None) -> SignInResult:
    """A wrong code was counted: a fresh ticket for another try (same expiry), unless it locked the account."""
    if locked:
        return SignInResult(False, error="code_locked")
    with read_only() as session:  # the state as committed, which the next try will be checked against
        user = session.get(User, user_id)
        locked_until = aware(user.locked_until) if user is not None else None
        if user is None or not user.active or (locked_until is not None and locked_until > utcnow()):
            return SignInResult(False, error="ticket")
        return SignInResult(False, error="code", ticket=mfa_ticket.issue(user, expires_at=expires_at))


def _complete(user_id: uuid.UUID, code: str | None, *, ip: str, user_agent: str | None,
              old_token: str | None) -> SignInResult:
    """Password is right: ask for the code (a ticket), or check the one given and open the session."""
    with unit_of_work() as session:
        user = session.get(User, user_id, with_for_update=True)
        actor = actor_for(user, ip=ip)
        if not user.email_verified:  # only the one who knows the password learns this
            audit.record(session, actor, "auth.sign_in", object_type="user", object_id=user.id,
                         outcome="denied", detail={"reason": "email_unconfirmed"})
            return SignInResult(False, error="unverified")
        if not user.mfa_enabled:
            return _open(session, user, ip=ip, user_agent=user_agent, old_token=old_token)
        if not (code or "").strip():
            # first step passed: ask for the code without counting a failure
            audit.record(session, actor, "auth.sign_in", object_type="user", object_id=user.id,
                         outcome="pending", ip=ip, detail={"reason": "code_needed"})
            return SignInResult(False, error="code", ticket=mfa_ticket.issue(user))
        if mfa.use_code(user, code):
            return _open(session, user, ip=ip, user_agent=user_agent, old_token=old_token)
        locked = _record_failure(session, ip, user, "code")
    return _after_wrong_code(user_id, locked, None)


def sign_in_federated(user_id: uuid.UUID, *, mfa_asserted: bool, ip: str = "unknown",
                      user_agent: str | None = None, old_token: str | None = None) -> SignInResult:
    """The outside identity provider vouched for this account (``sso.finish``): open the session —
    or, when the account uses two-step sign-in and the provider did not assert a second factor
    (``amr``), go on to the same code step a password sign-in takes."""
    with unit_of_work() as session:
        user = session.get(User, user_id, with_for_update=True)
        if user is None or not user.active:
            return SignInResult(False, error="credentials")
        if mfa_asserted or not user.mfa_enabled:
            return _open(session, user, ip=ip, user_agent=user_agent, old_token=old_token)
    return _complete(user_id, None, ip=ip, user_agent=user_agent, old_token=old_token)


def redeem(ticket: str | None, code: str | None, *, ip: str = "unknown", user_agent: str | None = None,
           old_token: str | None = None) -> SignInResult:
    """The code step: the ticket from the password step and the code (TOTP or recovery).

    A missing code changes nothing (the same ticket comes back). A wrong code counts towards the
    account's lockout as in one step, and answers with a fresh ticket for the next try unless it
    locked the account. A ticket that is expired, used, altered or no longer matches its account
    answers ``ticket`` (back to the password) and counts against the address."""
    ip = (ip or "unknown")[:64]
    code = (code or "")[:CODE_MAX_LENGTH]
    if _ip_throttled(ip):
        audit.record_now(None, "auth.sign_in", outcome="throttled", ip=ip,
                         detail={"reason": "ip_limit", "step": "code"})
        metrics.sign_in_failed("throttled")
        return SignInResult(False, error="throttled")
    claim = mfa_ticket.read(ticket)
    if claim is None:
        return _fail(ip, None, "ticket", error="ticket")
    if not code.strip():
        return SignInResult(False, error="code", ticket=claim.raw)
    with unit_of_work() as session:
        user = session.get(User, claim.user_id, with_for_update=True)  # one use at a time
        locked_until = aware(user.locked_until) if user is not None else None
        usable = (mfa_ticket.matches(claim, user) and user.active and user.mfa_enabled and user.email_verified
                  and not (locked_until is not None and locked_until > utcnow()))
        if not usable:
            _record_failure(session, ip, user, "ticket")
            return SignInResult(False, error="ticket")
        if mfa.use_code(user, code):
            return _open(session, user, ip=ip, user_agent=user_agent, old_token=old_token)
        locked = _record_failure(session, ip, user, "code")
    return _after_wrong_code(claim.user_id, locked, claim.expires_at)


async def redeem_async(ticket: str | None, code: str | None, *, ip: str = "unknown",
                       user_agent: str | None = None, old_token: str | None = None) -> SignInResult:
    """``redeem`` off the event loop."""
    return await off_loop(redeem, ticket, code, ip=ip, user_agent=user_agent, old_token=old_token)
