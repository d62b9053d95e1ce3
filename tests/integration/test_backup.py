"""`portal backup` / `portal restore` bring a laptop clinic back after losing its data folder."""

from __future__ import annotations

import json
import shutil
import time
from datetime import UTC, datetime, timedelta

import pytest

from patient_portal import cli, seed
from patient_portal.core.db import reset_engine, unit_of_work
from patient_portal.core.storage import get_blob_store
from patient_portal.domain.patients.models import Patient


@pytest.fixture
def sqlite_only(db):
    if db != "sqlite":
        pytest.skip("backup/restore of the embedded mode")


def test_backup_then_restore_after_losing_the_data(sqlite_only, portal_env, tmp_path, capsys):
    seed.seed_demo(patients=3)
    get_blob_store().put("doc/aa/object", [b"encrypted bytes"])
    assert cli.main(["backup", str(tmp_path / "backups")]) == 0
    out = capsys.readouterr().out
    assert "keys are not in it" in out
    (folder,) = (tmp_path / "backups").iterdir()
    assert (folder / "portal.db.enc").exists() and (folder / "blobs" / "doc" / "aa" / "object").exists()
    assert not (folder / "portal.db").exists() and not (folder / "keys.txt").exists()
    sealed = (folder / "portal.db.enc").read_bytes()  # the whole database is ciphertext, not just PHI columns
    assert b"SQLite format 3" not in sealed and b"demo.clinic" not in sealed and b"audit_event" not in sealed

    reset_engine()  # the clinic loses its database and files (keys kept elsewhere)
    for path in portal_env.glob("portal.db*"):
        path.unlink()
    shutil.rmtree(portal_env / "blobs")

    assert cli.main(["restore", str(folder)]) == 0
    reset_engine()
    with unit_of_work() as session:
        assert "Garcia" in {p.family_name for p in session.query(Patient).all()}
    assert b"".join(get_blob_store().get("doc/aa/object")) == b"encrypted bytes"
    assert cli.main(["audit", "verify"]) == 0


def test_restore_refuses_a_folder_that_is_not_a_backup(sqlite_only, tmp_path, capsys):
    assert cli.main(["restore", str(tmp_path)]) == 2
    assert "not a portal backup" in capsys.readouterr().err


def test_backup_points_postgres_users_to_pg_dump(db, tmp_path, capsys):
    if db != "postgresql":
        pytest.skip("needs PostgreSQL")
    assert cli.main(["backup", str(tmp_path)]) == 2
    assert "pg_dump" in capsys.readouterr().err


# ------------------------------------------------------------------ the restore drill and the schedule


@pytest.fixture
def backed_up(sqlite_only, tmp_path):
    """A clinic with three patients and one stored file, and a backup of it; the backup's folder."""
    seed.seed_demo(patients=3)
    get_blob_store().put("doc/aa/object", [b"encrypted bytes"])
    assert cli.main(["backup", str(tmp_path / "backups")]) == 0
    (folder,) = (tmp_path / "backups").iterdir()
    return folder


def test_verify_restores_a_backup_into_a_scratch_place_and_finds_it_whole(backed_up, portal_env, capsys):
    live = sorted(p.name for p in portal_env.iterdir())
    capsys.readouterr()
    assert cli.main(["backup", "verify", str(backed_up)]) == 0
    out = capsys.readouterr().out
    assert f"backup {backed_up.name} restores whole" in out and " rows, " in out
    tables = int(out.split(": ", 1)[1].split(" tables")[0])
    assert tables > 50  # every table of the schema was counted
    assert sorted(p.name for p in portal_env.iterdir()) == live  # nothing written beside the live data
    assert cli.main(["audit", "verify"]) == 0


