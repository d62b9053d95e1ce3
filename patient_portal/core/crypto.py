"""Encryption at rest: key ring, AES-256-GCM field cipher, HMAC blind indexes, file envelopes.

* Field ciphertext is text: ``v1.<key id>.<base64url(nonce || ciphertext+tag)>``. The associated
  data binds table, column and row id, so a ciphertext copied into another row or column fails.
* Models declare a field encrypted with ``encrypted_field("str" | "date" | "json")``; mapper events
  encrypt on flush and decrypt on load, so services only ever see plaintext.
* Blind indexes are truncated HMAC-SHA256 over normalized input, one HKDF-derived key per index.
* Files use a fresh data key each, wrapped by the ring, and chunked AES-GCM so that large files
  stream without being held in memory twice.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
import struct
import tempfile
import threading
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Text, event, select
from sqlalchemy.orm import Mapper, attributes
from sqlmodel import Field

from patient_portal.settings import get_settings, on_reset

FORMAT = "v1"
NONCE_BYTES = 12
INDEX_BYTES = 16
FILE_MAGIC = b"PPE1"
FILE_CHUNK = 1024 * 1024
#: A stored file is a 16-byte header, then frames of FILE_CHUNK ciphertext + 16-byte tag: reading it
#: in pieces of this size hands each frame's ciphertext over in one piece.
FILE_FRAME = FILE_CHUNK + 16


class DecryptionError(Exception):
    """A ciphertext could not be decrypted: wrong key, wrong row, or tampered."""


def _b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


_URLSAFE = bytes.maketrans(b"-_", b"+/")


def _b64d(text: str) -> bytes:
    """base64url without padding -> bytes (``base64.urlsafe_b64decode``'s answer, in one C call:
    a chart decrypts a thousand values, and the stdlib's wrappers cost as much as the AES-GCM)."""
    return binascii.a2b_base64((text + "=" * (-len(text) % 4)).encode("ascii").translate(_URLSAFE))


def _hkdf(key: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(key)


def parse_keys(spec: str) -> list[tuple[str, bytes]]:
    """Parse ``kid:base64key,kid:base64key`` (first = active) into pairs; each key is 32 bytes."""
    pairs = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        kid, _, b64 = part.partition(":")
        key = _b64d(b64.strip())
        if not kid or "." in kid or len(key) != 32:
            raise ValueError("each key must be 'id:base64' of 32 bytes, id without dots")
        pairs.append((kid.strip(), key))
    if not pairs:
        raise ValueError("no keys given")
    return pairs


def format_keys(pairs: list[tuple[str, bytes]]) -> str:
    return ",".join(f"{kid}:{_b64e(key)}" for kid, key in pairs)


def generate_key_spec(kid: str = "k1", *, with_index_key: bool = False) -> str:
    """A new random key (and, for a fresh ring, a separate blind-index key)."""
    pairs = [(kid, secrets.token_bytes(32))]
    if with_index_key:
        pairs.append((INDEX_KID, secrets.token_bytes(32)))
    return format_keys(pairs)


INDEX_KID = "idx"


class KeyRing:
    """Versioned master keys: the first is active for new ciphertext, all can decrypt.

    The key named ``idx`` keys the blind indexes only (never encrypts), so rotating the encryption
    keys leaves search untouched. Without one, the last (oldest) key keys the indexes.
    """

    def __init__(self, pairs: list[tuple[str, bytes]]):
        self._keys = dict(pairs)
        encryption = [kid for kid, _ in pairs if kid != INDEX_KID]
        if not encryption:
            raise ValueError("the key ring needs an encryption key besides 'idx'")
        self.active_kid = encryption[0]
        self.index_kid = INDEX_KID if INDEX_KID in self._keys else pairs[-1][0]
        self._aead: dict[tuple[str, str], AESGCM] = {}
        self._index_keys: dict[str, bytes] = {}
        self._mac_keys: dict[tuple[str, str], bytes] = {}

    @property
    def key_ids(self) -> list[str]:
        return list(self._keys)

    def aead(self, kid: str, purpose: str) -> AESGCM:
        """The AES-GCM cipher for key `kid` and a purpose ("field", "wrap")."""
        cached = self._aead.get((kid, purpose))
        if cached is None:
            try:
                master = self._keys[kid]
            except KeyError:
                raise DecryptionError(f"unknown key id {kid!r}") from None
            cached = AESGCM(_hkdf(master, b"portal/" + purpose.encode()))
            self._aead[(kid, purpose)] = cached
        return cached

    def index_key(self, index_name: str) -> bytes:
        """The HMAC key of one blind index (derived per index name)."""
        cached = self._index_keys.get(index_name)
        if cached is None:
            cached = _hkdf(self._keys[self.index_kid], b"portal/index/" + index_name.encode())
            self._index_keys[index_name] = cached
        return cached


    def mac_key(self, kid: str, purpose: str) -> bytes:
        """The HMAC key of key `kid` for one purpose ("audit", "ws"): a database reader, who has no
        master key, can neither compute nor check these MACs. Raises DecryptionError for an unknown id."""
        cached = self._mac_keys.get((kid, purpose))
        if cached is None:
            try:
                master = self._keys[kid]
            except KeyError:
                raise DecryptionError(f"unknown key id {kid!r}") from None
            cached = _hkdf(master, b"portal/mac/" + purpose.encode())
            self._mac_keys[(kid, purpose)] = cached
        return cached


_keyring: KeyRing | None = None


_keyring_lock = threading.Lock()


def _load_or_create_key_file(path: Path) -> str:
    """The key file's spec, generating it on first use. The file appears whole or not at all (written
    aside, then hard-linked into place, which fails if another process got there first), so a
    concurrent first use never reads a half-written or empty file."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    spec = generate_key_spec(with_index_key=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".keys-")
    try:
        with os.fdopen(fd, "w") as fh:  # mkstemp creates it 0600
            fh.write(spec + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return path.read_text().strip()
    finally:
        os.unlink(tmp)
    return spec


def get_keyring() -> KeyRing:
    """The process key ring: PORTAL_MASTER_KEYS, else the instance key file (generated, 0600)."""
    global _keyring
    ring = _keyring
    if ring is None:
        with _keyring_lock:  # first use may come from several threads at once
            if _keyring is None:
                settings = get_settings()
                spec = settings.master_keys or _load_or_create_key_file(settings.key_file)
                _keyring = KeyRing(parse_keys(spec))
            ring = _keyring
    return ring


@on_reset
def reset_keyring() -> None:
    global _keyring
    _keyring = None


# ---------------------------------------------------------------- field encryption


def field_aad(table: str, column: str, row_id: Any) -> bytes:
    return f"{table}|{column}|{row_id}".encode()


def encrypt_bytes(plaintext: bytes, aad: bytes, ring: KeyRing | None = None) -> str:
    """AES-256-GCM with a random 96-bit nonce under the active key."""
    ring = ring or get_keyring()
    nonce = os.urandom(NONCE_BYTES)
    sealed = ring.aead(ring.active_kid, "field").encrypt(nonce, plaintext, aad)
    return f"{FORMAT}.{ring.active_kid}.{_b64e(nonce + sealed)}"


def decrypt_bytes(token: str, aad: bytes, ring: KeyRing | None = None) -> bytes:
    ring = ring or get_keyring()
    try:
        fmt, kid, body = token.split(".", 2)
        if fmt != FORMAT:
            raise ValueError
        raw = _b64d(body)
        return ring.aead(kid, "field").decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], aad)
    except (ValueError, InvalidTag) as exc:  # binascii.Error and UnicodeError are ValueErrors
        raise DecryptionError("ciphertext does not decrypt for this row and column") from exc


def key_id_of(token: str) -> str:
    """The key id a field ciphertext was made with."""
    return token.split(".", 2)[1]


def _serialize(kind: str, value: Any) -> bytes:
    if kind == "str":
        return str(value).encode()
    if kind == "date":
        if not isinstance(value, date):
            value = date.fromisoformat(str(value))
        return value.isoformat().encode()
    if kind == "json":
        return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str).encode()
    raise ValueError(f"unknown encrypted kind {kind!r}")


def _deserialize(kind: str, raw: bytes) -> Any:
    if kind == "str":
        return raw.decode()
    if kind == "date":
        return date.fromisoformat(raw.decode())
    return json.loads(raw)


def encrypt_value(kind: str, value: Any, table: str, column: str, row_id: Any) -> str | None:
    if value is None:
        return None
    return encrypt_bytes(_serialize(kind, value), field_aad(table, column, row_id))


def decrypt_value(kind: str, token: str | None, table: str, column: str, row_id: Any) -> Any:
    if token is None:
        return None
    return _deserialize(kind, decrypt_bytes(token, field_aad(table, column, row_id)))


def encrypted_field(kind: str = "str", *, nullable: bool = False, default: Any = ...) -> Any:
    """A model field stored as AES-GCM ciphertext; the Python value is str, date or JSON."""
    if kind not in {"str", "date", "json"}:
        raise ValueError(kind)
    kwargs: dict[str, Any] = {"sa_type": Text, "nullable": nullable}
    kwargs["sa_column_kwargs"] = {"info": {"encrypted": kind}}
    if default is not ...:
        kwargs["default"] = default
    elif nullable:
        kwargs["default"] = None
    return Field(**kwargs)


_ENCRYPTED_BY_MAPPER: dict[Mapper, list[tuple[str, str]]] = {}


def _encrypted_columns(mapper: Mapper) -> list[tuple[str, str]]:
    cached = _ENCRYPTED_BY_MAPPER.get(mapper)
    if cached is None:
        cached = [
            (prop.key, col.info["encrypted"])
            for prop in mapper.column_attrs
            for col in prop.columns
            if "encrypted" in col.info
        ]
        _ENCRYPTED_BY_MAPPER[mapper] = cached
    return cached


def _encrypt_target(mapper: Mapper, target: Any, only_changed: bool) -> None:
    table = mapper.local_table.name
    pending = {}
    for key, kind in _encrypted_columns(mapper):
        # an attribute never loaded (deferred, expired) has not changed: asking its history would load it
        if only_changed and (key not in target.__dict__ or not attributes.get_history(target, key).has_changes()):
            continue
        value = getattr(target, key)
        pending[key] = value
        setattr(target, key, encrypt_value(kind, value, table, key, target.id))
    target.__dict__["_portal_plain"] = pending


def _restore_plaintext(_mapper: Mapper, _conn: Any, target: Any) -> None:
    for key, value in target.__dict__.pop("_portal_plain", {}).items():
        attributes.set_committed_value(target, key, value)


def encrypted_kinds(table: Any) -> dict[str, str]:
    """column name -> kind ("str", "date", "json") of a table's encrypted columns (a Table or a model)."""
    table = getattr(table, "__table__", table)
    return {col.name: col.info["encrypted"] for col in table.columns if "encrypted" in col.info}


def stored_value(kind: str, token: Any, table: str, column: str, row_id: Any) -> Any:
    """What loading a model gives for one stored column value, for reads that select columns
    instead of models (no ORM state to build for each row): ciphertext decrypted as
    ``_decrypt_target`` does; anything else (None, an older plaintext value) as it is."""
    if isinstance(token, str) and token.startswith(FORMAT + "."):
        return decrypt_value(kind, token, table, column, row_id)
    return token


def plain_rows(session: Any, model: Any, columns: Sequence[str], *where: Any, order_by: Any = None,
               lock: bool = False) -> list[dict[str, Any]]:
    """Some columns of a model's rows as dicts (with "id"), encrypted ones decrypted — the values
    loading the models would give, without building ORM state for every row: for reads of many rows
    that show a few columns (a ten-year medication list). `where`/`order_by` take the table's
    columns: ``lambda c: c.status == "active"``. With `lock`, the rows are locked to the end of the
    transaction on PostgreSQL (FOR UPDATE, taken in id order; SQLite's unit of work holds its write
    lock already): for rows read to be written back. Autoflushes like any session read."""
    table = model.__table__
    stmt = select(table.c.id, *[table.c[c] for c in columns]).where(*[w(table.c) for w in where])
    if lock and session.get_bind().dialect.name == "postgresql":
        locked = select(table.c.id).where(*[w(table.c) for w in where]).order_by(table.c.id).with_for_update()
        session.execute(locked)  # in one order, so two lockers of overlapping rows never deadlock
    if order_by is not None:
        stmt = stmt.order_by(order_by(table.c))
    return decrypted_rows(session.execute(stmt), table, columns)


def decrypted_rows(rows: Iterable[Any], table: Any, columns: Sequence[str]) -> list[dict[str, Any]]:
    """``plain_rows``'s answer from rows already selected: each row (its id first, then `columns`
    of `table` in that order) as a dict with "id", ciphertext decrypted as ``stored_value`` does.
    The associated data's row part is made once per row and the key ring looked up once, not per
    value: a ten-year chart decrypts about a thousand values."""
    secret = encrypted_kinds(table)
    ring = get_keyring()
    prefix = {c: f"{table.name}|{c}|".encode() for c in columns if c in secret}
    marker = FORMAT + "."
    out = []
    for row_id, *values in rows:
        item: dict[str, Any] = {"id": row_id}
        suffix = None
        for c, value in zip(columns, values, strict=True):
            if c in prefix and isinstance(value, str) and value.startswith(marker):
                if suffix is None:
                    suffix = str(row_id).encode()
                value = _deserialize(secret[c], decrypt_bytes(value, prefix[c] + suffix, ring))
            item[c] = value
        out.append(item)
    return out


def _decrypt_target(target: Any, *_args: Any) -> None:
    mapper = attributes.instance_state(target).mapper
    table = mapper.local_table.name
    for key, kind in _encrypted_columns(mapper):
        token = target.__dict__.get(key)
        if isinstance(token, str) and token.startswith(FORMAT + "."):
            attributes.set_committed_value(target, key, decrypt_value(kind, token, table, key, target.id))


@event.listens_for(Mapper, "mapper_configured")
def _register_encryption(mapper: Mapper, cls: type) -> None:
    """Attach encrypt-on-flush / decrypt-on-load to every model with an encrypted field."""
    if not _encrypted_columns(mapper):
        return
    event.listen(cls, "before_insert", lambda m, c, t: _encrypt_target(m, t, only_changed=False))
    event.listen(cls, "before_update", lambda m, c, t: _encrypt_target(m, t, only_changed=True))
    event.listen(cls, "after_insert", _restore_plaintext)
    event.listen(cls, "after_update", _restore_plaintext)
    event.listen(cls, "load", _decrypt_target)
    event.listen(cls, "refresh", _decrypt_target)


# ---------------------------------------------------------------- blind indexes


def normalize(text: str) -> str:
    """Case-, accent- and space-insensitive form used before hashing."""
    decomposed = unicodedata.normalize("NFKD", str(text))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())


def blind_index(index_name: str, value: Any, *, normalized: bool = False) -> str | None:
    """Truncated HMAC-SHA256 of the normalized value under the index's own key."""
    if value is None or value == "":
        return None
    text = str(value) if normalized else normalize(str(value))
    mac = hmac.HMAC(get_keyring().index_key(index_name), hashes.SHA256())
    mac.update(text.encode())
    return _b64e(mac.finalize()[:INDEX_BYTES])


# ---------------------------------------------------------------- file envelopes


@dataclass(frozen=True)
class WrappedKey:
    """A file's data key, encrypted under a ring key: ``v1.<kid>.<b64>``."""

    token: str


def new_data_key(object_id: str) -> tuple[bytes, WrappedKey]:
    """A fresh 256-bit data key and its wrapped form, bound to the object id."""
    dek = AESGCM.generate_key(bit_length=256)
    ring = get_keyring()
    nonce = os.urandom(NONCE_BYTES)
    sealed = ring.aead(ring.active_kid, "wrap").encrypt(nonce, dek, b"dek|" + object_id.encode())
    return dek, WrappedKey(f"{FORMAT}.{ring.active_kid}.{_b64e(nonce + sealed)}")


def unwrap_data_key(wrapped: WrappedKey | str, object_id: str) -> bytes:
    token = wrapped.token if isinstance(wrapped, WrappedKey) else wrapped
    ring = get_keyring()
    try:
        _fmt, kid, body = token.split(".", 2)
        raw = _b64d(body)
        return ring.aead(kid, "wrap").decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], b"dek|" + object_id.encode())
    except (ValueError, InvalidTag) as exc:
        raise DecryptionError("file key does not unwrap") from exc


