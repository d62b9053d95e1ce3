"""Document use cases: upload, new version, list, versions, link, open, hold, soft delete, restore, purge.

Every function takes the acting user first, asks ``core.access`` before it touches a row and audits
in the same transaction; a refusal is audited on its own and raised as ``AccessDenied``. Blob I/O
happens outside database transactions, and a failed save removes the blob it wrote.

Policy on top of the role matrix (see models.read_action / write_action):
* patients never see the content of a document a clinician holds "until discussed" before its
  release date, only that it exists and when it will be released;
* only the author (still allowed to write that category) or an admin removes a document; only an
  admin sees removed documents, restores them or purges them after the retention period;
* patients add versions only to documents they provided; only doctors and admins set holds.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from patient_portal.core import audit
from patient_portal.core.access import AccessDenied, Action, Actor, Role, authorize
from patient_portal.core.clock import plain_day
from patient_portal.core.db import new_id, unit_of_work, utcnow
from patient_portal.core.storage import BlobStore, get_blob_store
from patient_portal.domain.documents import blobs, links, preview
from patient_portal.domain.documents.dto import (
    REASON_MIN,
    DocumentInvalid,
    DocumentMeta,
    DocumentNotFound,
    DocumentPage,
    DocumentSummary,
    OpenedFile,
    VersionInfo,
    category_label,
    clean_filename,
    validate_meta,
)
from patient_portal.domain.documents.filetypes import KINDS, FileRefused
from patient_portal.domain.documents.models import (
    Category,
    Document,
    DocumentVersion,
    Status,
    is_clinical,
    read_action,
    write_action,
)
from patient_portal.domain.patients import common as patients
from patient_portal.settings import get_settings

PAGE_SIZE = 25
SORTS = ("date_desc", "date_asc", "title", "category", "source", "uploaded_desc")
OBJECT = "document"


def purge_after_days() -> int:
    """Days a removed document is kept before an admin may purge it (PORTAL_DOCUMENT_PURGE_AFTER_DAYS)."""
    return get_settings().document_purge_after_days


# ---------------------------------------------------------------- policy helpers


def _deny(session: Session, actor: Actor | None, what: str, *, patient_id: uuid.UUID | None,
          document_id: uuid.UUID | None, message: str | None = None) -> None:
    """End the caller's transaction, audit the refusal on its own, raise AccessDenied."""
    session.rollback()
    audit.record_now(actor, what, patient_id=patient_id, object_type=OBJECT, object_id=document_id,
                     outcome="denied")
    raise AccessDenied(message) if message else AccessDenied()


def _allowed(session: Session, actor: Actor | None, action: Action, patient_id: uuid.UUID) -> bool:
    try:
        authorize(session, actor, action, patient_id=patient_id)
    except AccessDenied:
        return False
    return True


def _require(session: Session, actor: Actor | None, action: Action, what: str, *, patient_id: uuid.UUID,
             document_id: uuid.UUID | None = None) -> Actor:
    if not _allowed(session, actor, action, patient_id):
        if actor is None:
            _deny(session, actor, what, patient_id=patient_id, document_id=document_id, message="Please sign in.")
        _deny(session, actor, what, patient_id=patient_id, document_id=document_id)
    assert actor is not None
    return actor


def _patient_in_scope(session: Session, actor: Actor | None, action: Action, what: str,
                      patient_id: Any) -> tuple[Actor, uuid.UUID]:
    """The start of every use case that names a patient (upload, list): authorize `action` on that
    patient, then load the record; returns the actor and the patient's id.

    Raises PatientNotFound for a malformed, unknown or merged id, so nothing is stored or listed under
    an id that names no record (staff and admins reach every id, so the policy alone lets those
    through). Authorization comes first: someone who may not reach the id (a patient, a doctor off the
    care team) gets the same audited refusal whether it exists or not.
    """
    patient_uuid = patients.as_uuid(patient_id)
    actor = _require(session, actor, action, what, patient_id=patient_uuid)
    patients.load(session, patient_uuid)
    return actor, patient_uuid


def _today() -> date:
    return utcnow().date()


