"""The coded problem list, medication list and immunizations (issue 12) in the real app: a doctor types
"type 2 diab" into the Conditions picker, takes E11.9 from the list with the keyboard and saves it;
adding a drug already on the medication list is refused with the existing entry named; a vaccine is
picked from the CVX table with its dose, lot, site, route and who gave it, and the patient downloads
her immunization record (a PDF holding it) from "Your health record" on a phone."""

from __future__ import annotations

import random
import string
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import (
    PHONE,
    assert_accessible,
    assert_fits_phone,
    choose,
    new_page,
    open_maria,
    sign_in,
)

ROOT = Path(__file__).resolve().parents[2]
LOT = "ZS" + "".join(random.choice(string.digits) for _ in range(5))


@pytest.fixture(scope="module")
def icd10(app_url, app_env):
    """The e2e seed loads the small code sets only; the E11 codes of ICD-10-CM are enough here."""
    portal = Path(sys.executable).parent / "portal"
    subprocess.run([str(portal), "codes", "load", "--set", "icd10cm", "--icd10-prefix", "E11"], cwd=ROOT,
                   env=app_env, check=True)
    return app_url


def _open_maria(page: Page) -> None:
    sign_in(page, "doctor@demo.clinic", wait=True)
    open_maria(page)


def test_a_doctor_adds_e11_9_by_typing_words_and_a_duplicate_medication_is_refused(page: Page, icd10):
    _open_maria(page)
    conditions = page.locator("#history-conditions")
    page.locator("#add-conditions").click()
    picker = page.locator("#new-description")
    expect(picker).to_have_attribute("role", "combobox")
    picker.press_sequentially("type 2 diab", delay=40)
    options = page.locator("#new-description-options")
    expect(options.get_by_role("option").first).to_contain_text("E11.9")
    expect(picker).to_have_attribute("aria-expanded", "true")
    picker.press("Enter")  # the first match is highlighted: Enter takes it
    expect(options).to_have_count(0)
    expect(picker).to_have_value("Type 2 diabetes mellitus without complications")
    expect(page.locator("#new-code")).to_have_value("E11.9")
    page.locator("#save-new-conditions").click()
    expect(conditions).to_contain_text("Type 2 diabetes mellitus without complications")
    expect(conditions).to_contain_text("ICD-10-CM: E11.9")

    # Lisinopril is on Maria's list already: adding it again is refused, naming the entry on file
    page.locator("#add-medications").click()
    drug = page.locator("#new-name")
    drug.press_sequentially("lisino", delay=40)
    page.locator("#new-name-options").get_by_role("option", name="Lisinopril (ACE inhibitors)").click()
    expect(page.locator("#new-name-chosen")).to_contain_text("From the formulary")
    page.locator("#new-dose").fill("20 mg")
    page.locator("#save-new-medications").click()
    refused = page.locator("#add-error-medications")
    expect(refused).to_contain_text("Lisinopril is already on the medication list (10 mg, once daily")
    expect(refused).to_have_attribute("role", "alert")
    expect(page.locator("#history-medications").locator(".medications-row", has_text="Lisinopril")).to_have_count(1)


def test_a_doctor_records_a_vaccine_from_the_cvx_table_and_the_patient_prints_her_immunization_record(
        page: Page, browser, app_url):
    sign_in(page, "doctor@demo.clinic", wait=True)
    open_maria(page)
    vaccines = page.locator("#history-immunizations")
    page.locator("#add-immunizations").click()
    picker = page.locator("#new-vaccine")
    picker.press_sequentially("shingles", delay=40)
    expect(page.locator("#new-vaccine-options").get_by_role("option").first).to_contain_text("CVX 187")
    picker.press("Enter")
    expect(page.locator("#new-cvx")).to_have_value("187")
    page.locator("#new-given_on").fill("2025-11-04")
    page.locator("#new-dose_number").fill("1")
    page.locator("#new-lot").fill(LOT)
    choose(page, "new-site", "Left arm")
    choose(page, "new-route", "Intramuscular")
    page.locator("#new-given_by").fill("Dr. Dana Doctor")
    page.locator("#save-new-immunizations").click()
    row = vaccines.locator(".immunizations-row", has_text=LOT)
    expect(row).to_contain_text("Zoster")
    expect(row).to_contain_text("Site: Left arm")
    expect(vaccines.locator("#print-immunizations")).to_be_visible()  # the care team prints it from the chart

    mine = new_page(browser, app_url, viewport=PHONE, accept_downloads=True)
    sign_in(mine, "patient@demo.clinic", wait=True)
    mine.goto("/patient/record")
    own = mine.locator("#history-immunizations")
    expect(own).to_contain_text(LOT)
    expect(own.locator(".immunizations-row button")).to_have_count(0)  # she cannot edit or remove
    assert_accessible(mine)
    assert_fits_phone(mine)
    with mine.expect_download() as download:
        own.locator("#print-immunizations").click()
    assert download.value.suggested_filename.startswith("immunization-record-")
    data = open(download.value.path(), "rb").read()
    assert data.startswith(b"%PDF-")
    for words in (b"Immunization record", b"Patient: Maria Garcia", b"Date of birth: 12 Mar 1984", b"CVX 187",
                  b"Lot " + LOT.encode(), b"Site: Left arm", b"Given by: Dr. Dana Doctor", b"Tdap", b"CVX 115"):
        assert words in data, words
    mine.context.close()
