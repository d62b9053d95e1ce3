"""Downloads are authenticated by the file's own AES-GCM frames, with no hashing pass of their own.

Each frame's tag covers its index, the last-frame flag and the object id, so a changed byte, frames
swapped, a file cut short or an object belonging to another version fail, on the local store and on
moto's S3 server alike. Damage in the first frame is found before anything is sent (a plain error);
damage further on stops the transfer part-way, and over HTTP — served by granian, the server Reflex
runs — the connection is dropped short of its Content-Length, so no client takes it for a whole file.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
import uuid

import httpx
import pytest
from sqlmodel import select

from patient_portal.api import documents as api_documents
from patient_portal.api.app import build_api
from patient_portal.core.audit import AuditEvent
from patient_portal.core.crypto import FILE_CHUNK, FILE_FRAME
from patient_portal.core.db import unit_of_work
from patient_portal.core.storage import get_blob_store
from patient_portal.domain.documents import service as svc
from patient_portal.domain.documents.blobs import DocumentDamaged
from patient_portal.domain.documents.models import DocumentVersion
from tests.integration.documents.conftest import chunks_of, meta

HEADER = 16  # magic, frame size, nonce prefix
#: Four frames: three full ones and a short last one.
DATA = b"%PDF-1.7\n" + os.urandom(3 * FILE_CHUNK + 5000).replace(b"/Encrypt", b"/Encrypz") + b"\n%%EOF\n"


@pytest.fixture(params=["local", "s3"])
def backend(request, db):
    if request.param == "s3":
        request.getfixturevalue("s3_settings")
    return request.param


def _frame(index: int) -> slice:
    start = HEADER + index * FILE_FRAME
    return slice(start, start + FILE_FRAME)


def _flip_in_frame_2(raw: bytes) -> bytes:
    out = bytearray(raw)
    out[_frame(2).start + 100] ^= 0x01
    return bytes(out)


def _swap_frames_1_and_2(raw: bytes) -> bytes:
    return raw[:_frame(1).start] + raw[_frame(2)] + raw[_frame(1)] + raw[_frame(3).start:]


def _cut_after_frame_2(raw: bytes) -> bytes:
    return raw[:_frame(3).start]  # at a frame boundary: frame 2 now ends the file but is not marked last


def _cut_inside_frame_2(raw: bytes) -> bytes:
    return raw[:_frame(2).start + 500]


MIDWAY = {"tampered frame": _flip_in_frame_2, "reordered frames": _swap_frames_1_and_2,
          "truncated at a frame boundary": _cut_after_frame_2, "truncated inside a frame": _cut_inside_frame_2}


def _upload(cast, data: bytes = DATA, title: str = "Scan"):
    return svc.upload(cast.doctor, patient_id=cast.patient_id, meta=meta(title=title), filename="scan.pdf",
                      chunks=chunks_of(data, FILE_CHUNK))


def _version(document_id) -> DocumentVersion:
    with unit_of_work() as session:
        return session.exec(select(DocumentVersion).where(DocumentVersion.document_id == document_id)).one()


def _damage(document_id, change) -> None:
    store = get_blob_store()
    key = _version(document_id).object_key
    store.put(key, [change(b"".join(store.get(key)))])


def _failed_reads(document_id) -> list[dict]:
    with unit_of_work() as session:
        return [e.detail for e in session.exec(select(AuditEvent).where(
            AuditEvent.action == "document.download", AuditEvent.outcome == "failed",
            AuditEvent.object_id == str(document_id))).all()]


def test_an_intact_multi_frame_file_downloads_whole(cast, backend):
    doc = _upload(cast)
    opened = svc.open_file(cast.patient, document_id=doc.id)
    assert opened.size_bytes == len(DATA) and b"".join(opened.chunks) == DATA
    assert _failed_reads(doc.id) == []


@pytest.mark.parametrize("damage", list(MIDWAY))
def test_damage_past_the_first_frame_stops_the_download_part_way(cast, backend, damage):
    doc = _upload(cast)
    _damage(doc.id, MIDWAY[damage])
    opened = svc.open_file(cast.patient, document_id=doc.id)  # the first frame is authentic
    got = bytearray()
    with pytest.raises(DocumentDamaged, match="part-way") as caught:
        for chunk in opened.chunks:
            got += chunk
    assert caught.value.midway
    assert 0 < len(got) < len(DATA) and bytes(got) == DATA[:len(got)]  # only authentic frames, in order
    assert len(got) <= 2 * FILE_CHUNK  # nothing from the damaged frame on
    assert _failed_reads(doc.id) == [{"reason": "integrity", "midway": True}]


def test_damage_in_the_first_frame_is_a_plain_error_before_anything_is_sent(cast, backend):
    doc = _upload(cast)
    _damage(doc.id, lambda raw: raw[:HEADER + 7] + bytes([raw[HEADER + 7] ^ 0x80]) + raw[HEADER + 8:])
    with pytest.raises(DocumentDamaged, match="failed its integrity check, so it was not sent") as caught:
        svc.open_file(cast.patient, document_id=doc.id)
    assert not caught.value.midway
    assert _failed_reads(doc.id) == [{"reason": "integrity", "midway": False}]


def test_a_file_and_key_of_another_version_are_refused_before_anything_is_sent(cast, backend):
    """Give one version's row another version's object and wrapped key: the key is bound to its own
    object id (and so is every frame), so nothing of the other file is released under this row."""
    mine, other = _upload(cast, title="Mine"), _upload(cast, DATA.replace(b"%%EOF", b"%%EOF\n%"), title="Other")
    store, theirs = get_blob_store(), _version(other.id)
    with unit_of_work() as session:
        row = session.exec(select(DocumentVersion).where(DocumentVersion.document_id == mine.id)).one()
        store.put(row.object_key, [b"".join(store.get(theirs.object_key))])
        row.wrapped_key = theirs.wrapped_key
        session.add(row)
    with pytest.raises(DocumentDamaged, match="not sent"):
        svc.open_file(cast.patient, document_id=mine.id)


# ---------------------------------------------------------------- over HTTP, served by granian


class _Served:
    """build_api() under granian (embedded, in a thread) on a free port; requests act as the role named
    in the X-Test-As header (the cookie's stand-in), looked up in `actors`."""

    def __init__(self) -> None:
        from granian.constants import Interfaces
        from granian.server.embed import Server

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.actors: dict[str, object] = {}
        self._server = Server(build_api(), address="127.0.0.1", port=self.port, interface=Interfaces.ASGI)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="granian-test", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._server.serve())

    def start(self) -> _Served:
        self._thread.start()
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("granian did not start")

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._server.stop)
        self._thread.join(10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture(scope="module")
def served():
    server = _Served()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(api_documents, "actor_for", lambda request: server.actors.get(request.headers.get("x-test-as", "")))
        server.start()
        yield server
        server.stop()


@pytest.fixture
def http(cast, served):
    served.actors.update(patient=cast.patient, doctor=cast.doctor)
    yield served
    served.actors.clear()


def _get(http, url: str, role: str = "patient") -> tuple[httpx.Response, bytes, BaseException | None]:
    """Stream a download to the end; returns the response, the bytes received, and how it broke off."""
    got = bytearray()
    with httpx.stream("GET", http.url + url, headers={"x-test-as": role}, timeout=30) as resp:
        try:
            for chunk in resp.iter_bytes():
                got += chunk
        except httpx.HTTPError as exc:
            return resp, bytes(got), exc
    return resp, bytes(got), None


def test_an_intact_file_downloads_over_http(cast, backend, http):
    doc = _upload(cast)
    resp, body, broke = _get(http, svc.link_for(cast.patient, document_id=doc.id, purpose="download"))
    assert broke is None and resp.status_code == 200 and body == DATA
    assert resp.headers["content-length"] == str(len(DATA))


@pytest.mark.parametrize("damage", ["tampered frame", "reordered frames", "truncated at a frame boundary"])
def test_damage_part_way_drops_the_http_connection_short_of_its_length(cast, backend, http, damage):
    doc = _upload(cast)
    _damage(doc.id, MIDWAY[damage])
    resp, body, broke = _get(http, svc.link_for(cast.patient, document_id=doc.id, purpose="download"))
    assert resp.status_code == 200 and resp.headers["content-length"] == str(len(DATA))  # it had started
    assert isinstance(broke, httpx.RemoteProtocolError)  # the client sees a failed download...
    assert len(body) < len(DATA) and body == DATA[:len(body)]  # ...never a whole-looking file
    assert _failed_reads(doc.id) == [{"reason": "integrity", "midway": True}]


def test_a_wholly_wrong_file_gets_a_clean_error_status_over_http(cast, backend, http):
    doc = _upload(cast)
    _damage(doc.id, lambda raw: raw[:HEADER] + bytes(b ^ 0xFF for b in raw[HEADER:HEADER + 64]) + raw[HEADER + 64:])
    resp, body, broke = _get(http, svc.link_for(cast.patient, document_id=doc.id, purpose="download"))
    assert broke is None and resp.status_code == 500
    assert "failed its integrity check" in body.decode() and b"%PDF" not in body
    assert "attachment" not in resp.headers.get("content-disposition", "")


def test_unknown_link_ids_still_answer_plainly_over_http(cast, backend, http):
    resp, body, broke = _get(http, f"/api/documents/{uuid.uuid4()}/download?v=1&t=x")
    assert broke is None and resp.status_code == 403
