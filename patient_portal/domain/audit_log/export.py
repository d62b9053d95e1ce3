"""The administrators' audit log as a CSV file: the screen's filters, every matching event, newest first.

``start_export`` authorizes, checks the filters and records the export (audited before a byte is
released, with the filter names and the count); ``csv_lines`` then streams the events that existed at
that moment in batches, each in its own read-only transaction, so a long trail never sits in memory.
Cells that a spreadsheet would run as a formula are neutralised.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import astuple, dataclass

from sqlalchemy import func
from sqlmodel import Session, select

from patient_portal.core import audit
from patient_portal.core.access import Action, Actor
from patient_portal.core.audit import AuditEvent
from patient_portal.core.db import read_only
from patient_portal.domain.audit_log.dto import AuditFilters
from patient_portal.domain.audit_log.service import entries, filter_conditions, guard

COLUMNS = ("Seq", "Time", "Who", "Email", "Role", "Action", "Patient (MRN)", "Object", "Outcome", "IP")
BATCH = 500
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Export:
    """What one export will contain: events matching `conditions` up to `through_seq`."""

    conditions: tuple
    through_seq: int
    count: int


def start_export(session: Session, actor: Actor | None, filters: AuditFilters) -> Export:
    """Authorize (admins), validate the filters (FilterInvalid) and audit the export."""
    actor = guard(session, actor, Action.AUDIT_READ)
    conditions, patient_id = filter_conditions(session, filters)
    through = int(session.exec(select(func.coalesce(func.max(AuditEvent.seq), 0))).one())
    count = int(session.exec(select(func.count()).select_from(AuditEvent)
                             .where(*conditions, AuditEvent.seq <= through)).one())
    audit.record(session, actor, "audit.export", patient_id=patient_id, object_type="audit_event",
                 detail={"filters": filters.used(), "count": count})
    return Export(tuple(conditions), through, count)


def _cell(value: object) -> str:
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _line(values: tuple) -> str:
    out = io.StringIO()
    csv.writer(out).writerow([_cell(v) for v in values])
    return out.getvalue()


def csv_lines(export: Export) -> Iterator[str]:
    """The header, then one line per event, newest first."""
    yield _line(COLUMNS)
    below = export.through_seq + 1
    while True:
        with read_only() as session:
            events = list(session.exec(select(AuditEvent).where(*export.conditions, AuditEvent.seq < below)
                                       .order_by(AuditEvent.seq.desc()).limit(BATCH)).all())
            rows = entries(session, events)
        if not events:
            return
        for row in rows:
            yield _line(astuple(row))
        below = events[-1].seq
