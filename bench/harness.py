"""What the PostgreSQL benches share: a fresh database with the app's schema, and timing a call's
wall time, this process's CPU and the statements it sends (bench/appointments.py, messages.py,
reports.py). Import it after ``sys.path`` has the checkout (each bench puts it there)."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable


def fresh_database(url: str, *, instance: str | None = None, instance_prefix: str = "bench-",
                   timezone: str | None = None) -> None:
    """Create the database of `url` if it is missing, point the app at it (and at an instance folder:
    `instance`, else a new temporary one), then drop and rebuild its schema from the models."""
    from sqlalchemy import create_engine, text

    base, _, name = url.rpartition("/")
    admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first() is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    os.environ["PORTAL_DATABASE_URL"] = url
    os.environ["PORTAL_INSTANCE_DIR"] = instance or tempfile.mkdtemp(prefix=instance_prefix)
    if timezone:
        os.environ.setdefault("PORTAL_TIMEZONE", timezone)
    from patient_portal.core.db import get_engine
    from patient_portal.models import metadata

    engine = get_engine()
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    metadata.create_all(engine)


def vacuum() -> None:
    """VACUUM ANALYZE after seeding, as autovacuum soon would after such a load (bench/chart.py):
    planner statistics for the fresh rows; measuring while autovacuum runs measures autovacuum."""
    from sqlalchemy import text

    from patient_portal.core.db import get_engine

    with get_engine().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


def wait_for_chainer(limit: float = 0.5) -> None:
    """Wait (at most `limit` s) until this process's audit chainer has chained the read events the
    last call queued (bench/chart.py): the next call starts on a quiet process, as a user's next
    click would, instead of sharing the GIL with the last one's chaining."""
    from patient_portal.core import audit_queue

    deadline = time.perf_counter() + limit
    while audit_queue.waiting() and time.perf_counter() < deadline:
        time.sleep(0.0005)


class Timings:
    """Per call name: wall ms, CPU ms and statements sent on the app's engine (``listen`` first)."""

    def __init__(self) -> None:
        self.wall: dict[str, list[float]] = {}
        self.cpu: dict[str, list[float]] = {}
        self.statements: dict[str, list[int]] = {}
        self._count = 0

    def listen(self) -> None:
        from sqlalchemy import event

        from patient_portal.core.db import get_engine

        event.listen(get_engine(), "before_cursor_execute", self._seen)

    def _seen(self, *_args) -> None:
        self._count += 1

    def timed(self, fn: Callable[[], object], name: str) -> None:
        """Run `fn` once and keep its figures under `name`, then let the chainer finish."""
        before, cpu, started = self._count, time.process_time(), time.perf_counter()
        fn()
        self.wall.setdefault(name, []).append((time.perf_counter() - started) * 1000)
        self.cpu.setdefault(name, []).append((time.process_time() - cpu) * 1000)
        self.statements.setdefault(name, []).append(self._count - before)
        wait_for_chainer()

    def report(self, rows: list[tuple[str, str, float | None, str | None]], *, rounds: int, floor_words: str) -> bool:
        """Print one line per (label, call name, target p95 ms or None, floor call name or None) with
        the load average, and whether every target was met (the bench's exit status)."""
        print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores (wall times need a quiet machine); "
              f"{rounds} interleaved rounds")
        print(f"{'':30}{'median':>9}{'p95':>9}{'target':>9}{'CPU med':>9}{'SQL':>5}{'p95 - floor p95':>17}")
        ok = True
        for label, key, target, floor in rows:
            samples = self.wall[key]
            p95 = p95_of(samples)
            verdict = ""
            if target is not None:
                ok &= p95 < target
                verdict = "ok" if p95 < target else "MISSED"
            above = f"{p95 - p95_of(self.wall[floor]):8.1f}ms" if floor else ""
            print(f"{label:30}{statistics.median(samples):7.1f}ms{p95:7.1f}ms{'<' + str(target) if target else '':>7}"
                  f"{'ms' if target else '  '}{statistics.median(self.cpu[key]):7.1f}ms"
                  f"{statistics.median(self.statements[key]):5.0f}{above:>17}  {verdict}")
        print("  SQL   = statements the call sends on the app's engine (BEGIN/COMMIT not counted; the audit chainer's "
              "work after a read's commit is not counted and is waited for between calls, as bench/chart.py does);")
        print(f"  floor = {floor_words}")
        return ok


def p95_of(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1]
