"""A checkpoint's signature covers every field and is bound to the key ring that made it."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from patient_portal.core import crypto
from patient_portal.core.audit_checkpoint import CheckpointInvalid, parse, sign


def _ring(*kids: str) -> crypto.KeyRing:
    return crypto.KeyRing(crypto.parse_keys(",".join(crypto.generate_key_spec(k) for k in kids)))


def test_a_signed_checkpoint_reads_back():
    ring = _ring("k1")
    cp = sign(42, "a" * 64, ring)
    assert parse(cp.to_bytes(), ring) == cp
    assert cp.key.startswith("audit-checkpoints/") and cp.key.endswith("/000000000042.json")


@pytest.mark.parametrize("field, value", [("seq", 41), ("hash", "b" * 64), ("at", "2020-01-01T00:00:00.000000Z")])
def test_any_changed_field_breaks_the_signature(field, value):
    ring = _ring("k1")
    cp = replace(sign(42, "a" * 64, ring), **{field: value})
    with pytest.raises(CheckpointInvalid, match="bad signature"):
        parse(cp.to_bytes(), ring)


def test_other_keys_and_garbage_are_refused():
    ring = _ring("k1")
    with pytest.raises(CheckpointInvalid, match="bad signature"):
        parse(sign(42, "a" * 64, _ring("k1")).to_bytes(), ring)  # same key id, someone else's key
    with pytest.raises(CheckpointInvalid, match="not in the key ring"):
        parse(sign(42, "a" * 64, _ring("k9")).to_bytes(), ring)
    for raw in (b"", b"[]", b"{}", json.dumps({"format": "x"}).encode()):
        with pytest.raises(CheckpointInvalid, match="not a readable checkpoint"):
            parse(raw, ring)
