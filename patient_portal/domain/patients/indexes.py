"""Blind-index keys of a patient: computed the same way when saving and when searching."""

from __future__ import annotations

import re
from datetime import date

from sqlmodel import Session, delete

from patient_portal.core.crypto import blind_index, normalize
from patient_portal.domain.patients.models import Patient, PatientPhoneKey
from patient_portal.domain.patients.validation import normalize_email, normalize_phone

_DROP = re.compile(r"['’.]")
_SPACE = re.compile(r"[-_,]")


def name_key(text: str) -> str:
    """Case, accent, punctuation and spacing-insensitive form of a name."""
    return normalize(_SPACE.sub(" ", _DROP.sub("", text or "")))


def family_digest(family: str) -> str | None:
    return blind_index("patient.family", name_key(family), normalized=True)


def full_name_digest(given: str, family: str) -> str | None:
    return blind_index("patient.full_name", name_key(f"{given} {family}"), normalized=True)


def dob_digest(dob: date) -> str | None:
    return blind_index("patient.dob", dob.isoformat(), normalized=True)


def family_dob_digest(family: str, dob: date) -> str | None:
    return blind_index("patient.family_dob", f"{name_key(family)}|{dob.isoformat()}", normalized=True)


def name_dob_digest(given: str, family: str, dob: date) -> str | None:
    return blind_index("patient.name_dob", f"{name_key(f'{given} {family}')}|{dob.isoformat()}", normalized=True)


def email_digest(email: str | None) -> str | None:
    normalized = normalize_email(email or "")
    return blind_index("patient.email", normalized, normalized=True) if normalized else None


def e164_digest(e164: str) -> str | None:
    """Digest of a number already in E.164 form."""
    return blind_index("patient.phone", e164, normalized=True)


def phone_digest(phone: str | None) -> str | None:
    e164 = normalize_phone(phone or "")
    return e164_digest(e164) if e164 else None


def apply(session: Session, patient: Patient) -> None:
    """Recompute the patient's index columns and phone keys from its plaintext values."""
    patient.bidx_family = family_digest(patient.family_name)
    patient.bidx_full_name = full_name_digest(patient.given_name, patient.family_name)
    patient.bidx_dob = dob_digest(patient.date_of_birth)
    patient.bidx_family_dob = family_dob_digest(patient.family_name, patient.date_of_birth)
    patient.bidx_name_dob = name_dob_digest(patient.given_name, patient.family_name, patient.date_of_birth)
    patient.bidx_email = email_digest(patient.email)
    patient.birth_year = patient.date_of_birth.year if patient.date_of_birth else None
    session.exec(delete(PatientPhoneKey).where(PatientPhoneKey.patient_id == patient.id))
    digests = {phone_digest(p.get("number")) for p in (patient.phones or [])} - {None}
    for digest in sorted(digests):
        session.add(PatientPhoneKey(patient_id=patient.id, digest=digest))