def _held_from(actor: Actor, doc: Document, today: date | None = None) -> bool:
    """Is this document held back from this actor (a patient, before the release date)?"""
    return actor.role == Role.PATIENT and doc.hold_until is not None and (today or _today()) < doc.hold_until


def _is_admin(actor: Actor) -> bool:
    return actor.role == Role.ADMIN


def _visible_categories(actor: Actor) -> list[str]:
    return [c.value for c in Category if actor.can(read_action(c))]


def category_choices(actor: Actor, *, for_upload: bool) -> list[tuple[str, str]]:
    """(value, label) of the categories this actor's role may upload, or may see (for UI choices)."""
    wanted = write_action if for_upload else read_action
    return [(c.value, category_label(c.value)) for c in Category if actor.can(wanted(c))]


def may_hold(actor: Actor) -> bool:
    """Role-level: may this actor hold documents until discussed (doctors, admins)?"""
    return actor.role in (Role.DOCTOR, Role.ADMIN) and actor.can(Action.CLINICAL_DOC_WRITE)


def _load(session: Session, document_id: Any) -> Document:
    try:
        doc_id = uuid.UUID(str(document_id))
    except ValueError:
        raise DocumentNotFound() from None
    doc = session.get(Document, doc_id)
    if doc is None or doc.status == Status.PURGED:
        raise DocumentNotFound()
    return doc


def _readable(session: Session, actor: Actor | None, document_id: Any, what: str) -> tuple[Actor, Document]:
    """The document if the actor may read it (removed ones: admins only)."""
    doc = _load(session, document_id)
    actor = _require(session, actor, read_action(doc.category), what, patient_id=doc.patient_id,
                     document_id=doc.id)
    if doc.status == Status.DELETED and not _is_admin(actor):
        raise DocumentNotFound()
    return actor, doc


def _may_write(session: Session, actor: Actor, doc: Document) -> bool:
    return _allowed(session, actor, write_action(doc.category), doc.patient_id)


def _may_add_version(session: Session, actor: Actor, doc: Document) -> bool:
    if doc.status != Status.ACTIVE or not _may_write(session, actor, doc):
        return False
    return actor.role != Role.PATIENT or doc.uploaded_by == actor.user_id


def _may_delete(session: Session, actor: Actor, doc: Document) -> bool:
    if doc.status != Status.ACTIVE:
        return False
    return _is_admin(actor) or (doc.uploaded_by == actor.user_id and _may_write(session, actor, doc))


def _may_hold(session: Session, actor: Actor, doc: Document) -> bool:
    return (doc.status == Status.ACTIVE and may_hold(actor) and is_clinical(doc.category)
            and not doc.provided_by_patient and _may_write(session, actor, doc))


def _purge_from(doc: Document) -> datetime | None:
    if doc.deleted_at is None:
        return None
    deleted = doc.deleted_at if doc.deleted_at.tzinfo else doc.deleted_at.replace(tzinfo=utcnow().tzinfo)
    return deleted + timedelta(days=purge_after_days())


def _current(session: Session, doc: Document) -> DocumentVersion:
    version = session.exec(select(DocumentVersion).where(DocumentVersion.document_id == doc.id,
                                                         DocumentVersion.number == doc.current_version)).one()
    return version


@dataclass(frozen=True)
class _Shown:
    """The describing fields of a document exactly as this viewer is shown them.

    Built once per document by `_shown`; the DTO takes its title, source and note from here and lists
    sort, filter and count on nothing else. A held document shows its category label as its title and
    no source or note, so anything computed from the real values (where it sorts among documents the
    patient uploads as probes, whether a search finds it) would give away what the hold hides.
    """

    doc: Document
    held: bool
    title: str
    source: str | None
    note: str | None
    category_label: str
    service_date: date | None
    uploaded_at: datetime


def _shown(actor: Actor, doc: Document, today: date | None = None) -> _Shown:
    held = _held_from(actor, doc, today)
    label = category_label(doc.category)
    return _Shown(doc=doc, held=held, title=label if held else (doc.title or label),
                  source=None if held else doc.source, note=None if held else doc.note,
                  category_label=label, service_date=doc.service_date, uploaded_at=doc.created_at)


