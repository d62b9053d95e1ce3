"""Server-side sign-in sessions: opaque random tokens, stored hashed, with idle and absolute timeouts.

``check_session`` is what every event and API call runs: it finds the session by the SHA-256 of
the cookie token, ends it when idle or too old (audited), and yields the ``Actor``.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, or_
from sqlmodel import Session, select

from patient_portal.core import audit, clinic_config
from patient_portal.core.access import Actor, Role
from patient_portal.core.db import read_only, unit_of_work, utcnow
from patient_portal.core.errors import Invalid
from patient_portal.domain.identity.models import PermissionSet, User, UserSession
from patient_portal.domain.identity.permission_sets import granted

COOKIE_NAME = "portal_session"
#: What the websocket sees instead of the token: Reflex copies connection headers into browser-visible
#: state, so ``api.auth.OriginCheck`` swaps the token for a server-made credential (``ws_credential``).
WS_COOKIE_NAME = "portal_ws"
#: Roles that must use MFA when the clinic requires it (core.clinic_config).
MFA_ROLES = frozenset({Role.ADMIN, Role.DOCTOR, Role.STAFF})
#: last_seen_at is written at most this often (keeps every event from being a write).
TOUCH_EVERY = timedelta(seconds=15)
#: Ended sessions (and ones past the absolute timeout) are deleted after this long; the audit trail
#: keeps the history.
KEEP_ENDED = timedelta(days=30)
#: Sign-ins prune old sessions at most this often (per process).
PRUNE_EVERY = timedelta(hours=1)
_last_prune: datetime | None = None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def aware(value: datetime | None) -> datetime | None:
    """Databases may hand back naive UTC datetimes; make them tz-aware."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def actor_for(user: User, *, session_id: uuid.UUID | None = None, ip: str | None = None,
              session: Session | None = None) -> Actor:
    """The Actor of `user`; with `session`, narrowed by their permission set (what every check that
    yields an actor for data does; without one only for auditing who it was)."""
    permissions = None
    if session is not None and user.permission_set_id is not None:
        row = session.get(PermissionSet, user.permission_set_id)
        if row is not None:
            permissions = granted(row.id, row.version, user.role, row.role, row.capabilities)
    return Actor(user_id=user.id, role=Role(user.role), display_name=user.display_name or "",
                 patient_id=user.patient_id, session_id=session_id, ip=ip, permissions=permissions)


def needs_mfa_enrolment(user: User) -> bool:
    """True when policy requires MFA for this user's role and they have not enrolled yet."""
    return _must_enrol(user.role, user.mfa_enabled)


def _must_enrol(role: str, mfa_enabled: bool) -> bool:
    return clinic_config.current().require_mfa and role in MFA_ROLES and not mfa_enabled


def ended_before(now: datetime) -> Any:
    """Sessions that ended, or passed the absolute timeout, more than KEEP_ENDED before `now`."""
    cutoff = now - KEEP_ENDED
    too_old = cutoff - timedelta(seconds=clinic_config.current().session_absolute_seconds)
    return or_(and_(UserSession.revoked == True, UserSession.revoked_at < cutoff),  # noqa: E712
               UserSession.created_at < too_old)


def prune_sessions(session: Session, now: datetime | None = None) -> int:
    """Delete sessions that ended, or passed the absolute timeout, more than KEEP_ENDED ago."""
    result = session.exec(delete(UserSession).where(ended_before(now or utcnow())))  # type: ignore[call-overload]
    return int(result.rowcount or 0)


def _prune_now_and_then(session: Session) -> None:
    global _last_prune
    now = utcnow()
    if _last_prune is None or now - _last_prune >= PRUNE_EVERY:
        _last_prune = now
        prune_sessions(session, now)


def open_session(session: Session, user: User, *, ip: str | None, user_agent: str | None) -> tuple[str, UserSession]:
    """Create a session row; returns the token (for the cookie only) and the row.

    Now and then (PRUNE_EVERY) the same transaction deletes long-ended sessions.
    """
    _prune_now_and_then(session)
    token = secrets.token_urlsafe(32)
    row = UserSession(token_hash=hash_token(token), user_id=user.id, ip=(ip or None) and ip[:64],
                      user_agent=(user_agent or None) and user_agent[:512])
    session.add(row)
    session.flush()
    return token, row


