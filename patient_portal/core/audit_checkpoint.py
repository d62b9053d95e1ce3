"""Signed audit checkpoints kept outside the database: proof of how long the chain already was.

A keyed chain shows any edited, inserted, forged or recomputed event, but not that its newest
events were deleted. A checkpoint does: {seq and hash of the chain's head, time, key id} signed
with HMAC-SHA256 under the key ring's "audit-checkpoint" MAC key, stored in the blob store (local
folder or S3) under ``audit-checkpoints/`` — ``latest.json`` plus one dated object per checkpoint
(``audit-checkpoints/YYYY/MM/DD/<seq>.json``) — and logged in one line (no PHI), so a copy also
lands wherever the logs go. After storing it the writer appends an ``audit.checkpoint`` event naming
it: the (MACed) chain then says which checkpoint must exist, so an emptied or swapped store shows.

The writer never signs a chain it has not checked: the previous checkpoint's event must still have
its hash, and every event since must link and MAC (a short walk); otherwise it refuses (and the
worker logs an error each round). ``force`` (``portal audit checkpoint --force``, e.g. after
restoring an older backup on purpose) walks the whole chain instead of trusting the previous one.

Written by the job worker (``Ticker``: every PORTAL_AUDIT_CHECKPOINT_SECONDS when events other than
checkpoint events were added), ``portal backup``, ``portal rotate-keys`` and ``portal audit
checkpoint``. What stays unprovable: deleting events newer than the last checkpoint (verify says how
many there are), and rolling back the database and the store together — keep ``audit-checkpoints/``
in a versioned or object-locked bucket (or back it up apart) and ship the log.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from sqlmodel import Session, select

from patient_portal.core import audit
from patient_portal.core.audit import CHECKPOINT_ACTION, AuditEvent, Walk, walk_chain
from patient_portal.core.crypto import DecryptionError, KeyRing, get_keyring
from patient_portal.core.db import read_only, unit_of_work
from patient_portal.core.storage import BlobNotFound, BlobStore, BlobStoreError, get_blob_store
from patient_portal.settings import get_settings

log = logging.getLogger(__name__)

PREFIX = "audit-checkpoints/"
LATEST = PREFIX + "latest.json"
PURPOSE = "audit-checkpoint"
FORMAT = "portal-audit-checkpoint/1"
MAX_BYTES = 4096


class CheckpointError(Exception):
    """A checkpoint cannot be written or trusted; the message says why."""


class CheckpointInvalid(CheckpointError):
    """A stored checkpoint is unreadable, forged or altered (its signature does not verify)."""


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    at: str  # ISO 8601 UTC
    key_id: str
    signature: str

    @property
    def key(self) -> str:
        """Its own object key: dated folders, so a store holding years of them stays listable."""
        return f"{PREFIX}{self.at[:10].replace('-', '/')}/{self.seq:012d}.json"

    def to_bytes(self) -> bytes:
        return json.dumps({"format": FORMAT, **asdict(self)}, sort_keys=True, indent=1).encode()

    def log_line(self) -> str:
        return (f"seq={self.seq} hash={self.hash} at={self.at} key_id={self.key_id} "
                f"signature={self.signature} object={self.key}")


def _signature(ring: KeyRing, seq: int, head_hash: str, at: str, key_id: str) -> str:
    body = json.dumps({"format": FORMAT, "seq": seq, "hash": head_hash, "at": at, "key_id": key_id},
                      sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(ring.mac_key(key_id, PURPOSE), body, hashlib.sha256).hexdigest()


def sign(seq: int, head_hash: str, ring: KeyRing | None = None, at: datetime | None = None) -> Checkpoint:
    """A checkpoint of the head (`seq`, `head_hash`) signed under the active key."""
    ring = ring or get_keyring()
    stamp = (at or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return Checkpoint(seq, head_hash, stamp, ring.active_kid,
                      _signature(ring, seq, head_hash, stamp, ring.active_kid))


def parse(raw: bytes, ring: KeyRing | None = None) -> Checkpoint:
    """The checkpoint in `raw`, after checking its signature; CheckpointInvalid otherwise."""
    ring = ring or get_keyring()
    try:
        data = json.loads(raw)
        if data.get("format") != FORMAT:
            raise ValueError
        cp = Checkpoint(int(data["seq"]), str(data["hash"]), str(data["at"]), str(data["key_id"]),
                        str(data["signature"]))
    except (ValueError, KeyError, TypeError, AttributeError):
        raise CheckpointInvalid("is not a readable checkpoint") from None
    try:
        expected = _signature(ring, cp.seq, cp.hash, cp.at, cp.key_id)
    except DecryptionError:
        raise CheckpointInvalid(f"is signed with key {cp.key_id!r}, which is not in the key ring") from None
    if not hmac.compare_digest(expected, cp.signature):
        raise CheckpointInvalid("has a bad signature (altered or forged)")
    return cp


def read(store: BlobStore, key: str, ring: KeyRing | None = None) -> Checkpoint | None:
    """The checkpoint stored under `key`, or None when there is none.

    Raises BlobStoreError when the store cannot be read, CheckpointInvalid when the object is not
    a checkpoint signed by this ring (the message names the object)."""
    try:
        raw = b"".join(store.get(key))
    except BlobNotFound:
        return None
    if len(raw) > MAX_BYTES:
        raise CheckpointInvalid(f"checkpoint {key} is not a readable checkpoint")
    try:
        return parse(raw, ring)
    except CheckpointInvalid as exc:
        raise CheckpointInvalid(f"checkpoint {key} {exc}") from None


def hash_at(session: Session, seq: int) -> str | None:
    """The chain hash of event `seq` (None when there is none)."""
    return session.exec(select(AuditEvent.hash).where(AuditEvent.seq == seq)).first()


class Verifier:
    """Holds a walked chain against the stored checkpoints (``verify_chain`` uses it).

    Create it BEFORE walking: ``latest.json`` is read first, so a checkpoint written while the walk
    runs (covering events the walk's snapshot cannot see) is never mistaken for deleted events."""

    UNAVAILABLE = ("checkpoint store unavailable ({}): cannot prove that no newest events were deleted "
                   "(check PORTAL_S3_* or the instance blob folder)")

    def __init__(self, store: BlobStore | None = None):
        self.store = store or get_blob_store()
        self.problems: list[tuple[int | None, str]] = []
        self.available = True
        self.latest: Checkpoint | None = None
        try:
            self.latest = read(self.store, LATEST)
        except BlobStoreError as exc:
            self.available = False
            self.problems.append((None, self.UNAVAILABLE.format(exc)))
        except CheckpointInvalid as exc:
            self.problems.append((None, str(exc)))

    def check(self, session: Session, walk: Walk) -> tuple[Checkpoint | None, list[tuple[int | None, str]]]:
        """(checkpoint used, problems). The checkpoint used is the newest valid one of ``latest.json``
        and the one the chain's last ``audit.checkpoint`` event names. Problems: the store cannot be
        read; a checkpoint does not verify; the chain names a checkpoint the store lacks; the chain is
        shorter than the checkpoint or differs from it at the checkpoint's event."""
        problems = list(self.problems)
        if not self.available:
            return None, problems
        chosen = self.latest
        if walk.attested and (chosen is None or chosen.seq < walk.attested[0]):
            seq, key = walk.attested
            named = None
            try:
                named = read(self.store, key)
            except BlobStoreError as exc:
                return None, problems + [(None, self.UNAVAILABLE.format(exc))]
            except CheckpointInvalid as exc:
                problems.append((seq, str(exc)))
            else:
                if named is None:
                    problems.append((seq, f"the checkpoint store has no {key}, which the chain records as "
                                     f"the checkpoint of event {seq}: checkpoints were deleted, or the "
                                     "portal points at another store"))
                elif named.seq != seq:
                    problems.append((seq, f"checkpoint {key} covers event {named.seq}, not event {seq} as "
                                     "the chain records"))
                    named = None
            chosen = named or chosen
        if chosen is not None:
            if walk.head_seq < chosen.seq:
                problems.append((walk.head_seq + 1, f"the chain ends at event {walk.head_seq} but the checkpoint "
                                 f"of {chosen.at} covers event {chosen.seq}: the newest events were deleted"))
            elif hash_at(session, chosen.seq) != chosen.hash:
                problems.append((chosen.seq, f"event {chosen.seq} differs from the checkpoint of {chosen.at} "
                                 "(the chain was rewritten)"))
        return chosen, problems


def write_checkpoint(*, force: bool = False, store: BlobStore | None = None) -> Checkpoint | None:
    """Check the chain since the previous checkpoint (all of it when `force` or none yet), sign its
    head, store it (dated object, then latest.json), log it, and record an audit.checkpoint event.

    Returns None when the chain is empty. Raises CheckpointError when the chain or the previous
    checkpoint does not check out (nothing is signed), BlobStoreError when the store is unavailable."""
    ring = get_keyring()
    store = store or get_blob_store()
    previous = None
    if not force:
        try:
            previous = read(store, LATEST, ring)
        except CheckpointInvalid as exc:
            raise CheckpointError(f"{exc}; not signing a new one (run `portal audit verify`)") from None
    with read_only() as session:
        if previous is not None:
            if hash_at(session, previous.seq) != previous.hash:
                raise CheckpointError(f"the audit chain no longer matches the checkpoint of {previous.at} "
                                      f"(event {previous.seq}); not signing (run `portal audit verify`)")
            walk = walk_chain(session, after_seq=previous.seq, after_hash=previous.hash, ring=ring)
        else:
            walk = walk_chain(session, ring=ring)
    if not walk.ok:
        raise CheckpointError(f"audit chain problem: {walk.problems[0][1]}; not signing "
                              "(run `portal audit verify`)")
    if walk.head_seq == 0:
        return None
    cp = sign(walk.head_seq, walk.head_hash, ring)
    data = cp.to_bytes()
    store.put(cp.key, [data])
    store.put(LATEST, [data])
    log.info("audit checkpoint %s", cp.log_line())
    with unit_of_work() as session:
        audit.record(session, None, CHECKPOINT_ACTION, object_type="audit_checkpoint", object_id=cp.seq,
                     detail={"seq": cp.seq, "key": cp.key})
    return cp


def write_if_moved(store: BlobStore | None = None) -> Checkpoint | None:
    """Write a checkpoint when events other than checkpoint events were added since the latest one."""
    store = store or get_blob_store()
    latest = read(store, LATEST)
    if latest is not None:
        with read_only() as session:
            moved = session.exec(select(AuditEvent.seq).where(
                AuditEvent.seq > latest.seq, AuditEvent.action != CHECKPOINT_ACTION).limit(1)).first()
        if moved is None:
            return None
    return write_checkpoint(store=store)


class Ticker:
    """The job worker's hook: ``tick()`` each round writes a checkpoint once every
    PORTAL_AUDIT_CHECKPOINT_SECONDS (0 turns it off) if the chain moved. The first comes one interval
    after start, so a short-lived worker adds nothing to the chain."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._last = clock()

    def tick(self) -> Checkpoint | None:
        interval = get_settings().audit_checkpoint_seconds
        if interval <= 0 or self._clock() - self._last < interval:
            return None
        self._last = self._clock()
        try:
            return write_if_moved()
        except (CheckpointError, BlobStoreError) as exc:  # an alarm for the operator; the worker goes on
            log.error("audit checkpoint not written: %s", exc)
            return None
