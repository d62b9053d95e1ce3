"""Database engine and unit-of-work sessions.

SQLite file by default, PostgreSQL (psycopg 3) through PORTAL_DATABASE_URL. The engine is built
lazily on first use: nothing connects at import time.
"""

from __future__ import annotations

import asyncio
import inspect
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel, create_engine

from patient_portal.settings import get_settings, on_reset

T = TypeVar("T")

_engine: Engine | None = None
_READ_ONLY = "portal_read_only"
_executor: ThreadPoolExecutor | None = None


def default_factory(fn: Callable[[], T]) -> Callable[[], T]:
    """Mark a model field's default factory as taking no arguments, once. Pydantic asks
    ``inspect.signature`` of every default factory on every model construction (to learn whether
    it wants the validated data), which costs 0.1-0.3 ms a factory (most for builtins such as
    ``list``): with three or four per row, building thousands of rows (a billing run) spent most of
    its time there. A ``__signature__`` answers at once; the factory behaves the same."""
    fn.__signature__ = inspect.Signature()  # type: ignore[attr-defined]
    return fn


@default_factory
def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


@default_factory
def new_id() -> uuid.UUID:
    return uuid.uuid4()


@default_factory
def empty_list() -> list:
    """``default_factory=empty_list`` for a JSON list column (not ``list``: see ``default_factory``)."""
    return []


@default_factory
def empty_dict() -> dict:
    """``default_factory=empty_dict`` for a JSON object column."""
    return {}


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
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    _ensure_wal(cursor)
    cursor.close()


def _ensure_wal(cursor: Any, wait: float = 5.0) -> None:
    """Put the database in WAL mode unless it is already. Switching the mode needs the database to
    itself and SQLite answers "database is locked" at once, without its busy wait, when another
    connection has it open — as when two connections of a new database open together (the
    settings' side pool beside the app's pool): try again for a few seconds."""
    deadline = time.monotonic() + wait
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


#: SQLite writers of this process take turns here before BEGIN IMMEDIATE (see _sqlite_begin):
#: the lock, the thread whose turn it is, and the raw connection whose transaction has it.
_sqlite_writer = threading.Lock()
_sqlite_writer_owner: int | None = None
_sqlite_writer_conn: int | None = None
#: How long a writer waits for its turn before falling back to SQLite's own busy wait (seconds).
WRITER_WAIT = 5.0


def _raw(conn: Any) -> int:
    return id(getattr(conn, "dbapi_connection", conn))


def _sqlite_begin(conn: Any) -> None:
    """Take SQLite's write lock at BEGIN so read-then-write units (the audit chain) never race;
    a `read_only` unit begins deferred and so never waits for, or holds up, a writer.

    Writers of this process first queue for their turn on a lock of the process's own: SQLite's busy
    handler makes a waiting writer sleep in growing steps (up to 100 ms) before it looks again, so
    under load a write waited up to seconds for a lock held a few milliseconds, and the app's p99
    followed (issue 11 §7; bench/load.py). The turn ends once the transaction's COMMIT or ROLLBACK
    has run (or its connection goes back to the pool). A thread that already has the turn (a unit
    opened inside another) does not wait for itself, and a turn not had within WRITER_WAIT falls back
    to SQLite's busy wait as before, so nothing can hang on it. Other processes (the CLI, a
    `portal worker`) still meet SQLite's busy wait."""
    global _sqlite_writer_owner, _sqlite_writer_conn
    if conn.get_execution_options().get(_READ_ONLY):
        conn.exec_driver_sql("BEGIN")
        return
    me = threading.get_ident()
    if _sqlite_writer_owner != me and _sqlite_writer.acquire(timeout=WRITER_WAIT):
        _sqlite_writer_owner, _sqlite_writer_conn = me, _raw(conn.connection)
    try:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    except BaseException:
        _sqlite_turn_over(conn.connection)
        raise


def _sqlite_turn_over(raw_or_proxy: Any) -> None:
    """The transaction that had this process's writer turn on this connection has ended."""
    global _sqlite_writer_owner, _sqlite_writer_conn
    if raw_or_proxy is not None and _sqlite_writer_conn is not None and _raw(raw_or_proxy) == _sqlite_writer_conn:
        _sqlite_writer_owner = _sqlite_writer_conn = None
        _sqlite_writer.release()


def _release_after(run: Callable[[Any], None]) -> Callable[[Any], None]:
    def wrapped(dbapi_connection: Any) -> None:
        try:
            run(dbapi_connection)
        finally:
            _sqlite_turn_over(dbapi_connection)
    return wrapped


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
        # the writer's turn passes on once COMMIT/ROLLBACK has run (a "commit" event fires before it)
        engine.dialect.do_commit = _release_after(engine.dialect.do_commit)  # type: ignore[method-assign]
        engine.dialect.do_rollback = _release_after(engine.dialect.do_rollback)  # type: ignore[method-assign]
        event.listen(engine, "checkin", lambda dbapi_connection, _record: _sqlite_turn_over(dbapi_connection))
        event.listen(engine, "before_cursor_execute", _stop_reader_writing)
        return engine
    engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)
    event.listen(engine, "connect", _custom_plans)
    return engine


