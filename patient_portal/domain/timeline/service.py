"""The timeline: every clinical event of one patient in one chronological view, newest first,
filterable by kind and 25 a page (issue 12).

``timeline(session, actor, *, patient_id, kinds, page)`` asks the policy once
(``patient.timeline.read``: care-team doctors; admins for operations; not the front desk, not
patients — their own record has its own pages), then composes each area's read function listed in
``SOURCES`` — the history's conditions, allergies, medications and immunizations, signed visit
notes, vitals sets, lab reports, care-plan events, emergency protocol runs, documents — each only if
the role also reads that area (``actor.can`` of the source's action: the timeline never shows more
than the area's own page would). One audit event per page read (``patient.timeline.read`` with the kinds and page;
``open_timeline`` reads the chart header in the same unit and names it in that one event).

Sources are paged (``timeline.dto``): page N asks each source for its newest N × 25 events of the
kinds asked and how many it has, so a page costs the same for a ten-year record as for a new one
(a source with an encrypted moment decrypts that one column per row, nothing else it does not show);
the merge of those, in ``order_key`` order, is cut here. ``bench/chart.py`` measures it.

Adding a kind (results, prescriptions, care plans …) is one ``Source`` line and its area's
``timeline_items(…, limit=…) -> SourcePage`` following that contract.
"""

from __future__ import annotations

import heapq
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from patient_portal.core import audit
from patient_portal.core.access import Action, Actor, Resource, require
from patient_portal.core.errors import Invalid
from patient_portal.domain.careplans import service as careplans
from patient_portal.domain.documents import service as documents
from patient_portal.domain.emergency import service as emergency
from patient_portal.domain.history import lists as history
from patient_portal.domain.observations import service as observations
from patient_portal.domain.patients.common import as_uuid, load
from patient_portal.domain.patients.header import ChartHeader, with_header
from patient_portal.domain.results import service as results
from patient_portal.domain.sensitive import service as sensitive
from patient_portal.domain.timeline.dto import KINDS, Event, SourcePage, TimelineItem, order_key
from patient_portal.domain.visits import service as visits

PAGE_SIZE = 25
READ = str(Action.TIMELINE_READ)
#: What each kind is called in the filter and on an item.
LABELS = {"conditions": "Conditions", "allergies": "Allergies", "medications": "Medications",
          "immunizations": "Immunizations", "visits": "Visits", "vitals": "Vitals", "results": "Lab results",
          "careplans": "Care plans", "emergencies": "Emergencies", "documents": "Documents"}


@dataclass(frozen=True)
class Source:
    """One area's events: the kinds it gives, the action a role needs to see them, and its read
    ``read(session, actor, patient_id, kinds_asked, limit) -> SourcePage``: only events of the kinds
    asked, the newest `limit` of them in ``order_key`` order, and how many there are in all."""

    kinds: tuple[str, ...]
    action: Action
    read: Callable[[Session, Actor, uuid.UUID, set[str], int], SourcePage]


SOURCES: tuple[Source, ...] = (
    Source(("conditions", "allergies", "medications", "immunizations"), Action.CLINICAL_READ,
           lambda s, a, pid, kinds, limit: history.timeline_items(s, pid, kinds, limit=limit)),
    Source(("visits",), Action.VISIT_READ, lambda s, a, pid, kinds, limit: visits.timeline_items(s, pid, limit=limit)),
    Source(("vitals",), Action.OBSERVATION_READ,
           lambda s, a, pid, kinds, limit: observations.timeline_items(s, pid, limit=limit)),
    Source(("results",), Action.RESULT_READ,
           lambda s, a, pid, kinds, limit: results.timeline_items(s, pid, limit=limit)),
    Source(("careplans",), Action.CAREPLAN_READ,
           lambda s, a, pid, kinds, limit: careplans.timeline_items(s, pid, limit=limit)),
    Source(("emergencies",), Action.EMERGENCY_RUN_READ,
           lambda s, a, pid, kinds, limit: emergency.timeline_items(s, pid, limit=limit)),
    Source(("documents",), Action.CLINICAL_DOC_READ,
           lambda s, a, pid, kinds, limit: documents.timeline_items(s, a, pid, limit=limit)),
)


