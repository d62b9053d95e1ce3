"""Every tab's UI state belongs to one sign-in session and dies with it.

Reflex keeps what a tab shows (a chart, a document list) on the server under the tab's client token,
and hands it to whoever connects with that token. A token outlives the sign-in: it sits in the tab's
sessionStorage, so after sign-out, a timeout, "sign out everywhere else", a deactivation or a
password change, a reconnect with the token and no cookie would be handed the chart. Two guards:

* ``SessionBinding`` (Reflex middleware, runs before every event, hydrate included): the tab's state
  remembers the session it was filled under (``SessionState._bound_session``). When the connection's
  session is not that one any more, every app state of the tab is reset before anything runs; with
  no valid session, a non-hydrate event is then answered with the empty state and the redirect to
  sign-in, nothing else (a hydrate sends the empty state and the page guard redirects).
  The verdict is kept for the event's own ``current_actor`` call (one session check per event).
* ``purge_loop`` (lifespan task): sessions with open tabs are looked up every few seconds; the tabs
  of every session that ended — however it ended, in whichever process — are wiped in the state
  manager (memory, disk or Redis) without waiting for the tab to send anything. The same loop lets
  go of tabs closed for a while (``state.tab_memory``).

Which tabs a session has is kept beside the states: in this process for the memory and disk
managers, in Redis (shared by every worker) for the Redis manager.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import TYPE_CHECKING, Any

import reflex as rx
from reflex.istate.delta import _resolve_delta
from reflex.middleware import Middleware
from reflex.state import BaseState, StateUpdate
from reflex_base.event import Event

from patient_portal.core.db import off_loop
from patient_portal.domain.identity import sessions
from patient_portal.state import session as session_state
from patient_portal.state import tab_memory

if TYPE_CHECKING:
    from reflex.app import App

log = logging.getLogger(__name__)

#: How often the purge loop looks for ended sessions (seconds).
PURGE_EVERY = 5.0
#: Redis keys of the registry (the set of session ids, and one set of client tokens per session).
REDIS_SESSIONS = "portal:tab-sessions"
REDIS_TABS = "portal:tabs:"
#: Registry entries outlive the longest session.
REDIS_TTL = 13 * 3600


def _redis(app: Any):
    """The Redis client when UI state lives in Redis, else None."""
    manager = getattr(app, "_state_manager", None) or getattr(app, "state_manager", None)
    return getattr(manager, "redis", None)


class TabRegistry:
    """session id -> client tokens of the tabs filled under it."""

    def __init__(self) -> None:
        self._local: dict[str, set[str]] = {}

    async def add(self, app: Any, session_id: str, token: str) -> None:
        redis = _redis(app)
        if redis is None:
            self._local.setdefault(session_id, set()).add(token)
            return
        async with redis.pipeline(transaction=False) as pipe:
            pipe.sadd(REDIS_SESSIONS, session_id)
            pipe.sadd(REDIS_TABS + session_id, token)
            pipe.expire(REDIS_TABS + session_id, REDIS_TTL)
            await pipe.execute()

    async def session_ids(self, app: Any) -> set[str]:
        redis = _redis(app)
        if redis is None:
            return set(self._local)
        return {v.decode() if isinstance(v, bytes) else v for v in await redis.smembers(REDIS_SESSIONS)}

    async def take(self, app: Any, session_id: str) -> set[str]:
        """Remove a session from the registry; returns its tabs' tokens."""
        redis = _redis(app)
        if redis is None:
            return self._local.pop(session_id, set())
        key = REDIS_TABS + session_id
        async with redis.pipeline(transaction=True) as pipe:
            pipe.smembers(key)
            pipe.delete(key)
            pipe.srem(REDIS_SESSIONS, session_id)
            members, *_ = await pipe.execute()
        return {v.decode() if isinstance(v, bytes) else v for v in members}


registry = TabRegistry()


def _app_state_classes(root_cls: type[BaseState]) -> list[type[BaseState]]:
    todo, out = [root_cls], []
    while todo:
        cls = todo.pop()
        todo.extend(cls.get_substates())
        if cls.__module__.startswith("patient_portal"):
            out.append(cls)
    return out


async def wipe_tree(root: BaseState) -> None:
    """Reset every app state of this tab to its data-free defaults, loading the ones not in memory
    (a Redis- or disk-backed tree is loaded piecemeal; an unloaded state would keep its data)."""
    for cls in _app_state_classes(type(root)):
        state = await root.get_state(cls)
        state.reset()


def _session_state(root: BaseState) -> session_state.SessionState:
    return root.substates[session_state.SessionState.get_name()]  # type: ignore[return-value]


class SessionBinding(Middleware):
    """Before every event: is this tab's state still the connection's session's? (module doc)"""

    async def preprocess(self, app: App, state: BaseState, event: Event) -> StateUpdate | None:
        root = state._get_root_state()
        shell = await root.get_state(session_state.SessionState)
        check = await session_state.session_check(shell)
        session_state.remember_check(shell, check)
        current = str(check.actor.session_id) if check.actor is not None and check.actor.session_id else ""
        bound = shell._bound_session
        if bound and bound != current:
            await wipe_tree(root)
            shell._bound_session = ""
            if not current and not _is_hydrate(event):
                delta = await _resolve_delta(root.dict())
                root._clean()
                return StateUpdate(delta=delta, events=Event.from_event_type(session_state.signed_out()))
        if current and shell._bound_session != current:
            shell._bound_session = current
            token = root.router.session.client_token
            if token:
                await registry.add(app, current, token)
        return None


def _is_hydrate(event: Event) -> bool:
    name = event.name.rsplit(".", 1)[-1]
    return name in ("hydrate", "hydrate_and_load", "on_load_internal")


async def purge_ended(app: App) -> int:
    """Wipe the tabs of every registered session that has ended; returns how many tabs."""
    ids = await registry.session_ids(app)
    if not ids:
        return 0
    parsed = {}
    for sid in ids:
        try:
            parsed[uuid.UUID(sid)] = sid
        except ValueError:
            await registry.take(app, sid)
    ended = await off_loop(sessions.ended_among, set(parsed))
    wiped = 0
    for sid in ended:
        for token in await registry.take(app, parsed[sid]):
            async with app.modify_state(rx.BaseStateToken(ident=token, cls=rx.State)) as root:
                await wipe_tree(root._get_root_state())
                _session_state(root._get_root_state())._bound_session = ""
            wiped += 1
    return wiped


async def purge_loop(app: App) -> None:
    """Lifespan task: purge_ended every PURGE_EVERY seconds (errors are logged, never fatal)."""
    while True:
        await asyncio.sleep(PURGE_EVERY)
        try:
            await purge_ended(app)
            tab_memory.release_closed_tabs(app)
        except Exception:  # noqa: BLE001 - the loop must outlive a database hiccup
            log.exception("purging ended sessions' tabs failed")
