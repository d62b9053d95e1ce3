"""Setting up two-step sign-in (TOTP) for one's own account, and an admin's reset of it.

The acting user can only act on their own account here: ``actor.user_id`` is the account.
``begin`` stores a pending secret; ``confirm`` checks a code against it, turns MFA on and returns
10 recovery codes (shown once, stored hashed).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from patient_portal.core import audit
from patient_portal.core.access import AccessDenied, Action, Actor, require
from patient_portal.core.db import utcnow
from patient_portal.core.errors import Invalid
from patient_portal.domain.identity import mfa
from patient_portal.domain.identity.credentials import credentials_changed
from patient_portal.domain.identity.models import User


class EnrolmentError(Invalid):
    """The code did not match, or there is nothing to confirm; the message is safe to show."""


@dataclass(frozen=True)
class MfaStatus:
    enabled: bool
    recovery_codes_left: int
    email: str


@dataclass(frozen=True)
class EnrolmentStart:
    secret: str  # the manual-entry key
    qr_svg: str  # data URI
    uri: str


def _own(session: Session, actor: Actor | None) -> User:
    if actor is None:
        raise AccessDenied("Please sign in.")
    user = session.get(User, actor.user_id)
    if user is None or not user.active:
        raise AccessDenied("Please sign in.")
    return user


def status(session: Session, actor: Actor | None) -> MfaStatus:
    user = _own(session, actor)
    return MfaStatus(user.mfa_enabled, len(user.recovery_codes or []), user.email)


def begin(session: Session, actor: Actor | None) -> EnrolmentStart:
    """A new pending secret (replaces an unconfirmed one); MFA stays as it was until confirmed."""
    user = _own(session, actor)
    secret = mfa.new_secret()
    user.mfa_pending_secret = secret
    user.updated_at = utcnow()
    session.add(user)
    audit.record(session, actor, "mfa.enrol.begin", object_type="user", object_id=user.id)
    uri = mfa.provisioning_uri(secret, user.email)
    return EnrolmentStart(secret=secret, qr_svg=mfa.qr_data_uri(uri), uri=uri)


def confirm(session: Session, actor: Actor | None, code: str) -> list[str]:
    """Check the first code against the pending secret; turn MFA on; return fresh recovery codes."""
    user = _own(session, actor)
    if not user.mfa_pending_secret:
        raise EnrolmentError("Start the set-up again: scan the new QR code first.")
    step = mfa.match_totp_step(user.mfa_pending_secret, code, None)
    if step is None:
        raise EnrolmentError("That code is not right. Enter the 6-digit code your app shows now.")
    codes, digests = mfa.new_recovery_codes()
    user.mfa_secret = user.mfa_pending_secret
    user.mfa_pending_secret = None
    user.mfa_enabled = True
    user.mfa_last_step = step
    user.recovery_codes = digests
    user.updated_at = utcnow()
    session.add(user)
    ended = credentials_changed(session, user.id, "mfa_changed", keep_session=actor.session_id)
    audit.record(session, actor, "mfa.enrol.confirm", object_type="user", object_id=user.id,
                 detail={"sessions_ended": ended})
    return codes


def new_recovery_codes(session: Session, actor: Actor | None, code: str) -> list[str]:
    """Replace the recovery codes (needs a current authenticator code, used once)."""
    user = _own(session, actor)
    if not user.mfa_enabled or not user.mfa_secret:
        raise EnrolmentError("Set up two-step sign-in first.")
    step = mfa.match_totp_step(user.mfa_secret, code, user.mfa_last_step)
    if step is None:
        raise EnrolmentError("That code is not right. Enter the 6-digit code your app shows now.")
    codes, digests = mfa.new_recovery_codes()
    user.mfa_last_step = step
    user.recovery_codes = digests
    session.add(user)
    ended = credentials_changed(session, user.id, "mfa_changed", keep_session=actor.session_id)
    audit.record(session, actor, "mfa.recovery_codes.renew", object_type="user", object_id=user.id,
                 detail={"sessions_ended": ended})
    return codes


def reset_for_user(session: Session, actor: Actor | None, user_id) -> None:
    """An admin turns MFA off for an account whose phone was lost (they enrol again next sign-in)."""
    require(session, actor, Action.USER_MANAGE, audit_as="mfa.reset", object_type="user")
    from patient_portal.domain.identity.service import get_user_row

    user = get_user_row(session, user_id)
    user.mfa_enabled = False
    user.mfa_secret = None
    user.mfa_pending_secret = None
    user.mfa_last_step = None
    user.recovery_codes = []
    session.add(user)
    ended = credentials_changed(session, user.id, "mfa_reset")  # the holder signs in and enrols afresh
    audit.record(session, actor, "mfa.reset", object_type="user", object_id=user.id,
                 detail={"sessions_ended": ended})
