"""Demo patients for `portal seed`: three written by hand (Maria Garcia, the demo patient account's
record, first) and the generated clinic (see demo_people). Idempotent: every record is found again by
its fixed MRN, and a record that exists is left alone.

The front desk registers them through ``register_patient`` (validation, blind indexes, encryption,
audit as in real use) and puts them on their doctors' care teams through ``care_team.assign_doctor``;
only the MRN is set by hand afterwards (no service chooses one), so every demo has the same numbers.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlmodel import Session, select

from patient_portal.core import audit
from patient_portal.core.access import Actor
from patient_portal.core.db import unit_of_work, utcnow
from patient_portal.domain.demo import DemoClinic, DemoPatient
from patient_portal.domain.patients.demo_people import DemoPerson, mrn_of, people
from patient_portal.domain.patients.models import STATUS_ACTIVE, Patient
from patient_portal.domain.patients.registration import RegistrationDraft, create_record, register_patient

#: Records in the full demo clinic (the three hand-written ones included).
FULL_SIZE = 200
#: Records registered per transaction: few commits, and SQLite's write lock is never held for long.
BATCH = 20


def _person(given, family, dob, sex, phone, email, city, **extra) -> dict[str, str]:
    return {"given_name": given, "family_name": family, "date_of_birth": dob, "sex": sex,
            "phone_mobile": phone, "email": email, "preferred_language": "English",
            "preferred_contact_method": "sms", "address_line1": "12 Harbor Street", "city": city,
            "region": "MA", "postal_code": "02110", "country": "US", **extra}


# (MRN, draft, doctors: indices into DemoClinic.doctors — 0 the demo doctor, 2 the internist)
DEMO: list[tuple[str, RegistrationDraft, tuple[int, ...]]] = [
    (mrn_of("1000001"), RegistrationDraft(
        basic=_person("Maria", "Garcia", "1984-03-12", "female", "+1 617 555 0142", "maria.garcia@example.com",
                      "Boston", preferred_language="Spanish", gender_identity="woman"),
        history={
            # coded as a clinician records them (issue 12): the penicillin allergy is verified and by
            # drug class, so prescribing amoxicillin (a penicillin) has something to be checked against
            "allergies": [{"substance": "Penicillins", "category": "drug_class", "drug_class": "penicillins",
                           "reaction": "Hives", "severity": "moderate", "criticality": "high", "status": "active",
                           "verification": "verified"},
                          {"substance": "Peanuts", "category": "food", "reaction": "Anaphylaxis", "severity": "severe",
                           "criticality": "high", "status": "active", "verification": "verified"}],
            "medications": [{"name": "Lisinopril", "drug": "lisinopril", "drug_class": "ACE inhibitors",
                             "rxnorm": "29046", "dose": "10 mg", "route": "oral", "frequency": "once daily",
                             "start_date": "2019-05-20", "prescriber": "Dr. Dana Doctor", "status": "active",
                             "origin": "prescribed", "verification": "verified"},
                            {"name": "Atorvastatin", "drug": "atorvastatin", "drug_class": "statins", "rxnorm": "83367",
                             "dose": "20 mg", "route": "oral", "frequency": "once daily at bedtime",
                             "start_date": "2021-10-01", "prescriber": "Dr. Dana Doctor", "status": "active",
                             "origin": "prescribed", "verification": "verified"},
                            {"name": "Cetirizine", "drug": "cetirizine", "drug_class": "antihistamines",
                             "dose": "10 mg", "route": "oral", "frequency": "once daily in spring and summer",
                             "status": "active", "origin": "patient-reported", "verification": "verified"}],
            "conditions": [{"description": "Essential (primary) hypertension", "code": "I10", "code_system": "ICD-10",
                            "onset": "2019-05-01", "status": "active", "note": "Home readings around 135/85"},
                           {"description": "Hyperlipidemia, unspecified", "code": "E78.5", "code_system": "ICD-10",
                            "onset": "2021-09-14", "status": "active"},
                           {"description": "Allergic rhinitis, unspecified", "code": "J30.9",
                            "code_system": "ICD-10", "onset": "2003-04-01", "status": "active"},
                           {"description": "Iron deficiency anemia, unspecified", "code": "D50.9",
                            "code_system": "ICD-10", "onset": "2016-02-10", "status": "resolved"}],
            "family_history": [{"relative": "Mother", "condition": "Type 2 diabetes mellitus without complications",
                                "code": "E11.9", "code_system": "ICD-10", "age_at_onset": "52"},
                               {"relative": "Father", "condition": "Atherosclerotic heart disease of native coronary "
                                "artery without angina pectoris", "code": "I25.10", "code_system": "ICD-10",
                                "age_at_onset": "61"}],
            "immunizations": [{"vaccine": "Influenza, seasonal", "given_on": "2025-10-01", "cvx": "158"},
                              {"vaccine": "COVID-19, mRNA, LNP-S, PF, 30 mcg/0.3 mL dose", "given_on": "2024-10-18",
                               "cvx": "208"},
                              {"vaccine": "Tdap", "given_on": "2021-06-22", "cvx": "115"}],
        },
        insurance=[{"payer": "Blue Cross Blue Shield", "plan": "PPO Gold", "member_id": "PAXGB884213301",
                    "group_number": "77120", "relationship": "self", "effective_date": "2025-01-01",
                    "order": "primary"},
                   {"payer": "Harvard Pilgrim Health Care", "plan": "HMO", "member_id": "HP552019874",
                    "group_number": "41802", "relationship": "spouse", "subscriber_name": "Luis Garcia",
                    "effective_date": "2024-07-01", "order": "secondary"}],
        emergency=[{"name": "Luis Garcia", "relationship": "Spouse", "phone": "+1 617 555 0187",
                    "email": "luis.garcia@example.com", "order": "primary", "preferred_contact_method": "phone",
                    "hours": "Any time", "language": "English"},
                   {"name": "Ana Morales", "relationship": "Sister", "phone": "+1 617 555 0193",
                    "email": "ana.morales@example.com", "order": "secondary", "preferred_contact_method": "email",
                    "hours": "Evenings", "language": "Spanish"}],
    ), (0,)),
    (mrn_of("1000002"), RegistrationDraft(
        basic=_person("James", "Okafor", "1971-08-30", "male", "+1 617 555 0163", "james.okafor@example.com",
                      "Cambridge"),
        history={"allergies": [{"substance": "Sulfa drugs", "category": "drug_class", "drug_class": "sulfonamides",
                                "reaction": "Rash", "severity": "mild", "criticality": "low"}],
                 "medications": [{"name": "Metformin", "drug": "metformin", "drug_class": "biguanides", "rxnorm": "6809",
                                  "dose": "500 mg", "route": "oral", "frequency": "twice daily", "status": "active",
                                  "origin": "prescribed"}],
                 "conditions": [{"description": "Type 2 diabetes mellitus without complications", "code": "E11.9",
                                 "code_system": "ICD-10", "onset": "2017-03-02", "status": "active"}]},
        insurance=[{"payer": "Aetna", "plan": "HMO", "member_id": "AET5521907", "relationship": "self",
                    "order": "primary"}],
        emergency=[{"name": "Grace Okafor", "relationship": "Daughter", "phone": "+1 617 555 0171",
                    "order": "primary"}],
    ), (2,)),  # not on the demo doctor's team: the browser tests look for him in vain
    (mrn_of("1000003"), RegistrationDraft(
        basic=_person("Aiko", "Tanaka", "1992-11-05", "female", "+1 617 555 0119", "aiko.tanaka@example.com",
                      "Somerville"),
        history={"immunizations": [{"vaccine": "Tdap", "given_on": "2020-02-14", "cvx": "115"}]},
        emergency=[{"name": "Ken Tanaka", "relationship": "Brother", "phone": "+1 617 555 0128",
                    "email": "ken.tanaka@example.com", "order": "primary", "preferred_contact_method": "email"},
                   {"name": "Sofía Ramos", "relationship": "Partner", "phone": "+1 617 555 0146",
                    "email": "sofia.ramos@example.com", "order": "secondary", "preferred_contact_method": "email",
                    "language": "Spanish"}],
    ), (2,)),
]


def named_people(today: date) -> list[DemoPerson]:
    """The hand-written patients as DemoPersons (indices -1, -2, -3)."""
    return [DemoPerson(-1 - n, number, draft, doctors, today) for n, (number, draft, doctors) in enumerate(DEMO)]


def _find(session: Session, number: str) -> uuid.UUID | None:
    return session.exec(select(Patient.id).where(Patient.mrn == number)).first()


def _register(session: Session, registrar: Actor | None, person: DemoPerson) -> uuid.UUID:
    """Register one demo person and give the record its fixed MRN."""
    if registrar is None:  # the patients alone, with no accounts (ensure_demo_patients)
        patient = create_record(session, None, person.draft, STATUS_ACTIVE)
        audit.record(session, None, "patient.register", patient_id=patient.id, object_type="patient",
                     object_id=patient.id, detail={"source": "demo seed"})
    else:  # demo names may match one another (or an existing record): the front desk confirmed they differ
        registered = register_patient(session, registrar, person.draft, confirmed_different=True)
        patient = session.get(Patient, registered.patient_id)
    patient.mrn = person.mrn
    session.add(patient)
    session.flush()
    return patient.id


def ensure_demo_patients() -> list[uuid.UUID]:
    """Only the hand-written demo patients, with no accounts (written as the system, not registered by
    the front desk); returns their ids, Maria Garcia first. `seed_patients` is what `portal seed` runs."""
    ids = []
    with unit_of_work() as session:
        for person in named_people(utcnow().date()):
            ids.append(_find(session, person.mrn) or _register(session, None, person))
    return ids


def seed_patients(clinic: DemoClinic, *, size: int = FULL_SIZE) -> list[DemoPatient]:
    """The demo clinic's records (`size` in all, the hand-written ones first), each on its doctors' care
    teams; registers only the missing ones, `BATCH` to a transaction (a record and its care team are
    always written together). Returns every record."""
    from patient_portal.domain.identity import care_team

    everyone = named_people(clinic.today) + people(max(0, size - len(DEMO)), clinic.today)
    out = []
    for start in range(0, len(everyone), BATCH):
        with unit_of_work() as session:
            batch = everyone[start:start + BATCH]
            existing = dict(session.exec(select(Patient.mrn, Patient.id).where(
                Patient.mrn.in_([p.mrn for p in batch]))).all())  # type: ignore[attr-defined]
            for n, person in enumerate(batch, start):
                patient_id = existing.get(person.mrn)
                if patient_id is None:  # a record that exists keeps the care team people gave it since
                    desk = clinic.front_desk(n)
                    patient_id = _register(session, desk, person)
                    for doctor in person.doctors:
                        care_team.assign_doctor(session, desk, patient_id=patient_id,
                                                doctor_id=clinic.doctor(doctor).user_id)
                out.append(DemoPatient(patient_id, person))
    return out
