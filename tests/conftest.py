"""Shared fixtures: an isolated instance folder per test, a real database, a real S3 server.

The database is SQLite in the test's folder, or PostgreSQL when PORTAL_TEST_DATABASE_URL is set
(schema created once per run, tables emptied before each test).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text


def _per_worker_database(url: str) -> str:
    """Under pytest-xdist each worker gets a database of its own (`<name>_gw0`, created when missing),
    since every test empties the tables; PORTAL_TEST_DATABASE_URL is pointed at it for every reader."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not url or not worker:
        return url
    from sqlalchemy import create_engine

    base, _, name = url.rpartition("/")
    mine = f"{name}_{worker}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": mine}).first() is None:
            conn.execute(text(f'CREATE DATABASE "{mine}"'))
    admin.dispose()
    os.environ["PORTAL_TEST_DATABASE_URL"] = f"{base}/{mine}"
    return f"{base}/{mine}"


PG_URL = _per_worker_database(os.environ.get("PORTAL_TEST_DATABASE_URL", ""))
_PG_SCHEMA_READY = False


@pytest.fixture(autouse=True)
def portal_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Each test gets its own instance folder (keys, SQLite file, blobs) and demo settings."""
    from patient_portal.settings import reset_settings

    instance = _demo_environment(monkeypatch, tmp_path / "instance")
    yield instance
    reset_settings()


def _demo_environment(monkeypatch: pytest.MonkeyPatch, instance: Path) -> Path:
    """No PORTAL_* setting but the test database's; demo mode; the instance folder given."""
    from patient_portal.settings import reset_settings

    for name in list(os.environ):
        if name.startswith("PORTAL_") and name != "PORTAL_TEST_DATABASE_URL":
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PORTAL_INSTANCE_DIR", str(instance))
    monkeypatch.setenv("PORTAL_ENV", "demo")
    reset_settings()
    return instance


@contextmanager
def shared_portal(folder: Path) -> Iterator[Path]:
    """An instance with an empty database for a whole module (a module-scoped fixture enters it and
    overrides the autouse `portal_env` with a no-op): for suites that call hundreds of handlers
    against one seeded clinic, where seeding per test was most of the run."""
    from patient_portal.settings import reset_settings

    mp = pytest.MonkeyPatch()
    instance = _demo_environment(mp, folder / "instance")
    if PG_URL:
        mp.setenv("PORTAL_DATABASE_URL", PG_URL)
        reset_settings()
        _prepare_postgres()
    else:
        _create_schema_sqlite(instance)
    try:
        yield instance
    finally:
        mp.undo()
        reset_settings()


_SQLITE_TEMPLATE: Path | None = None


def _create_schema_sqlite(instance: Path) -> None:
    """Give the test's instance folder a database with the full schema: a copy of one built per
    worker (copying the file takes a millisecond; building the schema takes a third of a second)."""
    global _SQLITE_TEMPLATE
    import shutil
    import tempfile

    from sqlalchemy import create_engine

    from patient_portal.models import metadata

    if _SQLITE_TEMPLATE is None:
        template = Path(tempfile.mkdtemp(prefix="portal-schema-")) / "portal.db"
        engine = create_engine(f"sqlite:///{template}")
        metadata.create_all(engine)
        engine.dispose()
        _SQLITE_TEMPLATE = template
    instance.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_SQLITE_TEMPLATE, instance / "portal.db")


def _prepare_postgres() -> None:
    """Create the schema once per run, then empty every table before each test."""
    global _PG_SCHEMA_READY
    from patient_portal.core.db import get_engine
    from patient_portal.models import metadata

    engine = get_engine()
    if not _PG_SCHEMA_READY:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        metadata.create_all(engine)
        _PG_SCHEMA_READY = True
    _empty_postgres_tables(engine, metadata.sorted_tables)


def _empty_postgres_tables(engine, tables) -> None:
    """Delete the rows of the tables that have any, children first. One probe finds them; DELETE on
    a few small tables takes milliseconds where TRUNCATE of all eighty took 0.6 s a test."""
    probe = " UNION ALL ".join(f"SELECT '{t.name}' WHERE EXISTS (SELECT 1 FROM \"{t.name}\")" for t in tables)
    with engine.begin() as conn:
        dirty = {row[0] for row in conn.execute(text(probe))}
        for table in reversed(tables):
            if table.name in dirty:
                conn.execute(text(f'DELETE FROM "{table.name}"'))


@pytest.fixture
def db(portal_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An empty database with the full schema; yields its dialect name."""
    from patient_portal.settings import reset_settings

    if PG_URL:
        monkeypatch.setenv("PORTAL_DATABASE_URL", PG_URL)
        reset_settings()
        _prepare_postgres()
        yield "postgresql"
    else:
        reset_settings()
        _create_schema_sqlite(portal_env)
        yield "sqlite"
    reset_settings()


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """A real S3-compatible HTTP server (moto's server mode) on 127.0.0.1; yields its URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_settings(moto_server: str, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> str:
    """Point the portal's blob store at a fresh bucket on the moto server."""
    import re
    import uuid

    from patient_portal.core.storage import S3BlobStore
    from patient_portal.settings import reset_settings

    bucket = "portal-" + re.sub(r"[^a-z0-9]+", "-", request.node.name.lower())[:30].strip("-") + "-" + uuid.uuid4().hex[:6]
    monkeypatch.setenv("PORTAL_S3_ENDPOINT_URL", moto_server)
    monkeypatch.setenv("PORTAL_S3_BUCKET", bucket)
    monkeypatch.setenv("PORTAL_S3_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("PORTAL_S3_SECRET_ACCESS_KEY", "testing")
    reset_settings()
    S3BlobStore(bucket, endpoint_url=moto_server, access_key_id="testing",
                secret_access_key="testing").ensure_bucket()
    return bucket


@pytest.fixture
def mailbox(db, monkeypatch: pytest.MonkeyPatch):
    """A real SMTP server the portal sends to (PORTAL_SMTP_HOST/PORT point at it), and a job worker
    running beside the test, as the app runs one. After `db`, so the worker polls the test's database
    (started first, on PostgreSQL it polled an empty SQLite file and the mail never came)."""
    from patient_portal.core.jobs import Worker
    from patient_portal.settings import reset_settings
    from tests.mailbox import Mailbox

    box = Mailbox().start()
    monkeypatch.setenv("PORTAL_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("PORTAL_SMTP_PORT", str(box.port))
    reset_settings()
    worker = Worker(interval=0.05).start()
    yield box
    worker.stop()
    box.stop()


#: The ICD-10-CM codes `code_tables` loads (the full set takes seconds; one test loads it all).
ICD10_TEST_PREFIXES = ("E11", "E78", "I10", "I15", "J44", "J45", "N18", "S72.0", "Z82")


@pytest.fixture
def code_tables(db):
    """The code tables as the app has them: CVX, LOINC vital signs and the formulary in full, and the
    ICD-10-CM codes under ICD10_TEST_PREFIXES (milliseconds, after the package's one-time import)."""
    from patient_portal.domain.codes import service as codes

    codes.load_small()
    codes.load(sets=["icd10cm"], icd10_prefixes=ICD10_TEST_PREFIXES)
    return db
