"""State of /admin/emails: the wording of each notification email (``domain.configuration``, admins
only). The page lists the emails; the chosen one's subject and text are edited as typed, with a
preview filled with examples; the service checks a save and answers field by field. The settings'
version goes back with a save, so one over someone else's is refused."""

from __future__ import annotations

from typing import Any

import reflex as rx

from patient_portal.core import mail_wording
from patient_portal.domain.configuration import service as svc
from patient_portal.domain.configuration.wording import TEMPLATES
from patient_portal.state.calls import attempt


def _row(e: svc.EmailWording) -> dict[str, Any]:
    return {"key": e.key, "label": e.label, "subject": e.subject, "text": e.text, "reworded": e.reworded,
            "fields": [{"name": "{" + n + "}", "example": x, "required": n in e.required} for n, x in e.fields.items()]}


class EmailWordingState(rx.State):
    wording_status: str = "loading"  # loading | ok | denied
    emails: list[dict[str, Any]] = []
    chosen: str = ""
    subject: str = ""
    text: str = ""
    errors: dict[str, str] = {}
    preview_subject: str = ""
    preview_text: str = ""
    version: str = "0"
    error: str = ""

    @rx.var
    def current(self) -> dict[str, Any]:
        return next((e for e in self.emails if e["key"] == self.chosen), {"label": "", "reworded": False, "fields": []})

    @rx.var
    def choices(self) -> list[list[str]]:
        return [[e["key"], e["label"] + (" (reworded)" if e["reworded"] else "")] for e in self.emails]

    def _show(self, view: svc.WordingView, chosen: str = "") -> None:
        self.emails, self.version = [_row(e) for e in view.emails], str(view.version)
        self._open(chosen or (self.emails[0]["key"] if self.emails else ""))
        self.wording_status = "ok"

    def _open(self, key: str) -> None:
        row = next((e for e in self.emails if e["key"] == key), None)
        self.chosen, self.errors, self.error = (key, {}, "") if row else ("", {}, "")
        self.subject, self.text = (row["subject"], row["text"]) if row else ("", "")
        self._preview()

    def _preview(self) -> None:
        template = TEMPLATES.get(self.chosen)
        if template is None:
            self.preview_subject = self.preview_text = ""
            return
        self.preview_subject, self.preview_text = mail_wording.sample(template, self.subject, self.text)

    @rx.event
    async def load(self):
        """on_load of /admin/emails."""
        self.wording_status, self.error, self.errors = "loading", "", {}
        answer = await attempt(self, svc.email_wording)
        if not answer.ok:
            return answer.show_page(self, status_var="wording_status")
        self._show(answer.value)
        return None

    @rx.event
    def choose(self, key: str):
        self._open(str(key)[:80])

    @rx.event
    def set_subject(self, value: str):
        self.subject = str(value)[:mail_wording.SUBJECT_MAX + 50]
        self.errors.pop("subject", None)
        self._preview()

    @rx.event
    def set_text(self, value: str):
        self.text = str(value)[:mail_wording.TEXT_MAX + 500]
        self.errors.pop("text", None)
        self._preview()

    async def _save(self, **how: Any):
        answer = await attempt(self, svc.save_email_wording, key=self.chosen, expected_version=self.version, **how)
        if not answer.ok:
            if answer.signed_out:
                return answer.show(self)
            self.errors = dict(answer.errors)
            self.error = "" if answer.errors else answer.message
            return None
        self._show(answer.value, self.chosen)
        return rx.toast.success("Saved. The next emails of this kind use this wording."
                                if self.current["reworded"] else "Back to the standard wording.")

    @rx.event
    async def save(self):
        return await self._save(subject=self.subject, text=self.text)

    @rx.event
    async def use_standard(self):
        return await self._save(standard=True)
