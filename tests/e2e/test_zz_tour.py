"""A tour of what each role sees, saved as screenshots for the README (test-artifacts/tour/).

Each stop asserts what a person would look for on that screen, so a broken screen fails here too.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from tests.e2e.helpers import api_upload_document, sign_in
from tests.samples import one_page_pdf

OUT = Path("test-artifacts/tour")


def _shot(page, name: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)


def _open_chart(page, name: str = "Maria Garcia") -> str:
    """From the doctor's patient search to the chart; returns the patient's id."""
    page.goto("/doctor/patients")
    page.locator("#patient-query").fill(name.split()[-1])
    page.locator("#search-submit").click()
    page.locator("#search-results").get_by_role("link", name=name).first.click()
    expect(page.locator("#chart-name")).to_have_text(name)
    return page.url.rstrip("/").rsplit("/", 1)[-1]


def test_doctor_tour(page):
    sign_in(page, "doctor@demo.clinic", wait=True)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")
    _shot(page, "doctor-dashboard")
    _open_chart(page)
    expect(page.get_by_text("Penicillin").first).to_be_visible()
    _shot(page, "doctor-chart")


def test_doctor_documents_tour(page):
    sign_in(page, "doctor@demo.clinic", wait=True)
    patient_id = _open_chart(page)
    api_upload_document(page, patient_id, "Lipid panel (tour)", one_page_pdf(), category="lab_result",
                        filename="lipid-panel.pdf")
    page.goto(f"/chart/{patient_id}/documents")
    row = page.locator("#doc-table tr", has_text="Lipid panel (tour)").first
    expect(row).to_contain_text("Lab result")
    _shot(page, "doctor-documents")
    row.get_by_role("button", name="Preview Lipid panel (tour)").click()
    page.wait_for_function("document.querySelector('#doc-preview-image')?.naturalWidth > 300")
    page.screenshot(path=str(OUT / "doctor-document-preview.png"))
    page.keyboard.press("Escape")
    page.locator("#doc-upload-toggle").click()
    expect(page.get_by_text("Drop files here, or choose them")).to_be_visible()
    _shot(page, "doctor-upload")


def test_staff_registration_tour(page):
    sign_in(page, "staff@demo.clinic", wait=True)
    page.goto("/staff/register")
    expect(page.locator("#step-title")).to_contain_text("Basic information")
    _shot(page, "staff-register")


def test_patient_tour_on_a_phone(phone_page):
    sign_in(phone_page, "patient@demo.clinic", wait=True)
    phone_page.goto("/patient/record")
    expect(phone_page.locator("#chart-name")).to_have_text("Maria Garcia")
    _shot(phone_page, "patient-record-phone")


def test_patient_documents_tour_on_a_phone(phone_page):
    sign_in(phone_page, "patient@demo.clinic", wait=True)
    phone_page.goto("/patient/documents")
    expect(phone_page.get_by_role("heading", level=1)).to_be_visible()
    _shot(phone_page, "patient-documents-phone")
