"""The document endpoints over HTTP: streaming upload limits, signed session-bound links, headers."""

from __future__ import annotations

import io
import json
import time
import uuid
from dataclasses import replace
from urllib.parse import quote

import httpx
import pytest
from PIL import Image
from sqlmodel import func, select

from patient_portal.api import documents as api_documents
from patient_portal.api.app import build_api
from patient_portal.core.db import unit_of_work
from patient_portal.core.storage import get_blob_store
from patient_portal.domain.documents import links, preview
from patient_portal.domain.documents import service as svc
from patient_portal.domain.documents.models import Document, DocumentVersion
from patient_portal.settings import reset_settings
from tests.document_samples import photo, png_declaring
from tests.integration.documents.conftest import ELF_BYTES, PDF_BYTES, PNG_BYTES, meta
from tests.samples import dicom_image

MiB = 1024 * 1024


@pytest.fixture
def client(cast, monkeypatch):
    """An HTTP client whose requests act as the role named in the X-Test-As header (the cookie's stand-in)."""
    actors = {name: getattr(cast, name) for name in ("admin", "doctor", "other_doctor", "staff", "patient",
                                                       "other_patient")}
    actors["patient_other_tab"] = replace(cast.patient, session_id=uuid.uuid4())
    monkeypatch.setattr(api_documents, "actor_for", lambda request: actors.get(request.headers.get("x-test-as", "")))
    transport = httpx.ASGITransport(app=build_api())
    return httpx.AsyncClient(transport=transport, base_url="http://localhost:3000")


def _headers(role: str, **fields) -> dict[str, str]:
    return {"x-test-as": role, "x-document-meta": quote(json.dumps(fields))}


def _upload_meta(cast, **extra) -> dict:
    return {"patient_id": str(cast.patient_id), "filename": "lab.pdf", **meta(**extra)}


def _rows() -> int:
    with unit_of_work() as session:
        return session.exec(select(func.count()).select_from(Document)).one()


async def test_doctor_uploads_a_pdf_then_patient_downloads_the_same_bytes(cast, client):
    resp = await client.post("/api/documents", content=PDF_BYTES, headers=_headers("doctor", **_upload_meta(cast)))
    assert resp.status_code == 201, resp.text
    doc_id = resp.json()["id"]
    url = svc.link_for(cast.patient, document_id=doc_id, purpose="download")
    got = await client.get(url, headers={"x-test-as": "patient"})
    assert got.status_code == 200 and got.content == PDF_BYTES
    assert got.headers["cache-control"] == "no-store"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-disposition"].startswith('attachment; filename="lab.pdf"')
    assert got.headers["content-type"] == "application/pdf"
    preview = await client.get(svc.link_for(cast.doctor, document_id=doc_id, purpose="preview"),
                               headers={"x-test-as": "doctor"})
    assert preview.status_code == 200 and preview.headers["content-disposition"].startswith("inline")
    assert preview.headers["cache-control"] == "no-store"
    # the preview is the first page drawn as an image, not the PDF itself
    assert preview.headers["content-type"] == "image/png" and preview.content.startswith(b"\x89PNG")
    assert "sandbox" in preview.headers["content-security-policy"]
    with Image.open(io.BytesIO(preview.content)) as page_one:
        dark = sum(1 for value in page_one.convert("L").getdata() if value < 128)
        assert page_one.width > 300 and dark > 100  # page width, and the line of text is drawn


async def test_pdf_that_cannot_be_drawn_gets_a_plain_message_and_still_downloads(cast, client):
    broken = b"%PDF-1.7\n" + b"% not really a page description\n" * 20 + b"%%EOF\n"
    resp = await client.post("/api/documents", content=broken, headers=_headers("doctor", **_upload_meta(cast)))
    assert resp.status_code == 201, resp.text
    doc_id = resp.json()["id"]
    preview = await client.get(svc.link_for(cast.doctor, document_id=doc_id, purpose="preview"),
                               headers={"x-test-as": "doctor"})
    assert preview.status_code == 422 and "can't be previewed" in preview.text
    got = await client.get(svc.link_for(cast.doctor, document_id=doc_id, purpose="download"),
                           headers={"x-test-as": "doctor"})
    assert got.status_code == 200 and got.content == broken


async def _uploaded_preview(cast, client, role: str, body: bytes, category: str, filename: str) -> httpx.Response:
    """Upload `body` as `role`, then fetch its preview through a link issued to that role."""
    resp = await client.post("/api/documents", content=body, headers=_headers(
        role, **{**_upload_meta(cast, category=category), "filename": filename}))
    assert resp.status_code == 201, resp.text
    return await client.get(svc.link_for(getattr(cast, role), document_id=resp.json()["id"], purpose="preview"),
                            headers={"x-test-as": role})


