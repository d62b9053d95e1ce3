"""The clinic's own settings, kept in the database and read by every app process (issue 17).

An admin changes them on /admin/settings (``domain.configuration``); environment variables stay for
secrets and infrastructure and give the first values (PORTAL_CLINIC_NAME, PORTAL_TIMEZONE …) until
an admin saves the form. ``current()`` is what the rest of the code reads: the saved row laid over
the environment's values, cached in the process and re-checked against the row's version at most
once a second — a change made in one process is in use in every other within a second, with no
restart and no query per read. The row holds no PHI (clinic name, hours, timeouts, email wording).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import JSON, Column, LargeBinary, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Field

from patient_portal.core.db import TimestampedTable, side_read
from patient_portal.settings import get_settings, on_reset

#: how long a process trusts its copy before asking the database for the row's version again
RECHECK_SECONDS = 1.0


class ClinicSettings(TimestampedTable, table=True):
    """The one row of the clinic's settings (none until an admin first saves them)."""

    __tablename__ = "clinic_settings"

    clinic_name: str = Field(max_length=120)
    clinic_address: str = Field(default="", max_length=300)
    clinic_phone: str = Field(default="", max_length=40)
    timezone: str = Field(max_length=64)
    #: the clinic's opening hours by weekday (0 = Monday): {"0": ["08:00", "17:00"], …}; a day
    #: missing is closed
    business_hours: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    session_idle_minutes: int
    session_absolute_hours: int
    require_mfa: bool
    #: a closing paragraph added to every email the portal sends (no clinical words: it goes to all)
    email_signature: str = Field(default="", max_length=500)
    #: the admin's rewording of notification emails, {template key: {"subject", "text"}} (core.mail_wording)
    email_wording: dict = Field(default_factory=dict,
                                sa_column=Column(JSON, nullable=False, server_default=text("'{}'")))
    logo: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    logo_type: str = Field(default="", max_length=20)
    updated_by: str = Field(default="", max_length=64)
    version: int = Field(default=1, nullable=False)


@dataclass(frozen=True)
class ClinicProfile:
    """The settings in force: the saved row over the environment's defaults."""

    clinic_name: str
    clinic_address: str
    clinic_phone: str
    timezone: str
    business_hours: dict[str, list[str]]
    session_idle_seconds: int
    session_absolute_seconds: int
    require_mfa: bool
    email_signature: str
    email_wording: Mapping[str, Any]
    has_logo: bool
    version: int  # 0: nothing saved yet, the environment's values


_WEEKDAYS_OPEN = {str(day): ["08:00", "17:00"] for day in range(5)}


def from_environment() -> ClinicProfile:
    """The values before an admin saves anything (PORTAL_* variables, see settings.py)."""
    s = get_settings()
    return ClinicProfile(
        clinic_name=s.clinic_name, clinic_address=s.clinic_address, clinic_phone=s.clinic_phone,
        timezone=s.clinic_timezone, business_hours=dict(_WEEKDAYS_OPEN),
        session_idle_seconds=s.session_idle_seconds, session_absolute_seconds=s.session_absolute_seconds,
        require_mfa=s.require_mfa, email_signature="", email_wording={}, has_logo=False,
        version=0)


def profile_of(saved: Mapping[str, Any] | None) -> ClinicProfile:
    """The profile a saved row's values give (the environment's when there is none). The
    environment's MFA requirement is a floor: a saved form can add it, not take it away."""
    base = from_environment()
    if saved is None:
        return base
    return replace(base, clinic_name=saved["clinic_name"], clinic_address=saved["clinic_address"],
                   clinic_phone=saved["clinic_phone"], timezone=saved["timezone"],
                   business_hours=dict(saved["business_hours"] or {}),
                   session_idle_seconds=saved["session_idle_minutes"] * 60,
                   session_absolute_seconds=saved["session_absolute_hours"] * 3600,
                   require_mfa=bool(saved["require_mfa"]) or base.require_mfa,
                   email_signature=saved["email_signature"],
                   email_wording=dict(saved.get("email_wording") or {}), has_logo=bool(saved["has_logo"]),
                   version=saved["version"])


_TABLE = ClinicSettings.__table__
#: what a profile reads: every column but the logo's bytes (and whether there is one)
_PROFILE_COLUMNS = (*[c for c in _TABLE.c if c.name != "logo"], _TABLE.c.logo.isnot(None).label("has_logo"))


class _Cache:
    """This process's copy and when it was last checked against the database."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.profile: ClinicProfile | None = None
        self.checked = 0.0


_cache = _Cache()


def _read(*columns: Any) -> Any:
    """The one row's columns (None: no row, or no table yet — a database not yet migrated), on a
    connection of its own (core.db.side_read): the caller may be in the middle of a unit of work."""
    try:
        return side_read(select(*columns).limit(1))
    except SQLAlchemyError:
        return None


def current() -> ClinicProfile:
    """The clinic's settings in force in this process (at most a second behind another's save).
    While one thread checks the version, the others go on with the copy they have (never wait)."""
    cached = _cache.profile
    if cached is not None and time.monotonic() - _cache.checked < RECHECK_SECONDS:
        return cached
    if not _cache.lock.acquire(blocking=cached is None):
        return cached  # another thread is checking
    try:
        cached = _cache.profile
        if cached is not None:
            if time.monotonic() - _cache.checked < RECHECK_SECONDS:
                return cached
            row = _read(_TABLE.c.version)
            if (row[0] if row else 0) == cached.version:
                _cache.checked = time.monotonic()
                return cached
        row = _read(*_PROFILE_COLUMNS)
        _cache.profile, _cache.checked = profile_of(row._mapping if row else None), time.monotonic()
        return _cache.profile
    finally:
        _cache.lock.release()


@on_reset
def forget() -> None:
    """Drop this process's copy: after a save here (so the saving process never waits a second),
    and whenever settings are read again (tests, CLI)."""
    with _cache.lock:
        _cache.profile = None
