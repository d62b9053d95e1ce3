"""The Reflex side of sessions: current_actor, the page guard, and the token-free websocket cookie."""

from __future__ import annotations

from datetime import timedelta

import pytest

from patient_portal.api.auth import websocket_cookie
from patient_portal.domain.identity import sessions
from patient_portal.state.session import SessionState, current_actor
from tests.integration.identity_support import age_session, client, login, make_user, sessions_of

pytestmark = pytest.mark.usefixtures("db")


def _state(cookie: str, path: str = "/"):
    from reflex.state import State
    from reflex_base import constants

    root = State(_reflex_internal_init=True)
    root._update_router_vars({constants.RouteVar.HEADERS: {"cookie": cookie} if cookie else {},
                              constants.RouteVar.PATH: path, constants.RouteVar.CLIENT_IP: "10.0.0.1"}, {})
    return root.substates[SessionState.get_name()]


def _signed_in(email: str, role: str) -> str:
    make_user(email, role)
    c = client()
    login(c, email)
    return c.cookies.get("portal_session")


async def test_current_actor_reads_the_cookie_or_its_websocket_form():
    token = _signed_in("d@clinic.org", "doctor")
    for cookie in (f"portal_session={token}", websocket_cookie(f"x=1; portal_session={token}")):
        actor = await current_actor(_state(cookie))
        assert actor is not None and actor.role.value == "doctor" and actor.display_name == "Test doctor"
        assert actor.ip == "10.0.0.1" and actor.session_id == sessions_of("d@clinic.org")[0].id
    assert await current_actor(_state("")) is None
    assert await current_actor(_state("portal_session=nope")) is None
    assert await current_actor(_state("portal_ws=" + "0" * 64)) is None


async def test_the_stored_token_hash_is_no_websocket_login():
    """Anyone who reads user_session (or a backup) knows token_hash; it must not sign them in."""
    token = _signed_in("a@clinic.org", "admin")
    stored = sessions_of("a@clinic.org")[0].token_hash
    good = sessions.ws_credential(token)
    kid, token_hash, _mac = good.split(".")
    assert token_hash == stored and await current_actor(_state("portal_ws=" + good)) is not None
    for forged in (stored, f"{kid}.{stored}.{'0' * 64}", f"{kid}.{stored}.{sessions.hash_token(stored)}",
                   f"nokey.{stored}.{_mac}", good + "x"):
        assert await current_actor(_state("portal_ws=" + forged)) is None, forged


def test_websocket_cookie_never_carries_the_token():
    header = websocket_cookie("theme=dark; portal_session=SECRETTOKEN; portal_ws=" + "f" * 64)
    assert "SECRETTOKEN" not in header and "f" * 64 not in header
    assert header == f"theme=dark; portal_ws={sessions.ws_credential('SECRETTOKEN')}"
    assert websocket_cookie("portal_ws=" + "a" * 64) == ""  # a client cannot bring its own


@pytest.mark.parametrize("spelling", ["portal_ws =", "portal_ws\t=", " portal_ws = ", "PORTAL_WS=",
                                      '"portal_ws"=', "xportal_ws="])
def test_a_client_sent_websocket_credential_is_dropped_however_it_is_spelled(spelling):
    """The probe's bypass: a space or tab before '=' slipped a client value through the rewrite."""
    forged = sessions.ws_credential("SOMEONE-ELSES-TOKEN")
    header = websocket_cookie(f"theme=dark; {spelling}{forged}")
    assert forged not in header and "portal_ws" not in header.lower()
    assert sessions.parse_cookie_header(header, sessions.WS_COOKIE_NAME) is None


@pytest.mark.parametrize("header", ["portal_session=a; portal_session=b", "portal_session=a; portal_session =b",
                                    "portal_session=a; PORTAL_SESSION=b", "portal_ws=a; portal_ws=b"])
def test_ambiguous_cookie_headers_are_refused_whole(header):
    """Two values for one of our cookies: which wins depends on the parser, so neither does."""
    assert sessions.parse_cookie_header(header) is None
    assert sessions.parse_cookie_header(header, sessions.WS_COOKIE_NAME) is None
    assert "portal_ws" not in websocket_cookie(header)


async def test_ambiguous_headers_sign_nobody_in():
    token = _signed_in("p@clinic.org", "doctor")
    assert await current_actor(_state(f"portal_session={token}")) is not None
    assert await current_actor(_state(f"portal_session={token}; portal_session=other")) is None
    c = client()
    assert c.get("/api/auth/whoami", headers={"cookie": f"portal_session={token}"}).status_code == 200
    assert c.get("/api/auth/whoami", headers={"cookie": f"portal_session={token}; portal_session =x"}).status_code == 401


async def test_guard_lets_the_role_in_and_shows_not_permitted_to_others():
    token = _signed_in("s@clinic.org", "staff")
    state = _state(f"portal_session={token}", "/staff")
    assert await SessionState.event_handlers["require"].fn(state, "staff") is None
    assert state.guard == "ok" and state.role == "staff" and state.display_name == "Test staff"
    for other in ("admin", "doctor", "patient"):
        assert await SessionState.event_handlers["require"].fn(state, other) is None
        assert state.guard == "denied"
    await SessionState.event_handlers["require"].fn(state, "any")
    assert state.guard == "ok"


async def test_guard_sends_signed_out_visitors_to_sign_in():
    state = _state("", "/doctor")
    spec = await SessionState.event_handlers["require"].fn(state, "doctor")
    assert state.guard == "checking" and state.role == ""
    assert "/login" in repr(spec)


async def test_guard_after_timeout_shows_the_notice():
    token = _signed_in("t@clinic.org", "doctor")
    age_session("t@clinic.org", idle=timedelta(minutes=16), age=timedelta(minutes=30))
    state = _state(f"portal_session={token}", "/doctor")
    spec = await SessionState.event_handlers["require"].fn(state, "doctor")
    assert "notice=ended" in repr(spec)
    assert state.display_name == "" and state.role == ""


def test_sign_out_clears_ui_state_and_submits_the_form():
    from patient_portal.state.admin_users import AdminUsersState

    state = _state("")
    state.display_name, state.role, state.guard = "X", "admin", "ok"
    admin_state = state.parent_state.substates[AdminUsersState.get_name()]
    admin_state.query, admin_state.total = "someone@clinic.org", 7
    spec = SessionState.event_handlers["sign_out"].fn(state)
    assert state.display_name == "" and state.role == "" and state.guard == "checking"
    assert admin_state.query == "" and admin_state.total == 0
    assert "removeItem('token')" in repr(spec) and "portal-sign-out" in repr(spec)
