"""Domain events inside one unit of work: an area says what has just happened, and the areas that
care act on it in the same transaction, without the first area importing them.

    events.emit(session, events.VISIT_SIGNED, actor=actor, patient_id=pid, author_id=..., visit_at=..., note_id=...)

    @events.listener(events.VISIT_SIGNED)          # in a module named in LISTENER_MODULES
    def fulfil(session, *, actor, patient_id, author_id, visit_at, note_id) -> None: ...

The dependency points from the listening area to core, never from the emitting area to the listener
(visits does not know appointments exist). Listeners run after the emitter's own change and before
its commit: what they write commits or rolls back with it, and if one raises, the use case fails
(so a listener must only raise when the whole change should not happen). The emitter has already
authorized the use case; a listener acts within it (and audits what it changes itself).

``LISTENER_MODULES`` is loaded on the first emit in a process, so every process (app, worker, CLI)
has every listener; tests/unit/test_registries.py checks that every module declaring a listener is
named there.
"""

from __future__ import annotations

import importlib
from collections import defaultdict
from collections.abc import Callable
from typing import Any

#: A visit note was signed: facts actor, patient_id, author_id, visit_at (aware UTC datetime), note_id.
VISIT_SIGNED = "visit.signed"

#: Modules that declare listeners (imported before the first emit).
LISTENER_MODULES = ("patient_portal.domain.appointments.hooks",)

_LISTENERS: dict[str, list[Callable[..., None]]] = defaultdict(list)
_loaded = False


def listener(name: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Register ``fn(session, **facts)`` to run when `name` is emitted."""

    def register(fn: Callable[..., None]) -> Callable[..., None]:
        if fn not in _LISTENERS[name]:
            _LISTENERS[name].append(fn)
        return fn

    return register


def load_listeners() -> None:
    global _loaded
    if not _loaded:
        for module in LISTENER_MODULES:
            importlib.import_module(module)
        _loaded = True


def emit(session: Any, name: str, **facts: Any) -> None:
    """Run every listener of `name` in the caller's unit of work, in the order they registered."""
    load_listeners()
    for fn in list(_LISTENERS.get(name, ())):
        fn(session, **facts)
