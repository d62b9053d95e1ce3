"""Process metrics in the Prometheus text format (``prometheus-client``), for ``GET /metrics``.

Any module may count something through the small functions below (``observe_request``,
``observe_event``, ``sign_in_failed``, ``server_error``, ``error_reference``, ``pool_state``);
none of them imports ``prometheus_client`` at import time of its caller, and none raises: a metric
that cannot be written never fails the request it describes.

**Several app processes.** ``GRANIAN_WORKERS=2`` runs two processes behind one port; a scrape reaches
one of them at random, so per-process labels would show half the truth on each scrape. We use
prometheus-client's *multiprocess mode* instead: each process writes its counters and histograms
to memory-mapped files in one folder and whichever process answers the scrape sums them all.
The folder is ``PROMETHEUS_MULTIPROC_DIR`` when the operator sets it (empty it before each start,
as the prometheus-client docs say), else — when GRANIAN_WORKERS > 1 — ``<instance>/metrics/<ppid>``:
the workers of one server share its parent's pid, so each start gets a fresh folder by itself.
One process (the embedded default, tests) keeps the values in memory. Gauges of a process (its DB
pool) are summed over the *live* processes (``livesum``); a process that exits is marked dead.
The mode is fixed on first use (prometheus-client reads the variable when it is imported).

No label ever holds patient data: routes are the route *templates* (``/api/documents/{id}``),
handlers are ``State.method`` names, reasons are fixed words.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

#: Latency buckets in seconds: a websocket event or API call is fast (ms) or needs looking at (s).
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

_lock = threading.Lock()
_metrics: dict[str, Any] | None = None


def multiprocess_dir() -> Path | None:
    """The folder multiprocess mode writes to, or None for one process (see the module doc)."""
    explicit = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if explicit:
        return Path(explicit)
    from patient_portal.settings import get_settings

    settings = get_settings()
    if settings.app_workers > 1:
        return settings.instance_dir / "metrics" / str(os.getppid())
    return None


def _setup() -> dict[str, Any]:
    """Choose the mode, then build every metric once per process."""
    global _metrics
    with _lock:
        if _metrics is not None:
            return _metrics
        folder = multiprocess_dir()
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
        from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

        disable_created_metrics()  # no *_created series: a third fewer lines to scrape, nothing lost for rates

        _metrics = {
            "requests": Histogram("portal_http_request_duration_seconds", "HTTP request latency by route",
                                  ["method", "route", "status"], buckets=BUCKETS),
            "events": Histogram("portal_event_handler_duration_seconds",
                                "Websocket event-handler latency by handler", ["handler"], buckets=BUCKETS),
            "server_errors": Counter("portal_http_server_errors_total", "HTTP answers with a 5xx status",
                                     ["route"]),
            "sign_in_failures": Counter("portal_sign_in_failures_total", "Failed sign-ins by reason", ["reason"]),
            "error_references": Counter("portal_error_references_total",
                                        "Unexpected errors shown to a person with a reference"),
            "pool": Gauge("portal_db_pool_connections", "Database pool connections of the live app processes",
                          ["state"], multiprocess_mode="livesum"),
        }
        if folder is not None:
            atexit.register(_mark_dead)
        return _metrics


def _mark_dead() -> None:
    try:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(os.getpid())
    except Exception:  # noqa: S110 - best effort at exit
        pass


def _safely(fn) -> None:
    try:
        fn(_metrics or _setup())
    except Exception:  # a metric must never fail what it measures
        log.debug("metric not recorded", exc_info=True)


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    """One HTTP answer: its latency by route template, and a 5xx counted."""
    def do(m):
        m["requests"].labels(method, route, str(status)).observe(seconds)
        if status >= 500:
            m["server_errors"].labels(route).inc()
    _safely(do)


def observe_event(handler: str, seconds: float) -> None:
    """One websocket event handled (``State.method``)."""
    _safely(lambda m: m["events"].labels(handler).observe(seconds))


def sign_in_failed(reason: str) -> None:
    """A sign-in refused (reason: password, unknown_or_inactive, locked, code, throttled …)."""
    _safely(lambda m: m["sign_in_failures"].labels(reason).inc())


def error_reference() -> None:
    """An unexpected error was shown to a person with a reference (state/errors.py)."""
    _safely(lambda m: m["error_references"].inc())


def pool_state(checked_out: int, size: int, overflow: int) -> None:
    """This process's database pool, after a connection was taken or given back."""
    def do(m):
        m["pool"].labels("checked_out").set(checked_out)
        m["pool"].labels("size").set(size)
        m["pool"].labels("overflow").set(overflow)
    _safely(do)


def watch_pool(engine: Any) -> None:
    """Keep ``pool_state`` current for `engine` (core.db calls this when it builds the engine)."""
    from sqlalchemy import event

    pool = engine.pool
    if not hasattr(pool, "checkedout"):  # SQLite's NullPool/StaticPool have nothing to show
        return

    def changed(*_args: Any) -> None:
        pool_state(pool.checkedout(), pool.size(), max(0, pool.overflow()))

    event.listen(pool, "checkout", changed)
    event.listen(pool, "checkin", changed)


class _ThisProcess:
    """The default registry (our metrics, plus prometheus-client's process and GC ones) as a collector."""

    def collect(self):
        from prometheus_client import REGISTRY

        yield from REGISTRY.collect()


def _registry(extra: list[Any] = ()) -> Any:
    """Every process's metrics (multiprocess mode) or this one's, plus the `extra` collectors."""
    from prometheus_client import CollectorRegistry

    _setup()
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    for collector in extra:
        registry.register(collector)
    return registry


#: The latency histograms the health page ranks: (metric name, what the page calls it)
_TIMED = {"portal_event_handler_duration_seconds": "event", "portal_http_request_duration_seconds": "route"}


def slowest(limit: int = 5) -> list[tuple[str, str, float, int]]:
    """The websocket events and HTTP routes with the highest mean latency since the app started
    (every process's): ``(kind, name, mean seconds, count)``, slowest first. A route's statuses are
    counted together. Names are handler names and route templates — never patient data."""
    sums: dict[tuple[str, str], list[float]] = {}
    try:
        for family in _registry().collect():
            kind = _TIMED.get(family.name)
            if kind is None:
                continue
            for sample in family.samples:
                if not sample.name.endswith(("_sum", "_count")):
                    continue
                labels = sample.labels
                name = labels.get("handler") or f"{labels.get('method', '')} {labels.get('route', '')}".strip()
                total = sums.setdefault((kind, name), [0.0, 0.0])
                total[0 if sample.name.endswith("_sum") else 1] += sample.value
    except Exception:  # the health page shows what it can; metrics never fail it
        log.debug("slowest calls not read", exc_info=True)
        return []
    ranked = [(kind, name, total / count, int(count)) for (kind, name), (total, count) in sums.items() if count]
    return sorted(ranked, key=lambda row: row[2], reverse=True)[:limit]


def render(extra: list[Any] = ()) -> tuple[bytes, str]:
    """The exposition text of every process (multiprocess mode) or of this one, plus the `extra`
    collectors (values read at scrape time, e.g. the job queue from the database)."""
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    return generate_latest(_registry(extra)), CONTENT_TYPE_LATEST
