"""State of the secure-message screens: the lists (``MessagesState``: the patient's own threads and
the new-message form, a doctor's inbox and delegate, the front desk's triage pool) and one thread
(``ThreadState``: its messages with read receipts, the reply form, attachments, routing).

Only display dicts built from the messages service's DTOs reach the browser; every handler that reads
or writes calls the service through ``state.calls.attempt`` (actor resolved on the server, the policy
decides). Ids sent back by buttons and the recipient chosen are requests the service checks again.
Files go from the browser straight to ``POST /api/messages/<id>/attachments`` (the documents upload
script) once the message is saved; then the page shows the thread.
"""

from __future__ import annotations

import json
import re
from typing import Any

import reflex as rx

from patient_portal.core.access import Role
from patient_portal.core.clock import plain_time
from patient_portal.core.db import utcnow
from patient_portal.domain.documents import service as documents
from patient_portal.domain.documents.blobs import format_size, max_upload_bytes
from patient_portal.domain.messages import service as svc
from patient_portal.domain.messages.dto import ThreadPage, ThreadRow, ThreadView
from patient_portal.state.calls import Answer, attempt, show_read_failure
from patient_portal.state.session import signed_out

FILES_INPUT, FILES_LIST, FILES_DONE = "msg-files", "msg-upload-progress", "msg-upload-done"
EMPTY_FORM = {"to": "", "subject": "", "body": ""}
POOL_VIEWS = [["pool", "Front desk and billing"], ["front_desk", "Front desk"], ["billing", "Billing"],
              ["overdue", "Overdue (everyone)"]]
NO_DELEGATE = "none"
_THREAD_PATH = re.compile(r"^/messages/([0-9a-fA-F-]{36})/?$")


def _hours_text(hours: int) -> str:
    return f"{hours // 24} days" if hours % 24 == 0 and hours >= 48 else f"{hours} hours"


def _row(r: ThreadRow) -> dict[str, Any]:
    return {"id": str(r.id), "href": f"/messages/{r.id}", "subject": r.subject, "patient": r.patient_name,
            "mrn": r.mrn, "with": r.with_label, "last": plain_time(r.last_message_at),
            "waiting": f"Waiting since {plain_time(r.waiting_since)}" if r.waiting_since else "",
            "overdue": r.overdue, "unread": r.unread,
            "unread_text": f"{r.unread} new" if r.unread else ""}


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _upload_script(message_id: str) -> str:
    """Send the chosen files to the message (the documents upload script), or say there were none."""
    opts = {"endpoint": f"/api/messages/{message_id}/attachments", "meta": {}, "inputId": FILES_INPUT,
            "listId": FILES_LIST, "doneId": FILES_DONE, "maxBytes": max_upload_bytes(),
            "maxText": format_size(max_upload_bytes()), "numberTitles": False}
    return (f"(function(){{var i=document.getElementById({json.dumps(FILES_INPUT)});"
            f"if(i&&i.files&&i.files.length&&window.portalDocs){{window.portalDocs.upload({json.dumps(opts)});}}"
            f"else{{var d=document.getElementById({json.dumps(FILES_DONE)});if(d)d.click();}}}})()")


class _Attaching(rx.State, mixin=True):
    """After a message is saved: its files go up, then the thread is shown."""

    uploading: bool = False
    _sent_thread: str = ""
    _sent_message: str = ""

    def _attach_then_show(self, thread_id: str, message_id: str) -> Any:
        self._sent_thread, self._sent_message, self.uploading = thread_id, message_id, True
        return rx.call_script(_upload_script(message_id))

    @rx.event
    def upload_finished(self):
        """The browser finished sending files (or had none): ask it how it went."""
        if not self._sent_thread:
            return None
        return rx.call_script("window.portalDocs ? window.portalDocs.result() : {ok: 0, failed: 0}",
                              callback=type(self).upload_result)

    @rx.event
    async def upload_result(self, result: dict[str, int]):
        failed = _count(result.get("failed")) if isinstance(result, dict) else 0
        thread, self._sent_thread, self.uploading = self._sent_thread, "", False
        if not thread:
            return None
        note = rx.toast.error("Your message was sent, but a file was not attached — see the thread.") if failed \
            else rx.toast.success("Message sent.")
        return [rx.redirect(f"/messages/{thread}"), note]


