"""A signed-in user changes their own password.

The current password must be right (a wrong one counts like a failed sign-in: five lock the account
and end its sessions). The new one follows the password policy and must differ. Every other session
and every open reset link of the account ends (credentials.py); the owner is emailed a notice. Argon2 runs outside the transaction.
"""

from __future__ import annotations

from patient_portal.core import audit
from patient_portal.core.access import Actor
from patient_portal.core.db import unit_of_work, utcnow
from patient_portal.domain.identity import account_mail, passwords, reauth
from patient_portal.domain.identity.credentials import credentials_changed
from patient_portal.domain.identity.models import User
from patient_portal.domain.identity.reauth import WrongCurrentPassword

WHAT = "user.password_change"
__all__ = ["WHAT", "WrongCurrentPassword", "change_password"]


def change_password(actor: Actor | None, current: str, new: str, again: str) -> int:
    """Change the actor's own password; returns how many other sessions were ended.

    Raises AccessDenied (no session), WrongCurrentPassword or passwords.PasswordRejected.
    """
    reauth.check_password(actor, current, WHAT)
    assert actor is not None
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
