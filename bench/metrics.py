"""Metrics benchmark (a script, not a test): what a /metrics scrape costs, beside GET /api/health.

Issue 17's bar: a scrape under 50 ms. Both endpoints are called in-process through the API app
(``TestClient``), alternating, after --warm requests to many routes so the histograms hold series;
prints p50/p95 of each. The baseline is /api/health (one database ping and one blob-store ping).

    .venv/bin/python bench/metrics.py [--runs 200] [--routes 40]

Runs on a throwaway SQLite instance folder (the job-queue collector reads the database).
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


if __name__ == "__main__":
    main()
