"""Appointment volume and no-show rate by doctor and visit type (counts suppressed under 11)."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import case, func
from sqlmodel import Session, select

from patient_portal.domain.appointments.models import (
    ARRIVED,
    FREES_SLOT,
    FULFILLED,
    NOSHOW,
    Appointment,
    VisitType,
)
from patient_portal.domain.appointments.service import doctor_names
from patient_portal.domain.reports import sql
from patient_portal.domain.reports.dto import Report, ReportFilters
from patient_portal.domain.reports.suppress import count_text, count_value, hidden, rate_text


def appointments(session: Session, f: ReportFilters) -> Report:
    """Appointments in the range (cancelled ones left out), their no-shows, and the no-show rate:
    no-shows among the appointments that were kept or missed (those still to come do not count)."""
    noshow = func.sum(case((Appointment.status == NOSHOW, 1), else_=0))
    kept = func.sum(case((Appointment.status.in_((ARRIVED, FULFILLED)), 1), else_=0))
    found = session.exec(select(Appointment.doctor_id, Appointment.visit_type_id, func.count(), noshow, kept).where(
        *sql.in_range(Appointment.start_at, f), Appointment.status.not_in(FREES_SLOT),
        *sql.by_doctor(Appointment.doctor_id, f))
        .group_by(Appointment.doctor_id, Appointment.visit_type_id)).all()
    doctors = doctor_names(session, {r[0] for r in found})
    types = dict(session.exec(select(VisitType.id, VisitType.name)).all())
    rows, per_doctor, small = [], defaultdict(lambda: [0, 0]), False
    for doctor_id, type_id, total, missed, came in sorted(
            found, key=lambda r: (doctors.get(r[0], ""), types.get(r[1], ""))):
        total, missed, came = int(total), int(missed or 0), int(came or 0)
        small |= hidden(total) or hidden(missed)
        rows.append([doctors.get(doctor_id, "Former doctor"), types.get(type_id, "Other"), count_text(total),
                     count_text(missed), rate_text(missed, missed + came)])
        per_doctor[doctors.get(doctor_id, "Former doctor")][0] += total
        per_doctor[doctors.get(doctor_id, "Former doctor")][1] += missed
    return Report(
        key="appointments", title="Appointments and no-shows",
        description="By doctor and visit type; cancelled appointments left out. No-show rate: of the "
                    "appointments kept or missed.",
        columns=["Doctor", "Visit type", "Appointments", "No-shows", "No-show rate"], rows=rows,
        chart=[{"label": name, "value": count_value(t), "value2": count_value(m)}
               for name, (t, m) in per_doctor.items()],
        value_name="Appointments", value2_name="No-shows", suppressed=small)
