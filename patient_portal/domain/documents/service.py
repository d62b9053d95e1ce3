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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, NoReturn

from sqlalchemy import Integer, and_, bindparam, func
from sqlmodel import Session, select

from patient_portal.core import audit, crypto
from patient_portal.core.access import AccessDenied, Action, Actor, Resource, Role, decide, refuse, require
from patient_portal.core.clock import plain_day
from patient_portal.core.db import new_id, read_only, unit_of_work, utcnow
from patient_portal.core.errors import Conflict
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
from patient_portal.domain.patients.header import ChartHeader, with_header
from patient_portal.domain.patients.models import STATUS_MERGED, Patient
from patient_portal.domain.sensitive import service as sensitive
from patient_portal.domain.sensitive.dto import DOCUMENT as SENSITIVE_KIND
from patient_portal.domain.sensitive.models import SensitiveRecord
from patient_portal.settings import get_settings

PAGE_SIZE = 25
SORTS = ("date_desc", "date_asc", "title", "category", "source", "uploaded_desc")
OBJECT = "document"


def purge_after_days() -> int:
    """Days a removed document is kept before an admin may purge it (PORTAL_DOCUMENT_PURGE_AFTER_DAYS)."""
    return get_settings().document_purge_after_days


def purgeable_count(session: Session, now: datetime | None = None) -> int:
    """Removed documents past their retention period, waiting for an admin's purge (counts only:
    the Retention page shows it; no policy, no patient data)."""
    cutoff = (now or utcnow()) - timedelta(days=purge_after_days())
    return int(session.exec(select(func.count()).select_from(Document).where(
        Document.status == Status.DELETED, Document.deleted_at < cutoff)).one())


# ---------------------------------------------------------------- policy helpers


def _deny(session: Session, actor: Actor | None, what: str, *, patient_id: uuid.UUID | None,
          document_id: uuid.UUID | None, message: str | None = None, reason: str = "rule") -> NoReturn:
    """Refuse by a documents rule (held, removed …): core.access.refuse, with the document named."""
    refuse(session, actor, what, reason=reason, patient_id=patient_id, object_type=OBJECT if document_id else None,
           object_id=document_id, message=message)


def _allowed(session: Session, actor: Actor | None, action: Action, patient_id: uuid.UUID) -> bool:
    """The policy's answer without a refusal (for what the screen offers)."""
    return decide(session, actor, action, Resource(patient_id=patient_id)).allowed


def _require(session: Session, actor: Actor | None, action: Action, what: str, *, patient_id: uuid.UUID,
             document_id: uuid.UUID | None = None, resource: Resource | None = None) -> Actor:
    """core.access.require, audited as `what` on the document (`resource`: the document's own, when
    it is marked sensitive)."""
    require(session, actor, action, resource or Resource(patient_id=patient_id), audit_as=what,
            object_type=OBJECT if document_id else None, object_id=document_id,
            message=SENSITIVE_REFUSAL if resource is not None and resource.sensitivity else None)
    assert actor is not None
    return actor


SENSITIVE_REFUSAL = ("This document is marked sensitive: only the patient's own clinicians see it. Emergency access "
                     "opens it.")


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


def _held_from(actor: Actor, doc: Document) -> bool:
    """Is this document held back from this actor (a patient, before the release date)?"""
    return _is_held(actor, doc.hold_until, _today())


def _is_admin(actor: Actor) -> bool:
    return actor.role == Role.ADMIN


def _visible_categories(actor: Actor) -> list[str]:
    return [c.value for c in Category if actor.can(read_action(c))]


def category_choices(actor: Actor, *, for_upload: bool) -> list[tuple[str, str]]:
    """(value, label) of the categories this actor's role may upload, or may see (for UI choices)."""
    wanted = write_action if for_upload else read_action
    return [(c.value, category_label(c.value)) for c in Category if actor.can(wanted(c))]


