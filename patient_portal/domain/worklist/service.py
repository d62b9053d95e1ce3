"""My patients: a doctor's care-team list — name, age, MRN, last visit and what waits for them —
sortable, 25 a page (issue 12).

``my_patients(session, actor, *, sort, page)``:

* **Who.** ``patient.worklist.read`` (doctors; own-account scope: the list is always the actor's
  own). The rows are the patients ``core.access.reach_filter`` lets the actor reach — for a doctor,
  their care team — so the list and the chart obey one rule. Staff, patients and admins are
  refused (audited by ``require``).
* **Flags** come from ``FLAGS``: each area exposes a small "which of these patients have X"
  function ``fn(session, actor, patient_ids) -> set of ids`` (unsigned notes: visits; unverified
  home readings: observations; allergies or medications reported by the patient and not yet
  verified: history; reports waiting for review: results; renewal requests not yet answered:
  prescriptions). A new area adds one ``Flag`` line. Flags are asked for the page's patients
  only: one statement each (history two), whatever the size of the care team.
* **Cost.** Names and birth dates are ciphertext and order does not survive encryption, so sorting
  by name decrypts the given and family names of every care-team patient (one statement fetching
  id, MRN and the two name columns; two AES-GCM decryptions per patient — about 2 × 10 µs, so
  ~40 ms for a care team of 2,000) and nothing else; the birth date is decrypted for the page only.
  The next appointment (booked, pending or today's checked-in) is one statement for the page.
  Sorting by last visit needs every care-team patient's latest signed visit (one statement,
  one decryption per signed note of the care team, ``visits.last_signed_visits``); sorting by name
  asks it for the page only. A page costs: the care-team statement, the last-visit statement, the
  page's birth dates (one statement), one per flag (history two), the next appointments, and the audit
  append — 9 to 10 statements whatever the size of the list.
* **Audit.** One event per page read (``patient.worklist.read``, purpose treatment) naming the
  patients listed on it.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, select

from patient_portal.core import audit
from patient_portal.core.access import Action, Actor, Resource, reach_filter, require
from patient_portal.core.crypto import decrypt_value
from patient_portal.core.errors import Invalid
from patient_portal.domain.appointments import service as appointments
from patient_portal.domain.history import lists as history
from patient_portal.domain.observations import service as observations
from patient_portal.domain.patients.dto import age_on, display_date
from patient_portal.domain.patients.models import STATUS_MERGED, Patient
from patient_portal.domain.prescriptions import service as prescriptions
from patient_portal.domain.results import service as results
from patient_portal.domain.visits import service as visits

PAGE_SIZE = 25
READ = str(Action.PATIENT_WORKLIST)
#: name: family then given name, A→Z; last_visit: latest signed visit, newest first (never seen last).
SORTS = ("name", "name_desc", "last_visit", "last_visit_asc")


@dataclass(frozen=True)
class Flag:
    """One thing that waits for the doctor: `key` (stable, for the UI and tests), `label` (what the
    list shows), `action` the role needs to be told about it, and the area's query."""

    key: str
    label: str
    action: Action
    which: Callable[[Session, Actor, list[uuid.UUID]], set[uuid.UUID]]


FLAGS: tuple[Flag, ...] = (
    Flag("unsigned_notes", "Unsigned note", Action.VISIT_WORKLIST, visits.with_unsigned_notes),
    Flag("unverified_readings", "Unverified readings", Action.OBSERVATION_VERIFY, observations.with_unverified_readings),
    Flag("unverified_reports", "Reported by patient", Action.CLINICAL_WRITE, history.with_unverified_reports),
    Flag("results_to_review", "New results to review", Action.RESULT_WORKLIST, results.with_results_to_review),
    Flag("renewal_requests", "Renewal request", Action.PRESCRIPTION_WORKLIST, prescriptions.with_renewal_requests),
)


@dataclass(frozen=True)
class WorklistRow:
    """One patient of the list; `flags` are FLAGS keys, in FLAGS order."""

    patient_id: uuid.UUID
    name: str
    mrn: str
    date_of_birth: date | None
    dob_display: str
    age: int | None
    last_visit: datetime | None
    flags: tuple[str, ...]
    next_appointment: datetime | None = None


@dataclass(frozen=True)
class WorklistPage:
    rows: list[WorklistRow]
    total: int
    page: int
    pages: int
    sort: str


def _page_number(value: Any) -> int:
    try:
        return max(1, min(int(value), 100_000))
    except (TypeError, ValueError):
        return 1


def my_patients(session: Session, actor: Actor | None, *, sort: Any = "name", page: Any = 1) -> WorklistPage:
    """One page (25) of the doctor's care-team patients, sorted, with their flags; one audit event."""
    require(session, actor, Action.PATIENT_WORKLIST, Resource(owner_id=actor.user_id if actor else None))
    assert actor is not None
    if sort not in SORTS:
        raise Invalid(errors={"sort": "Sort by name or by last visit."})
    table = Patient.__tablename__
    team = session.exec(select(Patient.id, Patient.mrn, Patient.given_name, Patient.family_name).where(
        reach_filter(actor, Patient.id), Patient.status != STATUS_MERGED)).all()
    names = {pid: (decrypt_value("str", given, table, "given_name", pid) or "",
                   decrypt_value("str", family, table, "family_name", pid) or "", mrn)
             for pid, mrn, given, family in team}

    def by_name(pid: uuid.UUID) -> tuple[str, str, str]:
        given, family, mrn = names[pid]
        return family.casefold(), given.casefold(), mrn

    ordered = sorted(names, key=by_name, reverse=sort == "name_desc")
    if sort.startswith("last_visit"):
        last = visits.last_signed_visits(session, ordered)
        seen = sorted((p for p in ordered if p in last), key=lambda p: last[p], reverse=sort == "last_visit")
        ordered = seen + [p for p in ordered if p not in last]  # never seen: last, by name
    pages = max(1, math.ceil(len(ordered) / PAGE_SIZE))
    number = min(_page_number(page), pages)
    chosen = ordered[(number - 1) * PAGE_SIZE: number * PAGE_SIZE]
    if not sort.startswith("last_visit"):
        last = visits.last_signed_visits(session, chosen)
    births = dict(session.exec(select(Patient.id, Patient.date_of_birth).where(
        Patient.id.in_(chosen))).all()) if chosen else {}  # type: ignore[attr-defined]
    upcoming = appointments.next_appointments(session, chosen)
    flagged = {flag.key: flag.which(session, actor, chosen) if chosen and actor.can(flag.action) else set()
               for flag in FLAGS}
    rows = []
    for pid in chosen:
        given, family, mrn = names[pid]
        born = decrypt_value("date", births.get(pid), table, "date_of_birth", pid)
        rows.append(WorklistRow(patient_id=pid, name=f"{given} {family}".strip(), mrn=mrn, date_of_birth=born,
                                dob_display=display_date(born) if born else "", age=age_on(born),
                                last_visit=last.get(pid),
                                flags=tuple(f.key for f in FLAGS if pid in flagged[f.key]),
                                next_appointment=upcoming.get(pid)))
    audit.record(session, actor, READ, object_type="patient",
                 detail={"sort": sort, "page": number, "count": len(rows), "total": len(ordered),
                         "patient_ids": [str(p) for p in chosen]})
    return WorklistPage(rows, len(ordered), number, pages, sort)
