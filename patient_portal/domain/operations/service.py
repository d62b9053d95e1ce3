"""Operations (issue 17): the one way in for troubleshooting, system health and metrics.

* ``doctor()`` — every check (``checks.run_all``) for `portal doctor`, which is run by whoever holds
  the server (no actor: the operator at the console is trusted like any CLI command).
* ``system_health(session, actor)`` — the admin's health page: the same checks plus the job queue,
  last backup, key age, error references of the last 24 hours, sessions active now and sign-ins per
  day. Admins only (``Action.SYSTEM_HEALTH_READ``); refusals say "Not permitted." and are audited,
  and each opening is audited (``system.health.read``).
* ``record_error_reference`` / ``record_backup`` — facts the health page reads back, kept in the
  audit trail (no PHI: a reference, a folder name), so every app process sees them.
* ``scrape_collectors()`` — what ``/metrics`` reads from the database at scrape time (job queue).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from patient_portal.core import audit, clinic_config, metrics
from patient_portal.core.access import Action, Actor, require
from patient_portal.core.audit import AuditEvent
from patient_portal.core.clock import clinic_zone, plain_time
from patient_portal.core.db import read_only, utcnow
from patient_portal.core.jobs import Job
from patient_portal.domain.identity.models import UserSession
from patient_portal.domain.operations import checks
from patient_portal.domain.operations.dto import CheckResult, DayCount, ErrorReference, HealthReport, SlowCall

ERROR_ACTION = "system.error_reference"
BACKUP_ACTION = "system.backup"
BACKUP_CHECK_ACTION = "system.backup.verify"  # `portal backup verify`: a restore drill
HEALTH_READ = "system.health.read"
NOT_PERMITTED = "Not permitted."
#: No backup for longer than this is worth an admin's attention.
BACKUP_OVERDUE = timedelta(days=2)


def doctor() -> list[checks.Check]:
    """Every troubleshooting check, in order (see ``checks``)."""
    return checks.run_all()


def job_counts(session: Session) -> dict[str, int]:
    """Jobs by status (queued, running, done, failed)."""
    rows = session.exec(select(Job.status, func.count()).group_by(Job.status)).all()
    return {status: int(n) for status, n in rows}


def _aware(at: datetime) -> datetime:
    """SQLite hands back naive UTC times; PostgreSQL aware ones."""
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _sessions_active(session: Session) -> int:
    clinic = clinic_config.current()
    now = utcnow()
    stmt = select(func.count()).select_from(UserSession).where(
        UserSession.revoked == False,  # noqa: E712
        UserSession.last_seen_at > now - timedelta(seconds=clinic.session_idle_seconds),
        UserSession.created_at > now - timedelta(seconds=clinic.session_absolute_seconds))
    return int(session.exec(stmt).one())


def _sign_ins_per_day(session: Session, days: int = 7) -> list[DayCount]:
    """Successful sign-ins of each of the last `days` days in the clinic's time zone, oldest first."""
    zone = clinic_zone()
    today = utcnow().astimezone(zone).date()
    first = today - timedelta(days=days - 1)
    times = session.exec(select(AuditEvent.at).where(
        AuditEvent.action == "auth.sign_in", AuditEvent.outcome == "success",
        AuditEvent.at >= utcnow() - timedelta(days=days + 1))).all()
    counted = Counter(_aware(t).astimezone(zone).date() for t in times)
    return [DayCount((first + timedelta(days=i)).strftime("%a %-d %b"), counted.get(first + timedelta(days=i), 0))
            for i in range(days)]


def _errors_last_day(session: Session) -> list[ErrorReference]:
    rows = session.exec(select(AuditEvent.at, AuditEvent.object_id).where(
        AuditEvent.action == ERROR_ACTION, AuditEvent.at >= utcnow() - timedelta(hours=24))
        .order_by(AuditEvent.seq.desc()).limit(50)).all()
    return [ErrorReference(reference=ref or "", at=plain_time(at)) for at, ref in rows]


