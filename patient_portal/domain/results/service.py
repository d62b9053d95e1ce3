"""Lab results: the one way in for the UI, the API and the demo seed.

* ``enter_panel`` — a doctor on the care team types a report's results (the form); ``import_csv`` —
  a doctor imports the CSV file a lab sends (columns in ``csv_import``): every row is checked first,
  a bad row is reported with its line number and nothing is written; a row for a patient the doctor
  does not reach refuses the whole file (audited).
* New panels are ``to_review`` for the care team (``results_to_review``: the dashboard's worklist).
  ``review`` marks a panel reviewed (with a comment for the patient), ``release`` shows it to the
  patient, ``hold`` keeps it until discussed: the patient sees that results are ready to discuss,
  without values or comment (as held documents). A released panel is immutable; ``correct_result``
  adds a corrected result that supersedes the old one (both kept, both audited).
* Reads: ``panels`` (the chart's list, 25 a page, newest specimen first), ``panel``, ``open_page``
  (with the chart header, one audit event), ``own_results`` (the patient: released and held only).

Policy: ``result.read`` (care-team doctors; admins for operations), ``result.write`` and
``result.release`` (care-team doctors), ``result.own.read`` (the patient's own record),
``result.worklist.read`` (a doctor's own worklist); staff never. Every read and write is audited in the
use case's transaction (reads end in ``.read``/``.list``), events name panels and codes, never values.
"""

from __future__ import annotations

import math
import uuid
from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from patient_portal.core import audit
from patient_portal.core.access import Action, Actor, Resource, reach_filter, require
from patient_portal.core.clock import clinic_zone
from patient_portal.core.coding import LOINC, Coding
from patient_portal.core.crypto import decrypt_value
from patient_portal.core.db import new_id, utcnow
from patient_portal.core.errors import Conflict, Invalid, NotFound
from patient_portal.domain.patients.common import PatientNotFound, as_uuid, load
from patient_portal.domain.patients.dto import display_name
from patient_portal.domain.patients.header import ChartHeader, with_header
from patient_portal.domain.patients.models import Patient
from patient_portal.domain.results import csv_import, validation
from patient_portal.domain.results.dto import (
    ImportReport,
    OwnPanel,
    Panel,
    PanelPage,
    Result,
    ToReviewPatient,
    Worklist,
)
from patient_portal.domain.results.models import Flag, LabResult, ResultPanel, Source, Status

__all__ = ["PAGE_SIZE", "MAX_RESULTS", "Flag", "ImportReport", "OwnPanel", "Panel", "PanelPage", "Result", "Status",
           "Worklist", "correct_result", "enter_panel", "hold", "import_csv", "open_page", "own_results", "panel", "search",
           "panels", "release", "results_to_review", "review"]

PAGE_SIZE = 25
MAX_RESULTS = 60  # results on one panel
OBJECT = "result_panel"
NOT_FOUND = "Those results were not found."


def clinic_today() -> date:
    from datetime import datetime

    return datetime.now(clinic_zone()).date()


class ResultsNotFound(NotFound):
    def __init__(self, message: str = NOT_FOUND):
        super().__init__(message)


# --- writing ---------------------------------------------------------------------------------------

