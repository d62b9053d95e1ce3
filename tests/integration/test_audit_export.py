"""Administrators download the audit log as CSV: the screen's filters, every matching event newest
first, streamed in batches; audited before it is sent; spreadsheet formulas neutralised; nobody
else gets it."""

from __future__ import annotations

import csv
import io

import pytest

from patient_portal.core.db import unit_of_work
from patient_portal.domain.audit_log import export
from patient_portal.domain.identity.models import User
from tests.integration.identity_support import client, events, login, make_user

pytestmark = pytest.mark.usefixtures("db")


def _signed_in(email: str, role: str, **kw):
    make_user(email, role, **kw)
    c = client()
    assert login(c, email).status_code == 303
    return c


def _rows(resp) -> list[list[str]]:
    return list(csv.reader(io.StringIO(resp.text)))


def test_admin_downloads_the_filtered_log_newest_first_in_batches(monkeypatch):
    monkeypatch.setattr(export, "BATCH", 2)  # several batches even for a short trail
    admin = _signed_in("root@clinic.org", "admin")
    for n in range(3):
        make_user(f"staff{n}@clinic.org", "staff")
        login(client(), f"staff{n}@clinic.org")
    resp = admin.get("/api/audit/export.csv", params={"action": "auth.sign_in"})
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/csv")
    assert resp.headers["content-disposition"].startswith('attachment; filename="audit-log-')
    assert resp.headers["cache-control"] == "no-store"
    header, *rows = _rows(resp)
    assert header == list(export.COLUMNS)
    assert len(rows) == 4 == int(resp.headers["x-audit-events"])  # the admin's sign-in and three staff
    assert all(r[5] == "auth.sign_in" for r in rows)
    assert [int(r[0]) for r in rows] == sorted((int(r[0]) for r in rows), reverse=True)
    assert {r[3] for r in rows} == {"root@clinic.org", "staff0@clinic.org", "staff1@clinic.org", "staff2@clinic.org"}
    done = events("audit.export")
    assert len(done) == 1 and done[0].detail == {"filters": ["action"], "count": 4}


def test_a_name_that_looks_like_a_formula_is_written_as_text():
    admin = _signed_in("root@clinic.org", "admin")
    odd = make_user("odd@clinic.org", "staff")
    with unit_of_work() as s:
        s.get(User, odd.id).display_name = '=HYPERLINK("http://evil.example","x")'
    login(client(), "odd@clinic.org")
    rows = _rows(admin.get("/api/audit/export.csv", params={"actor": "odd@clinic.org"}))[1:]
    assert rows and all(r[2].startswith("'=HYPERLINK") for r in rows)


def test_only_administrators_get_it_and_bad_filters_say_why():
    assert client().get("/api/audit/export.csv").status_code == 401
    staff = _signed_in("desk@clinic.org", "staff")
    refused = staff.get("/api/audit/export.csv")
    assert refused.status_code == 403 and "Seq" not in refused.text
    assert [e.outcome for e in events("audit.read")] == ["denied"]
    admin = _signed_in("root@clinic.org", "admin")
    bad = admin.get("/api/audit/export.csv", params={"date_from": "2026-03-02", "date_to": "2026-03-01"})
    assert bad.status_code == 400 and "before the 'from' date" in bad.json()["detail"]
    assert events("audit.export") == []
