"""An admin changes a user's role (confirm dialog, their password again) and the change takes effect
at once; an admin publishes a training document staff must acknowledge, and a staff user signing in
must acknowledge it before reaching their dashboard. Fresh accounts; the document is retired after."""

from __future__ import annotations

import re
import secrets

from playwright.sync_api import Browser, Page, expect

from tests.e2e.helpers import DEMO_PASSWORD, choose, new_page, sign_in
from tests.e2e.test_accounts import NEW_PASSWORD, at, create_account


def _find(page: Page, email: str):
    page.get_by_placeholder("Search by email").fill(email)
    page.get_by_role("button", name="Search").click()
    row = page.locator("#users-table tbody tr", has_text=email)
    expect(row).to_be_visible()
    return row


def test_admin_changes_a_role_after_confirming_with_their_password(page: Page, browser: Browser, app_url: str):
    email = f"role-{secrets.token_hex(3)}@clinic.org"
    sign_in(page, "admin@demo.clinic", wait=True)
    create_account(page, email)
    user = new_page(browser, app_url)
    sign_in(user, email, NEW_PASSWORD)
    user.wait_for_url(at("/staff"))

    _find(page, email).get_by_role("button", name=f"Manage {email}").click()
    expect(page.locator("#manage-card")).to_contain_text(email)
    expect(page.locator("#manage-sessions")).to_contain_text("Chrome")
    page.locator("#change-role-open").click()
    choose(page, "change-role-role", "Doctor")
    page.locator("#change-role-password").fill("not my password at all")
    page.locator("#change-role-confirm").click()
    expect(page.locator("#change-role-error")).to_contain_text("not right")
    expect(page.locator("#manage-role")).to_have_text("staff")
    choose(page, "change-role-role", "Doctor")
    page.locator("#change-role-password").fill(DEMO_PASSWORD)
    page.locator("#change-role-confirm").click()
    expect(page.locator("#admin-users-message")).to_contain_text("Role changed to doctor")
    expect(page.locator("#manage-role")).to_have_text("doctor")

    user.goto("/staff")  # their session ended with the change
    user.wait_for_url(re.compile(r"/login"))
    sign_in(user, email, NEW_PASSWORD)
    user.wait_for_url(at("/doctor"))
    user.context.close()


def test_staff_acknowledge_a_published_training_document_before_their_dashboard(page: Page, browser: Browser,
                                                                               app_url: str):
    email = f"train-{secrets.token_hex(3)}@clinic.org"
    title = f"Annual HIPAA training {secrets.token_hex(2)}"
    sign_in(page, "admin@demo.clinic", wait=True)
    create_account(page, email)
    page.goto("/admin/training")
    page.locator("#training-title").fill(title)
    page.locator("#training-body").fill("Lock your screen when you step away.\nNever share your password.")
    page.locator("#training-roles").get_by_role("checkbox", name="Staff").click()
    page.locator("#training-publish").click()
    expect(page.locator("#training-message")).to_contain_text("Published")
    try:
        user = new_page(browser, app_url)
        sign_in(user, email, NEW_PASSWORD)
        user.wait_for_url(at("/account/training"))
        expect(user.get_by_role("heading", name=title)).to_be_visible()
        user.goto("/staff")  # not before acknowledging
        user.wait_for_url(at("/account/training"))
        user.locator("#training-acknowledge").click()
        user.wait_for_url(at("/staff"))
        expect(user.get_by_role("heading", level=1)).to_be_visible()
        user.context.close()

        page.goto("/admin/training")
        page.get_by_role("button", name=f"Who has not acknowledged {title}").click()
        expect(page.locator("#training-report")).to_contain_text("staff@demo.clinic")
        expect(page.locator("#training-report")).not_to_contain_text(email)
    finally:
        page.goto("/admin/training")
        page.get_by_role("button", name=f"Retire {title}").click()
        page.get_by_role("alertdialog").get_by_role("button", name="Retire").click()
        expect(page.locator("#training-message")).to_contain_text("Retired")


def test_a_staff_member_with_a_billing_set_sees_only_the_billing_links(page: Page, browser: Browser, app_url: str):
    email = f"bill-{secrets.token_hex(3)}@clinic.org"
    name = f"Billing desk {secrets.token_hex(2)}"
    sign_in(page, "admin@demo.clinic", wait=True)
    create_account(page, email)
    page.goto("/admin/permissions")
    page.locator("#set-new").click()
    page.locator("#set-name").fill(name)
    choose(page, "set-role", "Staff")
    capabilities = page.locator("#set-capabilities")
    for label in ("Insurance and eligibility", "Billing: charges, claims, payments, remittance"):
        capabilities.get_by_role("checkbox", name=label).click()
    page.locator("#set-save").click()
    expect(page.locator("#permission-sets")).to_contain_text(name)

    page.goto("/admin/users")
    _find(page, email).get_by_role("button", name=f"Manage {email}").click()
    choose(page, "manage-set", name)
    page.locator("#manage-set-save").click()
    expect(page.locator("#admin-users-message")).to_contain_text(name)

    user = new_page(browser, app_url)
    sign_in(user, email, NEW_PASSWORD)
    user.wait_for_url(at("/staff"))
    nav = user.get_by_role("navigation").first
    expect(nav.get_by_role("link", name="Billing")).to_be_visible()
    expect(nav.get_by_role("link", name="Patients")).to_be_visible()  # every holder finds patients
    for gone in ("Register patient", "Appointments", "Messages", "Review queue"):
        expect(nav.get_by_role("link", name=gone)).to_have_count(0)
    user.goto("/staff/register")  # typed in: the page says so rather than offer a form it would refuse
    expect(user.locator("#not-permitted")).to_be_visible()
    expect(user.locator("#reg-given_name")).to_have_count(0)
    user.context.close()
