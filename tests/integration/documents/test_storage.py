"""Document bytes at rest and in faults, on the local store and on moto's S3 server."""

from __future__ import annotations

import socket

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import func, select

from patient_portal import cli
from patient_portal.core.db import unit_of_work
from patient_portal.core.storage import S3BlobStore, get_blob_store
from patient_portal.domain.documents import service as svc
from patient_portal.domain.documents.blobs import DocumentDamaged, StorageUnavailable, UploadTooLarge
from patient_portal.domain.documents.filetypes import FileRefused
from patient_portal.domain.documents.models import Document, DocumentVersion
from patient_portal.domain.documents.sweep import sweep
from patient_portal.settings import reset_settings
from tests.integration.documents.conftest import ELF_BYTES, PDF_BYTES, chunks_of, meta

MiB = 1024 * 1024


@pytest.fixture(params=["local", "s3"])
def backend(request, db):
    """Run the test against the local folder store and against moto's S3 server."""
    if request.param == "s3":
        request.getfixturevalue("s3_settings")
    return request.param


def _raw_object(store, key: str) -> bytes:
    return b"".join(store.get(key))


def _version_row() -> DocumentVersion:
    with unit_of_work() as session:
        return session.exec(select(DocumentVersion)).one()


def _row_count() -> int:
    with unit_of_work() as session:
        return session.exec(select(func.count()).select_from(Document)).one()


def _overwrite(store, key: str, data: bytes) -> None:
    store.put(key, [data])


def test_stored_object_is_ciphertext_not_the_pdf(cast, backend):
    doc = svc.upload(cast.doctor, patient_id=cast.patient_id, meta=meta(), filename="lab.pdf",
                     chunks=chunks_of(PDF_BYTES))
    store = get_blob_store()
    assert (store.name == "s3") is (backend == "s3")
    row = _version_row()
    raw = _raw_object(store, row.object_key)
    assert not raw.startswith(b"%PDF") and b"HbA1c" not in raw
    assert row.object_key.startswith("doc/") and str(doc.id) not in row.object_key
    assert b"".join(svc.open_file(cast.patient, document_id=doc.id).chunks) == PDF_BYTES


def test_tampered_object_fails_with_a_clear_message(cast, backend):
    doc = svc.upload(cast.doctor, patient_id=cast.patient_id, meta=meta(), filename="lab.pdf",
                     chunks=chunks_of(PDF_BYTES))
    store = get_blob_store()
    key = _version_row().object_key
    raw = bytearray(_raw_object(store, key))
    raw[40] ^= 0x01
    _overwrite(store, key, bytes(raw))
    with pytest.raises(DocumentDamaged, match="failed its integrity check"):
        svc.open_file(cast.patient, document_id=doc.id)


def test_object_swapped_from_another_document_is_refused(cast, backend):
    first = svc.upload(cast.doctor, patient_id=cast.patient_id, meta=meta(), filename="a.pdf", chunks=[PDF_BYTES])
    svc.upload(cast.doctor, patient_id=cast.patient_id, meta=meta(title="B"), filename="b.pdf",
               chunks=[PDF_BYTES.replace(b"5.6", b"9.9")])
    store = get_blob_store()
    with unit_of_work() as session:
        a, b = (session.exec(select(DocumentVersion).where(DocumentVersion.document_id == first.id)).one(),
                session.exec(select(DocumentVersion).where(DocumentVersion.document_id != first.id)).one())
    _overwrite(store, a.object_key, _raw_object(store, b.object_key))
    with pytest.raises(DocumentDamaged):
        svc.open_file(cast.doctor, document_id=first.id)


def test_missing_object_is_a_clear_error(cast, backend):
    doc = svc.upload(cast.doctor, patient_id=cast.patient_id, meta=meta(), filename="lab.pdf", chunks=[PDF_BYTES])
    get_blob_store().delete(_version_row().object_key)
    with pytest.raises(DocumentDamaged, match="missing"):
        svc.open_file(cast.doctor, document_id=doc.id)


def test_oversized_stream_is_refused_without_being_buffered(cast, backend, monkeypatch):
    monkeypatch.setenv("PORTAL_MAX_UPLOAD_BYTES", str(3 * MiB))
    reset_settings()
    consumed = 0

    def endless_pdf():
        nonlocal consumed
        yield b"%PDF-1.7\n"
        consumed += 9
        for _ in range(200):  # 200 MiB if nobody stopped reading
            consumed += MiB
            yield b"0" * MiB

    with pytest.raises(UploadTooLarge, match="larger than 3 MB"):
        svc.upload(cast.doctor, patient_id=cast.patient_id, meta=meta(), filename="big.pdf", chunks=endless_pdf())
    assert consumed <= 4 * MiB + 9
    assert list(get_blob_store().keys()) == [] and _row_count() == 0


