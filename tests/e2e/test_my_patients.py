"""My patients and the timeline in the real app (issue 12): the demo doctor's /doctor/patients opens
on their care-team list, where Maria Garcia carries a flag (the demo seed leaves her an unsigned
draft and unverified home readings); sorting by last visit reorders the list on the server; her
timeline opens from the list under the chart header and its red critical-information banner, and
filters by kind. The search stays below the list with its ids."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.helpers import assert_accessible, assert_fits_phone, new_page, sign_in


def _doctor(browser, app_url, **viewport) -> Page:
    page = new_page(browser, app_url, viewport=viewport or None)
    sign_in(page, "doctor@demo.clinic", wait=True)
    return page


def test_a_doctor_opens_my_patients_sorts_by_last_visit_and_opens_marias_timeline(browser, app_url):
    page = _doctor(browser, app_url)
    page.goto("/doctor/patients")
    table = page.locator("#my-patients")
    expect(table.locator(".worklist-row").first).to_be_visible()  # the list, not an empty search box
    expect(page.locator("th", has=page.locator("#sort-name"))).to_have_attribute("aria-sort", "ascending")
    expect(page.locator("#patient-query")).to_be_visible()  # the search stays on the page
    assert_accessible(page)

    # the demo doctor's care team is large (125): Maria Garcia, seen lately, leads by last visit
    page.locator("#sort-last_visit").click()
    header = page.locator("th", has=page.locator("#sort-last_visit"))
    expect(header).to_have_attribute("aria-sort", "descending")
    maria = table.locator(".worklist-row", has_text="Maria Garcia")
    expect(maria).to_be_visible()
    expect(maria.locator(".worklist-flag", has_text="Unsigned note")).to_be_visible()
    seen = page.locator(".worklist-row .worklist-last-visit").all_inner_texts()
    dated = [t for t in seen if t != "No signed visit yet"]
    assert seen[:len(dated)] == dated, seen  # patients seen come first, never-seen last

    maria.get_by_role("link", name="Timeline of Maria Garcia").click()
    page.wait_for_url("**/chart/*/timeline")
    expect(page.locator("#chart-name")).to_have_text("Maria Garcia")
    expect(page.locator("#critical-banner")).to_contain_text("Penicillin")
    events = page.locator("#timeline .timeline-item")
    expect(events.first).to_be_visible()
    kinds = set(events.evaluate_all("els => els.map(e => e.dataset.kind)"))
    assert len(kinds) >= 3, kinds  # one list of every kind (her visits are found with the filter below)

    page.locator("#timeline-kind").click()
    page.get_by_role("option", name="Visits").click()
    expect(page.locator("#timeline .timeline-item").first).to_have_attribute("data-kind", "visits")
    only = set(page.locator("#timeline .timeline-item").evaluate_all("els => els.map(e => e.dataset.kind)"))
    assert only == {"visits"}, only
    assert_accessible(page)


def test_my_patients_and_the_timeline_fit_a_phone(browser, app_url):
    page = _doctor(browser, app_url, width=390, height=844)
    page.goto("/doctor/patients")
    expect(page.get_by_role("button", name="Sort by last visit")).to_be_visible()
    page.get_by_role("button", name="Sort by last visit").click()
    expect(page.get_by_role("link", name="Maria Garcia").first).to_be_visible()
    assert_fits_phone(page)
