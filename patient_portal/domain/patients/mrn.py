"""Medical record numbers: "PP-" + 7 random digits + a Luhn (mod-10) check digit, e.g. PP-12345674."""

from __future__ import annotations

import re
import secrets

PREFIX = "PP-"
_MRN_RE = re.compile(r"^\s*(?:PP)?[-\s]?(\d{8})\s*$", re.IGNORECASE)


def luhn_digit(digits: str) -> str:
    """The Luhn check digit to append to `digits`."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def generate() -> str:
    """A new random MRN (uniqueness is the database's job)."""
    body = f"{secrets.randbelow(10**7):07d}"
    return PREFIX + body + luhn_digit(body)


def looks_like_mrn(text: str) -> bool:
    """Eight digits, optionally prefixed with PP / PP-: what a user would type for an MRN."""
    return bool(_MRN_RE.match(text or "")) and ("pp" in text.lower() or text.strip().isdigit())


def parse(text: str) -> str | None:
    """The canonical MRN for user input, or None when the shape or check digit is wrong."""
    match = _MRN_RE.match(text or "")
    if not match:
        return None
    digits = match.group(1)
    if luhn_digit(digits[:7]) != digits[7]:
        return None
    return PREFIX + digits
