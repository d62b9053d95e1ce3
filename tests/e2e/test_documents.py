"""Documents in the real app: a doctor uploads a lab result for Maria Garcia, the patient downloads it,
staff never see it, and oversized or disguised files are refused with a message."""

from __future__ import annotations

import json
import random
import string
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import (
    api_upload_document,
    assert_accessible,
    assert_fits_phone,
    choose,
    new_page,
    open_maria,
    sign_in,
)
from tests.samples import one_page_pdf

# Repeated on the scaled-out run: files on S3 and their downloads through either app worker.
pytestmark = pytest.mark.scaled_out

PASSWORD = "demo-clinic-2026"
TITLE = "Lipid panel " + "".join(random.choice(string.ascii_uppercase) for _ in range(5))
MiB = 1024 * 1024


PDF = one_page_pdf()


def _row(page: Page, title: str):
    return page.locator("#doc-table tr", has_text=title)


def _open_upload(page: Page) -> None:
    """The upload form is folded under "Add documents" so the list comes first; open it by keyboard."""
    toggle = page.locator("#doc-upload-toggle")
    expect(page.locator("#doc-title")).to_be_hidden()
    toggle.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#doc-title")).to_be_visible()
    expect(page.get_by_text("Choose files")).to_be_visible()


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("docs")
    paths = {"pdf": folder / "lipid-panel.pdf", "big": folder / "big-scan.pdf", "exe": folder / "results.pdf"}
    paths["pdf"].write_bytes(PDF)
    paths["big"].write_bytes(b"%PDF-1.4\n" + b"0" * (26 * MiB))
    paths["exe"].write_bytes(b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 4096)
    return paths


@pytest.fixture(scope="module")
def uploaded(browser, app_url, files) -> dict[str, str]:
    """The demo doctor finds Maria Garcia and uploads a PDF lab result to her chart's documents."""
    page = new_page(browser, app_url)
    sign_in(page, "doctor@demo.clinic", wait=True)
    patient_id = open_maria(page)
    page.locator("#chart-documents-link").click()
    page.wait_for_url(f"**/chart/{patient_id}/documents")
    _open_upload(page)
    page.locator("#doc-files").set_input_files(str(files["pdf"]))
    choose(page, "doc-category", "Lab result")
    page.locator("#doc-title").fill(TITLE)
    page.locator("#doc-date").fill("2026-01-15")
    page.locator("#doc-source").fill("City Lab")
    page.locator("#doc-upload-submit").click()
    expect(page.locator("#doc-upload-progress li[data-outcome=uploaded]")).to_have_count(1)
    expect(_row(page, TITLE)).to_be_visible()
    page.context.close()
    return {"patient_id": patient_id}


def test_doctor_sees_the_uploaded_lab_result_with_a_preview(page, uploaded):
    sign_in(page, "doctor@demo.clinic", wait=True)
    page.goto(f"/chart/{uploaded['patient_id']}/documents")
    row = _row(page, TITLE)
    expect(row).to_contain_text("Lab result")
    expect(row).to_contain_text("City Lab")
    with page.expect_response(lambda r: "/preview?" in r.url) as preview:
        row.get_by_role("button", name=f"Preview {TITLE}").click()
    response = preview.value
    # the preview is the PDF's first page drawn as an image (phone browsers show no inline PDFs)
    assert response.status == 200 and response.headers["content-type"] == "image/png"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-disposition"].startswith("inline")
    image = page.locator("#doc-preview-image")
    expect(image).to_be_visible()
    page.wait_for_function("document.querySelector('#doc-preview-image').naturalWidth > 300")
    assert_accessible(page)


def test_patient_downloads_the_same_bytes(page, uploaded):
    sign_in(page, "patient@demo.clinic", wait=True)
    page.goto("/patient/documents")
    row = _row(page, TITLE)
    expect(row).to_be_visible()
    with page.expect_download() as download:
        row.get_by_role("button", name=f"Download {TITLE}").click()
    assert Path(download.value.path()).read_bytes() == PDF
    assert_accessible(page)


