"""Every public event handler of every State, called without a valid session, changes nothing,
reads nothing but the session tables, and puts no patient data in state or in its answer.

Generic on purpose: it walks all ``rx.State`` subclasses defined in ``patient_portal`` (so states that
other areas add are covered automatically) and calls each handler by name, as a browser could,
with arguments that name a real patient. Three kinds of "no valid session" are tried: no cookie,
a forged cookie, and the cookie of an admin session that has been signed out.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import re
import secrets
import typing
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import reflex as rx
from sqlalchemy import event, select, text
from sqlalchemy import inspect as sa_inspect
from sqlmodel import SQLModel

from patient_portal.core import clinic_config
from patient_portal.core.db import get_engine, unit_of_work
from patient_portal.domain.identity import sessions, signin
from patient_portal.seed import DEMO_EMAILS

#: Handlers that may run queries beyond the session tables without a session, because they
#: provably serve public, non-patient content. Keep this list short; say why for each.
PUBLIC_HANDLERS: dict[str, str] = {
    "PublicState.load": "landing page: demo account names from settings, no database",
    "LoginState.load": "sign-in page: fixed messages chosen by the query string",
    "VerifyRxState.check": "a pharmacy checks a prescription's code: valid, stopped or not valid, never patient "
                           "data (looked up by the code's hash; throttled per address)",
}
#: Public handlers that may write without a session, the only tables they may change, and why.
PUBLIC_WRITES: dict[str, tuple[set[str], str]] = {
    "PasswordResetState.request": ({"email_link", "job"}, "anyone may ask for a reset link for an address; it goes "
                                                       "only to that account's mailbox (audited, throttled)"),
}
#: Tables a handler may read without a session: the session check itself (with the account's
#: permission set, joined in its one statement), denied-audit writes, and the clinic's own public
#: settings (time zone, name: core.clinic_config re-reads them at most once a second; no PHI).
SESSION_TABLES = {"user_session", "user_account", "permission_set", "audit_event", "clinic_settings"}


def _all_states() -> list[type[rx.State]]:
    import patient_portal.patient_portal  # noqa: F401  (imports every page and state)

    found, todo = [], list(rx.State.get_substates())
    while todo:
        cls = todo.pop()
        todo.extend(cls.get_substates())
        if cls.__module__.startswith("patient_portal"):
            found.append(cls)
    return sorted(found, key=lambda c: c.get_full_name())


def _handlers() -> list[tuple[type[rx.State], str]]:
    return [(cls, name) for cls in _all_states() for name in sorted(cls.event_handlers)
            if not name.startswith("_")]


HANDLERS = _handlers()

#: What this sweep proves — no write, no query of a data table, nothing revealed without a session — is
#: decided by the session lookup before any data table is read, so it runs once, on SQLite (463 handlers
#: × 12 calls); the PostgreSQL run keeps the bad-arguments sweep, where the databases do differ.
pytestmark = pytest.mark.skipif(bool(os.environ.get("PORTAL_TEST_DATABASE_URL")),
                                reason="the no-session sweep runs on SQLite only")


# ------------------------------------------------------------------ the world the handlers run in


@dataclass
class World:
    patient_ids: list[str]
    phi: set[str]
    revoked_admin_token: str
    admin_token: str = ""  # a live admin session: only its stored hash, or an ambiguous header, is sent
    tables: list[str] = field(default_factory=list)


def _phi_strings() -> set[str]:
    """Every decrypted value of every encrypted column in the database (PHI by definition)."""
    values: set[str] = set()
    for mapper in SQLModel._sa_registry.mappers:
        cls = mapper.class_
        cols = [p.key for p in mapper.column_attrs for c in p.columns if "encrypted" in c.info]
        if not cols or not hasattr(cls, "__table__"):
            continue
        with unit_of_work() as s:
            for row in s.execute(select(cls)).scalars().all():
                for key in cols:
                    value = getattr(row, key)
                    for piece in _strings(value):
                        if _distinctive(piece):
                            values.add(piece)
    # not PHI though they ride in encrypted emails: the clinic's own name and address, and the demo
    # accounts' addresses (published on the landing page, which shows them)
    clinic = clinic_config.current()
    return values - {clinic.clinic_name, clinic.clinic_address, clinic.clinic_phone, *DEMO_EMAILS}


def _distinctive(piece: str) -> bool:
    """Names, numbers, addresses, free text — not lowercase codes such as "female" or "mobile"."""
    piece = piece.strip()
    if len(piece) < 5 or re.fullmatch(r"[a-z_\- ]+|[\d\-: .]+|true|false|none|null", piece):
        return False
    return True


def _strings(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _strings(v)]
    return [str(value)]


@pytest.fixture(autouse=True)
def portal_env():
    """Overrides the per-test instance folder: this module shares one seeded clinic (see world)."""
    yield None


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[World]:
    """One seeded demo clinic for the module (each test compares the rows before and after its own
    calls, so an earlier handler's permitted write does not leak into a later test's verdict)."""
    from tests.conftest import shared_portal

    with shared_portal(tmp_path_factory.mktemp("no-session")):
        yield _seeded_world()


def _seeded_world() -> World:
    from patient_portal.seed import seed_demo

    seed_demo(patients=3)  # the hand-written records only: a small clinic keeps this fast
    c = signin.sign_in("admin@demo.clinic", "demo-clinic-2026", ip="127.0.0.1")
    assert c.ok
    sessions.revoke_token(c.token)
    live = signin.sign_in("admin@demo.clinic", "demo-clinic-2026", ip="127.0.0.1")
    assert live.ok
    patient_ids = []
    try:
        from patient_portal.domain.patients.models import Patient

        with unit_of_work() as s:
            patient_ids = [str(p) for p in s.exec(select(Patient.id)).scalars().all()]
    except ImportError:
        pass
    if not patient_ids:
        patient_ids = [str(uuid.uuid4())]
    tables = sorted(sa_inspect(get_engine()).get_table_names())
    return World(patient_ids, _phi_strings(), c.token, live.token, tables)


def _snapshot(tables: list[str]) -> dict[str, list]:
    """Every row of every table (audit_event separately: denied refusals may be appended)."""
    snap = {}
    with get_engine().connect() as conn:
        for table in tables:
            rows = conn.execute(text(f'SELECT * FROM "{table}"')).fetchall()
            snap[table] = sorted(repr(tuple(r)) for r in rows)
    return snap


# ------------------------------------------------------------------ calling a handler by name


class AnyKey(dict):
    """A form payload where every field names the same real patient."""

    def __init__(self, value: str):
        super().__init__(patient_id=value, id=value, query=value, email="patient@demo.clinic", code="000000")
        self.value = value

    def __missing__(self, key):
        return self.value

    def get(self, key, default=None):
        return self[key]


def _argument(annotation, patient_id: str):
    origin = typing.get_origin(annotation) or annotation
    if annotation in (int, "int"):
        return 1
    if annotation in (bool, "bool"):
        return True
    if origin in (dict, "dict") or annotation == "dict":
        return AnyKey(patient_id)
    if origin in (list, "list"):
        return [patient_id]
    return patient_id


def _arguments(fn, patient_id: str) -> list:
    params = list(inspect.signature(fn).parameters.values())[1:]
    return [_argument(p.annotation, patient_id) for p in params
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


class BackgroundShim:
    """Lets a background handler's ``async with self`` run against a plain state instance."""

    def __init__(self, state):
        object.__setattr__(self, "_state", state)

    def __getattr__(self, name):
        return getattr(self._state, name)

    def __setattr__(self, name, value):
        setattr(self._state, name, value)

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        return False


