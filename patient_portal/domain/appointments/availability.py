"""Free times, computed from the rules — never stored.

A doctor's *blocks* for a visit type are their weekly availability rules (``dateutil.rrule``
weekly occurrences, each rule a weekday and a clinic-local start and end) plus extra sessions, minus
closed stretches (the doctor's vacation, days the whole clinic is closed). Blocks are built on the
clinic's wall clock day by day and only then turned into UTC, so 09:00 stays 09:00 on both sides of
a daylight-saving change (the UTC hour moves, the local one does not).

A block is cut into *slots* of the visit type's duration, one every duration + buffer minutes from
the block's start. A slot is free when its doctor's time from its start to its end plus the buffer
overlaps no appointment that holds its time (``[start_at, blocked_until)``, models.FREES_SLOT).

Everything here reads rows and computes; no policy and no audit (the service authorizes first).
Cost: one statement for the rules and exceptions of the range (``load_calendar``) and one for the
bookings of each stretch of days read (``free_slots``); the rest is Python over at most a few
thousand slots, the grid cut once per stretch and each slot checked against its doctor's sorted
bookings by bisection (bench/appointments.py).
"""

from __future__ import annotations

import uuid
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from dateutil.rrule import WEEKLY, rrule
from sqlalchemy import Integer, String, and_, cast, literal, null, union_all
from sqlmodel import Session, col, or_, select

from patient_portal.core.clock import clinic_zone
from patient_portal.domain.appointments.models import (
    CLOSED,
    EXTRA,
    FREES_SLOT,
    Appointment,
    AvailabilityException,
    AvailabilityRule,
    VisitType,
)

Interval = tuple[datetime, datetime]


@dataclass(frozen=True, order=True)
class Slot:
    """A free time: `start`/`end` in UTC (the visit itself; its buffer follows it)."""

    start: datetime
    doctor_id: uuid.UUID
    end: datetime


