"""Tabs nobody has open any more leave this process's memory.

With the memory state manager (one process, ``Settings.state_manager_mode``) every tab's UI state
lives in this process until Reflex's token expiry (``redis_token_expiration``, an hour by default)
after its last event — a closed tab included. Under load that held hundreds of MB long after the
people had gone (issue 11 §7: 441-464 MiB after about 1,800 tabs, from 202 MiB idle).

``release_closed_tabs(app)`` runs from ``state.tabs.purge_loop``: a tab whose socket has been gone
for ``KEEP_CLOSED`` seconds is dropped from the manager (a tab that reconnects within that time —
a network blip, a laptop lid — keeps its state; after it, reconnecting hydrates afresh and the page
loads its data again, as on a reload). Whatever was freed is handed back to the operating system
(``gc.collect`` then glibc's ``malloc_trim``, where there is one). Redis-held states expire by
Redis's own TTL; nothing here touches them.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import time
from typing import Any

log = logging.getLogger(__name__)

#: How long a closed tab's state is kept for a reconnect (seconds).
KEEP_CLOSED = 300.0
#: client token -> when this process first saw it without a socket
_closed_since: dict[str, float] = {}


def _memory_manager(app: Any) -> Any | None:
    from reflex.istate.manager.memory import StateManagerMemory

    manager = getattr(app, "_state_manager", None) or getattr(app, "state_manager", None)
    return manager if isinstance(manager, StateManagerMemory) else None


def _connected(app: Any) -> set[str] | None:
    namespace = getattr(app, "event_namespace", None)
    tokens = getattr(getattr(namespace, "_token_manager", None), "token_to_socket", None)
    return set(tokens) if tokens is not None else None


def release_closed_tabs(app: Any, now: float | None = None) -> int:
    """Drop the states of tabs closed for KEEP_CLOSED seconds; returns how many tabs were dropped."""
    manager = _memory_manager(app)
    connected = _connected(app)
    if manager is None or connected is None:
        return 0
    now = time.time() if now is None else now
    dropped = 0
    tracked = {token.ident: token for _key, (_deadline, token) in list(manager._token_expires_at.items())}
    for ident in list(_closed_since):
        if ident in connected or ident not in tracked:
            _closed_since.pop(ident, None)  # back again, or gone already
    for ident, token in tracked.items():
        if ident in connected:
            continue
        since = _closed_since.setdefault(ident, now)
        if now - since < KEEP_CLOSED:
            continue
        lock = manager._states_locks.get(token.lock_key)
        if lock is not None and lock.locked():
            continue  # an event is running on it right now
        manager._purge_token(token)
        _closed_since.pop(ident, None)
        dropped += 1
    if dropped:
        _give_back_memory()
    return dropped


def _give_back_memory() -> None:
    gc.collect()
    name = ctypes.util.find_library("c")
    if not name:
        return
    try:
        ctypes.CDLL(name).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        log.debug("malloc_trim is not available")
