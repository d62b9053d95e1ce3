"""`portal backup` / `portal restore` bring a laptop clinic back after losing its data folder."""

from __future__ import annotations

import shutil

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
    assert (folder / "portal.db").exists() and (folder / "blobs" / "doc" / "aa" / "object").exists()
    assert not (folder / "keys.txt").exists()

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