def _chunk_nonce(prefix: bytes, index: int) -> bytes:
    return prefix + struct.pack(">I", index)


def _chunk_aad(object_id: str, index: int, last: bool) -> bytes:
    return f"file|{object_id}|{index}|{int(last)}".encode()


def _frame_cipher(dek: bytes, prefix: bytes, object_id: str, index: int, last: bool, tag: bytes | None = None) -> Any:
    """One frame's AES-GCM context (the Cipher API lets a frame be fed piece by piece, without copies)."""
    mode = modes.GCM(_chunk_nonce(prefix, index), tag)
    ctx = Cipher(algorithms.AES(dek), mode).decryptor() if tag else Cipher(algorithms.AES(dek), mode).encryptor()
    ctx.authenticate_additional_data(_chunk_aad(object_id, index, last))
    return ctx


def encrypt_stream(chunks: Iterable[bytes], dek: bytes, object_id: str, chunk_size: int = FILE_CHUNK) -> Iterator[bytes]:
    """Encrypt a byte stream in frames of `chunk_size`; the last frame is marked so truncation is detected.

    A frame is encrypted once the next byte after it is seen (so it is known not to be the last);
    pieces are fed to the cipher as views, never copied into a frame buffer.
    """
    prefix = os.urandom(8)
    yield FILE_MAGIC + struct.pack(">I", chunk_size) + prefix
    frame: list[memoryview] = []
    filled = 0
    index = 0

    def seal(last: bool) -> Iterator[bytes]:
        ctx = _frame_cipher(dek, prefix, object_id, index, last)
        for part in frame:
            yield ctx.update(part)
        ctx.finalize()
        yield ctx.tag

    for piece in chunks:
        view = memoryview(piece)
        while view:
            if filled == chunk_size:
                yield from seal(False)
                frame, filled, index = [], 0, index + 1
            take = min(len(view), chunk_size - filled)
            frame.append(view[:take])
            filled += take
            view = view[take:]
    yield from seal(True)


