"""Blob storage: a small interface with a local-folder and an S3-compatible implementation.

Callers hand over bytes that are already encrypted (see core.crypto file envelopes); object keys
are random and say nothing about the patient.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Protocol

from patient_portal.settings import get_settings, on_reset

#: Default size of the pieces `get` streams.
PIECE = 1024 * 1024


class BlobStoreError(Exception):
    """The object store could not be reached or refused the operation."""


class BlobNotFound(BlobStoreError):
    """No object under that key."""


def new_object_key(prefix: str = "obj") -> str:
    """A random, unguessable object key."""
    return f"{prefix}/{secrets.token_hex(2)}/{secrets.token_urlsafe(24)}"


class BlobStore(Protocol):
    name: str

    def put(self, key: str, chunks: Iterable[bytes]) -> int:
        """Store the stream under key; returns bytes written."""

    def get(self, key: str, piece_size: int = PIECE) -> Iterator[bytes]:
        """Stream the object's bytes in pieces of `piece_size` (the last may be shorter)."""

    def delete(self, key: str) -> None:
        """Remove the object (no error if missing)."""

    def exists(self, key: str) -> bool: ...

    def keys(self, prefix: str = "") -> Iterator[str]:
        """Every object key under prefix."""

    def ping(self) -> None:
        """Raise BlobStoreError if the store does not answer."""


class LocalBlobStore:
    """Objects as files under one folder (the embedded default)."""

    name = "local"

    def __init__(self, root: Path):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise BlobStoreError("invalid object key")
        return path

    def put(self, key: str, chunks: Iterable[bytes]) -> int:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        written = 0
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as fh:
                for chunk in chunks:
                    fh.write(chunk)
                    written += len(chunk)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return written

    def get(self, key: str, piece_size: int = PIECE) -> Iterator[bytes]:
        path = self._path(key)
        if not path.is_file():
            raise BlobNotFound(key)

        def _read() -> Iterator[bytes]:
            with path.open("rb") as fh:
                while chunk := fh.read(piece_size):
                    yield chunk

        return _read()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def keys(self, prefix: str = "") -> Iterator[str]:
        if not self.root.exists():
            return
        for path in sorted(self.root.rglob("*")):
            if path.is_file() and not path.name.startswith(".part-"):
                key = path.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    yield key

    def ping(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe = self.root / ".ping"
            probe.write_bytes(b"ok")
            probe.unlink()
        except OSError as exc:
            raise BlobStoreError(f"blob folder not writable: {exc.strerror}") from exc


class S3BlobStore:
    """Objects in any S3-compatible bucket through boto3 (multipart for large objects)."""

    name = "s3"
    SINGLE_PUT_MAX = 32 * 1024 * 1024
    PART = 16 * 1024 * 1024

    def __init__(self, bucket: str, *, endpoint_url: str | None = None, region: str = "us-east-1",
                 access_key_id: str | None = None, secret_access_key: str | None = None):
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.client = boto3.client(
            "s3",
            endpoint_url=endpoint_url or None,
            region_name=region,
            aws_access_key_id=access_key_id or None,
            aws_secret_access_key=secret_access_key or None,
            config=Config(
                retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=3, read_timeout=20,
                # Every object is AES-GCM authenticated frame by frame on every read (its plaintext
                # SHA-256 is checked by `portal storage verify`), so transport checksums (CRC32 both
                # ways, SigV4 payload hashing over plain http) would only re-hash the same bytes.
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
                s3={"payload_signing_enabled": False},
            ),
        )

    def _wrap(self, exc: Exception) -> BlobStoreError:
        from botocore.exceptions import ClientError

        if isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
            return BlobNotFound(str(exc))
        return BlobStoreError(f"object store unavailable ({type(exc).__name__})")

    def ensure_bucket(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except Exception:
            try:
                self.client.create_bucket(Bucket=self.bucket)
            except Exception as exc:
                raise self._wrap(exc) from exc

    def put(self, key: str, chunks: Iterable[bytes]) -> int:
        """One PUT for objects up to SINGLE_PUT_MAX (every document under the default limit);
        multipart above that, so memory stays bounded by one part. Pieces are joined once, not
        appended to a growing buffer."""
        pending: list[bytes] = []
        pending_len = 0
        written = 0
        upload_id = None
        parts: list[dict] = []

        def send_part(body: bytes) -> None:
            number = len(parts) + 1
            resp = self.client.upload_part(Bucket=self.bucket, Key=key, UploadId=upload_id,
                                           PartNumber=number, Body=body)
            parts.append({"ETag": resp["ETag"], "PartNumber": number})

        try:
            for chunk in chunks:
                pending.append(chunk)
                pending_len += len(chunk)
                written += len(chunk)
                if upload_id is None and pending_len > self.SINGLE_PUT_MAX:
                    upload_id = self.client.create_multipart_upload(Bucket=self.bucket, Key=key)["UploadId"]
                if upload_id is not None and pending_len >= self.PART:
                    body = b"".join(pending)
                    pending, pending_len = [], 0
                    for start in range(0, len(body) - self.PART + 1, self.PART):
                        send_part(body[start:start + self.PART])
                    rest = body[len(body) - len(body) % self.PART:]
                    if rest:
                        pending, pending_len = [rest], len(rest)
            body = b"".join(pending)
            pending.clear()
            if upload_id is None:
                self.client.put_object(Bucket=self.bucket, Key=key, Body=body)
            else:
                if body:
                    send_part(body)
                self.client.complete_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id,
                                                      MultipartUpload={"Parts": parts})
        except BlobStoreError:
            raise
        except Exception as exc:
            if upload_id is not None:
                try:
                    self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
                except Exception:  # noqa: S110 - best effort; the sweep finds leftovers
                    pass
            raise self._wrap(exc) from exc
        return written

    def get(self, key: str, piece_size: int = PIECE) -> Iterator[bytes]:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        except Exception as exc:
            raise self._wrap(exc) from exc
        return body.iter_chunks(piece_size)

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except Exception as exc:
            raise self._wrap(exc) from exc

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
            return True
        except Exception as exc:
            err = self._wrap(exc)
            if isinstance(err, BlobNotFound):
                return False
            raise err from exc

    def keys(self, prefix: str = "") -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    yield item["Key"]
        except Exception as exc:
            raise self._wrap(exc) from exc

    def ping(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except Exception as exc:
            raise self._wrap(exc) from exc


_store: BlobStore | None = None


def build_blob_store() -> BlobStore:
    settings = get_settings()
    if settings.uses_s3:
        return S3BlobStore(
            settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=settings.s3_secret_access_key,
        )
    return LocalBlobStore(settings.blob_dir)


def get_blob_store() -> BlobStore:
    """The configured store: S3 when PORTAL_S3_BUCKET is set, else the instance blob folder."""
    global _store
    if _store is None:
        _store = build_blob_store()
    return _store


@on_reset
def reset_blob_store() -> None:
    global _store
    _store = None
