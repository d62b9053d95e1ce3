"""Signed audit checkpoints: written by the job worker, `portal backup` and on S3; checked by verify."""

from __future__ import annotations

import json
import logging
import time

import pytest

from patient_portal import cli, seed
from patient_portal.core import audit, audit_checkpoint
from patient_portal.core.audit_checkpoint import LATEST, Ticker
from patient_portal.core.jobs import Worker
from patient_portal.core.storage import get_blob_store
from patient_portal.settings import reset_settings

pytestmark = pytest.mark.usefixtures("db")


def _events(n: int) -> None:
    for i in range(n):
        audit.record_now(None, "test.event", detail={"n": i})


def _latest() -> audit_checkpoint.Checkpoint | None:
    return audit_checkpoint.read(get_blob_store(), LATEST)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_ticker_writes_once_an_interval_and_only_when_the_chain_moved(caplog):
    clock = FakeClock()
    ticker = Ticker(clock)
    _events(3)
    assert ticker.tick() is None  # not before the first interval
    clock.now += 61
    with caplog.at_level(logging.INFO, logger="patient_portal.core.audit_checkpoint"):
        cp = ticker.tick()
    assert cp is not None and cp.seq == 3 and _latest() == cp
    (line,) = [r.getMessage() for r in caplog.records if "audit checkpoint" in r.getMessage()]
    assert f"seq=3 hash={cp.hash} at={cp.at} key_id=k1 signature={cp.signature}" in line

    clock.now += 61
    assert ticker.tick() is None  # only its own audit.checkpoint event was added since
    _events(1)
    clock.now += 30
    assert ticker.tick() is None  # moved, but the interval has not passed
    clock.now += 31
    assert ticker.tick().seq == 5  # 3 events + checkpoint event + 1


def test_ticker_is_off_at_zero(monkeypatch):
    monkeypatch.setenv("PORTAL_AUDIT_CHECKPOINT_SECONDS", "0")
    reset_settings()
    clock = FakeClock()
    ticker = Ticker(clock)
    _events(2)
    clock.now += 10_000
    assert ticker.tick() is None and _latest() is None


def test_ticker_logs_an_error_when_the_chain_does_not_check_out(capsys, caplog):
    _events(3)
    assert cli.main(["audit", "checkpoint"]) == 0
    from sqlalchemy import text

    from patient_portal.core.db import get_engine

    with get_engine().begin() as conn:
        conn.execute(text("DELETE FROM audit_event WHERE seq >= 3"))
    _events(4)
    clock = FakeClock()
    ticker = Ticker(clock)
    clock.now += 61
    with caplog.at_level(logging.ERROR, logger="patient_portal.core.audit_checkpoint"):
        assert ticker.tick() is None
    assert any("audit checkpoint not written: the audit chain no longer matches" in r.getMessage()
               for r in caplog.records)


def test_the_job_worker_writes_checkpoints(monkeypatch, capsys):
    monkeypatch.setenv("PORTAL_AUDIT_CHECKPOINT_SECONDS", "1")
    reset_settings()
    _events(2)
    worker = Worker(interval=0.05).start()
    try:
        deadline = time.monotonic() + 10
        while _latest() is None and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        worker.stop()
    assert _latest() is not None and _latest().seq == 2
    assert cli.main(["audit", "verify"]) == 0
    assert "(event 2, key k1); 1 events are newer" in capsys.readouterr().out


def test_backup_includes_a_fresh_checkpoint(db, tmp_path, capsys):
    if db != "sqlite":
        pytest.skip("backup of the embedded mode")
    seed.seed_demo(patients=3)
    assert cli.main(["backup", str(tmp_path / "backups")]) == 0
    out = capsys.readouterr().out
    cp = _latest()
    assert f"audit checkpoint at event {cp.seq} included" in out
    (folder,) = (tmp_path / "backups").iterdir()
    assert audit_checkpoint.parse((folder / "audit-checkpoint.json").read_bytes()) == cp
    assert audit_checkpoint.parse((folder / "blobs" / LATEST).read_bytes()) == cp
    manifest = json.loads((folder / "portal-backup.json").read_text())
    assert manifest["audit_checkpoint"]["seq"] == cp.seq and manifest["audit_checkpoint"]["hash"] == cp.hash


def test_backup_says_when_it_has_no_checkpoint(db, tmp_path, capsys):
    if db != "sqlite":
        pytest.skip("backup of the embedded mode")
    _events(3)
    get_blob_store().put(LATEST, [b"{}"])  # a broken checkpoint: nothing is signed over it
    assert cli.main(["backup", str(tmp_path / "backups")]) == 1
    captured = capsys.readouterr()
    assert "backup written to" in captured.out
    assert "the backup has no audit checkpoint" in captured.err


def test_checkpoints_on_s3_and_an_unavailable_store(s3_settings, monkeypatch, capsys):
    _events(3)
    assert cli.main(["audit", "checkpoint"]) == 0
    assert any(key.startswith("audit-checkpoints/") for key in get_blob_store().keys("audit-checkpoints/"))
    assert cli.main(["audit", "verify"]) == 0
    assert "(event 3, key k1)" in capsys.readouterr().out

    monkeypatch.setenv("PORTAL_S3_BUCKET", "no-such-bucket-for-checkpoints")
    reset_settings()
    assert cli.main(["audit", "verify"]) == 2
    assert "checkpoint store unavailable" in capsys.readouterr().err
    assert cli.main(["audit", "checkpoint"]) == 2
    assert "audit checkpoint not written" in capsys.readouterr().err
