"""The "password verified, awaiting code" ticket of two-step sign-in.

When the password of an account with MFA is right but no code came with it, the browser gets a
ticket (an HttpOnly cookie) instead of a session, and the code step posts it with the code. The
password itself is never kept: not in the URL, not in a page, not on the server.

A ticket is ``base64url(payload).hmac`` under ``KeyRing.mac_key(kid, "mfa-ticket")``; the payload
names the key, the account (id and email), the expiry (5 minutes after the password was checked),
a nonce, and a digest of the account's sign-in state (password hash, failure count, lock, last
sign-in, last TOTP step, recovery codes, MFA secret). Nothing is stored for it, yet it is

* unforgeable: only this server holds the key; a changed byte breaks the MAC;
* bound to one account: the account is inside the MACed payload, and the code step reads it from
  there, never from the form;
* short-lived: refused after its expiry;
* single-use: every use changes the state it was issued for (a right code records the sign-in and
  consumes the TOTP step or recovery code; a wrong one counts a failure), so the same ticket never
  matches twice. The code step compares the state inside the same transaction that changes it,
  with the account row locked, so two requests racing with one ticket get one guess between them.
  A password change, an MFA change or a lockout ends every open ticket the same way.
"""

from __future__ import annotations

import base64
import hmac
import json
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from patient_portal.domain.identity.models import User
from patient_portal.domain.identity.sessions import aware

COOKIE_NAME = "portal_mfa"
#: What the websocket (the sign-in page's state) sees instead of the ticket: the email it is for,
#: written by ``api.auth.websocket_cookie`` from a valid ticket; a client-sent one is dropped.
HINT_COOKIE_NAME = "portal_mfa_for"
TTL = timedelta(minutes=5)
PURPOSE = "mfa-ticket"
VERSION = "t1"
MAX_LENGTH = 1200


@dataclass(frozen=True)
class Claim:
    """What a ticket with a good MAC says (not yet checked against the account)."""

    kid: str
    user_id: uuid.UUID
    email: str
    expires_at: int  # unix seconds
    state: str
    raw: str

    @property
    def seconds_left(self) -> int:
        return max(0, self.expires_at - int(time.time()))


def _b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _key(kid: str) -> bytes:
    from patient_portal.core.crypto import get_keyring

    return get_keyring().mac_key(kid, PURPOSE)


def _moment(value) -> str:
    value = aware(value)
    return f"{value.timestamp():.6f}" if value is not None else ""


def state_digest(user: User, kid: str) -> str:
    """A keyed digest of everything a use of the ticket changes (see the module docstring)."""
    parts = [
        str(user.id), user.email or "", user.password_hash or "", str(user.failed_attempts or 0),
        _moment(user.locked_until), _moment(user.last_sign_in_at), "1" if user.mfa_enabled else "0",
        user.mfa_secret or "", str(user.mfa_last_step), json.dumps(sorted(user.recovery_codes or [])),
        "1" if user.active else "0", "1" if user.email_verified else "0",
    ]
    return hmac.new(_key(kid), b"state\x1f" + "\x1f".join(parts).encode("utf-8"), "sha256").hexdigest()[:32]


def issue(user: User, *, expires_at: int | None = None) -> str:
    """A ticket for `user` as the row is now (read from the database). `expires_at` keeps the
    expiry of the ticket it replaces (after a wrong code), so retrying never extends it."""
    from patient_portal.core.crypto import get_keyring

    kid = get_keyring().active_kid
    expires = expires_at if expires_at is not None else int(time.time() + TTL.total_seconds())
    payload = json.dumps({"v": VERSION, "k": kid, "u": str(user.id), "e": user.email, "x": expires,
                          "n": secrets.token_urlsafe(12), "s": state_digest(user, kid)},
                         separators=(",", ":"), sort_keys=True).encode("utf-8")
    body = _b64e(payload)
    return f"{body}.{hmac.new(_key(kid), body.encode('ascii'), 'sha256').hexdigest()}"


def read(ticket: str | None, *, now: float | None = None) -> Claim | None:
    """The claim of a ticket with a good MAC that has not expired; None for anything else."""
    from patient_portal.core.crypto import DecryptionError

    if not ticket or len(ticket) > MAX_LENGTH or ticket.count(".") != 1:
        return None
    body, mac = ticket.split(".")
    try:
        data = json.loads(_b64d(body))
        kid = data["k"]
        if data.get("v") != VERSION or not isinstance(kid, str):
            return None
        expected = hmac.new(_key(kid), body.encode("ascii"), "sha256").hexdigest()
        if not hmac.compare_digest(expected, mac):
            return None
        claim = Claim(kid=kid, user_id=uuid.UUID(data["u"]), email=str(data["e"]), expires_at=int(data["x"]),
                      state=str(data["s"]), raw=ticket)
    except (ValueError, KeyError, TypeError, UnicodeError, DecryptionError):
        return None
    if claim.expires_at <= (now if now is not None else time.time()):
        return None
    return claim


def matches(claim: Claim, user: User | None) -> bool:
    """True when the ticket was issued for this account in exactly its current state."""
    if user is None or user.id != claim.user_id or (user.email or "") != claim.email:
        return False
    try:
        return hmac.compare_digest(state_digest(user, claim.kid), claim.state)
    except Exception:  # noqa: BLE001 - a key id retired since: the ticket is no good
        return False
