"""Proving it is still you: the signed-in user's password again (and their authenticator code when
two-step sign-in is on), before something that must not be done from a borrowed or stolen session —
changing the password, breaking the glass on a record.

A wrong password or code counts like a failed sign-in: five lock the account for 15 minutes and end
every session of it (this one included). Argon2id runs outside any transaction; the code, which is
used once, is checked and consumed in the caller's unit (``use_code``), so it is spent only if what
it unlocks is done.
"""

from __future__ import annotations

from sqlmodel import Session

from patient_portal.core import audit
from patient_portal.core.access import AccessDenied, Actor
from patient_portal.core.db import unit_of_work, utcnow
from patient_portal.core.errors import Invalid
from patient_portal.domain.identity import mfa, passwords
from patient_portal.domain.identity.models import User
from patient_portal.domain.identity.sessions import revoke_all_for_user
from patient_portal.domain.identity.signin import ACCOUNT_LOCK, ACCOUNT_MAX_FAILURES


class WrongCurrentPassword(Invalid):
    """The password is not the account's (or, ``locked``, that was one wrong too many)."""

    wrong = "Your current password is not right."

    def __init__(self, locked: bool):
        super().__init__("Too many wrong passwords: the account is locked for 15 minutes and you were signed "
                         "out." if locked else self.wrong)
        self.locked = locked

    @property
    def must_sign_in(self) -> bool:
        """A lockout ends every session of the account, this one included."""
        return self.locked


class WrongCode(WrongCurrentPassword):
    """The authenticator or recovery code is not right (or missing)."""

    wrong = "That code is not right. Enter the 6-digit code your app shows now."


def password_hash_of(actor: Actor | None) -> tuple[str, bool]:
    """(the account's password hash, whether two-step sign-in is on); AccessDenied without a live session."""
    if actor is None or actor.session_id is None:
        raise AccessDenied("Please sign in again.")
    with unit_of_work() as session:
        user = session.get(User, actor.user_id)
        if user is None or not user.active:
            raise AccessDenied("Please sign in again.")
        return user.password_hash, bool(user.mfa_enabled)


def check_password(actor: Actor | None, password: str, what: str) -> bool:
    """Is `password` the actor's? (Argon2id, outside any transaction.) A wrong one is counted and
    audited as `what` and raises WrongCurrentPassword. Returns whether a code is needed too."""
    encoded, needs_code = password_hash_of(actor)
    if not passwords.verify_password(str(password or "")[:passwords.MAX_LENGTH], encoded):
        count_failure(actor, what, "current_password")
    return needs_code


def use_code(session: Session, actor: Actor, code: str, what: str) -> None:
    """Consume the actor's authenticator (or recovery) code in the caller's unit; a wrong or missing
    one rolls the unit back, is counted and audited as `what`, and raises WrongCode."""
    user = session.get(User, actor.user_id)
    if user is None or not user.active:
        raise AccessDenied("Please sign in again.")
    if not user.mfa_enabled:
        return
    if not mfa.use_code(user, str(code or "")[:32]):
        session.rollback()
        count_failure(actor, what, "code", WrongCode)
    session.add(user)


def count_failure(actor: Actor, what: str, reason: str, error: type[WrongCurrentPassword] = WrongCurrentPassword
                  ) -> None:
    """Count a wrong password or code against the account (locking it at the limit), audit it, raise."""
    with unit_of_work() as session:
        user = session.get(User, actor.user_id)
        user.failed_attempts = (user.failed_attempts or 0) + 1
        locked = user.failed_attempts >= ACCOUNT_MAX_FAILURES
        if locked:
            user.locked_until = utcnow() + ACCOUNT_LOCK
            revoke_all_for_user(session, user.id, "locked")
        session.add(user)
        audit.record(session, actor, what, object_type="user", object_id=user.id, outcome="denied",
                     detail={"reason": reason, "locked": locked})
    raise error(locked)
