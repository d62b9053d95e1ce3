"""Two-step sign-in: enrolment, codes used once, recovery codes, required for staff roles."""

from __future__ import annotations

import time

import pytest

from patient_portal.core.db import unit_of_work
from patient_portal.domain.identity import enrolment, mfa, sessions
from tests.integration.identity_support import client, enrol_mfa, events, login, make_user, user

pytestmark = pytest.mark.usefixtures("db")


def test_enrolment_shows_a_qr_code_and_needs_a_right_code():
    u = make_user("m@clinic.org", "doctor")
    actor = sessions.actor_for(u)
    with unit_of_work() as s:
        started = enrolment.begin(s, actor)
    assert started.qr_svg.startswith("data:image/svg+xml")
    assert started.uri.startswith("otpauth://totp/") and "issuer=Patient+Portal" in started.uri
    assert not user("m@clinic.org").mfa_enabled
    with pytest.raises(enrolment.EnrolmentError), unit_of_work() as s:
        enrolment.confirm(s, actor, "000000" if mfa.code_at(started.secret, time.time()) != "000000" else "111111")
    with unit_of_work() as s:
        codes = enrolment.confirm(s, actor, mfa.code_at(started.secret, time.time()))
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = user("m@clinic.org")
    assert stored.mfa_enabled and stored.mfa_secret == started.secret
    assert all(c not in str(stored.recovery_codes) for c in codes)  # hashed at rest
    assert [e.outcome for e in events("mfa.enrol.confirm")] == ["success"]


def test_mfa_secret_is_encrypted_at_rest():
    from sqlalchemy import text

    make_user("enc@clinic.org", "staff")
    secret, _ = enrol_mfa("enc@clinic.org")
    with unit_of_work() as s:
        raw = s.exec(text("SELECT mfa_secret, display_name FROM user_account WHERE email='enc@clinic.org'")).one()
    assert secret not in raw[0] and raw[0].startswith("v1.")
    assert raw[1].startswith("v1.")


def test_sign_in_needs_the_code_and_each_code_works_once():
    make_user("c@clinic.org", "doctor")
    secret, _ = enrol_mfa("c@clinic.org")
    c = client()
    assert login(c, "c@clinic.org").headers["location"] == "/login?step=code"  # the code step
    assert login(c, "c@clinic.org", code="123").headers["location"] == "/login?step=code&error=code"
    code = mfa.code_at(secret, time.time())
    assert login(c, "c@clinic.org", code=code).headers["location"] == "/doctor"
    replay = login(client(), "c@clinic.org", code=code)  # same code again, other browser
    assert replay.headers["location"] == "/login?step=code&error=code"


def test_recovery_codes_work_once_each():
    make_user("r@clinic.org", "staff")
    _, codes = enrol_mfa("r@clinic.org")
    assert login(client(), "r@clinic.org", code=codes[0].lower()).headers["location"] == "/staff"
    assert login(client(), "r@clinic.org", code=codes[0]).headers["location"] == "/login?step=code&error=code"
    assert login(client(), "r@clinic.org", code=codes[1]).headers["location"] == "/staff"
    assert len(user("r@clinic.org").recovery_codes) == 8


def test_wrong_codes_count_towards_lockout():
    make_user("w@clinic.org", "staff")
    enrol_mfa("w@clinic.org")
    for _ in range(5):
        login(client(), "w@clinic.org", code="999999x")
    assert user("w@clinic.org").locked_until is not None


def test_required_mfa_sends_staff_roles_to_enrolment_first(monkeypatch):
    from patient_portal.settings import get_settings, reset_settings

    url = get_settings().db_url
    monkeypatch.setenv("PORTAL_REQUIRE_MFA", "1")
    monkeypatch.setenv("PORTAL_DATABASE_URL", url)
    reset_settings()
    make_user("need@clinic.org", "staff")
    make_user("pat@clinic.org", "patient")
    c = client()
    r = login(c, "need@clinic.org")
    assert r.headers["location"] == "/account/security?required=1"
    # the session is not good for data until MFA is set up
    assert c.get("/api/auth/whoami").status_code == 401
    token = c.cookies.get("portal_session")
    assert sessions.check_session(token).status == "enrol"
    check = sessions.check_session(token)
    with unit_of_work() as s:
        started = enrolment.begin(s, check.actor)
    with unit_of_work() as s:
        enrolment.confirm(s, check.actor, mfa.code_at(started.secret, time.time()))
    assert c.get("/api/auth/whoami").json()["role"] == "staff"
    # patients are not required to enrol
    assert login(client(), "pat@clinic.org").headers["location"] == "/patient"


def test_new_recovery_codes_replace_the_old_ones():
    u = make_user("n@clinic.org", "admin")
    secret, old = enrol_mfa("n@clinic.org")
    with unit_of_work() as s:
        new = enrolment.new_recovery_codes(s, sessions.actor_for(u), mfa.code_at(secret, time.time()))
    assert set(new).isdisjoint(old)
    assert login(client(), "n@clinic.org", code=old[0]).headers["location"] == "/login?step=code&error=code"
    assert login(client(), "n@clinic.org", code=new[0]).headers["location"] == "/admin"


def test_admin_can_reset_mfa_others_cannot():
    from patient_portal.core.access import AccessDenied

    admin = make_user("a@clinic.org", "admin")
    staff = make_user("s@clinic.org", "staff")
    enrol_mfa("s@clinic.org")
    with pytest.raises(AccessDenied), unit_of_work() as s:
        enrolment.reset_for_user(s, sessions.actor_for(staff), staff.id)
    with unit_of_work() as s:
        enrolment.reset_for_user(s, sessions.actor_for(admin), staff.id)
    assert not user("s@clinic.org").mfa_enabled
    assert login(client(), "s@clinic.org").headers["location"] == "/staff"
