"""Field rules for registration and profile edits, shared by the UI (as the user types) and the
services (which re-check everything). Inputs are the strings a form holds; every function returns
``{field: message}`` (empty when valid). Keys of list rows read ``"<index>.<field>"``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from patient_portal.core.db import utcnow
from patient_portal.core.errors import Invalid
from patient_portal.domain.history import dto as history_dto
from patient_portal.settings import get_settings

MAX_AGE_YEARS = 130
SEXES = ("female", "male", "intersex", "unknown")
CONTACT_METHODS = ("phone", "sms", "email", "mail")
PHONE_TYPES = ("mobile", "home", "work")
SEVERITIES = ("mild", "moderate", "severe", "unknown")
CONDITION_STATUSES = ("active", "resolved", "inactive")
CODE_SYSTEMS = ("ICD-10", "SNOMED")
ALLERGY_CATEGORIES = ("medication", "drug_class", "food", "environment", "other")
CRITICALITIES = ("low", "high", "unable-to-assess")
ALLERGY_STATUSES = ("active", "inactive", "resolved")
VERIFICATIONS = ("verified", "patient-reported")
MEDICATION_STATUSES = ("active", "stopped", "completed")
MEDICATION_ORIGINS = ("prescribed", "patient-reported")
IMMUNIZATION_SITES = tuple(history_dto.IMMUNIZATION_SITES)
IMMUNIZATION_ROUTES = tuple(history_dto.IMMUNIZATION_ROUTES)
MAX_DOSE_NUMBER = 20
MAX_ONSET_AGE = 130
SUBSCRIBER_RELATIONSHIPS = ("self", "spouse", "child", "other")
POLICY_ORDERS = ("primary", "secondary", "tertiary")
CONTACT_ORDERS = ("primary", "secondary")
#: May the clinic message this emergency contact in an emergency (the patient's choice; blank: yes).
CONTACT_NOTIFY = ("yes", "no")
HISTORY_KINDS = ("conditions", "allergies", "medications", "family_history", "immunizations")

REQUIRED = "This is required."


class ValidationFailed(Invalid):
    """Input broke one or more field rules; `errors` maps field keys to messages safe to show."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("Some fields need attention: " + ", ".join(sorted(errors)), errors)


def phone_region() -> str:
    """Region used for numbers typed without a country code (PORTAL_PHONE_REGION, default US)."""
    return get_settings().phone_region


def display_phone(e164: str | None) -> str:
    """A stored E.164 number written for people ("+1 617-555-0142"); other text unchanged."""
    if not e164:
        return ""
    try:
        return phonenumbers.format_number(phonenumbers.parse(e164, phone_region()),
                                          phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    except phonenumbers.NumberParseException:
        return e164


def normalize_phone(raw: str) -> str | None:
    """E.164 form of a valid phone number, else None."""
    try:
        number = phonenumbers.parse((raw or "").strip(), phone_region())
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(raw: str) -> str | None:
    """Lower-cased normalized address of a syntactically valid email, else None."""
    try:
        return validate_email((raw or "").strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None


def parse_date(raw: Any) -> date | None:
    """A date from a date or an ISO ``YYYY-MM-DD`` string (what <input type=date> sends)."""
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw or "").strip())
    except ValueError:
        return None


def _blank(value: Any) -> bool:
    return value is None or str(value).strip() == ""


def _today() -> date:
    return utcnow().date()


def _check_required(values: dict, fields: tuple[str, ...], errors: dict[str, str]) -> None:
    for name in fields:
        if _blank(values.get(name)) and name not in errors:
            errors[name] = REQUIRED


def _check_choice(values: dict, name: str, choices: tuple[str, ...], errors: dict[str, str]) -> None:
    value = values.get(name)
    if not _blank(value) and value not in choices:
        errors[name] = "Choose one of: " + ", ".join(choices) + "."


def _check_past_date(values: dict, name: str, errors: dict[str, str], label: str = "Date") -> date | None:
    raw = values.get(name)
    if _blank(raw):
        return None
    parsed = parse_date(raw)
    if parsed is None:
        errors[name] = "Enter a date as YYYY-MM-DD."
    elif parsed > _today():
        errors[name] = f"{label} cannot be in the future."
    return parsed


def _check_length(values: dict, errors: dict[str, str], limit: int = 200) -> None:
    for name, value in values.items():
        if isinstance(value, str) and len(value) > limit and name not in errors:
            errors[name] = f"Keep this under {limit} characters."


def check_date_of_birth(raw: Any) -> str | None:
    """The message for a bad date of birth, or None."""
    errors: dict[str, str] = {}
    if _blank(raw):
        return REQUIRED
    dob = _check_past_date({"dob": raw}, "dob", errors, "Date of birth")
    if errors:
        return errors["dob"]
    today = _today()
    if dob is not None and (today.year - dob.year) - ((today.month, today.day) < (dob.month, dob.day)) > MAX_AGE_YEARS:
        return f"Date of birth must be within the last {MAX_AGE_YEARS} years."
    return None


