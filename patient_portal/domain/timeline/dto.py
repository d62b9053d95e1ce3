"""What an area hands the timeline: one ``TimelineItem`` per clinical event.

Areas build these in their own ``timeline_items(session, patient_id)`` (no policy there: the
timeline service authorizes, filters by what the role may see, pages and audits), so this module
imports nothing of theirs and they import only this.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

#: The kinds of event, in the order the filter offers them.
KINDS: tuple[str, ...] = ("conditions", "allergies", "medications", "immunizations", "visits", "vitals",
                          "results", "careplans", "emergencies", "documents")


@dataclass(frozen=True)
class TimelineItem:
    """`when` is aware (UTC); `day_only` when the event has a date and no time (an onset, a vaccine
    given on a day); `title` and `detail` are short and written for clinicians; `link` opens the
    event's page in the chart; `key` tells two events at the same moment apart (a row id)."""

    when: datetime
    kind: str
    title: str
    detail: str = ""
    link: str = ""
    key: str = ""
    day_only: bool = False


def at_day(day: date) -> datetime:
    """A date-only event's moment: noon UTC of that day, so it sorts within its day in every zone."""
    return datetime.combine(day, time(12), UTC)


def aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
