"""An admin opens the reports, sees charts drawn from the demo clinic's data, narrows them to one
doctor and downloads a report as CSV (on a phone, too); the front desk is told "Not permitted"."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from playwright.sync_api import expect

from tests.e2e.helpers import assert_accessible, assert_fits_phone, sign_in


def test_admin_sees_report_charts_and_downloads_csv(page):
    sign_in(page, "admin@demo.clinic", wait=True)
    page.get_by_role("link", name="Reports").first.click()
    expect(page).to_have_url(re.compile(r"/admin/reports$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Reports")
    # bars drawn from the demo clinic's records (its registrations, its patients' ages)
    expect(page.locator("#report-registrations .recharts-bar-rectangle")).not_to_have_count(0)
    ages = page.locator("#report-age_bands")
    expect(ages.locator(".recharts-bar-rectangle")).not_to_have_count(0)
    expect(ages).to_contain_text("35–49")
    with page.expect_download() as download:
        page.locator("#report-csv-age_bands").click()
    assert download.value.suggested_filename.startswith("report-age-bands-")
    rows = list(csv.reader(Path(download.value.path()).read_text().splitlines()))
    assert rows[0] == ["Age band", "Patients"]
    assert [r[0] for r in rows[1:8]] == ["0–17", "18–34", "35–49", "50–64", "65–74", "75–89", "90 and over"]
    assert all(r[1] == "<11" or r[1].replace(",", "").isdigit() for r in rows[1:])
    # one doctor: the page answers with that doctor's figures and the links carry the filter
    page.locator("#reports-doctor").select_option(label="Dr. Dana Doctor")
    page.locator("#reports-apply").click()
    expect(page.locator("#report-csv-appointments")).to_have_attribute("href", re.compile(r"doctor="))
    assert_accessible(page)


def test_reports_fit_a_phone(phone_page):
    sign_in(phone_page, "admin@demo.clinic", wait=True)
    phone_page.goto("/admin/reports")
    expect(phone_page.locator("#report-age_bands .recharts-bar-rectangle")).not_to_have_count(0)
    assert_fits_phone(phone_page)


def test_the_front_desk_is_not_permitted(page):
    sign_in(page, "staff@demo.clinic", wait=True)
    page.goto("/admin/reports")
    expect(page.locator("#not-permitted")).to_contain_text("Not permitted")
    expect(page.locator("#reports-list")).to_have_count(0)
