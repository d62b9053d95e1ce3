"""A tab's UI state dies with its sign-in session (the probe reconnected with a tab's client token and
no cookie, and got the whole chart in the first frame)."""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from datetime import timedelta

import pytest
import reflex as rx
from reflex.istate.manager.memory import StateManagerMemory
from reflex.state import State
from reflex_base import constants
from reflex_base.event import Event

from patient_portal.core.db import unit_of_work
from patient_portal.domain.identity import sessions
from patient_portal.domain.identity.sessions import revoke_all_for_user
from patient_portal.state import tabs
from patient_portal.state.chart import ChartState
from tests.integration.identity_support import age_session, client, login, make_user, sessions_of, user
from tests.integration.patients_support import register

pytestmark = pytest.mark.usefixtures("db")
REDIS_URL = os.environ.get("PORTAL_E2E_REDIS_URL", "")  # read before the fixtures clear PORTAL_*


def _route(root: State, cookie: str, token: str = "tab-1", path: str = "/chart/x") -> None:
    root._update_router_vars({
        constants.RouteVar.HEADERS: {"cookie": cookie, "origin": "http://localhost:3000"} if cookie else {},
        constants.RouteVar.PATH: path, constants.RouteVar.ORIGIN: "http://localhost:3000" + path,
        constants.RouteVar.CLIENT_IP: "127.0.0.1",
        constants.RouteVar.CLIENT_TOKEN: token,
    }, root.router_data)
    root.router_data = {**root.router_data, constants.RouteVar.CLIENT_TOKEN: token}


def _event(name: str) -> Event:
    return Event(name=f"{ChartState.get_full_name()}.{name}", payload={})


async def _open_chart(root: State, cookie: str, patient_id: str) -> ChartState:
    _route(root, cookie, path=f"/chart/{patient_id}")
    assert await tabs.SessionBinding().preprocess(None, root, _event("load")) is None
    chart = await root.get_state(ChartState)
    await ChartState.event_handlers["load"].fn(chart)
    assert chart.status == "ok"
    return chart


def _admin_cookie(email: str = "a@clinic.org") -> str:
    make_user(email, "admin")
    c = client()
    login(c, email)
    return f"portal_ws={sessions.ws_credential(c.cookies.get('portal_session'))}"


def _shows(root: State, name: str) -> bool:
    return name in json.dumps(root.dict(), default=str)


@pytest.fixture
def patient_id() -> str:
    return str(register().patient_id)


async def test_a_signed_out_tab_reconnecting_without_a_cookie_gets_nothing_but_the_redirect(patient_id):
    root = State(_reflex_internal_init=True)
    cookie = _admin_cookie()
    await _open_chart(root, cookie, patient_id)
    assert _shows(root, "Marsh")
    with unit_of_work() as s:  # signed out (in another tab, or by the API)
        row = s.get(sessions.UserSession, sessions_of("a@clinic.org")[0].id)
        sessions.end_session(row, "signed_out")
        s.add(row)
    _route(root, "")  # the probe: the tab's client token, no cookie
    update = await tabs.SessionBinding().preprocess(None, root, _event("load"))
    assert update is not None
    assert "Marsh" not in json.dumps(update.delta, default=str)
    assert [e.name for e in update.events] == ["_redirect"]
    assert "/login" in json.dumps(update.events[0].payload)
    assert not _shows(root, "Marsh")  # reset server-side, not only in what was sent


async def test_a_reload_after_timeout_hydrates_empty(patient_id):
    root = State(_reflex_internal_init=True)
    cookie = _admin_cookie()
    await _open_chart(root, cookie, patient_id)
    age_session("a@clinic.org", idle=timedelta(hours=1))
    update = await tabs.SessionBinding().preprocess(None, root, Event(name="reflex___state____state.hydrate", payload={}))
    assert update is None  # hydrate goes on, with the wiped state
    assert not _shows(root, "Marsh")


async def test_another_account_signing_in_on_the_same_tab_starts_empty(patient_id):
    root = State(_reflex_internal_init=True)
    await _open_chart(root, _admin_cookie(), patient_id)
    make_user("d@clinic.org", "doctor")
    c = client()
    login(c, "d@clinic.org")
    _route(root, f"portal_ws={sessions.ws_credential(c.cookies.get('portal_session'))}")
    assert await tabs.SessionBinding().preprocess(None, root, _event("load")) is None
    assert not _shows(root, "Marsh")


