"""Database engine and unit-of-work sessions.

SQLite file by default, PostgreSQL (psycopg 3) through PORTAL_DATABASE_URL. The engine is built
lazily on first use: nothing connects at import time.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel, create_engine

from patient_portal.settings import get_settings

T = TypeVar("T")

_engine: Engine | None = None
_READ_ONLY = "portal_read_only"
_executor: ThreadPoolExecutor | None = None


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


class TimestampedTable(SQLModel):
    """Columns every table has: a Python-generated UUID key and UTC timestamps."""

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, nullable=False)


def normalize_url(url: str) -> str:
    """Make plain postgres URLs use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (see _sqlite_begin)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    """Take SQLite's write lock at BEGIN so read-then-write units (the audit chain) never race;
    a `read_only` unit begins deferred and so never waits for, or holds up, a writer."""
    conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(_READ_ONLY) else "BEGIN IMMEDIATE")


def build_engine(url: str) -> Engine:
    """An engine for `url`, with SQLite tuned for a web app's concurrency."""
    url = normalize_url(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            from pathlib import Path

            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def get_engine() -> Engine:
    """The process-wide engine, created on first use."""
    global _engine
    if _engine is None:
        _engine = build_engine(get_settings().db_url)
    return _engine


def reset_engine() -> None:
    """Dispose the engine so the next use reads settings again."""
    global _engine
    if _engine is not None:
        _engine.dispose()
    _engine = None


@contextmanager
def unit_of_work() -> Iterator[Session]:
    """One transaction: commits when the block ends, rolls back on any error."""
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def read_only() -> Iterator[Session]:
    """A transaction that only reads (nothing in it is committed). On SQLite it takes no write lock,
    so frequent checks such as the job worker's poll never queue behind, or block, a user's write."""
    with Session(get_engine(), expire_on_commit=False) as session:  # closing rolls back, keeps what was read
        session.connection(execution_options={_READ_ONLY: True})
        yield session


def _pool() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="portal-db")
    return _executor


async def off_loop(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run blocking DB/crypto work in a bounded thread pool, keeping the event loop free."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_pool(), lambda: fn(*args, **kwargs))


def ping() -> None:
    """Raise if the database does not answer."""
    from sqlalchemy import text

    with get_engine().connect() as conn:
        conn.execute(text("SELECT 1"))
