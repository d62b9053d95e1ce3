"""GET /api/health says whether the database and the blob store answer."""

from __future__ import annotations

from fastapi.testclient import TestClient

from patient_portal.api.app import build_api
from patient_portal.settings import reset_settings


def test_health_is_ok_when_database_and_store_answer(db):
    resp = TestClient(build_api()).get("/api/health")
    assert resp.status_code == 200
    body = resp.json()
    assert body["database"]["status"] == "ok" and body["blob_store"]["status"] == "ok"
    assert resp.headers["cache-control"] == "no-store"


def test_health_names_the_failing_blob_store(db, monkeypatch):
    monkeypatch.setenv("PORTAL_S3_BUCKET", "missing")
    monkeypatch.setenv("PORTAL_S3_ENDPOINT_URL", "http://127.0.0.1:9")
    reset_settings()
    resp = TestClient(build_api()).get("/api/health")
    assert resp.status_code == 503
    assert resp.json()["failing"] == ["blob_store"]


def test_health_names_the_failing_database(portal_env, monkeypatch):
    monkeypatch.setenv("PORTAL_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:9/none")
    reset_settings()
    resp = TestClient(build_api()).get("/api/health")
    assert resp.status_code == 503
    assert resp.json()["failing"] == ["database"]
    assert "Traceback" not in resp.text