def enter_panel(session: Session, actor: Actor | None, *, patient_id: Any, name: Any, specimen_date: Any,
                performing_lab: Any, results: Any, document_id: Any = None) -> Panel:
    """A report typed by a doctor on the care team: `results` a list of {loinc, name, value, unit,
    range_low, range_high, range_text, flag}. Field errors name the row: ``results.0.value``.
    Nothing is written unless every field is right. The panel is new: to review."""
    pid = as_uuid(patient_id)
    require(session, actor, Action.RESULT_WRITE, Resource(patient_id=pid), audit_as="result.create")
    assert actor is not None
    load(session, pid)
    errors: dict[str, str] = {}
    panel_name = validation.short_text(name, "name", errors, required="Name the report (such as Lipid panel).")
    lab = validation.short_text(performing_lab, "performing_lab", errors, required="Name the lab that did the tests.")
    day = validation.specimen_date(specimen_date, errors, clinic_today())
    doc = _document(session, pid, document_id, errors)
    rows = results if isinstance(results, list) else []
    rows = [r for r in rows if isinstance(r, dict) and any(str(v or "").strip() for v in r.values())]
    if not rows:
        errors["results"] = "Add at least one result."
    elif len(rows) > MAX_RESULTS:
        errors["results"] = f"A report holds at most {MAX_RESULTS} results."
    checked = []
    for i, row in enumerate(rows[:MAX_RESULTS]):
        rng = validation.range_from(row.get("range_low"), row.get("range_high"), row.get("range_text"), sub := {})
        errors.update({f"results.{i}.{k}": v for k, v in sub.items()})
        found = validation.check(session, loinc=row.get("loinc"), name=row.get("name"), value=row.get("value"),
                                 unit=row.get("unit"), rng=rng, flag=row.get("flag"), errors=errors,
                                 prefix=f"results.{i}.")
        checked.append(found)
    if errors:
        raise Invalid(errors=errors)
    assert day is not None
    saved = _save_panel(session, actor, pid, panel_name, day, lab, doc, [c for c in checked if c], Source.ENTERED)
    audit.record(session, actor, "result.create", patient_id=pid, object_type=OBJECT, object_id=saved.id,
                 detail={"codes": [r.coding.code for r in _current(session, saved.id)], "source": Source.ENTERED.value,
                         "document": str(doc) if doc else None})
    return _panel(session, saved)


def import_csv(session: Session, actor: Actor | None, *, data: Any) -> ImportReport:
    """Import a lab's CSV file (bytes or text; columns in ``csv_import.COLUMNS``). Every row is
    checked first; any bad row raises ``csv_import.ImportInvalid`` naming its line and nothing is
    written; a row for a patient the actor does not reach refuses the file (AccessDenied, audited
    as ``result.import``). Rows of one patient, report name, specimen date and lab make one panel."""
    if actor is None or not actor.can(Action.RESULT_WRITE):
        require(session, actor, Action.RESULT_WRITE, Resource(), audit_as="result.import")
    assert actor is not None
    rows = csv_import.read(data)
    mrns = sorted({r.mrn for r in rows})
    found = {p.mrn: p for p in session.exec(select(Patient).where(Patient.mrn.in_(mrns))).all()}  # type: ignore[attr-defined]
    line_errors: list[tuple[int, str]] = []
    for r in rows:
        patient = found.get(r.mrn)
        if patient is None or patient.status == "merged":
            line_errors.append((r.line, f"no patient has MRN {r.mrn[:20]}."))
    if not line_errors:
        for mrn in mrns:
            pid = found[mrn].id
            first = next(r.line for r in rows if r.mrn == mrn)
            require(session, actor, Action.RESULT_WRITE, Resource(patient_id=pid), audit_as="result.import",
                    message=f"Line {first}: MRN {mrn} is not one of your patients, so nothing was imported.")
    today = clinic_today()
    groups: dict[tuple, list[tuple[int, validation.Checked]]] = defaultdict(list)
    for r in rows:
        errors: dict[str, str] = {}
        day = validation.specimen_date(r.specimen_date, errors, today)
        lab = validation.short_text(r.lab, "performing_lab", errors, required="the performing lab is missing.")
        report = validation.short_text(r.panel, "panel", errors)
        checked = validation.check(session, loinc=r.loinc, name=r.name, value=r.value, unit=r.unit,
                                   rng=validation.parse_range(r.range), flag=r.flag, errors=errors)
        if errors:
            line_errors.extend((r.line, f"{csv_import.column_of(k)}: {v}") for k, v in errors.items())
        elif r.mrn in found and checked and day:
            groups[(found[r.mrn].id, report or f"Results from {lab}", day, lab)].append((r.line, checked))
    if line_errors:
        raise csv_import.ImportInvalid(sorted(line_errors))
    for (pid, report, day, lab), members in groups.items():
        saved = _save_panel(session, actor, pid, report, day, lab, None, [c for _, c in members], Source.IMPORTED)
        audit.record(session, actor, "result.import", patient_id=pid, object_type=OBJECT, object_id=saved.id,
                     detail={"codes": [c.loinc for _, c in members], "lines": [n for n, _ in members],
                             "source": Source.IMPORTED.value})
    return ImportReport(panels=len(groups), results=sum(len(m) for m in groups.values()),
                        patients=len({k[0] for k in groups}))


