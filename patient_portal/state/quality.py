"""State of /admin/data-quality: likely duplicate patients (each pair links to the merge page) and
records missing what the clinic needs (``domain.patients.quality``, admins only, audited)."""

from __future__ import annotations

import reflex as rx

from patient_portal.domain.patients import quality
from patient_portal.state.calls import attempt


def _person(p: quality.Person) -> dict[str, str]:
    return {"id": p.id, "name": p.name, "mrn": p.mrn, "born": p.born, "chart": f"/chart/{p.id}"}


class DataQualityState(rx.State):
    quality_status: str = "loading"  # loading | ok | denied
    duplicates: list[dict[str, str]] = []
    gaps: list[dict[str, str]] = []
    gap_people: dict[str, list[dict[str, str]]] = {}
    error: str = ""

    @rx.event
    async def load(self):
        """on_load of /admin/data-quality."""
        self.quality_status, self.error = "loading", ""
        answer = await attempt(self, quality.report)
        if not answer.ok:
            self.duplicates, self.gaps, self.gap_people = [], [], {}
            return answer.show_page(self, status_var="quality_status")
        r: quality.QualityReport = answer.value
        self.duplicates = [{
            "keep": d.keep.name, "keep_mrn": d.keep.mrn, "keep_born": d.keep.born, "keep_chart": f"/chart/{d.keep.id}",
            "duplicate": d.duplicate.name, "duplicate_mrn": d.duplicate.mrn, "duplicate_born": d.duplicate.born,
            "duplicate_chart": f"/chart/{d.duplicate.id}", "reason": d.reason,
            "merge": f"/admin/merge?keep={d.keep.id}&duplicate={d.duplicate.id}"} for d in r.duplicates]
        self.gaps = [{"key": g.key, "label": g.label, "count": str(g.count)} for g in r.gaps]
        self.gap_people = {g.key: [_person(p) for p in g.people] for g in r.gaps}
        self.quality_status = "ok"
        return None
