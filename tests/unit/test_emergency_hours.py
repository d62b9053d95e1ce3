"""A contact's preferred hours as people write them, and the language of their message (issue 15)."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from patient_portal.domain.emergency.notify import language_code, outside_hours, preferred_window


@pytest.mark.parametrize(("said", "window"), [
    ("Evenings", (time(17), time(21))),
    ("in the morning", (time(8), time(12))),
    ("after 6 pm", (time(18), time(22))),
    ("After 18:30", (time(18, 30), time(22))),
    ("before 9am", (time(7), time(9))),
    ("9am-5pm", (time(9), time(17))),
    ("9-5", (time(9), time(17))),
    ("6-9 pm", (time(18), time(21))),
    ("between 8:30 and 17:00", (time(8, 30), time(17))),
    ("Any time", None),
    ("", None),
    ("when the kids are asleep", None),
])
def test_preferred_hours_are_read_as_people_write_them(said, window):
    assert preferred_window(said) == window


def test_outside_the_window_only_when_one_was_given():
    at = datetime(2026, 3, 3, 14, 2, tzinfo=UTC)  # the clinic's zone is UTC in tests
    assert outside_hours("Evenings", at) and not outside_hours("9am-5pm", at)
    assert not outside_hours("Any time", at) and not outside_hours(None, at)
    assert not outside_hours("22:00-06:00", datetime(2026, 3, 3, 23, 0, tzinfo=UTC))  # a window across midnight


@pytest.mark.parametrize(("said", "code"), [("Spanish", "es"), ("español", "es"), ("pt", "pt"), ("French", "fr"),
                                           ("English", "en"), ("Haitian Creole", "en"), ("", "en"), (None, "en")])
def test_the_message_language(said, code):
    assert language_code(said) == code
