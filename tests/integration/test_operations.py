"""Operations (issue 17): /metrics and its token, `portal doctor` naming each broken part with a
fix, and the system health page's handlers for each role."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from alembic import command
from patient_portal import cli
from patient_portal.core import audit, crypto, metrics
from patient_portal.core.db import get_engine
from patient_portal.core.migrations import alembic_config
from patient_portal.domain.identity import signin
from patient_portal.domain.operations import service
from patient_portal.settings import reset_settings
from patient_portal.state.operations import SystemHealthState
from tests.integration.identity_support import age_session, client, events, make_user
from tests.integration.test_chart_screens import _handle, _state

TOKEN = "scrape-me-7f3a"
ROOT = Path(__file__).resolve().parents[2]


def _metrics(token: str | None = TOKEN, scheme: str = "Bearer"):
    headers = {"Authorization": f"{scheme} {token}"} if token is not None else {}
    return client().get("/metrics", headers=headers)


@pytest.fixture
def metrics_token(db, monkeypatch):
    monkeypatch.setenv("PORTAL_METRICS_TOKEN", TOKEN)
    reset_settings()
    return TOKEN


def _value(body: str, prefix: str) -> float:
    """The sum of the samples whose line starts with `prefix` (0 when none)."""
    return sum(float(line.rsplit(" ", 1)[1]) for line in body.splitlines() if line.startswith(prefix))


# ---------------------------------------------------------------- /metrics


def test_metrics_is_not_there_without_a_configured_token(db):
    assert _metrics().status_code == 404
    assert _metrics(None).status_code == 404


def test_metrics_refuses_a_missing_or_wrong_token(metrics_token):
    for resp in (_metrics(None), _metrics("wrong"), _metrics(TOKEN + "x"), _metrics(TOKEN, scheme="Basic")):
        assert resp.status_code == 401 and resp.headers["www-authenticate"] == "Bearer"
        assert "portal_" not in resp.text


def test_latency_histograms_sign_in_failures_and_the_job_queue_appear(metrics_token):
    before = _metrics().text
    web = client()
    for _ in range(3):
        assert web.get("/api/health").status_code == 200
    make_user("someone@clinic.org", "staff")
    assert not signin.sign_in("someone@clinic.org", "not the password at all", ip="10.9.9.9").ok
    resp = _metrics()
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/plain")
    body = resp.text
    count = 'portal_http_request_duration_seconds_count{method="GET",route="/api/health",status="200"}'
    assert _value(body, count) == _value(before, count) + 3
    assert 'portal_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/api/health"' in body
    failures = 'portal_sign_in_failures_total{reason="password"}'
    assert _value(body, failures) == _value(before, failures) + 1
    assert "portal_job_queue_depth 0.0" in body and "portal_jobs_failed 0.0" in body
    assert "portal_database_up 1.0" in body
    assert "10.9.9.9" not in body and "someone@clinic.org" not in body  # no personal data in labels


def test_a_failing_route_counts_as_a_server_error(metrics_token):
    from fastapi.testclient import TestClient

    from patient_portal.api.app import build_api

    api = build_api()

    @api.get("/api/test-boom")
    def boom():
        raise RuntimeError("boom")

    web = TestClient(api, base_url="http://localhost:3000", raise_server_exceptions=False)
    series = 'portal_http_server_errors_total{route="/api/test-boom"}'
    assert web.get("/api/test-boom").status_code == 500
    assert _value(_metrics().text, series) >= 1
    assert web.get("/api/no-such-route").status_code == 404
    assert 'route="unmatched",status="404"' in _metrics().text


async def test_event_handler_latency_is_observed_per_handler(metrics_token):
    from reflex.state import StateUpdate
    from reflex_base.event import Event

    from patient_portal.state.timing import EventTiming

    timing = EventTiming()
    event = Event(name="reflex___state____state.system_health_state.refresh", payload={})
    await timing.preprocess(None, None, event)
    await timing.postprocess(None, None, event, StateUpdate(final=True))
    body = _metrics().text
    assert _value(body, 'portal_event_handler_duration_seconds_count{handler="system_health_state.refresh"}') >= 1


def test_metrics_of_two_app_processes_are_summed(tmp_path):
    """Multiprocess mode (as with GRANIAN_WORKERS=2): two processes count requests and sign-in
    failures, and a scrape answered by a third shows the sum of both."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    count = ("from patient_portal.core import metrics\n"
             "for _ in range({n}): metrics.observe_request('GET', '/api/health', 200, 0.01)\n"
             "metrics.sign_in_failed('password')\n")
    for n in (2, 3):
        subprocess.run([sys.executable, "-c", count.format(n=n)], env=env, check=True, cwd=tmp_path)
    scrape = "import sys\nfrom patient_portal.core import metrics\nsys.stdout.write(metrics.render()[0].decode())"
    out = subprocess.run([sys.executable, "-c", scrape], env=env, check=True, cwd=tmp_path, capture_output=True,
                         text=True).stdout
    assert _value(out, 'portal_http_request_duration_seconds_count{method="GET",route="/api/health",status="200"}') == 5
    assert _value(out, 'portal_sign_in_failures_total{reason="password"}') == 2


