"""Single sign-on through an outside OpenID Connect provider, a real one served on 127.0.0.1:
accounts linked by verified email or an admin's choice, MFA kept unless the provider asserts it,
patients and unknown people refused, forged or replayed answers refused."""

from __future__ import annotations

import httpx
import pytest

from patient_portal.core.access import AccessDenied, Role
from patient_portal.core.db import unit_of_work
from patient_portal.domain.identity import sso
from patient_portal.settings import reset_settings
from tests.integration.identity_support import client, enrol_mfa, events, make_user, user
from tests.integration.patients_support import actor
from tests.oidc_provider import Person, Provider

pytestmark = pytest.mark.usefixtures("db")


@pytest.fixture
def idp(monkeypatch):
    provider = Provider().start()
    monkeypatch.setenv("PORTAL_OIDC_ISSUER", provider.issuer)
    monkeypatch.setenv("PORTAL_OIDC_CLIENT_ID", provider.client_id)
    monkeypatch.setenv("PORTAL_OIDC_CLIENT_SECRET", provider.client_secret)
    reset_settings()
    yield provider
    provider.stop()


def sign_in_through(provider: Provider, person: Person, c=None, tamper=None):
    """The browser's trip: portal → provider (real HTTP) → back to the portal's callback."""
    provider.person = person
    c = c or client()
    r = c.get("/api/auth/sso/start", params={"next": "/doctor"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith(provider.issuer + "/authorize?")
    at_idp = httpx.get(r.headers["location"], follow_redirects=False)
    assert at_idp.status_code == 302
    back = at_idp.headers["location"]
    assert back.startswith("http://localhost:3000/api/auth/sso/callback?")
    if tamper:
        back = tamper(back)
    return c, c.get(back.removeprefix("http://localhost:3000"), follow_redirects=False)


def test_doctor_signs_in_by_verified_email_and_the_link_is_kept(idp):
    make_user("dr.lee@clinic.org", "doctor")
    c, r = sign_in_through(idp, Person(sub="idp-42", email="Dr.Lee@clinic.org"))
    assert r.status_code == 303 and r.headers["location"] == "/doctor"
    assert c.get("/api/auth/whoami").json()["role"] == "doctor"
    # the link is by subject now: a later email change at the provider still finds the account
    c2, r2 = sign_in_through(idp, Person(sub="idp-42", email="lee@elsewhere.org"))
    assert r2.headers["location"] == "/doctor"
    assert events("auth.sso.link") and events("auth.sign_in")[-1].outcome == "success"


def test_unverified_email_unknown_person_and_patients_are_refused(idp):
    make_user("staff@clinic.org", "staff")
    make_user("pat@example.com", "patient")
    for person in (Person(sub="a", email="staff@clinic.org", email_verified=False),
                   Person(sub="b", email="nobody@clinic.org"),
                   Person(sub="c", email="pat@example.com")):
        c, r = sign_in_through(idp, person)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?error=sso")
        assert "portal_session" not in c.cookies
    assert {e.detail["reason"] for e in events("auth.sign_in") if e.outcome == "denied"} == {
        "no_link_unverified_email", "no_account"}


def test_mfa_is_still_asked_unless_the_provider_asserts_it(idp):
    make_user("admin@clinic.org", "admin")
    enrol_mfa("admin@clinic.org")
    c, r = sign_in_through(idp, Person(sub="adm", email="admin@clinic.org", amr=["pwd"]))
    assert r.status_code == 303 and r.headers["location"].startswith("/login?step=code")
    assert "portal_session" not in c.cookies and c.cookies.get("portal_mfa")
    c, r = sign_in_through(idp, Person(sub="adm", email="admin@clinic.org", amr=["pwd", "mfa"]))
    assert r.headers["location"] == "/admin" and c.cookies.get("portal_session")


def test_forged_state_and_replayed_code_are_refused(idp):
    make_user("dr.lee@clinic.org", "doctor")
    c, r = sign_in_through(idp, Person(sub="x1", email="dr.lee@clinic.org"),
                           tamper=lambda url: url.replace("state=", "state=forged"))
    assert r.headers["location"].startswith("/login?error=sso") and "portal_session" not in c.cookies
    # a code answered without the browser's state cookie (another browser): refused
    idp.person = Person(sub="x1", email="dr.lee@clinic.org")
    start = client().get("/api/auth/sso/start", follow_redirects=False)
    back = httpx.get(start.headers["location"], follow_redirects=False).headers["location"]
    r = client().get(back.removeprefix("http://localhost:3000"), follow_redirects=False)
    assert r.headers["location"].startswith("/login?error=sso")


def test_id_token_signed_by_another_key_is_refused(idp):
    from joserfc.jwk import RSAKey

    make_user("dr.lee@clinic.org", "doctor")
    idp.signing_key = RSAKey.generate_key(2048)  # not the key the provider publishes
    c, r = sign_in_through(idp, Person(sub="k", email="dr.lee@clinic.org"))
    assert r.headers["location"].startswith("/login?error=sso") and "portal_session" not in c.cookies
    assert events("auth.sign_in")[-1].detail["reason"] == "id_token_invalid"


def test_admin_links_an_account_by_choice(idp):
    make_user("nurse@clinic.org", "staff")
    uid = str(user("nurse@clinic.org").id)
    with unit_of_work() as s, pytest.raises(AccessDenied):
        sso.link_account(s, actor(Role.STAFF), user_id=uid, subject="emp-7")
    with unit_of_work() as s:
        sso.link_account(s, actor(Role.ADMIN), user_id=uid, subject="emp-7")
    c, r = sign_in_through(idp, Person(sub="emp-7", email="n.other@idp.example", email_verified=False))
    assert r.headers["location"] == "/staff"


def test_sso_is_off_without_settings():
    assert client().get("/api/auth/sso/start", follow_redirects=False).status_code == 404
