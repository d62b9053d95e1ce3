"""The coded problem list and medication list (issue 12) in the real app: a doctor types "type 2 diab"
into the Conditions picker, takes E11.9 from the list with the keyboard and saves it; adding a drug
already on the medication list is refused with the existing entry named."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import open_maria, sign_in

ROOT = Path(__file__).resolve().parents[2]


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