def _state_for(cls: type[rx.State], cookie: str) -> rx.State:
    from reflex.state import State
    from reflex_base import constants

    root = State(_reflex_internal_init=True)
    root._update_router_vars({
        constants.RouteVar.HEADERS: {"cookie": cookie, "origin": "http://localhost:3000"} if cookie else {},
        constants.RouteVar.PATH: "/",
        constants.RouteVar.CLIENT_IP: "127.0.0.1",
    }, {})
    state = root
    for name in cls.get_full_name().split(".")[1:]:
        state = state.substates[name]
    return state


async def _drive(result) -> list:
    events = []
    if inspect.isawaitable(result):
        result = await result
    if inspect.isasyncgen(result):
        async for item in result:
            events.append(item)
    elif inspect.isgenerator(result):
        events.extend(result)
    elif result is not None:
        events.append(result)
    return events


def _call(cls, name: str, cookie: str, patient_id: str) -> tuple[rx.State, list, BaseException | None]:
    handler = cls.event_handlers[name]
    state = _state_for(cls, cookie)
    target = BackgroundShim(state) if getattr(handler, "is_background", False) else state
    try:
        events = asyncio.run(asyncio.wait_for(_drive(handler.fn(target, *_arguments(handler.fn, patient_id))),
                                              timeout=20))
        return state, events, None
    except Exception as exc:  # a refusal by exception is fine; what matters is what changed
        return state, [], exc


