"""Times are written plainly, in the clinic's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime

from patient_portal.core.clock import exact_time, plain_day, plain_time
from patient_portal.settings import reset_settings


def test_times_show_in_the_clinic_zone(monkeypatch):
    monkeypatch.setenv("PORTAL_TIMEZONE", "America/New_York")
    reset_settings()
    moment = datetime(2026, 3, 3, 19, 30, tzinfo=UTC)
    assert plain_time(moment, now=datetime(2026, 6, 1, tzinfo=UTC)) == "Tue 3 Mar, 14:30"
    assert plain_time(moment, now=datetime(2027, 6, 1, tzinfo=UTC)) == "Tue 3 Mar 2026, 14:30"
    assert exact_time(moment) == "Tue 3 Mar 2026, 14:30:00"
    assert plain_time(moment.replace(tzinfo=None), now=moment) == "Tue 3 Mar, 14:30"  # naive = UTC


def test_unknown_zone_falls_back_to_utc_and_empty_values_stay_empty(monkeypatch):
    monkeypatch.setenv("PORTAL_TIMEZONE", "Mars/Olympus")
    reset_settings()
    assert plain_time(datetime(2026, 3, 3, 19, 30, tzinfo=UTC), now=datetime(2026, 1, 1, tzinfo=UTC)) == "Tue 3 Mar, 19:30"
    assert plain_time(None) == "" and exact_time(None) == "" and plain_day(None) == ""
    assert plain_day(date(2026, 3, 3)) == "Tue 3 Mar 2026"