def check_phone(raw: str) -> str | None:
    if _blank(raw):
        return None
    if normalize_phone(raw) is None:
        return "Enter a valid phone number (add the country code, e.g. +44, for numbers abroad)."
    return None


def check_email(raw: str) -> str | None:
    if _blank(raw):
        return None
    if normalize_email(raw) is None:
        return "Enter a valid email address, like name@example.com."
    return None


def validate_name(values: dict) -> dict[str, str]:
    """Legal names, date of birth and sex: the fields only staff may change directly."""
    errors: dict[str, str] = {}
    _check_required(values, ("given_name", "family_name", "sex"), errors)
    dob_error = check_date_of_birth(values.get("date_of_birth"))
    if dob_error:
        errors["date_of_birth"] = dob_error
    _check_choice(values, "sex", SEXES, errors)
    return errors


def validate_contact(values: dict) -> dict[str, str]:
    """Address, phones, email and how the patient likes to be contacted."""
    errors: dict[str, str] = {}
    for kind in PHONE_TYPES:
        message = check_phone(values.get(f"phone_{kind}", ""))
        if message:
            errors[f"phone_{kind}"] = message
    message = check_email(values.get("email", ""))
    if message:
        errors["email"] = message
    has_phone = any(not _blank(values.get(f"phone_{k}")) for k in PHONE_TYPES)
    if not has_phone and _blank(values.get("email")):
        errors.setdefault("phone_mobile", "Give at least one phone number or an email address.")
    _check_choice(values, "preferred_contact_method", CONTACT_METHODS, errors)
    method = values.get("preferred_contact_method")
    if method == "email" and _blank(values.get("email")) and "email" not in errors:
        errors["email"] = "Add an email address to be contacted by email."
    if method == "sms" and _blank(values.get("phone_mobile")) and "phone_mobile" not in errors:
        errors["phone_mobile"] = "Add a mobile number to be contacted by text message."
    if method == "mail" and (_blank(values.get("address_line1")) or _blank(values.get("postal_code"))):
        errors.setdefault("address_line1", "Add a postal address to be contacted by mail.")
    return errors


def validate_basic(values: dict) -> dict[str, str]:
    """Step 1 of registration: names, birth, sex, contact details and preferences."""
    errors = validate_name(values)
    errors.update(validate_contact(values))
    _check_length(values, errors)
    return errors


_HISTORY_REQUIRED = {
    "conditions": ("description",),
    "allergies": ("substance", "severity"),
    "medications": ("name",),
    "family_history": ("relative", "condition"),
    "immunizations": ("vaccine", "given_on"),
}


def _check_code_system(row: dict, errors: dict[str, str]) -> None:
    _check_choice(row, "code_system", CODE_SYSTEMS, errors)
    if not _blank(row.get("code")) and _blank(row.get("code_system")):
        errors["code_system"] = "Say which code system the code is from."


def validate_history_item(kind: str, row: dict) -> dict[str, str]:
    """One medical-history row of `kind` (see HISTORY_KINDS): required fields, choices, dates.
    Codes are checked against the code tables by the history service (it has the database)."""
    if kind not in HISTORY_KINDS:
        return {"kind": "Unknown kind of history entry."}
    errors: dict[str, str] = {}
    _check_required(row, _HISTORY_REQUIRED[kind], errors)
    if kind == "conditions":
        _check_past_date(row, "onset", errors, "Onset")
        _check_choice(row, "status", CONDITION_STATUSES, errors)
        _check_code_system(row, errors)
    elif kind == "family_history":
        _check_code_system(row, errors)
        age = str(row.get("age_at_onset") or "").strip()
        if age and (not age.isdigit() or int(age) > MAX_ONSET_AGE):
            errors["age_at_onset"] = f"Enter the age in whole years (0 to {MAX_ONSET_AGE})."
    elif kind == "allergies":
        _check_choice(row, "severity", SEVERITIES, errors)
        _check_choice(row, "category", ALLERGY_CATEGORIES, errors)
        _check_choice(row, "criticality", CRITICALITIES, errors)
        _check_choice(row, "status", ALLERGY_STATUSES, errors)
        _check_choice(row, "verification", VERIFICATIONS, errors)
    elif kind == "medications":
        _check_choice(row, "status", MEDICATION_STATUSES, errors)
        _check_choice(row, "origin", MEDICATION_ORIGINS, errors)
        _check_choice(row, "verification", VERIFICATIONS, errors)
        start = _check_past_date(row, "start_date", errors, "Start date")
        stop = parse_date(row.get("stop_date")) if not _blank(row.get("stop_date")) else None
        if not _blank(row.get("stop_date")) and stop is None:
            errors["stop_date"] = "Enter a date as YYYY-MM-DD."
        elif start and stop and stop < start:
            errors["stop_date"] = "The stop date must be on or after the start date."
    elif kind == "immunizations":
        _check_past_date(row, "given_on", errors, "Date given")
        _check_choice(row, "site", IMMUNIZATION_SITES, errors)
        _check_choice(row, "route", IMMUNIZATION_ROUTES, errors)
        dose = str(row.get("dose_number") or "").strip()
        if dose and (not dose.isdigit() or not 1 <= int(dose) <= MAX_DOSE_NUMBER):
            errors["dose_number"] = f"Enter the dose number in the series (1 to {MAX_DOSE_NUMBER})."
    _check_length(row, errors)
    return errors


