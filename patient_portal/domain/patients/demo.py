"""Demo patients for `portal seed`: idempotent (found again by their fixed MRNs)."""

from __future__ import annotations

import uuid

from sqlmodel import select

from patient_portal.core import audit
from patient_portal.core.db import unit_of_work
from patient_portal.domain.patients import mrn
from patient_portal.domain.patients.models import STATUS_ACTIVE, Patient
from patient_portal.domain.patients.registration import RegistrationDraft, create_record


def _mrn(body: str) -> str:
    return mrn.PREFIX + body + mrn.luhn_digit(body)


def _person(given, family, dob, sex, phone, email, city, **extra) -> dict[str, str]:
    return {"given_name": given, "family_name": family, "date_of_birth": dob, "sex": sex,
            "phone_mobile": phone, "email": email, "preferred_language": "English",
            "preferred_contact_method": "sms", "address_line1": "12 Harbor Street", "city": city,
            "region": "MA", "postal_code": "02110", "country": "US", **extra}


DEMO: list[tuple[str, RegistrationDraft]] = [
    (_mrn("1000001"), RegistrationDraft(
        basic=_person("Maria", "Garcia", "1984-03-12", "female", "+1 617 555 0142", "maria.garcia@example.com",
                      "Boston", preferred_language="Spanish", gender_identity="woman"),
        history={
            "allergies": [{"substance": "Penicillin", "reaction": "Hives", "severity": "moderate"},
                          {"substance": "Peanuts", "reaction": "Anaphylaxis", "severity": "severe"}],
            "medications": [{"name": "Lisinopril", "dose": "10 mg", "frequency": "once daily", "rxnorm": "314076"}],
            "conditions": [{"description": "Essential hypertension", "code": "I10", "code_system": "ICD-10",
                            "onset": "2019-05-01", "status": "active"}],
            "family_history": [{"relative": "Mother", "condition": "Type 2 diabetes"}],
            "immunizations": [{"vaccine": "Influenza, seasonal", "given_on": "2025-10-01", "cvx": "158"}],
        },
        insurance=[{"payer": "Blue Cross Blue Shield", "plan": "PPO Gold", "member_id": "XGB884213301",
                    "group_number": "77120", "relationship": "self", "effective_date": "2025-01-01",
                    "order": "primary"}],
        emergency=[{"name": "Luis Garcia", "relationship": "Spouse", "phone": "+1 617 555 0187",
                    "order": "primary", "preferred_contact_method": "phone", "hours": "Any time",
                    "language": "Spanish"}],
    )),
    (_mrn("1000002"), RegistrationDraft(
        basic=_person("James", "Okafor", "1971-08-30", "male", "+1 617 555 0163", "james.okafor@example.com",
                      "Cambridge"),
        history={"allergies": [{"substance": "Sulfa drugs", "reaction": "Rash", "severity": "mild"}],
                 "medications": [{"name": "Metformin", "dose": "500 mg", "frequency": "twice daily"}]},
        insurance=[{"payer": "Aetna", "plan": "HMO", "member_id": "AET5521907", "relationship": "self",
                    "order": "primary"}],
        emergency=[{"name": "Grace Okafor", "relationship": "Daughter", "phone": "+1 617 555 0171",
                    "order": "primary"}],
    )),
    (_mrn("1000003"), RegistrationDraft(
        basic=_person("Aiko", "Tanaka", "1992-11-05", "female", "+1 617 555 0119", "aiko.tanaka@example.com",
                      "Somerville"),
        history={"immunizations": [{"vaccine": "Tdap", "given_on": "2020-02-14", "cvx": "115"}]},
        emergency=[{"name": "Ken Tanaka", "relationship": "Brother", "phone": "+1 617 555 0128",
                    "order": "primary"}],
    )),
]


def ensure_demo_patients() -> list[uuid.UUID]:
    """Create the demo patients that are missing; returns their ids (Maria Garcia first)."""
    ids = []
    with unit_of_work() as session:
        for number, draft in DEMO:
            existing = session.exec(select(Patient).where(Patient.mrn == number)).first()
            if existing is None:
                existing = create_record(session, None, draft, STATUS_ACTIVE)
                existing.mrn = number
                session.add(existing)
                session.flush()
                audit.record(session, None, "patient.register", patient_id=existing.id, object_type="patient",
                             object_id=existing.id, detail={"source": "demo seed"})
            ids.append(existing.id)
    return ids