class MessagesState(_Attaching, rx.State):
    status: str = "loading"  # loading | ok | denied | missing
    view: str = ""  # patient | inbox | pool
    rows: list[dict[str, Any]] = []
    page: int = 1
    pages: int = 1
    total: int = 0
    response_text: str = ""
    pool_view: str = "pool"
    recipients: list[list[str]] = []
    composing: bool = False
    form: dict[str, str] = dict(EMPTY_FORM)
    form_errors: dict[str, str] = {}
    error: str = ""
    delegate: str = NO_DELEGATE
    delegate_name: str = ""
    delegate_choices: list[list[str]] = []
    covering: str = ""

    @rx.var
    def can_write(self) -> bool:
        return len(self.recipients) > 0

    def _clear(self) -> None:
        self.rows, self.recipients, self.page, self.pages, self.total = [], [], 1, 1, 0
        self.delegate, self.delegate_name, self.delegate_choices, self.covering = NO_DELEGATE, "", [], ""
        self.error, self.form_errors, self.composing = "", {}, False

    def _show(self, page: ThreadPage) -> None:
        self.rows = [_row(r) for r in page.rows]
        self.page, self.pages, self.total = page.page, page.pages, page.total
        self.response_text = _hours_text(page.response_hours)

    async def _fetch(self, page: int) -> Answer:
        if self.view == "patient":
            answer = await attempt(self, svc.own_page, page=page)
            if answer.ok:
                found, choices = answer.value
                self._show(found)
                self.recipients = [[c.value, c.label] for c in choices]
            return answer
        if self.view == "inbox":
            answer = await attempt(self, svc.inbox, page=page)
        else:
            answer = await attempt(self, svc.pool, view=self.pool_view, page=page)
        if answer.ok:
            self._show(answer.value)
        return answer

    async def _load(self, view: str):
        self._clear()
        self.status, self.view, self.pool_view, self.form = "loading", view, "pool", dict(EMPTY_FORM)
        answer = await self._fetch(1)
        if not answer.ok:
            return show_read_failure(self, answer)
        if view == "inbox":
            found = await attempt(self, svc.delegation)
            if found.ok:
                self._delegation(found.value)
        self.status = "ok"
        return None

    @rx.event
    async def load_patient(self):
        """on_load of /patient/messages: the patient's own threads and whom they may write to."""
        return await self._load("patient")

    @rx.event
    async def load_inbox(self):
        """on_load of /doctor/messages: the doctor's inbox (and their delegate)."""
        return await self._load("inbox")

    @rx.event
    async def load_pool(self):
        """on_load of /staff/messages: the triage pool."""
        return await self._load("pool")

    async def _go(self, page: int):
        answer = await self._fetch(page)
        if not answer.ok:
            return signed_out() if answer.signed_out else setattr(self, "error", answer.message)
        return None

    @rx.event
    async def next_page(self):
        return await self._go(self.page + 1)

    @rx.event
    async def prev_page(self):
        return await self._go(max(1, self.page - 1))

    @rx.event
    async def set_pool_view(self, value: str):
        self.pool_view = value if isinstance(value, str) and value in {v for v, _ in POOL_VIEWS} else "pool"
        return await self._go(1)

    # ------------------------------------------------------------ writing (the patient)
    @rx.event
    def start_compose(self):
        self.composing, self.form, self.form_errors, self.error = True, dict(EMPTY_FORM), {}, ""
        if len(self.recipients) == 1:
            self.form["to"] = self.recipients[0][0]

    @rx.event
    def cancel_compose(self):
        self.composing, self.form_errors = False, {}

    @rx.event
    def set_field(self, field: str, value: str):
        if isinstance(field, str) and field in EMPTY_FORM:
            self.form[field] = str(value)[:6000]
            self.form_errors.pop(field, None)

    @rx.event
    async def send(self):
        self.error, self.form_errors = "", {}
        answer = await attempt(self, svc.start_thread, to=self.form.get("to", ""), subject=self.form.get("subject", ""),
                               body=self.form.get("body", ""))
        if not answer.ok:
            answer.show(self, errors_var="form_errors")
            return signed_out() if answer.signed_out else None
        # the form stays until its files are sent (the script reads them from it); then the thread shows
        return self._attach_then_show(str(answer.value.thread_id), str(answer.value.message_id))

    # ------------------------------------------------------------ the doctor's delegate
    def _delegation(self, found: svc.Delegation) -> None:
        self.delegate = str(found.delegate_id) if found.delegate_id else NO_DELEGATE
        self.delegate_name = found.delegate_name
        self.delegate_choices = [[NO_DELEGATE, "Nobody — I answer my own messages"],
                                 *([c.value, c.label] for c in found.choices)]
        self.covering = ", ".join(found.covering_for)

    @rx.event
    async def set_delegate(self, value: str):
        choice = "" if value == NO_DELEGATE else str(value)[:64]
        answer = await attempt(self, svc.set_delegate, delegate=choice)
        if not answer.ok:
            return signed_out() if answer.signed_out else setattr(self, "error", answer.message)
        self._delegation(answer.value)
        return rx.toast.success(f"{self.delegate_name} answers your messages while you are away."
                                if self.delegate_name else "You answer your own messages again.")


