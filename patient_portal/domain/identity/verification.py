"""Confirming a self-registered account's email address with an emailed one-time link.

Self-registered accounts start with ``email_verified = False`` and cannot sign in until the link is
opened (a reset link proves the address too). Opening a link again after it worked still says
"confirmed": mail scanners often open links before the person does.
"""

from __future__ import annotations

from datetime import timedelta

from patient_portal.core import audit
from patient_portal.core.db import unit_of_work, utcnow
from patient_portal.domain.identity import email_links
from patient_portal.domain.identity.sessions import actor_for, aware

VERIFY_TTL = timedelta(hours=24)
ROUTE = "/verify-email"
CONFIRMED = "auth.email_verified"


def confirm(token: str, *, ip: str | None = None) -> bool:
    """Confirm the address behind `token`; False when the link is unknown or expired unused."""
    with unit_of_work() as session:
        try:
            row, user = email_links.find(session, token, "verify")
        except email_links.LinkInvalid:
            return False
        if user.email_verified:
            return True
        if row.used_at is not None or aware(row.expires_at) <= utcnow():
            return False
        now = utcnow()
        user.email_verified, user.updated_at = True, now
        session.add(user)
        email_links.use_all(session, user.id, "verify", now)
        audit.record(session, actor_for(user, ip=ip), CONFIRMED, object_type="user", object_id=user.id)
    return True
