"""Backups of the embedded mode: a consistent copy of the SQLite database and the blob folder.

The copy holds ciphertext only; the keys are NOT included (keep them apart from the backups, or
the backups are as sensitive as the keys). PostgreSQL and S3 have their own tools: pg_dump and
bucket versioning/replication.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from patient_portal.settings import get_settings

MANIFEST = "portal-backup.json"


class BackupError(Exception):
    """The backup or restore cannot be done as asked; the message says why."""


@dataclass(frozen=True)
class BackupReport:
    folder: Path
    database_bytes: int
    blob_files: int


def _sqlite_path() -> Path:
    settings = get_settings()
    if not settings.is_sqlite:
        raise BackupError("the database is PostgreSQL: back it up with pg_dump (see the README)")
    return Path(settings.db_url.split("///", 1)[1])


def _local_blob_dir() -> Path | None:
    settings = get_settings()
    return None if settings.uses_s3 else settings.blob_dir


def backup(destination: Path) -> BackupReport:
    """Write a new dated folder under `destination` with portal.db, blobs/ and a manifest."""
    source = _sqlite_path()
    if not source.exists():
        raise BackupError(f"no database at {source}")
    folder = Path(destination) / datetime.now(UTC).strftime("portal-%Y%m%d-%H%M%S")
    folder.mkdir(parents=True, exist_ok=False)
    target = folder / "portal.db"
    with sqlite3.connect(source) as live, sqlite3.connect(target) as copy:
        live.backup(copy)  # SQLite's online backup: consistent while the app writes
    files = 0
    blobs = _local_blob_dir()
    if blobs is not None and blobs.exists():
        shutil.copytree(blobs, folder / "blobs", ignore=shutil.ignore_patterns(".part-*", ".ping"))
        files = sum(1 for p in (folder / "blobs").rglob("*") if p.is_file())
    manifest = {"created_at": datetime.now(UTC).isoformat(), "database": "portal.db",
                "blobs": files, "keys_included": False}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2))
    return BackupReport(folder, target.stat().st_size, files)


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
