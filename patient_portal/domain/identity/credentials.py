"""What a change of credentials ends.

A password change, a password reset and any MFA change (enrolment, new recovery codes, an admin's
MFA reset) end every way in that the old credentials opened: every other sign-in session and every
reset link still open. Otherwise a reset link mailed before the change (perhaps to a mailbox the
attacker reads) would undo it.
"""

from __future__ import annotations

import uuid

from sqlmodel import Session

from patient_portal.core.db import utcnow
from patient_portal.domain.identity import email_links
from patient_portal.domain.identity.sessions import revoke_all_for_user


def credentials_changed(session: Session, user_id: uuid.UUID, reason: str, *,
                        keep_session: uuid.UUID | None = None) -> int:
    """End the account's other sessions (all but `keep_session`) and its open reset links, in the
    caller's transaction; returns how many sessions ended."""
    email_links.use_all(session, user_id, "reset", utcnow())
    return revoke_all_for_user(session, user_id, reason, keep=keep_session)
