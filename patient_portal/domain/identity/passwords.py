"""Password policy and Argon2id hashing (PHC strings from `cryptography`).

Policy (NIST SP 800-63B style): 12 to 128 characters, no composition rules, not in the list of
common passwords shipped in ``patient_portal/data/common_passwords.txt``. Hashing is deliberately
slow; callers in the web process run it through ``core.db.off_loop``.
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from importlib import resources

from cryptography.exceptions import InvalidKey
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

from patient_portal.core.errors import Invalid
from patient_portal.settings import get_settings

MIN_LENGTH = 12
MAX_LENGTH = 128
#: RFC 9106 / OWASP second recommended option: t=2, m=19 MiB, p=1.
ITERATIONS = 2
MEMORY_KIB = 19 * 1024
LANES = 1


class PasswordRejected(Invalid):
    """The password does not meet the policy; the message is safe to show."""


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lowercased."""
    text = resources.files("patient_portal").joinpath("data/common_passwords.txt").read_text("utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip())


def check_policy(password: str) -> None:
    """Raise PasswordRejected with a plain reason when the password may not be used."""
    if not isinstance(password, str) or len(password) < MIN_LENGTH:
        raise PasswordRejected(f"Use at least {MIN_LENGTH} characters.")
    if len(password) > MAX_LENGTH:
        raise PasswordRejected(f"Use at most {MAX_LENGTH} characters.")
    if password.lower() in common_passwords() or len(set(password)) < 3:
        raise PasswordRejected("This password is too common; choose a longer phrase only you would use.")


def _kdf() -> Argon2id:
    return Argon2id(salt=os.urandom(16), length=32, iterations=ITERATIONS, lanes=LANES, memory_cost=MEMORY_KIB)


def hash_password(password: str) -> str:
    """An Argon2id PHC string for the password (slow: run off the event loop)."""
    return _kdf().derive_phc_encoded(password.encode("utf-8"))


def verify_password(password: str, encoded: str) -> bool:
    """True when the password matches the PHC string (slow: run off the event loop)."""
    if not encoded:
        return False
    try:
        Argon2id.verify_phc_encoded(password.encode("utf-8"), encoded)
        return True
    except (InvalidKey, ValueError):
        return False


@lru_cache(maxsize=1)
def dummy_hash() -> str:
    """A PHC string to verify against when there is no account, so timing reveals nothing."""
    return hash_password("not-a-real-password-for-timing")


# ---------------------------------------------------------------- a small pool of its own

_pool: ThreadPoolExecutor | None = None


def hash_workers() -> int:
    """Threads for Argon2id (PORTAL_HASH_WORKERS; default half the CPUs): the rest stay free for events."""
    return get_settings().hash_workers


def _hash_pool() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=hash_workers(), thread_name_prefix="portal-hash")
    return _pool


async def verify_off_loop(password: str, encoded: str) -> bool:
    """verify_password in the hashing pool (Argon2id releases the GIL; the event loop stays free)."""
    return await asyncio.get_running_loop().run_in_executor(_hash_pool(), verify_password, password, encoded)


async def hash_off_loop(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(_hash_pool(), hash_password, password)
