"""Demo data for `make run`: idempotent, refused in production. Each area adds its part."""

from __future__ import annotations

DEMO_PASSWORD = "demo-clinic-2026"  # noqa: S105 - published demo credential, refused in production
DEMO_EMAILS = ("admin@demo.clinic", "doctor@demo.clinic", "staff@demo.clinic", "patient@demo.clinic")


DEMO_USERS = (  # (email, role, display name)
    ("admin@demo.clinic", "admin", "Alex Admin"),
    ("doctor@demo.clinic", "doctor", "Dr. Dana Doctor"),
    ("staff@demo.clinic", "staff", "Sam Staff"),
    ("patient@demo.clinic", "patient", "Pat Patient"),
)


def seed_demo() -> None:
    """Create the demo accounts and patients unless they exist."""
    from patient_portal.settings import get_settings

    settings = get_settings()
    if settings.production or not settings.demo_accounts:
        raise RuntimeError("demo data is refused in production")
    _seed_demo_users()


def _seed_demo_users() -> None:
    """The four demo accounts; the demo patient is linked to the first demo patient record, if any,
    and the demo doctor is put on that patient's care team."""
    from patient_portal.core.db import unit_of_work
    from patient_portal.domain.identity import care_team, service

    with unit_of_work() as session:
        ids = {}
        for email, role, name in DEMO_USERS:
            ids[role] = service.find_user_id(session, email) or service.create_user_system(
                session, email=email, role=role, display_name=name, password=DEMO_PASSWORD, via="seed").id
    try:
        from patient_portal.domain.patients.demo import ensure_demo_patients
    except ImportError:
        return
    patients = ensure_demo_patients()
    if not patients:
        return
    first = patients[0]
    patient_id = getattr(first, "id", first)
    import uuid

    patient_id = patient_id if isinstance(patient_id, uuid.UUID) else uuid.UUID(str(patient_id))
    with unit_of_work() as session:
        doctor_id = service.find_user_id(session, "doctor@demo.clinic")
        patient_user = service.find_user_id(session, "patient@demo.clinic")
        service.link_patient_system(session, patient_user, patient_id)
        care_team.assign_doctor_system(session, patient_id=patient_id, doctor_id=doctor_id)


def banner() -> str:
    lines = ["", f"Patient Portal demo accounts (password: {DEMO_PASSWORD})"]
    lines += [f"  {email}" for email in DEMO_EMAILS]
    lines.append("Open http://localhost:3000 once the app says it is running.")
    from patient_portal.core.mail import outbox_dir
    from patient_portal.settings import get_settings

    if not get_settings().smtp_host:
        lines.append(f"Emails (sign-up confirmations, password resets) are saved in {outbox_dir()}/ "
                     "— set PORTAL_SMTP_HOST to send them.")
    return "\n".join(lines)