async def test_an_imaging_report_in_dicom_previews_as_an_image(cast, client):
    got = await _uploaded_preview(cast, client, "doctor", dicom_image(), "imaging_report", "chest.dcm")
    assert got.status_code == 200 and got.headers["content-type"] == "image/png"
    with Image.open(io.BytesIO(got.content)) as frame:
        assert frame.size == (96, 64)


async def test_tiff_preview_is_drawn_as_png(cast, client):
    buffer = io.BytesIO()
    Image.new("RGB", (640, 400), "white").save(buffer, format="TIFF")
    got = await _uploaded_preview(cast, client, "staff", buffer.getvalue(), "identity_document", "licence.tiff")
    assert got.status_code == 200 and got.headers["content-type"] == "image/png"
    with Image.open(io.BytesIO(got.content)) as drawn:
        assert drawn.size == (640, 400)


async def test_image_preview_is_drawn_afresh_and_sandboxed(cast, client):
    got = await _uploaded_preview(cast, client, "staff", PNG_BYTES, "insurance_card", "card.png")
    assert got.status_code == 200 and got.headers["content-type"] == "image/png"
    with Image.open(io.BytesIO(got.content)) as card:
        assert card.format == "PNG" and card.size == (48, 32)
    assert "sandbox" in got.headers["content-security-policy"] and got.headers["x-content-type-options"] == "nosniff"
    assert 'filename="card (preview).png"' in got.headers["content-disposition"]


async def test_a_png_declaring_60000_by_60000_pixels_is_not_previewed_but_downloads(cast, client, monkeypatch):
    bomb = png_declaring(60000, 60000)

    def started(*args, **kwargs):
        raise AssertionError("the render process was started")

    monkeypatch.setattr(preview.subprocess, "run", started)  # refused from the header: nothing decodes it
    got = await _uploaded_preview(cast, client, "staff", bomb, "insurance_card", "card.png")
    assert got.status_code == 422 and "can't be previewed" in got.text
    assert got.headers["content-type"].startswith("text/plain") and bomb not in got.content
    with unit_of_work() as session:
        doc_id = session.exec(select(Document.id)).one()
    download = await client.get(svc.link_for(cast.staff, document_id=doc_id, purpose="download"),
                                headers={"x-test-as": "staff"})
    assert download.status_code == 200 and download.content == bomb  # the file itself is still there


@pytest.mark.parametrize(("fmt", "filename", "media_type"), [("PNG", "scan.png", "image/png"),
                                                             ("JPEG", "photo.jpg", "image/jpeg")])
async def test_a_large_image_previews_re_encoded_within_the_cap(cast, client, fmt, filename, media_type):
    original = photo(fmt, (3200, 2400))
    got = await _uploaded_preview(cast, client, "staff", original, "insurance_card", filename)
    assert got.status_code == 200 and got.headers["content-type"] == media_type
    assert got.content != original and len(got.content) < len(original)
    assert int(got.headers["content-length"]) == len(got.content)
    with Image.open(io.BytesIO(got.content)) as drawn:
        assert drawn.format == fmt and max(drawn.size) == preview.MAX_SIDE <= 2048


@pytest.mark.parametrize(("role", "status"), [("", 401), ("staff", 403), ("other_doctor", 403),
                                              ("other_patient", 403)])
async def test_upload_refusals_by_role(cast, client, role, status):
    resp = await client.post("/api/documents", content=PDF_BYTES, headers=_headers(role, **_upload_meta(cast)))
    assert resp.status_code == status
    assert _rows() == 0


async def test_upload_with_missing_fields_names_them(cast, client):
    resp = await client.post("/api/documents", content=PDF_BYTES,
                             headers=_headers("doctor", **_upload_meta(cast, title="")))
    assert resp.status_code == 422 and "title" in resp.json()["errors"]


async def test_renamed_executable_is_refused_with_a_message(cast, client):
    resp = await client.post("/api/documents", content=ELF_BYTES,
                             headers=_headers("doctor", **{**_upload_meta(cast), "filename": "results.pdf"}))
    assert resp.status_code == 415
    assert "program" in resp.json()["detail"]
    assert list(get_blob_store().keys()) == [] and _rows() == 0


