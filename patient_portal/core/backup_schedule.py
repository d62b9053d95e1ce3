"""Scheduled backups of the embedded mode: every PORTAL_BACKUP_EVERY_HOURS into PORTAL_BACKUP_DIR,
keeping the newest PORTAL_BACKUP_KEEP, each one verified by a restore drill right after it is made.

The job worker ticks ``Scheduler`` each round (as it does the audit checkpoints). A backup is due
when the newest one in the folder is older than the interval, so a restarted app neither skips nor
repeats one; a lock file in the folder keeps two app processes from making the same backup twice.
Each backup and each drill is recorded (the health page shows the last of each); a failure is
logged for the operator and the admins are emailed, and the worker goes on.
"""

from __future__ import annotations

import fcntl
import logging
import shutil
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from patient_portal.core import alerts, backup_drill
from patient_portal.core import backup as backups
from patient_portal.settings import get_settings

log = logging.getLogger(__name__)
#: how often the worker looks whether a backup is due (the interval itself is hours)
LOOK_EVERY_SECONDS = 60.0
_NAME = "portal-%Y%m%d-%H%M%S"


def made_at(folder: Path) -> datetime | None:
    """When a backup folder was made, from its name (None: not a backup folder)."""
    try:
        return datetime.strptime(folder.name, _NAME).replace(tzinfo=UTC)
    except ValueError:
        return None


def existing(destination: Path) -> list[Path]:
    """The backups in `destination`, oldest first."""
    if not destination.is_dir():
        return []
    found = [p for p in destination.iterdir() if p.is_dir() and made_at(p) and (p / backups.MANIFEST).exists()]
    return sorted(found, key=lambda p: p.name)


def due(destination: Path, every: timedelta, now: datetime) -> bool:
    found = existing(destination)
    return not found or now - made_at(found[-1]) >= every  # type: ignore[operator]


def prune(destination: Path, keep: int) -> list[Path]:
    """Remove all but the newest `keep` backups; returns the removed folders."""
    old = existing(destination)[:-keep] if keep > 0 else []
    for folder in old:
        shutil.rmtree(folder, ignore_errors=True)
    return old


def run_once(now: datetime | None = None) -> Path | None:
    """Make, verify and prune if a backup is due; the new backup's folder, else None."""
    from patient_portal.domain.operations.service import record_backup, record_backup_check

    settings = get_settings()
    if not settings.backup_dir or settings.backup_every_hours <= 0 or not settings.is_sqlite:
        return None
    destination = Path(settings.backup_dir)
    destination.mkdir(parents=True, exist_ok=True)
    with (destination / ".lock").open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return None  # another process is making it
        now = now or datetime.now(UTC)
        if not due(destination, timedelta(hours=settings.backup_every_hours), now):
            return None
        report = backups.backup(destination, at=now)
        record_backup(report.folder.name, report.blob_files)
        drill = backup_drill.verify(report.folder)
        record_backup_check(report.folder.name, drill.ok)
        if not drill.ok:
            log.error("scheduled backup %s failed its restore drill: %s", report.folder.name, drill.problems[0])
            alerts.raise_alert_now("backup.drill", "the newest scheduled backup failed its restore drill")
        prune(destination, settings.backup_keep)
        return report.folder


class Scheduler:
    """The job worker's hook: ``tick()`` looks once a minute whether a backup is due."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._last = clock() - LOOK_EVERY_SECONDS

    def tick(self) -> Path | None:
        if self._clock() - self._last < LOOK_EVERY_SECONDS:
            return None
        self._last = self._clock()
        try:
            return run_once()
        except Exception as exc:  # noqa: BLE001 — an alarm for the operator; the worker goes on
            log.error("scheduled backup not made: %s", exc)
            try:
                alerts.raise_alert_now("backup.failed", "the scheduled backup could not be made")
            except Exception:  # noqa: BLE001 — the database itself may be what is away
                log.exception("admin alert not recorded")
            return None
