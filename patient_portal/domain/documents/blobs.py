"""Document bytes on their way into and out of the BlobStore.

In: the plaintext stream is counted (refused past the size limit without being buffered), typed by
its bytes (the head is judged before the store is contacted), hashed, encrypted under a fresh data
key and handed to the store; anything that goes wrong removes what was written.
Out: the object streams at the speed of the store, authenticated frame by frame by its AES-GCM tags
(frame index, last-frame flag and object id are in each frame's associated data). The first frame is
verified before anything is returned, so a wrong or wholly damaged file is a clean error; damage found
later raises part-way through, and the sender must abort rather than end the transfer. The stored
SHA-256 of the plaintext is checked by `verify_stored` (``portal storage verify``), not per download.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from patient_portal.core.crypto import (
    FILE_FRAME,
    DecryptionError,
    decrypt_frames,
    encrypt_stream,
    new_data_key,
    unwrap_data_key,
)
from patient_portal.core.digest import StreamDigest
from patient_portal.core.errors import Invalid, ServiceError
from patient_portal.core.storage import BlobNotFound, BlobStore, BlobStoreError, new_object_key
from patient_portal.domain.documents.filetypes import FileKind, FileRefused, Inspector
from patient_portal.settings import get_settings

OBJECT_PREFIX = "doc"


class UploadTooLarge(Invalid):
    """The upload is over the configured limit."""

    status = 413

    def __init__(self, limit: int):
        message = f"The file is larger than {format_size(limit)}, the most that can be uploaded."
        super().__init__(message, {"file": message})
        self.limit = limit


class StorageUnavailable(ServiceError):
    """The document store did not answer; nothing was saved or sent."""

    status = 503

    def __init__(self, message: str = "The document store is not answering right now. Nothing was saved "
                                      "— please try again in a moment."):
        super().__init__(message)


class DocumentDamaged(ServiceError):
    """The stored file failed its integrity check (or is missing). ``midway``: found part-way through a
    read, after earlier (authentic) frames were handed out — the transfer must be aborted."""

    status = 500

    def __init__(self, message: str, *, reason: str = "integrity", midway: bool = False):
        super().__init__(message)
        self.reason = reason  # "integrity" | "missing"
        self.midway = midway


def format_size(size: int) -> str:
    """Bytes in plain words ("25 MB", "812 KB")."""
    if size >= 1024 * 1024:
        mb = size / (1024 * 1024)
        return f"{mb:.0f} MB" if mb >= 10 or mb.is_integer() else f"{mb:.1f} MB"
    return f"{max(1, round(size / 1024))} KB"


def max_upload_bytes() -> int:
    return get_settings().max_upload_bytes


@dataclass(frozen=True)
class StoredBlob:
    object_key: str
    wrapped_key: str
    sha256: str
    size: int
    kind: FileKind


class _Plaintext:
    """The upload's plaintext: size-limited, type-checked and hashed as it streams through."""

    def __init__(self, chunks: Iterable[bytes], filename: str, limit: int):
        self._source = iter(chunks)
        self._limit = limit
        self._inspector = Inspector(filename)
        self._pending: list[bytes] = []
        self.digest = StreamDigest()
        self.size = 0
        self.kind: FileKind | None = None
        self.error: BaseException | None = None

    def _next(self) -> bytes | None:
        try:
            chunk = next(self._source)
        except StopIteration:
            return None
        except BaseException as exc:  # the client went away, the stream broke
            self.error = exc
            raise
        self.size += len(chunk)
        try:
            if self.size > self._limit:
                raise UploadTooLarge(self._limit)
            self._inspector.feed(chunk)
        except (UploadTooLarge, FileRefused) as exc:
            self.error = exc
            raise
        self.digest.update(chunk)
        return chunk

    def read_head(self) -> None:
        """Read until the type is known (or the file ends): refusals happen before any store call."""
        while not self._inspector.decided:
            chunk = self._next()
            if chunk is None:
                break
            self._pending.append(chunk)

    def __iter__(self) -> Iterator[bytes]:
        yield from self._pending
        self._pending = []
        while (chunk := self._next()) is not None:
            if chunk:
                yield chunk
        try:
            self.kind = self._inspector.finish()
        except FileRefused as exc:
            self.error = exc
            raise


