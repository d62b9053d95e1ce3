"""User accounts: create, list, deactivate, unlock, set password. Admin-only, audited.

The ``*_system`` variants are for the `portal` command line and demo seeding (operator on the box,
no signed-in actor); they are audited with no actor and ``via`` in the detail.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func
from sqlmodel import Session, select

from patient_portal.core import audit
from patient_portal.core.access import Action, Actor, Role, require
from patient_portal.core.clock import plain_time
from patient_portal.core.db import utcnow
from patient_portal.core.errors import Invalid
from patient_portal.domain.identity import passwords
from patient_portal.domain.identity.models import PermissionSet, User
from patient_portal.domain.identity.sessions import aware, revoke_all_for_user
from patient_portal.domain.identity.signin import normalize_email

PAGE_SIZE = 25


class UserInputError(Invalid):
    """Bad input for an account; ``field`` names the form field, the message is safe to show."""

    def __init__(self, field: str, message: str):
        super().__init__(message, {field: message})
        self.field = field


@dataclass(frozen=True)
class UserSummary:
    """What the admin screen shows about an account (no secrets)."""

    id: str
    email: str
    role: str
    display_name: str
    active: bool
    locked: bool
    mfa_enabled: bool
    linked_patient: bool
    last_sign_in: str
    email_confirmed: bool = True
    last_active: str = "never"
    open_sessions: int = 0
    permission_set: str = ""
    permission_set_id: str = ""


def summarize(user: User) -> UserSummary:
    locked = aware(user.locked_until)
    last = aware(user.last_sign_in_at)
    return UserSummary(
        id=str(user.id), email=user.email, role=user.role, display_name=user.display_name or "",
        active=user.active, locked=bool(locked and locked > utcnow()), mfa_enabled=user.mfa_enabled,
        linked_patient=user.patient_id is not None,
        last_sign_in=plain_time(last) if last else "never", email_confirmed=user.email_verified,
    )


def _checked_email(email: str) -> str:
    try:
        return validate_email(normalize_email(email), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise UserInputError("email", "Enter a valid email address.") from exc


def _checked_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError as exc:
        raise UserInputError("role", "Choose one of: admin, doctor, staff, patient.") from exc


def _insert_user(session: Session, *, email: str, role: str, display_name: str, password: str,
                 patient_id: uuid.UUID | None) -> User:
    email = _checked_email(email)
    role_value = _checked_role(role)
    name = (display_name or "").strip()
    if not name or len(name) > 200:
        raise UserInputError("display_name", "Enter the person's name (up to 200 characters).")
    try:
        passwords.check_policy(password)
    except passwords.PasswordRejected as exc:
        raise UserInputError("password", str(exc)) from exc
    if session.exec(select(User.id).where(User.email == email)).first() is not None:
        raise UserInputError("email", "An account with this email already exists.")
    user = User(email=email, role=role_value.value, display_name=name, patient_id=patient_id,
                password_hash=passwords.hash_password(password))
    session.add(user)
    session.flush()
    return user


def create_user(session: Session, actor: Actor | None, *, email: str, role: str, display_name: str,
                password: str, patient_id: uuid.UUID | None = None) -> UserSummary:
    """An admin creates an account."""
    authorize_user_admin(session, actor, "user.create")
    user = _insert_user(session, email=email, role=role, display_name=display_name, password=password,
                        patient_id=patient_id)
    audit.record(session, actor, "user.create", object_type="user", object_id=user.id,
                 detail={"fields": ["email", "role", "display_name", "password"]})
    return summarize(user)


def create_user_system(session: Session, *, email: str, role: str, display_name: str, password: str,
                       patient_id: uuid.UUID | None = None, via: str = "cli") -> UserSummary:
    """The operator creates an account from the command line (or the demo seed)."""
    user = _insert_user(session, email=email, role=role, display_name=display_name, password=password,
                        patient_id=patient_id)
    audit.record(session, None, "user.create", object_type="user", object_id=user.id,
                 detail={"via": via, "role": user.role})
    return summarize(user)


def authorize_user_admin(session: Session, actor: Actor | None, action: str) -> None:
    """Only admins manage accounts; a refusal is audited under `action`."""
    require(session, actor, Action.USER_MANAGE, audit_as=action, object_type="user")


def get_user_row(session: Session, user_id: uuid.UUID | str) -> User:
    try:
        uid = user_id if isinstance(user_id, uuid.UUID) else uuid.UUID(str(user_id))
    except ValueError as exc:
        raise UserInputError("user", "No such account.") from exc
    user = session.get(User, uid)
    if user is None:
        raise UserInputError("user", "No such account.")
    return user


def list_users(session: Session, actor: Actor | None, *, page: int = 1, query: str = "",
               per_page: int = PAGE_SIZE) -> tuple[list[UserSummary], int]:
    """One page of accounts (ordered by email) and the total count."""
    authorize_user_admin(session, actor, "user.list")
    per_page = max(1, min(int(per_page), 50))
    page = max(1, int(page))
    stmt = select(User)
    count = select(func.count()).select_from(User)
    q = normalize_email(query)
    if q:
        stmt = stmt.where(User.email.contains(q))
        count = count.where(User.email.contains(q))
    total = int(session.exec(count).one())
    rows = session.exec(stmt.order_by(User.email).offset((page - 1) * per_page).limit(per_page)).all()
    return _with_activity(session, rows), total


def _with_activity(session: Session, rows: list[User]) -> list[UserSummary]:
    """Summaries with each account's last activity, open sessions and permission set (two statements)."""
    from patient_portal.domain.identity.account_admin import last_activity

    seen = last_activity(session, [u.id for u in rows])
    set_ids = {u.permission_set_id for u in rows if u.permission_set_id}
    names = dict(session.exec(select(PermissionSet.id, PermissionSet.name).where(
        PermissionSet.id.in_(list(set_ids)))).all()) if set_ids else {}
    out = []
    for u in rows:
        last, count = seen.get(u.id, (None, 0))
        out.append(replace(summarize(u), last_active=plain_time(aware(last)) if last else "never", open_sessions=count,
                           permission_set=names.get(u.permission_set_id, ""),
                           permission_set_id=str(u.permission_set_id or "")))
    return out


