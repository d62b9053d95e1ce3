"""Event-handler latency for /metrics: a Reflex middleware timing each event from before its
handler runs (after the session check) to its final state update, labelled ``State.handler``.

Reflex calls ``preprocess`` once per event and ``postprocess`` once per update the handler yields;
the last one is marked ``final``. A start whose event never reaches a final update (refused by a
later middleware) is dropped once the table grows past MAX_OPEN.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from reflex.middleware import Middleware
from reflex.state import BaseState, StateUpdate
from reflex_base.event import Event

from patient_portal.core import metrics

if TYPE_CHECKING:
    from reflex.app import App

MAX_OPEN = 10_000


def handler_label(event: Event) -> str:
    """``State.handler`` from the event's full name (``state.sub_state.handler``): no ids, no values."""
    parts = event.name.split(".")
    return ".".join(parts[-2:])[:120]


class EventTiming(Middleware):
    """Observe each event's handling time (see the module doc)."""

    def __init__(self) -> None:
        self._started: dict[int, float] = {}

    async def preprocess(self, app: App, state: BaseState, event: Event) -> StateUpdate | None:
        if len(self._started) > MAX_OPEN:
            self._started.clear()
        self._started[id(event)] = time.perf_counter()
        return None

    async def postprocess(self, app: App, state: BaseState, event: Event, update: StateUpdate) -> StateUpdate:
        if getattr(update, "final", True) is not False:
            started = self._started.pop(id(event), None)
            if started is not None:
                metrics.observe_event(handler_label(event), time.perf_counter() - started)
        return update
