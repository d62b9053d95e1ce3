"""TOTP (RFC 6238: SHA-1, 6 digits, 30 s) and single-use recovery codes.

Each TOTP step is accepted once (the last used step is stored); recovery codes are stored as
SHA-256 digests and removed when used. Pure functions over a ``User`` row: callers own the
transaction.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

import segno
from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor.totp import TOTP

from patient_portal.domain.identity.models import User

ISSUER = "Patient Portal"
DIGITS = 6
STEP_SECONDS = 30
RECOVERY_CODES = 10


def new_secret() -> str:
    """A fresh 160-bit secret, base32 (what authenticator apps expect)."""
    return base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")


def _totp(secret: str) -> TOTP:
    padded = secret + "=" * (-len(secret) % 8)
    return TOTP(base64.b32decode(padded), DIGITS, SHA1(), STEP_SECONDS, enforce_key_length=True)  # noqa: S303


def code_at(secret: str, when: float) -> str:
    """The code an authenticator shows at time `when` (tests and enrolment help)."""
    return _totp(secret).generate(when).decode()


def provisioning_uri(secret: str, email: str) -> str:
    return _totp(secret).get_provisioning_uri(email, ISSUER)


def qr_data_uri(uri: str) -> str:
    """An SVG data URI of the QR code for the provisioning URI."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2, dark="#000", light="#fff")


def _clean(code: str | None) -> str:
    return "".join(ch for ch in (code or "") if ch.isalnum()).upper()


def match_totp_step(secret: str, code: str, last_step: int | None, now: float | None = None) -> int | None:
    """The step (±1 for clock drift) whose code matches and was not used before; else None."""
    code = _clean(code)
    if len(code) != DIGITS or not code.isdigit():
        return None
    current = int((now if now is not None else time.time()) // STEP_SECONDS)
    totp = _totp(secret)
    for step in (current - 1, current, current + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(totp.generate(step * STEP_SECONDS).decode(), code):
            return step
    return None


def _digest(code: str) -> str:
    return hashlib.sha256(_clean(code).encode()).hexdigest()


def new_recovery_codes() -> tuple[list[str], list[str]]:
    """(codes to show once, digests to store)."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(alphabet) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes, [_digest(c) for c in codes]


def use_code(user: User, code: str | None, now: float | None = None) -> bool:
    """Accept a current TOTP code or an unused recovery code, consuming it. Mutates `user`."""
    if not user.mfa_enabled or not user.mfa_secret or not code:
        return False
    step = match_totp_step(user.mfa_secret, code, user.mfa_last_step, now)
    if step is not None:
        user.mfa_last_step = step
        return True
    digest = _digest(code)
    remaining = list(user.recovery_codes or [])
    for stored in remaining:
        if hmac.compare_digest(stored, digest):
            remaining.remove(stored)
            user.recovery_codes = remaining
            return True
    return False