def discard(store: BlobStore, key: str) -> None:
    try:
        store.delete(key)
    except BlobStoreError:  # the sweep reports it later
        pass


def store_encrypted(store: BlobStore, chunks: Iterable[bytes], *, filename: str, object_id: str,
                    limit: int | None = None) -> StoredBlob:
    """Encrypt and store one upload; raises FileRefused, UploadTooLarge or StorageUnavailable.

    The plaintext's SHA-256 is computed on a helper thread while the file is encrypted and sent.
    """
    plain = _Plaintext(chunks, filename, max_upload_bytes() if limit is None else limit)
    key = new_object_key(OBJECT_PREFIX)
    try:
        plain.read_head()
        dek, wrapped = new_data_key(object_id)
        store.put(key, encrypt_stream(plain, dek, object_id))
    except BaseException as exc:
        plain.digest.close()
        discard(store, key)
        if plain.error is not None:
            raise plain.error from None
        if isinstance(exc, BlobStoreError):
            raise StorageUnavailable() from exc
        raise
    assert plain.kind is not None
    return StoredBlob(key, wrapped.token, plain.digest.hexdigest(), plain.size, plain.kind)


def damaged() -> DocumentDamaged:
    return DocumentDamaged("This document failed its integrity check, so it was not sent. The stored "
                           "copy may be damaged — please tell the clinic.")


def _damaged_midway() -> DocumentDamaged:
    return DocumentDamaged("This document failed its integrity check part-way through, so the download "
                           "was stopped. The stored copy may be damaged — please tell the clinic.", midway=True)


def _missing() -> DocumentDamaged:
    return DocumentDamaged("The stored file for this document is missing. Please tell the clinic.", reason="missing")


def _unavailable() -> StorageUnavailable:
    return StorageUnavailable("The document store is not answering right now. Please try again in a moment.")


class Download:
    """A stored file being read: its first frame is already verified; the rest is verified frame by
    frame as it is iterated. Raises DocumentDamaged (``midway``) or StorageUnavailable part-way
    through — a caller sending the bytes on must then abort the transfer, never end it as if complete.
    """

    def __init__(self, first: list[bytes], frames: Iterator[list[bytes]], size: int):
        self._first = first
        self._frames = frames
        self.size = size

    def __iter__(self) -> Iterator[bytes]:
        sent = 0
        try:
            frame: list[bytes] | None = self._first
            self._first = []
            while frame is not None:
                for piece in frame:
                    sent += len(piece)
                    if sent > self.size:  # more than the row says: never more than Content-Length
                        raise _damaged_midway()
                    yield piece
                frame = next(self._frames, None)
        except DecryptionError:
            raise _damaged_midway() from None
        except DocumentDamaged:
            raise
        except Exception as exc:  # the store's stream broke off (BlobStoreError, botocore/urllib3 errors)
            raise _unavailable() from exc
        finally:
            self.close()
        if sent != self.size:
            raise _damaged_midway()

    def close(self) -> None:
        self._frames.close()  # type: ignore[attr-defined]


def _open(store: BlobStore, key: str, wrapped_key: str, object_id: str, size: int,
          sent: threading.Event | None = None) -> Download:
    """Unwrap the key, start the read and verify the first frame (a wrong, swapped or damaged file
    fails here, before anything is handed out). `sent` is set once the store request is on its way
    (or this has failed before sending it)."""
    _sending.event = sent
    try:
        dek = unwrap_data_key(wrapped_key, object_id)
        pieces = store.get(key, piece_size=FILE_FRAME)
        if sent is not None:
            sent.set()
        frames = decrypt_frames(pieces, dek, object_id)
        first = next(frames)
    except DecryptionError:
        raise damaged() from None
    except BlobNotFound:
        raise _missing() from None
    except BlobStoreError as exc:
        raise _unavailable() from exc
    finally:
        _sending.event = None
        if sent is not None:
            sent.set()
    return Download(first, frames, size)


