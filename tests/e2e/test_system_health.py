"""An admin opens system health on a phone and sees the checks, the job queue and sign-ins per day;
the front desk is told "Not permitted"."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.helpers import assert_accessible, assert_fits_phone, sign_in


def test_admin_opens_system_health_on_a_phone(phone_page):
    sign_in(phone_page, "admin@demo.clinic", wait=True)
    phone_page.goto("/admin/health")
    expect(phone_page.get_by_role("heading", level=1)).to_have_text("System health")
    checks = phone_page.locator("#health-checks")
    expect(checks).to_contain_text("database")
    expect(checks).to_contain_text("audit chain")
    expect(checks).to_contain_text("mail server")
    expect(phone_page.locator("#health-jobs-failed")).to_have_text("0")
    expect(phone_page.locator("#health-sessions")).not_to_have_text("0")
    expect(phone_page.locator("#health-sign-ins")).to_be_attached()
    assert_accessible(phone_page)
    assert_fits_phone(phone_page)


def test_the_front_desk_is_not_permitted(page):
    sign_in(page, "staff@demo.clinic", wait=True)
    page.goto("/admin/health")
    expect(page.locator("#not-permitted")).to_contain_text("Not permitted")
    expect(page.locator("#health-checks")).to_have_count(0)