def _summary(session: Session, actor: Actor, doc: Document, version: DocumentVersion,
             shown: _Shown | None = None) -> DocumentSummary:
    shown = shown or _shown(actor, doc)
    held = shown.held
    kind = KINDS.get(version.kind)
    admin = _is_admin(actor)
    return DocumentSummary(
        id=doc.id, patient_id=doc.patient_id, category=doc.category, category_label=shown.category_label,
        title=shown.title,
        service_date=shown.service_date,
        source=shown.source,
        note=shown.note,
        provided_by_patient=doc.provided_by_patient,
        uploaded_by_name=doc.uploaded_by_name or "",
        uploaded_at=shown.uploaded_at,
        version=doc.current_version,
        kind=version.kind,
        size_bytes=version.size_bytes,
        previewable=bool(kind and kind.previewable) and not held,
        status=Status(doc.status).value,
        hold_until=doc.hold_until if (doc.hold_until and _today() < doc.hold_until) else None,
        restricted=held,
        deleted_at=doc.deleted_at if admin else None,
        delete_reason=doc.delete_reason if admin else None,
        can_add_version=_may_add_version(session, actor, doc),
        can_delete=_may_delete(session, actor, doc),
        can_hold=_may_hold(session, actor, doc),
        can_purge=admin and doc.status == Status.DELETED and actor.can(Action.DOCUMENT_PURGE),
        can_restore=admin and doc.status == Status.DELETED,
    )


def _refused(actor: Actor, what: str, patient_id: uuid.UUID, document_id: uuid.UUID | None, reason: str) -> None:
    audit.record_now(actor, what, patient_id=patient_id, object_type=OBJECT, object_id=document_id,
                     outcome="refused", detail={"reason": reason})


def _store(actor: Actor, what: str, patient_id: uuid.UUID, document_id: uuid.UUID | None, store: BlobStore,
           chunks: Iterable[bytes], filename: str, version_id: uuid.UUID) -> blobs.StoredBlob:
    try:
        return blobs.store_encrypted(store, chunks, filename=filename, object_id=str(version_id))
    except FileRefused:
        _refused(actor, what, patient_id, document_id, "file_type")
        raise
    except blobs.UploadTooLarge:
        _refused(actor, what, patient_id, document_id, "too_large")
        raise


def _new_version(version_id: uuid.UUID, document_id: uuid.UUID, number: int, blob: blobs.StoredBlob,
                 filename: str, actor: Actor) -> DocumentVersion:
    return DocumentVersion(
        id=version_id, document_id=document_id, number=number, object_key=blob.object_key,
        wrapped_key=blob.wrapped_key, sha256=blob.sha256, size_bytes=blob.size, kind=blob.kind.name,
        filename=filename, uploaded_by=actor.user_id, uploaded_by_name=actor.display_name or None,
    )


# ---------------------------------------------------------------- uploads


def upload(actor: Actor | None, *, patient_id: Any, meta: dict[str, Any] | DocumentMeta, filename: str,
           chunks: Iterable[bytes], store: BlobStore | None = None) -> DocumentSummary:
    """Store a new document for a patient; raises PatientNotFound, DocumentInvalid, FileRefused,
    UploadTooLarge, StorageUnavailable or AccessDenied. No row exists unless the encrypted file was
    stored, and no blob is kept unless the row was written."""
    what = "document.upload"
    if not isinstance(meta, DocumentMeta):
        meta = validate_meta(meta)
    filename = clean_filename(filename)
    if not str(patient_id or "").strip():
        raise DocumentInvalid({"patient": "Choose the patient this document belongs to."})
    with unit_of_work() as session:
        actor, patient_uuid = _patient_in_scope(session, actor, write_action(meta.category), what, patient_id)
        if meta.hold_until and not may_hold(actor):
            raise DocumentInvalid({"hold_until": "Only a doctor can hold a document until it is discussed."})
        if meta.hold_until and not is_clinical(meta.category):
            raise DocumentInvalid({"hold_until": "Only clinical documents can be held until discussed."})
    store = store or get_blob_store()
    document_id, version_id = new_id(), new_id()
    blob = _store(actor, what, patient_uuid, None, store, chunks, filename, version_id)
    try:
        with unit_of_work() as session:  # checked again: the record may have been merged meanwhile
            _patient_in_scope(session, actor, write_action(meta.category), what, patient_uuid)
            by_patient = actor.role == Role.PATIENT
            doc = Document(
                id=document_id, patient_id=patient_uuid, category=meta.category.value, title=meta.title,
                service_date=meta.service_date, source=meta.source or ("Provided by patient" if by_patient else None),
                note=meta.note, provided_by_patient=by_patient, uploaded_by=actor.user_id,
                uploaded_by_name=actor.display_name or None, hold_until=meta.hold_until,
                hold_set_by=actor.user_id if meta.hold_until else None,
            )
            version = _new_version(version_id, document_id, 1, blob, filename, actor)
            session.add_all([doc, version])  # flushed (document first) with the audit event
            audit.record(session, actor, what, patient_id=patient_uuid, object_type=OBJECT, object_id=document_id,
                         detail={"version": 1, "fields": sorted(k for k, v in vars(meta).items() if v)})
            return _summary(session, actor, doc, version)
    except BaseException:
        blobs.discard(store, blob.object_key)
        raise


