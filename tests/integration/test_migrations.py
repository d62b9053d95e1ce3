"""Alembic builds the schema from nothing, and it matches the models exactly."""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, inspect, text

from patient_portal import cli
from patient_portal.core import migrations
from patient_portal.models import metadata
from patient_portal.settings import reset_settings


def _admin_sql(sql: str) -> None:
    admin = create_engine(os.environ["PORTAL_TEST_DATABASE_URL"], isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(sql))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, portal_env, monkeypatch):
    name = None
    if request.param == "postgresql":
        if not os.environ.get("PORTAL_TEST_DATABASE_URL"):
            pytest.skip("PORTAL_TEST_DATABASE_URL not set")
        name = "portal_mig_" + uuid.uuid4().hex[:8]
        _admin_sql(f'CREATE DATABASE "{name}"')
        base = os.environ["PORTAL_TEST_DATABASE_URL"]
        monkeypatch.setenv("PORTAL_DATABASE_URL", base.rsplit("/", 1)[0] + "/" + name)
    reset_settings()
    yield request.param
    reset_settings()  # disposes the engine, so the database can be dropped
    if name:
        _admin_sql(f'DROP DATABASE IF EXISTS "{name}"')


def test_upgrade_head_creates_every_table_and_matches_models(empty_database):
    assert cli.main(["db", "upgrade"]) == 0
    from patient_portal.core.db import get_engine

    tables = set(inspect(get_engine()).get_table_names())
    assert {t.name for t in metadata.sorted_tables} <= tables
    assert migrations.schema_differences() == []


def test_upgrade_is_idempotent(empty_database):
    assert cli.main(["db", "upgrade"]) == 0
    assert cli.main(["db", "upgrade"]) == 0