def seen_kinds(actor: Actor) -> str:
    """Which of a patient's documents this role sees, in words, when it may not see them all ("" when
    it sees every category): an empty list must not read as "there are none" to someone it hides
    documents from (the front desk sees administrative documents only)."""
    visible = _visible_categories(actor)
    if len(visible) == len(Category):
        return ""
    labels = [category_label(c).lower() + "s" for c in visible]
    if not labels:
        return "none of a patient's documents"
    listed = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]
    if all(not is_clinical(c) for c in visible):
        return f"administrative documents only ({listed})"
    if all(is_clinical(c) for c in visible):
        return f"clinical documents only ({listed})"
    return listed + " only"


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
                     document_id=doc.id, resource=sensitive.resource_for(session, doc.patient_id, SENSITIVE_KIND,
                                                                         doc.id, doc.uploaded_by))
    if doc.status == Status.DELETED and not _is_admin(actor):
        raise DocumentNotFound()
    return actor, doc


def _may_write(session: Session, actor: Actor, doc: Document) -> bool:
    return _allowed(session, actor, write_action(doc.category), doc.patient_id)


#: "May the actor write documents of this one's category for its patient?" — see `_policy_writes`
#: (the gates of actions) and `_role_writes` (display flags of a list).
Writes = Callable[["Document | _Listed"], bool]


def _policy_writes(session: Session, actor: Actor) -> Writes:
    """Ask the policy, once per write action and patient (memoized): for the gates of actions and the
    flags of the one document an action returns."""
    asked: dict[tuple[Action, uuid.UUID], bool] = {}

    def may(doc: Document | _Listed) -> bool:
        key = (write_action(doc.category), doc.patient_id)
        if key not in asked:
            asked[key] = _allowed(session, actor, key[0], doc.patient_id)
        return asked[key]

    return may


def _role_writes(actor: Actor) -> Writes:
    """The role matrix's answer, for the display flags of a list whose patient the policy has just let
    the actor reach (the list's own authorization): screens hide what ``actor.can()`` says no to, and
    adding a version, removing or holding asks the policy again when it is done."""
    return lambda doc: actor.can(write_action(doc.category))


def _may_add_version(actor: Actor, doc: Document | _Listed, may_write: Writes) -> bool:
    if doc.status != Status.ACTIVE or (actor.role == Role.PATIENT and doc.uploaded_by != actor.user_id):
        return False
    return may_write(doc)


def _may_delete(actor: Actor, doc: Document | _Listed, may_write: Writes) -> bool:
    if doc.status != Status.ACTIVE:
        return False
    return _is_admin(actor) or (doc.uploaded_by == actor.user_id and may_write(doc))


