"""An admin merges a duplicate patient record into the one kept and undoes it, in the real app: the
front desk registers the same person twice (the second time past the duplicate warning), the admin
merges on /admin/merge, the duplicate's allergy shows on the kept chart and the duplicate's chart
points there; "Undo merge" puts it back."""

from __future__ import annotations

import random
import string

from playwright.sync_api import Page, expect

from tests.e2e.helpers import assert_fits_phone, sign_in, sign_out
from tests.e2e.test_registration import fill_wizard
from tests.e2e.wizard_helpers import start_over

FAMILY = "Merle" + "".join(random.choice(string.ascii_lowercase) for _ in range(6))


def _register(page: Page, *, duplicate: bool, phone: str) -> str:
    page.goto("/staff/register")
    start_over(page)
    fill_wizard(page, FAMILY, phone=phone)
    if duplicate:
        expect(page.locator("#duplicates")).to_be_visible()
        page.locator("#different-person").click()
    page.locator("#wizard-confirm").click()
    href = page.get_by_role("link", name="Open the chart").get_attribute("href")
    return href.rsplit("/", 1)[-1]


def test_admin_merges_a_duplicate_and_undoes_it(page: Page):
    sign_in(page, "staff@demo.clinic", wait=True)
    keep = _register(page, duplicate=False, phone="+1 617 555 0181")
    dup = _register(page, duplicate=True, phone="+1 617 555 0182")
    sign_out(page)
    sign_in(page, "admin@demo.clinic", wait=True)
    page.goto(f"/chart/{keep}")
    expect(page.locator("#history-allergies")).to_contain_text("Shellfish")
    allergies_before = page.locator("#history-allergies").inner_text().count("Shellfish")

    page.goto(f"/admin/merge?keep={keep}&duplicate={dup}")
    expect(page.locator("#merge-keep")).to_contain_text(FAMILY)
    expect(page.locator("#merge-duplicate")).to_contain_text("Allergies")
    page.locator("#merge-open").click()
    page.locator("#merge-confirm").click()
    expect(page.locator("#merge-done")).to_contain_text("merged into")

    page.goto(f"/chart/{keep}")
    expect(page.locator("#history-allergies")).to_contain_text("Shellfish")
    assert page.locator("#history-allergies").inner_text().count("Shellfish") == allergies_before + 1
    page.goto(f"/chart/{dup}")
    expect(page.locator("#merged-into-link")).to_be_visible()

    page.goto("/admin/merge")
    page.locator(".merge-past").first.get_by_role("button", name="Unmerge").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Unmerge").click()
    expect(page.locator(".merge-past").first).to_contain_text("undone")
    page.goto(f"/chart/{dup}")
    expect(page.locator("#history-allergies")).to_contain_text("Shellfish")
    page.goto(f"/chart/{keep}")
    expect(page.locator("#history-allergies")).to_contain_text("Shellfish")
    assert page.locator("#history-allergies").inner_text().count("Shellfish") == allergies_before


def test_merge_page_fits_a_phone(phone_page: Page):
    sign_in(phone_page, "admin@demo.clinic", wait=True)
    phone_page.goto("/admin/merge")
    expect(phone_page.locator("#merge-query")).to_be_visible()
    assert_fits_phone(phone_page)
