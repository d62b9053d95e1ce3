"""State of training: the admin's page (/admin/training: publish, retire, who has not acknowledged)
and everyone's acknowledgement page (/account/training), where the page guard sends an account
with documents its role must acknowledge. Services decide who may; ids sent are requests."""

from __future__ import annotations

import reflex as rx

from patient_portal.domain.training import service as training
from patient_portal.domain.training.service import DocumentView, Outstanding
from patient_portal.state.calls import attempt
from patient_portal.state.session import HOMES


class AdminTrainingState(rx.State):
    documents: list[DocumentView] = []
    report_for: str = ""
    report_title: str = ""
    outstanding: list[Outstanding] = []
    form_errors: dict[str, str] = {}
    error: str = ""
    message: str = ""

    def _clear(self) -> None:
        self.documents, self.outstanding, self.report_for, self.report_title = [], [], "", ""

    async def _reload(self, success: str = ""):
        answer = await attempt(self, training.list_documents)
        if not answer.ok:
            self._clear()
            return answer.show(self)
        self.documents, self.error, self.message = answer.value, "", success
        return None

    @rx.event
    async def load(self):
        self._clear()
        self.form_errors = {}
        return await self._reload()

    @rx.event
    async def publish(self, form_data: dict):
        data = form_data or {}
        roles = [r for r in ("admin", "doctor", "staff", "patient") if data.get(f"role_{r}") in ("on", "true", True)]
        answer = await attempt(self, training.publish, title=str(data.get("title", ""))[:300],
                               body=str(data.get("body", ""))[:60_000], roles=roles)
        if not answer.ok:
            if answer.invalid:
                self.form_errors = dict(answer.errors)
                return None
            self._clear()
            return answer.show(self)
        self.form_errors = {}
        return await self._reload(f"Published “{answer.value.title}”: asked at each one's next sign-in.")

    @rx.event
    async def retire(self, document_id: str):
        answer = await attempt(self, training.retire, document_id=str(document_id)[:64])
        if not answer.ok:
            return answer.show(self)
        return await self._reload("Retired: nobody is asked for it any more.")

    @rx.event
    async def report(self, document_id: str):
        answer = await attempt(self, training.outstanding, document_id=str(document_id)[:64])
        if not answer.ok:
            return answer.show(self)
        self.report_for = str(document_id)
        self.report_title = next((d.title for d in self.documents if d.id == self.report_for), "")
        self.outstanding = answer.value
        return None


class TrainingState(rx.State):
    """The documents the signed-in account must acknowledge, one at a time in order."""

    documents: list[DocumentView] = []
    loaded: bool = False
    error: str = ""

    @rx.event
    async def load(self):
        self.loaded, self.error = False, ""
        answer = await attempt(self, training.pending)
        if not answer.ok:
            self.documents = []
            return answer.show(self)
        self.documents, self.loaded = answer.value, True
        return None

    @rx.event
    async def acknowledge(self, document_id: str):
        answer = await attempt(self, training.acknowledge, document_id=str(document_id)[:64])
        if not answer.ok:
            return answer.show(self)
        left = await attempt(self, training.pending)
        if not left.ok:
            return left.show(self)
        self.documents = left.value
        if not self.documents:
            return rx.redirect(HOMES.get(answer.actor.role.value, "/"), replace=True)
        return None
