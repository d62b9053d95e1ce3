"""Every handler, called by name with wrong and odd arguments by every role, answers with a refusal or
a message — never an exception (the probe got 137 unhandled exceptions from 1,200 fuzzed calls).

Each call goes the way the app takes it: ``ArgumentCheck`` first (wrong types are refused there),
then, if it lets the call through, the handler itself with a signed-in session of that role. Like
test_handlers_require_session, it walks every State in the app, so new handlers are covered.
"""

from __future__ import annotations

import asyncio
import inspect
import typing

import pytest
from reflex_base.event import Event

from patient_portal.domain.identity import signin
from patient_portal.state.arguments import ArgumentCheck, check_payload
from tests.integration.test_handlers_require_session import BackgroundShim, _drive, _handlers, _state_for

HANDLERS = _handlers()
ROLES = ("admin", "staff", "doctor", "patient")


def _wrong_values() -> list:
    """Values of every JSON type, the probe's favourites among them."""
    return [None, 0, -1, 10**12, 1.5, True, False, "", "x", "-1", "9" * 40, "../../etc/passwd",
            "00000000-0000-0000-0000-000000000000", [], ["x"], [1], {}, {"a": 1}, {"a": "b"},
            {"email": 5, "password": ["x"], "given_name": {"a": 1}},
            {"__reflex_form_data__": [["email", "x"], ["given_name", "y"]]},  # a real form, odd fields
            {"__reflex_form_data__": [["email", 5]]}, {"__reflex_form_data__": "x"}]


def _payloads(fn, patient_id: str) -> list[dict]:
    """A plausible payload, then each parameter swapped for each odd value in turn, then junk keys."""
    params = [p for p in list(inspect.signature(fn).parameters.values())[1:]
              if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    hints = typing.get_type_hints(fn)
    plausible = {p.name: _plausible(hints.get(p.name, str), patient_id) for p in params}
    out = [plausible, {}, {**plausible, "unexpected": "x"}]
    for p in params:
        out += [{**plausible, p.name: value} for value in _wrong_values() + [patient_id]]
    return out


def _plausible(hint, patient_id: str):
    origin = typing.get_origin(hint) or hint
    if hint is int:
        return 1
    if hint is bool:
        return True
    if origin is dict:
        return {"patient_id": patient_id, "id": patient_id, "email": "patient@demo.clinic", "code": "000000"}
    if origin is list:
        return [patient_id]
    return patient_id


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """One seeded demo clinic for the module, and a signed-in session for each role."""
    from sqlmodel import select

    from patient_portal.core.db import unit_of_work
    from patient_portal.domain.patients.models import Patient
    from patient_portal.seed import DEMO_PASSWORD, DEMO_USERS, seed_demo
    from tests.conftest import shared_portal

    with shared_portal(tmp_path_factory.mktemp("fuzz")):
        seed_demo(patients=3)  # the hand-written records only: a small clinic keeps this fast
        tokens = {}
        for email, role, _name in DEMO_USERS:
            result = signin.sign_in(email, DEMO_PASSWORD, ip="127.0.0.1")
            assert result.ok, email
            tokens[role] = result.token
        with unit_of_work() as s:
            patient_id = str(s.exec(select(Patient.id)).first())
        yield tokens, patient_id


@pytest.fixture(autouse=True)
def portal_env():
    """Overrides the per-test instance folder: this module shares one seeded clinic (see world)."""
    yield None


async def _run(cls, name: str, cookie: str, payload: dict) -> str | None:
    """None when the call was refused or answered; else the exception it raised."""
    handler = cls.event_handlers[name]
    state = _state_for(cls, cookie)
    root = state
    while root.parent_state is not None:
        root = root.parent_state
    event = Event(name=f"{cls.get_full_name()}.{name}", payload=payload)
    if await ArgumentCheck().preprocess(None, root, event) is not None:
        return None
    target = BackgroundShim(state) if getattr(handler, "is_background", False) else state
    try:
        await asyncio.wait_for(_drive(handler.fn(target, **payload)), timeout=20)
    except Exception as exc:  # noqa: BLE001 - this is what the test looks for
        return f"{type(exc).__name__}: {exc}"[:200]
    return None


@pytest.mark.parametrize(("cls", "name"), HANDLERS, ids=[f"{c.__name__}.{n}" for c, n in HANDLERS])
def test_handler_never_raises_on_bad_arguments(world, cls, name):
    tokens, patient_id = world
    failures = []
    for role in ROLES:
        cookie = f"portal_session={tokens[role]}"
        for payload in _payloads(cls.event_handlers[name].fn, patient_id):
            error = asyncio.run(_run(cls, name, cookie, payload))
            if error:
                failures.append(f"{role} {sorted(payload.items())!r:.120}: {error}")
    assert not failures, f"{cls.__name__}.{name} raised {len(failures)} times, e.g.\n" + "\n".join(failures[:5])


@pytest.mark.parametrize(("payload", "ok"), [
    ({"value": "x"}, True), ({"value": 5}, False), ({"value": None}, False), ({}, False),
    ({"value": "x", "more": 1}, False), ("not a dict", False),
])
def test_check_payload_wants_the_handlers_own_arguments(payload, ok):
    from patient_portal.state.patients import PatientSearchState

    assert (check_payload(PatientSearchState.event_handlers["set_query"], payload) is None) is ok


def test_integers_must_fit_a_database_integer():
    """PostgreSQL refused a version number of 10**12 with a DataError (found by this sweep)."""
    from patient_portal.state.documents import DocumentsState

    handler = DocumentsState.event_handlers["download"]
    assert check_payload(handler, {"doc_id": "x", "version": 2}) is None
    assert check_payload(handler, {"doc_id": "x", "version": "2"}) is None
    for too_big in (10**12, 2**31, "9999999999", -(2**31) - 1):
        assert check_payload(handler, {"doc_id": "x", "version": too_big}) is not None


def test_forms_must_carry_text_and_setvar_is_refused():
    from patient_portal.state.account import AccountState

    handler = AccountState.event_handlers["change_password"]
    assert check_payload(handler, {"form_data": {"current": "a", "new": "b"}}) is None
    assert check_payload(handler, {"form_data": {"current": 5}}) is not None
    assert check_payload(handler, {"form_data": ["current"]}) is not None
    as_sent = {"__reflex_form_data__": [["current", "a"], ["new", "b"]]}  # what the browser's form sends
    assert check_payload(handler, {"form_data": as_sent}) is None
    assert check_payload(handler, {"form_data": {"__reflex_form_data__": [["current", 5]]}}) is not None
    assert check_payload(handler, {"form_data": {"__reflex_form_data__": "junk"}}) is not None
    assert check_payload(AccountState.event_handlers["setvar"], {"var_name": "role", "value": "admin"}) is not None
