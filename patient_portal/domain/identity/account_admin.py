"""What an admin does to another account beyond create and lock: change its role (after proving it
is still them), see where it is signed in and when it was last active, sign it out everywhere.

A role change ends every session of the account, so the new role applies at its next click (and
the account's permission set, which belongs to the old role, is taken off). The last active
administrator cannot be made anything else: the clinic would have nobody to manage accounts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from patient_portal.core import audit
from patient_portal.core.access import Actor, Role
from patient_portal.core.clock import plain_time
from patient_portal.core.db import unit_of_work, utcnow
from patient_portal.domain.identity import reauth
from patient_portal.domain.identity.models import PermissionSet, User, UserSession
from patient_portal.domain.identity.service import (
    UserInputError,
    UserSummary,
    authorize_user_admin,
    get_user_row,
    summarize,
)
from patient_portal.domain.identity.sessions import expiry_of, expiry_reason, revoke_all_for_user
from patient_portal.domain.identity.signed_in import SignedIn, describe_agent

ROLE_CHANGE = "user.role"
STAFF_ROLES = (Role.ADMIN, Role.DOCTOR, Role.STAFF)


@dataclass(frozen=True)
class RoleChanged:
    """The account after the change; ``self_signed_out``: the admin changed their own role (their
    session ended with the others)."""

    user: UserSummary
    self_signed_out: bool


def _other_active_admins(session: Session, user: User) -> int:
    return int(session.exec(select(func.count()).select_from(User).where(
        User.role == Role.ADMIN.value, User.active == True, User.id != user.id)).one())  # noqa: E712


def _checked(session: Session, actor: Actor, user_id: Any, role: Any) -> tuple[User, Role]:
    """The account and its new role, or UserInputError (field "role") saying why not."""
    user = get_user_row(session, user_id)
    try:
        new = Role(str(role or ""))
    except ValueError:
        new = None
    if new not in STAFF_ROLES:
        raise UserInputError("role", "Choose admin, doctor or staff.")
    if user.role == Role.PATIENT.value:
        raise UserInputError("role", "A patient's account keeps its role: create a staff account for them instead.")
    if new.value == user.role:
        raise UserInputError("role", f"The account is already {new.value}.")
    if user.role == Role.ADMIN.value and _other_active_admins(session, user) == 0:
        who = "You are" if user.id == actor.user_id else "This is"
        raise UserInputError("role", f"{who} the last active administrator: make another account an "
                                     "administrator first.")
    return user, new


def change_role(actor: Actor | None, *, user_id: Any, role: Any, password: Any = "", code: Any = "") -> RoleChanged:
    """Change an account's role: the admin's password again (and code), then in one unit the change,
    the end of the account's sessions and its permission set, audited with before and after.
    Opens its own units (Argon2id runs outside any transaction)."""
    with unit_of_work() as session:
        authorize_user_admin(session, actor, ROLE_CHANGE)
        _checked(session, actor, user_id, role)
    if not str(password or ""):
        raise UserInputError("password", "Enter your password to confirm.")
    needs_code = reauth.check_password(actor, str(password), ROLE_CHANGE)
    with unit_of_work() as session:
        authorize_user_admin(session, actor, ROLE_CHANGE)
        if needs_code:
            reauth.use_code(session, actor, str(code or ""), ROLE_CHANGE)
        user, new = _checked(session, actor, user_id, role)
        old_set = session.get(PermissionSet, user.permission_set_id) if user.permission_set_id else None
        before = {"role": user.role, "permission_set": old_set.name if old_set else None}
        user.role, user.permission_set_id, user.updated_at = new.value, None, utcnow()
        session.add(user)
        ended = revoke_all_for_user(session, user.id, "role_changed")
        audit.record(session, actor, ROLE_CHANGE, object_type="user", object_id=user.id,
                     detail={"before": before, "after": {"role": new.value, "permission_set": None},
                             "sessions_ended": ended})
        return RoleChanged(summarize(user), self_signed_out=user.id == actor.user_id)


@dataclass(frozen=True)
class Activity:
    """Where an account is signed in now and when it was last active (the admin's view)."""

    user_id: str
    email: str
    last_sign_in: str
    last_active: str
    sessions: list[SignedIn]


def _open_sessions(session: Session, user_id) -> list[UserSession]:
    now = utcnow()
    rows = session.exec(select(UserSession).where(UserSession.user_id == user_id, UserSession.revoked == False)  # noqa: E712
                        .order_by(UserSession.last_seen_at.desc())).all()
    return [r for r in rows if expiry_reason(r, now) is None]


def activity_of(session: Session, actor: Actor | None, user_id: Any) -> Activity:
    """An account's open sessions (device, address, started, last active) and its last activity."""
    authorize_user_admin(session, actor, "user.sessions.read")
    user = get_user_row(session, user_id)
    rows = _open_sessions(session, user.id)
    last = session.exec(select(func.max(UserSession.last_seen_at)).where(UserSession.user_id == user.id)).one()
    audit.record(session, actor, "user.sessions.read", object_type="user", object_id=user.id,
                 detail={"open": len(rows)})
    summary = summarize(user)
    return Activity(str(user.id), user.email, summary.last_sign_in, plain_time(last) if last else "never",
                    [SignedIn(id=str(r.id), device=describe_agent(r.user_agent), ip=r.ip or "",
                              started=plain_time(r.created_at), last_active=plain_time(r.last_seen_at),
                              current=actor is not None and r.id == actor.session_id) for r in rows])


def end_sessions(session: Session, actor: Actor | None, user_id: Any) -> int:
    """Sign an account out everywhere (not the admin's own current session); returns how many ended."""
    authorize_user_admin(session, actor, "user.sessions.end")
    user = get_user_row(session, user_id)
    ended = revoke_all_for_user(session, user.id, "ended_by_admin", keep=actor.session_id if actor else None)
    audit.record(session, actor, "user.sessions.end", object_type="user", object_id=user.id,
                 detail={"ended": ended})
    return ended


def last_activity(session: Session, user_ids: list) -> dict:
    """{user id: (last active, open sessions)} for a page of accounts, in one statement."""
    if not user_ids:
        return {}
    now = utcnow()
    rows = session.exec(select(UserSession.user_id, UserSession.created_at, UserSession.last_seen_at,
                               UserSession.revoked).where(UserSession.user_id.in_(user_ids))).all()
    found: dict = {}
    for uid, created, seen, revoked in rows:
        last, count = found.get(uid, (None, 0))
        alive = not revoked and expiry_of(created, seen, now) is None
        found[uid] = (seen if last is None or seen > last else last, count + int(alive))
    return found
