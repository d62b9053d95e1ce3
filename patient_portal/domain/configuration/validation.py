"""The clinic settings form's rules: every field checked, each problem a message for its field.

The bounds keep the portal safe whatever is typed: a session ends after 5 to 60 idle minutes
(HIPAA's automatic log-off) and after 1 to 24 hours in all; the time zone is one the server knows.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any
from zoneinfo import available_timezones

import phonenumbers

from patient_portal.settings import get_settings

IDLE_MINUTES = (5, 60)
ABSOLUTE_HOURS = (1, 24)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
#: (field, the most characters it holds)
_TEXTS = (("clinic_name", 120), ("clinic_address", 300), ("email_signature", 500))


@lru_cache(maxsize=1)
def time_zones() -> tuple[str, ...]:
    """The zones a clinic may choose, by name ("America/New_York"), and UTC; no legacy aliases."""
    named = (z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/")))
    return ("UTC", *sorted(named))


def _number(raw: Any, field: str, bounds: tuple[int, int], unit: str, errors: dict[str, str]) -> int:
    low, high = bounds
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        value = None
    if value is None or not low <= value <= high:
        errors[field] = f"Enter a whole number of {unit} from {low} to {high}."
        return low
    return value


def _phone(raw: Any, errors: dict[str, str]) -> str:
    text = str(raw or "").strip()
    if not text:
        return ""
    try:
        number = phonenumbers.parse(text, get_settings().phone_region)
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    except phonenumbers.NumberParseException:
        pass
    errors["clinic_phone"] = "Enter a phone number people can call, such as +1 617 555 0100."
    return text


def _hours(raw: Any, errors: dict[str, str]) -> dict[str, list[str]]:
    """{"0": ["08:00", "17:00"], …}: a day left empty is closed; a day needs both times, close after open."""
    hours: dict[str, list[str]] = {}
    given = raw if isinstance(raw, dict) else {}
    for day in range(7):
        pair = given.get(str(day)) or ["", ""]
        opens, closes = (str(p or "").strip() for p in (list(pair) + ["", ""])[:2])
        if not opens and not closes:
            continue
        field = f"hours_{day}"
        if not (_CLOCK.match(opens) and _CLOCK.match(closes)):
            errors[field] = f"{WEEKDAYS[day]}: give both times as HH:MM, or leave both empty if closed."
        elif closes <= opens:
            errors[field] = f"{WEEKDAYS[day]}: closing time must be after opening time."
        else:
            hours[str(day)] = [opens, closes]
    return hours


def clean(values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The values to save and the problems, by field (empty when the form is good)."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    for field, most in _TEXTS:
        text = str(values.get(field) or "").strip()
        if len(text) > most:
            errors[field] = f"Use at most {most} characters."
        out[field] = text
    if not out["clinic_name"]:
        errors["clinic_name"] = "Enter the clinic's name."
    if "<" in out["email_signature"] or ">" in out["email_signature"]:
        errors["email_signature"] = "Plain words only: emails are sent as plain text."
    out["clinic_phone"] = _phone(values.get("clinic_phone"), errors)
    zone = str(values.get("timezone") or "").strip()
    if zone not in time_zones():
        errors["timezone"] = "Choose a time zone from the list, such as America/New_York."
    out["timezone"] = zone
    out["business_hours"] = _hours(values.get("business_hours"), errors)
    out["session_idle_minutes"] = _number(values.get("session_idle_minutes"), "session_idle_minutes",
                                          IDLE_MINUTES, "minutes", errors)
    out["session_absolute_hours"] = _number(values.get("session_absolute_hours"), "session_absolute_hours",
                                            ABSOLUTE_HOURS, "hours", errors)
    out["require_mfa"] = values.get("require_mfa") in (True, "true", "on", "1", 1)
    return out, errors