def test_several_workers_write_to_a_folder_of_their_own_start(portal_env, monkeypatch):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    monkeypatch.setenv("GRANIAN_WORKERS", "2")
    reset_settings()
    assert metrics.multiprocess_dir() == portal_env / "metrics" / str(os.getppid())
    monkeypatch.setenv("GRANIAN_WORKERS", "1")
    reset_settings()
    assert metrics.multiprocess_dir() is None


# ---------------------------------------------------------------- portal doctor


@pytest.fixture
def stamped(db):
    """The test database's schema is built from the models: stamp it with a migration revision as
    `portal db upgrade` would have; the stamp goes again after the test (the schema is shared on PostgreSQL)."""
    yield lambda revision: command.stamp(alembic_config(), revision)
    with get_engine().begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture
def healthy(db, stamped):
    """A database at the latest schema version, a private key file, events in the audit chain."""
    stamped("head")
    crypto.get_keyring()  # writes the key file (0600)
    for n in range(3):
        audit.record_now(None, "test.event", object_type="thing", object_id=n)
    return db


def _doctor(capsys) -> tuple[int, str]:
    code = cli.main(["doctor"])
    out = capsys.readouterr()
    return code, out.out + out.err


def test_doctor_passes_on_a_healthy_instance(healthy, capsys):
    code, out = _doctor(capsys)
    assert code == 0, out
    assert "[OK  ] database: connected" in out and "[OK  ] audit chain: 3 events verified" in out
    assert "[OK  ] migrations: version" in out and "database at the latest schema" in out
    assert "[OK  ] blob store" in out and "[OK  ] keys: key file" in out
    assert "] disk: " in out and "GiB free" in out
    assert "everything checked is fine" in out


def test_doctor_names_a_database_that_does_not_answer(portal_env, monkeypatch, capsys):
    monkeypatch.setenv("PORTAL_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:9/none")
    reset_settings()
    code, out = _doctor(capsys)
    assert code == 1
    assert "[FAIL] database: cannot connect to the database (OperationalError) — fix: check PORTAL_DATABASE_URL" in out
    assert "[FAIL] migrations: skipped: the database does not answer" in out
    assert "Traceback" not in out and "problem(s): database" in out


def test_doctor_names_a_key_file_others_can_read(healthy, portal_env, capsys):
    key_file = portal_env / "keys.txt"
    key_file.chmod(0o644)
    code, out = _doctor(capsys)
    assert code == 1
    assert f"[FAIL] keys: key file {key_file} is readable by other users (mode 644) — fix: chmod 600 {key_file}" in out


