"""State of the documents pages: /patient/documents (own) and /chart/<id>/documents (care team, staff,
admins). Rows are display dicts built from the service's DTOs; every handler calls the service through
``state.calls.attempt`` (the actor resolved on the server, the service decides, its errors become
what the page shows). The chart's page reads the chart header with its first list in one unit, one
audit event (``svc.open_list``), and hands it to ``ChartHeaderState``, which the header draws. The file bytes never pass through here: uploads go from the browser to
POST /api/documents (assets/portal_documents.js), previews and downloads use 5-minute signed links.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

import reflex as rx

from patient_portal.core.access import Actor, Role
from patient_portal.core.clock import plain_day, plain_time
from patient_portal.domain.documents import service as svc
from patient_portal.domain.documents.blobs import format_size, max_upload_bytes
from patient_portal.domain.documents.dto import DocumentInvalid, DocumentPage, DocumentSummary, validate_meta
from patient_portal.domain.documents.filetypes import KINDS
from patient_portal.domain.patients.header import ChartHeader
from patient_portal.domain.sensitive.dto import withheld_text
from patient_portal.state.calls import Answer, attempt
from patient_portal.state.chart_header import ChartRoute, show_header
from patient_portal.state.paging import PagedMixin

UPLOAD_INPUT, UPLOAD_LIST, UPLOAD_DONE = "doc-files", "doc-upload-progress", "doc-upload-done"
VERSION_INPUT, VERSION_LIST = "doc-version-file", "doc-version-progress"
SORT_CHOICES = [("date_desc", "Date of service, newest first"), ("date_asc", "Date of service, oldest first"),
                ("uploaded_desc", "Recently added"), ("title", "Title A–Z"), ("category", "Category"),
                ("source", "Source")]
EMPTY_FORM = {"category": "", "title": "", "service_date": "", "source": "", "note": "", "hold_until": ""}
NEEDS_ATTENTION = "Some fields need attention — see the messages next to them."


def _row(doc: DocumentSummary) -> dict[str, Any]:
    kind = KINDS.get(doc.kind)
    return {
        "id": str(doc.id), "title": doc.title, "category": doc.category, "category_label": doc.category_label,
        "date": plain_day(doc.service_date), "source": doc.source or "", "note": doc.note or "",
        "by_patient": doc.provided_by_patient, "uploaded_by": doc.uploaded_by_name,
        "added": plain_time(doc.uploaded_at), "version": doc.version,
        "kind": doc.kind,
        # images and PDFs (first page) are drawn afresh by the server as a capped PNG/JPEG; text is framed
        "preview_as": "frame" if doc.kind in ("text", "csv") else "image",
        "kind_label": kind.label if kind else "", "size": format_size(doc.size_bytes),
        "previewable": doc.previewable, "held": doc.restricted, "hold_until": plain_day(doc.hold_until),
        "removed": doc.status == "deleted", "removed_at": plain_time(doc.deleted_at),
        "reason": doc.delete_reason or "", "can_version": doc.can_add_version, "can_delete": doc.can_delete,
        "can_hold": doc.can_hold, "can_purge": doc.can_purge, "can_restore": doc.can_restore,
    }


@dataclass
class _Opened:
    """A chart's documents page opened: its header and first list (or, for the patient's own id, where
    to go instead)."""

    header: ChartHeader | None = None
    page: DocumentPage | None = None
    redirect: str = ""


def _open_chart_page(actor: Actor, patient_ref: str, ask: dict[str, Any]) -> _Opened:
    if actor.role == Role.PATIENT and str(actor.patient_id) == patient_ref:
        return _Opened(redirect="/patient/documents")
    header, page = svc.open_list(actor, patient_id=patient_ref, **ask)
    return _Opened(header, page)


def _own_list(actor: Actor, ask: dict[str, Any]) -> DocumentPage | None:
    """The signed-in patient's own documents (None: no record linked to the account)."""
    if actor.patient_id is None:
        return None
    return svc.list_documents(actor, patient_id=actor.patient_id, **ask)


def _signed_in(actor: Actor) -> None:
    """Nothing to read: the browser sends the file to the API, which checks everything itself."""


def _check_upload(actor: Actor, form: dict[str, str]) -> None:
    """The upload's description, checked before the browser sends any file (the API checks again)."""
    validate_meta({**form, "title": form.get("title") or "untitled"})
    if form.get("category") not in {c for c, _ in svc.category_choices(actor, for_upload=True)}:
        raise DocumentInvalid({"category": "Choose what kind of document this is."})


