"""Vital signs and home readings: the one way in for the UI, the API and the demo seed.

* ``record_vitals`` — a doctor on the care team (or an admin) records a set of vital signs measured
  at one time: source ``clinician``, verified as recorded.
* ``report_reading`` — the patient adds a home reading (blood pressure, weight, blood glucose) to their
  own record: source ``patient``, shown as "reported by patient" until a doctor ``verify_reading``s it.
* BMI is never typed: a set with a weight or a height gets a BMI computed from it and the latest
  verified other one at or before the set's time (a patient's weight and the clinic's height).
* Reads — ``latest``, ``readings`` (25 sets a page), ``trend`` (one vital over time, optionally a date
  range: the chart's series), ``overview`` (the page in one read) and ``open_page`` (with the chart
  header, one audit event) — are audited as ``observation.read`` with what was shown.

Every use case asks ``core.access.require`` first (refusals are recorded there) and audits in its own
transaction with the decision's basis and purpose. Values are checked against the plausible ranges of
the code tables (``codes.vital``) before anything is written; errors are the family's (Invalid with
field messages, NotFound, Conflict).
"""

from __future__ import annotations

import math
import uuid
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, distinct, func
from sqlmodel import Session, select

from patient_portal.core import audit
from patient_portal.core.access import Action, Actor, Resource, require
from patient_portal.core.coding import LOINC, Coding
from patient_portal.core.crypto import decrypt_value
from patient_portal.core.db import new_id, utcnow
from patient_portal.core.errors import Conflict, Invalid, NotFound
from patient_portal.domain.codes.service import VitalSign
from patient_portal.domain.observations import catalogue, validation
from patient_portal.domain.observations.dto import (
    FieldSpec,
    Goal,
    Overview,
    Point,
    Reading,
    ReadingPage,
    Series,
    Trend,
    VitalSet,
)
from patient_portal.domain.observations.models import Observation, Source
from patient_portal.domain.patients.common import as_uuid, load
from patient_portal.domain.patients.header import ChartHeader, with_header

__all__ = ["PAGE_SIZE", "MAX_POINTS", "FieldSpec", "Goal", "Overview", "Point", "Reading", "ReadingPage",
           "Series", "Source", "Trend", "VitalSet", "field_specs", "latest", "open_page", "overview", "readings",
           "record_vitals", "report_reading", "search", "trend", "verify_reading"]

PAGE_SIZE = 25
MAX_PAGE_SIZE = 50
#: The newest points per series a trend carries (a chart on a phone shows no more).
MAX_POINTS = 120
READ = "observation.read"
_TABLE = Observation.__tablename__


# --- writing ---------------------------------------------------------------------------------------

def record_vitals(session: Session, actor: Actor | None, *, patient_id: Any, values: dict[str, Any],
                  effective_at: Any) -> VitalSet:
    """Record the vital signs measured at `effective_at` (keys of ``catalogue.RECORDED``: blanks are
    left out); doctors on the care team and admins. Nothing is written unless every value is valid."""
    pid = as_uuid(patient_id)
    require(session, actor, Action.OBSERVATION_WRITE, Resource(patient_id=pid))
    assert actor is not None
    load(session, pid)
    checked = validation.check(session, values, effective_at, allowed=catalogue.RECORDED, now=utcnow())
    return _save(session, actor, pid, checked, Source.CLINICIAN, Action.OBSERVATION_WRITE)


def report_reading(session: Session, actor: Actor | None, *, patient_id: Any, values: dict[str, Any],
                   effective_at: Any) -> VitalSet:
    """The patient's own home reading (blood pressure, weight, blood glucose), saved as reported by the
    patient and unverified until a doctor verifies it."""
    pid = as_uuid(patient_id)
    require(session, actor, Action.OBSERVATION_REPORT_OWN, Resource(patient_id=pid))
    assert actor is not None
    load(session, pid)
    checked = validation.check(session, values, effective_at, allowed=catalogue.REPORTABLE, now=utcnow(),
                               what="reading")
    return _save(session, actor, pid, checked, Source.PATIENT, Action.OBSERVATION_REPORT_OWN)


