"""Backups of the embedded mode: a consistent copy of the SQLite database and the blob folder.

The copy holds ciphertext only; the keys are NOT included (keep them apart from the backups, or
the backups are as sensitive as the keys). PostgreSQL and S3 have their own tools: pg_dump and
bucket versioning/replication.

Each backup first signs a fresh audit checkpoint (``core.audit_checkpoint``) and keeps a copy of
it as ``audit-checkpoint.json`` (and, in the copied blob folder, as the latest checkpoint): the
database copy then contains the chain up to and past that checkpoint, so `portal audit verify`
passes after a restore, and the copy outside the live store survives the store's loss.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from patient_portal.core import audit_checkpoint
from patient_portal.core.storage import BlobStoreError
from patient_portal.settings import get_settings

MANIFEST = "portal-backup.json"
CHECKPOINT_FILE = "audit-checkpoint.json"


class BackupError(Exception):
    """The backup or restore cannot be done as asked; the message says why."""


@dataclass(frozen=True)
class BackupReport:
    folder: Path
    database_bytes: int
    blob_files: int
    checkpoint: audit_checkpoint.Checkpoint | None = None
    checkpoint_problem: str = ""  # why there is no checkpoint (the backup itself was written)


def _sqlite_path() -> Path:
    settings = get_settings()
    if not settings.is_sqlite:
        raise BackupError("the database is PostgreSQL: back it up with pg_dump (see the README)")
    return Path(settings.db_url.split("///", 1)[1])


def _local_blob_dir() -> Path | None:
    settings = get_settings()
    return None if settings.uses_s3 else settings.blob_dir


def backup(destination: Path) -> BackupReport:
    """Write a new dated folder under `destination` with portal.db, blobs/, the audit checkpoint
    signed just before the copy, and a manifest. A checkpoint that cannot be written (chain or
    store problem) does not stop the backup: the report says why it is missing."""
    source = _sqlite_path()
    if not source.exists():
        raise BackupError(f"no database at {source}")
    checkpoint, problem = None, ""
    try:
        checkpoint = audit_checkpoint.write_checkpoint()
    except (audit_checkpoint.CheckpointError, BlobStoreError) as exc:
        problem = str(exc)
    folder = Path(destination) / datetime.now(UTC).strftime("portal-%Y%m%d-%H%M%S")
    folder.mkdir(parents=True, exist_ok=False)
    target = folder / "portal.db"
    with sqlite3.connect(source) as live, sqlite3.connect(target) as copy:
        live.backup(copy)  # SQLite's online backup: consistent while the app writes
    files = 0
    blobs = _local_blob_dir()
    if blobs is not None and blobs.exists():
        shutil.copytree(blobs, folder / "blobs", ignore=shutil.ignore_patterns(".part-*", ".ping"))
        if checkpoint is not None:  # a worker may have signed a newer one than this database copy holds
            (folder / "blobs" / audit_checkpoint.LATEST).write_bytes(checkpoint.to_bytes())
        files = sum(1 for p in (folder / "blobs").rglob("*") if p.is_file())
    if checkpoint is not None:
        (folder / CHECKPOINT_FILE).write_bytes(checkpoint.to_bytes())
    manifest = {"created_at": datetime.now(UTC).isoformat(), "database": "portal.db",
                "blobs": files, "keys_included": False,
                "audit_checkpoint": ({"file": CHECKPOINT_FILE, "seq": checkpoint.seq, "hash": checkpoint.hash,
                                      "at": checkpoint.at, "key_id": checkpoint.key_id} if checkpoint else None)}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2))
    return BackupReport(folder, target.stat().st_size, files, checkpoint, problem)


def restore(folder: Path) -> BackupReport:
    """Replace the instance's database and blob folder with a backup (the app must be stopped)."""
    folder = Path(folder)
    if not (folder / MANIFEST).exists() or not (folder / "portal.db").exists():
        raise BackupError(f"{folder} is not a portal backup (no {MANIFEST} or portal.db)")
    target = _sqlite_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    with sqlite3.connect(folder / "portal.db") as saved, sqlite3.connect(target) as live:
        saved.backup(live)
    files = 0
    blobs = _local_blob_dir()
    if blobs is not None and (folder / "blobs").exists():
        if blobs.exists():
            shutil.rmtree(blobs)
        shutil.copytree(folder / "blobs", blobs)
        files = sum(1 for p in blobs.rglob("*") if p.is_file())
    return BackupReport(folder, target.stat().st_size, files)
