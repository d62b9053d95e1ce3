"""Demo data for `make run`: a believable clinic, idempotent, refused in production.

The demo clinic has three doctors, two front-desk staff, an admin and about 200 synthetic patients
(history, insurance, emergency contacts, care teams, a few documents); the demo patient account is
linked to Maria Garcia's record, which the demo doctor looks after. Each area adds its own step to
``seed_demo`` (patients, documents, then appointments, claims …), acting through its real services.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

DEMO_PASSWORD = "demo-clinic-2026"  # noqa: S105 - published demo credential, refused in production
DEMO_EMAILS = ("admin@demo.clinic", "doctor@demo.clinic", "staff@demo.clinic", "patient@demo.clinic")


DEMO_USERS = (  # (email, role, display name): the accounts the landing page lists
    ("admin@demo.clinic", "admin", "Alex Admin"),
    ("doctor@demo.clinic", "doctor", "Dr. Dana Doctor"),
    ("staff@demo.clinic", "staff", "Sam Staff"),
    ("patient@demo.clinic", "patient", "Pat Patient"),
)
DEMO_COLLEAGUES = (  # (email, role, display name, what they do): the rest of the clinic, same password
    ("priya.raman@demo.clinic", "doctor", "Dr. Priya Raman", "pediatrics"),
    ("marcus.bell@demo.clinic", "doctor", "Dr. Marcus Bell", "internal medicine"),
    ("jordan.lee@demo.clinic", "staff", "Jordan Lee", "front desk"),
)
#: Records in the demo clinic `portal seed` makes; tests seed fewer.
DEMO_PATIENTS = 200


@dataclass(frozen=True)
class SeedReport:
    """What a seed run found and added."""

    accounts_added: int
    patients: int
    patients_added: int
    documents_added: int

    def summary(self) -> str:
        if not (self.accounts_added or self.patients_added or self.documents_added):
            return f"demo data is in place (nothing to add; {self.patients} demo patients)"
        return (f"demo data is in place: added {self.accounts_added} accounts, {self.patients_added} patients "
                f"({self.patients} demo patients in all) and {self.documents_added} documents")


def seed_demo(patients: int = DEMO_PATIENTS) -> SeedReport:
    """Create whatever of the demo clinic is missing (`patients` records in all, at least the three
    written by hand); refused outside demo mode. Running it again adds nothing."""
    from patient_portal.settings import get_settings

    settings = get_settings()
    if settings.production or not settings.demo_accounts:
        raise RuntimeError("demo data is refused in production")
    from patient_portal.core.access import Actor, Role
    from patient_portal.core.db import unit_of_work, utcnow
    from patient_portal.domain.appointments.demo import seed_appointments
    from patient_portal.domain.billing.demo import seed_billing
    from patient_portal.domain.careplans.demo import seed_careplans
    from patient_portal.domain.codes import service as codes
    from patient_portal.domain.demo import DemoClinic
    from patient_portal.domain.documents.demo import seed_documents
    from patient_portal.domain.emergency.demo import seed_emergency
    from patient_portal.domain.identity import service
    from patient_portal.domain.messages.demo import seed_messages
    from patient_portal.domain.observations.demo import seed_vitals
    from patient_portal.domain.patients.demo import seed_patients
    from patient_portal.domain.prescriptions.demo import seed_prescriptions
    from patient_portal.domain.results.demo import seed_results
    from patient_portal.domain.visits.demo import seed_visits

    codes.load_small()  # CVX, LOINC vital signs, formulary (ms); ICD-10-CM: `portal codes load` (make migrate)
    accounts, added = _seed_accounts()
    actor = {email: Actor(user_id=uid, role=Role(role), display_name=name) for email, (uid, role, name) in accounts.items()}
    doctors = [actor["doctor@demo.clinic"]] + [actor[e] for e, role, *_ in DEMO_COLLEAGUES if role == "doctor"]
    staff = [actor["staff@demo.clinic"]] + [actor[e] for e, role, *_ in DEMO_COLLEAGUES if role == "staff"]
    clinic = DemoClinic(today=utcnow().date(), admin=actor["admin@demo.clinic"], doctors=tuple(doctors),
                        staff=tuple(staff))
    before = _patient_count()
    records = seed_patients(clinic, size=patients)
    account = actor["patient@demo.clinic"]
    with unit_of_work() as session:  # the demo patient account is Maria Garcia's
        service.link_patient_system(session, account.user_id, records[0].id)
    patient = Actor(user_id=account.user_id, role=Role.PATIENT, display_name=account.display_name,
                    patient_id=records[0].id)
    clinic = clinic.with_patients(records, patient)
    documents = seed_documents(clinic)
    seed_visits(clinic)  # signed visit notes (and one draft) for Maria Garcia, James Okafor, Aiko Tanaka
    seed_vitals(clinic)  # a year of Maria Garcia's vitals and a few home readings
    seed_prescriptions(clinic)  # licence numbers; Maria Garcia's lisinopril and her pending renewal request
    seed_results(clinic)  # Maria Garcia's released lipid panel (high LDL, a comment) and a new HbA1c to review
    seed_careplans(clinic)  # Maria Garcia's blood pressure plan (a task to tick) and James Okafor's diabetes plan
    seed_billing(clinic)  # payers, fee schedule, NPIs, Maria Garcia's coverage; a few claims of other patients
    seed_appointments(clinic)  # visit types, the doctors' weeks, the clinic's rules; Maria Garcia's next follow-up
    seed_emergency(clinic)  # the starter protocols; Maria Garcia's directives, code status, instructions
    seed_messages(clinic)  # Maria Garcia's conversations with her doctor, the front desk and billing (one overdue)
    return SeedReport(added, len(records), _patient_count() - before, documents)


def _seed_accounts() -> tuple[dict, int]:
    """The demo accounts and the rest of the clinic's staff: {email: (id, role, name)}, and how many
    were created now (Argon2 hashing happens only for these few)."""
    from patient_portal.core.db import unit_of_work
    from patient_portal.domain.identity import service

    found, added = {}, 0
    with unit_of_work() as session:
        for email, role, name, *_ in (*DEMO_USERS, *DEMO_COLLEAGUES):
            user_id = service.find_user_id(session, email)
            if user_id is None:
                user_id = service.create_user_system(session, email=email, role=role, display_name=name,
                                                     password=DEMO_PASSWORD, via="seed").id
                added += 1
            found[email] = (uuid.UUID(str(user_id)), role, name)
    return found, added


def _patient_count() -> int:
    from sqlalchemy import func
    from sqlmodel import select

    from patient_portal.core.db import unit_of_work
    from patient_portal.domain.patients.models import Patient

    with unit_of_work() as session:
        return int(session.exec(select(func.count()).select_from(Patient)).one())


def banner() -> str:
    lines = ["", f"Patient Portal demo accounts (password: {DEMO_PASSWORD})"]
    lines += [f"  {email}" for email in DEMO_EMAILS]
    lines.append("Also at the demo clinic (same password):")
    lines += [f"  {email:<26}{name}, {what}" for email, _role, name, what in DEMO_COLLEAGUES]
    lines.append(f"The clinic has {DEMO_PATIENTS} synthetic patients; patient@demo.clinic is Maria Garcia, one of "
                 "the demo doctor's patients.")
    lines.append("Open http://localhost:3000 once the app says it is running.")
    from patient_portal.core.mail import outbox_dir
    from patient_portal.settings import get_settings

    if not get_settings().smtp_host:
        lines.append(f"Emails (sign-up confirmations, password resets) are saved in {outbox_dir()}/ "
                     "— set PORTAL_SMTP_HOST to send them.")
    return "\n".join(lines)
