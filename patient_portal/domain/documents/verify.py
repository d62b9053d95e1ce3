"""`portal storage verify`: read every stored document file back and check it against its row.

Downloads trust the file format (each AES-GCM frame authenticates its index, the last-frame flag and
the object id) and no longer hash what they send; this is where the SHA-256 of the plaintext kept
on each version row (exports and integrity reports use it) is checked, together with every frame's
tag and the length. Rows are read in batches by id (keyset, one short read-only transaction each,
never held open while files are read); each batch's files are checked a few at a time in parallel,
since reading from an object store is mostly waiting. A failure names the document and version
only — no title, file name or patient — and says what was wrong.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import select

from patient_portal.core import audit
from patient_portal.core.db import read_only, unit_of_work
from patient_portal.core.storage import BlobStore, get_blob_store
from patient_portal.domain.documents.blobs import verify_stored
from patient_portal.domain.documents.models import DocumentVersion

BATCH = 100
WORKERS = 4


@dataclass(frozen=True)
class Failure:
    document_id: uuid.UUID
    version: int
    reason: str


@dataclass
class VerifyReport:
    checked: int = 0
    batches: int = 0
    failures: list[Failure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


def _batches(size: int) -> Iterator[list[Any]]:
    """The stored versions (those with an object), `size` at a time, in id order."""
    after: uuid.UUID | None = None
    while True:
        query = (select(DocumentVersion.id, DocumentVersion.document_id, DocumentVersion.number,
                        DocumentVersion.object_key, DocumentVersion.wrapped_key, DocumentVersion.sha256,
                        DocumentVersion.size_bytes)
                 .where(DocumentVersion.object_key.is_not(None))  # type: ignore[union-attr]
                 .order_by(DocumentVersion.id).limit(size))
        if after is not None:
            query = query.where(DocumentVersion.id > after)
        with read_only() as session:
            rows = list(session.exec(query).all())
        if not rows:
            return
        yield rows
        after = rows[-1].id


def _check(store: BlobStore, row: Any) -> Failure | None:
    if not row.wrapped_key:
        return Failure(row.document_id, row.number, "the row has no file key")
    reason = verify_stored(store, object_key=row.object_key, wrapped_key=row.wrapped_key, object_id=str(row.id),
                           sha256=row.sha256, size=row.size_bytes)
    return None if reason is None else Failure(row.document_id, row.number, reason)


def verify(*, store: BlobStore | None = None, batch: int = BATCH, workers: int = WORKERS,
           on_batch: Callable[[int, int, list[Failure]], None] | None = None) -> VerifyReport:
    """Check every stored file; `on_batch(number, checked_in_batch, failures_in_batch)` after each batch."""
    store = store or get_blob_store()
    report = VerifyReport()
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="portal-verify") as pool:
        for rows in _batches(max(1, batch)):
            found = [f for f in pool.map(lambda row: _check(store, row), rows) if f is not None]
            report.batches += 1
            report.checked += len(rows)
            report.failures.extend(found)
            if on_batch is not None:
                on_batch(report.batches, len(rows), found)
    with unit_of_work() as session:  # the operator's integrity check is part of the trail (no PHI)
        audit.record(session, None, "storage.verify", object_type="document_version",
                     outcome="success" if not report.failures else "failed",
                     detail={"checked": report.checked, "failed": len(report.failures),
                             "documents": sorted({str(f.document_id) for f in report.failures})[:100]})
    return report


def verify_sample(limit: int = 20, *, store: BlobStore | None = None) -> tuple[int, list[Failure]]:
    """Check the `limit` newest stored files (``portal doctor``'s quick look; the full pass is
    ``verify``): how many were checked and what failed. Not audited: it reads no patient data."""
    store = store or get_blob_store()
    with read_only() as session:
        rows = list(session.exec(
            select(DocumentVersion.id, DocumentVersion.document_id, DocumentVersion.number, DocumentVersion.object_key,
                   DocumentVersion.wrapped_key, DocumentVersion.sha256, DocumentVersion.size_bytes)
            .where(DocumentVersion.object_key.is_not(None))  # type: ignore[union-attr]
            .order_by(DocumentVersion.created_at.desc()).limit(max(1, limit))).all())  # type: ignore[attr-defined]
    return len(rows), [f for f in (_check(store, row) for row in rows) if f is not None]
