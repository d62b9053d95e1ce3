"""Two-step sign-in through /api/auth: a code is asked for only when the account has MFA on, only
after the right password, and the code step's ticket is short-lived, single-use, bound to its
account and unforgeable. Code failures count towards lockout and the address throttle as before."""

from __future__ import annotations

import base64
import json
import threading
import time

import pytest
from sqlmodel import select

from patient_portal.api.auth import websocket_cookie
from patient_portal.domain.identity import mfa, mfa_ticket, signin
from patient_portal.domain.identity.models import SignInFailure, User
from patient_portal.state.login import ERRORS, LoginState
from tests.integration.identity_support import PASSWORD, client, enrol_mfa, events, login, make_user, user

pytestmark = pytest.mark.usefixtures("db")

CODE_STEP = "/login?step=code"


def code_step(c, code: str, **data):
    return c.post("/api/auth/login/code", data={"code": code, **data}, follow_redirects=False)


def ticket_of(c) -> str | None:
    return c.cookies.get(mfa_ticket.COOKIE_NAME)


def mfa_user(email: str, role: str = "doctor") -> tuple[str, list[str]]:
    make_user(email, role)
    return enrol_mfa(email)


def now_code(secret: str, steps_ahead: int = 0) -> str:
    return mfa.code_at(secret, time.time() + 30 * steps_ahead)