@pytest.mark.parametrize(("data", "name", "words"), [
    (ELF_BYTES, "results.pdf", "program"),
    (b"%PDF-1.4\n" + b"0" * (9 * MiB) + b"\ntrailer << /Root 1 0 R /Encrypt 5 0 R >>\n%%EOF", "x.pdf",
     "password-protected"),
    (b"a,b\n" * (3 * MiB) + b"\x00", "values.csv", "not plain text"),
])
def test_refused_files_leave_nothing_behind(cast, backend, data, name, words):
    with pytest.raises(FileRefused, match=words):
        svc.upload(cast.doctor, patient_id=cast.patient_id, meta=meta(), filename=name, chunks=chunks_of(data, MiB))
    store = get_blob_store()
    assert list(store.keys()) == [] and _row_count() == 0
    if backend == "s3":
        assert store.client.list_multipart_uploads(Bucket=store.bucket).get("Uploads", []) == []


def test_database_failure_after_the_object_was_written_removes_it(cast, backend, monkeypatch):
    def broken(*_a, **_k):
        raise OperationalError("INSERT", {}, Exception("database went away"))

    monkeypatch.setattr(svc.audit, "record", broken)
    with pytest.raises(OperationalError):
        svc.upload(cast.doctor, patient_id=cast.patient_id, meta=meta(), filename="lab.pdf", chunks=[PDF_BYTES])
    assert list(get_blob_store().keys()) == [] and _row_count() == 0


def test_sweep_reports_orphans_both_ways(cast, backend, capsys):
    kept = svc.upload(cast.doctor, patient_id=cast.patient_id, meta=meta(), filename="a.pdf", chunks=[PDF_BYTES])
    lost = svc.upload(cast.doctor, patient_id=cast.patient_id, meta=meta(), filename="b.pdf", chunks=[PDF_BYTES])
    store = get_blob_store()
    with unit_of_work() as session:
        lost_key = session.exec(select(DocumentVersion.object_key)
                                .where(DocumentVersion.document_id == lost.id)).one()
    store.delete(lost_key)
    store.put("doc/ab/orphan", [b"PPE1 leftover"])
    report = sweep()
    assert report.blobs_without_rows == ["doc/ab/orphan"]
    assert report.rows_without_blobs == [(lost.id, 1)]
    assert cli.main(["storage", "sweep", "--delete"]) == 2
    out = capsys.readouterr()
    assert "blob without row: doc/ab/orphan (removed)" in out.out
    assert f"row without blob: document {lost.id} version 1" in out.err
    assert not store.exists("doc/ab/orphan")
    assert b"".join(svc.open_file(cast.doctor, document_id=kept.id).chunks) == PDF_BYTES


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_s3_server_stopping_mid_upload_saves_nothing_and_a_retry_succeeds(cast, monkeypatch):
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        monkeypatch.setenv("PORTAL_S3_ENDPOINT_URL", endpoint)
        monkeypatch.setenv("PORTAL_S3_BUCKET", "portal-outage")
        monkeypatch.setenv("PORTAL_S3_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("PORTAL_S3_SECRET_ACCESS_KEY", "testing")
        reset_settings()
        S3BlobStore("portal-outage", endpoint_url=endpoint, access_key_id="testing",
                    secret_access_key="testing").ensure_bucket()
        payload = b"%PDF-1.7\n" + b"1" * (20 * MiB) + b"\n%%EOF\n"

        def stream_that_outlives_the_server():
            for index, chunk in enumerate(chunks_of(payload, MiB)):
                if index == 12:  # the first 8 MiB part is already in the bucket's multipart upload
                    server.stop()
                yield chunk

        with pytest.raises(StorageUnavailable, match="not answering"):
            svc.upload(cast.doctor, patient_id=cast.patient_id, meta=meta(), filename="scan.pdf",
                       chunks=stream_that_outlives_the_server())
        assert _row_count() == 0

        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        doc = svc.upload(cast.doctor, patient_id=cast.patient_id, meta=meta(), filename="scan.pdf",
                         chunks=chunks_of(payload, MiB))
        assert _row_count() == 1
        assert b"".join(svc.open_file(cast.patient, document_id=doc.id).chunks) == payload
        assert sweep().clean
    finally:
        server.stop()


def test_upload_stream_breaking_midway_leaves_nothing(cast, backend):
    def browser_goes_away():
        yield b"%PDF-1.7\n" + b"0" * MiB
        yield b"0" * (9 * MiB)  # past the first S3 multipart part
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        svc.upload(cast.doctor, patient_id=cast.patient_id, meta=meta(), filename="lab.pdf",
                   chunks=browser_goes_away())
    store = get_blob_store()
    assert list(store.keys()) == [] and _row_count() == 0
    if backend == "s3":
        assert store.client.list_multipart_uploads(Bucket=store.bucket).get("Uploads", []) == []
