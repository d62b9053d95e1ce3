"""Reports about patients and accounts: registrations over time, portal adoption, age bands.
Counts of patients are suppressed under 11 (``suppress``)."""

from __future__ import annotations

from sqlalchemy import case, func
from sqlmodel import Session, select

from patient_portal.core.access import Role
from patient_portal.domain.identity.models import User
from patient_portal.domain.patients.models import STATUS_ACTIVE, STATUS_MERGED, Patient
from patient_portal.domain.reports import sql
from patient_portal.domain.reports.dto import Report, ReportFilters
from patient_portal.domain.reports.suppress import count_text, count_value, hidden, rate_text

#: (label, lowest age, highest age) — 90 and over is one band, as HIPAA's Safe Harbor wants.
AGE_BANDS = (("0–17", 0, 17), ("18–34", 18, 34), ("35–49", 35, 49), ("50–64", 50, 64), ("65–74", 65, 74),
             ("75–89", 75, 89), ("90 and over", 90, 200))
UNKNOWN = "Unknown"


def registrations(session: Session, f: ReportFilters) -> Report:
    """New patient records per day or month (merged duplicates left out)."""
    when = sql.period(session, Patient.created_at, f)
    rows = dict(session.exec(select(when, func.count()).where(
        *sql.in_range(Patient.created_at, f), Patient.status != STATUS_MERGED, *sql.on_team(Patient.id, f))
        .group_by(when)).all())
    counts = [(p, int(rows.get(p, 0))) for p in sql.periods(f)]
    return Report(
        key="registrations", title="Registrations over time",
        description="New patient records by " + sql.grain(f) + " (with a doctor chosen: patients on their care team).",
        columns=["Period", "New patients"],
        rows=[[p, count_text(n)] for p, n in counts] if any(n for _, n in counts) else [],
        chart=[{"label": p, "value": count_value(n)} for p, n in counts],
        value_name="New patients", suppressed=any(hidden(n) for _, n in counts))


def adoption(session: Session, f: ReportFilters) -> Report:
    """Portal accounts of patients and MFA, on the range's last day (MFA as it stands today: its
    history is not kept). The doctor filter does not apply."""
    _, end = sql.bounds(f)
    patients = int(session.exec(select(func.count()).select_from(Patient).where(
        Patient.status == STATUS_ACTIVE, Patient.created_at < end)).one())
    mfa = func.sum(case((User.mfa_enabled, 1), else_=0))
    accounts, with_mfa = session.exec(select(func.count(), mfa).where(
        User.role == Role.PATIENT.value, User.active, User.patient_id.is_not(None), User.created_at < end)).one()
    new = int(session.exec(select(func.count()).select_from(User).where(
        User.role == Role.PATIENT.value, User.patient_id.is_not(None), *sql.in_range(User.created_at, f))).one())
    clinic, clinic_mfa = session.exec(select(func.count(), mfa).where(
        User.role != Role.PATIENT.value, User.active, User.created_at < end)).one()
    accounts, with_mfa, clinic, clinic_mfa = (int(x or 0) for x in (accounts, with_mfa, clinic, clinic_mfa))
    lines = [("Patients with a portal account", accounts, patients, True),
             ("Patient accounts with MFA on", with_mfa, accounts, True),
             ("Clinic accounts with MFA on", clinic_mfa, clinic, False)]  # staff, doctors, admins: no patient
    rows = [[label, count_text(n, suppress=s), count_text(of, suppress=s), rate_text(n, of, suppress=s)]
            for label, n, of, s in lines]
    rows.append(["New portal accounts in the period", count_text(new), "", ""])
    return Report(
        key="adoption", title="Portal adoption",
        description="Accounts and MFA on the last day of the period (MFA as it is today). Not by doctor.",
        columns=["Measure", "Count", "Of", "Share"], rows=rows if patients or clinic else [],
        chart=[{"label": label, "value": count_value(n, suppress=s), "value2": count_value(of, suppress=s)}
               for label, n, of, s in lines],
        value_name="Count", value2_name="Of",
        suppressed=any(hidden(n) or hidden(of) for _, n, of, s in lines if s) or hidden(new))


def age_bands(session: Session, f: ReportFilters) -> Report:
    """Active patients by age reached in the end date's year (from the plain birth year)."""
    age = f.end.year - Patient.birth_year
    band = case(*((age.between(low, high), label) for label, low, high in AGE_BANDS), else_=UNKNOWN)
    _, end = sql.bounds(f)
    rows = dict(session.exec(select(band, func.count()).where(
        Patient.status == STATUS_ACTIVE, Patient.created_at < end, *sql.on_team(Patient.id, f))
        .group_by(band)).all())
    labels = [label for label, _, _ in AGE_BANDS] + ([UNKNOWN] if rows.get(UNKNOWN) else [])
    counts = [(label, int(rows.get(label, 0))) for label in labels]
    return Report(
        key="age_bands", title="Patients by age band",
        description="Active patients by the age they reach in the end date's year "
                    "(with a doctor chosen: patients on their care team).",
        columns=["Age band", "Patients"],
        rows=[[label, count_text(n)] for label, n in counts] if any(n for _, n in counts) else [],
        chart=[{"label": label, "value": count_value(n)} for label, n in counts],
        value_name="Patients", suppressed=any(hidden(n) for _, n in counts))
