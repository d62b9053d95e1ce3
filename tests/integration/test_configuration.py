"""The clinic's settings kept in the app (issue 17): who may change them, the checks on each field,
the audit of what changed, and the new values in force at once — in this process and in another."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from patient_portal.core import clinic_config, mail
from patient_portal.core.access import AccessDenied
from patient_portal.core.clock import clinic_zone
from patient_portal.core.db import unit_of_work
from patient_portal.core.errors import Conflict, Invalid
from patient_portal.core.jobs import Job
from patient_portal.domain.configuration import service
from patient_portal.domain.identity.sessions import actor_for
from patient_portal.state.configuration import ClinicSettingsState
from tests.integration.identity_support import age_session, client, events, login, make_user
from tests.integration.test_chart_screens import _handle, _state

pytestmark = pytest.mark.usefixtures("db")
ROOT = Path(__file__).resolve().parents[2]
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


def _call(fn, *args, **kwargs):
    with unit_of_work() as s:
        return fn(s, *args, **kwargs)


def _form(**changes):
    values = {"clinic_name": "Harbor Family Practice", "clinic_address": "1 Pier Road, Portland, ME",
              "clinic_phone": "+1 207 555 0188", "timezone": "America/New_York",
              "business_hours": {"0": ["08:00", "17:00"], "5": ["09:00", "12:00"]},
              "session_idle_minutes": "10", "session_absolute_hours": "8", "require_mfa": False,
              "email_signature": "Harbor Family Practice, open weekdays 8 to 5."}
    values.update(changes)
    return values


@pytest.fixture
def admin():
    return actor_for(make_user("root@clinic.org", "admin"))


def test_before_any_save_the_environment_gives_the_values(admin):
    view = _call(service.get, admin)
    assert view.version == 0 and view.values["clinic_name"] == "Demo Clinic" and view.values["timezone"] == "UTC"
    assert clinic_config.current().clinic_name == "Demo Clinic"


def test_a_save_is_in_force_at_once_and_audited_with_before_and_after(admin):
    assert str(clinic_zone()) == "UTC"
    saved = _call(service.save, admin, values=_form(), expected_version=0)
    assert saved.version == 1 and saved.values["clinic_phone"] == "+1 207-555-0188"
    profile = clinic_config.current()
    assert (profile.clinic_name, profile.timezone, profile.session_idle_seconds,
            profile.session_absolute_seconds) == ("Harbor Family Practice", "America/New_York", 600, 8 * 3600)
    assert str(clinic_zone()) == "America/New_York"
    [event] = events("system.settings.save")
    changed = event.detail["changed"]
    assert changed["timezone"] == {"before": "UTC", "after": "America/New_York"}
    assert changed["session_idle_minutes"] == {"before": 15, "after": 10}
    assert "require_mfa" not in changed  # unchanged fields are not listed
    again = _call(service.save, admin, values=_form(timezone="Europe/Paris"), expected_version=1)
    assert again.version == 2 and str(clinic_zone()) == "Europe/Paris"
    assert events("system.settings.save")[-1].detail["changed"] == {
        "timezone": {"before": "America/New_York", "after": "Europe/Paris"}}


def test_each_bad_field_gets_its_own_message_and_nothing_is_saved(admin):
    bad = _form(clinic_name=" ", timezone="Mars/Olympus", clinic_phone="12", session_idle_minutes="2",
                session_absolute_hours="30", business_hours={"1": ["17:00", "09:00"], "2": ["9", ""]},
                email_signature="<b>hi</b>")
    with pytest.raises(Invalid) as err:
        _call(service.save, admin, values=bad, expected_version=0)
    assert set(err.value.errors) == {"clinic_name", "timezone", "clinic_phone", "session_idle_minutes",
                                     "session_absolute_hours", "hours_1", "hours_2", "email_signature"}
    assert "5 to 60" in err.value.errors["session_idle_minutes"]
    assert "Tuesday: closing time must be after opening time." == err.value.errors["hours_1"]
    assert _call(service.get, admin).version == 0 and str(clinic_zone()) == "UTC"


def test_a_stale_form_is_refused(admin):
    _call(service.save, admin, values=_form(), expected_version=0)
    with pytest.raises(Conflict):
        _call(service.save, admin, values=_form(clinic_name="Someone else's"), expected_version=0)
    assert clinic_config.current().clinic_name == "Harbor Family Practice"


@pytest.mark.parametrize("role", ["staff", "doctor", "patient"])
def test_only_admins_read_or_change_the_settings(role, admin):
    other = actor_for(make_user(f"{role}@clinic.org", role))
    for call in (lambda: _call(service.get, other),
                 lambda: _call(service.save, other, values=_form(), expected_version=0),
                 lambda: _call(service.save_logo, other, data=PNG)):
        with pytest.raises(AccessDenied):
            call()
    assert clinic_config.current().clinic_name == "Demo Clinic"
    assert {e.action for e in events() if e.outcome == "denied"} >= {"system.settings.read", "system.settings.save",
                                                                      "system.settings.logo"}


def test_the_idle_timeout_an_admin_sets_ends_sessions(admin):
    make_user("desk@clinic.org", "staff")
    web = client()
    assert login(web, "desk@clinic.org").status_code == 303
    age_session("desk@clinic.org", idle=timedelta(minutes=7))
    assert web.get("/api/auth/whoami").status_code == 200  # the default: 15 idle minutes
    _call(service.save, admin, values=_form(session_idle_minutes="5"), expected_version=0)
    age_session("desk@clinic.org", idle=timedelta(minutes=7))
    assert web.get("/api/auth/whoami").status_code == 401


def test_emails_carry_the_clinics_closing_words(admin):
    _call(service.save, admin, values=_form(), expected_version=0)
    with unit_of_work() as s:
        mail.queue(s, mail.Mail(to="maria@example.org", subject="Your appointment", text="See you soon."))
    with unit_of_work() as s:
        [job] = s.query(Job).filter(Job.kind == "mail").all()
        assert job.payload["text"] == "See you soon.\n\n-- \nHarbor Family Practice, open weekdays 8 to 5.\n"


def test_the_logo_is_checked_by_its_bytes_and_served_to_anyone(admin):
    with pytest.raises(Invalid) as err:
        _call(service.save_logo, admin, data=b"GIF89a" + b"\0" * 10)
    assert err.value.errors == {"logo": "Choose a PNG or JPEG image."}
    with pytest.raises(Invalid) as err:
        _call(service.save_logo, admin, data=PNG + b"\0" * service.LOGO_MAX_BYTES)
    assert "256 KB" in err.value.errors["logo"]
    assert client().get("/api/clinic/logo").status_code == 404
    _call(service.save_logo, admin, data=PNG)
    resp = client().get("/api/clinic/logo")
    assert resp.status_code == 200 and resp.content == PNG and resp.headers["content-type"] == "image/png"
    assert clinic_config.current().has_logo and _call(service.get, admin).version == 1
    _call(service.save_logo, admin, data=None)
    assert client().get("/api/clinic/logo").status_code == 404


def test_a_change_reaches_another_app_process_within_a_second(admin):
    """A second process that read the settings before the save reads the new ones after it."""
    reader = subprocess.Popen(
        [sys.executable, "-c", "import sys\nfrom patient_portal.core.clock import clinic_zone\n"
         "for _ in sys.stdin:\n    print(clinic_zone(), flush=True)\n"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT, env=dict(os.environ))
    try:
        def ask() -> str:
            reader.stdin.write("?\n")
            reader.stdin.flush()
            return reader.stdout.readline().strip()

        assert ask() == "UTC"
        _call(service.save, admin, values=_form(timezone="Asia/Tokyo"), expected_version=0)
        deadline = time.monotonic() + 3
        seen = ask()
        while seen != "Asia/Tokyo" and time.monotonic() < deadline:
            time.sleep(0.2)
            seen = ask()
        assert seen == "Asia/Tokyo"
    finally:
        reader.stdin.close()
        reader.wait(timeout=10)


async def test_the_settings_page_saves_the_form_and_shows_each_problem_beside_its_field():
    state = _state(ClinicSettingsState, "boss@clinic.org", "admin", "/admin/settings")
    await _handle(state, "load")
    assert state.settings_status == "ok" and state.version == "0" and state.form["timezone"] == "UTC"
    assert state.form["open_0"] == "08:00" and state.form["open_6"] == ""
    state.set_field("timezone", "America/Chicago")
    state.set_field("session_idle_minutes", "90")
    state.set_field("close_2", "07:00")
    state.set_field("not_a_field", "x")
    await _handle(state, "save")
    assert set(state.errors) == {"session_idle_minutes", "hours_2"} and str(clinic_zone()) == "UTC"
    state.set_field("session_idle_minutes", "20")
    state.set_field("close_2", "18:00")
    assert "hours_2" not in state.errors
    await _handle(state, "save")
    assert state.errors == {} and state.version == "1" and str(clinic_zone()) == "America/Chicago"
    assert clinic_config.current().business_hours["2"] == ["08:00", "18:00"]
    assert "not_a_field" not in state.form


@pytest.mark.parametrize("role", ["staff", "doctor", "patient"])
async def test_the_settings_page_shows_nothing_to_other_roles(role):
    state = _state(ClinicSettingsState, f"{role}@clinic.org", role, "/admin/settings")
    await _handle(state, "load")
    assert state.settings_status == "denied" and state.form == {}
    state.form = {"clinic_name": "Taken over", "timezone": "UTC"}
    await _handle(state, "save")
    assert clinic_config.current().clinic_name == "Demo Clinic"


def test_an_admin_uploads_the_logo_over_http_and_others_are_refused():
    make_user("boss@clinic.org", "admin")
    make_user("desk@clinic.org", "staff")
    web = client()
    login(web, "desk@clinic.org")
    assert web.post("/api/clinic/logo", content=PNG, headers={"content-type": "image/png"}).status_code == 403
    assert client().post("/api/clinic/logo", content=PNG).status_code == 401
    web = client()
    login(web, "boss@clinic.org")
    bad = web.post("/api/clinic/logo", content=b"%PDF-1.4", headers={"content-type": "image/png"})
    assert bad.status_code == 422 and bad.json()["detail"] == "Choose a PNG or JPEG image."
    assert web.post("/api/clinic/logo", content=PNG * 5000).status_code == 413
    assert web.post("/api/clinic/logo", content=PNG, headers={"content-type": "image/png"}).json() == {"saved": True}
    assert client().get("/api/clinic/logo").content == PNG
