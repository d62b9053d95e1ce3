"""Retention of Bulk Data exports: once an export has expired (``service.KEEP`` after it finished) its
NDJSON files are deleted from the blob store and the row keeps only that it was made — the files are
copies of the record, needed by nobody after the requester's download window."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from patient_portal.core.retention import rule
from patient_portal.core.storage import get_blob_store
from patient_portal.domain.fhir.models import DONE, FhirExport

EXPIRED = "expired"


def _expired(now: datetime):
    return (FhirExport.status == DONE, FhirExport.expires_at < now)


def _count(session: Session, now: datetime) -> int:
    return int(session.exec(select(func.count()).select_from(FhirExport).where(*_expired(now))).one())


@rule("fhir.exports", "Bulk Data export files (FHIR $export)", "until the export expires (its download window)",
      _count)
def _remove(session: Session, now: datetime) -> int:
    store = get_blob_store()
    gone = 0
    for export in session.exec(select(FhirExport).where(*_expired(now))).all():
        for f in export.files or []:
            store.delete(f["key"])
        export.status, export.files, export.progress = EXPIRED, [], "expired: files deleted"
        session.add(export)
        gone += 1
    return gone
