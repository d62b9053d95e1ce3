"""Cleanup (issue 17): the retention rules the areas register (``core.retention``), run as a dry run
that only counts or for real, from the admin's Retention page, ``portal cleanup`` or hourly by the
job worker. A run is audited with what each rule removed (counts only, never what the rows held).
Removed documents are not a rule: their purge is an admin's decision per document after the
retention period (Documents), and the Retention page shows how many wait for it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from patient_portal.core import audit, retention
from patient_portal.core.access import Action, Actor, require
from patient_portal.core.db import utcnow
from patient_portal.core.retention import CLEANUP_ACTION
from patient_portal.domain.documents import service as documents


@dataclass(frozen=True)
class RuleResult:
    key: str
    label: str
    kept: str
    count: int  # due now (dry run) or removed (run)


@dataclass(frozen=True)
class CleanupReport:
    dry_run: bool
    results: list[RuleResult]
    documents_to_purge: int  # removed documents past their retention, waiting for an admin's purge

    @property
    def total(self) -> int:
        return sum(r.count for r in self.results)


def run(session: Session, actor: Actor | None, *, dry_run: bool = True, now: datetime | None = None
        ) -> CleanupReport:
    """An admin's run (a dry run by default), audited with each rule's count."""
    require(session, actor, Action.SYSTEM_CONFIGURE, audit_as=CLEANUP_ACTION, object_type="retention")
    done = retention.apply(session, now or utcnow(), dry_run=dry_run)
    report = CleanupReport(dry_run, [RuleResult(r.key, r.label, r.kept, n) for r, n in done],
                           documents.purgeable_count(session))
    audit.record(session, actor, CLEANUP_ACTION, object_type="retention",
                 detail={"dry_run": dry_run, **{r.key: r.count for r in report.results}})
    return report
