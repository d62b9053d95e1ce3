"""Signing in as each demo account, role trees, sign-out, and what the browser can see of the cookie."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import CODE_STEP, assert_accessible, make_mfa_account, sign_in

# Repeated on the scaled-out run: sessions, sign-out and the websocket across two app workers sharing state in Redis.
pytestmark = pytest.mark.scaled_out

PASSWORD = "demo-clinic-2026"
ROLES = ("patient", "staff", "doctor", "admin")
NAMES = {"admin": "Alex Admin", "doctor": "Dr. Dana Doctor", "staff": "Sam Staff", "patient": "Pat Patient"}


def at(path: str) -> re.Pattern:
    """A URL pattern for `path` with or without the trailing slash the static build adds."""
    return re.compile(rf"^[^?]*{re.escape(path)}/?(\?.*)?$")


@pytest.mark.parametrize("role", ROLES)
def test_demo_account_lands_on_its_dashboard_and_is_refused_elsewhere(page: Page, role: str):
    frames: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(str(payload))))
    sign_in(page, f"{role}@demo.clinic")
    page.wait_for_url(at(f"/{role}"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Welcome, {NAMES[role]}")
    assert_accessible(page)
    expect(page.locator(".role-shell nav").first).to_be_attached()

    cookie = next(c for c in page.context.cookies() if c["name"] == "portal_session")
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
    assert "portal_session" not in page.evaluate("document.cookie")
    assert cookie["value"] not in page.content()
    assert not any(cookie["value"] in f for f in frames), "the session token reached the websocket"

    for other in ROLES:
        if other == role:
            continue
        page.goto(f"/{other}")
        expect(page.locator("#not-permitted")).to_contain_text("Not permitted")
        expect(page.get_by_text("Welcome,")).to_have_count(0)


def test_wrong_password_gets_the_generic_message(page: Page):
    page.goto("/login")
    expect(page.get_by_label("Email")).to_be_visible()
    expect(page.locator("#login-code")).to_have_count(0)  # nobody is asked for a code up front
    sign_in(page, "doctor@demo.clinic", "not-the-password-123")
    page.wait_for_url(re.compile(r"/login/?\?error=credentials"))
    expect(page.locator("#login-error")).to_have_text("Email or password is not right")
    sign_in(page, "nobody@demo.clinic", PASSWORD)
    page.wait_for_url(re.compile(r"/login/?\?error=credentials"))
    expect(page.locator("#login-error")).to_have_text("Email or password is not right")


def test_signed_out_visitor_is_sent_to_sign_in(page: Page):
    page.goto("/doctor")
    page.wait_for_url(re.compile(r"/login"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_sign_out_returns_to_landing_and_the_old_cookie_is_dead(page: Page, app_url: str):
    sign_in(page, "doctor@demo.clinic")
    page.wait_for_url(at("/doctor"))
    old = next(c for c in page.context.cookies() if c["name"] == "portal_session")["value"]
    assert page.request.get("/api/auth/whoami").status == 200
    page.locator("#user-menu").click()
    page.get_by_role("menuitem", name="Sign out").click()
    page.wait_for_url(f"{app_url}/")
    expect(page.get_by_role("heading", name="Patient Portal", level=1)).to_be_visible()
    assert not any(c["name"] == "portal_session" for c in page.context.cookies())
    # the old cookie, replayed, no longer works
    replay = page.request.get("/api/auth/whoami", headers={"Cookie": f"portal_session={old}"})
    assert replay.status == 401
    page.context.add_cookies([{"name": "portal_session", "value": old, "url": app_url, "httpOnly": True,
                               "sameSite": "Strict"}])
    page.goto("/doctor")
    page.wait_for_url(re.compile(r"/login"))


def test_role_shell_folds_navigation_on_a_phone(phone_page: Page):
    sign_in(phone_page, "staff@demo.clinic")
    phone_page.wait_for_url(at("/staff"))
    expect(phone_page.locator("#nav-menu")).to_be_visible()
    box = phone_page.locator("#nav-menu").bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44
    phone_page.locator("#nav-menu").click()
    expect(phone_page.get_by_role("menuitem", name="Patients")).to_be_visible()
    phone_page.keyboard.press("Escape")
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"page scrolls sideways on a phone ({width}px wide)"


def _handshake(app_url: str, origin: str) -> str:
    """The status line the app answers a websocket upgrade on Reflex's event endpoint with."""
    import base64
    import os
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(app_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        key = base64.b64encode(os.urandom(16)).decode()
        sock.sendall((f"GET /_event/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                      f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                      f"Sec-WebSocket-Version: 13\r\nOrigin: {origin}\r\n\r\n").encode())
        return sock.recv(4096).decode("latin-1").split("\r\n", 1)[0]


def test_websocket_from_another_origin_is_refused(app_url: str):
    assert " 101 " in _handshake(app_url, app_url)
    refused = _handshake(app_url, "https://evil.example")
    assert " 101 " not in refused and " 403 " in refused, refused


def _age_sessions(app_env: dict, email: str) -> None:
    """Make the account's open sessions look 16 minutes idle, directly in the app's database."""
    from datetime import timedelta

    from sqlalchemy import select, update

    from patient_portal.core.db import build_engine, utcnow
    from patient_portal.domain.identity.models import User, UserSession

    url = app_env.get("PORTAL_DATABASE_URL") or f"sqlite:///{app_env['PORTAL_INSTANCE_DIR']}/portal.db"
    engine = build_engine(url)
    with engine.begin() as conn:
        user_id = select(User.id).where(User.email == email).scalar_subquery()
        conn.execute(update(UserSession).where(UserSession.revoked == False, UserSession.user_id == user_id)  # noqa: E712
                     .values(last_seen_at=utcnow() - timedelta(minutes=16)))
    engine.dispose()


def test_idle_session_ends_on_the_next_click_with_a_notice(page: Page, app_env: dict):
    sign_in(page, "admin@demo.clinic")
    page.wait_for_url(at("/admin"))
    page.goto("/admin/users")
    expect(page.locator("#users-table")).to_contain_text("staff@demo.clinic")
    _age_sessions(app_env, "admin@demo.clinic")
    page.get_by_role("button", name="Search").click()  # any event re-checks the session on the server
    page.wait_for_url(re.compile(r"/login/?\?notice=ended"))
    expect(page.locator("#login-notice")).to_have_text("Your session ended; please sign in again")
    expect(page.locator("#users-table")).to_have_count(0)


def test_a_person_signs_out_their_other_device_from_sign_in_security(page: Page, phone_page: Page):
    sign_in(page, "patient@demo.clinic", wait=True)
    page.goto("/account/security")
    devices = page.locator("#devices")
    expect(devices).to_contain_text("This device")
    if page.locator("#devices-end-others").is_visible():  # start from this one sign-in (earlier tests left some)
        page.locator("#devices-end-others").click()
        expect(page.locator("#devices-done")).to_contain_text("Signed out")
    expect(devices.locator("> div")).to_have_count(1)

    sign_in(phone_page, "patient@demo.clinic", wait=True)  # then the phone signs in too
    page.reload()
    other = devices.locator("> div").filter(has_not_text="This device")
    expect(other).to_have_count(1)
    expect(other).to_contain_text("Chrome on Linux")  # headless Chromium says so
    other.get_by_role("button", name=re.compile(r"^Sign out")).click()
    expect(page.locator("#devices-done")).to_contain_text("Signed out 1 other device")
    expect(devices.locator("> div")).to_have_count(1)
    phone_page.goto("/patient/documents")  # the phone's next visit asks for the password again
    phone_page.wait_for_url(re.compile(r"/login"))
    assert_accessible(page)


# ------------------------------------------------------------------ two-step sign-in


def _code_for(secret: str, steps_ahead: int = 0) -> str:
    import time

    from patient_portal.domain.identity.mfa import code_at

    return code_at(secret, time.time() + 30 * steps_ahead)


def test_two_step_sign_in_by_keyboard_with_the_error_next_to_the_field(page: Page, app_env: dict):
    import secrets

    email = f"mfa-{secrets.token_hex(3)}@clinic.org"
    secret, codes = make_mfa_account(app_env, email)
    frames: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(str(payload))))

    page.goto("/login")
    expect(page.locator("#login-email")).to_be_focused()  # the form starts where typing starts
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    expect(page.locator("#login-password")).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")

    page.wait_for_url(CODE_STEP)
    assert PASSWORD not in page.url and email not in page.url
    expect(page.locator("#login-code-for")).to_have_text(email)  # the email is kept, not asked again
    expect(page.get_by_label("Authenticator code")).to_be_focused()
    expect(page.locator("#login-password")).to_have_count(0)
    assert_accessible(page)
    ticket = next(c for c in page.context.cookies() if c["name"] == "portal_mfa")
    assert ticket["httpOnly"] is True and ticket["sameSite"] == "Strict"
    assert "portal_mfa=" not in page.evaluate("document.cookie")
    assert ticket["value"] not in page.content() and PASSWORD not in page.content()

    wrong = "000000" if _code_for(secret) != "000000" else "111111"
    page.keyboard.type(wrong)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/login/?\?step=code&error=code"))
    field = page.locator("#login-code")
    error = page.locator("#login-error")
    expect(error).to_contain_text("authenticator app")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_attribute("aria-describedby", re.compile(r"\blogin-error\b"))
    field_box, error_box = field.bounding_box(), error.bounding_box()
    assert 0 <= error_box["y"] - (field_box["y"] + field_box["height"]) <= 60, "the error is not next to the field"
    assert_accessible(page)
    page.screenshot(path="test-artifacts/sign-in-code-step.png", full_page=True)

    # a lost phone: the recovery code, by keyboard too
    page.locator("#login-use-recovery").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Recovery code")).to_be_focused()
    page.keyboard.type(codes[0])
    page.keyboard.press("Enter")
    page.wait_for_url(at("/doctor"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Morgan Mfa")
    assert not any(c["name"] == "portal_mfa" for c in page.context.cookies())
    assert not any(ticket["value"] in f or PASSWORD in f for f in frames), "the ticket reached the websocket"


def test_a_wrong_password_on_an_mfa_account_never_reaches_the_code_step(page: Page, app_env: dict):
    import secrets

    email = f"mfa-{secrets.token_hex(3)}@clinic.org"
    make_mfa_account(app_env, email, role="staff")
    sign_in(page, email, "not-the-password-123")
    page.wait_for_url(re.compile(r"/login/?\?error=credentials"))
    expect(page.locator("#login-error")).to_have_text("Email or password is not right")
    expect(page.locator("#login-code")).to_have_count(0)
    assert not any(c["name"] == "portal_mfa" for c in page.context.cookies())
    # a code step opened by hand, without a ticket, asks for the password again
    page.goto("/login?step=code")
    expect(page.locator("#login-password")).to_be_visible()
    expect(page.locator("#login-error")).to_contain_text("Enter your password again")


def test_someone_else_at_the_code_step_starts_again(page: Page, app_env: dict):
    import secrets

    email = f"mfa-{secrets.token_hex(3)}@clinic.org"
    secret, _ = make_mfa_account(app_env, email, role="staff")
    sign_in(page, email)
    page.wait_for_url(CODE_STEP)
    page.get_by_role("button", name="Not you? Sign in with another account").click()
    page.wait_for_url(re.compile(r"/login/?$"))
    expect(page.locator("#login-email")).to_be_visible()
    assert not any(c["name"] == "portal_mfa" for c in page.context.cookies())
    sign_in(page, email, code=_code_for(secret))
    page.wait_for_url(at("/staff"))
