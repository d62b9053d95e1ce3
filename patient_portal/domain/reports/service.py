"""Reports (issue 17): the one way in, for the admin's /admin/reports page and its downloads.

* ``open_reports(session, actor, params)`` — every report for the filters (``ReportFilters.of``:
  a date range and optionally one doctor), with the doctors to choose from; audited
  ``reports.open`` with the filters.
* ``export_csv(session, actor, key, params)`` / ``export_pdf(session, actor, params)`` — one
  report as CSV, or every report as a PDF; audited ``reports.export`` (format, report, filters)
  before a byte is released.

Admins only (``Action.REPORTS``): anyone else is refused with "Not permitted." and the refusal is
audited. Every figure is computed in SQL from plain columns (statuses, times, money, the birth
year, the audit log) — no record is decrypted but the few doctors' and payers' names shown; counts
that could single a patient out are suppressed under 11 (``suppress``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping
from typing import Any

from sqlmodel import Session, select

from patient_portal.core import audit
from patient_portal.core.access import Action, Actor, Role, require
from patient_portal.core.clock import clinic_zone
from patient_portal.core.db import utcnow
from patient_portal.core.errors import Invalid, NotFound
from patient_portal.core.pdf import pdf
from patient_portal.domain.appointments.service import doctor_names
from patient_portal.domain.identity.models import User
from patient_portal.domain.reports import anomalies, money, people, visits
from patient_portal.domain.reports.dto import DoctorOption, Report, ReportFilters, ReportPage
from patient_portal.domain.reports.suppress import HIDDEN

OPEN, EXPORT = "reports.open", "reports.export"
NOT_PERMITTED = "Not permitted."

#: Every report, in the order the page shows them.
REPORTS: dict[str, Callable[[Session, ReportFilters], Report]] = {
    "registrations": people.registrations,
    "adoption": people.adoption,
    "appointments": visits.appointments,
    "claims": money.claims_by_status,
    "denials": money.denials_by_payer,
    "denial_reasons": money.denial_reasons,
    "ar_aging": money.ar_aging,
    "payments": money.payments,
    "age_bands": people.age_bands,
    "anomalies": anomalies.anomalies,
}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _today():
    return utcnow().astimezone(clinic_zone()).date()


def _guard(session: Session, actor: Actor | None, what: str) -> Actor:
    require(session, actor, Action.REPORTS, audit_as=what, object_type="report", message=NOT_PERMITTED)
    assert actor is not None
    return actor


def _filters(session: Session, params: Mapping[str, Any], doctors: dict | None = None) -> ReportFilters:
    """The filters, with a chosen doctor checked to be one (an unknown id is a bad request)."""
    f = ReportFilters.of(params, _today())
    if f.doctor_id is not None:
        known = doctors if doctors is not None else _doctor_ids(session)
        if f.doctor_id not in known:
            raise Invalid("Check the report's dates and doctor.", {"doctor": "Choose a doctor from the list."})
    return f


def _doctor_ids(session: Session) -> set:
    return set(session.exec(select(User.id).where(User.role == Role.DOCTOR.value)).all())


def _run(session: Session, f: ReportFilters, key: str) -> Report:
    report = REPORTS[key](session, f)
    report.csv_href = f"/api/reports/{key}.csv?{f.query()}"
    return report


def open_reports(session: Session, actor: Actor | None, params: Mapping[str, Any] | None = None) -> ReportPage:
    """Every report for these filters (default: the last 12 months, every doctor)."""
    actor = _guard(session, actor, OPEN)
    ids = _doctor_ids(session)
    f = _filters(session, params or {}, ids)
    names = doctor_names(session, ids)
    reports = [_run(session, f, key) for key in REPORTS]
    audit.record(session, actor, OPEN, object_type="report", detail={**f.used(), "reports": list(REPORTS)})
    return ReportPage(start=f.start.isoformat(), end=f.end.isoformat(), doctor=str(f.doctor_id or ""),
                      doctors=sorted((DoctorOption(str(i), names.get(i, "")) for i in ids), key=lambda d: d.name),
                      reports=reports, pdf_href=f"/api/reports/reports.pdf?{f.query()}")


def _cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) and value != HIDDEN else value


def export_csv(session: Session, actor: Actor | None, key: str, params: Mapping[str, Any]) -> tuple[str, str]:
    """(file name, CSV text) of one report: its columns, then its rows as the screen shows them."""
    actor = _guard(session, actor, EXPORT)
    if key not in REPORTS:
        raise NotFound("There is no such report.")
    f = _filters(session, params)
    report = _run(session, f, key)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(report.columns)
    writer.writerows([[_cell(c) for c in row] for row in report.rows])
    audit.record(session, actor, EXPORT, object_type="report", object_id=key,
                 detail={**f.used(), "format": "csv", "rows": len(report.rows)})
    return f"report-{key.replace('_', '-')}-{f.start.isoformat()}-to-{f.end.isoformat()}.csv", out.getvalue()


def _pdf_lines(f: ReportFilters, reports: list[Report], doctor: str) -> list[tuple[int, Any]]:
    lines: list[tuple[int, Any]] = [(16, "Clinic reports"),
                                    (10, f"{f.start.isoformat()} to {f.end.isoformat()}" + (f", {doctor}" if doctor else "")),
                                    (9, f"Counts from 1 to 10 about patients are shown as {HIDDEN}.")]
    for report in reports:
        lines += [(10, ""), (13, _latin(report.title))]
        if not report.rows:
            lines.append((10, "Nothing in this period."))
            continue
        lines += [(8, _pdf_row(report.columns))] + [(8, _pdf_row(row)) for row in report.rows]
    return lines


#: x of each of up to seven cells: a wide first one (doctor, payer, user), then figures.
PDF_COLUMNS = (40, 200, 268, 336, 404, 472, 540)


def _pdf_row(cells: list[str]) -> tuple[str, ...]:
    """A table row cut to its cells' widths (the CSV keeps every character)."""
    return tuple(_latin(c if len(c) <= (30 if i == 0 else 12) else c[:(29 if i == 0 else 11)] + "...")
                 for i, c in enumerate(cells[:len(PDF_COLUMNS)]))


def _latin(text: str) -> str:
    """The PDF writer's fonts are latin-1: dashes become hyphens, "×" stays."""
    return text.replace("—", "-").replace("–", "-")


def export_pdf(session: Session, actor: Actor | None, params: Mapping[str, Any]) -> tuple[str, bytes]:
    """(file name, PDF) of every report for these filters."""
    actor = _guard(session, actor, EXPORT)
    f = _filters(session, params)
    reports = [_run(session, f, key) for key in REPORTS]
    doctor = doctor_names(session, {f.doctor_id}).get(f.doctor_id, "") if f.doctor_id else ""
    audit.record(session, actor, EXPORT, object_type="report", object_id="all",
                 detail={**f.used(), "format": "pdf", "reports": list(REPORTS)})
    return f"reports-{f.start.isoformat()}-to-{f.end.isoformat()}.pdf", pdf(_pdf_lines(f, reports, doctor), columns=PDF_COLUMNS)
