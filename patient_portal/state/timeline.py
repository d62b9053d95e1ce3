"""State of a chart's Timeline page (/chart/<id>/timeline): the events from
``domain.timeline.service`` (header and first page in one unit, one audit event), filtered by kind
and paged on the server. The kinds and page are requests the service checks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import reflex as rx

from patient_portal.core.clock import clinic_zone, plain_day
from patient_portal.domain.sensitive.dto import withheld_text
from patient_portal.domain.timeline import service as timeline
from patient_portal.state.calls import Answer, attempt
from patient_portal.state.chart_header import ChartRoute, show_header, show_read_failure_with_header
from patient_portal.state.paging import PagedMixin


def _when(item: Any) -> str:
    if item.day_only:
        return plain_day(item.when.date())
    local: datetime = item.when.astimezone(clinic_zone())
    return f"{plain_day(local.date())}, {local:%H:%M}"


def _item(item: Any) -> dict[str, str]:
    return {"when": _when(item), "kind": item.kind, "kind_label": timeline.LABELS.get(item.kind, item.kind),
            "title": item.title, "detail": item.detail, "link": item.link, "key": f"{item.kind}:{item.key}"}


class TimelineState(ChartRoute, PagedMixin, rx.State):
    status: str = "loading"  # loading | ok | denied | missing
    items: list[dict[str, str]] = []
    total: int = 0
    pages: int = 1
    kind: str = ""  # "" every kind, else one kind
    choices: list[list[str]] = []  # [value, label] of the kinds this role sees
    withheld: str = ""  # records marked sensitive left out, in words
    error: str = ""

    def _clear(self) -> None:
        self.items, self.total, self.pages, self.page, self.error, self.withheld = [], 0, 1, 1, "", ""

    def _show(self, found: timeline.TimelinePage) -> None:
        self.items = [_item(i) for i in found.items]
        self.total, self.pages, self.page = found.total, found.pages, found.page
        self.withheld = withheld_text(found.withheld)
        self.choices = [["", "Everything"]] + [[k, timeline.LABELS[k]] for k in found.available]
        self.status = "ok"

    def _failed(self, answer: Answer) -> Any:
        self._clear()
        if answer.signed_out:
            self.status = "loading"
            return answer.show(self)
        if answer.invalid:
            self.error = answer.message
            return None
        self.status = "denied" if answer.denied else "missing"
        return None

    @rx.event
    async def load(self):
        """on_load of /chart/<id>/timeline: the header and the first page, every kind."""
        self._clear()
        self.status, self.kind = "loading", ""
        self._read_route()
        answer = await attempt(self, timeline.open_timeline, self.patient_ref)
        if not answer.ok:
            return await show_read_failure_with_header(self, answer)
        header, found = answer.value
        self._show(found)
        await show_header(self, header, patient_ref=self.patient_ref)
        return None

    @rx.event
    async def set_kind(self, kind: str):
        """Show one kind ("" or "all": every kind); back to page 1."""
        wanted = str(kind)[:20]
        self.kind = "" if wanted in ("", "all") else wanted
        self.page = 1
        return await self._load_page()

    async def _load_page(self):
        answer = await attempt(self, timeline.timeline, patient_id=self.patient_ref,
                               kinds=[self.kind] if self.kind else None, page=self.page)
        if not answer.ok:
            return self._failed(answer)
        self.error = ""
        self._show(answer.value)
        return None
