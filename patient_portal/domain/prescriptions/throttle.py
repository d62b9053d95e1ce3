"""The public verification's rate limit: at most LIMIT lookups per client address per WINDOW, in
process (each app process counts its own; behind several workers the effective limit is a multiple,
still far below what guessing a 100-bit code would need — the limit is against noise and scraping)."""

from __future__ import annotations

import threading
import time
from collections import deque

LIMIT = 30
WINDOW = 600.0  # seconds
_seen: dict[str, deque[float]] = {}
_lock = threading.Lock()


def allow(address: str, *, now: float | None = None) -> bool:
    """Count one lookup from `address`; False when it is over the limit (then it is not counted)."""
    now = time.monotonic() if now is None else now
    with _lock:
        if len(_seen) > 10_000:  # forget the quiet ones
            for key in [k for k, q in _seen.items() if not q or q[-1] < now - WINDOW]:
                del _seen[key]
        hits = _seen.setdefault(address or "unknown", deque())
        while hits and hits[0] < now - WINDOW:
            hits.popleft()
        if len(hits) >= LIMIT:
            return False
        hits.append(now)
        return True


def reset() -> None:
    with _lock:
        _seen.clear()