def _save(session: Session, actor: Actor, pid: uuid.UUID, checked: validation.Checked, source: Source,
          action: Action) -> VitalSet:
    clinician = source is Source.CLINICIAN
    name = (actor.display_name or None) if clinician else None
    now = utcnow()
    values = dict(checked.values)
    bmi = _bmi(session, pid, values, checked.effective_at)
    set_id = new_id()
    rows = []
    for key, (spec, value) in [*values.items(), *([("bmi", bmi)] if bmi else [])]:
        rows.append(Observation(
            patient_id=pid, set_id=set_id, loinc=spec.coding.code, value=str(value), unit=spec.unit or "",
            effective_at=checked.effective_at, source=source.value, recorded_by=actor.user_id,
            recorded_by_name=name, computed=key == "bmi", verified=clinician,
            verified_by=actor.user_id if clinician else None, verified_by_name=name,
            verified_at=now if clinician else None))
    session.add_all(rows)
    session.flush()
    audit.record(session, actor, str(action), patient_id=pid, object_type="observation_set", object_id=set_id,
                 detail={"vitals": sorted(values), "bmi_computed": bmi is not None, "source": source.value})
    return _set(rows, session)


def _bmi(session: Session, pid: uuid.UUID, values: dict[str, tuple[VitalSign, Decimal]],
         when: datetime) -> tuple[VitalSign, Decimal] | None:
    """BMI from this set's weight and height, or the latest verified other one at or before `when`;
    None when either is unknown. A BMI outside its plausible range means one of them is mistyped."""
    if "weight" not in values and "height" not in values:
        return None
    weight = values["weight"][1] if "weight" in values else _latest_verified(session, pid, "weight", when)
    height = values["height"][1] if "height" in values else _latest_verified(session, pid, "height", when)
    if weight is None or height is None:
        return None
    spec = catalogue.spec(session, "bmi")
    bmi = validation.rounded(weight / (height / 100) ** 2, spec.decimals)
    if not spec.plausible(float(bmi)):
        typed = "weight" if "weight" in values else "height"
        other = "height" if typed == "weight" else "weight"
        raise Invalid(errors={typed: f"With the {other} on file this gives a BMI of {bmi}: check the {typed}."})
    return spec, bmi


def _latest_verified(session: Session, pid: uuid.UUID, key: str, when: datetime) -> Decimal | None:
    o = Observation
    row = session.exec(select(o.id, o.value).where(
        o.patient_id == pid, o.loinc.in_(catalogue.loincs_of(key)), o.verified.is_(True),  # type: ignore[attr-defined]
        o.effective_at <= when).order_by(o.effective_at.desc()).limit(1)).first()  # type: ignore[attr-defined]
    return Decimal(decrypt_value("str", row[1], _TABLE, "value", row[0])) if row else None


def verify_reading(session: Session, actor: Actor | None, *, patient_id: Any, set_id: Any) -> VitalSet:
    """A doctor on the care team (or an admin) confirms a reading the patient reported; audited.
    NotFound for a reading that is not this patient's; Conflict when it is already verified."""
    pid = as_uuid(patient_id)
    require(session, actor, Action.OBSERVATION_VERIFY, Resource(patient_id=pid))
    assert actor is not None
    load(session, pid)
    sid = _set_uuid(set_id)
    rows = list(session.exec(select(Observation).where(Observation.set_id == sid, Observation.patient_id == pid)).all())
    if not rows:
        raise NotFound("That reading was not found.")
    if all(r.verified for r in rows):
        raise Conflict("This reading was already verified.")
    now = utcnow()
    for row in rows:
        row.verified, row.verified_by, row.verified_by_name, row.verified_at = True, actor.user_id, actor.display_name or None, now
        row.updated_at = now
        session.add(row)
    session.flush()
    audit.record(session, actor, str(Action.OBSERVATION_VERIFY), patient_id=pid, object_type="observation_set",
                 object_id=sid, detail={"vitals": sorted(_key(r.loinc) for r in rows), "source": rows[0].source})
    return _set(rows, session)


def _set_uuid(value: Any) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)[:64])
    except ValueError:
        raise NotFound("That reading was not found.") from None


# --- reading ---------------------------------------------------------------------------------------

def field_specs(session: Session) -> list[FieldSpec]:
    """The vitals of the record form, with units and plausible ranges from the code tables (no PHI,
    no actor: what any form may show)."""
    found = catalogue.specs(session)
    return [FieldSpec(key=v.key, coding=found[v.key].coding, unit=found[v.key].unit or "",
                      unit_label=found[v.key].unit_label or "", low=found[v.key].low, high=found[v.key].high,
                      decimals=found[v.key].decimals or 0, reportable=v.home, computed=v.computed)
            for v in catalogue.VITALS if v.key in found]