class _Views:
    """Zero-copy reads of exact lengths from a stream of byte pieces."""

    def __init__(self, chunks: Iterable[bytes]):
        self._stream = iter(chunks)
        self._view = memoryview(b"")

    def at_end(self) -> bool:
        while not self._view:
            try:
                self._view = memoryview(next(self._stream))
            except StopIteration:
                return True
        return False

    def take(self, size: int) -> list[memoryview]:
        """Up to `size` bytes as views (fewer only at the end of the stream)."""
        parts: list[memoryview] = []
        while size and not self.at_end():
            part = self._view[:size]
            self._view = self._view[len(part):]
            parts.append(part)
            size -= len(part)
        return parts


def _split_tag(parts: list[memoryview]) -> tuple[list[memoryview], bytes]:
    """A frame's ciphertext views and its 16-byte tag (which may straddle pieces)."""
    tag = b""
    while parts and len(tag) < 16:
        need = 16 - len(tag)
        last = parts.pop()
        if len(last) > need:
            parts.append(last[:-need])
            last = last[-need:]
        tag = bytes(last) + tag
    if len(tag) < 16:
        raise DecryptionError("the stored file was altered or is incomplete")
    return parts, tag


#: The largest frame a stored file may declare in its (unauthenticated) header; more is refused
#: before anything is read, so a doctored header cannot make a reader buffer a whole object.
MAX_FILE_CHUNK = 16 * FILE_CHUNK


