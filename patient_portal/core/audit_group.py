"""SQLite: the events of many reads chained in one write transaction (group commit).

A read-first unit (``core.db.transact``) reads without SQLite's write lock and keeps its read events;
before it returns it calls ``append(events)``, which returns once those events are committed in the
chain — or raises, and the read fails with them (no PHI without its audit event).

Leader and followers, no thread of its own: every caller queues its events and waits for the commit
turn; whoever gets the turn while its own events are still queued takes *everything* queued and
appends it in one transaction, one fsync (``core.audit.append_chained``, oldest first). While that
commit runs, the next reads queue up and go together in the next one, so under load one fsync
carries many reads' events instead of each read holding the lock for its own.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import Any

#: Events waiting for the next group commit, each list with the future of the read that queued it.
_queued: list[tuple[list[dict[str, Any]], Future]] = []
_queue_lock = threading.Lock()
#: The commit turn: one group commit at a time in this process.
_turn = threading.Lock()
#: A reader waits at most this long for its events' commit (seconds) before its read fails.
WAIT = 30.0


def append(events: list[dict[str, Any]]) -> None:
    """Chain `events` (``core.audit.record``'s values) durably; returns once committed."""
    done: Future = Future()
    with _queue_lock:
        _queued.append((events, done))
    if not _turn.acquire(timeout=WAIT):
        raise TimeoutError("the audit trail did not take this read's events in time")
    try:
        if not done.done():
            with _queue_lock:
                batch = list(_queued)
                _queued.clear()
            _commit(batch)
    finally:
        _turn.release()
    done.result(timeout=0)


def _commit(batch: list[tuple[list[dict[str, Any]], Future]]) -> None:
    from patient_portal.core.audit import append_chained
    from patient_portal.core.crypto import get_keyring
    from patient_portal.core.db import unit_of_work

    ring = get_keyring()
    try:
        with unit_of_work() as session:
            for values in sorted((v for events, _ in batch for v in events), key=lambda v: v["at"]):
                append_chained(session, values, ring)
    except BaseException as exc:  # every read of the batch fails with it
        for _, done in batch:
            done.set_exception(exc)
        if not isinstance(exc, Exception):
            raise
        return
    for _, done in batch:
        done.set_result(None)
