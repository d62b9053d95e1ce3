"""`portal storage sweep`: compare the blob store with the document rows, both ways.

* blobs without rows: left by an upload whose database write failed, or by a purge whose blob
  delete failed; encrypted and useless without their row's wrapped key, safe to remove;
* rows without blobs: a stored version whose object is missing — data loss to investigate.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlmodel import select

from patient_portal.core.db import unit_of_work
from patient_portal.core.storage import BlobStore, get_blob_store
from patient_portal.domain.documents.blobs import OBJECT_PREFIX, discard
from patient_portal.domain.documents.models import DocumentVersion


@dataclass
class SweepReport:
    blobs_without_rows: list[str] = field(default_factory=list)
    rows_without_blobs: list[tuple[uuid.UUID, int]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    checked_blobs: int = 0
    checked_rows: int = 0

    @property
    def clean(self) -> bool:
        return not self.blobs_without_rows and not self.rows_without_blobs


def _row_keys() -> dict[str, tuple[uuid.UUID, int]]:
    with unit_of_work() as session:
        rows = session.exec(select(DocumentVersion.object_key, DocumentVersion.document_id, DocumentVersion.number)
                            .where(DocumentVersion.object_key.is_not(None))).all()  # type: ignore[union-attr]
    return {key: (doc_id, number) for key, doc_id, number in rows}


def sweep(*, store: BlobStore | None = None, remove_orphans: bool = False) -> SweepReport:
    """Report orphans both ways; with `remove_orphans`, delete blobs that still have no row."""
    store = store or get_blob_store()
    rows = _row_keys()
    blob_keys = set(store.keys(OBJECT_PREFIX + "/"))
    report = SweepReport(checked_blobs=len(blob_keys), checked_rows=len(rows))
    report.blobs_without_rows = sorted(blob_keys - rows.keys())
    report.rows_without_blobs = sorted(rows[key] for key in rows.keys() - blob_keys)
    if remove_orphans and report.blobs_without_rows:
        still_orphaned = set(report.blobs_without_rows) - _row_keys().keys()  # an upload may just have committed
        for key in sorted(still_orphaned):
            discard(store, key)
            report.removed.append(key)
    return report
