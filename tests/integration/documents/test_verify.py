"""`portal storage verify`: every stored file read back against its row, in batches, on both stores.

It is where the SHA-256 kept at upload is checked now that downloads trust the frames alone, and it
names a failing file by document and version — never by title, file name or patient.
"""

from __future__ import annotations

import pytest
from sqlmodel import select

from patient_portal import cli
from patient_portal.core.crypto import FILE_CHUNK
from patient_portal.core.db import unit_of_work
from patient_portal.core.storage import get_blob_store
from patient_portal.domain.documents import service as svc
from patient_portal.domain.documents.models import DocumentVersion
from patient_portal.domain.documents.verify import verify
from tests.integration.documents.conftest import PDF_BYTES, chunks_of, meta

BIG = b"%PDF-1.7\n" + b"0123456789" * (FILE_CHUNK // 4) + b"\n%%EOF\n"  # three frames


@pytest.fixture(params=["local", "s3"])
def backend(request, db):
    if request.param == "s3":
        request.getfixturevalue("s3_settings")
    return request.param


def _version(document_id) -> DocumentVersion:
    with unit_of_work() as session:
        return session.exec(select(DocumentVersion).where(DocumentVersion.document_id == document_id)).one()


def _upload(cast, title: str, data: bytes = PDF_BYTES, filename: str = "lab.pdf"):
    return svc.upload(cast.doctor, patient_id=cast.patient_id, meta=meta(title=title, source="Oncology Ward"),
                      filename=filename, chunks=chunks_of(data, FILE_CHUNK))


def _flip(document_id, offset: int) -> None:
    store = get_blob_store()
    key = _version(document_id).object_key
    raw = bytearray(b"".join(store.get(key)))
    raw[offset] ^= 0x01
    store.put(key, [bytes(raw)])


def test_verify_finds_each_damaged_file_and_names_it_by_document_only(cast, backend, capsys):
    intact = [_upload(cast, f"Fine {i}") for i in range(3)]
    early = _upload(cast, "Biopsy Maria Garcia", filename="maria-garcia-biopsy.pdf")
    late = _upload(cast, "Big scan", BIG, filename="garcia-scan.pdf")
    _flip(early.id, 30)  # first frame
    _flip(late.id, 16 + 2 * (FILE_CHUNK + 16) + 9)  # the last frame of three
    wrong_sum = _upload(cast, "Sum")
    with unit_of_work() as session:  # the row's recorded SHA-256 no longer matches the (intact) file
        row = session.exec(select(DocumentVersion).where(DocumentVersion.document_id == wrong_sum.id)).one()
        row.sha256 = "0" * 64
        session.add(row)

    batches: list[int] = []
    report = verify(batch=2, on_batch=lambda number, checked, failures: batches.append(checked))
    assert report.checked == 6 and report.batches == 3 and batches == [2, 2, 2]
    failed = {f.document_id: f for f in report.failures}
    assert set(failed) == {early.id, late.id, wrong_sum.id}
    assert "does not decrypt" in failed[early.id].reason
    assert "part-way" in failed[late.id].reason
    assert "SHA-256" in failed[wrong_sum.id].reason
    assert not {d.id for d in intact} & set(failed)

    assert cli.main(["storage", "verify", "--batch", "4"]) == 2
    out = capsys.readouterr()
    for doc in (early, late, wrong_sum):
        assert f"FAILED: document {doc.id} version 1:" in out.err
    assert "batch 1: 4 files checked" in out.out and "batch 2: 2 files checked" in out.out
    assert "checked 6 stored files in 2 batches: 3 intact, 3 failed" in out.out
    shown = out.out + out.err
    for phi in ("Maria", "Garcia", "garcia", "Biopsy", "Oncology", "Big scan", ".pdf", str(cast.patient_id)):
        assert phi not in shown


def test_verify_reports_a_missing_file_and_passes_a_clean_store(cast, backend, capsys):
    kept = _upload(cast, "Kept", BIG)
    assert cli.main(["storage", "verify"]) == 0
    assert "checked 1 stored files in 1 batches: 1 intact, 0 failed" in capsys.readouterr().out
    gone = _upload(cast, "Gone")
    get_blob_store().delete(_version(gone.id).object_key)
    report = verify()
    assert [(f.document_id, f.version, f.reason) for f in report.failures] == [(gone.id, 1, "the stored file is missing")]
    assert b"".join(svc.open_file(cast.doctor, document_id=kept.id).chunks) == BIG


def test_verify_checks_every_version_of_a_document(cast, backend):
    doc = _upload(cast, "Two versions")
    svc.upload_version(cast.doctor, document_id=doc.id, filename="lab-2.pdf", chunks=[PDF_BYTES.replace(b"5.6", b"5.9")])
    report = verify()
    assert report.ok and report.checked == 2


def test_the_check_itself_is_in_the_audit_trail(db):
    from patient_portal.domain.documents.verify import verify
    from tests.integration.identity_support import events

    verify()
    [event] = events("storage.verify")
    assert event.outcome == "success" and event.detail["failed"] == 0
