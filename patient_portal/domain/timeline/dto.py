"""What an area hands the timeline: one page of its events, newest first (``SourcePage``).

Areas build these in their own ``timeline_items(session, patient_id, …, limit=…)`` (no policy there:
the timeline service authorizes, filters by what the role may see, merges, pages and audits), so this
module imports nothing of theirs and they import only this.

**The paged source contract.** The timeline asks every source for its newest ``limit`` events (page
N of the merged list needs no more than N × 25 of any one source) and the number it has in all. A
source never reads, decrypts or draws a whole history to show one page:

* events whose moment is a plain column (a vitals set's time, a document's upload) are ordered and
  cut in SQL (``ORDER BY <moment> DESC, <id> DESC LIMIT``) and counted with ``COUNT``;
* events whose moment is encrypted (an onset, a visit's time) read their rows' ciphertext in one
  statement, decrypt only the moment of each, and draw — decrypt the title's columns — only the ones
  ``newest`` keeps (``Event``).

Either way the events come in ``order_key`` order, the same one the timeline merges by, so the
merged page is exactly the page of the full sorted list.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
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

    def draw(self) -> TimelineItem:
        return self  # drawn already (an Event draws itself when its page keeps it)


def order_key(event: TimelineItem | Event) -> tuple[datetime, str, str]:
    """The timeline's order, newest first when reversed: the moment, then kind and key for ties. A
    source that orders in SQL orders by its moment and then its row id (descending): a uuid sorts
    the same as its text on PostgreSQL and SQLite."""
    return event.when, event.kind, event.key


@dataclass(frozen=True)
class SourcePage:
    """A source's newest events (at most the `limit` asked, newest first) and how many it has in all.
    An item may be an undrawn ``Event``: the timeline draws only the events its page shows."""

    items: list[TimelineItem | Event]
    total: int


@dataclass(frozen=True)
class Event:
    """An event known by its moment before it is drawn: `words()` decrypts what the item says
    (title, detail) and is called only for the events a page keeps."""

    when: datetime
    kind: str
    key: str
    words: Callable[[], tuple[str, str]]
    link: str = ""
    day_only: bool = False

    def draw(self) -> TimelineItem:
        title, detail = self.words()
        return TimelineItem(self.when, self.kind, title, detail, self.link, self.key, self.day_only)


def newest(events: Sequence[Event], limit: int) -> SourcePage:
    """The `limit` newest of `events`, not drawn yet (page 10 asks each source for 250, shows 25), and
    how many there are."""
    return SourcePage(heapq.nlargest(max(0, limit), events, key=order_key), len(events))


def drawn_page(items: Sequence[TimelineItem], limit: int) -> SourcePage:
    """The `limit` newest of items already drawn: for a source whose events are few in any record
    (an emergency run's), where deferring the decryption is not worth a closure per event."""
    return SourcePage(heapq.nlargest(max(0, limit), items, key=order_key), len(items))


def at_day(day: date) -> datetime:
    """A date-only event's moment: noon UTC of that day, so it sorts within its day in every zone."""
    return datetime.combine(day, time(12), UTC)


def aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
