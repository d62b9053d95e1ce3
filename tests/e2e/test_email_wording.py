"""The wording of notification emails in the real app (issue 17 Configuration): an admin opens Email
wording, picks the password email, tries a wording without its link (refused next to the field),
rewords it and sees the preview, saves; the next password email (real SMTP) says it; then back to
the standard wording, after a confirmation. On a phone the page fits."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from playwright.sync_api import expect

from tests.e2e.helpers import (
    ask_for_a_reset_link,
    assert_accessible,
    assert_fits_phone,
    choose,
    new_page,
    sign_in,
)

ROOT = Path(__file__).resolve().parents[2]
#: the e2e app starts with no saved settings (the settings test removes what it saved): a rewording's
#: save made the row from the values in force, which would show the env's phone number reformatted
_RESTORE = """
from sqlalchemy import text
from patient_portal.core.db import unit_of_work
with unit_of_work() as s:
    s.execute(text("DELETE FROM clinic_settings"))
"""
SUBJECT = "Harbor Family Practice: your password link"
WHO = "priya.raman@demo.clinic"


def _ask_for_a_reset(browser, app_url) -> None:
    page = new_page(browser, app_url)
    ask_for_a_reset_link(page, WHO)
    page.context.close()


def test_an_admin_rewords_the_password_email_and_the_next_one_says_it(browser, app_url, app_env, smtp):
    admin = new_page(browser, app_url, viewport={"width": 390, "height": 844})
    sign_in(admin, "admin@demo.clinic", wait=True)
    try:
        admin.goto("/admin/emails")
        expect(admin.get_by_role("heading", level=1)).to_have_text("Email wording")
        choose(admin, "wording-choose", "Account: choose a new password")
        expect(admin.locator("#wording-subject")).to_have_value("Choose a new password for Patient Portal")
        expect(admin.locator("#wording-fields")).to_contain_text("{link}")
        assert_fits_phone(admin)
        assert_accessible(admin)

        admin.locator("#wording-subject").fill(SUBJECT)
        admin.locator("#wording-text").fill("Hello from Harbor Family Practice. Call us for a new password.")
        expect(admin.locator("#wording-preview-subject")).to_contain_text(SUBJECT)
        admin.locator("#wording-save").click()
        expect(admin.locator("#wording-text-error")).to_contain_text("Keep {link}")

        admin.locator("#wording-text").fill("Hello from Harbor Family Practice.\n\nChoose your password within "
                                            "{valid}:\n{link}\n")
        expect(admin.locator("#wording-preview-text")).to_contain_text("within 30 minutes:")
        expect(admin.locator("#wording-text-error")).to_be_hidden()  # the answer to the typing moved the layout
        admin.locator("#wording-save").click()
        expect(admin.locator("[data-sonner-toast]").filter(has_text="Saved")).to_be_visible()
        expect(admin.locator("#wording-editor")).to_contain_text("Reworded")

        _ask_for_a_reset(browser, app_url)
        [sent] = smtp.wait_for(WHO, subject=SUBJECT, timeout=30)
        body = sent.get_body(("plain",)).get_content().replace("\r\n", "\n")
        assert body.startswith("Hello from Harbor Family Practice.\n\nChoose your password within 30 minutes:\nhttp")

        admin.locator("#wording-standard").click()
        admin.locator("#wording-standard-confirm").click()
        expect(admin.locator("#wording-editor")).to_contain_text("Standard wording")
        expect(admin.locator("#wording-subject")).to_have_value("Choose a new password for Patient Portal")
    finally:
        subprocess.run([sys.executable, "-c", _RESTORE], cwd=ROOT, env=app_env, check=True, capture_output=True,
                       text=True, timeout=120)
        admin.context.close()
