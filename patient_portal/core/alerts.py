"""Alerts: the system tells the admins when something needs a person (issue 17) — a scheduled backup
not made or failing its restore drill, a job given up after its retries.

``raise_alert(session, key, summary)`` records the alert in the audit trail and queues a job that
emails every active admin (``domain.operations.alerts``). One alert per `key` a day at most, so a
failure that repeats every minute sends one email, not hundreds. The summary is plain words about
the system and never names a patient (emails carry no PHI).
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from patient_portal.core import audit, jobs
from patient_portal.core.audit import AuditEvent
from patient_portal.core.db import unit_of_work, utcnow

ALERT_ACTION = "system.alert"
JOB_KIND = "admin_alert"
#: the same alert is not sent again within this time
QUIET = timedelta(hours=24)


def raise_alert(session: Session, key: str, summary: str) -> bool:
    """Alert the admins about `key` unless that was done in the last day; True when sent."""
    recent = session.exec(select(AuditEvent.seq).where(AuditEvent.action == ALERT_ACTION,
                                                       AuditEvent.object_id == key,
                                                       AuditEvent.at > utcnow() - QUIET)).first()
    if recent is not None:
        return False
    audit.record(session, None, ALERT_ACTION, object_type="alert", object_id=key, outcome="failed",
                 detail={"summary": summary})
    jobs.enqueue(session, JOB_KIND, {"key": key, "summary": summary})
    return True


def raise_alert_now(key: str, summary: str) -> bool:
    """``raise_alert`` in a unit of its own (for a worker's hook that holds no transaction)."""
    with unit_of_work() as session:
        return raise_alert(session, key, summary)
