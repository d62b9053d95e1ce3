"""``portal backup verify``: a restore drill that proves a backup would bring the clinic back.

The backup's database is decrypted into a scratch folder (never over the live one) and checked:
SQLite's own integrity check; every table's row count against the manifest; the audit chain walked
in the copy (each event's hash and keyed MAC) and held against the backup's signed checkpoint; and
every copied file's SHA-256 against the manifest. Nothing is written to the instance. A backup made
before these checks existed (no counts or hashes in its manifest) is checked for what it holds.
"""

from __future__ import annotations

import sqlite3
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine
from sqlmodel import Session

from patient_portal.core import audit, audit_checkpoint
from patient_portal.core.backup import (
    CHECKPOINT_FILE,
    BackupError,
    database_copy,
    file_hashes,
    read_manifest,
    table_counts,
)


@dataclass
class DrillReport:
    folder: Path
    tables: int = 0
    rows: int = 0
    audit_events: int = 0
    files: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _compare_counts(expected: dict[str, int], found: dict[str, int], report: DrillReport) -> None:
    for name in sorted(set(expected) | set(found)):
        if expected.get(name) != found.get(name):
            report.problems.append(f"table {name}: {found.get(name, 'missing')} rows restored, "
                                   f"{expected.get(name, 'none')} backed up")


def _compare_files(folder: Path, expected: dict[str, str], report: DrillReport) -> None:
    found = file_hashes(folder / "blobs") if (folder / "blobs").exists() else {}
    report.files = len(found)
    for name in sorted(set(expected) | set(found)):
        if name not in found:
            report.problems.append(f"file {name} is missing from the backup")
        elif name not in expected:
            report.problems.append(f"file {name} is in the backup but not in its manifest")
        elif found[name] != expected[name]:
            report.problems.append(f"file {name} differs from the one backed up (SHA-256)")


def _check_chain(database: Path, folder: Path, report: DrillReport) -> None:
    engine = create_engine(f"sqlite:///{database}")
    try:
        with Session(engine) as session:
            walk = audit.walk_chain(session)
            report.audit_events = walk.checked
            report.problems += [f"audit chain: {message}" for _seq, message in walk.problems]
            raw = (folder / CHECKPOINT_FILE).read_bytes() if (folder / CHECKPOINT_FILE).exists() else None
            if raw is None:
                return
            try:
                cp = audit_checkpoint.parse(raw)
            except audit_checkpoint.CheckpointError as exc:
                report.problems.append(f"audit checkpoint: {exc}")
                return
            if walk.head_seq < cp.seq:
                report.problems.append(f"audit chain ends at event {walk.head_seq}, before the backup's "
                                       f"checkpoint at event {cp.seq}")
            elif audit_checkpoint.hash_at(session, cp.seq) != cp.hash:
                report.problems.append(f"audit event {cp.seq} differs from the backup's signed checkpoint")
    finally:
        engine.dispose()


def verify(folder: Path) -> DrillReport:
    """Restore `folder` into a scratch place and check it (see the module doc). BackupError when it
    is not a backup or its database does not decrypt with this instance's keys."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    report = DrillReport(folder)
    with tempfile.TemporaryDirectory(prefix="portal-drill-") as scratch:
        database = database_copy(folder, manifest, Path(scratch))
        with sqlite3.connect(database) as conn:
            verdict = conn.execute("PRAGMA integrity_check").fetchone()[0]
        if verdict != "ok":
            report.problems.append(f"the database copy is damaged: {verdict}")
            return report
        found = table_counts(database)
        report.tables, report.rows = len(found), sum(found.values())
        if "tables" in manifest:
            _compare_counts(manifest["tables"], found, report)
        _check_chain(database, folder, report)
    if "blob_sha256" in manifest:
        _compare_files(folder, manifest["blob_sha256"], report)
    return report


__all__ = ["BackupError", "DrillReport", "verify"]