def upload_version(actor: Actor | None, *, document_id: Any, filename: str, chunks: Iterable[bytes],
                   store: BlobStore | None = None) -> DocumentSummary:
    """Store a corrected file as the document's next version; earlier versions stay viewable."""
    what = "document.version.upload"
    filename = clean_filename(filename)
    with unit_of_work() as session:
        actor, doc = _readable(session, actor, document_id, what)
        if not _may_add_version(session, actor, doc):
            _deny(session, actor, what, patient_id=doc.patient_id, document_id=doc.id)
        patient_id, doc_id = doc.patient_id, doc.id
    store = store or get_blob_store()
    version_id = new_id()
    blob = _store(actor, what, patient_id, doc_id, store, chunks, filename, version_id)
    try:
        with unit_of_work() as session:
            doc = _load(session, doc_id)
            if not _may_add_version(session, actor, doc):
                raise AccessDenied()
            previous = _current(session, doc)
            now = utcnow()
            previous.replaced_at, previous.replaced_by = now, actor.user_id
            previous.replaced_by_name = actor.display_name or None
            doc.current_version += 1
            doc.updated_at = now
            version = _new_version(version_id, doc.id, doc.current_version, blob, filename, actor)
            session.add_all([previous, doc, version])
            session.flush()
            audit.record(session, actor, what, patient_id=doc.patient_id, object_type=OBJECT, object_id=doc.id,
                         detail={"version": doc.current_version})
            return _summary(session, actor, doc, version)
    except BaseException:
        blobs.discard(store, blob.object_key)
        raise


# ---------------------------------------------------------------- reading


def _sort_key(sort: str) -> tuple[Callable[[_Shown], tuple], bool]:
    """(key, reverse) for one of SORTS. Keys read only the viewer's `_Shown` values; ties end on the
    upload time and the id (both shown), so the order never depends on anything hidden."""
    def last(s: _Shown) -> tuple:
        return (s.uploaded_at, s.doc.id)

    keys: dict[str, Callable[[_Shown], tuple]] = {
        "date_desc": lambda s: (s.service_date or date.min, *last(s)),
        "date_asc": lambda s: (s.service_date or date.max, *last(s)),
        "title": lambda s: (s.title.casefold(), *last(s)),
        "category": lambda s: (s.category_label, s.title.casefold(), *last(s)),
        "source": lambda s: (s.source is None, (s.source or "").casefold(), s.title.casefold(), *last(s)),
        "uploaded_desc": last,
    }
    return keys[sort], sort in ("date_desc", "uploaded_desc")


