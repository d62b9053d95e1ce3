"""Checks of a consent decision (no database, no policy)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from patient_portal.core.access_facts import DECLINED, GRANTED, WITHDRAWN
from patient_portal.domain.consent.dto import TEXTS

STATUSES = (GRANTED, DECLINED, WITHDRAWN)


def decision(purpose: Any, status: Any, errors: dict[str, str]) -> tuple[str, str]:
    chosen = str(purpose or "")
    if chosen not in TEXTS:
        errors["purpose"] = "Choose what the consent is for."
    said = str(status or "")
    if said not in STATUSES:
        errors["status"] = "Choose agreed, declined or withdrawn."
    return chosen, said


def signed_on(value: Any, today: date, errors: dict[str, str]) -> date | None:
    if isinstance(value, date):
        day = value
    else:
        try:
            day = date.fromisoformat(str(value or "").strip())
        except ValueError:
            errors["signed_on"] = "Enter the date on the form, like 2026-03-14."
            return None
    if day > today:
        errors["signed_on"] = "The date on the form cannot be in the future."
    return day


def document_ref(value: Any, errors: dict[str, str]) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value or "").strip())
    except ValueError:
        errors["document_id"] = "Choose the scanned form from the patient's documents."
        return None
