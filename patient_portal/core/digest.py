"""SHA-256 of a byte stream, computed beside the work that produces the stream.

hashlib lets go of the GIL on large buffers, so a helper thread hashes pieces while the caller
reads, encrypts or sends the next ones. Short streams are hashed inline, where a thread would
cost more than it saves.
"""

from __future__ import annotations

import hashlib
import queue
import threading

#: Up to this many bytes are hashed inline; beyond it a helper thread takes over.
INLINE_BYTES = 256 * 1024


class StreamDigest:
    """Feed pieces in order with `update`; `hexdigest` waits for the helper and returns the hash.

    Pieces must not be changed after they are handed over (bytes, or views of bytes).
    """

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self._seen = 0
        self._queue: queue.SimpleQueue | None = None
        self._thread: threading.Thread | None = None

    def update(self, piece: bytes | memoryview) -> None:
        if self._queue is not None:
            self._queue.put(piece)
            return
        self._hash.update(piece)
        self._seen += len(piece)
        if self._seen > INLINE_BYTES:
            self._queue = queue.SimpleQueue()
            self._thread = threading.Thread(target=self._run, name="portal-digest", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        assert self._queue is not None
        while (piece := self._queue.get()) is not None:
            self._hash.update(piece)

    def _stop(self) -> None:
        if self._queue is not None and self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._queue = None

    def hexdigest(self) -> str:
        """The SHA-256 of everything fed so far (no more pieces may follow)."""
        self._stop()
        return self._hash.hexdigest()

    def close(self) -> None:
        """Stop the helper without needing the result (the transfer failed)."""
        self._stop()
