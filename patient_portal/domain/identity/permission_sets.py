"""Permission sets: an admin narrows a role ("Front desk", "Billing") and gives accounts a set.

The policy decision reads the set through the actor: every session check joins the user's set and
``granted`` turns it into the actor's permissions (cached per set version, so decide() itself asks
the database nothing more). An edit raises the set's version and applies at its holders' next click.
A set never grants beyond its role (``core.caps.effective``); an account without a set has
its role's full permissions (the default). Admin-only, audited with before and after.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, select

from patient_portal.core import audit
from patient_portal.core import capabilities as caps
from patient_portal.core.access import Action, Actor, Role, require
from patient_portal.core.db import utcnow
from patient_portal.core.errors import Invalid, NotFound
from patient_portal.domain.identity.models import PermissionSet, User

_GRANTED: dict[tuple, frozenset[Action]] = {}
_GRANTED_MAX = 1024


def granted(set_id: uuid.UUID, version: int, user_role: str, set_role: str, keys) -> frozenset[Action]:
    """The permissions of a holder of this set (cached by set id, version and role). A set of
    another role than the account's grants only ``caps.BASE`` (deny by default)."""
    key = (set_id, version, user_role)
    found = _GRANTED.get(key)
    if found is None:
        role = Role(user_role)
        found = caps.effective(role, keys if set_role == user_role else ())
        if len(_GRANTED) >= _GRANTED_MAX:
            _GRANTED.clear()
        _GRANTED[key] = found
    return found


class SetInvalid(Invalid):
    """A set (or an assignment) that cannot be saved; field errors are safe to show."""

    def __init__(self, field: str, message: str):
        super().__init__(message, {field: message})


@dataclass(frozen=True)
class Option:
    key: str
    label: str


@dataclass(frozen=True)
class SetView:
    """A permission set as the admin screen shows it."""

    id: str
    name: str
    role: str
    description: str
    capabilities: list[str]
    labels: list[str]
    holders: int


def options(role: str) -> list[Option]:
    """The capabilities a set of `role` may have (the fixed list; nothing beyond the role)."""
    try:
        return [Option(c.key, c.label) for c in caps.offered(Role(role))]
    except ValueError:
        return []


def _authorize(session: Session, actor: Actor | None, what: str) -> None:
    require(session, actor, Action.USER_MANAGE, audit_as=what, object_type="permission_set")


def _view(row: PermissionSet, holders: int) -> SetView:
    keys = [k for k in row.capabilities if k in caps.BY_KEY]
    return SetView(str(row.id), row.name, row.role, row.description or "", keys,
                   [caps.BY_KEY[k].label for k in keys], holders)


def list_sets(session: Session, actor: Actor | None) -> list[SetView]:
    """Every set (by role, then name) with how many accounts hold it."""
    _authorize(session, actor, "permission_set.list")
    counts = dict(session.exec(select(User.permission_set_id, func.count()).where(User.permission_set_id.is_not(None))
                               .group_by(User.permission_set_id)).all())
    rows = session.exec(select(PermissionSet).order_by(PermissionSet.role, PermissionSet.name)).all()
    return [_view(r, int(counts.get(r.id, 0))) for r in rows]


def _set_row(session: Session, set_id) -> PermissionSet:
    try:
        row = session.get(PermissionSet, uuid.UUID(str(set_id)))
    except ValueError:
        row = None
    if row is None:
        raise NotFound("No such permission set.")
    return row


def _checked_keys(role: Role, keys) -> list[str]:
    allowed = {c.key for c in caps.offered(role)}
    chosen = [str(k) for k in (keys or [])]
    unknown = [k for k in chosen if k not in allowed]
    if unknown:
        raise SetInvalid("capabilities", f"A {role.value} set cannot include: {', '.join(sorted(unknown))}.")
    missing = caps.REQUIRED.get(role, frozenset()) - set(chosen)
    if missing:
        labels = ", ".join(caps.BY_KEY[k].label for k in sorted(missing))
        raise SetInvalid("capabilities", f"An administrator's set must keep: {labels}.")
    return sorted(set(chosen), key=[c.key for c in caps.CAPABILITIES].index)


def save_set(session: Session, actor: Actor | None, *, set_id: str = "", name: str, role: str = "",
             description: str = "", capabilities: list[str] | None = None) -> SetView:
    """Create a set (no `set_id`) or change one's name, description and capabilities (its role is
    fixed once made: its holders are of that role). Audited with before and after."""
    _authorize(session, actor, "permission_set.save")
    clean = " ".join(str(name or "").split())
    if not clean or len(clean) > 80:
        raise SetInvalid("name", "Give the set a name (up to 80 characters).")
    row = _set_row(session, set_id) if set_id else None
    try:
        role_value = Role(row.role if row is not None else str(role))
    except ValueError:
        role_value = None
    if role_value not in caps.SET_ROLES:
        raise SetInvalid("role", "Choose staff, doctor or admin.")
    keys = _checked_keys(role_value, capabilities)
    clash = session.exec(select(PermissionSet.id).where(func.lower(PermissionSet.name) == clean.lower())).first()
    if clash is not None and (row is None or clash != row.id):
        raise SetInvalid("name", "Another set has this name.")
    before = {"name": row.name, "capabilities": list(row.capabilities)} if row is not None else None
    if row is None:
        row = PermissionSet(name=clean, role=role_value.value, description=str(description or "")[:300],
                            capabilities=keys)
    else:
        row.name, row.description, row.capabilities = clean, str(description or "")[:300], keys
        row.version += 1
        row.updated_at = utcnow()
    session.add(row)
    session.flush()
    audit.record(session, actor, "permission_set.create" if before is None else "permission_set.update",
                 object_type="permission_set", object_id=row.id,
                 detail={"before": before, "after": {"name": clean, "role": row.role, "capabilities": keys}})
    holders = session.exec(select(func.count()).select_from(User).where(User.permission_set_id == row.id)).one()
    return _view(row, int(holders))


def assign_set(session: Session, actor: Actor | None, *, user_id: str, set_id: str = "") -> str:
    """Give an account a set of its role ("" : none, the role's full permissions); applies at the
    account's next click. Returns the set's name ("" for none)."""
    # service imports sessions, which imports this module
    from patient_portal.domain.identity.service import get_user_row

    _authorize(session, actor, "user.permission_set")
    user = get_user_row(session, user_id)
    row = _set_row(session, set_id) if set_id else None
    if row is not None and row.role != user.role:
        raise SetInvalid("set_id", f"That set is for {row.role} accounts; this account is {user.role}.")
    if row is not None and actor is not None and user.id == actor.user_id \
            and not caps.REQUIRED.get(Role(user.role), frozenset()) <= set(row.capabilities):
        raise SetInvalid("set_id", "That set would take away your own user management.")
    old = session.get(PermissionSet, user.permission_set_id) if user.permission_set_id else None
    user.permission_set_id = row.id if row is not None else None
    user.updated_at = utcnow()
    session.add(user)
    audit.record(session, actor, "user.permission_set", object_type="user", object_id=user.id,
                 detail={"before": old.name if old else None, "after": row.name if row else None})
    return row.name if row is not None else ""
