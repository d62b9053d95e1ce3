"""Lab results in the real app (issue 12): the demo doctor sees Maria Garcia's new HbA1c on the
dashboard's "Results to review" card, opens it, sees the lipid panel already released, writes a comment
and releases the HbA1c behind the confirm; the patient sees it in "Your results" with the usual range
drawn as a bar, the flag in words and the comment, on a phone. The front desk cannot open the page."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.helpers import assert_accessible, assert_fits_phone, my_patients_row, new_page, sign_in

COMMENT = "Your HbA1c is a little above the usual range. We will check it again in three months."


def test_doctor_reviews_and_releases_the_hba1c_and_the_patient_sees_it(page, browser, app_url, maria):
    sign_in(page, "doctor@demo.clinic", wait=True)
    flags = my_patients_row(page).locator(".worklist-flag")
    expect(flags.filter(has_text="New results to review")).to_be_visible()  # the HbA1c waits for her doctor
    page.goto("/doctor")
    card = page.locator("#results-to-review-card")
    expect(card.get_by_role("link", name=re.compile("Maria Garcia"))).to_be_visible()
    card.get_by_role("link", name=re.compile("Maria Garcia")).first.click()
    page.wait_for_url("**/chart/*/results")
    expect(page.locator("#chart-name")).to_have_text("Maria Garcia")
    expect(page.locator("#results-to-review")).to_contain_text("1 to review")

    hba1c = page.locator(".result-panel").filter(has_text="Hemoglobin A1c")
    expect(hba1c.locator(".status-to_review")).to_have_text("To review")
    expect(hba1c.locator(".result-value")).to_have_text("6.1%")
    lipids = page.locator(".result-panel").filter(has_text="Lipid panel")
    expect(lipids.locator(".status-released")).to_have_text("Released to patient")
    assert_accessible(page)

    hba1c.get_by_label("Comment for the patient").fill(COMMENT)
    hba1c.locator(".release-button").click()
    expect(page.get_by_role("alertdialog")).to_contain_text("Release these results to the patient?")
    page.locator("#confirm-release").click()
    expect(page.get_by_text("Released to the patient")).to_be_visible()
    expect(hba1c.locator(".status-released")).to_have_text("Released to patient")
    expect(page.locator("#results-to-review")).to_have_count(0)

    # the released report on her timeline, and nothing left to review in My patients
    page.goto(f"/chart/{maria}/timeline")
    page.locator("#timeline-kind").click()
    page.get_by_role("option", name="Lab results").click()
    reports = page.locator("#timeline .timeline-item")
    expect(reports.first).to_have_attribute("data-kind", "results")
    assert set(reports.evaluate_all("els => els.map(e => e.dataset.kind)")) == {"results"}
    expect(reports.filter(has_text="Results: Hemoglobin A1c")).to_contain_text("released to the patient")
    expect(reports.filter(has_text="Results: Lipid panel")).to_contain_text("released to the patient")
    assert_accessible(page)
    expect(my_patients_row(page).locator(".worklist-flag", has_text="New results to review")).to_have_count(0)

    phone = browser.new_context(base_url=app_url, viewport={"width": 390, "height": 844})
    phone.set_default_timeout(20_000)
    mine = phone.new_page()
    sign_in(mine, "patient@demo.clinic", wait=True)
    mine.goto("/patient/results")
    expect(mine.get_by_role("heading", name="Your results", exact=True)).to_be_visible()
    shown = mine.locator(".own-result").filter(has_text="Hemoglobin A1c")
    expect(shown.locator(".result-value")).to_have_text("6.1%")
    expect(shown.locator(".flag-badge")).to_have_text("Higher than the usual range")
    expect(shown.locator(".range-bar")).to_be_visible()
    expect(shown.locator(".range-marker")).to_be_visible()
    expect(shown.locator(".doctor-comment")).to_contain_text(COMMENT)
    lipid_panel = mine.locator(".own-result").filter(has_text="Lipid panel")
    expect(lipid_panel.locator(".doctor-comment")).to_contain_text("LDL")
    assert_fits_phone(mine)
    assert_accessible(mine)
    phone.close()


def test_the_front_desk_cannot_open_results(browser, app_url, maria):
    page = new_page(browser, app_url)
    sign_in(page, "staff@demo.clinic", wait=True)
    page.goto(f"/chart/{maria}")
    expect(page.locator("#chart-results-link")).to_have_count(0)
    page.goto(f"/chart/{maria}/results")
    expect(page.locator("#not-permitted")).to_be_visible()
    expect(page.locator(".result-panel")).to_have_count(0)
    page.context.close()
