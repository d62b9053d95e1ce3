"""State of the video-visits list (``/video``): the signed-in patient's or doctor's own telehealth
appointments still to come or under way, each with a Join button while its call is open.

Only display dicts reach the browser. The call itself (``/video/<id>``) has no Reflex state: its
page script talks to the signalling websocket, which decides on the server who may join.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from patient_portal.core.clock import plain_time
from patient_portal.domain.video import service as svc
from patient_portal.state.calls import attempt, show_read_failure


def _row(v: svc.VideoVisit) -> dict[str, Any]:
    return {"id": str(v.appointment_id), "href": f"/video/{v.appointment_id}", "when": plain_time(v.start),
            "with": v.with_name, "joinable": v.joinable, "opens": f"Opens {plain_time(v.opens_at)}"}


class VideoState(rx.State):
    status: str = "loading"  # loading | ok | denied | missing
    error: str = ""
    visits: list[dict[str, Any]] = []

    def _clear(self) -> None:
        self.visits, self.error = [], ""

    @rx.event
    async def load(self):
        """on_load of /video: the actor's own video visits (the service decides whose)."""
        self._clear()
        self.status = "loading"
        answer = await attempt(self, svc.my_visits)
        if not answer.ok:
            return show_read_failure(self, answer)
        self.visits = [_row(v) for v in answer.value]
        self.status = "ok"
        return None
