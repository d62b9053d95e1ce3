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


def _fresh_postgres_url() -> str:
    base = os.environ["PORTAL_TEST_DATABASE_URL"]
    name = "portal_mig_" + uuid.uuid4().hex[:8]
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, portal_env, monkeypatch):
    if request.param == "postgresql":
        if not os.environ.get("PORTAL_TEST_DATABASE_URL"):
            pytest.skip("PORTAL_TEST_DATABASE_URL not set")
        monkeypatch.setenv("PORTAL_DATABASE_URL", _fresh_postgres_url())
    reset_settings()
    yield request.param
    reset_settings()


def test_upgrade_head_creates_every_table_and_matches_models(empty_database):
    assert cli.main(["db", "upgrade"]) == 0
    from patient_portal.core.db import get_engine

    tables = set(inspect(get_engine()).get_table_names())
    assert {t.name for t in metadata.sorted_tables} <= tables
    assert migrations.schema_differences() == []


def test_upgrade_is_idempotent(empty_database):
    assert cli.main(["db", "upgrade"]) == 0
    assert cli.main(["db", "upgrade"]) == 0