def _may_hold(actor: Actor, doc: Document | _Listed, may_write: Writes) -> bool:
    return (doc.status == Status.ACTIVE and may_hold(actor) and is_clinical(doc.category)
            and not doc.provided_by_patient and may_write(doc))


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

    Built once per document (`_shown` from a loaded row, `_key_shown` from a list's sort keys);
    the DTO takes its title, source and note from here and lists sort, filter and count on nothing
    else. A held document shows its category label as its title and no source or note, so anything
    computed from the real values (where it sorts among documents the patient uploads as probes,
    whether a search finds it) would give away what the hold hides.
    """

    id: uuid.UUID
    held: bool
    title: str
    source: str | None
    note: str | None
    category_label: str
    service_date: date | None
    uploaded_at: datetime


def _is_held(actor: Actor, hold_until: date | None, today: date) -> bool:
    return actor.role == Role.PATIENT and hold_until is not None and today < hold_until


def _shown(actor: Actor, doc: Document | _Listed, today: date | None = None) -> _Shown:
    held = _is_held(actor, doc.hold_until, today or _today())
    label = category_label(doc.category)
    return _Shown(id=doc.id, held=held, title=label if held else (doc.title or label),
                  source=None if held else doc.source, note=None if held else doc.note,
                  category_label=label, service_date=doc.service_date, uploaded_at=doc.created_at)


def _summary(actor: Actor, doc: Document | _Listed, file_kind: str, size_bytes: int, may_write: Writes,
             shown: _Shown | None = None) -> DocumentSummary:
    shown = shown or _shown(actor, doc)
    held = shown.held
    kind = KINDS.get(file_kind)
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
        kind=file_kind,
        size_bytes=size_bytes,
        previewable=bool(kind and kind.previewable) and not held,
        status=Status(doc.status).value,
        hold_until=doc.hold_until if (doc.hold_until and _today() < doc.hold_until) else None,
        restricted=held,
        deleted_at=doc.deleted_at if admin else None,
        delete_reason=doc.delete_reason if admin else None,
        can_add_version=_may_add_version(actor, doc, may_write),
        can_delete=_may_delete(actor, doc, may_write),
        can_hold=_may_hold(actor, doc, may_write),
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
    with read_only() as session:  # the first check only reads: no write lock, no commit to wait for
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
            return _summary(actor, doc, version.kind, version.size_bytes, _policy_writes(session, actor))
    except BaseException:
        blobs.discard(store, blob.object_key)
        raise


def upload_version(actor: Actor | None, *, document_id: Any, filename: str, chunks: Iterable[bytes],
                   store: BlobStore | None = None) -> DocumentSummary:
    """Store a corrected file as the document's next version; earlier versions stay viewable."""
    what = "document.version.upload"
    filename = clean_filename(filename)
    with read_only() as session:  # the first check only reads: no write lock, no commit to wait for
        actor, doc = _readable(session, actor, document_id, what)
        if not _may_add_version(actor, doc, _policy_writes(session, actor)):
            _deny(session, actor, what, patient_id=doc.patient_id, document_id=doc.id)
        patient_id, doc_id = doc.patient_id, doc.id
    store = store or get_blob_store()
    version_id = new_id()
    blob = _store(actor, what, patient_id, doc_id, store, chunks, filename, version_id)
    try:
        with unit_of_work() as session:
            doc = _load(session, doc_id)
            writes = _policy_writes(session, actor)
            if not _may_add_version(actor, doc, writes):
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
            return _summary(actor, doc, version.kind, version.size_bytes, writes)
    except BaseException:
        blobs.discard(store, blob.object_key)
        raise


# ---------------------------------------------------------------- reading


def _sort_key(sort: str) -> tuple[Callable[[_Shown], tuple], bool]:
    """(key, reverse) for one of SORTS. Keys read only the viewer's `_Shown` values; ties end on the
    upload time and the id (both shown), so the order never depends on anything hidden."""
    def last(s: _Shown) -> tuple:
        return (s.uploaded_at, s.id)

    keys: dict[str, Callable[[_Shown], tuple]] = {
        "date_desc": lambda s: (s.service_date or date.min, *last(s)),
        "date_asc": lambda s: (s.service_date or date.max, *last(s)),
        "title": lambda s: (s.title.casefold(), *last(s)),
        "category": lambda s: (s.category_label, s.title.casefold(), *last(s)),
        "source": lambda s: (s.source is None, (s.source or "").casefold(), s.title.casefold(), *last(s)),
        "uploaded_desc": last,
    }
    return keys[sort], sort in ("date_desc", "uploaded_desc")


#: The encrypted columns each sort reads (filters add theirs): nothing else is fetched or decrypted.
_SORT_NEEDS: dict[str, frozenset[str]] = {
    "date_desc": frozenset({"service_date"}), "date_asc": frozenset({"service_date"}),
    "title": frozenset({"title"}), "category": frozenset({"title"}), "source": frozenset({"source", "title"}),
    "uploaded_desc": frozenset(),
}
_KEY_COLUMNS = {"title": ("str", Document.title), "source": ("str", Document.source),
                "service_date": ("date", Document.service_date)}


def _decrypt(kind: str, column: str, token: str | None, row_id: uuid.UUID) -> Any:
    return crypto.decrypt_value(kind, token, Document.__tablename__, column, row_id)


def _key_shown(actor: Actor, row: Any, needs: frozenset[str], today: date) -> _Shown:
    """A list row's `_Shown` from its sort keys, decrypting only the columns in `needs`, and for a
    document held from this viewer only what the viewer is shown (its label; no source)."""
    held = _is_held(actor, row.hold_until, today)
    label = category_label(row.category)
    title, source = label, None
    if not held:
        if "title" in needs:
            title = _decrypt("str", "title", row.title, row.id) or label
        if "source" in needs:
            source = _decrypt("str", "source", row.source, row.id)
    service_date = _decrypt("date", "service_date", row.service_date, row.id) if "service_date" in needs else None
    return _Shown(id=row.id, held=held, title=title, source=source, note=None, category_label=label,
                  service_date=service_date, uploaded_at=row.created_at)


@dataclass(frozen=True)
class _Listed:
    """One row of a list page: the document columns a summary reads, decrypted only as far as this
    viewer is shown them (nothing of a held document's title, source or note; a removal's reason
    for admins only), and its current file's kind and size."""

    id: uuid.UUID
    patient_id: uuid.UUID
    category: str
    title: str | None
    service_date: date | None
    source: str | None
    note: str | None
    provided_by_patient: bool
    uploaded_by: uuid.UUID
    uploaded_by_name: str | None
    current_version: int
    status: str
    hold_until: date | None
    deleted_at: datetime | None
    delete_reason: str | None
    created_at: datetime
    kind: str
    size_bytes: int


_PAGE_STATEMENT: list[Any] = []


def _page_statement() -> Any:
    if not _PAGE_STATEMENT:
        _PAGE_STATEMENT.append(select(
            Document.id, Document.patient_id, Document.category, Document.title, Document.service_date,
            Document.source, Document.note, Document.provided_by_patient, Document.uploaded_by,
            Document.uploaded_by_name, Document.current_version, Document.status, Document.hold_until,
            Document.deleted_at, Document.delete_reason, Document.created_at, DocumentVersion.kind,
            DocumentVersion.size_bytes,
        ).join(DocumentVersion, and_(DocumentVersion.document_id == Document.id,
                                     DocumentVersion.number == Document.current_version))
            .where(Document.id.in_(bindparam("ids", expanding=True))))  # type: ignore[attr-defined]
    return _PAGE_STATEMENT[0]


def _page_rows(session: Session, actor: Actor, ids: list[uuid.UUID], today: date) -> dict[uuid.UUID, _Listed]:
    """The page's documents with their current versions: one statement, columns only (no ORM loading)."""
    if not ids:
        return {}
    admin = _is_admin(actor)
    out = {}
    for row in session.exec(_page_statement(), params={"ids": ids}).all():
        held = _is_held(actor, row.hold_until, today)

        def plain(kind: str, column: str, reveal: bool = True, row: Any = row) -> Any:
            return _decrypt(kind, column, getattr(row, column), row.id) if reveal else None

        out[row.id] = _Listed(
            id=row.id, patient_id=row.patient_id, category=row.category, title=plain("str", "title", not held),
            service_date=plain("date", "service_date"), source=plain("str", "source", not held),
            note=plain("str", "note", not held), provided_by_patient=row.provided_by_patient,
            uploaded_by=row.uploaded_by, uploaded_by_name=plain("str", "uploaded_by_name"),
            current_version=row.current_version, status=row.status, hold_until=row.hold_until,
            deleted_at=row.deleted_at, delete_reason=plain("str", "delete_reason", admin), created_at=row.created_at,
            kind=row.kind, size_bytes=row.size_bytes)
    return out


def list_documents(actor: Actor | None, *, patient_id: Any, **ask: Any) -> DocumentPage:
    """One page of a patient's documents the actor may see, filtered, sorted and counted on the server
    on what the actor is shown of each (see `_Shown`); PatientNotFound for an id naming no record.

    A fixed number of statements, whatever the page holds: the policy is asked once (the list's read);
    one statement checks the record exists and fetches, for the patient's documents in the categories
    and statuses the actor may see (filtered in SQL), the id, upload time, category and hold date and
    only the encrypted columns the chosen filters and sort read; one statement loads the page's rows
    with their current versions (columns, decrypted as far as the viewer is shown them); then the audit
    event. Nothing is read or asked per row.

    Filtering by source or date and sorting by title, source or date happen here, not in SQL: those
    columns are AES-GCM ciphertext under random nonces, so neither order nor substring survives in the
    database. The keys are decrypted once per document — and for a document held from the viewer not at
    all: it sorts and filters by its category label and by having no source, as it is shown. The row
    flags (may add a version, remove, hold) come from the role matrix for the patient this read just
    let the actor reach; each of those actions asks the policy itself when it is done.
    """
    with unit_of_work() as session:
        return _list(session, actor, patient_id=patient_id, **ask)


def list_in(session: Session, actor: Actor | None, *, patient_id: Any, **ask: Any) -> DocumentPage:
    """``list_documents`` inside the caller's unit of work (the FHIR API reads a patient's whole
    compartment in one unit); the same policy question and the same one audit event."""
    return _list(session, actor, patient_id=patient_id, **ask)


def open_list(actor: Actor | None, *, patient_id: Any, **ask: Any) -> tuple[ChartHeader, DocumentPage]:
    """A chart's documents page opened: the chart header and the first list, in one unit with ONE
    audit event ("document.list" whose `header` names what the header showed), so the patient's
    access log has one entry for the page. Refusals and errors as ``list_documents`` (the header's
    own check comes first: someone who may not reach the patient is refused as for the chart)."""
    with unit_of_work() as session:
        return with_header(session, actor, patient_id, _list, patient_id=patient_id, **ask)


def _list(session: Session, actor: Actor | None, *, patient_id: Any, category: str | None = None,
          source: str | None = None, date_from: Any = None, date_to: Any = None, sort: str = "date_desc",
          page: int = 1, page_size: int = PAGE_SIZE, include_removed: bool = False,
          header_sections: list[str] | None = None) -> DocumentPage:
    """``list_documents`` inside the caller's unit; `header_sections`: the chart header read in the same
    unit showed these (recorded in this read's event)."""
    what = "document.list"
    if sort not in SORTS:
        sort = "date_desc"
    page_size = max(1, min(int(page_size), 50))
    errors: dict[str, str] = {}
    from_d = _parse_filter_date(date_from, "date_from", errors)
    to_d = _parse_filter_date(date_to, "date_to", errors)
    if errors:
        raise DocumentInvalid(errors)
    needle = " ".join((source or "").casefold().split())
    needs = _SORT_NEEDS[sort] | ({"source"} if needle else set()) | ({"service_date"} if from_d or to_d else set())
    wanted = Action.CLINICAL_DOC_READ if actor and actor.can(Action.CLINICAL_DOC_READ) else Action.ADMIN_DOC_READ
    patient_uuid = patients.as_uuid(patient_id)
    decision = require(session, actor, wanted, Resource(patient_id=patient_uuid), audit_as=what)
    assert actor is not None
    categories = _visible_categories(actor)
    if category:
        categories = [c for c in categories if c == category]
    statuses = [Status.ACTIVE.value]
    if include_removed and _is_admin(actor):
        statuses.append(Status.DELETED.value)
    columns = [Patient.status.label("patient_status"), Document.id, Document.category,  # type: ignore[attr-defined]
               Document.created_at, Document.hold_until,
               *(column.label(name) for name, (_kind, column) in _KEY_COLUMNS.items() if name in needs)]
    marked_on, marked = sensitive.mark_columns(SENSITIVE_KIND, Document.id)
    rows = session.exec(select(*columns, *marked).select_from(Patient).outerjoin(Document, and_(
        Document.patient_id == Patient.id, Document.category.in_(categories),  # type: ignore[attr-defined]
        Document.status.in_(statuses),  # type: ignore[attr-defined]
    )).outerjoin(SensitiveRecord, marked_on).where(Patient.id == patient_uuid)).all()
    if not rows or rows[0].patient_status == STATUS_MERGED:  # as patients.load: no record, or merged
        raise patients.PatientNotFound()
    today = _today()
    listed = [row for row in rows if row.id is not None]
    visible = [row for row in listed if sensitive.rows_shown(session, actor, decision, row)]
    shown = [_key_shown(actor, row, needs, today) for row in visible]
    shown = [s for s in shown
             if (not needle or needle in (s.source or "").casefold())
             and (from_d is None or (s.service_date is not None and s.service_date >= from_d))
             and (to_d is None or (s.service_date is not None and s.service_date <= to_d))]
    key, reverse = _sort_key(sort)
    shown.sort(key=key, reverse=reverse)
    page = max(1, int(page))
    chosen = [s.id for s in shown[(page - 1) * page_size: page * page_size]]
    loaded = _page_rows(session, actor, chosen, today)
    writes = _role_writes(actor)
    items = [_summary(actor, loaded[doc_id], loaded[doc_id].kind, loaded[doc_id].size_bytes, writes,
                      _shown(actor, loaded[doc_id], today)) for doc_id in chosen if doc_id in loaded]
    detail: dict[str, Any] = {"count": len(items), "filters": sorted(k for k, v in {
        "category": category, "source": source, "date_from": date_from, "date_to": date_to}.items() if v)}
    if header_sections is not None:
        detail["header"] = list(header_sections)
    withheld = len(listed) - len(visible)
    if withheld:
        detail["withheld"] = withheld
    audit.record(session, actor, what, patient_id=patient_uuid, object_type=OBJECT, detail=detail)
    return DocumentPage(items, len(shown), page, page_size, withheld=withheld)


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


def list_versions(actor: Actor | None, document_id: Any) -> list[VersionInfo]:
    """Every version of a document, newest first, with who replaced each and when."""
    what = "document.versions.read"
    with unit_of_work() as session:
        actor, doc = _readable(session, actor, document_id, what)
        if _held_from(actor, doc):
            _deny(session, actor, what, patient_id=doc.patient_id, document_id=doc.id,
                  message=_held_message(doc.hold_until))
        rows = session.exec(select(DocumentVersion).where(DocumentVersion.document_id == doc.id)
                            .order_by(DocumentVersion.number.desc())).all()  # type: ignore[attr-defined]
        audit.record(session, actor, what, patient_id=doc.patient_id, object_type=OBJECT, object_id=doc.id)
        return [VersionInfo(number=v.number, filename=v.filename or "", kind=v.kind, size_bytes=v.size_bytes,
                            uploaded_by_name=v.uploaded_by_name or "", uploaded_at=v.created_at,
                            replaced_by_name=v.replaced_by_name, replaced_at=v.replaced_at,
                            current=v.number == doc.current_version, available=v.object_key is not None)
                for v in rows]


def _held_message(hold_until: date | None) -> str:
    return ("Your care team would like to talk this document through with you first. It will be available "
            f"on {plain_day(hold_until) or 'a later date'}.")


@dataclass(frozen=True)
class _Content:
    """What opening a file needs of a document and one of its versions (no other column is read)."""

    document_id: uuid.UUID
    patient_id: uuid.UUID
    version_id: uuid.UUID
    number: int
    object_key: str
    wrapped_key: str
    size_bytes: int
    kind: str
    filename: str


_CONTENT_STATEMENTS: dict[bool, Any] = {}


def _content_statement(current: bool) -> Any:
    """One prepared statement (document + the version asked for) per case: the current version, or the
    one bound as ``number``. Columns only, so opening a file costs no ORM loading and one decryption."""
    cached = _CONTENT_STATEMENTS.get(current)
    if cached is None:
        number = Document.current_version if current else bindparam("number", type_=Integer)
        marked_on, marked = sensitive.mark_columns(SENSITIVE_KIND, Document.id)
        cached = select(
            Document.id, Document.patient_id, Document.category, Document.status, Document.hold_until,
            DocumentVersion.id.label("version_id"), DocumentVersion.number, DocumentVersion.object_key,
            DocumentVersion.wrapped_key, DocumentVersion.size_bytes, DocumentVersion.kind, DocumentVersion.filename,
            Document.uploaded_by, *marked,
        ).select_from(Document).outerjoin(DocumentVersion, and_(
            DocumentVersion.document_id == Document.id, DocumentVersion.number == number,
        )).outerjoin(SensitiveRecord, marked_on).where(Document.id == bindparam("document_id"))
        _CONTENT_STATEMENTS[current] = cached
    return cached


def _content_version(session: Session, actor: Actor | None, document_id: Any, version: int | None,
                     what: str) -> tuple[Actor, _Content]:
    """One version (the current one when `version` is None) of a document whose content the actor may
    read: one statement, then the same checks as `_readable` and the hold."""
    try:
        doc_id = uuid.UUID(str(document_id))
        params: dict[str, Any] = {"document_id": doc_id} if version is None else {"document_id": doc_id,
                                                                                   "number": int(version)}
    except (TypeError, ValueError):
        raise DocumentNotFound() from None
    row = session.exec(_content_statement(version is None), params=params).first()
    if row is None or row.status == Status.PURGED:
        raise DocumentNotFound()
    marked = Resource(patient_id=row.patient_id, sensitivity=row.sensitivity,
                      author_id=row.sensitive_author if row.sensitivity else row.uploaded_by,
                      assigned=frozenset(uuid.UUID(str(u)) for u in row.sensitive_assigned or []))
    actor = _require(session, actor, read_action(row.category), what, patient_id=row.patient_id, document_id=row.id,
                     resource=marked if row.sensitivity else None)
    if row.status == Status.DELETED and not _is_admin(actor):
        raise DocumentNotFound()
    if _is_held(actor, row.hold_until, _today()):
        _deny(session, actor, what, patient_id=row.patient_id, document_id=row.id,
              message=_held_message(row.hold_until))
    if row.version_id is None or row.object_key is None or row.wrapped_key is None:
        raise DocumentNotFound("That version of the document does not exist.")
    filename = crypto.decrypt_value("str", row.filename, DocumentVersion.__tablename__, "filename", row.version_id)
    return actor, _Content(row.id, row.patient_id, row.version_id, row.number, row.object_key, row.wrapped_key,
                           row.size_bytes, row.kind, filename or "document")


def link_for(actor: Actor | None, *, document_id: Any, purpose: str, version: int | None = None) -> str:
    """A 5-minute link to the file, bound to the actor's session (the endpoint re-checks everything)."""
    if purpose not in links.PURPOSES:
        raise ValueError(purpose)
    with unit_of_work() as session:
        actor, row = _content_version(session, actor, document_id, version, f"document.{purpose}")
        if actor.session_id is None:
            raise AccessDenied("Please sign in again.")
        if purpose == "preview" and not (KINDS.get(row.kind) and KINDS[row.kind].previewable):
            raise DocumentInvalid({"preview": "This kind of file can't be previewed; download it instead."})
        token = links.sign(document_id=row.document_id, version=row.number, purpose=purpose,
                           session_id=actor.session_id)
        return f"/api/documents/{row.document_id}/{purpose}?v={row.number}&t={token}"


def open_file(actor: Actor | None, *, document_id: Any, version: int | None = None, purpose: str = "download",
              store: BlobStore | None = None) -> OpenedFile:
    """Authorize, audit and open one version for reading; its first frame is verified before this returns.

    The file starts opening on a helper thread (the store's first-byte wait) while the read is audited
    and committed; nothing of it is handed out unless that commit succeeded. The returned chunks are
    authenticated frame by frame as they are read (see ``blobs.Download``): damage found part-way
    raises DocumentDamaged from the iteration (audited as a failed read), and whoever is sending the
    bytes on must then abort the transfer.

    A preview is never the stored bytes of a PDF or an image: it is drawn afresh out of process (the
    first page of a PDF, the first frame of an image), capped in size (see ``preview``); text and CSV
    previews are the text. PreviewUnavailable when it can't be drawn (the download still works).
    """
    what = f"document.{purpose}"
    store = store or get_blob_store()
    pending: blobs.PendingRead | None = None
    try:
        with unit_of_work() as session:
            actor, row = _content_version(session, actor, document_id, version, what)
            pending = blobs.start_reading(store, object_key=row.object_key, wrapped_key=row.wrapped_key,
                                          object_id=str(row.version_id), size=row.size_bytes)
            audit.record(session, actor, what, patient_id=row.patient_id, object_type=OBJECT,
                         object_id=row.document_id, detail={"version": row.number})
    except BaseException:
        if pending is not None:
            pending.cancel()
        raise
    patient_id, doc_id, size, filename, kind = row.patient_id, row.document_id, row.size_bytes, row.filename, row.kind

    def failed(exc: blobs.DocumentDamaged) -> None:
        audit.record_now(actor, what, patient_id=patient_id, object_type=OBJECT, object_id=doc_id,
                         outcome="failed", detail={"reason": exc.reason, "midway": exc.midway})

    try:
        download = pending.result()
    except blobs.DocumentDamaged as exc:
        failed(exc)
        raise
    if purpose == "preview" and kind in preview.DRAWN:
        try:
            data = b"".join(download)
        except blobs.DocumentDamaged as exc:
            failed(exc)
            raise blobs.damaged() from None  # nothing was sent yet: a plain error, not an aborted transfer
        drawn = preview.render(data, kind)  # raises PreviewUnavailable
        stem = filename.rsplit(".", 1)[0] or "document"
        return OpenedFile(filename=f"{stem} ({'page 1' if kind == 'pdf' else 'preview'}).{drawn.extension}",
                          media_type=drawn.media_type, size_bytes=len(drawn.data), chunks=iter([drawn.data]))

    def chunks() -> Iterator[bytes]:
        try:
            yield from download
        except blobs.DocumentDamaged as exc:
            failed(exc)
            raise

    return OpenedFile(filename=filename, media_type=KINDS[kind].media_type, size_bytes=size, chunks=chunks())


# ---------------------------------------------------------------- holds and removal


def set_hold(actor: Actor | None, *, document_id: Any, release_on: Any) -> DocumentSummary:
    """Hold a clinical document from the patient until `release_on` (None releases it now)."""
    what = "document.hold"
    with unit_of_work() as session:
        actor, doc = _readable(session, actor, document_id, what)
        writes = _policy_writes(session, actor)
        if not _may_hold(actor, doc, writes):
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
        current = _current(session, doc)
        return _summary(actor, doc, current.kind, current.size_bytes, writes)


def remove(actor: Actor | None, *, document_id: Any, reason: str) -> None:
    """Soft-delete a document with a reason (its author or an admin); the file is kept until purged."""
    what = "document.delete"
    reason = " ".join(str(reason or "").split())
    with unit_of_work() as session:
        actor, doc = _readable(session, actor, document_id, what)
        if not _may_delete(actor, doc, _policy_writes(session, actor)):
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
        current = _current(session, doc)
        return _summary(actor, doc, current.kind, current.size_bytes, _policy_writes(session, actor))


class PurgeTooEarly(Conflict, ValueError):
    """The retention period of a removed document has not passed (or it is not removed)."""


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


# ---------------------------------------------------------------- for the timeline (no policy: its caller authorizes and audits)


def timeline_items(session: Session, actor: Actor, patient_id: uuid.UUID, *, limit: int) -> Any:
    """The newest `limit` of the patient's documents as timeline events, when each was uploaded, and
    how many there are: only the categories this role reads, never a removed one, nor one held back
    from this actor. One statement over plain columns; the title, the one column decrypted, only for
    the documents kept (``timeline.dto``: the paged source contract)."""
    from patient_portal.domain.timeline.dto import Event, aware, newest

    rows = session.exec(select(Document.id, Document.category, Document.title, Document.created_at,
                               Document.provided_by_patient, Document.hold_until).where(
        Document.patient_id == patient_id, Document.status == Status.ACTIVE,
        Document.category.in_(_visible_categories(actor)))).all()  # type: ignore[attr-defined]
    today = _today()

    def words(row_id: uuid.UUID, category: str, title: str, by_patient: bool) -> tuple[str, str]:
        name = crypto.decrypt_value("str", title, Document.__tablename__, "title", row_id) or category_label(category)
        return "Document: " + name, category_label(category) + (", from the patient" if by_patient else "")

    return newest([Event(aware(created), "documents", str(row_id),
                         lambda row_id=row_id, category=category, title=title, by_patient=by_patient:
                         words(row_id, category, title, by_patient), f"/chart/{patient_id}/documents")
                   for row_id, category, title, created, by_patient, hold in rows
                   if not _is_held(actor, hold, today)], limit)