def end_session(row: UserSession, reason: str) -> None:
    row.revoked = True
    row.revoked_at = utcnow()
    row.ended_reason = reason


def revoke_token(token: str | None, *, reason: str = "signed_out", ip: str | None = None) -> Actor | None:
    """End the session of `token` (audited); returns who it belonged to, or None."""
    if not token:
        return None
    with unit_of_work() as session:
        row = session.exec(select(UserSession).where(UserSession.token_hash == hash_token(token))).first()
        if row is None or row.revoked:
            return None
        end_session(row, reason)
        session.add(row)
        user = session.get(User, row.user_id)
        actor = actor_for(user, session_id=row.id, ip=ip) if user else None
        audit.record(session, actor, "auth.sign_out" if reason == "signed_out" else "auth.session.end",
                     object_type="user_session", object_id=row.id, detail={"reason": reason})
        return actor


def revoke_all_for_user(session: Session, user_id: uuid.UUID, reason: str,
                        keep: uuid.UUID | None = None) -> int:
    """End every open session of a user (deactivation, password change), except `keep`."""
    rows = [row for row in session.exec(select(UserSession).where(UserSession.user_id == user_id,
                                                                  UserSession.revoked == False)).all()  # noqa: E712
            if row.id != keep]
    for row in rows:
        end_session(row, reason)
        session.add(row)
    return len(rows)