def _custom_plans(dbapi_connection: Any, _record: Any) -> None:
    """Every PostgreSQL connection plans each statement for its own values (``plan_cache_mode =
    force_custom_plan``). psycopg prepares a statement once a connection has run it 5 times, and
    PostgreSQL may then switch it to a generic plan, made without the values: ICD-10-CM code
    search's word ranges went from 30-40 ms to 0.5-1.3 s that way ('Corrosion third degree'), and
    patient-scoped reads have the same skew (one patient with ten years of vitals, most with a few).
    Prepared statements still save the parsing. Set once per pooled connection, not per statement."""
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    try:
        dbapi_connection.execute("SET plan_cache_mode = force_custom_plan")
    finally:
        dbapi_connection.autocommit = autocommit


def get_engine() -> Engine:
    """The process-wide engine, created on first use."""
    global _engine
    if _engine is None:
        from patient_portal.core import metrics

        engine = build_engine(get_settings().db_url)
        metrics.watch_pool(engine)  # the pool gauges of /metrics
        _engine = engine
    return _engine


@on_reset
def reset_engine() -> None:
    """Dispose the engines so the next use reads settings again."""
    global _engine, _side_engine
    for engine in (_engine, _side_engine):
        if engine is not None:
            engine.dispose()
    _engine = _side_engine = None


_side_engine: Engine | None = None


def side_read(statement: Any) -> Any:
    """The first row of a short read on a small pool of its own (one connection, one spare): for a
    process-wide lookup made in the middle of a use case (core.clinic_config's once-a-second check),
    which must never wait for a connection of the app's pool — under a burst every one of those can
    be held by a unit that is itself waiting for the lookup."""
    global _side_engine
    if _side_engine is None:
        url = normalize_url(get_settings().db_url)
        if url.startswith("sqlite"):
            engine = create_engine(url, connect_args={"check_same_thread": False}, pool_size=1, max_overflow=1)
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine = create_engine(url, pool_pre_ping=True, pool_size=1, max_overflow=1)
        _side_engine = engine
    with _side_engine.connect() as conn:
        return conn.execute(statement).first()


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


#: session.info key: this unit runs as a reader first (see transact); read events wait in a list here.
READ_FIRST = "portal_read_first"
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


class WriterNeeded(BaseException):
    """A read-first SQLite unit is about to write: ``transact`` runs it again as a writer. A
    BaseException, so a use case's own ``except Exception`` cannot swallow it."""


def _stop_reader_writing(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
    if conn.get_execution_options().get(READ_FIRST) and statement.lstrip()[:7].upper().startswith(_WRITES):
        raise WriterNeeded()


def _reader_never_commits(_session: Any) -> None:
    raise WriterNeeded()  # a use case that commits part-way is a writer (its next part would not be read-first)


def transact(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``fn(session, *args, **kwargs)`` in one unit of work; the way UI events call use cases.

    On PostgreSQL this is ``unit_of_work``. On SQLite a unit of work holds the database's one write
    lock from BEGIN to COMMIT (``_sqlite_begin``), fsync included, so when every chart, list and
    search took it, reads queued behind each other (issue 11 §7). Here the unit first runs as a
    reader: deferred BEGIN, no lock; the events of reads it records (``core.audit.record``) wait in
    the session; the first statement that would write raises ``WriterNeeded``, the reader is rolled
    back and ``fn`` runs again as an ordinary writing unit (use cases are transactions: nothing of
    the first run was kept). A unit that only read hands its events to ``core.audit_group``, which
    chains the events of many reads in one write transaction, and returns only once they are
    committed: no PHI leaves without its audit event, as before."""
    engine = get_engine()
    if engine.dialect.name == "sqlite":
        try:
            with Session(engine, expire_on_commit=False) as session:
                session.connection(execution_options={_READ_ONLY: True, READ_FIRST: True})
                session.info[READ_FIRST] = []
                event.listen(session, "before_commit", _reader_never_commits)
                result = fn(session, *args, **kwargs)
                session.flush()  # changes the use case left pending are writes too (WriterNeeded)
                events = session.info.pop(READ_FIRST)
                session.rollback()  # the reader wrote nothing; end its snapshot before waiting
            if events:
                from patient_portal.core import audit_group

                audit_group.append(events)
            return result
        except WriterNeeded:
            pass
    with unit_of_work() as session:
        return fn(session, *args, **kwargs)


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
