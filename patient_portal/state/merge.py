"""State of /admin/merge: an admin picks the record to keep and its duplicate (patient search),
sees both side by side, merges, and can undo a merge (``domain.patients.merge``, admins only).

The chosen ids are requests from the browser (query params ``?keep=&duplicate=`` too): every
preview, merge and unmerge asks the service, which checks the role and both records again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import reflex as rx

from patient_portal.core.clock import plain_time
from patient_portal.domain.patients import service as patients
from patient_portal.state.calls import attempt


def _side(side: dict[str, Any]) -> tuple[dict[str, str], list[dict[str, str]]]:
    facts = {k: str(side.get(k, "")) for k in ("id", "name", "mrn", "dob_display", "age", "total")}
    return facts, [{"what": str(c["what"]), "count": str(c["count"])} for c in side.get("counts", [])]


def _row(p: dict[str, Any]) -> dict[str, str]:
    return {k: str(p.get(k, "")) for k in ("id", "name", "mrn", "dob_display", "age")}


class MergeState(rx.State):
    merge_status: str = "loading"  # loading | ok | denied
    query: str = ""
    dob: str = ""
    results: list[dict[str, str]] = []
    search_message: str = ""
    keep_id: str = ""
    duplicate_id: str = ""
    keep: dict[str, str] = {}
    keep_counts: list[dict[str, str]] = []
    duplicate: dict[str, str] = {}
    duplicate_counts: list[dict[str, str]] = []
    done_id: str = ""  # the merge just made, for "Undo merge"
    done_text: str = ""
    merges: list[dict[str, str]] = []
    error: str = ""

    def _clear_pair(self) -> None:
        self.keep, self.keep_counts, self.duplicate, self.duplicate_counts = {}, [], {}, []

    async def _history(self) -> Any:
        answer = await attempt(self, patients.list_merges)
        if not answer.ok:
            if answer.signed_out:
                return answer.show(self)
            self.merge_status, self.error = ("denied" if answer.denied else "ok"), answer.message
            return None
        self.merges = [{**{k: str(v) for k, v in m.items()}, "when": plain_time(datetime.fromisoformat(m["merged_at"]))}
                       for m in answer.value]
        self.merge_status = "ok"
        return None

    async def _preview(self) -> Any:
        self._clear_pair()
        if not (self.keep_id and self.duplicate_id):
            return None
        answer = await attempt(self, patients.preview_merge, keep=self.keep_id, duplicate=self.duplicate_id)
        if not answer.ok:
            return answer.show(self)
        self.error = ""
        self.keep, self.keep_counts = _side(answer.value["keep"])
        self.duplicate, self.duplicate_counts = _side(answer.value["duplicate"])
        return None

    @rx.event
    async def load(self):
        """on_load of /admin/merge (``?keep=<id>&duplicate=<id>`` preselects a pair)."""
        params = self.router.url.query_parameters if self.router.url else {}
        self.merge_status, self.error, self.done_id, self.done_text = "loading", "", "", ""
        self.results, self.search_message, self.query, self.dob = [], "", "", ""
        self.keep_id = str(params.get("keep", ""))[:64]
        self.duplicate_id = str(params.get("duplicate", ""))[:64]
        self._clear_pair()
        out = await self._history()
        if out is not None or self.merge_status != "ok":
            return out
        return await self._preview()

    @rx.event
    def set_query(self, value: str):
        self.query = str(value)[:100]

    @rx.event
    def set_dob(self, value: str):
        self.dob = str(value)[:10]

    @rx.event
    async def search(self):
        answer = await attempt(self, patients.search_patients, self.query, dob=self.dob)
        if not answer.ok:
            return answer.show(self)
        self.results = [_row(p) for p in answer.value["rows"]]
        self.search_message = answer.value["message"]
        return None

    @rx.event
    async def choose(self, role: str, patient_id: str):
        """Make a search result the record to keep (role "keep") or the duplicate."""
        if role == "keep":
            self.keep_id = str(patient_id)[:64]
        elif role == "duplicate":
            self.duplicate_id = str(patient_id)[:64]
        self.done_id, self.done_text = "", ""
        return await self._preview()

    @rx.event
    async def swap(self):
        self.keep_id, self.duplicate_id = self.duplicate_id, self.keep_id
        return await self._preview()

    @rx.event
    async def merge(self):
        answer = await attempt(self, patients.merge_patients, keep=self.keep_id, duplicate=self.duplicate_id)
        if not answer.ok:
            return answer.show(self)
        done = answer.value
        self.done_id = done["merge_id"]
        self.done_text = (f"{self.duplicate.get('name', 'The duplicate')} was merged into "
                          f"{self.keep.get('name', 'the record kept')}: {done['moved']} entries moved.")
        self.duplicate_id, self.results, self.error = "", [], ""
        self._clear_pair()
        await self._history()
        return rx.toast.success("Records merged")

    @rx.event
    async def unmerge(self, merge_id: str):
        answer = await attempt(self, patients.unmerge, str(merge_id)[:64])
        if not answer.ok:
            return answer.show(self)
        self.done_id, self.done_text, self.error = "", "", ""
        self._clear_pair()
        await self._history()
        return rx.toast.success("Merge undone: both records are back as they were")
