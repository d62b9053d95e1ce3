"""Small-cell suppression: a count from 1 to 10 about patients is shown as "<11" (and the money or
rate that would give it away as "—"), so a report cannot single a person out. Zero is shown: it
names nobody."""

from __future__ import annotations

SMALL = 10
HIDDEN = "<11"
DASH = "—"


def hidden(n: int) -> bool:
    return 1 <= n <= SMALL


def count_text(n: int, *, suppress: bool = True) -> str:
    return HIDDEN if suppress and hidden(n) else f"{n:,}"


def count_value(n: int, *, suppress: bool = True) -> int | None:
    """For a chart: None (a gap) when suppressed."""
    return None if suppress and hidden(n) else n


def rate_text(part: int, whole: int, *, suppress: bool = True) -> str:
    """part/whole as a percentage; "—" with no whole, or when either count is suppressed."""
    if whole == 0 or (suppress and (hidden(part) or hidden(whole))):
        return DASH
    return f"{100 * part / whole:.1f}%"


def money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}${abs(cents) / 100:,.2f}"


def money_text(cents: int, count: int, *, suppress: bool = True) -> str:
    """An amount made of `count` items: "—" when the count is suppressed."""
    return DASH if suppress and hidden(count) else money(cents)
