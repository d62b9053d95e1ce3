"""Where an account is signed in: its open sessions, and ending them, for the account's own holder.

Only ever the actor's own sessions; ending one is audited like a sign-out. Shown with the browser
and system read from the user agent, the address it came from, and when it was last active.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlmodel import Session, select

from patient_portal.core import audit
from patient_portal.core.access import AccessDenied, Actor
from patient_portal.core.clock import plain_time
from patient_portal.core.db import utcnow
from patient_portal.domain.identity.models import UserSession
from patient_portal.domain.identity.sessions import aware, end_session, expiry_reason, revoke_all_for_user

#: (pattern, name) in order: the first match names the browser (Edge and Opera also say "Chrome").
_BROWSERS = ((r"Edg(e|A|iOS)?/", "Edge"), (r"OPR/|Opera", "Opera"), (r"SamsungBrowser/", "Samsung Internet"),
             (r"Firefox/|FxiOS/", "Firefox"), (r"Chrome/|CriOS/|Chromium/", "Chrome"), (r"Safari/", "Safari"))
_SYSTEMS = ((r"iPhone", "iPhone"), (r"iPad", "iPad"), (r"Android", "Android"), (r"Windows", "Windows"),
            (r"Mac OS X|Macintosh", "macOS"), (r"CrOS", "ChromeOS"), (r"Linux", "Linux"))


def describe_agent(user_agent: str | None) -> str:
    """"Chrome on Android", "Safari on iPhone" … or "Unknown browser" (the raw string is never shown)."""
    agent = user_agent or ""
    browser = next((name for pattern, name in _BROWSERS if re.search(pattern, agent)), "")
    system = next((name for pattern, name in _SYSTEMS if re.search(pattern, agent)), "")
    if browser and system:
        return f"{browser} on {system}"
    return browser or (f"A browser on {system}" if system else "Unknown browser")


@dataclass(frozen=True)
class SignedIn:
    """One open session, as its owner sees it."""

    id: str
    device: str
    ip: str
    started: str
    last_active: str
    current: bool


def _own_open(session: Session, actor: Actor | None) -> list[UserSession]:
    if actor is None or actor.session_id is None:
        raise AccessDenied("Please sign in again.")
    now = utcnow()
    rows = session.exec(select(UserSession).where(UserSession.user_id == actor.user_id,
                                                  UserSession.revoked == False)).all()  # noqa: E712
    return [row for row in rows if expiry_reason(row, now) is None]


def is_new_device(session: Session, row: UserSession) -> bool:
    """Is `row` (a sign-in just opened) from a browser and address this account has not used before?

    The first sign-in of an account is not "new" (there is nothing to compare with); the memory is
    the session table (ended sessions are kept for 30 days)."""
    earlier = session.exec(select(UserSession.user_agent, UserSession.ip).where(
        UserSession.user_id == row.user_id, UserSession.id != row.id)).all()
    device = describe_agent(row.user_agent)
    return bool(earlier) and all((describe_agent(agent), ip) != (device, row.ip) for agent, ip in earlier)


def list_signed_in(session: Session, actor: Actor | None) -> list[SignedIn]:
    """The actor's open sessions, this one first, then the most recently active."""
    rows = sorted(_own_open(session, actor), key=lambda r: (r.id != actor.session_id, -aware(r.last_seen_at).timestamp()))
    return [SignedIn(id=str(r.id), device=describe_agent(r.user_agent), ip=r.ip or "", started=plain_time(r.created_at),
                     last_active=plain_time(r.last_seen_at), current=r.id == actor.session_id) for r in rows]


def sign_out_session(session: Session, actor: Actor | None, session_id: str) -> int:
    """End one of the actor's other sessions (that browser is signed out at its next click); returns 1."""
    rows = {str(r.id): r for r in _own_open(session, actor)}
    row = rows.get(str(session_id or ""))
    if row is None or row.id == actor.session_id:  # not yours, gone already, or this very one
        raise AccessDenied("That sign-in is not open any more.")
    end_session(row, "ended_by_user")
    session.add(row)
    audit.record(session, actor, "auth.session.end", object_type="user_session", object_id=row.id,
                 detail={"reason": "ended_by_user"})
    return 1


def sign_out_everywhere_else(session: Session, actor: Actor | None) -> int:
    """End every other open session of the actor; returns how many."""
    _own_open(session, actor)  # the actor must hold a session
    ended = revoke_all_for_user(session, actor.user_id, "ended_by_user", keep=actor.session_id)
    if ended:
        audit.record(session, actor, "auth.session.end_others", object_type="user", object_id=actor.user_id,
                     detail={"ended": ended})
    return ended

