"""Retention and cleanup (issue 17): each rule removes what is past its time and nothing younger; a
dry run only counts; admins only; every run audited by counts; `portal cleanup` and the worker's run."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from patient_portal import cli
from patient_portal.core import retention
from patient_portal.core.access import AccessDenied
from patient_portal.core.db import unit_of_work, utcnow
from patient_portal.core.jobs import Job
from patient_portal.core.storage import get_blob_store
from patient_portal.domain.appointments.models import AppointmentLink
from patient_portal.domain.fhir.models import DONE, FhirExport
from patient_portal.domain.identity.models import EmailLink, UserSession
from patient_portal.domain.identity.sessions import actor_for
from patient_portal.domain.operations import cleanup
from patient_portal.domain.patients.models import RegistrationDraftRow
from patient_portal.state.retention import RetentionState
from tests.integration.identity_support import events, make_user
from tests.integration.test_chart_screens import _handle, _state

pytestmark = pytest.mark.usefixtures("db")
RULES = ("jobs.done", "identity.email_links", "identity.sessions", "patients.drafts", "appointments.links",
         "fhir.exports")


def _leftovers(age: timedelta) -> None:
    """One row of every kind, `age` past the moment it stopped being needed."""
    then, user = utcnow() - age, uuid.uuid4()
    get_blob_store().put(f"export/{user}", [b"ndjson"])
    with unit_of_work() as s:
        s.add(Job(kind="mail", payload={}, status="done", done_at=then))
        s.add(EmailLink(user_id=user, purpose="reset", token_hash=uuid.uuid4().hex, expires_at=then))
        s.add(UserSession(token_hash=uuid.uuid4().hex, user_id=user, revoked=True, revoked_at=then - timedelta(days=23)))
        s.add(RegistrationDraftRow(user_id=user, data={"step": "contact"}, updated_at=then - timedelta(days=23)))
        s.add(AppointmentLink(appointment_id=uuid.uuid4(), purpose="cancel", token_hash=uuid.uuid4().hex,
                              expires_at=then))
        s.add(FhirExport(requested_by=user, level="patient", types=[], request_url="/fhir/$export", status=DONE,
                         files=[{"type": "Patient", "key": f"export/{user}", "wrapped": "", "count": 1}],
                         expires_at=then + timedelta(days=2)))  # its files go as soon as it expires


def _count(model) -> int:
    with unit_of_work() as s:
        return s.execute(select(func.count()).select_from(model)).scalar_one()


@pytest.fixture
def admin():
    return actor_for(make_user("root@clinic.org", "admin"))


def test_every_kind_past_its_time_goes_and_nothing_younger(admin):
    _leftovers(timedelta(days=8))  # due
    _leftovers(timedelta(days=1))  # not yet (a day after use or expiry)
    with unit_of_work() as s:
        dry = cleanup.run(s, admin, dry_run=True)
    assert {r.key: r.count for r in dry.results} == dict.fromkeys(RULES, 1) and dry.total == 6
    assert _count(EmailLink) == 2 and _count(FhirExport) == 2  # a dry run removes nothing
    with unit_of_work() as s:
        done = cleanup.run(s, admin, dry_run=False)
    assert done.total == 6
    assert [_count(m) for m in (Job, EmailLink, UserSession, RegistrationDraftRow, AppointmentLink)] == [1] * 5
    with unit_of_work() as s:
        exports = s.execute(select(FhirExport.status, FhirExport.expires_at)).all()
    assert sorted(status for status, _ in exports) == ["done", "expired"]
    keys = sorted(get_blob_store().keys("export/"))
    assert len(keys) == 1  # the expired export's file is gone from the blob store, the other stays
    with unit_of_work() as s:
        assert cleanup.run(s, admin, dry_run=True).total == 0
    runs = events("system.cleanup")
    assert [e.detail["dry_run"] for e in runs] == [True, False, True]
    assert runs[1].detail["identity.email_links"] == 1 and runs[1].actor_id == admin.user_id


@pytest.mark.parametrize("role", ["staff", "doctor", "patient"])
def test_only_admins_run_or_preview_a_cleanup(role):
    _leftovers(timedelta(days=8))
    other = actor_for(make_user(f"{role}@clinic.org", role))
    for dry in (True, False):
        with pytest.raises(AccessDenied), unit_of_work() as s:
            cleanup.run(s, other, dry_run=dry)
    assert _count(EmailLink) == 1
    assert [e.outcome for e in events("system.cleanup")] == ["denied", "denied"]


def test_the_worker_and_the_command_line_apply_the_same_rules(capsys):
    _leftovers(timedelta(days=8))
    assert cli.main(["cleanup", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "Password-reset and address-confirmation links: 1 due (kept 7 days after use or expiry)" in out
    assert _count(EmailLink) == 1
    assert cli.main(["cleanup"]) == 0
    assert "Unfinished registration forms: 1 removed" in capsys.readouterr().out
    assert _count(EmailLink) == 0 and _count(RegistrationDraftRow) == 0
    _leftovers(timedelta(days=8))
    assert sum(n for _r, n in retention.run_unattended()) == 6
    assert [e.actor_id for e in events("system.cleanup")] == [None, None]


async def test_the_retention_page_previews_then_cleans_up():
    state = _state(RetentionState, "boss@clinic.org", "admin", "/admin/retention")  # signing in prunes sessions
    _leftovers(timedelta(days=8))
    await _handle(state, "load")
    assert state.retention_status == "ok" and state.due_total == 6
    assert {r["key"]: r["count"] for r in state.rules} == dict.fromkeys(RULES, "1")
    await _handle(state, "clean_up")
    assert state.removed == "Removed 6 items past their time." and state.due_total == 0
    desk = _state(RetentionState, "desk@clinic.org", "staff", "/admin/retention")
    await _handle(desk, "load")
    assert desk.retention_status == "denied" and desk.rules == []
