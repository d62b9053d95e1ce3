"""Passwords in the real app: a patient who forgot theirs asks for a link, gets it by email (a real
SMTP server), chooses a new password and signs in with it (the used link then says it has expired);
a signed-in user changes theirs on the account page."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import expect

from tests.e2e.conftest import ROOT
from tests.e2e.helpers import ask_for_a_reset_link, assert_accessible, assert_fits_phone, sign_in
from tests.mailbox import Mailbox

EMAIL = "forgetful@example.org"
OLD, NEW = "an old phrase I forgot 1", "a fresh phrase to remember 2"


def _create_account(app_env, email: str = EMAIL) -> None:
    portal = Path(sys.executable).parent / "portal"
    subprocess.run([str(portal), "create-user", "--email", email, "--role", "patient", "--name", "Fran Getful",
                    "--password-stdin"], input=OLD, text=True, cwd=ROOT, env=app_env, check=True)


def test_forgotten_password_by_email_link(page, app_env, smtp):
    _create_account(app_env)
    page.goto("/login")
    page.locator("#login-forgot").click()
    expect(page).to_have_url(re.compile(r"/forgot-password/?$"))
    ask_for_a_reset_link(page, EMAIL)
    expect(page.locator("#reset-sent")).to_contain_text("If an account uses that address")
    assert_accessible(page)

    [message] = smtp.wait_for(EMAIL)
    link = Mailbox.link_in(message)
    page.goto(link)
    page.locator("#reset-password").fill(NEW)
    page.locator("#reset-password_again").fill(NEW + "x")
    page.locator("#reset-save").click()
    expect(page.locator("#reset-error")).to_contain_text("not the same")
    page.locator("#reset-password_again").fill(NEW)
    page.locator("#reset-save").click()
    expect(page.locator("#reset-done")).to_contain_text("Your password was changed")

    sign_in(page, EMAIL, password=NEW, wait=True)
    expect(page).to_have_url(re.compile(r"/patient/?$"))
    assert "password was changed" in smtp.wait_for(EMAIL, 2)[-1]["Subject"]

    page.goto(link)
    expect(page.locator("#reset-error")).to_contain_text("expired or was already used")


def test_an_unknown_address_gets_the_same_answer_on_a_phone(phone_page, smtp):
    ask_for_a_reset_link(phone_page, "not-a-user@example.org")
    expect(phone_page.locator("#reset-sent")).to_contain_text("If an account uses that address")
    assert smtp.to("not-a-user@example.org") == []
    assert_fits_phone(phone_page)


def test_signed_in_user_changes_their_password(page, app_env, smtp):
    email = "changer@example.org"
    _create_account(app_env, email)
    sign_in(page, email, password=OLD, wait=True)
    page.goto("/account/security")
    page.locator("#pw-current").fill("not the old phrase")
    page.locator("#pw-new").fill(NEW)
    page.locator("#pw-again").fill(NEW)
    page.locator("#pw-submit").click()
    expect(page.locator("#pw-error")).to_contain_text("current password is not right")
    expect(page.locator("#pw-new")).to_have_value(NEW)  # what was typed stays
    page.locator("#pw-current").fill(OLD)
    page.locator("#pw-submit").click()
    expect(page.locator("#pw-done")).to_contain_text("Your password was changed")
    expect(page.locator("#pw-current")).to_have_value("")  # and is cleared once it worked
    assert_accessible(page)
    assert "password was changed" in smtp.wait_for(email)[0]["Subject"]
    page.context.clear_cookies()
    sign_in(page, email, password=NEW, wait=True)
    expect(page).to_have_url(re.compile(r"/patient/?$"))
