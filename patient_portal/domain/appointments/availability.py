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
Cost: one statement each for rules, exceptions and appointments of the range; the rest is Python
over at most a few thousand slots (bench/appointments.py).
"""

from __future__ import annotations

import uuid
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import WEEKLY, rrule
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


def cut_slots(doctor_blocks: dict[uuid.UUID, list[Interval]], busy: dict[uuid.UUID, Busy], visit_type: VisitType,
              earliest: datetime, latest: datetime) -> list[Slot]:
    """The free slots of these blocks starting in [earliest, latest], earliest first."""
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
    out.sort()
    return out


# ---------------------------------------------------------------- reading the rows


def local_day(value: datetime, zone: ZoneInfo | None = None) -> date:
    return value.astimezone(zone or clinic_zone()).date()


def load_rules(session: Session, doctor_ids: list[uuid.UUID] | None) -> list[AvailabilityRule]:
    stmt = select(AvailabilityRule)
    if doctor_ids is not None:
        stmt = stmt.where(col(AvailabilityRule.doctor_id).in_(doctor_ids))
    return list(session.exec(stmt).all())


def load_exceptions(session: Session, doctor_ids: list[uuid.UUID] | None, first: date, last: date
                    ) -> list[AvailabilityException]:
    stmt = select(AvailabilityException).where(AvailabilityException.start_date <= last,
                                               AvailabilityException.end_date >= first)
    if doctor_ids is not None:
        stmt = stmt.where(or_(col(AvailabilityException.doctor_id).in_(doctor_ids),
                              col(AvailabilityException.doctor_id).is_(None)))
    return list(session.exec(stmt).all())


def load_busy(session: Session, doctor_ids: list[uuid.UUID] | None, start: datetime, end: datetime,
              *, ignore: uuid.UUID | None = None) -> dict[uuid.UUID, Busy]:
    """The held times of these doctors overlapping [start, end) (`ignore`: an appointment being moved)."""
    stmt = select(Appointment.doctor_id, Appointment.start_at, Appointment.blocked_until).where(
        col(Appointment.status).not_in(FREES_SLOT), Appointment.start_at < end,
        Appointment.start_at >= start - timedelta(hours=12), Appointment.blocked_until > start)
    if doctor_ids is not None:
        stmt = stmt.where(col(Appointment.doctor_id).in_(doctor_ids))
    if ignore is not None:
        stmt = stmt.where(Appointment.id != ignore)
    spans: dict[uuid.UUID, list[Interval]] = defaultdict(list)
    for doctor, s, e in session.exec(stmt).all():
        spans[doctor].append((_utc(s), _utc(e)))
    return {doctor: Busy(v) for doctor, v in spans.items()}


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def free_slots(session: Session, visit_type: VisitType, doctor_ids: list[uuid.UUID] | None, earliest: datetime,
               latest: datetime, *, limit: int | None = None, ignore: uuid.UUID | None = None,
               chunk_days: int = 7) -> list[Slot]:
    """Free slots of this visit type with these doctors (None: every doctor with availability) from
    `earliest` to `latest`, earliest first; with `limit`, stops reading once that many are found
    (week by week: "first available" rarely reads more than a week)."""
    zone = clinic_zone()
    rules = load_rules(session, doctor_ids)
    if not rules and doctor_ids is not None and not _has_extras(session, doctor_ids):
        return []
    first, last = local_day(earliest, zone), local_day(latest, zone)
    out: list[Slot] = []
    day = first
    span = 1  # first available is nearly always soon: read a day, then 2, 4 ... up to chunk_days at a time
    while day <= last:
        chunk_last = min(last, day + timedelta(days=span - 1)) if limit else last
        span = min(span * 2, chunk_days)
        lo, hi = day_bounds(day, zone)[0], day_bounds(chunk_last, zone)[1]
        exceptions = load_exceptions(session, doctor_ids, day, chunk_last)
        spans = blocks(rules, exceptions, visit_type.id, day, chunk_last, zone)
        if spans:
            busy = load_busy(session, list(spans), lo, hi, ignore=ignore)
            out.extend(cut_slots(spans, busy, visit_type, earliest, latest))
        if limit and len(out) >= limit:
            return out[:limit]
        day = chunk_last + timedelta(days=1)
    return out[:limit] if limit else out


def _has_extras(session: Session, doctor_ids: list[uuid.UUID]) -> bool:
    return session.exec(select(AvailabilityException.id).where(
        AvailabilityException.kind == EXTRA, col(AvailabilityException.doctor_id).in_(doctor_ids)).limit(1)
    ).first() is not None


def within_blocks(session: Session, visit_type: VisitType, doctor_id: uuid.UUID, start: datetime) -> bool:
    """Is `start` .. start + duration inside one of the doctor's blocks for this type (booked or not)?"""
    zone = clinic_zone()
    day = local_day(start, zone)
    spans = blocks(load_rules(session, [doctor_id]), load_exceptions(session, [doctor_id], day, day),
                   visit_type.id, day, day, zone).get(doctor_id, [])
    end = start + timedelta(minutes=visit_type.duration_minutes)
    return any(s <= start and end <= e for s, e in spans)
