"""Counting the SQL a use case sends (for the statement budgets of lists and headers)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from patient_portal.core import clinic_config
from patient_portal.core.db import get_engine


@contextmanager
def statements() -> Iterator[list[str]]:
    """Every statement sent to the database inside the block, in order. The clinic's settings are
    read first, as a running process has them: their once-a-second freshness check
    (core.clinic_config) is the process's own, not the counted call's, so it is held off meanwhile."""
    seen: list[str] = []
    clinic_config.current()
    recheck, clinic_config.RECHECK_SECONDS = clinic_config.RECHECK_SECONDS, float("inf")

    def count(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)
        clinic_config.RECHECK_SECONDS = recheck