def _save_panel(session: Session, actor: Actor, pid: uuid.UUID, name: str, day: date, lab: str,
                document_id: uuid.UUID | None, checked: list[validation.Checked], source: Source) -> ResultPanel:
    panel = ResultPanel(patient_id=pid, name=name, specimen_date=day, performing_lab=lab, document_id=document_id,
                        source=source.value, status=Status.TO_REVIEW.value, entered_by=actor.user_id,
                        entered_by_name=actor.display_name or None)
    session.add(panel)
    session.flush()
    session.add_all([_row(panel, i, c, actor) for i, c in enumerate(checked)])
    session.flush()
    return panel


def _row(panel: ResultPanel, position: int, c: validation.Checked, actor: Actor, **extra: Any) -> LabResult:
    return LabResult(id=new_id(), panel_id=panel.id, patient_id=panel.patient_id, position=position, loinc=c.loinc,
                     name=c.name, value=c.value, numeric=c.numeric, unit=c.unit,
                     ref_low=str(c.range.low) if c.range.low is not None else None,
                     ref_high=str(c.range.high) if c.range.high is not None else None, ref_text=c.range.text,
                     flag=c.flag.value, flag_given=c.flag_given, entered_by=actor.user_id, **extra)


def _document(session: Session, pid: uuid.UUID, document_id: Any, errors: dict[str, str]) -> uuid.UUID | None:
    """The report document to link: a live document of this same patient, else a field error."""
    if document_id in (None, ""):
        return None
    from patient_portal.domain.documents.models import Document
    from patient_portal.domain.documents.models import Status as DocStatus

    try:
        did = document_id if isinstance(document_id, uuid.UUID) else uuid.UUID(str(document_id)[:64])
    except ValueError:
        did = None
    doc = session.get(Document, did) if did else None
    if doc is None or doc.patient_id != pid or doc.status != DocStatus.ACTIVE:
        errors["document_id"] = "Choose one of this patient's documents."
        return None
    return doc.id


def _decide(session: Session, actor: Actor | None, *, patient_id: Any, panel_id: Any, version: Any,
            what: str) -> tuple[Actor, ResultPanel]:
    pid = as_uuid(patient_id)
    require(session, actor, Action.RESULT_RELEASE, Resource(patient_id=pid), audit_as=f"result.{what}")
    assert actor is not None
    load(session, pid)
    row = _load_panel(session, pid, panel_id)
    if version not in (None, "") and str(version) != str(row.version):
        raise Conflict("These results were changed by someone else. Reload and try again.")
    if row.status == Status.RELEASED:
        raise Conflict("These results were released and cannot be changed; correct a result instead.")
    return actor, row


