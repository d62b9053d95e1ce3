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


def test_websocket_cookie_never_carries_the_token():
    header = websocket_cookie("theme=dark; portal_session=SECRETTOKEN; portal_ws=" + "f" * 64)
    assert "SECRETTOKEN" not in header and "f" * 64 not in header
    assert header == f"theme=dark; portal_ws={sessions.hash_token('SECRETTOKEN')}"
    assert websocket_cookie("portal_ws=" + "a" * 64) == ""  # a client cannot bring its own


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
