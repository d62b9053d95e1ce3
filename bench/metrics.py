"""Metrics benchmark (a script, not a test): what a /metrics scrape costs, beside GET /api/health.

Issue 17's bar: a scrape under 50 ms. Both endpoints are called in-process through the API app
(``TestClient``), alternating, after --warm requests to many routes so the histograms hold series;
prints p50/p95 of each. The baseline is /api/health (one database ping and one blob-store ping).

    .venv/bin/python bench/metrics.py [--runs 200] [--routes 40]

Runs on a throwaway SQLite instance folder (the job-queue collector reads the database).

Then the instrumentation's own cost (issue 17's bar: it adds < 2 % to a websocket event): the
event-timing middleware (``state/timing.py``: ``preprocess`` + ``postprocess``, which observes the
handler's histogram) run --events times in this process, per event, beside the smallest unit of
work a data-reading event does (a transaction with one ``SELECT 1``, timed in the same run) and
beside the app's measured CPU per websocket event under load (bench/load.py, README: 8.6 ms).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--routes", type=int, default=40, help="distinct route labels to fill the histograms")
    parser.add_argument("--events", type=int, default=20000, help="events through the timing middleware")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="bench-metrics-")
    os.environ.update(PORTAL_INSTANCE_DIR=folder, PORTAL_METRICS_TOKEN="bench", PORTAL_ENV="demo")
    from fastapi.testclient import TestClient
    from sqlalchemy import create_engine

    from patient_portal.api.app import build_api
    from patient_portal.core import metrics
    from patient_portal.models import metadata

    engine = create_engine(f"sqlite:///{folder}/portal.db")
    metadata.create_all(engine)
    engine.dispose()
    web = TestClient(build_api(), base_url="http://localhost:3000")
    for i in range(args.routes):  # series as a busy app would have them
        metrics.observe_request("GET", f"/api/route{i}/{{id}}", 200, 0.01 * i)
        metrics.observe_event(f"State{i}.load", 0.02)
    auth = {"Authorization": "Bearer bench"}
    scrape, health = [], []
    for _ in range(args.runs):
        started = time.perf_counter()
        assert web.get("/metrics", headers=auth).status_code == 200
        scrape.append(time.perf_counter() - started)
        started = time.perf_counter()
        web.get("/api/health")
        health.append(time.perf_counter() - started)
    size = len(web.get("/metrics", headers=auth).content)
    print(f"GET /api/health (baseline): p50 {_pct(health, 0.5):.1f} ms  p95 {_pct(health, 0.95):.1f} ms")
    print(f"GET /metrics ({size} bytes): p50 {_pct(scrape, 0.5):.1f} ms  p95 {_pct(scrape, 0.95):.1f} ms"
          f"  (target < 50 ms; mean {statistics.mean(scrape) * 1000:.1f} ms)")
    _instrumentation(args.events)


def _instrumentation(events: int) -> None:
    """The middleware's cost per event beside the smallest data-reading unit of work (see the doc)."""
    import asyncio
    import types

    from sqlalchemy import text

    from patient_portal.core.db import transact
    from patient_portal.state.timing import EventTiming

    timing = EventTiming()
    update = types.SimpleNamespace(final=True)
    fakes = [types.SimpleNamespace(name=f"state.portal_state.handler{i % 40}") for i in range(events)]

    async def run() -> float:
        started = time.perf_counter()
        for event in fakes:
            await timing.preprocess(None, None, event)
            await timing.postprocess(None, None, event, update)
        return time.perf_counter() - started

    per_event_us = asyncio.run(run()) / events * 1e6
    units = []
    for _ in range(200):
        started = time.perf_counter()
        transact(lambda session: session.execute(text("SELECT 1")).scalar_one())
        units.append(time.perf_counter() - started)
    unit_us = statistics.median(units) * 1e6
    print(f"event timing (middleware + histogram): {per_event_us:.1f} µs per event; "
          f"baseline, a one-statement unit of work: {unit_us:.0f} µs median -> {per_event_us / unit_us:.1%} of it, "
          f"{per_event_us / 8600:.2%} of the 8.6 ms CPU an event costs under load (target < 2 %)")


if __name__ == "__main__":
    main()
