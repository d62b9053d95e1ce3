"""Access anomalies from the audit log: per clinic user, their reads of patients' records, how many
of them off hours, their emergency-access (break-the-glass) uses, and whether their number of
reads is unusual. About the clinic's own users, not patients: shown whole (an admin must see the
one emergency access), and no patient is named."""

from __future__ import annotations

import statistics

from sqlalchemy import case, func, or_
from sqlmodel import Session, select

from patient_portal.core.audit import READ_ACTIONS, AuditEvent
from patient_portal.domain.appointments.service import doctor_names
from patient_portal.domain.breakglass.dto import START as EMERGENCY_START
from patient_portal.domain.reports import sql
from patient_portal.domain.reports.dto import Report, ReportFilters

#: Clinic hours for "off hours" (weekdays, clinic time); a read outside them is counted.
OPENS, CLOSES = 7, 19
#: A user's reads are unusual above this many times the median user's, and at least MIN_UNUSUAL.
UNUSUAL_FACTOR, MIN_UNUSUAL = 3, 50
CLINIC_ROLES = ("admin", "doctor", "staff")
LIMIT = 25


def _reads(f: ReportFilters) -> list:
    """Successful reads of a patient's record by clinic users in the range."""
    return [AuditEvent.patient_id.is_not(None), AuditEvent.outcome == "success",
            or_(AuditEvent.action.like("%.read"), AuditEvent.action.in_(READ_ACTIONS)),
            AuditEvent.role.in_(CLINIC_ROLES), *sql.in_range(AuditEvent.at, f), *sql.by_doctor(AuditEvent.actor_id, f)]


def anomalies(session: Session, f: ReportFilters) -> Report:
    # per (user, patient) first, then per user: distinct patients by a hash aggregate, not count(DISTINCT)'s sort
    late = func.sum(case((sql.off_hours(session, AuditEvent.at, f, OPENS, CLOSES), 1), else_=0))
    pairs = select(AuditEvent.actor_id.label("actor"), func.max(AuditEvent.role).label("role"),
                   func.count().label("n"), late.label("late")).where(*_reads(f)) \
        .group_by(AuditEvent.actor_id, AuditEvent.patient_id).subquery()
    reads = {actor: (str(role), int(n), int(patients), int(off or 0)) for actor, role, n, patients, off in session.exec(
        select(pairs.c.actor, func.max(pairs.c.role), func.sum(pairs.c.n), func.count(), func.sum(pairs.c.late))
        .group_by(pairs.c.actor)).all()}
    emergency = dict(session.exec(select(AuditEvent.actor_id, func.count()).where(
        AuditEvent.action == EMERGENCY_START, AuditEvent.outcome == "success", *sql.in_range(AuditEvent.at, f),
        *sql.by_doctor(AuditEvent.actor_id, f)).group_by(AuditEvent.actor_id)).all())
    median = statistics.median([n for _, n, _, _ in reads.values()]) if reads else 0
    bar = max(MIN_UNUSUAL, UNUSUAL_FACTOR * median)
    people = set(reads) | set(emergency)
    names = doctor_names(session, {p for p in people if p is not None})
    rows = []
    for actor in people:
        role, n, patients, off = reads.get(actor, ("", 0, 0, 0))
        uses = int(emergency.get(actor, 0))
        rows.append((names.get(actor, "Unknown user"), role, n, patients, off, uses, n > bar))
    rows.sort(key=lambda r: (-(r[6] * 1_000_000 + r[5] * 10_000 + r[4]), -r[2], r[0]))
    shown = rows[:LIMIT]
    return Report(
        key="anomalies", title="Access anomalies",
        description=f"Reads of patients' records by clinic users in the period: off hours (before {OPENS}:00, after "
                    f"{CLOSES}:00 or at weekends), emergency-access uses, and reads over {UNUSUAL_FACTOR}× the median "
                    f"user's (at least {MIN_UNUSUAL}). Most notable first.",
        columns=["User", "Role", "Record reads", "Patients", "Off-hours reads", "Emergency access", "Unusual"],
        rows=[[name, role.capitalize(), f"{n:,}", f"{p:,}", f"{off:,}", f"{uses:,}", "Yes" if odd else "No"]
              for name, role, n, p, off, uses, odd in shown],
        chart=[{"label": name, "value": off, "value2": uses} for name, _, _, _, off, uses, _ in shown],
        value_name="Off-hours reads", value2_name="Emergency access")