def test_staff_cannot_see_the_lab_result(page, uploaded):
    sign_in(page, "staff@demo.clinic", wait=True)
    page.goto(f"/chart/{uploaded['patient_id']}/documents")
    expect(page.locator("#doc-count")).to_be_visible()
    expect(page.locator("#chart-name")).to_have_text("Maria Garcia")  # the one chart header, on this page too
    expect(page.get_by_text(TITLE)).to_have_count(0)
    expect(page.locator("#doc-filter-category")).to_be_hidden()  # folded until asked for
    page.locator("#doc-filter-toggle").click()
    page.locator("#doc-filter-category").click()
    expect(page.get_by_role("option", name="Lab result")).to_have_count(0)


def test_oversized_file_and_renamed_executable_are_refused_with_messages(page, uploaded, files):
    sign_in(page, "doctor@demo.clinic", wait=True)
    page.goto(f"/chart/{uploaded['patient_id']}/documents")
    _open_upload(page)
    page.locator("#doc-files").set_input_files([str(files["big"]), str(files["exe"])])
    choose(page, "doc-category", "Lab result")
    page.locator("#doc-upload-submit").click()
    refused = page.locator("#doc-upload-progress li[data-outcome=refused]")
    expect(refused).to_have_count(2)
    expect(refused.filter(has_text="big-scan.pdf")).to_contain_text("larger than 25 MB")
    expect(refused.filter(has_text="results.pdf")).to_contain_text("program or script")
    # a refused file shows a failed state — a red "Not uploaded" with the reason — never a (full) bar,
    # though the renamed executable's whole body was sent before the server refused it
    expect(refused.locator("progress")).to_have_count(0)
    expect(refused.locator(".portal-upload-failed")).to_have_count(2)
    expect(refused.filter(has_text="results.pdf")).to_contain_text("Not uploaded: ")
    expect(page.locator("#doc-upload-progress li[data-outcome=uploaded]")).to_have_count(0)
    expect(page.locator("#doc-error")).to_contain_text("2 files were not uploaded")
    # the server holds the same line when the page's own check is bypassed
    meta = {"patient_id": uploaded["patient_id"], "category": "lab_result", "title": "Big",
            "filename": "big-scan.pdf"}
    answer = page.request.post("/api/documents", data=files["big"].read_bytes(),
                               headers={"X-Document-Meta": quote(json.dumps(meta))})
    assert answer.status == 413 and "larger than 25 MB" in answer.json()["detail"]
    expect(_row(page, "Big")).to_have_count(0)


def test_patient_documents_fit_a_phone(phone_page, uploaded):
    sign_in(phone_page, "patient@demo.clinic", wait=True)
    phone_page.goto("/patient/documents")
    expect(phone_page.locator(f"text={TITLE} >> visible=true").first).to_be_visible()
    assert_fits_phone(phone_page)
    assert_accessible(phone_page)


def test_hold_until_discussed_shows_the_patient_only_when_it_will_be_released(page, browser, app_url, uploaded):
    title = "Biopsy " + TITLE[-5:]
    sign_in(page, "doctor@demo.clinic", wait=True)
    api_upload_document(page, uploaded["patient_id"], title, PDF)
    page.goto(f"/chart/{uploaded['patient_id']}/documents")
    _row(page, title).get_by_role("button", name=f"More actions for {title}").click()
    page.get_by_role("menuitem", name="Hold until discussed…").click()
    page.locator("#doc-hold-date").fill("2099-01-31")
    page.locator("#doc-hold-save").click()
    expect(_row(page, title)).to_contain_text("Held from patient until Sat 31 Jan 2099")

    patient = browser.new_context(base_url=app_url, viewport={"width": 1280, "height": 900}).new_page()
    sign_in(patient, "patient@demo.clinic", wait=True)
    patient.goto("/patient/documents")
    held = patient.locator("#doc-table tr", has_text="Available from Sat 31 Jan 2099")
    expect(held).to_contain_text("Imaging report")
    expect(held).not_to_contain_text(title)
    expect(held.get_by_role("button", name="Download")).to_have_count(0)
    patient.context.close()