def _last_backup(session: Session) -> tuple[str, bool]:
    """(plain words, overdue?)"""
    at = session.exec(select(func.max(AuditEvent.at)).where(AuditEvent.action == BACKUP_ACTION)).one()
    if at is None:
        return "No backup recorded yet (run `portal backup`)", True
    overdue = utcnow() - _aware(at) > BACKUP_OVERDUE
    return plain_time(at), overdue


def _last_backup_check(session: Session) -> tuple[str, bool]:
    """(plain words, failed?) of the newest restore drill."""
    row = session.exec(select(AuditEvent.at, AuditEvent.object_id, AuditEvent.outcome)
                       .where(AuditEvent.action == BACKUP_CHECK_ACTION).order_by(AuditEvent.seq.desc())).first()
    if row is None:
        return "Never verified (run `portal backup verify FOLDER`)", False
    at, folder, outcome = row
    words = "restores whole" if outcome == "success" else "FAILED: run `portal backup verify` to see why"
    return f"{plain_time(at)}, {folder}: {words}", outcome != "success"


def system_health(session: Session, actor: Actor | None) -> HealthReport:
    """The system health page's report (admins only; audited)."""
    require(session, actor, Action.SYSTEM_HEALTH_READ, object_type="system", message=NOT_PERMITTED)
    results = checks.run_all()
    jobs = job_counts(session)
    backup, overdue = _last_backup(session)
    check, check_failed = _last_backup_check(session)
    age = checks.key_age_days()
    errors = _errors_last_day(session)
    report = HealthReport(
        checks=[CheckResult(name=c.name, status=c.status, detail=c.detail, fix=c.fix) for c in results],
        failing=sum(1 for c in results if c.failed),
        jobs_queued=jobs.get("queued", 0) + jobs.get("running", 0),
        jobs_failed=jobs.get("failed", 0),
        last_backup=backup,
        backup_overdue=overdue,
        backup_check=check,
        backup_check_failed=check_failed,
        key_age="Keys come from PORTAL_MASTER_KEYS (age not recorded)" if age is None else f"{age} days",
        errors=errors,
        sessions_active=_sessions_active(session),
        sign_ins=_sign_ins_per_day(session),
        slowest=[SlowCall(kind=kind, name=name, mean_ms=f"{mean * 1000:.0f} ms", count=count)
                 for kind, name, mean, count in metrics.slowest()],
    )
    audit.record(session, actor, HEALTH_READ, object_type="system",
                 detail={"failing": report.failing, "errors_24h": len(errors)})
    return report


def record_error_reference(reference: str) -> None:
    """Keep the reference an unexpected error showed someone (its own unit of work)."""
    audit.record_now(None, ERROR_ACTION, object_type="error_reference", object_id=reference, outcome="failed")


def record_backup(folder: str, files: int) -> None:
    """Keep the fact that a backup was written (its folder name, never its contents)."""
    audit.record_now(None, BACKUP_ACTION, object_type="backup", object_id=folder, detail={"files": files})


def record_backup_check(folder: str, ok: bool) -> None:
    """Keep the outcome of a restore drill of backup `folder` (the health page shows the newest)."""
    audit.record_now(None, BACKUP_CHECK_ACTION, object_type="backup", object_id=folder,
                     outcome="success" if ok else "failed")


class _JobQueue:
    """Prometheus collector: the job outbox by status, read from the database at scrape time."""

    def collect(self) -> Any:
        from prometheus_client.core import GaugeMetricFamily

        up = GaugeMetricFamily("portal_database_up", "1 when the database answered this scrape")
        try:
            with read_only() as session:
                counts = job_counts(session)
        except Exception:  # the scrape still answers, saying the database did not
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        depth = GaugeMetricFamily("portal_job_queue_depth", "Jobs waiting or running")
        depth.add_metric([], counts.get("queued", 0) + counts.get("running", 0))
        failed = GaugeMetricFamily("portal_jobs_failed", "Jobs that failed for good")
        failed.add_metric([], counts.get("failed", 0))
        yield depth
        yield failed


def scrape_collectors() -> list[Any]:
    return [_JobQueue()]