def list_documents(actor: Actor | None, *, patient_id: Any, category: str | None = None, source: str | None = None,
                   date_from: Any = None, date_to: Any = None, sort: str = "date_desc", page: int = 1,
                   page_size: int = PAGE_SIZE, include_removed: bool = False) -> DocumentPage:
    """One page of a patient's documents the actor may see, filtered, sorted and counted on the server
    on what the actor is shown of each (see `_Shown`); PatientNotFound for an id naming no record."""
    what = "document.list"
    if sort not in SORTS:
        sort = "date_desc"
    page_size = max(1, min(int(page_size), 50))
    errors: dict[str, str] = {}
    from_d = _parse_filter_date(date_from, "date_from", errors)
    to_d = _parse_filter_date(date_to, "date_to", errors)
    if errors:
        raise DocumentInvalid(errors)
    with unit_of_work() as session:
        wanted = Action.CLINICAL_DOC_READ if actor and actor.can(Action.CLINICAL_DOC_READ) else Action.ADMIN_DOC_READ
        actor, patient_uuid = _patient_in_scope(session, actor, wanted, what, patient_id)
        categories = _visible_categories(actor)
        if category:
            categories = [c for c in categories if c == category]
        statuses = [Status.ACTIVE.value]
        if include_removed and _is_admin(actor):
            statuses.append(Status.DELETED.value)
        docs = list(session.exec(select(Document).where(
            Document.patient_id == patient_uuid, Document.category.in_(categories),  # type: ignore[attr-defined]
            Document.status.in_(statuses),  # type: ignore[attr-defined]
        )).all())
        needle = " ".join((source or "").casefold().split())
        today = _today()
        shown = [_shown(actor, d, today) for d in docs]  # filter, sort and count on these alone
        shown = [s for s in shown
                 if (not needle or needle in (s.source or "").casefold())
                 and (from_d is None or (s.service_date is not None and s.service_date >= from_d))
                 and (to_d is None or (s.service_date is not None and s.service_date <= to_d))]
        key, reverse = _sort_key(sort)
        shown.sort(key=key, reverse=reverse)
        page = max(1, int(page))
        chosen = shown[(page - 1) * page_size: page * page_size]
        versions = _current_versions(session, [s.doc for s in chosen])
        items = [_summary(session, actor, s.doc, versions[s.doc.id], s) for s in chosen]
        audit.record(session, actor, what, patient_id=patient_uuid, object_type=OBJECT,
                     detail={"count": len(items), "filters": sorted(k for k, v in {
                         "category": category, "source": source, "date_from": date_from, "date_to": date_to}.items() if v)})
        return DocumentPage(items, len(shown), page, page_size)


def _parse_filter_date(value: Any, name: str, errors: dict[str, str]) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        errors[name] = "Enter a date like 2026-03-14."
        return None


def _current_versions(session: Session, docs: list[Document]) -> dict[uuid.UUID, DocumentVersion]:
    if not docs:
        return {}
    wanted = {(d.id, d.current_version) for d in docs}
    rows = session.exec(select(DocumentVersion).where(
        DocumentVersion.document_id.in_([d.id for d in docs]))).all()  # type: ignore[attr-defined]
    return {v.document_id: v for v in rows if (v.document_id, v.number) in wanted}


def list_versions(actor: Actor | None, document_id: Any) -> list[VersionInfo]:
    """Every version of a document, newest first, with who replaced each and when."""
    what = "document.versions.read"
    with unit_of_work() as session:
        actor, doc = _readable(session, actor, document_id, what)
        if _held_from(actor, doc):
            _deny(session, actor, what, patient_id=doc.patient_id, document_id=doc.id, message=_held_message(doc))
        rows = session.exec(select(DocumentVersion).where(DocumentVersion.document_id == doc.id)
                            .order_by(DocumentVersion.number.desc())).all()  # type: ignore[attr-defined]
        audit.record(session, actor, what, patient_id=doc.patient_id, object_type=OBJECT, object_id=doc.id)
        return [VersionInfo(number=v.number, filename=v.filename or "", kind=v.kind, size_bytes=v.size_bytes,
                            uploaded_by_name=v.uploaded_by_name or "", uploaded_at=v.created_at,
                            replaced_by_name=v.replaced_by_name, replaced_at=v.replaced_at,
                            current=v.number == doc.current_version, available=v.object_key is not None)
                for v in rows]


def _held_message(doc: Document) -> str:
    return ("Your care team would like to talk this document through with you first. It will be available "
            f"on {plain_day(doc.hold_until) or 'a later date'}.")