@dataclass(frozen=True)
class TimelinePage:
    """One page of events, newest first; `kinds` the filter applied (every kind the role sees when
    none was asked), `available` the kinds this role may filter by, in order."""

    items: list[TimelineItem]
    total: int
    page: int
    pages: int
    kinds: tuple[str, ...]
    available: tuple[str, ...]
    #: records marked sensitive left out for this viewer (the page says that something is withheld)
    withheld: int = 0


def available_kinds(actor: Actor) -> tuple[str, ...]:
    """The kinds this role sees on a timeline, in the filter's order."""
    seen = {k for source in SOURCES if actor.can(source.action) for k in source.kinds}
    return tuple(k for k in KINDS if k in seen)


def _kinds(asked: Any, available: tuple[str, ...]) -> tuple[str, ...]:
    if asked in (None, "", [], ()):
        return available
    if isinstance(asked, str):
        asked = [asked]
    if not isinstance(asked, list | tuple | set) or not all(isinstance(k, str) for k in asked):
        raise Invalid(errors={"kinds": "Choose what to show."})
    unknown = [k for k in asked if k not in KINDS]
    if unknown:
        raise Invalid(errors={"kinds": "Choose what to show from the list."})
    return tuple(k for k in available if k in set(asked))


def _page_number(value: Any) -> int:
    try:
        return max(1, min(int(value), 100_000))
    except (TypeError, ValueError):
        return 1


def timeline(session: Session, actor: Actor | None, *, patient_id: Any, kinds: Any = None, page: Any = 1,
             header_sections: list[str] | None = None) -> TimelinePage:
    """One page (25) of the patient's clinical events, newest first, of the `kinds` asked (None or
    empty: all the role sees); one audit event."""
    pid = as_uuid(patient_id)
    decision = require(session, actor, Action.TIMELINE_READ, Resource(patient_id=pid))
    assert actor is not None
    load(session, pid)
    hidden = {str(i) for i in sensitive.withheld_ids(session, actor, decision, pid)}  # sensitive, not theirs
    available = available_kinds(actor)
    chosen = _kinds(kinds, available)
    wanted = set(chosen)
    asked_page = _page_number(page)
    limit = asked_page * PAGE_SIZE  # no source can have more than this many events on pages 1..asked_page
    items: list[TimelineItem | Event] = []
    total = 0
    for source in SOURCES:
        asked = wanted & set(source.kinds)
        if asked and actor.can(source.action):
            found = source.read(session, actor, pid, asked, limit + len(hidden))
            kept = [item for item in found.items if item.key.split(":", 1)[0] not in hidden]
            items += kept
            total += found.total - (len(found.items) - len(kept))  # exact when a source gave all it has
    items = heapq.nlargest(limit, items, key=order_key)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    number = min(asked_page, pages)  # past the end: the last page (every source gave all it has)
    shown = [item.draw() for item in items[(number - 1) * PAGE_SIZE: number * PAGE_SIZE]]  # decrypted: these only
    detail: dict[str, Any] = {"kinds": list(chosen), "page": number, "count": len(shown), "total": total}
    if hidden:
        detail["withheld"] = len(hidden)
    if header_sections is not None:
        detail["header"] = list(header_sections)
    audit.record(session, actor, READ, patient_id=pid, object_type="timeline", object_id=pid, detail=detail)
    return TimelinePage(shown, total, number, pages, chosen, available, len(hidden))


def open_timeline(session: Session, actor: Actor | None, patient_id: Any, *, kinds: Any = None,
                  page: Any = 1) -> tuple[ChartHeader, TimelinePage]:
    """The chart's Timeline page opened: the chart header and the first page in one unit, ONE audit
    event (``patient.timeline.read`` whose `header` names what the header showed)."""
    return with_header(session, actor, patient_id, _timeline_for_header, patient_id, kinds=kinds, page=page)


def _timeline_for_header(session: Session, actor: Actor | None, patient_id: Any, *, kinds: Any = None,
                         page: Any = 1, header_sections: list[str] | None = None) -> TimelinePage:
    return timeline(session, actor, patient_id=patient_id, kinds=kinds, page=page, header_sections=header_sections)
