"""Dates and times written for people, in the clinic's time zone (PORTAL_TIMEZONE).

"Tue 3 Mar, 14:30" this year, "Tue 3 Mar 2025, 14:30" otherwise; days as "Tue 3 Mar 2026".
Stored times are UTC; only what is shown is converted.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from patient_portal.core import clinic_config


def clinic_zone() -> ZoneInfo:
    """The clinic's time zone; UTC when the setting names no known zone."""
    try:
        return ZoneInfo(clinic_config.current().timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _local(value: datetime) -> datetime:
    if value.tzinfo is None:  # databases without time zones hand back naive UTC
        value = value.replace(tzinfo=UTC)
    return value.astimezone(clinic_zone())


def plain_time(value: datetime | None, *, now: datetime | None = None) -> str:
    """ "Tue 3 Mar, 14:30" (with the year when it is not this year); "" for None."""
    if value is None:
        return ""
    local = _local(value)
    this_year = _local(now or datetime.now(UTC)).year
    return local.strftime("%a %-d %b, %H:%M" if local.year == this_year else "%a %-d %b %Y, %H:%M")


def exact_time(value: datetime | None) -> str:
    """Date and time to the second, for administrators and audit views."""
    return _local(value).strftime("%a %-d %b %Y, %H:%M:%S") if value is not None else ""


def plain_day(value: date | None) -> str:
    """ "Tue 3 Mar 2026"; "" for None."""
    return value.strftime("%a %-d %b %Y") if value else ""