def _content_version(session: Session, actor: Actor | None, document_id: Any, version: int | None,
                     what: str) -> tuple[Actor, Document, DocumentVersion]:
    actor, doc = _readable(session, actor, document_id, what)
    if _held_from(actor, doc):
        _deny(session, actor, what, patient_id=doc.patient_id, document_id=doc.id, message=_held_message(doc))
    number = doc.current_version if version is None else int(version)
    row = session.exec(select(DocumentVersion).where(DocumentVersion.document_id == doc.id,
                                                     DocumentVersion.number == number)).first()
    if row is None or row.object_key is None or row.wrapped_key is None:
        raise DocumentNotFound("That version of the document does not exist.")
    return actor, doc, row


def link_for(actor: Actor | None, *, document_id: Any, purpose: str, version: int | None = None) -> str:
    """A 5-minute link to the file, bound to the actor's session (the endpoint re-checks everything)."""
    if purpose not in links.PURPOSES:
        raise ValueError(purpose)
    with unit_of_work() as session:
        actor, doc, row = _content_version(session, actor, document_id, version, f"document.{purpose}")
        if actor.session_id is None:
            raise AccessDenied("Please sign in again.")
        if purpose == "preview" and not (KINDS.get(row.kind) and KINDS[row.kind].previewable):
            raise DocumentInvalid({"preview": "This kind of file can't be previewed; download it instead."})
        token = links.sign(document_id=doc.id, version=row.number, purpose=purpose, session_id=actor.session_id)
        return f"/api/documents/{doc.id}/{purpose}?v={row.number}&t={token}"


def open_file(actor: Actor | None, *, document_id: Any, version: int | None = None, purpose: str = "download",
              store: BlobStore | None = None) -> OpenedFile:
    """Authorize, audit and read one version, verified against its SHA-256 before anything is returned.

    A preview is never the stored bytes of a PDF or an image: it is drawn afresh out of process (the
    first page of a PDF, the first frame of an image), capped in size (see ``preview``); text and CSV
    previews are the text. PreviewUnavailable when it can't be drawn (the download still works).
    """
    what = f"document.{purpose}"
    with unit_of_work() as session:
        actor, doc, row = _content_version(session, actor, document_id, version, what)
        audit.record(session, actor, what, patient_id=doc.patient_id, object_type=OBJECT, object_id=doc.id,
                     detail={"version": row.number})
        found = (doc.patient_id, doc.id, row.object_key, row.wrapped_key, str(row.id), row.sha256, row.size_bytes,
                 row.filename or "document", row.kind)
    patient_id, doc_id, key, wrapped, object_id, sha, size, filename, kind = found
    try:
        chunks = blobs.read_verified(store or get_blob_store(), object_key=key, wrapped_key=wrapped,
                                     object_id=object_id, sha256=sha, size=size)
    except blobs.DocumentDamaged:
        audit.record_now(actor, what, patient_id=patient_id, object_type=OBJECT, object_id=doc_id,
                         outcome="failed", detail={"reason": "integrity"})
        raise
    if purpose == "preview" and kind in preview.DRAWN:
        drawn = preview.render(b"".join(chunks), kind)  # raises PreviewUnavailable
        stem = filename.rsplit(".", 1)[0] or "document"
        return OpenedFile(filename=f"{stem} ({'page 1' if kind == 'pdf' else 'preview'}).{drawn.extension}",
                          media_type=drawn.media_type, size_bytes=len(drawn.data), chunks=iter([drawn.data]))
    return OpenedFile(filename=filename, media_type=KINDS[kind].media_type, size_bytes=size, chunks=chunks)


# ---------------------------------------------------------------- holds and removal


def set_hold(actor: Actor | None, *, document_id: Any, release_on: Any) -> DocumentSummary:
    """Hold a clinical document from the patient until `release_on` (None releases it now)."""
    what = "document.hold"
    with unit_of_work() as session:
        actor, doc = _readable(session, actor, document_id, what)
        if not _may_hold(session, actor, doc):
            _deny(session, actor, what, patient_id=doc.patient_id, document_id=doc.id)
        if release_on in (None, ""):
            doc.hold_until, doc.hold_set_by = None, None
        else:
            meta_errors: dict[str, str] = {}
            release = _parse_filter_date(release_on, "hold_until", meta_errors)
            if meta_errors or release is None or release <= _today():
                raise DocumentInvalid({"hold_until": "The release date must be after today."})
            doc.hold_until, doc.hold_set_by = release, actor.user_id
        doc.updated_at = utcnow()
        session.add(doc)
        session.flush()
        audit.record(session, actor, what, patient_id=doc.patient_id, object_type=OBJECT, object_id=doc.id,
                     detail={"held": doc.hold_until is not None})
        return _summary(session, actor, doc, _current(session, doc))


