"""SHA-256 of a byte stream, computed beside the work that produces the stream.

hashlib lets go of the GIL on large buffers, so a helper thread hashes pieces while the caller
reads, encrypts or sends the next ones. Short streams are hashed inline, where a thread would
cost more than it saves; the helper's backlog is bounded so memory stays bounded too.
"""

from __future__ import annotations

import hashlib
import threading
from collections import deque

#: Up to this many bytes are hashed inline; beyond it a helper thread takes over.
INLINE_BYTES = 256 * 1024
#: The producer waits while the helper has more than this many bytes still to hash.
MAX_BACKLOG = 4 * 1024 * 1024


class StreamDigest:
    """Feed pieces in order with `update`; `hexdigest` waits for the helper and returns the hash.

    Pieces must not be changed after they are handed over (bytes, or views of bytes).
    """

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self._seen = 0
        self._pending: deque[bytes | memoryview | None] = deque()
        self._backlog = 0
        self._ready = threading.Condition()
        self._thread: threading.Thread | None = None

    def update(self, piece: bytes | memoryview) -> None:
        if self._thread is None:
            if self._seen < INLINE_BYTES:  # the helper starts only when more follows the first part
                self._hash.update(piece)
                self._seen += len(piece)
                return
            self._thread = threading.Thread(target=self._run, name="portal-digest", daemon=True)
            self._thread.start()
        with self._ready:
            while self._backlog > MAX_BACKLOG:
                self._ready.wait()
            self._pending.append(piece)
            self._backlog += len(piece)
            self._ready.notify_all()

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._pending:
                    self._ready.wait()
                piece = self._pending.popleft()
            if piece is None:
                return
            self._hash.update(piece)
            with self._ready:
                self._backlog -= len(piece)
                self._ready.notify_all()

    def _stop(self) -> None:
        if self._thread is not None:
            with self._ready:
                self._pending.append(None)
                self._ready.notify_all()
            self._thread.join()
            self._thread = None

    def hexdigest(self) -> str:
        """The SHA-256 of everything fed so far (no more pieces may follow)."""
        self._stop()
        return self._hash.hexdigest()

    def close(self) -> None:
        """Stop the helper without needing the result (the transfer failed)."""
        self._stop()
