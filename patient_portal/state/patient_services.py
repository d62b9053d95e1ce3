"""Running patient services from state handlers: one unit of work, off the event loop."""

from __future__ import annotations

from typing import Any

from patient_portal.core.db import off_loop, unit_of_work


def _in_transaction(fn, args: tuple, kwargs: dict) -> Any:
    with unit_of_work() as session:
        return fn(session, *args, **kwargs)


async def run(fn, *args: Any, **kwargs: Any) -> Any:
    """``fn(session, *args, **kwargs)`` in its own transaction on the DB thread pool."""
    return await off_loop(_in_transaction, fn, args, kwargs)


def first_error_message(errors: dict[str, str]) -> str:
    return "Some fields need attention — see the messages next to them." if errors else ""
