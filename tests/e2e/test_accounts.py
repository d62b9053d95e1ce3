"""An admin creates an account; its owner sets up two-step sign-in; a lockout is lifted from the
admin screen. Uses fresh accounts so the demo accounts stay as they are for other tests."""

from __future__ import annotations

import re
import secrets
import time

from playwright.sync_api import Browser, Page, expect

from tests.e2e.helpers import assert_accessible, assert_fits_phone, choose, sign_in
from tests.mailbox import Mailbox

PASSWORD = "demo-clinic-2026"
NEW_PASSWORD = "a quiet harbour at dawn"


def at(path: str) -> re.Pattern:
    return re.compile(rf"^[^?]*{re.escape(path)}/?(\?.*)?$")


def create_account(page: Page, email: str, role: str = "staff") -> None:
    page.goto("/admin/users")
    expect(page.locator("#users-table")).to_contain_text("doctor@demo.clinic")
    page.locator("#new-name").fill("Nora Nurse")
    page.locator("#new-email").fill(email)
    choose(page, "new-role", role.capitalize())
    page.locator("#new-password").fill(NEW_PASSWORD)
    page.locator("#create-user-form button[type=submit]").click()
    expect(page.locator("#admin-users-message")).to_have_text("Account created.")


def new_context_page(browser: Browser, app_url: str) -> Page:
    ctx = browser.new_context(base_url=app_url, viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(20_000)
    return ctx.new_page()


def test_login_and_admin_pages_are_accessible(page: Page):
    page.goto("/login")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert_accessible(page)
    sign_in(page, "admin@demo.clinic", PASSWORD)
    page.wait_for_url(at("/admin"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")
    assert_accessible(page)
    page.goto("/admin/users")
    expect(page.locator("#users-table")).to_contain_text("admin@demo.clinic")
    assert_accessible(page)
    page.goto("/account/security")
    expect(page.locator("#mfa-off")).to_be_visible()
    assert_accessible(page)


def test_new_account_sets_up_two_step_sign_in(page: Page, browser: Browser, app_url: str):
    from patient_portal.domain.identity.mfa import code_at

    email = f"nurse-{secrets.token_hex(3)}@clinic.org"
    sign_in(page, "admin@demo.clinic", PASSWORD)
    page.wait_for_url(at("/admin"))
    create_account(page, email)

    user = new_context_page(browser, app_url)
    sign_in(user, email, NEW_PASSWORD)
    user.wait_for_url(at("/staff"))
    user.locator("#user-menu").click()
    user.get_by_role("menuitem", name="Sign-in security").click()
    user.wait_for_url(at("/account/security"))
    user.locator("#mfa-start").click()
    expect(user.locator("#mfa-qr")).to_be_visible()
    secret = user.locator("#mfa-key").inner_text().replace(" ", "")
    user.locator("#mfa-confirm-code").fill(code_at(secret, time.time()))
    user.locator("#mfa-confirm button[type=submit]").click()
    expect(user.locator("#recovery-codes li")).to_have_count(10)
    recovery = user.locator("#recovery-codes li").first.inner_text().strip()
    expect(user.locator("#mfa-on")).to_be_visible()

    other = new_context_page(browser, app_url)
    sign_in(other, email, NEW_PASSWORD)  # the right password: now the code is asked for
    other.wait_for_url(re.compile(r"/login/?\?step=code"))
    expect(other.locator("#login-code-for")).to_have_text(email)
    sign_in(other, email, NEW_PASSWORD, code=recovery)
    other.wait_for_url(at("/staff"))
    third = new_context_page(browser, app_url)
    sign_in(third, email, NEW_PASSWORD, code=recovery)  # a recovery code works once
    third.wait_for_url(re.compile(r"/login/?\?step=code&error=code"))
    expect(third.locator("#login-error")).to_contain_text("authenticator")


def test_locked_account_is_unlocked_from_the_admin_screen(page: Page, browser: Browser, app_url: str):
    email = f"temp-{secrets.token_hex(3)}@clinic.org"
    sign_in(page, "admin@demo.clinic", PASSWORD)
    page.wait_for_url(at("/admin"))
    create_account(page, email)

    user = new_context_page(browser, app_url)
    for _ in range(5):
        sign_in(user, email, "not my password at all")
        user.wait_for_url(re.compile(r"/login/?\?error=credentials"))
    sign_in(user, email, NEW_PASSWORD)
    user.wait_for_url(re.compile(r"/login/?\?error=credentials"))  # locked, same message

    page.goto("/admin/users")
    page.get_by_placeholder("Search by email").fill(email)
    page.get_by_role("button", name="Search").click()
    row = page.locator("#users-table tbody tr", has_text=email)
    expect(row).to_contain_text("Locked")
    row.get_by_role("button", name="Unlock").click()
    expect(page.locator("#admin-users-message")).to_have_text("Sign-in unlocked.")
    expect(row).not_to_contain_text("Locked")

    sign_in(user, email, NEW_PASSWORD)
    user.wait_for_url(at("/staff"))


def test_admin_emails_a_password_link_that_works(page: Page, browser: Browser, app_url: str, smtp):
    email = f"link-{secrets.token_hex(3)}@clinic.org"
    sign_in(page, "admin@demo.clinic", PASSWORD, wait=True)
    create_account(page, email, "patient")
    row = page.locator("#users-table tbody tr", has_text=email)
    row.get_by_role("button", name=f"Email a password link to {email}").click()
    expect(page.locator("#admin-users-message")).to_contain_text("emailed to the account's address")
    link = Mailbox.link_in(smtp.wait_for(email)[0])
    owner = new_context_page(browser, app_url)
    owner.goto(link)
    owner.locator("#reset-password").fill("my own chosen phrase 77")
    owner.locator("#reset-password_again").fill("my own chosen phrase 77")
    owner.locator("#reset-save").click()
    expect(owner.locator("#reset-done")).to_be_visible()
    sign_in(owner, email, "my own chosen phrase 77", wait=True)
    expect(owner).to_have_url(at("/patient"))
    owner.context.close()


def test_admin_assigns_a_doctor_and_is_told_when_none_was_chosen(page: Page):
    sign_in(page, "admin@demo.clinic", PASSWORD, wait=True)
    page.goto("/admin/users")
    page.locator("#assign-patient").fill("patient@demo.clinic")
    page.locator("#assign-doctor-form button[type=submit]").click()
    expect(page.locator("#admin-users-error")).to_have_text("Choose a doctor.")
    expect(page.locator("#assign-patient")).to_have_value("patient@demo.clinic")  # nothing typed is lost
    choose(page, "assign-doctor", "Dr. Dana Doctor (doctor@demo.clinic)")
    page.locator("#assign-doctor-form button[type=submit]").click()
    expect(page.locator("#admin-users-message")).to_have_text("Doctor assigned.")


def test_accounts_read_as_cards_on_a_phone(phone_page: Page):
    sign_in(phone_page, "admin@demo.clinic", PASSWORD, wait=True)
    phone_page.goto("/admin/users")
    card = phone_page.locator(".rt-Card", has_text="staff@demo.clinic").first
    expect(card).to_be_visible()
    expect(card).to_contain_text("Signed in:")  # and last activity, open sessions (issue 17)
    expect(card).to_contain_text("open session(s)")
    expect(card.get_by_role("button", name="Email a password link to staff@demo.clinic")).to_be_visible()
    assert_fits_phone(phone_page)
    assert_accessible(phone_page)