def remove(actor: Actor | None, *, document_id: Any, reason: str) -> None:
    """Soft-delete a document with a reason (its author or an admin); the file is kept until purged."""
    what = "document.delete"
    reason = " ".join(str(reason or "").split())
    with unit_of_work() as session:
        actor, doc = _readable(session, actor, document_id, what)
        if not _may_delete(session, actor, doc):
            _deny(session, actor, what, patient_id=doc.patient_id, document_id=doc.id)
        if len(reason) < REASON_MIN:
            raise DocumentInvalid({"reason": "Say briefly why this document is being removed."})
        doc.status, doc.deleted_at, doc.deleted_by, doc.delete_reason = Status.DELETED, utcnow(), actor.user_id, reason
        doc.updated_at = utcnow()
        session.add(doc)
        session.flush()
        audit.record(session, actor, what, patient_id=doc.patient_id, object_type=OBJECT, object_id=doc.id,
                     detail={"fields": ["reason"]})


def restore(actor: Actor | None, *, document_id: Any) -> DocumentSummary:
    """Undo a removal (admins)."""
    what = "document.restore"
    with unit_of_work() as session:
        actor, doc = _readable(session, actor, document_id, what)
        if not _is_admin(actor) or doc.status != Status.DELETED:
            _deny(session, actor, what, patient_id=doc.patient_id, document_id=doc.id)
        doc.status, doc.deleted_at, doc.deleted_by, doc.delete_reason = Status.ACTIVE, None, None, None
        doc.updated_at = utcnow()
        session.add(doc)
        session.flush()
        audit.record(session, actor, what, patient_id=doc.patient_id, object_type=OBJECT, object_id=doc.id)
        return _summary(session, actor, doc, _current(session, doc))


class PurgeTooEarly(ValueError):
    """The retention period of a removed document has not passed."""


def purge(actor: Actor | None, *, document_id: Any, store: BlobStore | None = None,
          now: datetime | None = None) -> None:
    """Erase a removed document's files and metadata for good (admins, after the retention period).

    The row first loses its data keys (so the blobs are unreadable at once), then the blobs are deleted;
    a blob that can't be deleted now is reported by `portal storage sweep`. A tombstone stays.
    """
    what = "document.purge"
    now = now or utcnow()
    with unit_of_work() as session:
        doc = _load(session, document_id)
        actor = _require(session, actor, Action.DOCUMENT_PURGE, what, patient_id=doc.patient_id, document_id=doc.id)
        if doc.status != Status.DELETED:
            raise PurgeTooEarly("Only a removed document can be purged. Remove it first.")
        allowed_from = _purge_from(doc)
        if allowed_from is None or now < allowed_from:
            raise PurgeTooEarly("This document was removed recently and is kept for "
                                f"{purge_after_days()} days. It can be purged from "
                                f"{plain_day(allowed_from) or 'later'}.")
        keys = []
        for version in session.exec(select(DocumentVersion).where(DocumentVersion.document_id == doc.id)).all():
            if version.object_key:
                keys.append(version.object_key)
            version.object_key = version.wrapped_key = version.filename = None
            version.uploaded_by_name = version.replaced_by_name = None
            session.add(version)
        doc.title = doc.source = doc.note = doc.service_date = doc.delete_reason = doc.uploaded_by_name = None
        doc.status, doc.purged_at, doc.purged_by, doc.updated_at = Status.PURGED, now, actor.user_id, now
        session.add(doc)
        session.flush()
        audit.record(session, actor, what, patient_id=doc.patient_id, object_type=OBJECT, object_id=doc.id,
                     detail={"versions": len(keys)})
    store = store or get_blob_store()
    for key in keys:
        blobs.discard(store, key)