def hhmm(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """`day` at wall-clock `at` in `zone`, as UTC (a time skipped by a spring change reads as the
    same wall time before the change, zoneinfo's fold=0)."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def day_bounds(day: date, zone: ZoneInfo) -> Interval:
    """A clinic-local day as a UTC interval (23 or 25 hours on change days)."""
    return local_instant(day, time.min, zone), local_instant(day + timedelta(days=1), time.min, zone)


def _days_of(rule: AvailabilityRule, first: date, last: date) -> list[date]:
    start = max(rule.valid_from, first)
    until = min(rule.valid_until or last, last)
    if start > until:
        return []
    return [d.date() for d in rrule(WEEKLY, byweekday=rule.weekday, dtstart=datetime.combine(start, time.min),
                                   until=datetime.combine(until, time.min))]


def _dates(first: date, last: date) -> Iterable[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def _overlaps(a: Interval, b: Interval) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def blocks(rules: Iterable[AvailabilityRule], exceptions: Iterable[AvailabilityException], visit_type_id: uuid.UUID,
           first: date, last: date, zone: ZoneInfo | None = None) -> dict[uuid.UUID, list[Interval]]:
    """Each doctor's open blocks for this visit type on the clinic-local days first..last, UTC, sorted;
    closed stretches already cut out."""
    zone = zone or clinic_zone()
    opened: dict[uuid.UUID, list[Interval]] = defaultdict(list)
    closed_clinic: list[Interval] = []
    closed: dict[uuid.UUID, list[Interval]] = defaultdict(list)
    days_of: dict[tuple, list[date]] = {}  # rules sharing a pattern share one rrule (20 doctors: ~10, not 200)
    instants: dict[tuple[date, str], datetime] = {}

    def instant(day: date, at: str) -> datetime:
        if (day, at) not in instants:
            instants[(day, at)] = local_instant(day, hhmm(at), zone)
        return instants[(day, at)]

    for rule in rules:
        if rule.visit_type_id not in (None, visit_type_id):
            continue
        pattern = (rule.weekday, rule.valid_from, rule.valid_until)
        if pattern not in days_of:
            days_of[pattern] = _days_of(rule, first, last)
        for day in days_of[pattern]:
            opened[rule.doctor_id].append((instant(day, rule.start_time), instant(day, rule.end_time)))
    for ex in exceptions:
        days = list(_dates(max(ex.start_date, first), min(ex.end_date, last)))
        if ex.kind == EXTRA and ex.doctor_id is not None and ex.start_time and ex.end_time:
            if ex.visit_type_id not in (None, visit_type_id):
                continue
            for day in days:
                opened[ex.doctor_id].append((local_instant(day, hhmm(ex.start_time), zone),
                                             local_instant(day, hhmm(ex.end_time), zone)))
        elif ex.kind == CLOSED:
            target = closed_clinic if ex.doctor_id is None else closed[ex.doctor_id]
            for day in days:
                whole = day_bounds(day, zone)
                target.append((local_instant(day, hhmm(ex.start_time), zone) if ex.start_time else whole[0],
                               local_instant(day, hhmm(ex.end_time), zone) if ex.end_time else whole[1]))
    out: dict[uuid.UUID, list[Interval]] = {}
    for doctor, spans in opened.items():
        cuts = sorted(closed_clinic + closed.get(doctor, []))
        kept: list[Interval] = []
        for span in sorted(spans):
            kept.extend(_subtract(span, cuts))
        out[doctor] = kept
    return out


def _subtract(span: Interval, cuts: list[Interval]) -> list[Interval]:
    pieces = [span]
    for cut in cuts:
        next_pieces = []
        for start, end in pieces:
            if not _overlaps((start, end), cut):
                next_pieces.append((start, end))
                continue
            if start < cut[0]:
                next_pieces.append((start, cut[0]))
            if cut[1] < end:
                next_pieces.append((cut[1], end))
        pieces = next_pieces
    return pieces


class Busy:
    """A doctor's held times, sorted, for quick overlap checks (bisect)."""

    def __init__(self, spans: Iterable[Interval]):
        self.spans = sorted(spans)
        self.starts = [s for s, _e in self.spans]
        self.max_len = max((e - s for s, e in self.spans), default=timedelta(0))

    def overlaps(self, span: Interval) -> bool:
        i = bisect_left(self.starts, span[0] - self.max_len)
        while i < len(self.spans) and self.spans[i][0] < span[1]:
            if _overlaps(self.spans[i], span):
                return True
            i += 1
        return False


def _slot_order(slot: Slot) -> tuple:
    """Slot's own order (start, doctor, end) without comparing UUID objects (``UUID.__lt__`` compares
    their ``int``; ~2,000 dataclass comparisons a search cost more than the rest of cutting)."""
    return slot.start, slot.doctor_id.int, slot.end


def cut_slots(doctor_blocks: dict[uuid.UUID, list[Interval]], busy: dict[uuid.UUID, Busy], visit_type: VisitType,
              earliest: datetime, latest: datetime) -> list[Slot]:
    """The free slots of these blocks starting in [earliest, latest], earliest first (`busy` empty:
    every slot of the grid, booked or not)."""
    length = timedelta(minutes=visit_type.duration_minutes)
    held = length + timedelta(minutes=visit_type.buffer_minutes)
    out = []
    for doctor, spans in doctor_blocks.items():
        doctor_busy = busy.get(doctor)
        for start, end in spans:
            t = start
            while t + length <= end:
                if earliest <= t <= latest and not (doctor_busy and doctor_busy.overlaps((t, t + held))):
                    out.append(Slot(t, doctor, t + length))
                t += held
    out.sort(key=_slot_order)
    return out


# ---------------------------------------------------------------- reading the rows


def local_day(value: datetime, zone: ZoneInfo | None = None) -> date:
    return value.astimezone(zone or clinic_zone()).date()


def load_rules(session: Session, doctor_ids: list[uuid.UUID] | None) -> list[AvailabilityRule]:
    """The rules as rows to edit (the settings screen); computing times reads ``load_calendar``."""
    stmt = select(AvailabilityRule)
    if doctor_ids is not None:
        stmt = stmt.where(col(AvailabilityRule.doctor_id).in_(doctor_ids))
    return list(session.exec(stmt).all())


def load_exceptions(session: Session, doctor_ids: list[uuid.UUID] | None, first: date, last: date
                    ) -> list[AvailabilityException]:
    """The exceptions touching first..last as rows to edit (the settings screen)."""
    stmt = select(AvailabilityException).where(AvailabilityException.start_date <= last,
                                               AvailabilityException.end_date >= first)
    if doctor_ids is not None:
        stmt = stmt.where(or_(col(AvailabilityException.doctor_id).in_(doctor_ids),
                              col(AvailabilityException.doctor_id).is_(None)))
    return list(session.exec(stmt).all())


class RuleRow(NamedTuple):
    """What ``blocks`` reads of an AvailabilityRule: a plain row. Built as ORM objects, the 200 rules
    of a 20-doctor clinic cost a search more CPU than cutting its slots (bench/appointments.py)."""

    doctor_id: uuid.UUID
    weekday: int
    start_time: str
    end_time: str
    visit_type_id: uuid.UUID | None
    valid_from: date
    valid_until: date | None


class ExceptionRow(NamedTuple):
    """What ``blocks`` reads of an AvailabilityException."""

    kind: str
    doctor_id: uuid.UUID | None
    start_date: date
    end_date: date
    start_time: str | None
    end_time: str | None
    visit_type_id: uuid.UUID | None


def load_calendar(session: Session, doctor_ids: list[uuid.UUID] | None, first: date, last: date
                  ) -> tuple[list[RuleRow], list[ExceptionRow]]:
    """The weekly rules in force on some day of first..last and the exceptions touching it, of these
    doctors (None: all; closed days of the whole clinic always), in ONE statement (UNION ALL): each
    round trip to a busy database costs a few milliseconds, more than the rows."""
    r, e = AvailabilityRule, AvailabilityException
    rules = select(literal("rule").label("source"), r.doctor_id, r.weekday, r.start_time, r.end_time, r.visit_type_id,
                   col(r.valid_from).label("first"), col(r.valid_until).label("last"),
                   cast(null(), String).label("kind")).where(
        r.valid_from <= last, or_(col(r.valid_until).is_(None), col(r.valid_until) >= first))
    exceptions = select(literal("exception"), e.doctor_id, cast(null(), Integer), e.start_time, e.end_time,
                        e.visit_type_id, e.start_date, e.end_date, e.kind).where(e.start_date <= last,
                                                                                 e.end_date >= first)
    if doctor_ids is not None:
        rules = rules.where(col(r.doctor_id).in_(doctor_ids))
        exceptions = exceptions.where(or_(col(e.doctor_id).in_(doctor_ids), col(e.doctor_id).is_(None)))
    rule_rows: list[RuleRow] = []
    exception_rows: list[ExceptionRow] = []
    rows = session.execute(union_all(rules, exceptions)).all()
    for source, doctor, weekday, start, end, vt, day_from, day_to, kind in rows:
        if source == "rule":
            rule_rows.append(RuleRow(doctor, weekday, start, end, vt, day_from, day_to))
        else:
            exception_rows.append(ExceptionRow(kind, doctor, day_from, day_to, start, end, vt))
    return rule_rows, exception_rows


def doctor_day(session: Session, visit_type_id: uuid.UUID, doctor_id: uuid.UUID, day: date) -> list[Interval]:
    """One doctor's open blocks for this visit type on one clinic-local day, UTC (one statement)."""
    zone = clinic_zone()
    rules, exceptions = load_calendar(session, [doctor_id], day, day)
    return blocks(rules, exceptions, visit_type_id, day, day, zone).get(doctor_id, [])


#: no appointment holds its doctor longer: the lower bound that keeps "who holds [start, end)" a
#: short range of the (doctor, start) index instead of every earlier appointment of the doctor
LONGEST_HOLD = timedelta(hours=12)


def holds_time(start: datetime, end: datetime) -> Any:
    """SQL condition: an appointment that still occupies its doctor somewhere in [start, end)."""
    return and_(col(Appointment.status).not_in(FREES_SLOT), Appointment.start_at < end,
                Appointment.start_at >= start - LONGEST_HOLD, Appointment.blocked_until > start)


def load_busy(session: Session, doctor_ids: list[uuid.UUID] | None, start: datetime, end: datetime,
              *, ignore: uuid.UUID | None = None) -> dict[uuid.UUID, Busy]:
    """The held times of these doctors overlapping [start, end) (`ignore`: an appointment being moved)."""
    stmt = select(Appointment.doctor_id, Appointment.start_at, Appointment.blocked_until).where(holds_time(start, end))
    if doctor_ids is not None:
        stmt = stmt.where(col(Appointment.doctor_id).in_(doctor_ids))
    if ignore is not None:
        stmt = stmt.where(Appointment.id != ignore)
    spans: dict[uuid.UUID, list[Interval]] = defaultdict(list)
    for doctor, s, e in session.exec(stmt).all():
        spans[doctor].append((utc(s), utc(e)))
    return {doctor: Busy(v) for doctor, v in spans.items()}


def utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def free_slots(session: Session, visit_type: VisitType, doctor_ids: list[uuid.UUID] | None, earliest: datetime,
               latest: datetime, *, limit: int | None = None, ignore: uuid.UUID | None = None,
               chunk_days: int = 7) -> list[Slot]:
    """Free slots of this visit type with these doctors (None: every doctor with availability) from
    `earliest` to `latest`, earliest first; with `limit`, stops reading once that many are found.

    Statements: one for the rules and exceptions of the whole range (``load_calendar``), then one
    per stretch of days whose grid has a slot in the window, for the bookings that hold those
    doctors' time — a day, then 2, 4 … up to `chunk_days` at a time with a limit ("first available"
    is nearly always soon, so it reads one day's bookings). A stretch with no slot of the grid in the
    window (evening, weekend, vacation) reads nothing."""
    zone = clinic_zone()
    first, last = local_day(earliest, zone), local_day(latest, zone)
    rules, exceptions = load_calendar(session, doctor_ids, first, last)
    if not rules and not any(ex.kind == EXTRA for ex in exceptions):
        return []
    out: list[Slot] = []
    day = first
    span = 1
    while day <= last:
        chunk_last = min(last, day + timedelta(days=span - 1)) if limit else last
        span = min(span * 2, chunk_days)
        grid = cut_slots(blocks(rules, exceptions, visit_type.id, day, chunk_last, zone), {}, visit_type,
                         earliest, latest)
        if grid:
            lo, hi = day_bounds(day, zone)[0], day_bounds(chunk_last, zone)[1]
            busy = load_busy(session, list({s.doctor_id for s in grid}), lo, hi, ignore=ignore)
            held = timedelta(minutes=visit_type.duration_minutes + visit_type.buffer_minutes)
            out.extend(s for s in grid if s.doctor_id not in busy or not busy[s.doctor_id].overlaps((s.start,
                                                                                                   s.start + held)))
        if limit and len(out) >= limit:
            return out[:limit]
        day = chunk_last + timedelta(days=1)
    return out[:limit] if limit else out
