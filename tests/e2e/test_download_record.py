"""Download my record in the real app (issue 16): the demo patient opens "Your health record" and
downloads her whole record as a readable PDF summary and as a FHIR Bundle (JSON) — every resource
of it hers; the card passes the accessibility check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import assert_accessible, sign_in

# Repeated on the scaled-out run: the record download assembled from PostgreSQL and S3.
pytestmark = pytest.mark.scaled_out


def test_the_patient_downloads_her_record_as_pdf_and_fhir_json(browser, app_url):
    ctx = browser.new_context(base_url=app_url, viewport={"width": 1280, "height": 900}, accept_downloads=True)
    ctx.set_default_timeout(20_000)
    page = ctx.new_page()
    sign_in(page, "patient@demo.clinic", wait=True)
    page.goto("/patient/record")
    card = page.locator("#download-record")
    expect(card).to_contain_text("Download your record")

    with page.expect_download() as pdf:
        page.locator("#download-record-pdf").click()
    data = Path(pdf.value.path()).read_bytes()
    assert data.startswith(b"%PDF-") and pdf.value.suggested_filename.startswith("health-record-")

    with page.expect_download() as fhir:
        page.locator("#download-record-json").click()
    bundle = json.loads(Path(fhir.value.path()).read_text())
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
    patient = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
    assert patient["name"][0]["family"] == "Garcia"
    kinds = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert {"Condition", "AllergyIntolerance", "MedicationStatement"} <= kinds
    assert_accessible(page)
    ctx.close()