def _root(state: rx.State) -> rx.State:
    while state.parent_state is not None:
        state = state.parent_state
    return state


def _visible(state: rx.State, events: list) -> str:
    """Everything the browser would get: every var of every state, and the returned events."""
    dump = _root(state).dict()
    return json.dumps(dump, default=repr) + repr(events)


# ------------------------------------------------------------------ the test


def test_the_enumeration_finds_the_app_states():
    names = {cls.__name__ for cls, _ in HANDLERS}
    assert {"SessionState", "AdminUsersState", "AccountState", "LoginState"} <= names
    assert len(HANDLERS) >= 15


@pytest.mark.parametrize(("cls", "name"), HANDLERS, ids=[f"{c.__name__}.{n}" for c, n in HANDLERS])
def test_handler_without_a_session_changes_and_reveals_nothing(world: World, cls, name):
    forged = secrets.token_urlsafe(32)
    cookies = {
        "no cookie": "",
        "forged cookie": f"portal_session={forged}; {sessions.WS_COOKIE_NAME}={sessions.hash_token(forged)}",
        "signed-out admin": f"portal_session={world.revoked_admin_token}",
        "signed-out admin (websocket form)":
            f"{sessions.WS_COOKIE_NAME}={sessions.ws_credential(world.revoked_admin_token)}",
        "stored token hash of a live admin session":
            f"{sessions.WS_COOKIE_NAME}={sessions.hash_token(world.admin_token)}",
        "live admin token spelled twice": f"portal_session={world.admin_token}; portal_session =x",
    }
    data_tables = [t for t in world.tables if t != "audit_event"]
    queried: list[str] = []

    def spy(_conn, _cursor, statement, *_args):
        queried.append(statement)

    key = f"{cls.__name__}.{name}"
    writable, _why = PUBLIC_WRITES.get(key, (set(), ""))
    # one snapshot around all twelve calls, not one around each: reading every row of every table
    # is most of this sweep's time, and a call that changed a row shows in the snapshot after all
    before = _snapshot(data_tables)
    # what a fresh tab shows before any call (no patient data; the cookie changes none of it)
    baseline = _visible(_state_for(cls, ""), [])
    engine = get_engine()
    event.listen(engine, "before_cursor_execute", spy)
    try:
        for label, cookie in cookies.items():
            for patient_id in world.patient_ids[:2]:
                with unit_of_work() as s:
                    audit_before = s.exec(text("SELECT COALESCE(MAX(seq), 0) FROM audit_event")).one()[0]
                queried.clear()
                state, events, _error = _call(cls, name, cookie, patient_id)
                statements = list(queried)
                written = {t for t in data_tables if t not in writable for st in statements
                           if re.match(rf'\s*(INSERT INTO|UPDATE|DELETE FROM)\s+"?{re.escape(t)}"?\b', st, re.I)}
                assert not written, f"{key} wrote to {sorted(written)} ({label})"
                with unit_of_work() as s:
                    new_outcomes = s.exec(text("SELECT outcome FROM audit_event WHERE seq > :seq"),
                                          params={"seq": audit_before}).all()
                assert writable or all(o[0] == "denied" for o in new_outcomes), \
                    f"{key} audited something other than a refusal ({label})"
                seen = _visible(state, events)
                leaked = sorted(v for v in world.phi if v in seen and v not in baseline)
                assert not leaked, f"{cls.__name__}.{name} revealed patient data ({label}): {leaked[:3]}"
                if key not in PUBLIC_HANDLERS and key not in PUBLIC_WRITES:
                    touched = {t for t in world.tables if t not in SESSION_TABLES
                               for st in statements if re.search(rf'\b"?{re.escape(t)}"?\b', st)}
                    assert not touched, f"{key} queried {sorted(touched)} without a session ({label})"
    finally:
        event.remove(engine, "before_cursor_execute", spy)
    after = _snapshot(data_tables)
    changed = {t for t in data_tables if after[t] != before[t]}
    assert changed <= writable, f"{key} changed rows in {sorted(changed)}"


def test_public_allowlist_names_real_handlers():
    names = {f"{cls.__name__}.{name}" for cls, name in HANDLERS}
    assert set(PUBLIC_HANDLERS) <= names and set(PUBLIC_WRITES) <= names
