"""Checks of a break-the-glass request and of an admin's review (no database, no policy)."""

from __future__ import annotations

from typing import Any

from patient_portal.domain.breakglass.dto import REASONS

TEXT_MAX = 500
NOTE_MAX = 1000
DECISIONS = ("approve", "flag")


def _text(value: Any, limit: int) -> str:
    return " ".join(str(value or "").split())[:limit] if isinstance(value, str | int | float) or value is None else ""


def request(reason_code: Any, reason_text: Any, password: Any) -> tuple[str, str, dict[str, str]]:
    """(reason code, free text, field errors)."""
    errors: dict[str, str] = {}
    code = str(reason_code or "")
    if code not in REASONS:
        errors["reason_code"] = "Choose why you need emergency access."
        code = ""
    text = _text(reason_text, TEXT_MAX)
    if code == "other" and len(text) < 5:
        errors["reason_text"] = "Say in a few words why you need access."
    if not isinstance(password, str) or not password:
        errors["password"] = "Enter your password to confirm it is you."  # noqa: S105 - a message
    return code, text, errors


def review(decision: Any, note: Any) -> tuple[str, str, dict[str, str]]:
    """(approve | flag, note, field errors): a flag needs a note saying what to follow up."""
    errors: dict[str, str] = {}
    chosen = str(decision or "")
    if chosen not in DECISIONS:
        errors["decision"] = "Choose approve or flag."
    text = _text(note, NOTE_MAX)
    if chosen == "flag" and len(text) < 5:
        errors["note"] = "Say what needs following up."
    return chosen, text, errors