def ended_among(session_ids: set[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these sessions are over: gone, revoked, timed out (even if nobody checked them yet),
    or of a deactivated account. Read-only; the UI layer wipes those sessions' tabs."""
    if not session_ids:
        return set()
    now = utcnow()
    with read_only() as session:
        rows = session.exec(select(UserSession, User.active).join(User, User.id == UserSession.user_id, isouter=True)
                            .where(UserSession.id.in_(list(session_ids)))).all()  # type: ignore[attr-defined]
    alive = {row.id for row, active in rows if active and not row.revoked and expiry_reason(row, now) is None}
    return set(session_ids) - alive


@dataclass(frozen=True)
class SessionCheck:
    """What a request's cookie amounts to.

    status: ``ok`` (signed in), ``none`` (no or unknown session), ``expired`` (timed out just now),
    ``enrol`` (signed in but must enrol in MFA before anything else; ``actor`` is then NOT for data).
    """

    status: str
    actor: Actor | None = None
    mfa_enabled: bool = False

    @property
    def ok(self) -> bool:
        return self.status == "ok"


NO_SESSION = SessionCheck("none")


def expiry_reason(row: UserSession, now: datetime) -> str | None:
    return _expiry(row.created_at, row.last_seen_at, now)


def expiry_of(created_at: datetime, last_seen_at: datetime, now: datetime) -> str | None:
    """Why a session started at `created_at`, last seen at `last_seen_at`, is over by `now` (or None)."""
    return _expiry(created_at, last_seen_at, now)


def _expiry(created_at: datetime, last_seen_at: datetime, now: datetime) -> str | None:
    clinic = clinic_config.current()
    if aware(created_at) + timedelta(seconds=clinic.session_absolute_seconds) <= now:
        return "absolute_timeout"
    if aware(last_seen_at) + timedelta(seconds=clinic.session_idle_seconds) <= now:
        return "idle_timeout"
    return None


def check_session(token: str | None, *, ip: str | None = None, touch: bool = True) -> SessionCheck:
    """Validate a cookie token against the session table (sync; run via off_loop from async code)."""
    if not token or len(token) > 200:
        return NO_SESSION
    return check_session_hash(hash_token(token), ip=ip, touch=touch)


def check_session_hash(token_hash: str | None, *, ip: str | None = None, touch: bool = True) -> SessionCheck:
    """Validate by the token's SHA-256 (what the websocket carries).

    Most checks only read, so they run in a read-only unit (on SQLite: no write lock); only a check
    that must end the session or record activity opens a writing one and looks again there."""
    if not token_hash or len(token_hash) != 64:
        return NO_SESSION
    found = _check_read_only(token_hash, ip, touch)
    if found is not None:
        return found
    with unit_of_work() as session:
        return _check(session, token_hash, ip, touch, may_write=True)


def _check_statement():
    """The every-event check's one statement: the session joined to its user, only the columns the
    check needs, on the plain tables with a bound parameter — built once. (ORM objects would decrypt
    the user's MFA secrets on every event; ORM-annotated columns make SQLAlchemy re-match the result
    columns on every execution. Both were most of the check's cost under bench/load.py.)"""
    from sqlalchemy import bindparam
    from sqlalchemy import select as core_select

    us, u, ps = UserSession.__table__.c, User.__table__.c, PermissionSet.__table__.c  # type: ignore[attr-defined]
    return (core_select(us.id, us.created_at, us.last_seen_at, us.ip, us.revoked, u.id, u.role, u.display_name,
                        u.active, u.patient_id, u.mfa_enabled, ps.id, ps.version, ps.role, ps.capabilities)
            .select_from(UserSession.__table__.outerjoin(User.__table__, u.id == us.user_id)  # type: ignore[attr-defined]
                         .outerjoin(PermissionSet.__table__, ps.id == u.permission_set_id))  # type: ignore[attr-defined]
            .where(us.token_hash == bindparam("token_hash")))


_CHECK_STATEMENT = None


#: Decrypted display names by their ciphertext (a fresh nonce per encryption, so a renamed user
#: has a new key); bounded. Names of staff and patients already live in this process's UI state.
_NAMES: dict[str, str] = {}
_NAMES_MAX = 4096


def _display_name(token: str | None, user_id: uuid.UUID) -> str:
    if not token:
        return ""
    name = _NAMES.get(token)
    if name is None:
        from patient_portal.core.crypto import decrypt_value

        name = decrypt_value("str", token, User.__tablename__, "display_name", user_id) or ""
        if len(_NAMES) >= _NAMES_MAX:
            _NAMES.clear()
        _NAMES[token] = name
    return name


def _check_read_only(token_hash: str, ip: str | None, touch: bool) -> SessionCheck | None:
    """The common case in one read-only statement: a live session that needs no write. None when
    the session must be ended or its activity recorded (the caller then runs ``_check`` writing)."""
    global _CHECK_STATEMENT
    if _CHECK_STATEMENT is None:
        _CHECK_STATEMENT = _check_statement()
    with read_only() as session:
        row = session.connection().execute(_CHECK_STATEMENT, {"token_hash": token_hash}).first()
    if row is None:
        return NO_SESSION
    (sid, created, last_seen, row_ip, revoked, uid, role, name_token, active, patient_id, mfa,
     set_id, set_version, set_role, set_caps) = row
    if revoked:
        return NO_SESSION
    now = utcnow()
    if (uid is None or not active or _expiry(created, last_seen, now)
            or (touch and aware(last_seen) + TOUCH_EVERY <= now)):
        return None
    permissions = granted(set_id, set_version, role, set_role, set_caps) if set_id is not None else None
    actor = Actor(user_id=uid, role=Role(role), display_name=_display_name(name_token, uid),
                  patient_id=patient_id, session_id=sid, ip=ip or row_ip, permissions=permissions)
    return SessionCheck("enrol" if _must_enrol(role, mfa) else "ok", actor, mfa_enabled=bool(mfa))


def _check(session: Session, token_hash: str, ip: str | None, touch: bool, *, may_write: bool) -> SessionCheck | None:
    """The check itself; None when it needs to write but may not."""
    row = session.exec(select(UserSession).where(UserSession.token_hash == token_hash)).first()
    if row is None or row.revoked:
        return NO_SESSION
    user = session.get(User, row.user_id)
    now = utcnow()
    reason = "account_inactive" if user is None or not user.active else expiry_reason(row, now)
    due = touch and aware(row.last_seen_at) + TOUCH_EVERY <= now
    if (reason or due) and not may_write:
        return None
    if user is None or not user.active:
        end_session(row, "account_inactive")
        session.add(row)
        return NO_SESSION
    actor = actor_for(user, session_id=row.id, ip=ip or row.ip, session=session)
    if reason:
        end_session(row, reason)
        session.add(row)
        audit.record(session, actor, "auth.session.timeout", object_type="user_session",
                     object_id=row.id, outcome="ended", detail={"reason": reason})
        return SessionCheck("expired")
    if due:
        row.last_seen_at = now
        session.add(row)
    status = "enrol" if needs_mfa_enrolment(user) else "ok"
    return SessionCheck(status, actor, mfa_enabled=user.mfa_enabled)


class AmbiguousCookies(Invalid):
    """The Cookie header names one of our cookies twice (or in two spellings): trust none of it.

    Bad input (the family's Invalid); callers treat the header as carrying no session."""

    def __init__(self, name: str = ""):
        super().__init__("Your browser sent its sign-in cookie more than once. Please sign in again.")
        self.name = name


#: Our cookie names; a header that carries one of them more than once is refused whole.
OUR_COOKIES = (COOKIE_NAME, WS_COOKIE_NAME)


def parse_cookies(header: str | None) -> dict[str, str]:
    """The one cookie parser: ``name=value`` pairs split on ``;``, name and value stripped of spaces
    and tabs (as browsers and SimpleCookie do), so ``portal_ws =x`` IS ``portal_ws``. Raises
    AmbiguousCookies when one of OUR_COOKIES appears more than once: which one would win depends on
    the parser, and a header that different parsers read differently is a request to be refused."""
    found: dict[str, str] = {}
    for part in (header or "").split(";"):
        name, sep, value = part.partition("=")
        name = name.strip(" \t\r\n\"")
        if not sep or not name:
            continue
        value = value.strip(" \t\r\n")
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        folded = name.lower()
        if folded in OUR_COOKIES and (folded in found or name != folded):
            raise AmbiguousCookies(name)
        found.setdefault(name, value)
    return found


def parse_cookie_header(header: str | None, name: str = COOKIE_NAME) -> str | None:
    """The named cookie's value (default: the portal_session token), or None when absent, empty or the
    header is ambiguous (see parse_cookies)."""
    try:
        return parse_cookies(header).get(name) or None
    except AmbiguousCookies:
        return None


# ------------------------------------------------------------------ the websocket credential

WS_MAC_PURPOSE = "ws"


def _ws_mac(kid: str, token_hash: str) -> str:
    import hmac as _hmac

    from patient_portal.core.crypto import get_keyring

    key = get_keyring().mac_key(kid, WS_MAC_PURPOSE)
    return _hmac.new(key, token_hash.encode("ascii"), "sha256").hexdigest()


def ws_credential(token: str) -> str:
    """What the websocket carries instead of the session token: ``<key id>.<token hash>.<HMAC>``.

    Reflex copies connection headers into browser-visible state, so the token itself must never
    reach it. The token's hash alone is no credential: it is stored in ``user_session`` and so known
    to anyone who reads the database or a backup. The HMAC is under a key-ring key the database
    never holds, so only this server can make a credential; ``api.auth.OriginCheck`` drops every
    client-sent ``portal_ws`` and writes this one."""
    from patient_portal.core.crypto import get_keyring

    kid = get_keyring().active_kid
    token_hash = hash_token(token)
    return f"{kid}.{token_hash}.{_ws_mac(kid, token_hash)}"


def check_ws_credential(credential: str | None, *, ip: str | None = None, touch: bool = True) -> SessionCheck:
    """Validate a websocket credential (see ws_credential): the MAC first, then the session."""
    import hmac as _hmac

    from patient_portal.core.crypto import DecryptionError

    if not credential or len(credential) > 200:
        return NO_SESSION
    kid, _, rest = credential.partition(".")
    token_hash, _, mac = rest.partition(".")
    if len(token_hash) != 64 or len(mac) != 64:
        return NO_SESSION
    try:
        expected = _ws_mac(kid, token_hash)
    except DecryptionError:  # a key id this ring does not have (retired, or made up)
        return NO_SESSION
    if not _hmac.compare_digest(expected, mac):
        return NO_SESSION
    return check_session_hash(token_hash, ip=ip, touch=touch)
