"""Counting the SQL a use case sends (for the statement budgets of lists and headers)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from patient_portal.core.db import get_engine


@contextmanager
def statements() -> Iterator[list[str]]:
    """Every statement sent to the database inside the block, in order."""
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)