def reencode(ticket: str, **changes) -> str:
    """The ticket with its payload changed and the old MAC kept (what a forger can do)."""
    body, mac = ticket.split(".")
    data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    data.update(changes)
    raw = json.dumps(data, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode() + "." + mac


# ------------------------------------------------------------------ who is asked for a code


def test_an_account_without_mfa_signs_in_with_email_and_password_alone():
    make_user("plain@clinic.org", "staff")
    c = client()
    r = login(c, "plain@clinic.org")
    assert r.status_code == 303 and r.headers["location"] == "/staff"
    assert mfa_ticket.COOKIE_NAME not in r.headers["set-cookie"]
    assert c.get("/api/auth/whoami").json()["role"] == "staff"


def test_an_mfa_account_gets_the_code_step_then_a_session():
    secret, _ = mfa_user("two@clinic.org")
    c = client()
    first = login(c, "two@clinic.org")
    assert first.status_code == 303 and first.headers["location"] == CODE_STEP
    cookie = first.headers["set-cookie"]
    assert cookie.startswith(f"{mfa_ticket.COOKIE_NAME}=") and "portal_session" not in cookie
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    max_age = int(cookie.split("Max-Age=")[1].split(";")[0])
    assert 290 <= max_age <= 300  # five minutes
    assert c.get("/api/auth/whoami").status_code == 401  # no session yet
    ticket = ticket_of(c)
    for secret_thing in (PASSWORD, PASSWORD.replace(" ", "+"), "two@clinic.org"):
        assert secret_thing not in first.headers["location"]
    assert PASSWORD not in ticket and PASSWORD not in base64.urlsafe_b64decode(ticket.split(".")[0] + "==").decode()

    done = code_step(c, now_code(secret))
    assert done.status_code == 303 and done.headers["location"] == "/doctor"
    assert c.get("/api/auth/whoami").json()["role"] == "doctor"
    assert ticket_of(c) is None  # cleared with the session cookie set
    assert [(e.outcome, e.detail.get("reason")) for e in events("auth.sign_in")] == [
        ("pending", "code_needed"), ("success", None)]
    assert all(PASSWORD not in json.dumps(e.detail) for e in events())


def test_the_next_page_survives_the_code_step():
    secret, _ = mfa_user("nxt@clinic.org")
    c = client()
    r = c.post("/api/auth/login", data={"email": "nxt@clinic.org", "password": PASSWORD, "next": "/doctor/patients"},
               follow_redirects=False)
    assert r.headers["location"] == CODE_STEP + "&next=/doctor/patients"
    assert code_step(c, now_code(secret), next="/doctor/patients").headers["location"] == "/doctor/patients"


def test_json_clients_get_the_same_two_steps():
    secret, _ = mfa_user("api@clinic.org", "staff")
    c = client()
    r = c.post("/api/auth/login", json={"email": "api@clinic.org", "password": PASSWORD})
    assert r.status_code == 401 and r.json() == {"ok": False, "error": "code", "step": "code"}
    done = c.post("/api/auth/login/code", json={"code": now_code(secret)})
    assert done.status_code == 200 and done.json() == {"ok": True, "role": "staff", "home": "/staff"}


def test_a_wrong_password_never_reaches_the_code_step():
    mfa_user("guard@clinic.org")
    c = client()
    wrong = login(c, "guard@clinic.org", "not the password at all")
    unknown = login(client(), "nobody@clinic.org", "not the password at all")
    for r in (wrong, unknown):  # the same answer as for an address with no account
        assert r.status_code == 303 and r.headers["location"] == "/login?error=credentials"
        assert "set-cookie" not in r.headers
    assert ticket_of(c) is None
    j1 = client().post("/api/auth/login", json={"email": "guard@clinic.org", "password": "nope nope nope"})
    j2 = client().post("/api/auth/login", json={"email": "nobody@clinic.org", "password": "nope nope nope"})
    assert j1.status_code == j2.status_code == 401 and j1.json() == j2.json() == {"ok": False, "error": "credentials"}
    assert "set-cookie" not in j1.headers
    # and a code sent along with a wrong password is not checked at all
    assert login(client(), "guard@clinic.org", "still not it at all", code="123456").headers["location"] == \
        "/login?error=credentials"
    assert user("guard@clinic.org").mfa_last_step is not None  # unchanged from enrolment


def test_a_missing_code_in_the_code_step_changes_nothing():
    secret, _ = mfa_user("blank@clinic.org")
    c = client()
    login(c, "blank@clinic.org")
    ticket = ticket_of(c)
    r = code_step(c, "  ")
    assert r.headers["location"] == CODE_STEP + "&error=code"
    assert ticket_of(c) == ticket and user("blank@clinic.org").failed_attempts == 0
    assert code_step(c, now_code(secret)).headers["location"] == "/doctor"


def test_recovery_codes_work_in_the_code_step_once_each():
    _, codes = mfa_user("rec@clinic.org", "staff")
    c = client()
    login(c, "rec@clinic.org")
    assert code_step(c, codes[0].lower()).headers["location"] == "/staff"
    again = client()
    login(again, "rec@clinic.org")
    assert code_step(again, codes[0]).headers["location"] == CODE_STEP + "&error=code"
    assert code_step(again, codes[1]).headers["location"] == "/staff"  # the fresh ticket, another code
    assert len(user("rec@clinic.org").recovery_codes) == 8


# ------------------------------------------------------------------ the ticket


def test_the_ticket_is_single_use():
    secret, _ = mfa_user("once@clinic.org")
    c = client()
    login(c, "once@clinic.org")
    ticket = ticket_of(c)
    assert code_step(c, now_code(secret)).headers["location"] == "/doctor"
    replay = client()
    replay.cookies.set(mfa_ticket.COOKIE_NAME, ticket)
    r = code_step(replay, now_code(secret, 1))  # a good, unused code, but the ticket was spent
    assert r.headers["location"] == "/login?error=ticket"
    assert replay.get("/api/auth/whoami").status_code == 401


def test_a_wrong_code_spends_the_ticket_and_a_fresh_one_comes_back():
    secret, _ = mfa_user("retry@clinic.org")
    c = client()
    login(c, "retry@clinic.org")
    first = ticket_of(c)
    assert code_step(c, "000000" if now_code(secret) != "000000" else "111111").headers["location"] == \
        CODE_STEP + "&error=code"
    second = ticket_of(c)
    assert second and second != first
    assert mfa_ticket.read(second).expires_at == mfa_ticket.read(first).expires_at  # a retry never extends it
    stale = client()
    stale.cookies.set(mfa_ticket.COOKIE_NAME, first)
    assert code_step(stale, now_code(secret)).headers["location"] == "/login?error=ticket"
    assert code_step(c, now_code(secret)).headers["location"] == "/doctor"


def test_two_requests_racing_with_one_ticket_get_one_guess():
    mfa_user("race@clinic.org")
    c = client()
    login(c, "race@clinic.org")
    ticket = ticket_of(c)
    barrier = threading.Barrier(4)
    results: list[str] = []

    def guess(code: str) -> None:
        barrier.wait()
        results.append(signin.redeem(ticket, code, ip="192.0.2.1").error)

    threads = [threading.Thread(target=guess, args=(f"00000{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == ["code", "ticket", "ticket", "ticket"]
    assert user("race@clinic.org").failed_attempts == 1


def test_the_ticket_expires_after_five_minutes():
    secret, _ = mfa_user("late@clinic.org")
    c = client()
    login(c, "late@clinic.org")
    ticket = ticket_of(c)
    claim = mfa_ticket.read(ticket)
    assert 290 <= claim.expires_at - time.time() <= 300
    assert mfa_ticket.read(ticket, now=time.time() + 301) is None
    expired = mfa_ticket.issue(user("late@clinic.org"), expires_at=int(time.time()) - 1)
    late = client()
    late.cookies.set(mfa_ticket.COOKIE_NAME, expired)
    r = code_step(late, now_code(secret))
    assert r.headers["location"] == "/login?error=ticket"
    assert 'portal_mfa=""' in r.headers["set-cookie"] or "Max-Age=0" in r.headers["set-cookie"]
    assert late.get("/api/auth/whoami").status_code == 401


def test_the_ticket_is_bound_to_its_account():
    secret_a, _ = mfa_user("a@clinic.org")
    secret_b, _ = mfa_user("b@clinic.org", "admin")
    c = client()
    login(c, "a@clinic.org")
    # B's right code does not open A's account, nor B's: it is checked against A (and counted there)
    step_b = user("b@clinic.org").mfa_last_step
    r = code_step(c, now_code(secret_b), email="b@clinic.org")
    assert r.headers["location"] == CODE_STEP + "&error=code"
    assert user("a@clinic.org").failed_attempts == 1 and user("b@clinic.org").failed_attempts == 0
    assert user("b@clinic.org").mfa_last_step == step_b
    # pointing the ticket at B breaks its MAC
    forged = reencode(ticket_of(c), u=str(user("b@clinic.org").id), e="b@clinic.org")
    other = client()
    other.cookies.set(mfa_ticket.COOKIE_NAME, forged)
    assert code_step(other, now_code(secret_b)).headers["location"] == "/login?error=ticket"
    assert other.get("/api/auth/whoami").status_code == 401
    # an email posted with the code is ignored: the right code for A signs in A
    r = code_step(c, now_code(secret_a), email="b@clinic.org")
    assert r.headers["location"] == "/doctor" and c.get("/api/auth/whoami").json()["role"] == "doctor"


@pytest.mark.parametrize("how", ["mac", "payload", "expiry", "unknown_key", "garbage", "empty", "twice"])
def test_a_forged_or_altered_ticket_is_refused(how):
    secret, _ = mfa_user("f@clinic.org")
    c = client()
    login(c, "f@clinic.org")
    good = ticket_of(c)
    body, mac = good.split(".")
    bad = {
        "mac": f"{body}.{mac[:-1]}{'0' if mac[-1] != '0' else '1'}",
        "payload": reencode(good, n="another-nonce"),
        "expiry": reencode(good, x=int(time.time()) + 86400),
        "unknown_key": reencode(good, k="zz"),
        "garbage": "not-a-ticket",
        "empty": "",
    }.get(how)
    attacker = client()
    if how == "twice":  # two tickets in one header: which wins depends on the parser, so neither does
        header = f"{mfa_ticket.COOKIE_NAME}={good}; {mfa_ticket.COOKIE_NAME} ={good}"
        r = attacker.post("/api/auth/login/code", data={"code": now_code(secret)}, headers={"cookie": header},
                          follow_redirects=False)
    else:
        attacker.cookies.set(mfa_ticket.COOKIE_NAME, bad)
        r = code_step(attacker, now_code(secret))
    assert r.headers["location"] == "/login?error=ticket"
    assert attacker.get("/api/auth/whoami").status_code == 401
    assert user("f@clinic.org").failed_attempts == 0  # nothing was tried against the account
    failures = [e for e in events("auth.sign_in") if e.outcome == "failure"]
    assert [e.detail["reason"] for e in failures] == ["ticket"]  # audited, and counted against the address
    # the real ticket still works afterwards
    assert code_step(c, now_code(secret)).headers["location"] == "/doctor"


def test_signing_in_elsewhere_or_a_password_change_ends_an_open_ticket():
    from patient_portal.core.db import unit_of_work
    from patient_portal.domain.identity import passwords

    secret, codes = mfa_user("gone@clinic.org")
    c = client()
    login(c, "gone@clinic.org")
    assert login(client(), "gone@clinic.org", code=codes[0]).headers["location"] == "/doctor"  # another browser
    assert code_step(c, now_code(secret)).headers["location"] == "/login?error=ticket"
    login(c, "gone@clinic.org")
    with unit_of_work() as s:
        row = s.get(User, user("gone@clinic.org").id)
        row.password_hash = passwords.hash_password("an entirely new phrase 99")
        s.add(row)
    assert code_step(c, now_code(secret)).headers["location"] == "/login?error=ticket"


def test_restart_drops_the_ticket():
    mfa_user("back@clinic.org")
    c = client()
    login(c, "back@clinic.org")
    assert ticket_of(c)
    r = c.post("/api/auth/login/restart", data={"next": "/doctor"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/doctor"
    assert ticket_of(c) is None


# ------------------------------------------------------------------ throttling and lockout


def test_wrong_codes_in_the_code_step_lock_the_account():
    secret, _ = mfa_user("lock@clinic.org", "staff")
    c = client()
    login(c, "lock@clinic.org")
    wrong = "000000" if now_code(secret) != "000000" else "111111"
    for _ in range(4):
        assert code_step(c, wrong).headers["location"] == CODE_STEP + "&error=code"
    fifth = code_step(c, wrong)
    assert fifth.headers["location"] == "/login?error=code_locked"
    assert ticket_of(c) is None
    assert user("lock@clinic.org").locked_until is not None
    assert len(events("auth.lockout")) == 1
    codes = [e.detail["reason"] for e in events("auth.sign_in") if e.outcome == "failure"]
    assert codes == ["code"] * 5
    # locked: even the right password gets the generic answer, and no code step
    locked = login(client(), "lock@clinic.org")
    assert locked.headers["location"] == "/login?error=credentials" and "set-cookie" not in locked.headers


def test_code_failures_count_against_the_address():
    from patient_portal.core.db import unit_of_work

    secret, _ = mfa_user("ip@clinic.org")
    c = client("203.0.113.20")
    login(c, "ip@clinic.org")
    code_step(c, "000000" if now_code(secret) != "000000" else "111111")
    with unit_of_work() as s:
        assert len(s.exec(select(SignInFailure).where(SignInFailure.ip == "203.0.113.20")).all()) == 1


def test_a_throttled_address_cannot_use_the_code_step():
    secret, _ = mfa_user("thr@clinic.org")
    make_user("other@clinic.org")
    attacker = client("203.0.113.9")
    login(attacker, "thr@clinic.org")  # a ticket first, then a burst of guesses from the same address
    for i in range(20):
        login(attacker, f"guess{i}@clinic.org", "wrong password here")
    r = code_step(attacker, now_code(secret))
    assert r.headers["location"] == "/login?error=throttled"
    assert attacker.get("/api/auth/whoami").status_code == 401
    assert any(e.outcome == "throttled" and e.detail.get("step") == "code" for e in events("auth.sign_in"))


# ------------------------------------------------------------------ what the sign-in page sees


def _login_state(cookie: str, path: str):
    from reflex.state import State
    from reflex_base import constants

    import patient_portal.patient_portal  # noqa: F401

    root = State(_reflex_internal_init=True)
    headers = {"origin": "http://localhost:3000", **({"cookie": cookie} if cookie else {})}
    root._update_router_vars({constants.RouteVar.HEADERS: headers, constants.RouteVar.ORIGIN: path,
                              constants.RouteVar.PATH: "/login", constants.RouteVar.CLIENT_IP: "10.0.0.1"}, {})
    return root.substates[LoginState.get_name()]


def test_the_websocket_sees_whom_the_code_is_for_and_never_the_ticket():
    mfa_user("ws@clinic.org")
    c = client()
    login(c, "ws@clinic.org")
    ticket = ticket_of(c)
    header = websocket_cookie(f"theme=dark; {mfa_ticket.COOKIE_NAME}={ticket}")
    assert ticket not in header and ticket.split(".")[1] not in header
    assert header == f"theme=dark; {mfa_ticket.HINT_COOKIE_NAME}=ws@clinic.org"
    # a client cannot bring its own hint, and a dead ticket gives none
    assert websocket_cookie(f"{mfa_ticket.HINT_COOKIE_NAME}=someone@else.org") == ""
    assert websocket_cookie(f"{mfa_ticket.COOKIE_NAME}={reencode(ticket, e='x@y.org')}") == ""

    state = _login_state(header, "/login?step=code&next=/doctor")
    state.load()
    assert (state.step, state.code_for, state.next_path, state.error) == ("code", "ws@clinic.org", "/doctor", "")
    state = _login_state(header, "/login?step=code&error=code")
    state.load()
    assert state.step == "code" and state.error == ERRORS["code"] and state.error_field == "code"


def test_the_code_step_without_a_live_ticket_asks_for_the_password_again():
    state = _login_state("", "/login?step=code")
    state.load()
    assert state.step == "password" and state.code_for == "" and state.error == ERRORS["ticket"]
    state = _login_state("", "/login?error=credentials")
    state.load()
    assert state.step == "password" and state.error_field == "password"
    state = _login_state("", "/login?error=throttled")
    state.load()
    assert state.error_field == "" and state.error == ERRORS["throttled"]