def test_a_pdf_that_cannot_be_drawn_says_so_and_offers_the_download(page, uploaded):
    title = "Scanned form " + TITLE[-5:]
    sign_in(page, "doctor@demo.clinic", wait=True)
    api_upload_document(page, uploaded["patient_id"], title, b"%PDF-1.7\n" + b"% damaged scan\n" * 30 + b"%%EOF\n")
    page.goto(f"/chart/{uploaded['patient_id']}/documents")
    _row(page, title).get_by_role("button", name=f"Preview {title}").click()
    expect(page.locator("#doc-preview-unavailable")).to_contain_text("can't be previewed")
    expect(page.get_by_role("dialog").get_by_role("button", name="Download")).to_be_visible()


def test_corrected_file_becomes_a_new_version_and_the_old_one_stays(page, uploaded, tmp_path):
    title = "Echo report " + TITLE[-5:]
    sign_in(page, "doctor@demo.clinic", wait=True)
    api_upload_document(page, uploaded["patient_id"], title, PDF)
    page.goto(f"/chart/{uploaded['patient_id']}/documents")
    _row(page, title).get_by_role("button", name=f"More actions for {title}").click()
    page.get_by_role("menuitem", name="Upload corrected file").click()
    corrected = tmp_path / "echo-corrected.pdf"
    corrected.write_bytes(PDF.replace(b"LDL 96", b"LDL 97"))
    page.locator("#doc-version-file").set_input_files(str(corrected))
    page.locator("#doc-version-submit").click()
    expect(_row(page, title)).to_contain_text("Version 2")
    _row(page, title).get_by_role("button", name=f"More actions for {title}").click()
    page.get_by_role("menuitem", name="Versions").click()
    versions = page.locator("#doc-versions li")
    expect(versions).to_have_count(2)
    expect(versions.first).to_contain_text("Version 2 (current): echo-corrected.pdf")
    expect(versions.nth(1)).to_contain_text("Replaced by Dr. Dana Doctor")


def test_author_removes_with_a_reason_and_an_admin_can_restore(page, browser, app_url, uploaded):
    title = "Old referral " + TITLE[-5:]
    sign_in(page, "doctor@demo.clinic", wait=True)
    api_upload_document(page, uploaded["patient_id"], title, PDF)
    page.goto(f"/chart/{uploaded['patient_id']}/documents")
    _row(page, title).get_by_role("button", name=f"More actions for {title}").click()
    page.get_by_role("menuitem", name="Remove…").click()
    page.locator("#doc-remove-reason").fill("Uploaded to the wrong chart")
    page.locator("#doc-remove-confirm").click()
    expect(_row(page, title)).to_have_count(0)

    admin = browser.new_context(base_url=app_url, viewport={"width": 1280, "height": 900}).new_page()
    sign_in(admin, "admin@demo.clinic", wait=True)
    admin.goto(f"/chart/{uploaded['patient_id']}/documents")
    expect(admin.locator("#doc-count")).to_be_visible()
    admin.locator("#doc-filter-toggle").click()
    admin.locator("#doc-show-removed").click()
    expect(admin.locator("#doc-filtered")).to_be_visible()  # the folded panel says the list is narrowed
    removed = _row(admin, title)
    expect(removed).to_contain_text("Reason: Uploaded to the wrong chart")
    removed.get_by_role("button", name=f"More actions for {title}").click()
    admin.get_by_role("menuitem", name="Purge for good…").click()
    admin.locator("#doc-purge-confirm").click()
    expect(admin.get_by_role("alert")).to_contain_text("kept for 30 days")
    admin.keyboard.press("Escape")
    removed.get_by_role("button", name=f"More actions for {title}").click()
    admin.get_by_role("menuitem", name="Restore").click()
    expect(_row(admin, title)).not_to_contain_text("Removed")
    admin.context.close()
