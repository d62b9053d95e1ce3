"""Plain-dict views of a patient for the UI and API. Forms use flat string values (`basic_values`)."""

from __future__ import annotations

from datetime import date
from typing import Any

from patient_portal.core.db import utcnow
from patient_portal.domain.patients.models import Patient
from patient_portal.domain.patients.validation import PHONE_TYPES, display_phone, parse_date

LEGAL_FIELDS = ("given_name", "family_name", "date_of_birth", "sex")
PREFERENCE_FIELDS = ("preferred_name", "gender_identity", "preferred_language")
ADDRESS_FIELDS = ("address_line1", "address_line2", "city", "region", "postal_code", "country")
CONTACT_FIELDS = (*ADDRESS_FIELDS, *(f"phone_{t}" for t in PHONE_TYPES), "email", "preferred_contact_method")
BASIC_FIELDS = (*LEGAL_FIELDS, *PREFERENCE_FIELDS, *CONTACT_FIELDS)

LABELS = {
    "given_name": "Given name", "family_name": "Family name", "date_of_birth": "Date of birth", "sex": "Sex",
    "preferred_name": "Preferred name", "gender_identity": "Gender identity",
    "preferred_language": "Preferred language", "address_line1": "Address", "address_line2": "Address line 2",
    "city": "City", "region": "State / region", "postal_code": "Postal code", "country": "Country",
    "phone_mobile": "Mobile phone", "phone_home": "Home phone", "phone_work": "Work phone", "email": "Email",
    "preferred_contact_method": "Preferred contact method",
}


def age_on(dob: date | None, today: date | None = None) -> int | None:
    if dob is None:
        return None
    today = today or utcnow().date()
    return today.year - dob.year - ((today.month, today.day) < (dob.month, dob.day))


def display_date(value: date | str | None) -> str:
    """'12 Mar 1984' (plain, unambiguous)."""
    parsed = parse_date(value) if value else None
    return parsed.strftime("%-d %b %Y") if parsed else ""


def display_name(patient: Patient) -> str:
    return f"{patient.given_name} {patient.family_name}".strip()


def phone_of(patient: Patient, kind: str) -> str:
    for phone in patient.phones or []:
        if phone.get("type") == kind:
            return display_phone(phone.get("number", ""))
    return ""


def summary(patient: Patient) -> dict[str, Any]:
    """What search results and headers show: name, birth date with age, sex, MRN, status."""
    age = age_on(patient.date_of_birth)
    return {
        "id": str(patient.id),
        "mrn": patient.mrn,
        "name": display_name(patient),
        "family_name": patient.family_name,
        "given_name": patient.given_name,
        "preferred_name": patient.preferred_name or "",
        "date_of_birth": patient.date_of_birth.isoformat(),
        "dob_display": display_date(patient.date_of_birth),
        "age": "" if age is None else str(age),
        "sex": patient.sex,
        "phone": display_phone(next((p.get("number", "") for p in patient.phones or []), "")),
        "status": patient.status,
        "version": str(patient.version),
    }


def basic_values(patient: Patient) -> dict[str, str]:
    """Every profile field as the string a form holds."""
    address = patient.address or {}
    values = {
        "given_name": patient.given_name,
        "family_name": patient.family_name,
        "date_of_birth": patient.date_of_birth.isoformat(),
        "sex": patient.sex,
        "preferred_name": patient.preferred_name or "",
        "gender_identity": patient.gender_identity or "",
        "preferred_language": patient.preferred_language or "",
        "email": patient.email or "",
        "preferred_contact_method": patient.preferred_contact_method or "",
    }
    values.update({name: address.get(name.removeprefix("address_"), "") or "" for name in ADDRESS_FIELDS})
    values.update({f"phone_{t}": phone_of(patient, t) for t in PHONE_TYPES})
    return values


def masked(patient: Patient) -> dict[str, Any]:
    """A possible match shown to someone who may not see the record: initials and birth year only."""
    return {
        "id": "",
        "mrn": patient.mrn[:3] + "•••••" + patient.mrn[-2:],
        "name": f"{patient.given_name[:1]}. {patient.family_name[:1]}{'•' * 4}",
        "dob_display": f"born {patient.date_of_birth.year}",
        "age": "",
        "masked": True,
    }


def apply_basic(patient: Patient, values: dict[str, Any], fields: tuple[str, ...] = BASIC_FIELDS) -> list[str]:
    """Write validated form `values` for `fields` onto the patient; returns the names that changed."""
    from patient_portal.domain.patients.validation import normalize_email, normalize_phone

    before = basic_values(patient) if patient.given_name is not None else {}
    wanted = {name: (values.get(name) or "").strip() for name in fields}
    for name in fields:
        if name in LEGAL_FIELDS or name in PREFERENCE_FIELDS or name in ("email", "preferred_contact_method"):
            value: Any = wanted[name] or None
            if name == "date_of_birth":
                value = parse_date(value)
            elif name == "email" and value:
                value = normalize_email(value) or value
            setattr(patient, name, value)
    if any(name in fields for name in ADDRESS_FIELDS):
        address = {name.removeprefix("address_"): wanted.get(name, "") for name in ADDRESS_FIELDS}
        patient.address = address if any(address.values()) else None
    if any(f"phone_{t}" in fields for t in PHONE_TYPES):
        phones = [{"type": t, "number": normalize_phone(wanted[f"phone_{t}"]) or wanted[f"phone_{t}"]}
                  for t in PHONE_TYPES if wanted.get(f"phone_{t}")]
        patient.phones = phones or None
    after = basic_values(patient)
    return [name for name in fields if before.get(name) != after.get(name)]