def _may_read(session: Session, actor: Actor | None, patient_id: Any) -> uuid.UUID:
    pid = as_uuid(patient_id)
    require(session, actor, Action.OBSERVATION_READ, Resource(patient_id=pid))
    load(session, pid)
    return pid


def latest(session: Session, actor: Actor | None, *, patient_id: Any) -> dict[str, Reading]:
    """The newest value of each vital, by key (a patient's unverified reading included, marked)."""
    pid = _may_read(session, actor, patient_id)
    found = _latest(session, pid)
    audit.record(session, actor, READ, patient_id=pid, object_type="observation", object_id=pid,
                 detail={"view": "latest", "vitals": sorted(found)})
    return found


def readings(session: Session, actor: Actor | None, *, patient_id: Any, page: Any = 1,
             page_size: Any = PAGE_SIZE) -> ReadingPage:
    """The sets recorded, newest first, `page_size` (≤ 50) a page."""
    pid = _may_read(session, actor, patient_id)
    found = _page(session, pid, page, page_size)
    audit.record(session, actor, READ, patient_id=pid, object_type="observation", object_id=pid,
                 detail={"view": "readings", "page": found.page, "sets": len(found.items)})
    return found


#: The most readings one ``search`` answers (a FHIR client pages within them).
SEARCH_LIMIT = 10_000


def search(session: Session, actor: Actor | None, *, patient_id: Any, codes: Any = None,
           start: datetime | None = None, end: datetime | None = None, set_id: Any = None) -> list[Reading]:
    """The readings whose LOINC code is one of `codes` (None: any), measured in [`start`, `end`)
    (UTC instants, either open), of the one set `set_id` if given, newest set first (each set's values in catalogue order), at most
    ``SEARCH_LIMIT``: the FHIR API's Observation search. One statement on the patient's rows with
    the code and time in its WHERE (ix_observation_patient_code_time, or _time_set without codes),
    and only the rows returned are decrypted. Audited as an observation read (view "search")."""
    pid = _may_read(session, actor, patient_id)
    o = Observation
    stmt = select(o.id, o.loinc, o.value, o.unit, o.effective_at, o.source, o.verified, o.computed,
                  o.set_id, o.updated_at).where(o.patient_id == pid)
    if codes is not None:
        stmt = stmt.where(o.loinc.in_(sorted({str(c)[:16] for c in codes})))  # type: ignore[attr-defined]
    if start is not None:
        stmt = stmt.where(o.effective_at >= start)
    if end is not None:
        stmt = stmt.where(o.effective_at < end)
    if set_id is not None:
        stmt = stmt.where(o.set_id == set_id)
    rows = session.exec(stmt.order_by(o.effective_at.desc(), o.created_at.desc(), o.set_id)  # type: ignore[attr-defined]
                        .limit(SEARCH_LIMIT)).all()
    specs = catalogue.shown_specs(session) if rows else {}
    order = {k: n for n, k in enumerate(catalogue.BY_KEY)}
    found: dict[uuid.UUID, dict[str, Reading]] = {}
    for row_id, loinc, value, unit, at, source, verified, computed, set_id, updated in rows:
        key = _key(loinc)
        found.setdefault(set_id, {})[key] = replace(_reading(
            key, specs.get(key), loinc, decrypt_value("str", value, _TABLE, "value", row_id), unit, at, source,
            verified, computed, set_id), updated_at=_aware(updated))
    out = [r for values in found.values() for _k, r in sorted(values.items(), key=lambda kv: order.get(kv[0], 99))]
    audit.record(session, actor, READ, patient_id=pid, object_type="observation", object_id=pid,
                 detail={"view": "search", "vitals": sorted({r.key for r in out}), "count": len(out)})
    return out


def trend(session: Session, actor: Actor | None, *, patient_id: Any, vital: str, date_from: Any = None,
          date_to: Any = None) -> Trend:
    """One vital over time, oldest first, in the clinic's days `date_from`..`date_to` (either open):
    the series of a chart (blood pressure: systolic and diastolic). `vital`: a key of
    ``catalogue.TRENDS``."""
    if vital not in catalogue.TREND_KEYS:
        raise Invalid(errors={"vital": "Choose a vital sign."})
    start, end = _range(date_from, date_to)
    pid = _may_read(session, actor, patient_id)
    found = _trends(session, pid, start, end, only=vital)
    result = found[0] if found else _empty_trend(session, vital, start, end, pid)
    audit.record(session, actor, READ, patient_id=pid, object_type="observation", object_id=pid,
                 detail={"view": "trend", "vitals": [vital]})
    return result


