"""Stored files read frame by frame: what a reader hands out before it meets damage, and no more."""

from __future__ import annotations

import os
import struct

import pytest

from patient_portal.core import crypto
from patient_portal.core.crypto import DecryptionError
from patient_portal.core.storage import LocalBlobStore
from patient_portal.domain.documents import blobs

CHUNK = 1024
DATA = os.urandom(4 * CHUNK + 77)  # four full frames and a short one


@pytest.fixture
def sealed() -> tuple[bytes, bytes]:
    dek = os.urandom(32)
    return dek, b"".join(crypto.encrypt_stream([DATA], dek, "obj", chunk_size=CHUNK))


def test_frames_come_out_whole_and_in_order(sealed):
    dek, raw = sealed
    frames = [b"".join(f) for f in crypto.decrypt_frames([raw[i:i + 700] for i in range(0, len(raw), 700)], dek, "obj")]
    assert [len(f) for f in frames] == [CHUNK] * 4 + [77] and b"".join(frames) == DATA


def test_a_doctored_header_cannot_make_a_reader_buffer_the_whole_object(sealed):
    dek, raw = sealed
    huge = raw[:4] + struct.pack(">I", 2**31) + raw[8:]
    pulled = []

    def pieces():
        for i in range(0, len(huge), 100):
            pulled.append(i)
            yield huge[i:i + 100]

    with pytest.raises(DecryptionError):
        next(crypto.decrypt_frames(pieces(), dek, "obj"))
    assert len(pulled) == 1  # refused on the header, before the body was read


def _download(raw: bytes, size: int, tmp_path) -> blobs.Download:
    store = LocalBlobStore(tmp_path)
    dek, wrapped = crypto.new_data_key("obj")
    store.put("doc/x", crypto.encrypt_stream([raw], dek, "obj", chunk_size=CHUNK))
    return blobs.read_decrypted(store, object_key="doc/x", wrapped_key=wrapped.token, object_id="obj", size=size)


@pytest.mark.usefixtures("portal_env")
def test_a_file_longer_than_its_row_says_stops_before_the_excess(tmp_path):
    got = bytearray()
    with pytest.raises(blobs.DocumentDamaged) as caught:
        for piece in _download(DATA, len(DATA) - 10, tmp_path):
            got += piece
    assert caught.value.midway and len(got) <= len(DATA) - 10


@pytest.mark.usefixtures("portal_env")
def test_a_file_shorter_than_its_row_says_ends_in_an_error_not_quietly(tmp_path):
    got = bytearray()
    with pytest.raises(blobs.DocumentDamaged):
        for piece in _download(DATA, len(DATA) + 1, tmp_path):
            got += piece
    assert bytes(got) == DATA


@pytest.mark.usefixtures("portal_env")
def test_an_intact_file_reads_back_whole(tmp_path):
    assert b"".join(_download(DATA, len(DATA), tmp_path)) == DATA
