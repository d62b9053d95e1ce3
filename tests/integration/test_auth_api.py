"""Signing in and out through /api/auth: cookies, generic errors, throttling, timeouts, origin check."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from patient_portal.api.auth import actor_from_request
from patient_portal.core.db import unit_of_work, utcnow
from patient_portal.domain.identity import sessions
from patient_portal.domain.identity.models import UserSession
from patient_portal.domain.identity.signin import GENERIC_ERROR
from patient_portal.state.login import ERRORS
from tests.integration.identity_support import (
    ORIGIN,
    PASSWORD,
    age_session,
    client,
    events,
    login,
    make_user,
    sessions_of,
    user,
)

pytestmark = pytest.mark.usefixtures("db")


def test_sign_in_sets_a_strict_httponly_cookie_and_lands_on_the_role_home():
    for role in ("admin", "doctor", "staff", "patient"):
        make_user(f"{role}@clinic.org", role)
        c = client()
        r = login(c, f"{role.upper()}@Clinic.org")  # email is case-insensitive
        assert r.status_code == 303
        assert r.headers["location"] == f"/{role}"
        cookie = r.headers["set-cookie"]
        assert cookie.startswith("portal_session=")
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
        assert "Secure" not in cookie  # plain-HTTP demo
        token = c.cookies.get("portal_session")
        assert len(token) >= 43  # 32 random bytes
        assert all(row.token_hash != token for row in sessions_of(f"{role}@clinic.org"))
        assert c.get("/api/auth/whoami").json()["role"] == role


def test_cookie_is_secure_under_https(monkeypatch):
    from patient_portal.settings import reset_settings

    monkeypatch.setenv("PORTAL_PUBLIC_URL", "https://portal.example.org")
    reset_settings()
    from patient_portal.core.db import get_engine
    from patient_portal.models import metadata

    metadata.create_all(get_engine())
    make_user("sec@clinic.org")
    from starlette.testclient import TestClient

    from patient_portal.api.app import build_api

    c = TestClient(build_api(), base_url="https://portal.example.org")
    r = login(c, "sec@clinic.org")
    assert r.status_code == 303 and "Secure" in r.headers["set-cookie"]


def test_unknown_email_and_wrong_password_get_the_same_answer():
    make_user("real@clinic.org")
    c = client()
    wrong = login(c, "real@clinic.org", "not the password at all")
    unknown = login(c, "ghost@clinic.org", PASSWORD)
    assert wrong.status_code == unknown.status_code == 303
    assert wrong.headers["location"].startswith("/login?error=credentials")
    assert unknown.headers["location"].startswith("/login?error=credentials")
    assert "set-cookie" not in wrong.headers and "set-cookie" not in unknown.headers
    assert ERRORS["credentials"] == GENERIC_ERROR == "Email or password is not right"
    j1 = c.post("/api/auth/login", json={"email": "real@clinic.org", "password": "nope nope nope"})
    j2 = c.post("/api/auth/login", json={"email": "ghost@clinic.org", "password": "nope nope nope"})
    assert j1.status_code == j2.status_code == 401 and j1.json() == j2.json()
    failures = events("auth.sign_in")
    assert {e.outcome for e in failures} == {"failure"}
    assert all("real@clinic.org" not in str(e.detail) and "ghost" not in str(e.detail) for e in failures)


def test_json_sign_in_works():
    make_user("json@clinic.org", "doctor")
    c = client()
    r = c.post("/api/auth/login", json={"email": "json@clinic.org", "password": PASSWORD})
    assert r.status_code == 200 and r.json() == {"ok": True, "role": "doctor", "home": "/doctor"}
    assert c.get("/api/auth/whoami").status_code == 200


def test_next_path_only_within_own_tree():
    make_user("nav@clinic.org", "staff")
    c = client()
    ok = c.post("/api/auth/login", data={"email": "nav@clinic.org", "password": PASSWORD,
                                         "next": "/staff/patients"}, follow_redirects=False)
    assert ok.headers["location"] == "/staff/patients"
    for bad in ("/admin/users", "//evil.example", "https://evil.example/staff"):
        r = c.post("/api/auth/login", data={"email": "nav@clinic.org", "password": PASSWORD, "next": bad},
                   follow_redirects=False)
        assert r.headers["location"] == "/staff"


def test_sign_in_rotates_the_session():
    make_user("rot@clinic.org")
    c = client()
    login(c, "rot@clinic.org")
    first = c.cookies.get("portal_session")
    login(c, "rot@clinic.org")  # signing in again with the old cookie
    second = c.cookies.get("portal_session")
    assert first != second
    rows = sessions_of("rot@clinic.org")
    assert [r.revoked for r in rows] == [True, False] and rows[0].ended_reason == "rotated"
    assert not sessions.check_session(first).ok
    assert sessions.check_session(second).ok


def test_sign_out_revokes_the_session_and_clears_the_cookie():
    make_user("out@clinic.org")
    c = client()
    login(c, "out@clinic.org")
    token = c.cookies.get("portal_session")
    r = c.post("/api/auth/logout", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert 'portal_session=""' in r.headers["set-cookie"] or "Max-Age=0" in r.headers["set-cookie"]
    assert c.get("/api/auth/whoami").status_code == 401
    other = client()
    other.cookies.set("portal_session", token)  # the old cookie, replayed
    assert other.get("/api/auth/whoami").status_code == 401
    assert sessions_of("out@clinic.org")[0].ended_reason == "signed_out"
    assert len(events("auth.sign_out")) == 1


def test_five_failures_lock_the_account_until_an_admin_unlocks_it():
    from patient_portal.core.db import unit_of_work
    from patient_portal.domain.identity import service

    make_user("lock@clinic.org")
    admin = make_user("boss@clinic.org", "admin")
    c = client()
    for _ in range(5):
        assert login(c, "lock@clinic.org", "wrong password here").headers["location"].startswith("/login")
    locked = login(c, "lock@clinic.org")  # right password, but locked
    assert locked.headers["location"].startswith("/login?error=credentials")
    assert len(events("auth.lockout")) == 1
    assert user("lock@clinic.org").locked_until is not None
    with unit_of_work() as s:
        summary = service.unlock_user(s, sessions.actor_for(admin), user("lock@clinic.org").id)
    assert not summary.locked
    assert login(c, "lock@clinic.org").headers["location"] == "/staff"
    assert [e.action for e in events("user.unlock")] == ["user.unlock"]


def test_lockout_lifts_by_itself_after_fifteen_minutes():
    from patient_portal.core.db import unit_of_work, utcnow

    make_user("wait@clinic.org")
    c = client()
    for _ in range(5):
        login(c, "wait@clinic.org", "wrong password here")
    with unit_of_work() as s:
        u = user("wait@clinic.org")
        u.locked_until = utcnow() - timedelta(seconds=1)
        s.add(u)
    assert login(c, "wait@clinic.org").headers["location"] == "/staff"


def test_only_admins_unlock():
    from patient_portal.core.access import AccessDenied
    from patient_portal.core.db import unit_of_work
    from patient_portal.domain.identity import service

    target = make_user("t@clinic.org")
    for role in ("staff", "doctor", "patient"):
        other = make_user(f"{role}-x@clinic.org", role)
        with pytest.raises(AccessDenied), unit_of_work() as s:
            service.unlock_user(s, sessions.actor_for(other), target.id)
    assert {e.outcome for e in events("user.unlock")} == {"denied"}


def test_twenty_failures_from_one_address_throttle_that_address():
    make_user("victim@clinic.org")
    attacker = client("203.0.113.9")
    for i in range(20):
        login(attacker, f"guess{i}@clinic.org", "wrong password here")
    r = login(attacker, "victim@clinic.org")
    assert r.headers["location"].startswith("/login?error=throttled")
    assert any(e.outcome == "throttled" for e in events("auth.sign_in"))
    # another address is not affected
    assert login(client("198.51.100.7"), "victim@clinic.org").headers["location"] == "/staff"


def test_behind_a_trusted_proxy_the_throttle_keys_on_the_forwarded_address(monkeypatch):
    from patient_portal.settings import reset_settings

    make_user("victim@clinic.org")
    proxy = client("10.0.0.2")  # every request arrives from the reverse proxy
    # without PORTAL_TRUSTED_PROXY_HOPS a client-written X-Forwarded-For changes nothing
    for i in range(20):
        login(proxy, f"guess{i}@clinic.org", "wrong password here", **{"x-forwarded-for": f"192.0.2.{i}"})
    assert login(proxy, "victim@clinic.org").headers["location"].startswith("/login?error=throttled")

    monkeypatch.setenv("PORTAL_TRUSTED_PROXY_HOPS", "1")
    reset_settings()
    proxied = client("10.0.0.3")
    for i in range(20):  # the client's own spoofed entry is left of the one the proxy appended
        login(proxied, f"guess{i}@clinic.org", "wrong password here",
              **{"x-forwarded-for": f"1.2.3.{i}, 203.0.113.50"})
    attacker = login(proxied, "victim@clinic.org", **{"x-forwarded-for": "203.0.113.50"})
    assert attacker.headers["location"].startswith("/login?error=throttled")
    neighbour = login(proxied, "victim@clinic.org", **{"x-forwarded-for": "198.51.100.8"})
    assert neighbour.headers["location"] == "/staff"  # other people behind the same proxy still sign in
    assert {e.ip for e in events("auth.sign_in") if e.outcome == "success"} == {"198.51.100.8"}


@pytest.mark.parametrize("how", ["idle", "absolute"])
def test_sessions_time_out_on_the_server(how):
    make_user("idle@clinic.org")
    c = client()
    login(c, "idle@clinic.org")
    assert c.get("/api/auth/whoami").status_code == 200
    if how == "idle":
        age_session("idle@clinic.org", idle=timedelta(minutes=15, seconds=1), age=timedelta(minutes=20))
    else:
        age_session("idle@clinic.org", idle=timedelta(seconds=5), age=timedelta(hours=12, seconds=1))
    assert c.get("/api/auth/whoami").status_code == 401
    row = sessions_of("idle@clinic.org")[0]
    assert row.revoked and row.ended_reason == f"{how}_timeout"
    assert [e.detail["reason"] for e in events("auth.session.timeout")] == [f"{how}_timeout"]


def test_activity_keeps_a_session_alive():
    make_user("busy@clinic.org")
    c = client()
    login(c, "busy@clinic.org")
    age_session("busy@clinic.org", idle=timedelta(minutes=14), age=timedelta(hours=2))
    assert c.get("/api/auth/whoami").status_code == 200
    age_session("busy@clinic.org", idle=timedelta(minutes=1), age=timedelta(hours=2))
    assert c.get("/api/auth/whoami").status_code == 200


def test_deactivated_account_is_signed_out_everywhere():
    from patient_portal.core.db import unit_of_work
    from patient_portal.domain.identity import service

    admin = make_user("adm@clinic.org", "admin")
    make_user("leaver@clinic.org")
    c = client()
    login(c, "leaver@clinic.org")
    with unit_of_work() as s:
        service.set_active(s, sessions.actor_for(admin), user("leaver@clinic.org").id, False)
    assert c.get("/api/auth/whoami").status_code == 401
    assert login(client(), "leaver@clinic.org").headers["location"].startswith("/login?error=credentials")


def test_production_refuses_demo_accounts(monkeypatch):
    from patient_portal.settings import get_settings, reset_settings

    make_user("doctor@demo.clinic", "doctor", password="demo-clinic-2026")
    assert login(client(), "doctor@demo.clinic", "demo-clinic-2026").headers["location"] == "/doctor"
    url = get_settings().db_url
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("PORTAL_DATABASE_URL", url)
    reset_settings()
    r = login(client(), "doctor@demo.clinic", "demo-clinic-2026")
    assert r.headers["location"].startswith("/login?error=credentials")


def test_state_changing_requests_from_another_origin_are_refused():
    make_user("o@clinic.org")
    c = client()
    evil = login(c, "o@clinic.org", Origin="https://evil.example")
    assert evil.status_code == 403 and "set-cookie" not in evil.headers
    assert login(c, "o@clinic.org", Referer="https://evil.example/page").status_code == 403
    assert login(c, "o@clinic.org", Origin="null").status_code == 403
    assert login(c, "o@clinic.org", Origin=ORIGIN).status_code == 303
    assert login(c, "o@clinic.org", Referer=ORIGIN + "/login").status_code == 303
    assert c.post("/api/auth/logout", headers={"Origin": "https://evil.example"}).status_code == 403
    assert c.get("/api/auth/whoami").status_code == 200  # still signed in
    assert c.get("/api/auth/whoami", headers={"Origin": "https://evil.example"}).status_code == 200  # reads pass


def test_actor_from_request_follows_the_session():
    from starlette.requests import Request

    make_user("api@clinic.org", "doctor")
    c = client()
    login(c, "api@clinic.org")
    token = c.cookies.get("portal_session")

    def request(cookie: str) -> Request:
        return Request({"type": "http", "method": "GET", "path": "/", "headers": [(b"cookie", cookie.encode())],
                        "client": ("127.0.0.1", 1), "query_string": b""})

    actor = actor_from_request(request(f"other=1; portal_session={token}"))
    assert actor is not None and actor.role.value == "doctor" and actor.user_id == user("api@clinic.org").id
    assert actor_from_request(request("portal_session=forged")) is None
    assert actor_from_request(request("")) is None


def test_long_ended_sessions_are_pruned_at_sign_in_and_open_ones_are_kept(monkeypatch):
    make_user("old@clinic.org")
    make_user("new@clinic.org")
    c = client()
    login(c, "old@clinic.org")
    assert c.post("/api/auth/logout", headers={"origin": ORIGIN}, follow_redirects=False).status_code in (200, 303)
    login(c, "old@clinic.org")  # a second session, never ended: abandoned in a browser
    with unit_of_work() as s:
        for row in s.exec(select(UserSession)).all():
            row.created_at = utcnow() - timedelta(days=45)
            row.revoked_at = row.revoked_at and utcnow() - timedelta(days=45)
            s.add(row)
    assert len(sessions_of("old@clinic.org")) == 2
    monkeypatch.setattr(sessions, "_last_prune", None)
    login(client(), "new@clinic.org")
    assert sessions_of("old@clinic.org") == []
    assert len(sessions_of("new@clinic.org")) == 1


def test_prune_keeps_recently_ended_sessions():
    make_user("recent@clinic.org")
    c = client()
    login(c, "recent@clinic.org")
    c.post("/api/auth/logout", headers={"origin": ORIGIN}, follow_redirects=False)
    with unit_of_work() as s:
        assert sessions.prune_sessions(s) == 0
    assert len(sessions_of("recent@clinic.org")) == 1


def test_checking_a_session_does_not_wait_for_someone_elses_save():
    """Every click checks the session; while another user's save holds the database's write lock,
    that check (nothing to record yet) still answers at once."""
    import threading

    from patient_portal.core.db import get_engine

    make_user("busy@clinic.org")
    c = client()
    login(c, "busy@clinic.org")
    token = c.cookies.get("portal_session")
    writer = get_engine().connect()
    try:
        writer.begin()  # on SQLite: BEGIN IMMEDIATE, the write lock
        writer.exec_driver_sql("UPDATE user_account SET failed_attempts = failed_attempts")
        answers: list[str] = []
        check = threading.Thread(target=lambda: answers.append(sessions.check_session(token).status))
        check.start()
        check.join(2)  # SQLite's busy timeout would be 5 s
        assert answers == ["ok"]
    finally:
        writer.rollback()
        writer.close()