def test_verify_names_a_changed_file_a_lost_file_and_a_row_count_that_differs(backed_up, capsys):
    (backed_up / "blobs" / "doc" / "aa" / "object").write_bytes(b"someone else's bytes")
    manifest = json.loads((backed_up / "portal-backup.json").read_text())
    manifest["tables"]["patient"] += 1
    manifest["blob_sha256"]["doc/bb/gone"] = "0" * 64
    (backed_up / "portal-backup.json").write_text(json.dumps(manifest))
    capsys.readouterr()
    assert cli.main(["backup", "verify", str(backed_up)]) == 1
    err = capsys.readouterr().err
    assert "file doc/aa/object differs from the one backed up" in err
    assert "file doc/bb/gone is missing from the backup" in err
    assert "table patient: 3 rows restored, 4 backed up" in err


def test_verify_refuses_a_damaged_or_foreign_database(backed_up, capsys):
    sealed = bytearray((backed_up / "portal.db.enc").read_bytes())
    sealed[len(sealed) // 2] ^= 0x01
    (backed_up / "portal.db.enc").write_bytes(bytes(sealed))
    capsys.readouterr()
    assert cli.main(["backup", "verify", str(backed_up)]) == 2
    assert "does not decrypt with this instance's keys" in capsys.readouterr().err
    assert cli.main(["restore", str(backed_up)]) == 2  # and it is never put back over the live data


def test_the_health_page_shows_the_last_drill(backed_up):
    from patient_portal.domain.identity.sessions import actor_for
    from patient_portal.domain.operations import service as operations
    from tests.integration.identity_support import make_user

    admin = actor_for(make_user("root@clinic.org", "admin"))
    with unit_of_work() as s:
        assert operations.system_health(s, admin).backup_check.startswith("Never verified")
    assert cli.main(["backup", "verify", str(backed_up)]) == 0
    with unit_of_work() as s:
        report = operations.system_health(s, admin)
    assert report.backup_check.endswith(f"{backed_up.name}: restores whole") and not report.backup_check_failed


def test_scheduled_backups_come_when_due_are_verified_and_only_the_newest_are_kept(sqlite_only, tmp_path,
                                                                                 monkeypatch):
    from patient_portal.core import backup_schedule
    from patient_portal.settings import reset_settings
    from tests.integration.identity_support import events

    seed.seed_demo(patients=3)
    monkeypatch.setenv("PORTAL_BACKUP_DIR", str(tmp_path / "nightly"))
    monkeypatch.setenv("PORTAL_BACKUP_EVERY_HOURS", "24")
    monkeypatch.setenv("PORTAL_BACKUP_KEEP", "2")
    reset_settings()
    start = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    made = []
    for hours in (0, 1, 25, 49, 50, 73):  # due at 0, 25, 49 and 73 hours only
        made.append(backup_schedule.run_once(start + timedelta(hours=hours)))
    assert [m is not None for m in made] == [True, False, True, True, False, True]
    kept = backup_schedule.existing(tmp_path / "nightly")
    assert [p.name for p in kept] == [made[3].name, made[5].name]
    checks = events("system.backup.verify")
    assert len(checks) == 4 and {e.outcome for e in checks} == {"success"}


def test_a_failing_scheduled_backup_emails_the_admins_once(sqlite_only, tmp_path, monkeypatch, mailbox):
    from patient_portal.core import backup_schedule
    from patient_portal.settings import reset_settings
    from tests.integration.identity_support import make_user

    make_user("root@clinic.org", "admin")
    make_user("desk@clinic.org", "staff")
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the backups should go")
    monkeypatch.setenv("PORTAL_BACKUP_DIR", str(blocked))
    reset_settings()
    for _ in range(3):
        scheduler = backup_schedule.Scheduler()
        assert scheduler.tick() is None
    [message] = mailbox.wait_for("root@clinic.org", subject="Patient Portal needs attention")
    assert "scheduled backup could not be made" in message["Subject"]
    assert "/admin/health" in message.get_body(("plain",)).get_content()
    time.sleep(0.5)
    assert len(mailbox.to("root@clinic.org")) == 1 and mailbox.to("desk@clinic.org") == []