def decrypt_frames(chunks: Iterable[bytes], dek: bytes, object_id: str) -> Iterator[list[bytes]]:
    """Inverse of encrypt_stream, one verified frame at a time: yields each frame's plaintext pieces
    only after its tag verified; raises DecryptionError on tampering, reordering or truncation.

    Each frame's tag covers its index, whether it is the last frame and the object id (see
    `_chunk_aad`; the index is also in the nonce), so a changed byte, frames swapped or dropped, a
    file cut short (even at a frame boundary: the new last frame is not marked last) or an object
    copied from another file all fail at the first frame concerned. A consumer that stops at the
    error has been handed only authentic frames, in order, but not the whole file.
    """
    reader = _Views(chunks)
    header = b"".join(reader.take(len(FILE_MAGIC) + 12))
    if len(header) < len(FILE_MAGIC) + 12 or header[:4] != FILE_MAGIC:
        raise DecryptionError("not an encrypted portal file")
    chunk_size = struct.unpack(">I", header[4:8])[0]
    if not 0 < chunk_size <= MAX_FILE_CHUNK:
        raise DecryptionError("the stored file was altered or is incomplete")
    prefix = header[8:]
    index = 0
    try:
        while True:
            parts, tag = _split_tag(reader.take(chunk_size + 16))
            last = reader.at_end()
            ctx = _frame_cipher(dek, prefix, object_id, index, last, tag)
            plain = [ctx.update(part) for part in parts]
            ctx.finalize()
            yield plain
            if last:
                return
            index += 1
    except InvalidTag as exc:
        raise DecryptionError("the stored file was altered or is incomplete") from exc


def decrypt_stream(chunks: Iterable[bytes], dek: bytes, object_id: str) -> Iterator[bytes]:
    """Inverse of encrypt_stream as a flat byte stream (see `decrypt_frames`); raises
    DecryptionError on tampering, reordering or truncation. A frame's plaintext is yielded only
    after its tag verified."""
    for frame in decrypt_frames(chunks, dek, object_id):
        yield from frame
