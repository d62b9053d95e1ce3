"""Document bytes on their way into and out of the BlobStore.

In: the plaintext stream is counted (refused past the size limit without being buffered), typed by
its bytes (the head is judged before the store is contacted), hashed, encrypted under a fresh data
key and handed to the store; anything that goes wrong removes what was written.
Out: the object is decrypted and its SHA-256 and length compared with the row before the first byte
is released, so a damaged file is an error, never a corrupt download.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from patient_portal.core.crypto import (
    FILE_FRAME,
    DecryptionError,
    decrypt_stream,
    encrypt_stream,
    new_data_key,
    unwrap_data_key,
)
from patient_portal.core.digest import StreamDigest
from patient_portal.core.storage import BlobNotFound, BlobStore, BlobStoreError, new_object_key
from patient_portal.domain.documents.filetypes import FileKind, FileRefused, Inspector
from patient_portal.settings import get_settings

OBJECT_PREFIX = "doc"
#: Files up to this size are verified into memory and then sent; larger ones are read twice.
VERIFY_IN_MEMORY_BYTES = 64 * 1024 * 1024


class UploadTooLarge(ValueError):
    """The upload is over the configured limit."""

    def __init__(self, limit: int):
        super().__init__(f"The file is larger than {format_size(limit)}, the most that can be uploaded.")
        self.limit = limit


class StorageUnavailable(Exception):
    """The document store did not answer; nothing was saved or sent."""

    def __init__(self, message: str = "The document store is not answering right now. Nothing was saved "
                                      "— please try again in a moment."):
        super().__init__(message)


class DocumentDamaged(Exception):
    """The stored file failed its integrity check (or is missing); nothing was sent."""


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


def _damaged() -> DocumentDamaged:
    return DocumentDamaged("This document failed its integrity check, so it was not sent. The stored "
                           "copy may be damaged — please tell the clinic.")


def _decrypt_checked(store: BlobStore, key: str, wrapped_key: str, object_id: str, sha256: str,
                     size: int) -> Iterator[bytes]:
    digest = StreamDigest()
    length = 0
    try:
        dek = unwrap_data_key(wrapped_key, object_id)
        for chunk in decrypt_stream(store.get(key, piece_size=FILE_FRAME), dek, object_id):
            digest.update(chunk)
            length += len(chunk)
            yield chunk
    except DecryptionError:
        raise _damaged() from None
    except BlobNotFound:
        raise DocumentDamaged("The stored file for this document is missing. Please tell the clinic.") from None
    except BlobStoreError as exc:
        raise StorageUnavailable("The document store is not answering right now. Please try again "
                                 "in a moment.") from exc
    finally:
        digest.close()
    if length != size or digest.hexdigest() != sha256:
        raise _damaged()


def read_verified(store: BlobStore, *, object_key: str, wrapped_key: str, object_id: str, sha256: str,
                  size: int) -> Iterator[bytes]:
    """The plaintext, checked in full before it is returned; raises DocumentDamaged / StorageUnavailable."""
    args = (store, object_key, wrapped_key, object_id, sha256, size)
    if size <= VERIFY_IN_MEMORY_BYTES:
        return iter(list(_decrypt_checked(*args)))
    for _chunk in _decrypt_checked(*args):
        pass
    return _decrypt_checked(*args)  # each chunk is still authenticated on the second read

