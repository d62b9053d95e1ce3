"""Where the demo video visit goes (``domain/video/demo.free_start``): the wanted minute if free, else
the nearest free minute soon after, else a little earlier while half the visit is left, else later."""

from datetime import UTC, datetime, timedelta

from patient_portal.domain.video.demo import free_start

T = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
M = timedelta(minutes=1)


def test_the_wanted_minute_when_the_doctor_is_free():
    assert free_start(T, 20 * M, [(T - 60 * M, T), (T + 20 * M, T + 40 * M)]) == T


def test_a_little_later_then_a_little_earlier_then_after_the_next_booking():
    assert free_start(T, 20 * M, [(T - 30 * M, T + 3 * M)]) == T + 3 * M  # later, within 5 minutes
    assert free_start(T, 20 * M, [(T + 15 * M, T + 60 * M)]) == T - 5 * M  # earlier: ends as the next begins
    assert free_start(T, 20 * M, [(T - 30 * M, T + 30 * M)]) == T + 30 * M  # after it