def _comment(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    if len(text) > validation.MAX_COMMENT:
        raise Invalid(errors={"comment": f"Use at most {validation.MAX_COMMENT} characters."})
    return text


def _mark(row: ResultPanel, actor: Actor, comment: str | None, status: Status | None) -> None:
    now = utcnow()
    if comment is not None:
        row.comment = comment or None
    if row.reviewed_at is None or status is None:
        row.reviewed_by, row.reviewed_by_name, row.reviewed_at = actor.user_id, actor.display_name or None, now
    if status is not None:
        row.status = status.value
        row.decided_by, row.decided_by_name, row.decided_at = actor.user_id, actor.display_name or None, now
    elif row.status == Status.TO_REVIEW:
        row.status = Status.REVIEWED.value
    row.version += 1
    row.updated_at = now


def review(session: Session, actor: Actor | None, *, patient_id: Any, panel_id: Any, comment: Any = None,
           version: Any = None) -> Panel:
    """Mark a panel reviewed, optionally with a comment for the patient (shown once released)."""
    actor, row = _decide(session, actor, patient_id=patient_id, panel_id=panel_id, version=version, what="review")
    text = _comment(comment)
    _mark(row, actor, text, None)
    session.add(row)
    session.flush()
    audit.record(session, actor, "result.review", patient_id=row.patient_id, object_type=OBJECT, object_id=row.id,
                 detail={"comment": bool(row.comment)})
    return _panel(session, row)


def release(session: Session, actor: Actor | None, *, patient_id: Any, panel_id: Any, comment: Any = None,
            version: Any = None) -> Panel:
    """Release a panel to the patient (reviewed by the same act); immutable from here."""
    actor, row = _decide(session, actor, patient_id=patient_id, panel_id=panel_id, version=version, what="release")
    _mark(row, actor, _comment(comment), Status.RELEASED)
    session.add(row)
    session.flush()
    audit.record(session, actor, "result.release", patient_id=row.patient_id, object_type=OBJECT, object_id=row.id,
                 detail={"comment": bool(row.comment)})
    return _panel(session, row)


def hold(session: Session, actor: Actor | None, *, patient_id: Any, panel_id: Any, comment: Any = None,
         version: Any = None) -> Panel:
    """Hold a panel until discussed: the patient sees only that results are ready to discuss."""
    actor, row = _decide(session, actor, patient_id=patient_id, panel_id=panel_id, version=version, what="hold")
    if row.status == Status.HELD:
        raise Conflict("These results are already held until discussed.")
    _mark(row, actor, _comment(comment), Status.HELD)
    session.add(row)
    session.flush()
    audit.record(session, actor, "result.hold", patient_id=row.patient_id, object_type=OBJECT, object_id=row.id,
                 detail={"comment": bool(row.comment)})
    return _panel(session, row)


def correct_result(session: Session, actor: Actor | None, *, patient_id: Any, result_id: Any, value: Any,
                   reason: Any, unit: Any = None, range_low: Any = None, range_high: Any = None,
                   range_text: Any = None, flag: Any = None) -> Panel:
    """A corrected result that supersedes `result_id` (same test, same panel; the old row is kept and
    marked superseded). Unit and range default to the old result's; a reason is required."""
    pid = as_uuid(patient_id)
    require(session, actor, Action.RESULT_WRITE, Resource(patient_id=pid), audit_as="result.correct")
    assert actor is not None
    load(session, pid)
    try:
        rid = result_id if isinstance(result_id, uuid.UUID) else uuid.UUID(str(result_id)[:64])
    except ValueError:
        raise ResultsNotFound() from None
    old = session.get(LabResult, rid)
    if old is None or old.patient_id != pid:
        raise ResultsNotFound()
    if old.superseded_by is not None:
        raise Conflict("This result was already corrected; correct the newer one.")
    errors: dict[str, str] = {}
    why = validation.short_text(reason, "reason", errors, required="Say why the result is corrected.")
    if all(v in (None, "") for v in (range_low, range_high, range_text)):
        rng = validation.Range(_dec(old.ref_low), _dec(old.ref_high), old.ref_text)
    else:
        rng = validation.range_from(range_low, range_high, range_text, errors)
    checked = validation.check(session, loinc=old.loinc, name=old.name, value=value,
                               unit=old.unit if unit in (None, "") else unit, rng=rng, flag=flag, errors=errors)
    if errors:
        raise Invalid(errors=errors)
    assert checked is not None
    panel_row = session.get(ResultPanel, old.panel_id)
    assert panel_row is not None
    new = _row(panel_row, old.position, checked, actor, corrects_id=old.id, correction_reason=why)
    session.add(new)
    session.flush()
    old.superseded_by, old.superseded_at, old.updated_at = new.id, utcnow(), utcnow()
    session.add(old)
    panel_row.version += 1
    panel_row.updated_at = utcnow()
    session.add(panel_row)
    session.flush()
    audit.record(session, actor, "result.correct", patient_id=pid, object_type="lab_result", object_id=new.id,
                 detail={"panel": str(panel_row.id), "corrects": str(old.id), "code": old.loinc,
                         "released": panel_row.status == Status.RELEASED})
    return _panel(session, panel_row)


# --- reading ---------------------------------------------------------------------------------------

def _may_read(session: Session, actor: Actor | None, patient_id: Any, audit_as: str) -> uuid.UUID:
    pid = as_uuid(patient_id)
    require(session, actor, Action.RESULT_READ, Resource(patient_id=pid), audit_as=audit_as)
    load(session, pid)
    return pid


def panels(session: Session, actor: Actor | None, *, patient_id: Any, page: Any = 1,
           header_sections: list[str] | None = None) -> PanelPage:
    """The patient's reports, newest specimen first, 25 a page, with how many wait for review."""
    pid = _may_read(session, actor, patient_id, "result.list")
    found = _page(session, pid, page)
    detail: dict[str, Any] = {"page": found.page, "panels": [str(p.id) for p in found.items]}
    if header_sections:
        detail["header"] = header_sections
    audit.record(session, actor, "result.list", patient_id=pid, object_type=OBJECT, object_id=pid, detail=detail)
    return found


def panel(session: Session, actor: Actor | None, *, patient_id: Any, panel_id: Any) -> Panel:
    """One report in full, superseded results included."""
    pid = _may_read(session, actor, patient_id, "result.read")
    row = _load_panel(session, pid, panel_id)
    audit.record(session, actor, "result.read", patient_id=pid, object_type=OBJECT, object_id=row.id)
    return _panel(session, row)


def open_page(session: Session, actor: Actor | None, patient_id: Any, *, page: Any = 1) -> tuple[ChartHeader, PanelPage]:
    """A chart's results page opened: the chart header and a page of reports, one unit, one event."""
    return with_header(session, actor, patient_id, _panels_for, patient_id, page=page)


def _panels_for(session: Session, actor: Actor | None, patient_id: Any, **kwargs: Any) -> PanelPage:
    return panels(session, actor, patient_id=patient_id, **kwargs)


def own_results(session: Session, actor: Actor | None, *, patient_id: Any = None, page: Any = 1) -> list[OwnPanel]:
    """The patient's own released and held reports, newest first (25 a page): values and the
    doctor's comment for released ones; a held one says only that it is ready to discuss."""
    if patient_id in (None, ""):
        if actor is None or actor.patient_id is None:
            require(session, actor, Action.RESULT_OWN_READ, Resource(), audit_as="result.own.list")
            raise PatientNotFound()
        patient_id = actor.patient_id
    pid = as_uuid(patient_id)
    require(session, actor, Action.RESULT_OWN_READ, Resource(patient_id=pid), audit_as="result.own.list")
    load(session, pid)
    number = _page_number(page)
    rows = session.exec(select(ResultPanel).where(
        ResultPanel.patient_id == pid, ResultPanel.status.in_([Status.RELEASED.value, Status.HELD.value]))  # type: ignore[attr-defined]
        .order_by(ResultPanel.specimen_date.desc(), ResultPanel.created_at.desc(), ResultPanel.id)  # type: ignore[attr-defined]
        .limit(PAGE_SIZE).offset((number - 1) * PAGE_SIZE)).all()
    results = _results_of(session, [r.id for r in rows if r.status == Status.RELEASED])
    out = []
    for r in rows:
        held = r.status == Status.HELD
        current = [x for x in results.get(r.id, []) if x.superseded_by is None]
        out.append(OwnPanel(id=r.id, name=r.name, specimen_date=r.specimen_date, performing_lab=r.performing_lab,
                            held=held, comment="" if held else (r.comment or ""),
                            released_at=None if held else r.decided_at, results=[] if held else current,
                            document_id=None if held else r.document_id))
    audit.record(session, actor, "result.own.list", patient_id=pid, object_type=OBJECT, object_id=pid,
                 detail={"page": number, "released": sum(not p.held for p in out), "held": sum(p.held for p in out)})
    return out


#: The most results one ``search`` answers (a FHIR client pages within them).
SEARCH_LIMIT = 5_000


def search(session: Session, actor: Actor | None, *, patient_id: Any, codes: Any = None, first: date | None = None,
           last: date | None = None, result_id: Any = None) -> list[tuple[Result, str, date, str]] | None:
    """The patient's current results (a correction's replaced one left out) whose LOINC code is one
    of `codes` (None: any) with a specimen date in `first`..`last` (either open), only the result
    `result_id` if given, newest report
    first, as (result, report status, specimen date, report name): the FHIR API's Observation
    search. A clinician (``RESULT_READ``) finds every report, held and to-review ones too; the
    patient (``RESULT_OWN_READ``) only their released ones. None when the role reads neither.
    One statement with the code and date in its WHERE; only the rows returned are decrypted.
    Audited like ``panels`` / ``own_results`` (the view "search" and what was found)."""
    if actor is not None and actor.can(Action.RESULT_READ):
        audit_as, statuses = "result.list", None
        pid = _may_read(session, actor, patient_id, audit_as)
    elif (actor is not None and actor.can(Action.RESULT_OWN_READ) and actor.patient_id is not None
          and str(actor.patient_id) == str(patient_id)):
        audit_as, statuses = "result.own.list", [Status.RELEASED.value]
        pid = as_uuid(patient_id)
        require(session, actor, Action.RESULT_OWN_READ, Resource(patient_id=pid), audit_as=audit_as)
        load(session, pid)
    else:
        return None
    p, r = ResultPanel, LabResult
    stmt = select(r, p).join(p, p.id == r.panel_id).where(  # type: ignore[arg-type]
        r.patient_id == pid, p.patient_id == pid, r.superseded_by.is_(None))  # type: ignore[union-attr]
    if codes is not None:
        stmt = stmt.where(r.loinc.in_(sorted({str(c)[:16] for c in codes})))  # type: ignore[attr-defined]
    if statuses is not None:
        stmt = stmt.where(p.status.in_(statuses))  # type: ignore[attr-defined]
    if result_id is not None:
        stmt = stmt.where(r.id == result_id)
    if first is not None:
        stmt = stmt.where(p.specimen_date >= first)
    if last is not None:
        stmt = stmt.where(p.specimen_date <= last)
    rows = session.exec(stmt.order_by(p.specimen_date.desc(), p.created_at.desc(), p.id,  # type: ignore[attr-defined]
                                      r.position, r.created_at).limit(SEARCH_LIMIT)).all()
    out = [(_result(row), panel_row.status, panel_row.specimen_date, panel_row.name) for row, panel_row in rows]
    audit.record(session, actor, audit_as, patient_id=pid, object_type=OBJECT, object_id=pid,
                 detail={"view": "search", "panels": sorted({str(pr.id) for _row, pr in rows}), "results": len(out)})
    return out


def results_to_review(session: Session, actor: Actor | None) -> Worklist:
    """The doctor's worklist: panels to review on patients they reach, per patient (oldest specimen
    first), with how many results are abnormal. The dashboard card and My patients' flags."""
    require(session, actor, Action.RESULT_WORKLIST, Resource(owner_id=actor.user_id if actor else None),
            audit_as="result.worklist.list")
    assert actor is not None
    p = ResultPanel
    rows = session.exec(select(p.id, p.patient_id, p.specimen_date).where(
        p.status == Status.TO_REVIEW.value, reach_filter(actor, p.patient_id))).all()
    by_patient: dict[uuid.UUID, list[tuple[uuid.UUID, date]]] = defaultdict(list)
    for panel_id, pid, day in rows:
        by_patient[pid].append((panel_id, day))
    abnormal: dict[uuid.UUID, int] = defaultdict(int)
    if rows:
        for row_id, pid, flag in session.exec(select(LabResult.id, LabResult.patient_id, LabResult.flag).where(
                LabResult.panel_id.in_([r[0] for r in rows]), LabResult.superseded_by.is_(None))).all():  # type: ignore[attr-defined,union-attr]
            abnormal[pid] += decrypt_value("str", flag, LabResult.__tablename__, "flag", row_id) != Flag.NORMAL
    people = {x.id: x for x in session.exec(select(Patient).where(Patient.id.in_(list(by_patient)))).all()} \
        if by_patient else {}  # type: ignore[attr-defined]
    items = sorted((ToReviewPatient(patient_id=pid, patient_name=display_name(people[pid]), mrn=people[pid].mrn,
                                    panels=len(found), oldest=min(d for _, d in found), abnormal=abnormal[pid])
                    for pid, found in by_patient.items() if pid in people),
                   key=lambda t: (t.oldest, t.patient_name))
    audit.record(session, actor, "result.worklist.list", object_type=OBJECT,
                 detail={"count": len(rows), "patients": [str(t.patient_id) for t in items]})
    return Worklist(count=sum(t.panels for t in items), patients=items)


# --- for other areas (no policy: the callers authorize and audit) ----------------------------------

def with_results_to_review(session: Session, actor: Actor, patient_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these patients have a report waiting for review: My patients' "New results to
    review" flag. One statement over plain columns, nothing decrypted."""
    if not patient_ids:
        return set()
    p = ResultPanel
    return set(session.exec(select(p.patient_id).distinct().where(
        p.patient_id.in_(patient_ids), p.status == Status.TO_REVIEW.value)).all())  # type: ignore[attr-defined]


#: How a report's status reads on the timeline.
TIMELINE_STATUS = {Status.TO_REVIEW.value: "to review", "reviewed": "reviewed",
                   Status.RELEASED.value: "released to the patient", "held": "held until discussed"}


def timeline_items(session: Session, patient_id: uuid.UUID, *, limit: int) -> Any:
    """The newest `limit` lab reports as timeline events on their specimen date (its name, how many
    results it holds, its status), and how many there are. Two statements (the reports; their current
    results counted); a report's name is decrypted only for the events kept (``timeline.dto``: the
    paged source contract)."""
    from patient_portal.domain.timeline.dto import Event, at_day, newest

    p, r = ResultPanel, LabResult
    panels = session.exec(select(p.id, p.name, p.specimen_date, p.status).where(p.patient_id == patient_id)).all()
    if not panels:
        return newest([], limit)
    counts = dict(session.exec(select(r.panel_id, func.count()).where(
        r.patient_id == patient_id, r.superseded_by.is_(None)).group_by(r.panel_id)).all())  # type: ignore[union-attr]

    def words(panel_id: uuid.UUID, name: str, status: str) -> tuple[str, str]:
        n = int(counts.get(panel_id, 0))
        return ("Results: " + decrypt_value("str", name, p.__tablename__, "name", panel_id),
                f"{n} result{'s' if n != 1 else ''}, {TIMELINE_STATUS.get(status, status)}")

    return newest([Event(at_day(day), "results", str(panel_id),
                         lambda panel_id=panel_id, name=name, status=status: words(panel_id, name, status),
                         f"/chart/{patient_id}/results", day_only=True)
                   for panel_id, name, day, status in panels], limit)


# --- queries (no policy: the callers above authorize and audit) ------------------------------------

def _page_number(value: Any) -> int:
    try:
        return max(1, min(int(value), 100_000))
    except (TypeError, ValueError):
        return 1


def _load_panel(session: Session, pid: uuid.UUID, panel_id: Any) -> ResultPanel:
    try:
        key = panel_id if isinstance(panel_id, uuid.UUID) else uuid.UUID(str(panel_id)[:64])
    except ValueError:
        raise ResultsNotFound() from None
    row = session.get(ResultPanel, key)
    if row is None or row.patient_id != pid:
        raise ResultsNotFound()
    return row


def _dec(text: str | None) -> Decimal | None:
    return Decimal(text) if text not in (None, "") else None


def _result(row: LabResult) -> Result:
    return Result(id=row.id, coding=Coding(LOINC, row.loinc, row.name), value=row.value,
                  number=Decimal(row.value) if row.numeric else None, unit=row.unit, ref_low=_dec(row.ref_low),
                  ref_high=_dec(row.ref_high), ref_text=row.ref_text, flag=row.flag, flag_given=row.flag_given,
                  corrects_id=row.corrects_id, superseded_by=row.superseded_by,
                  correction_reason=row.correction_reason)


def _results_of(session: Session, panel_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Result]]:
    out: dict[uuid.UUID, list[Result]] = defaultdict(list)
    if not panel_ids:
        return out
    for row in session.exec(select(LabResult).where(LabResult.panel_id.in_(panel_ids))  # type: ignore[attr-defined]
                            .order_by(LabResult.position, LabResult.created_at)).all():
        out[row.panel_id].append(_result(row))
    return out


def _current(session: Session, panel_id: uuid.UUID) -> list[Result]:
    return [r for r in _results_of(session, [panel_id]).get(panel_id, []) if r.superseded_by is None]


def _panel(session: Session, row: ResultPanel, results: list[Result] | None = None) -> Panel:
    found = _results_of(session, [row.id]).get(row.id, []) if results is None else results
    return Panel(id=row.id, patient_id=row.patient_id, name=row.name, specimen_date=row.specimen_date,
                 performing_lab=row.performing_lab, status=row.status, source=row.source,
                 document_id=row.document_id, entered_by_name=row.entered_by_name or "",
                 reviewed_by_name=row.reviewed_by_name or "", reviewed_at=row.reviewed_at, comment=row.comment or "",
                 decided_by_name=row.decided_by_name or "", decided_at=row.decided_at, version=row.version,
                 results=[r for r in found if r.superseded_by is None],
                 replaced=[r for r in found if r.superseded_by is not None])


def _page(session: Session, pid: uuid.UUID, page: Any) -> PanelPage:
    p = ResultPanel
    total = int(session.exec(select(func.count()).select_from(p).where(p.patient_id == pid)).one())
    waiting = int(session.exec(select(func.count()).select_from(p).where(
        p.patient_id == pid, p.status == Status.TO_REVIEW.value)).one())
    pages = max(1, math.ceil(total / PAGE_SIZE))
    number = min(_page_number(page), pages)
    rows = session.exec(select(p).where(p.patient_id == pid)
                        .order_by(p.specimen_date.desc(), p.created_at.desc(), p.id)  # type: ignore[attr-defined]
                        .limit(PAGE_SIZE).offset((number - 1) * PAGE_SIZE)).all()
    results = _results_of(session, [r.id for r in rows])
    return PanelPage(items=[_panel(session, r, results.get(r.id, [])) for r in rows], total=total, page=number,
                     pages=pages, page_size=PAGE_SIZE, to_review=waiting)
