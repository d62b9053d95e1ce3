"""The state side of ``components.code_picker``: one search-as-you-type list over the code tables,
shared by every form that has a picker (the chart's history forms, the prescription form's drug,
the results form's laboratory test).

``CodePickerMixin`` holds the list (``pick_results``), the highlighted option (``pick_active``) and
the line under the field (``pick_note``), and answers the keyboard and a click: the arrow keys move
the highlight, Enter takes it, Escape closes the list; a click or tap takes an option. What taking
an option does is the state's own ``_picked(found)``. ``_lookup`` runs the state's search (through
``state.calls.attempt``: actor on the server, the code service decides) once at least
``MIN_QUERY`` characters are typed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx

from patient_portal.state.calls import attempt

MIN_QUERY = 2  # characters typed before the picker searches
MAX_QUERY = 100


class CodePickerMixin(rx.State, mixin=True):
    """Adds the picker's vars and its ``pick_key`` / ``pick`` events; the state provides ``_picked``."""

    pick_results: list[dict[str, str]] = []
    pick_active: int = -1
    pick_note: str = ""

    def _picked(self, found: dict[str, str]) -> None:
        raise NotImplementedError

    def _close_picker(self) -> None:
        self.pick_results, self.pick_active, self.pick_note = [], -1, ""

    async def _lookup(self, text: str, search: Callable[..., list[dict[str, str]]], *before: Any,
                      nothing: str) -> Any:
        """List what ``search(session, actor, *before, typed)`` finds for the typed text, the first
        option highlighted; `nothing` is the note when it finds none. Too short: the list closes."""
        typed = str(text).strip()[:MAX_QUERY]
        if len(typed) < MIN_QUERY:
            self._close_picker()
            return None
        answer = await attempt(self, search, *before, typed)
        if not answer.ok:
            self._close_picker()
            return answer.show(self, message_var="pick_note") if answer.signed_out else None
        self.pick_results, self.pick_active = answer.value, (0 if answer.value else -1)
        self.pick_note = "" if answer.value else nothing
        return None

    @rx.event
    def pick_key(self, key: str):
        """Arrow keys move through the list, Enter takes the highlighted entry, Escape closes it."""
        count = len(self.pick_results)
        if key == "Escape":
            self._close_picker()
        elif count and key == "ArrowDown":
            self.pick_active = (self.pick_active + 1) % count
        elif count and key == "ArrowUp":
            self.pick_active = (self.pick_active - 1) % count
        elif count and key == "Enter" and 0 <= self.pick_active < count:
            self._picked(self.pick_results[self.pick_active])

    @rx.event
    def pick(self, index: int):
        """A click (or tap) on an entry of the list."""
        i = int(index) if str(index).lstrip("-").isdigit() else -1
        if 0 <= i < len(self.pick_results):
            self._picked(self.pick_results[i])