# ---------------------------------------------------------------- one thread


def _thread(view: ThreadView, own: bool) -> dict[str, Any]:
    def receipt(m) -> str:
        if not m.mine:
            return ""
        if m.read_at is None:
            return "Not read yet"
        return f"Read {plain_time(m.read_at)}" if own else f"Read by the patient {plain_time(m.read_at)}"

    return {
        "subject": view.subject, "patient": view.patient_name, "with": view.with_label,
        "waiting": f"Waiting for an answer since {plain_time(view.waiting_since)}" if view.waiting_since else "",
        "overdue": view.overdue,
        "messages": [{"id": str(m.id), "author": "You" if m.mine else m.author_name or "The clinic",
                      "from_patient": m.from_patient, "mine": m.mine, "body": m.body, "at": plain_time(m.sent_at),
                      "receipt": receipt(m),
                      "files": [{"id": str(a.document_id), "name": a.filename} for a in m.attachments]}
                     for m in view.messages],
    }


def _download_link(actor: Any, document_id: str) -> str:
    return documents.link_for(actor, document_id=document_id, purpose="download")


class ThreadState(_Attaching, rx.State):
    status: str = "loading"
    thread_ref: str = ""
    thread: dict[str, Any] = {}
    can_reply: bool = False
    can_route: bool = False
    can_attach: bool = False
    routes: list[list[str]] = []
    route_to: str = ""
    body: str = ""
    body_error: str = ""
    error: str = ""
    back_href: str = "/"

    def _clear(self) -> None:
        self.thread, self.can_reply, self.can_route, self.can_attach, self.routes = {}, False, False, False, []
        self.body, self.body_error, self.error, self.route_to = "", "", "", ""

    def _show(self, view: ThreadView, role: Role) -> None:
        self.thread = _thread(view, role == Role.PATIENT)
        self.can_reply, self.can_route = view.can_reply, view.can_route
        self.can_attach = view.can_attach
        self.routes = [[r.value, r.label] for r in view.routes]
        self.back_href = {Role.PATIENT: "/patient/messages", Role.DOCTOR: "/doctor/messages"}.get(role, "/staff/messages")

    @rx.event
    async def load(self):
        """on_load of /messages/<id>: the thread (the other side's messages are marked read)."""
        self._clear()
        self.status = "loading"
        found = _THREAD_PATH.match(self.router.url.path if self.router.url else "")
        self.thread_ref = found.group(1) if found else ""
        answer = await attempt(self, svc.open_thread, thread_id=self.thread_ref)
        if not answer.ok:
            return show_read_failure(self, answer)
        self._show(answer.value, answer.actor.role)
        self.status = "ok"
        return None

    @rx.event
    def set_body(self, value: str):
        self.body, self.body_error = str(value)[:6000], ""

    @rx.event
    async def send_reply(self):
        self.error, self.body_error = "", ""
        answer = await attempt(self, svc.reply, thread_id=self.thread_ref, body=self.body)
        if not answer.ok:
            if answer.signed_out:
                return signed_out()
            self.body_error = answer.errors.get("body", "") if answer.invalid else ""
            self.error = "" if self.body_error else answer.message
            return None
        sent = {"id": str(answer.value.message_id), "author": "You", "from_patient": answer.actor.role == Role.PATIENT,
                "mine": True, "body": self.body, "at": plain_time(utcnow()), "receipt": "Not read yet", "files": []}
        # shown at once; the thread is read again once its files (if any) have gone up
        self.thread = {**self.thread, "messages": [*self.thread.get("messages", []), sent]}
        self.body = ""
        return self._attach_then_show(str(answer.value.thread_id), str(answer.value.message_id))

    @rx.event
    def set_route_to(self, value: str):
        self.route_to = str(value)[:80]

    @rx.event
    async def route(self):
        answer = await attempt(self, svc.route, thread_id=self.thread_ref, to=self.route_to)
        if not answer.ok:
            return signed_out() if answer.signed_out else setattr(self, "error", answer.message)
        self._show(answer.value, answer.actor.role)
        return rx.toast.success(f"Handed to {self.thread.get('with', '')}.")

    @rx.event
    async def open_file(self, document_id: str):
        """A 5-minute link to an attachment (the documents pipeline authorizes and audits the read)."""
        answer = await attempt(self, _download_link, str(document_id)[:64], own_units=True)
        if not answer.ok:
            return signed_out() if answer.signed_out else setattr(self, "error", answer.message)
        return rx.download(url=answer.value, filename="")  # a link click: the page (and its socket) stays