def _rows(rows: list[dict], check) -> dict[str, str]:
    errors: dict[str, str] = {}
    for index, row in enumerate(rows or []):
        for name, message in check(row).items():
            errors[f"{index}.{name}"] = message
    return errors


def validate_history(history: dict[str, list[dict]]) -> dict[str, str]:
    """Step 2: keys read ``"<kind>.<index>.<field>"``."""
    errors: dict[str, str] = {}
    for kind in HISTORY_KINDS:
        for key, message in _rows(history.get(kind) or [], lambda r, k=kind: validate_history_item(k, r)).items():
            errors[f"{kind}.{key}"] = message
    return errors


def validate_policy(row: dict) -> dict[str, str]:
    """One insurance policy."""
    errors: dict[str, str] = {}
    _check_required(row, ("payer", "member_id", "relationship", "order"), errors)
    _check_choice(row, "relationship", SUBSCRIBER_RELATIONSHIPS, errors)
    _check_choice(row, "order", POLICY_ORDERS, errors)
    if row.get("relationship") not in (None, "", "self") and _blank(row.get("subscriber_name")):
        errors["subscriber_name"] = "Give the subscriber's name when the patient is not the subscriber."
    start = parse_date(row.get("effective_date")) if not _blank(row.get("effective_date")) else None
    if not _blank(row.get("effective_date")) and start is None:
        errors["effective_date"] = "Enter a date as YYYY-MM-DD."
    end = parse_date(row.get("end_date")) if not _blank(row.get("end_date")) else None
    if not _blank(row.get("end_date")) and end is None:
        errors["end_date"] = "Enter a date as YYYY-MM-DD."
    if start and end and end < start:
        errors["end_date"] = "The end date must be after the effective date."
    _check_length(row, errors)
    return errors


def _check_unique_order(rows: list[dict], errors: dict[str, str]) -> None:
    seen: set[str] = set()
    for index, row in enumerate(rows or []):
        order = row.get("order")
        if order and order in seen:
            errors.setdefault(f"{index}.order", f"Only one {order} is allowed.")
        seen.add(order)


def validate_insurance(rows: list[dict]) -> dict[str, str]:
    """Step 3: zero policies means self-pay; each policy is checked and orders are unique."""
    errors = _rows(rows, validate_policy)
    _check_unique_order(rows, errors)
    return errors


def validate_emergency_contact(row: dict) -> dict[str, str]:
    """One emergency contact."""
    errors: dict[str, str] = {}
    _check_required(row, ("name", "relationship", "phone", "order"), errors)
    for name in ("phone", "alt_phone"):
        message = check_phone(row.get(name, ""))
        if message:
            errors[name] = message
    message = check_email(row.get("email", ""))
    if message:
        errors["email"] = message
    _check_choice(row, "order", CONTACT_ORDERS, errors)
    _check_choice(row, "preferred_contact_method", CONTACT_METHODS, errors)
    _check_choice(row, "notify", CONTACT_NOTIFY, errors)
    _check_length(row, errors)
    return errors


def validate_emergency(rows: list[dict]) -> dict[str, str]:
    """Step 4: at least one contact; each is checked and primary/secondary are unique."""
    if not rows:
        return {"contacts": "Add at least one emergency contact."}
    errors = _rows(rows, validate_emergency_contact)
    _check_unique_order(rows, errors)
    return errors


def validate_draft(draft: dict) -> dict[str, str]:
    """Every step of a registration draft; keys are prefixed with the step name."""
    errors: dict[str, str] = {}
    for step, check, value in (
        ("basic", validate_basic, draft.get("basic") or {}),
        ("history", validate_history, draft.get("history") or {}),
        ("insurance", validate_insurance, draft.get("insurance") or []),
        ("emergency", validate_emergency, draft.get("emergency") or []),
    ):
        for key, message in check(value).items():
            errors[f"{step}.{key}"] = message
    return errors