async def test_oversized_streamed_body_is_cut_off_at_the_limit(cast, client, monkeypatch):
    monkeypatch.setenv("PORTAL_MAX_UPLOAD_BYTES", str(2 * MiB))
    reset_settings()
    sent = 0

    async def body():
        nonlocal sent
        yield b"%PDF-1.7\n"
        for _ in range(400):  # 25 MiB in 64 KiB pieces, far over the limit
            sent += 64 * 1024
            yield b"0" * (64 * 1024)

    resp = await client.post("/api/documents", content=body(), headers=_headers("doctor", **_upload_meta(cast)))
    assert resp.status_code == 413 and "larger than 2 MB" in resp.json()["detail"]
    assert sent <= 2 * MiB + 256 * 1024
    assert list(get_blob_store().keys()) == [] and _rows() == 0


async def test_declared_oversized_body_is_refused_before_reading(cast, client, monkeypatch):
    monkeypatch.setenv("PORTAL_MAX_UPLOAD_BYTES", "1000")
    reset_settings()
    resp = await client.post("/api/documents", content=PDF_BYTES * 2, headers=_headers("doctor", **_upload_meta(cast)))
    assert resp.status_code == 413


async def test_new_version_over_http(cast, client):
    doc = svc.upload(cast.doctor, patient_id=cast.patient_id, meta=meta(), filename="lab.pdf", chunks=[PDF_BYTES])
    fixed = PDF_BYTES.replace(b"5.6", b"5.7")
    resp = await client.post(f"/api/documents/{doc.id}/versions", content=fixed,
                             headers=_headers("doctor", filename="lab-v2.pdf"))
    assert resp.status_code == 201 and resp.json()["version"] == 2
    denied = await client.post(f"/api/documents/{doc.id}/versions", content=fixed,
                               headers=_headers("staff", filename="lab-v3.pdf"))
    assert denied.status_code == 403


# ---------------------------------------------------------------- links


@pytest.fixture
def lab(cast):
    return svc.upload(cast.doctor, patient_id=cast.patient_id, meta=meta(), filename="lab.pdf", chunks=[PDF_BYTES])


async def test_link_expires_after_five_minutes(cast, client, lab):
    token = links.sign(document_id=lab.id, version=1, purpose="download", session_id=cast.patient.session_id,
                       now=time.time() - 301)
    resp = await client.get(f"/api/documents/{lab.id}/download?v=1&t={token}", headers={"x-test-as": "patient"})
    assert resp.status_code == 403 and "expired" in resp.text
    assert resp.headers["cache-control"] == "no-store"


async def test_link_is_bound_to_the_session_that_asked_for_it(cast, client, lab):
    url = svc.link_for(cast.patient, document_id=lab.id, purpose="download")
    assert (await client.get(url, headers={"x-test-as": "patient_other_tab"})).status_code == 403
    assert (await client.get(url, headers={"x-test-as": "doctor"})).status_code == 403
    assert (await client.get(url)).status_code == 401
    assert (await client.get(url, headers={"x-test-as": "patient"})).status_code == 200


async def test_a_file_keeps_its_own_stricter_headers(cast, client, lab):
    got = await client.get(svc.link_for(cast.patient, document_id=lab.id, purpose="download"),
                           headers={"x-test-as": "patient"})
    assert got.status_code == 200
    assert got.headers["referrer-policy"] == "no-referrer"  # not the app-wide same-origin
    assert got.headers["x-frame-options"] == "SAMEORIGIN"  # text previews are framed by the portal's own page


async def test_forged_or_mismatched_links_are_refused(cast, client, lab):
    url = svc.link_for(cast.patient, document_id=lab.id, purpose="download")
    for bad in (url[:-3] + "AAA", url.replace("/download", "/preview"), url.replace("v=1", "v=2"),
                url.replace(str(lab.id), str(uuid.uuid4())), f"/api/documents/{lab.id}/download"):
        resp = await client.get(bad, headers={"x-test-as": "patient"})
        assert resp.status_code == 403, bad


async def test_a_valid_link_does_not_bypass_the_policy(cast, client, lab):
    token = links.sign(document_id=lab.id, version=1, purpose="download", session_id=cast.staff.session_id)
    resp = await client.get(f"/api/documents/{lab.id}/download?v=1&t={token}", headers={"x-test-as": "staff"})
    assert resp.status_code == 403 and resp.content != PDF_BYTES


async def test_tampered_file_download_answers_with_a_message_not_bytes(cast, client, lab):
    store = get_blob_store()
    with unit_of_work() as session:
        key = session.exec(select(DocumentVersion.object_key)).one()
    raw = bytearray(b"".join(store.get(key)))
    raw[-5] ^= 0xFF
    store.put(key, [bytes(raw)])
    resp = await client.get(svc.link_for(cast.patient, document_id=lab.id, purpose="download"),
                            headers={"x-test-as": "patient"})
    assert resp.status_code == 500 and "integrity check" in resp.text
    assert "attachment" not in resp.headers.get("content-disposition", "")
