"""The streaming SHA-256 gives hashlib's answer whether it hashes inline or on its helper thread."""

import hashlib
import os
import threading

import pytest

from patient_portal.core.digest import INLINE_BYTES, StreamDigest


@pytest.mark.parametrize("size", [0, 1, INLINE_BYTES, INLINE_BYTES + 1, 3 * 1024 * 1024 + 7])
@pytest.mark.parametrize("piece", [1000, 64 * 1024])
def test_matches_hashlib(size, piece):
    data = os.urandom(size)
    digest = StreamDigest()
    for start in range(0, size, piece):
        digest.update(memoryview(data)[start:start + piece])
    assert digest.hexdigest() == hashlib.sha256(data).hexdigest()


def test_close_stops_the_helper_thread():
    before = threading.active_count()
    digest = StreamDigest()
    digest.update(os.urandom(INLINE_BYTES + 1))
    assert threading.active_count() == before  # one piece past the inline part: no helper yet
    digest.update(b"more")
    assert threading.active_count() == before + 1
    digest.close()
    assert threading.active_count() == before