def overview(session: Session, actor: Actor | None, *, patient_id: Any, page: Any = 1, date_from: Any = None,
             date_to: Any = None, header_sections: list[str] | None = None) -> Overview:
    """The vitals page in one read and one audit event: form fields, latest values, a page of
    readings, a trend per vital with data in the range. `header_sections`: the chart header read in
    the same unit showed these (``open_page``), recorded in this read's event."""
    start, end = _range(date_from, date_to)
    pid = _may_read(session, actor, patient_id)
    result = Overview(fields=field_specs(session), latest=_latest(session, pid), page=_page(session, pid, page, PAGE_SIZE),
                      trends=_trends(session, pid, start, end), unverified=_unverified(session, pid))
    detail: dict[str, Any] = {"view": "overview", "vitals": sorted(result.latest), "page": result.page.page}
    goals = sorted({s.key for t in result.trends for s in t.series if s.goal is not None})
    if goals:
        detail["goals"] = goals  # the care plan's targets drawn as goal lines
    if header_sections:
        detail["header"] = header_sections
    audit.record(session, actor, READ, patient_id=pid, object_type="observation", object_id=pid, detail=detail)
    return result


def open_page(session: Session, actor: Actor | None, patient_id: Any, **ask: Any) -> tuple[ChartHeader, Overview]:
    """A chart's vitals page opened: the chart header and the overview in one unit, ONE audit event
    (``observation.read`` whose `header` names what the header showed)."""
    return with_header(session, actor, patient_id, _overview_for, patient_id, **ask)


def _overview_for(session: Session, actor: Actor | None, patient_id: Any, **kwargs: Any) -> Overview:
    return overview(session, actor, patient_id=patient_id, **kwargs)


# --- queries (no policy: the callers above authorize and audit) ------------------------------------

def _key(loinc: str) -> str:
    return catalogue.key_of(loinc) or loinc


def _reading(key: str, spec: VitalSign | None, loinc: str, value: str, unit: str, at: datetime, source: str,
             verified: bool, computed: bool, set_id: uuid.UUID | None) -> Reading:
    coding = spec.coding if spec is not None else Coding(LOINC, loinc, "")
    return Reading(key=key, coding=coding, value=Decimal(value), unit=unit,
                   unit_label=(spec.unit_label or unit) if spec is not None else unit, effective_at=_aware(at),
                   source=source, verified=verified, computed=computed, set_id=set_id)


