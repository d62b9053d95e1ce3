"""A Bulk Data ``$export`` request and the NDJSON files it made.

The files are in the BlobStore, each encrypted with its own data key (``files`` holds the keys,
wrapped by the key ring, with the blob keys — so the column is encrypted too). An export belongs to
whoever asked: only they poll it and download its files, until ``expires_at``.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Field

from patient_portal.core.crypto import encrypted_field
from patient_portal.core.db import TimestampedTable

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"


class FhirExport(TimestampedTable, table=True):
    __tablename__ = "fhir_export"

    requested_by: uuid.UUID = Field(index=True)
    client_id: str | None = Field(default=None, max_length=128)
    level: str = Field(max_length=16)  # system | patient
    types: list = encrypted_field("json")  # resource types asked for (all served ones when none)
    request_url: str = encrypted_field("str")
    status: str = Field(default=QUEUED, max_length=16, index=True)
    progress: str = Field(default="queued", max_length=64)
    files: list | None = encrypted_field("json", nullable=True)  # [{type, key, wrapped, count}]
    done_at: datetime | None = None
    expires_at: datetime | None = None
