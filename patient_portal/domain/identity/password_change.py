"""A signed-in user changes their own password.

The current password must be right (a wrong one counts like a failed sign-in: five lock the account
and end its sessions). The new one follows the password policy and must differ. Every other session
and every open reset link of the account ends (credentials.py); the owner is emailed a notice. Argon2 runs outside the transaction.
"""

from __future__ import annotations

from patient_portal.core import audit
from patient_portal.core.access import AccessDenied, Actor
from patient_portal.core.db import unit_of_work, utcnow
from patient_portal.core.errors import Invalid
from patient_portal.domain.identity import account_mail, passwords
from patient_portal.domain.identity.credentials import credentials_changed
from patient_portal.domain.identity.models import User
from patient_portal.domain.identity.sessions import revoke_all_for_user
from patient_portal.domain.identity.signin import ACCOUNT_LOCK, ACCOUNT_MAX_FAILURES

WHAT = "user.password_change"


class WrongCurrentPassword(Invalid):
    def __init__(self, locked: bool):
        super().__init__("Too many wrong passwords: the account is locked for 15 minutes and you were signed "
                         "out." if locked else "Your current password is not right.")
        self.locked = locked

    @property
    def must_sign_in(self) -> bool:
        """A lockout ends every session of the account, this one included."""
        return self.locked


def change_password(actor: Actor | None, current: str, new: str, again: str) -> int:
    """Change the actor's own password; returns how many other sessions were ended.

    Raises AccessDenied (no session), WrongCurrentPassword or passwords.PasswordRejected.
    """
    if actor is None or actor.session_id is None:
        raise AccessDenied("Please sign in again.")
    with unit_of_work() as session:
        user = session.get(User, actor.user_id)
        if user is None or not user.active:
            raise AccessDenied("Please sign in again.")
        encoded = user.password_hash
    if not passwords.verify_password(current[:passwords.MAX_LENGTH], encoded):
        _count_failure(actor)
    if new != again:
        raise passwords.PasswordRejected("The two new passwords are not the same.")
    if new == current:
        raise passwords.PasswordRejected("Choose a password different from the current one.")
    passwords.check_policy(new)
    hashed = passwords.hash_password(new)
    with unit_of_work() as session:
        user = session.get(User, actor.user_id)
        user.password_hash, user.failed_attempts, user.updated_at = hashed, 0, utcnow()
        session.add(user)
        ended = credentials_changed(session, user.id, "password_changed", keep_session=actor.session_id)
        audit.record(session, actor, WHAT, object_type="user", object_id=user.id, detail={"sessions_ended": ended})
        account_mail.queue(session, "password_changed", user, how="from the account page")
    return ended


def _count_failure(actor: Actor) -> None:
    with unit_of_work() as session:
        user = session.get(User, actor.user_id)
        user.failed_attempts = (user.failed_attempts or 0) + 1
        locked = user.failed_attempts >= ACCOUNT_MAX_FAILURES
        if locked:
            user.locked_until = utcnow() + ACCOUNT_LOCK
            revoke_all_for_user(session, user.id, "locked")
        session.add(user)
        audit.record(session, actor, WHAT, object_type="user", object_id=user.id, outcome="denied",
                     detail={"reason": "current_password", "locked": locked})
    raise WrongCurrentPassword(locked)