def set_active(session: Session, actor: Actor | None, user_id: uuid.UUID | str, active: bool) -> UserSummary:
    """Deactivate (ends their sessions) or reactivate an account. Admins cannot deactivate themselves."""
    authorize_user_admin(session, actor, "user.deactivate" if not active else "user.activate")
    user = get_user_row(session, user_id)
    if not active and actor is not None and user.id == actor.user_id:
        raise UserInputError("user", "You cannot deactivate your own account.")
    user.active = active
    user.updated_at = utcnow()
    session.add(user)
    if not active:
        revoke_all_for_user(session, user.id, "account_inactive")
    audit.record(session, actor, "user.activate" if active else "user.deactivate", object_type="user",
                 object_id=user.id, detail={"fields": ["active"]})
    return summarize(user)


def _unlock(session: Session, user: User) -> None:
    user.locked_until = None
    user.failed_attempts = 0
    user.updated_at = utcnow()
    session.add(user)


def unlock_user(session: Session, actor: Actor | None, user_id: uuid.UUID | str) -> UserSummary:
    """Lift a sign-in lockout."""
    authorize_user_admin(session, actor, "user.unlock")
    user = get_user_row(session, user_id)
    _unlock(session, user)
    audit.record(session, actor, "user.unlock", object_type="user", object_id=user.id)
    return summarize(user)


def unlock_user_system(session: Session, email: str) -> UserSummary:
    """The operator lifts a lockout from the command line."""
    user = session.exec(select(User).where(User.email == normalize_email(email))).first()
    if user is None:
        raise UserInputError("email", "No account with this email.")
    _unlock(session, user)
    audit.record(session, None, "user.unlock", object_type="user", object_id=user.id, detail={"via": "cli"})
    return summarize(user)


def find_user_id(session: Session, email: str) -> uuid.UUID | None:
    return session.exec(select(User.id).where(User.email == normalize_email(email))).first()


def link_patient_system(session: Session, user_id: uuid.UUID, patient_id: uuid.UUID | None) -> None:
    """Link a patient account to its patient record (seed, registration)."""
    user = session.get(User, user_id)
    if user is not None and user.patient_id != patient_id:
        user.patient_id = patient_id
        user.updated_at = utcnow()
        session.add(user)
        audit.record(session, None, "user.link_patient", object_type="user", object_id=user.id,
                     patient_id=patient_id, detail={"fields": ["patient_id"]})