class DocumentsState(ChartRoute, PagedMixin, rx.State):
    status: str = "loading"  # loading | ok | denied | missing
    own: bool = False
    #: which documents this role sees, when it may not see them all ("" when it sees every kind): an
    #: empty list then says "No documents you can see", not "No documents yet"
    seen_kinds: str = ""
    withheld: str = ""  # "2 records are marked sensitive and not shown to you …"

    rows: list[dict[str, Any]] = []
    total: int = 0
    pages: int = 1
    f_category: str = "all"
    f_source: str = ""
    f_from: str = ""
    f_to: str = ""
    sort: str = "date_desc"
    show_removed: bool = False

    filter_choices: list[list[str]] = []
    upload_choices: list[list[str]] = []
    can_hold: bool = False
    is_admin: bool = False
    max_text: str = ""

    form: dict[str, str] = {}
    form_errors: dict[str, str] = {}
    message: str = ""
    error: str = ""

    dialog: str = ""  # preview | versions | remove | hold | new_version | purge
    target_id: str = ""
    target_title: str = ""
    preview_url: str = ""
    preview_kind: str = ""  # image | frame
    preview_failed: bool = False
    versions: list[dict[str, Any]] = []
    reason: str = ""
    hold_date: str = ""
    dialog_error: str = ""

    @rx.var
    def can_upload(self) -> bool:
        return len(self.upload_choices) > 0

    @rx.var
    def filtered(self) -> bool:
        """Is any filter set (so the folded filter panel says the list is narrowed)?"""
        return self.f_category != "all" or bool(self.f_source or self.f_from or self.f_to) or self.show_removed

    # ------------------------------------------------------------ loading
    def _clear(self) -> None:
        self.seen_kinds, self.withheld = "", ""
        self.rows, self.total, self.page, self.pages = [], 0, 1, 1
        self.filter_choices, self.upload_choices, self.can_hold, self.is_admin = [], [], False, False
        self.form, self.form_errors, self.message, self.error = dict(EMPTY_FORM), {}, "", ""
        self._close()

    def _close(self) -> None:
        self.dialog, self.target_id, self.target_title, self.preview_url, self.preview_kind = "", "", "", "", ""
        self.versions, self.reason, self.hold_date, self.dialog_error = [], "", "", ""

    def _setup(self, actor: Actor) -> None:
        self.filter_choices = [[v, label] for v, label in svc.category_choices(actor, for_upload=False)]
        self.upload_choices = [[v, label] for v, label in svc.category_choices(actor, for_upload=True)]
        self.can_hold = svc.may_hold(actor)
        self.is_admin = actor.role == Role.ADMIN
        self.max_text = format_size(max_upload_bytes())
        self.seen_kinds = svc.seen_kinds(actor)

    def _ask(self) -> dict[str, Any]:
        """The list's filters, sort and page as the service takes them."""
        return {"category": None if self.f_category == "all" else self.f_category, "source": self.f_source or None,
                "date_from": self.f_from or None, "date_to": self.f_to or None, "sort": self.sort,
                "page": self.page, "include_removed": self.show_removed}

    def _show_page(self, page: DocumentPage) -> None:
        self.rows = [_row(d) for d in page.items]
        self.total, self.pages = page.total, page.pages
        self.withheld = withheld_text(page.withheld)
        if self.page > page.pages:
            self.page = page.pages
        self.status = "ok"

    def _failed(self, answer: Answer) -> Any:
        """A list read that did not work: sign in again, "Not permitted", "not found", or the filters'
        message (what was shown stays)."""
        if answer.signed_out:
            self._clear()
            return answer.show(self)
        if answer.invalid:
            self.error = "Check the filter dates: " + answer.message
            return None
        self._clear()
        self.status = "denied" if answer.denied else "missing"
        return None

    async def _fetch(self) -> Any:
        answer = await attempt(self, svc.list_documents, patient_id=self.patient_ref, own_units=True,
                               **self._ask())
        if not answer.ok:
            return self._failed(answer)
        self._show_page(answer.value)
        return None

    def _reset_view(self) -> None:
        self._clear()
        self.status = "loading"
        self.f_category, self.f_source, self.f_from, self.f_to, self.sort = "all", "", "", "", "date_desc"
        self.show_removed = False

    @rx.event
    async def load_own(self):
        """on_load of /patient/documents: the signed-in patient's own documents."""
        self._reset_view()
        self.own, self.patient_ref = True, ""
        answer = await attempt(self, _own_list, self._ask(), own_units=True)
        if not answer.ok:
            return None if answer.signed_out else self._failed(answer)  # the page guard sends them to sign in
        if answer.value is None:
            self.status = "missing"
            return None
        self.patient_ref = str(answer.actor.patient_id)
        self._setup(answer.actor)
        self._show_page(answer.value)
        return None

    @rx.event
    async def load_chart(self):
        """on_load of /chart/<id>/documents: the header and the first list, read together (one audit
        event); the id in the address is a request, checked by the service."""
        self._reset_view()
        self.own = False
        self._read_route()
        answer = await attempt(self, _open_chart_page, self.patient_ref, self._ask(), own_units=True)
        if answer.ok and answer.value.redirect:
            return rx.redirect(answer.value.redirect, replace=True)
        if not answer.ok:
            self._failed(answer)
            await show_header(self, None, patient_ref=self.patient_ref, status=self.status)
            return None  # signed out: the page guard sends the browser to sign in
        self._setup(answer.actor)
        self._show_page(answer.value.page)
        await show_header(self, answer.value.header, patient_ref=self.patient_ref)
        return None

    async def _refresh(self):
        return await self._fetch()

    # ------------------------------------------------------------ list controls
    @rx.event
    async def set_category_filter(self, value: str):
        self.f_category, self.page = str(value)[:40], 1
        return await self._refresh()

    @rx.event
    async def set_sort(self, value: str):
        self.sort, self.page = str(value)[:20], 1
        return await self._refresh()

    @rx.event
    def set_filter_text(self, field: str, value: str):
        if field in ("f_source", "f_from", "f_to"):
            setattr(self, field, str(value)[:100])

    @rx.event
    async def apply_filters(self):
        self.page, self.error = 1, ""
        return await self._refresh()

    @rx.event
    async def clear_filters(self):
        self.f_category, self.f_source, self.f_from, self.f_to, self.page, self.error = "all", "", "", "", 1, ""
        return await self._refresh()

    @rx.event
    async def toggle_removed(self, value: bool):
        self.show_removed, self.page = bool(value), 1
        return await self._refresh()

    async def _load_page(self):
        return await self._refresh()

    # ------------------------------------------------------------ upload
    @rx.event
    def set_form(self, field: str, value: str):
        if field in EMPTY_FORM:
            self.form[field] = str(value)[:2000]
            self.form_errors.pop(field, None)

    @rx.event
    async def start_upload(self):
        """Check the description on the server, then let the browser send each file to the API."""
        self.message, self.error, self.form_errors = "", "", {}
        data = dict(self.form)
        answer = await attempt(self, _check_upload, data, own_units=True)
        if answer.signed_out:
            return self._gone(answer)
        if not answer.ok:
            self.form_errors = dict(answer.errors)
            self.error = NEEDS_ATTENTION if answer.invalid else answer.message
            return None
        meta = {**data, "patient_id": self.patient_ref}
        if not self.can_hold:
            meta.pop("hold_until", None)
        return rx.call_script(self._upload_script("/api/documents", meta, UPLOAD_INPUT, UPLOAD_LIST, True))

    def _upload_script(self, endpoint: str, meta: dict[str, str], input_id: str, list_id: str,
                       number_titles: bool) -> str:
        opts = {"endpoint": endpoint, "meta": meta, "inputId": input_id, "listId": list_id, "doneId": UPLOAD_DONE,
                "maxBytes": max_upload_bytes(), "maxText": format_size(max_upload_bytes()),
                "numberTitles": number_titles}
        return f"window.portalDocs.upload({json.dumps(opts)})"

    @rx.event
    def upload_finished(self):
        """The browser finished sending files: ask it how it went."""
        return rx.call_script("window.portalDocs.result()", callback=DocumentsState.upload_result)

    @rx.event
    async def upload_result(self, result: dict[str, int]):
        ok = int((result or {}).get("ok", 0) or 0)
        failed = int((result or {}).get("failed", 0) or 0)
        if ok and self.dialog != "new_version":
            self.form, self.form_errors = dict(EMPTY_FORM), {}
        self.message = (f"{ok} document{'s' if ok != 1 else ''} uploaded." if ok else "")
        self.error = (f"{failed} file{'s were' if failed != 1 else ' was'} not uploaded — see the message "
                      "next to each file." if failed else "")
        toast = rx.toast.success(self.message) if ok and not failed else None
        if self.dialog == "new_version" and ok:
            self._close()
        refreshed = await self._refresh()
        return refreshed or toast

    @rx.event
    async def start_version_upload(self):
        answer = await attempt(self, _signed_in, own_units=True)
        if not answer.ok:
            return self._gone(answer)
        return rx.call_script(self._upload_script(f"/api/documents/{self.target_id}/versions", {},
                                                  VERSION_INPUT, VERSION_LIST, False))

    # ------------------------------------------------------------ preview, download, versions
    async def _link(self, doc_id: str, purpose: str, version: int | None = None) -> Answer:
        """A 5-minute signed link (the answer's value); a failure's message is put in `error`."""
        answer = await attempt(self, svc.link_for, document_id=doc_id, purpose=purpose, version=version,
                               own_units=True)
        if not answer.ok and not answer.signed_out:
            self.error = answer.message
        return answer

    def _gone(self, answer: Answer) -> Any:
        """The session ended: forget what was shown, go to sign-in."""
        self._clear()
        return answer.show(self)

    def _title_of(self, doc_id: str) -> str:
        return next((r["title"] for r in self.rows if r["id"] == doc_id), "Document")

    @rx.event
    async def open_preview(self, doc_id: str):
        self._close()
        self.error = ""
        answer = await self._link(str(doc_id), "preview")
        if not answer.ok:
            return self._gone(answer) if answer.signed_out else None
        url = answer.value
        row = next((r for r in self.rows if r["id"] == doc_id), {})
        self.dialog, self.target_id, self.target_title = "preview", str(doc_id), self._title_of(str(doc_id))
        self.preview_url, self.preview_kind, self.preview_failed = url, row.get("preview_as", ""), False
        return None

    @rx.event
    def preview_not_shown(self):
        """The browser could not load the preview image (the server could not draw this file)."""
        self.preview_failed = True

    @rx.event
    async def download(self, doc_id: str, version: int = 0):
        self.error = ""
        answer = await self._link(str(doc_id), "download", int(version) or None)
        if not answer.ok:
            return self._gone(answer) if answer.signed_out else None
        return rx.download(url=answer.value, filename="")  # a link click: the page (and its socket) stays

    @rx.event
    async def open_versions(self, doc_id: str):
        self._close()
        answer = await attempt(self, svc.list_versions, str(doc_id), own_units=True)
        if not answer.ok:
            if answer.signed_out:
                return self._gone(answer)
            self.error = answer.message
            return None
        versions = answer.value
        self.versions = [{
            "number": v.number, "filename": v.filename, "size": format_size(v.size_bytes),
            "uploaded_by": v.uploaded_by_name, "uploaded_at": plain_time(v.uploaded_at),
            "replaced_by": v.replaced_by_name or "", "replaced_at": plain_time(v.replaced_at),
            "current": v.current, "available": v.available,
        } for v in versions]
        self.dialog, self.target_id, self.target_title = "versions", str(doc_id), self._title_of(str(doc_id))
        return None

    @rx.event
    def open_dialog(self, kind: str, doc_id: str):
        """Open the remove / hold / new-version / purge dialog for one document."""
        self._close()
        if kind in ("remove", "hold", "new_version", "purge"):
            self.dialog, self.target_id, self.target_title = kind, str(doc_id), self._title_of(str(doc_id))

    @rx.event
    def close_dialog(self, _open: bool = False):
        self._close()

    @rx.event
    def set_reason(self, value: str):
        self.reason = str(value)[:500]

    @rx.event
    def set_hold_date(self, value: str):
        self.hold_date = str(value)[:10]

    async def _act(self, fn, success: str, **kwargs: Any):
        self.dialog_error = ""
        answer = await attempt(self, fn, document_id=self.target_id, own_units=True, **kwargs)
        if not answer.ok:
            if answer.signed_out:
                return self._gone(answer)
            self.dialog_error = answer.message  # a field's message for an Invalid
            return None
        self._close()
        self.message = success
        return await self._fetch() or rx.toast.success(success)

    @rx.event
    async def confirm_remove(self):
        return await self._act(svc.remove, "The document was removed.", reason=self.reason)

    @rx.event
    async def save_hold(self):
        return await self._act(svc.set_hold, "The patient will see this document from "
                               f"{plain_day(date.fromisoformat(self.hold_date)) if _validplain_day(self.hold_date) else 'then'}.",
                               release_on=self.hold_date or "invalid")

    @rx.event
    async def release_hold(self):
        return await self._act(svc.set_hold, "The document is released to the patient.", release_on=None)

    @rx.event
    async def restore(self, doc_id: str):
        self.target_id = str(doc_id)
        return await self._act(svc.restore, "The document was restored.")

    @rx.event
    async def confirm_purge(self):
        return await self._act(svc.purge, "The document was purged for good.")


def _validplain_day(text: str) -> bool:
    try:
        date.fromisoformat(text)
        return True
    except ValueError:
        return False