def test_doctor_names_a_mail_server_that_is_down(healthy, monkeypatch, capsys):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("PORTAL_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("PORTAL_SMTP_PORT", str(port))
    reset_settings()
    code, out = _doctor(capsys)
    assert code == 1
    assert f"[FAIL] mail server: 127.0.0.1:{port} does not answer (ConnectionRefusedError) — fix: check that the " \
           "mail server runs" in out


def test_doctor_finds_a_mail_server_that_answers(healthy, mailbox, capsys):
    code, out = _doctor(capsys)
    assert code == 0 and f"[OK  ] mail server: 127.0.0.1:{mailbox.port} answers" in out


def test_doctor_names_a_tampered_audit_row(healthy, capsys):
    with get_engine().begin() as conn:
        conn.execute(text("UPDATE audit_event SET action = 'nothing.happened' WHERE seq = 2"))
    code, out = _doctor(capsys)
    assert code == 1
    assert "[FAIL] audit chain: event 2 was altered — fix: run `portal audit verify`" in out


def test_doctor_names_pending_migrations(stamped, capsys):
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_revision("head")
    stamped(head.down_revision)
    code, out = _doctor(capsys)
    assert code == 1
    assert "[FAIL] migrations: version" in out and f"1 migration(s) pending ({head.revision})" in out
    assert "fix: take a backup, then run `portal db upgrade`" in out


# ---------------------------------------------------------------- the system health page


async def test_an_admin_sees_checks_queue_errors_and_sign_ins(healthy):
    state = _state(SystemHealthState, "root@clinic.org", "admin", "/admin/health")
    service.record_error_reference("A1B2C3")
    service.record_backup("portal-20261207-101500", 4)
    await _handle(state, "load")
    assert state.status == "ok" and state.error == ""
    names = [c.name for c in state.checks]
    assert names[:3] == ["configuration", "database", "migrations"] and "audit chain" in names
    assert state.failing == 0 and state.jobs_queued == 0 and state.jobs_failed == 0
    assert [e.reference for e in state.errors] == ["A1B2C3"]
    assert state.sessions_active == 1  # the admin, signed in for this test
    assert len(state.sign_ins) == 7 and state.sign_ins[-1].count == 1
    assert state.last_backup and not state.backup_overdue
    assert state.key_age == "0 days"
    assert len(events("system.health.read")) == 1


async def test_the_health_page_ranks_the_slowest_events_and_routes(healthy):
    metrics.observe_event("slow_probe_state.export_everything", 9.0)
    metrics.observe_event("slow_probe_state.export_everything", 7.0)  # mean 8 s over 2 calls
    metrics.observe_request("GET", "/api/slow-probe/{id}", 200, 7.5)
    metrics.observe_request("GET", "/api/slow-probe/{id}", 500, 6.5)  # statuses together: mean 7 s
    state = _state(SystemHealthState, "root@clinic.org", "admin", "/admin/health")
    await _handle(state, "load")
    top = [(c.kind, c.name, c.mean_ms, c.count) for c in state.slowest[:2]]
    assert top == [("event", "slow_probe_state.export_everything", "8000 ms", 2),
                   ("route", "GET /api/slow-probe/{id}", "7000 ms", 2)]
    assert len(state.slowest) <= 5


async def test_an_unexpected_error_reference_reaches_the_health_page_and_the_metrics(healthy, metrics_token):
    from patient_portal.core.db import _pool
    from patient_portal.state.errors import on_backend_error

    before = _value(_metrics().text, "portal_error_references_total")
    toast = on_backend_error(ValueError("patient Jane Doe"))
    reference = str(toast).split("reference ")[1][:6]
    _pool().submit(lambda: None).result()
    time.sleep(0.2)
    assert [e.object_id for e in events(service.ERROR_ACTION)] == [reference]
    assert _value(_metrics().text, "portal_error_references_total") == before + 1


@pytest.mark.parametrize("role", ["doctor", "staff", "patient"])
async def test_others_are_refused_with_not_permitted(db, role):
    state = _state(SystemHealthState, f"{role}@clinic.org", role, "/admin/health")
    await _handle(state, "load")
    assert state.status == "denied" and state.error == "Not permitted."
    assert state.checks == [] and state.sign_ins == []
    refused = events("system.health.read")
    assert len(refused) == 1 and refused[0].outcome == "denied"


async def test_a_timed_out_tab_is_sent_to_sign_in(db):
    state = _state(SystemHealthState, "root@clinic.org", "admin", "/admin/health")
    age_session("root@clinic.org", idle=timedelta(hours=1))
    answer = await _handle(state, "load")
    assert state.status == "loading" and state.checks == [] and "login" in str(answer)


def _stored_document() -> tuple[str, str]:
    """One document uploaded through the service; (its object key, its document id)."""
    from sqlmodel import select

    from patient_portal.core.db import unit_of_work
    from patient_portal.domain.documents import service as documents
    from patient_portal.domain.documents.models import DocumentVersion
    from tests.integration.patients_support import ADMIN, actor, register
    from tests.samples import one_page_pdf

    pid = register().patient_id
    doc = documents.upload(actor(ADMIN), patient_id=pid, filename="lab.pdf", chunks=[one_page_pdf("HbA1c 5.6")],
                           meta={"category": "lab_result", "title": "Blood panel", "service_date": "2026-01-15",
                                 "source": "City Lab"})
    with unit_of_work() as s:
        key = s.exec(select(DocumentVersion.object_key).where(DocumentVersion.document_id == doc.id)).one()
    return key, str(doc.id)


def test_doctor_reads_back_stored_files_and_names_a_damaged_or_orphaned_one(healthy, capsys):
    from patient_portal.core.storage import get_blob_store

    key, doc_id = _stored_document()
    code, out = _doctor(capsys)
    assert "[OK  ] stored files: the 1 newest stored files read back and match their records" in out
    assert "[OK  ] orphans: all 1 stored files belong to a document" in out and code == 0, out
    store = get_blob_store()
    store.put("doc/zz/left-behind", [b"ciphertext of a failed upload"])
    sealed = b"".join(store.get(key))
    store.put(key, [sealed[:-1] + bytes([sealed[-1] ^ 1])])  # one bit of the stored file flipped
    code, out = _doctor(capsys)
    assert code == 1
    assert f"[FAIL] stored files: 1 of the 1 newest stored files do not check out (document {doc_id}" in out
    assert "fix: run `portal storage verify`" in out
    assert "[WARN] orphans: 1 files in the store belong to no document" in out
    store.delete(key)
    code, out = _doctor(capsys)
    assert "[FAIL] orphans: 1 document versions have no file in the store" in out


def test_doctor_holds_the_permission_sets_against_the_roles(healthy, capsys):
    from patient_portal.core.db import unit_of_work
    from patient_portal.domain.identity.models import PermissionSet

    code, out = _doctor(capsys)
    assert "[OK  ] access matrix: " in out and "permission sets agree with the roles' permissions" in out
    with unit_of_work() as s:
        s.add(PermissionSet(name="Odd", role="staff", capabilities=["registration", "teleport"]))
        s.add(PermissionSet(name="Admins lite", role="admin", capabilities=["settings"]))
    code, out = _doctor(capsys)
    assert code == 1
    assert "[FAIL] access matrix: set 'Odd' names unknown capabilities ['teleport']; admin set 'Admins lite' " \
           "lacks ['users']" in out


def test_doctor_reports_the_last_dependency_audit_and_fails_on_a_vulnerable_package(healthy, capsys):
    from datetime import UTC, datetime

    from patient_portal.domain.operations import dependencies

    code, out = _doctor(capsys)  # never audited: a warning that says how
    assert code == 0 and "[WARN] dependencies: installed packages not audited" in out
    assert "portal doctor --dependencies" in out
    now = datetime.now(UTC).isoformat(timespec="seconds")
    dependencies.save(dependencies.from_report({"dependencies": [
        {"name": "jinja2", "version": "3.1.2", "vulns": [{"id": "GHSA-h5c8-rqwp-cp95", "fix_versions": ["3.1.3"]}]},
        {"name": "requests", "version": "2.32.3", "vulns": []}]}, now))
    code, out = _doctor(capsys)
    assert code == 1
    assert "[FAIL] dependencies: 1 published vulnerabilities" in out and "jinja2 3.1.2: GHSA-h5c8-rqwp-cp95" in out
    report = service.doctor()  # the health page shows the same checks
    assert any(c.name == "dependencies" and c.failed for c in report)
