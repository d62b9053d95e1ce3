"""Availability across daylight-saving changes (issue 13): a weekly 09:00 block stays 09:00 on the
clinic's wall clock on both sides of the change (its UTC hour moves), and a block that spans the
change has the real number of minutes in it."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from patient_portal.domain.appointments.availability import Busy, blocks, cut_slots
from patient_portal.domain.appointments.models import AvailabilityException, AvailabilityRule, VisitType

NY = ZoneInfo("America/New_York")
DOCTOR = uuid.uuid4()
FOLLOW_UP = VisitType(id=uuid.uuid4(), code="follow_up", name="Follow-up", duration_minutes=20, buffer_minutes=0)


def rule(weekday: int, start: str, end: str) -> AvailabilityRule:
    return AvailabilityRule(doctor_id=DOCTOR, weekday=weekday, start_time=start, end_time=end,
                            valid_from=date(2026, 1, 1))


def utc(y, m, d, h, mi=0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=UTC)


def test_a_monday_morning_stays_at_nine_across_the_spring_change():
    # 2026: clocks go forward on Sunday 8 March in New York (EST -5 -> EDT -4)
    got = blocks([rule(0, "09:00", "10:00")], [], FOLLOW_UP.id, date(2026, 3, 2), date(2026, 3, 9), NY)[DOCTOR]
    assert got == [(utc(2026, 3, 2, 14), utc(2026, 3, 2, 15)), (utc(2026, 3, 9, 13), utc(2026, 3, 9, 14))]
    assert [b[0].astimezone(NY).strftime("%H:%M") for b in got] == ["09:00", "09:00"]


def test_and_across_the_autumn_change():
    # clocks go back on Sunday 1 November 2026
    got = blocks([rule(0, "09:00", "10:00")], [], FOLLOW_UP.id, date(2026, 10, 26), date(2026, 11, 2), NY)[DOCTOR]
    assert [b[0] for b in got] == [utc(2026, 10, 26, 13), utc(2026, 11, 2, 14)]


def test_a_block_over_the_change_night_has_its_real_length():
    sunday = 6
    spring = blocks([rule(sunday, "01:00", "04:00")], [], FOLLOW_UP.id, date(2026, 3, 8), date(2026, 3, 8), NY)
    fall = blocks([rule(sunday, "01:00", "04:00")], [], FOLLOW_UP.id, date(2026, 11, 1), date(2026, 11, 1), NY)
    far = utc(2030, 1, 1, 0)
    assert len(cut_slots(spring, {}, FOLLOW_UP, utc(2026, 1, 1, 0), far)) == 6  # two real hours
    assert len(cut_slots(fall, {}, FOLLOW_UP, utc(2026, 1, 1, 0), far)) == 12  # four real hours


def test_a_closed_day_and_booked_time_are_taken_out():
    vacation = AvailabilityException(kind="closed", doctor_id=DOCTOR, start_date=date(2026, 3, 10),
                                     end_date=date(2026, 3, 10))
    week = blocks([rule(d, "09:00", "10:00") for d in range(5)], [vacation], FOLLOW_UP.id, date(2026, 3, 9),
                  date(2026, 3, 13), NY)
    assert [b[0].astimezone(NY).day for b in week[DOCTOR]] == [9, 11, 12, 13]
    busy = {DOCTOR: Busy([(utc(2026, 3, 9, 13, 20), utc(2026, 3, 9, 13, 45))])}  # 09:20-09:45 held (buffer)
    monday = cut_slots({DOCTOR: week[DOCTOR][:1]}, busy, FOLLOW_UP, utc(2026, 1, 1, 0), utc(2030, 1, 1, 0))
    assert [s.start.astimezone(NY).strftime("%H:%M") for s in monday] == ["09:00"]