async def test_a_live_session_keeps_its_tab(patient_id):
    root = State(_reflex_internal_init=True)
    cookie = _admin_cookie()
    await _open_chart(root, cookie, patient_id)
    assert await tabs.SessionBinding().preprocess(None, root, _event("start_edit")) is None
    assert _shows(root, "Marsh")


class _App:
    """The two things purge_ended needs of the app: its state manager and out-of-band modify_state."""

    def __init__(self, manager):
        self.state_manager = manager

    @contextlib.asynccontextmanager
    async def modify_state(self, token):
        async with self.state_manager.modify_state(token) as state:
            yield state


async def _fill_tab_in(app: _App, cookie: str, patient_id: str, token: str) -> None:
    async with app.state_manager.modify_state(rx.BaseStateToken(ident=token, cls=State)) as root:
        root = root._get_root_state()
        _route(root, cookie, token=token, path=f"/chart/{patient_id}")
        assert await tabs.SessionBinding().preprocess(app, root, _event("load")) is None
        chart = await root.get_state(ChartState)
        await ChartState.event_handlers["load"].fn(chart)


async def _tab_shows(app: _App, token: str, name: str) -> bool:
    async with app.state_manager.modify_state(rx.BaseStateToken(ident=token, cls=State)) as root:
        root = root._get_root_state()
        await root.get_state(ChartState)
        return _shows(root, name)


def _managers():
    yield "memory", lambda: StateManagerMemory()
    url = REDIS_URL
    if url:
        def redis_manager():
            from redis.asyncio import Redis
            from reflex.istate.manager.redis import StateManagerRedis

            return StateManagerRedis(redis=Redis.from_url(url))
        yield "redis", redis_manager


@pytest.mark.parametrize("kind", [k for k, _ in _managers()])
async def test_ending_a_session_wipes_its_tabs_without_waiting_for_them(patient_id, kind, monkeypatch):
    """Sign-out in one tab, "sign out everywhere else", a password change or deactivation: every tab
    of that session is wiped in the state manager by the purge loop, other sessions' tabs are not."""
    prefix = f"test:{uuid.uuid4().hex}:"  # runs in parallel share the Redis database
    monkeypatch.setattr(tabs, "REDIS_SESSIONS", prefix + "sessions")
    monkeypatch.setattr(tabs, "REDIS_TABS", prefix + "tabs:")
    app = _App(dict(_managers())[kind]())
    tabs.registry._local.clear()
    mine, other = _admin_cookie(), _admin_cookie("b@clinic.org")
    await _fill_tab_in(app, mine, patient_id, "tab-a1")
    await _fill_tab_in(app, mine, patient_id, "tab-a2")
    await _fill_tab_in(app, other, patient_id, "tab-b1")
    assert await tabs.purge_ended(app) == 0
    with unit_of_work() as s:
        assert revoke_all_for_user(s, user("a@clinic.org").id, "password_changed") == 1
    assert await tabs.purge_ended(app) == 2
    assert not await _tab_shows(app, "tab-a1", "Marsh") and not await _tab_shows(app, "tab-a2", "Marsh")
    assert await _tab_shows(app, "tab-b1", "Marsh")
    assert await tabs.purge_ended(app) == 0


async def test_closed_tabs_leave_memory_after_a_while_and_open_ones_stay(patient_id, monkeypatch):
    """A tab closed without signing out no longer holds its chart in the server's memory after
    KEEP_CLOSED; a tab still connected, or closed only a moment ago, keeps its state."""
    from types import SimpleNamespace

    from patient_portal.state import tab_memory

    app = _App(StateManagerMemory())
    connected = {"tab-open": object(), "tab-blip": object(), "tab-closed": object()}
    app.event_namespace = SimpleNamespace(_token_manager=SimpleNamespace(token_to_socket=connected))
    cookie = _admin_cookie()
    for token in connected:
        await _fill_tab_in(app, cookie, patient_id, token)
    tab_memory._closed_since.clear()
    assert tab_memory.release_closed_tabs(app, now=1000.0) == 0
    del connected["tab-closed"], connected["tab-blip"]
    assert tab_memory.release_closed_tabs(app, now=1000.0) == 0  # closed just now: kept for a reconnect
    connected["tab-blip"] = object()  # came back within KEEP_CLOSED
    later = 1000.0 + tab_memory.KEEP_CLOSED + 1
    assert tab_memory.release_closed_tabs(app, now=later) == 1
    assert not any(key.startswith("tab-closed") for key in app.state_manager.states)
    assert await _tab_shows(app, "tab-open", "Marsh") and await _tab_shows(app, "tab-blip", "Marsh")
