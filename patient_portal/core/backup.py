"""Backups of the embedded mode: a consistent copy of the SQLite database and the blob folder.

The copy holds ciphertext only; the keys are NOT included (keep them apart from the backups, or
the backups are as sensitive as the keys). PostgreSQL and S3 have their own tools: pg_dump and
bucket versioning/replication.

The database copy is encrypted as a whole (``portal.db.enc``: AES-256-GCM in frames under a fresh
data key, wrapped by the key ring like a document's), so even its unencrypted columns (times, codes,
account emails) are unreadable without the keys. The manifest records each table's row count and
each copied file's SHA-256, which ``core.backup_drill`` (``portal backup verify``) checks against a
scratch restore. Backups written before encryption (a plain ``portal.db``) still restore.

Each backup first signs a fresh audit checkpoint (``core.audit_checkpoint``) and keeps a copy of
it as ``audit-checkpoint.json`` (and, in the copied blob folder, as the latest checkpoint): the
database copy then contains the chain up to and past that checkpoint, so `portal audit verify`
passes after a restore, and the copy outside the live store survives the store's loss.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from patient_portal.core import audit_checkpoint, crypto
from patient_portal.core.storage import BlobStoreError
from patient_portal.settings import get_settings

MANIFEST = "portal-backup.json"
CHECKPOINT_FILE = "audit-checkpoint.json"
ENCRYPTED_DB = "portal.db.enc"


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


def backup(destination: Path, *, at: datetime | None = None) -> BackupReport:
    """Write a new dated folder under `destination` with portal.db, blobs/, the audit checkpoint
    signed just before the copy, and a manifest; the folder is named for `at` (default now). A checkpoint that cannot be written (chain or
    store problem) does not stop the backup: the report says why it is missing."""
    source = _sqlite_path()
    if not source.exists():
        raise BackupError(f"no database at {source}")
    checkpoint, problem = None, ""
    try:
        checkpoint = audit_checkpoint.write_checkpoint()
    except (audit_checkpoint.CheckpointError, BlobStoreError) as exc:
        problem = str(exc)
    folder = Path(destination) / (at or datetime.now(UTC)).strftime("portal-%Y%m%d-%H%M%S")
    folder.mkdir(parents=True, exist_ok=False)
    with tempfile.TemporaryDirectory(dir=folder) as scratch:
        plain = Path(scratch) / "portal.db"
        with sqlite3.connect(source) as live, sqlite3.connect(plain) as copy:
            live.backup(copy)  # SQLite's online backup: consistent while the app writes
        tables = table_counts(plain)
        database_bytes = plain.stat().st_size
        wrapped = _encrypt_file(plain, folder / ENCRYPTED_DB, _object_id(folder))
    files, hashes = 0, {}
    blobs = _local_blob_dir()
    if blobs is not None and blobs.exists():
        shutil.copytree(blobs, folder / "blobs", ignore=shutil.ignore_patterns(".part-*", ".ping"))
        if checkpoint is not None:  # a worker may have signed a newer one than this database copy holds
            (folder / "blobs" / audit_checkpoint.LATEST).write_bytes(checkpoint.to_bytes())
        hashes = file_hashes(folder / "blobs")
        files = len(hashes)
    if checkpoint is not None:
        (folder / CHECKPOINT_FILE).write_bytes(checkpoint.to_bytes())
    manifest = {"created_at": datetime.now(UTC).isoformat(), "database": ENCRYPTED_DB,
                "database_key": wrapped.token, "database_bytes": database_bytes, "tables": tables,
                "blobs": files, "blob_sha256": hashes, "keys_included": False,
                "audit_checkpoint": ({"file": CHECKPOINT_FILE, "seq": checkpoint.seq, "hash": checkpoint.hash,
                                      "at": checkpoint.at, "key_id": checkpoint.key_id} if checkpoint else None)}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2))
    return BackupReport(folder, database_bytes, files, checkpoint, problem)


def restore(folder: Path) -> BackupReport:
    """Replace the instance's database and blob folder with a backup (the app must be stopped)."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    target = _sqlite_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        saved = database_copy(folder, manifest, Path(scratch))
        with sqlite3.connect(saved) as copy, sqlite3.connect(target) as live:
            copy.backup(live)
    files = 0
    blobs = _local_blob_dir()
    if blobs is not None and (folder / "blobs").exists():
        if blobs.exists():
            shutil.rmtree(blobs)
        shutil.copytree(folder / "blobs", blobs)
        files = sum(1 for p in blobs.rglob("*") if p.is_file())
    return BackupReport(folder, target.stat().st_size, files)


# ------------------------------------------------------------------ the pieces verify shares


def read_manifest(folder: Path) -> dict:
    """The backup's manifest; BackupError when `folder` is not a portal backup."""
    folder = Path(folder)
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"{folder} is not a portal backup (no readable {MANIFEST})") from exc
    if not (folder / str(manifest.get("database", ""))).is_file():
        raise BackupError(f"{folder} is not a portal backup (its database file is missing)")
    return manifest


def database_copy(folder: Path, manifest: dict, scratch: Path) -> Path:
    """The backup's database as a plain SQLite file in `scratch` (decrypted when it is encrypted);
    BackupError when it does not decrypt (other keys, or the file was altered or cut short)."""
    source = Path(folder) / manifest["database"]
    if not manifest.get("database_key"):
        return source  # a backup from before encryption
    plain = scratch / "portal.db"
    try:
        dek = crypto.unwrap_data_key(manifest["database_key"], _object_id(folder))
        with source.open("rb") as src, plain.open("wb") as out:
            for piece in crypto.decrypt_stream(_chunks(src), dek, _object_id(folder)):
                out.write(piece)
    except crypto.DecryptionError as exc:
        raise BackupError(f"the backup's database does not decrypt with this instance's keys: {exc}") from exc
    return plain


def table_counts(database: Path) -> dict[str, int]:
    """Rows in each table of a SQLite file."""
    with sqlite3.connect(database) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                            "AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        # the names come from the file's own catalogue, quoted
        return {name: conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in names}  # noqa: S608


def file_hashes(root: Path) -> dict[str, str]:
    """SHA-256 of every file under `root`, by its path relative to `root`."""
    out = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for chunk in _chunks(fh):
                digest.update(chunk)
        out[path.relative_to(root).as_posix()] = digest.hexdigest()
    return out


def _object_id(folder: Path) -> str:
    return f"backup:{Path(folder).name}"


def _chunks(fh) -> Iterator[bytes]:
    while chunk := fh.read(crypto.FILE_CHUNK):
        yield chunk


def _encrypt_file(plain: Path, target: Path, object_id: str) -> crypto.WrappedKey:
    dek, wrapped = crypto.new_data_key(object_id)
    with plain.open("rb") as src, target.open("wb") as out:
        for piece in crypto.encrypt_stream(_chunks(src), dek, object_id):
            out.write(piece)
    target.chmod(0o600)
    return wrapped