#: The Event of the read being opened on this thread, set by `_request_on_its_way`.
_sending = threading.local()
#: How long `start_reading` lets the helper thread have the interpreter to send its request.
SEND_HEAD_START = 0.02


def _request_on_its_way(**_kwargs: Any) -> None:
    """botocore's ``before-send`` hook: the GET is about to leave, and from here until the answer the
    helper thread only waits on the network — the caller may take the interpreter back."""
    event = getattr(_sending, "event", None)
    if event is not None:
        event.set()


def _hook(store: BlobStore) -> None:
    """Have an S3 store's client say when a GET is sent (idempotent: registered once per client)."""
    events = getattr(getattr(getattr(store, "client", None), "meta", None), "events", None)
    if events is not None:
        events.register("before-send.s3.GetObject", _request_on_its_way, unique_id="portal-documents-get-sent")


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _readers() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="portal-blob")
        return _pool


class PendingRead:
    """A download opening on a helper thread (the store's first-byte wait and the first frame), so the
    caller can write and commit its audit event meanwhile. `result()` hands the Download over;
    `cancel()` drops it (nothing was handed out)."""

    def __init__(self, future: Future[Download]):
        self._future = future

    def result(self) -> Download:
        """The opened download; raises DocumentDamaged or StorageUnavailable."""
        return self._future.result()

    def cancel(self) -> None:
        def _drop(done: Future[Download]) -> None:
            if not done.cancelled() and done.exception() is None:
                done.result().close()

        if not self._future.cancel():
            self._future.add_done_callback(_drop)


def start_reading(store: BlobStore, *, object_key: str, wrapped_key: str, object_id: str, size: int) -> PendingRead:
    """Begin reading one stored file on a helper thread; see PendingRead and Download.

    Downloads are authenticated by the file format itself: every frame's AES-GCM tag covers its
    index, the last-frame flag and the object id, so tampering, reordering, truncation and a file
    from another object all fail, at the first frame concerned. The plaintext SHA-256 kept on the
    row is not recomputed per download (`portal storage verify` checks it for every stored file).
    """
    _hook(store)
    sent = threading.Event()
    pending = PendingRead(_readers().submit(_open, store, object_key, wrapped_key, object_id, size, sent))
    # Python runs one thread at a time: give the helper the interpreter until its request is sent (about
    # a millisecond of botocore), so the store works on the answer while the caller audits and commits.
    sent.wait(SEND_HEAD_START)
    return pending


def read_decrypted(store: BlobStore, *, object_key: str, wrapped_key: str, object_id: str, size: int) -> Download:
    """Open one stored file (first frame verified); raises DocumentDamaged / StorageUnavailable."""
    return _open(store, object_key, wrapped_key, object_id, size)


def verify_stored(store: BlobStore, *, object_key: str, wrapped_key: str, object_id: str, sha256: str,
                  size: int) -> str | None:
    """Read a whole stored file and check every frame's tag, its length and its plaintext SHA-256 against
    the row; returns None when it checks out, else a short reason with no content in it."""
    digest = StreamDigest()
    try:
        for piece in read_decrypted(store, object_key=object_key, wrapped_key=wrapped_key, object_id=object_id,
                                    size=size):
            digest.update(piece)
    except DocumentDamaged as exc:
        digest.close()
        if exc.reason == "missing":
            return "the stored file is missing"
        if exc.midway:
            return "altered or cut short part-way through (a frame does not authenticate)"
        return "does not decrypt (altered, replaced by another file, or its key does not unwrap)"
    except StorageUnavailable:
        digest.close()
        return "the store did not answer"
    except Exception as exc:  # a read broken off by the store's connection (botocore/urllib3 errors)
        digest.close()
        return f"could not be read ({type(exc).__name__})"
    except BaseException:
        digest.close()
        raise
    if digest.hexdigest() != sha256:
        return "SHA-256 differs from the one recorded at upload"
    return None