def _aware(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


def _latest(session: Session, pid: uuid.UUID) -> dict[str, Reading]:
    """The newest row of each LOINC code: one grouped statement joined back to its rows."""
    o = Observation
    newest = (select(o.loinc, func.max(o.effective_at).label("at")).where(o.patient_id == pid)
              .group_by(o.loinc).subquery())
    rows = session.exec(select(o.id, o.loinc, o.value, o.unit, o.effective_at, o.source, o.verified, o.computed,
                               o.set_id)
                        .join(newest, and_(o.loinc == newest.c.loinc, o.effective_at == newest.c.at))
                        .where(o.patient_id == pid).order_by(o.created_at.desc())).all()  # type: ignore[attr-defined]
    specs = catalogue.specs(session)
    out: dict[str, Reading] = {}
    for row_id, loinc, value, unit, at, source, verified, computed, set_id in rows:
        key = _key(loinc)
        if key in catalogue.BY_KEY and (key not in out or _aware(at) > out[key].effective_at):
            out[key] = _reading(key, specs.get(key), loinc, decrypt_value("str", value, _TABLE, "value", row_id),
                                unit, at, source, verified, computed, set_id)
    return {k: out[k] for k in catalogue.BY_KEY if k in out}


def _page_number(value: Any) -> int:
    try:
        return max(1, min(int(value), 100_000))
    except (TypeError, ValueError):
        return 1


def _page(session: Session, pid: uuid.UUID, page: Any, page_size: Any) -> ReadingPage:
    """Sets newest first: the page's set ids in one grouped statement, then their rows."""
    o = Observation
    size = max(1, min(_page_number(page_size), MAX_PAGE_SIZE))
    total = int(session.exec(select(func.count(distinct(o.set_id))).where(o.patient_id == pid)).one())
    pages = max(1, math.ceil(total / size))
    number = min(_page_number(page), pages)
    at, added = func.max(o.effective_at).label("at"), func.max(o.created_at).label("added")
    ids = [row[0] for row in session.exec(select(o.set_id, at, added).where(o.patient_id == pid).group_by(o.set_id)
                                          .order_by(at.desc(), added.desc(), o.set_id)
                                          .limit(size).offset((number - 1) * size)).all()]
    grouped: dict[uuid.UUID, list[Observation]] = defaultdict(list)
    if ids:
        for row in session.exec(select(o).where(o.patient_id == pid, o.set_id.in_(ids))).all():  # type: ignore[attr-defined]
            grouped[row.set_id].append(row)
    specs = catalogue.specs(session)
    return ReadingPage(items=[_set(grouped[i], session, specs) for i in ids if grouped[i]], total=total, page=number,
                       pages=pages, page_size=size)


def _set(rows: list[Observation], session: Session, specs: dict[str, VitalSign] | None = None) -> VitalSet:
    specs = catalogue.specs(session) if specs is None else specs
    first = rows[0]
    values = {}
    for row in rows:
        key = _key(row.loinc)
        values[key] = _reading(key, specs.get(key), row.loinc, row.value, row.unit, row.effective_at, row.source,
                               row.verified, row.computed, row.set_id)
    ordered = {k: values[k] for k in [*catalogue.BY_KEY, *values] if k in values}
    return VitalSet(id=first.set_id, effective_at=_aware(first.effective_at), source=first.source,
                    verified=all(r.verified for r in rows), recorded_by_name=first.recorded_by_name or "",
                    verified_by_name=first.verified_by_name or "",
                    verified_at=_aware(first.verified_at) if first.verified_at else None, values=ordered)


def _unverified(session: Session, pid: uuid.UUID) -> int:
    o = Observation
    return int(session.exec(select(func.count(distinct(o.set_id))).where(
        o.patient_id == pid, o.verified.is_(False))).one())  # type: ignore[attr-defined]


def _range(date_from: Any, date_to: Any) -> tuple[date | None, date | None]:
    errors: dict[str, str] = {}
    start, end = _day(date_from, "date_from", errors), _day(date_to, "date_to", errors)
    if start and end and end < start:
        errors["date_to"] = "The end date is before the start date."
    if errors:
        raise Invalid(errors=errors)
    return start, end


def _day(value: Any, name: str, errors: dict[str, str]) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        errors[name] = "Enter a real date."
        return None


def _bounds(start: date | None, end: date | None) -> tuple[datetime | None, datetime | None]:
    from patient_portal.core.clock import clinic_zone

    zone = clinic_zone()
    low = datetime.combine(start, time.min, zone).astimezone(UTC) if start else None
    high = datetime.combine(end + timedelta(days=1), time.min, zone).astimezone(UTC) if end else None
    return low, high


def _trends(session: Session, pid: uuid.UUID, start: date | None, end: date | None, *,
            only: str | None = None) -> list[Trend]:
    """Every trend with data in the range (or only `only`), in catalogue order; one statement."""
    o = Observation
    keys = catalogue.TREND_KEYS[only] if only else tuple(catalogue.BY_KEY)
    codes = [code for key in keys for code in catalogue.loincs_of(key)]
    low, high = _bounds(start, end)
    stmt = select(o.id, o.loinc, o.value, o.effective_at, o.source, o.verified).where(
        o.patient_id == pid, o.loinc.in_(codes))  # type: ignore[attr-defined]
    if low is not None:
        stmt = stmt.where(o.effective_at >= low)
    if high is not None:
        stmt = stmt.where(o.effective_at < high)
    points: dict[str, list[Point]] = defaultdict(list)
    for row_id, loinc, value, at, source, verified in session.exec(stmt.order_by(o.effective_at, o.id)).all():
        points[_key(loinc)].append(Point(_aware(at), Decimal(decrypt_value("str", value, _TABLE, "value", row_id)),
                                         source, verified))
    specs = catalogue.specs(session)
    goals = _goals(session, pid)
    out = []
    for name in ([only] if only else catalogue.TRENDS):
        members = catalogue.TREND_KEYS[name]
        if not any(points.get(k) for k in members):
            continue
        truncated = any(len(points.get(k, [])) > MAX_POINTS for k in members)
        series = [_series(k, specs.get(k), points.get(k, [])[-MAX_POINTS:], goals.get(k)) for k in members]
        out.append(Trend(key=name, series=series, date_from=start, date_to=end, truncated=truncated))
    return out


def _series(key: str, spec: VitalSign | None, points: list[Point], goal: Goal | None = None) -> Series:
    coding = spec.coding if spec else Coding(LOINC, catalogue.BY_KEY[key].loinc, "")
    return Series(key=key, coding=coding, unit=(spec.unit or "") if spec else "",
                  unit_label=(spec.unit_label or "") if spec else "", points=points, goal=goal)


def _goals(session: Session, pid: uuid.UUID) -> dict[str, Goal]:
    """The targets the patient's active care plans set, by vital key (the charts' goal lines). The
    care-plans area reads this area's readings for its progress, so it is imported here, at use."""
    from patient_portal.domain.careplans.service import goals_for

    return goals_for(session, pid)


def _empty_trend(session: Session, vital: str, start: date | None, end: date | None, pid: uuid.UUID) -> Trend:
    specs = catalogue.specs(session)
    goals = _goals(session, pid)
    return Trend(key=vital, series=[_series(k, specs.get(k), [], goals.get(k)) for k in catalogue.TREND_KEYS[vital]],
                 date_from=start, date_to=end)


# --- for other areas (no policy: the callers authorize and audit) ----------------------------------

def latest_values(session: Session, patient_id: uuid.UUID) -> dict[str, Reading]:
    """The newest value of each vital, by key (a patient's unverified reading included, marked):
    a care plan's progress on its goals. Nothing audited here."""
    return _latest(session, patient_id)


def with_unverified_readings(session: Session, actor: Actor, patient_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these patients have a home reading no doctor has verified yet: the worklist's
    "Unverified readings" flag. One statement, nothing decrypted."""
    if not patient_ids:
        return set()
    o = Observation
    return set(session.exec(select(o.patient_id).distinct().where(
        o.patient_id.in_(patient_ids), o.verified.is_(False)  # type: ignore[attr-defined]
    )).all())


def timeline_items(session: Session, patient_id: uuid.UUID, *, limit: int) -> Any:
    """The newest `limit` sets of vitals as timeline items, and how many sets there are: when
    measured, which vitals (names from the catalogue), whether the patient reported it. One
    statement over plain columns: the newest sets, ordered and cut in SQL by time, then set id
    (``timeline.dto``'s order), with the number of sets beside each (a window count over the distinct
    sets: a set is written at one time) and their rows; index-only up to the rows of the sets shown
    (ix_observation_patient_time_set). No value is decrypted (the vitals page shows them)."""
    from patient_portal.domain.timeline.dto import SourcePage, TimelineItem, aware

    o = Observation
    sets = select(o.effective_at, o.set_id).where(o.patient_id == patient_id).distinct().subquery()  # index order
    newest = (select(sets.c.set_id, func.count().over().label("total"))
              .order_by(sets.c.effective_at.desc(), sets.c.set_id.desc()).limit(max(1, limit)).subquery())
    rows = session.exec(select(o.set_id, o.loinc, o.effective_at, o.source, o.verified, newest.c.total)
                        .join(newest, newest.c.set_id == o.set_id).where(o.patient_id == patient_id)
                        .order_by(o.effective_at.desc(), o.set_id.desc())).all()  # type: ignore[attr-defined]
    found: dict[uuid.UUID, list[Any]] = {}
    for set_id, loinc, at, source, verified, _total in rows:
        found.setdefault(set_id, []).append((loinc, at, source, verified))
    labels = {**{v.key: v.label.lower() if v.key != "spo2" else "SpO2" for v in catalogue.VITALS},
              "systolic": "blood pressure", "bmi": "BMI"}
    out = []
    for set_id, values in found.items():
        keys = {catalogue.key_of(r[0]) for r in values}
        names = [labels[k] for k in catalogue.BY_KEY if k in keys and k != "diastolic"]
        names[:1] = [names[0][:1].upper() + names[0][1:]] if names else []
        patient = values[0][2] == Source.PATIENT.value
        title = "Home reading" if patient else "Vitals recorded"
        flag = (" (reported by patient" + ("" if all(r[3] for r in values) else ", not verified") + ")") if patient else ""
        out.append(TimelineItem(aware(values[0][1]), "vitals", title, ", ".join(names) + flag,
                                f"/chart/{patient_id}/vitals", str(set_id)))
    return SourcePage(out, int(rows[0][5]) if rows else 0)
