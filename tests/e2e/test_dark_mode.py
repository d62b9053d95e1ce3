"""The app follows the device's dark mode, and its pages stay readable there (axe: no serious or
critical violation, contrast included)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import assert_accessible, sign_in


@pytest.fixture
def dark_page(browser, app_url):
    ctx = browser.new_context(base_url=app_url, viewport={"width": 390, "height": 844}, color_scheme="dark")
    ctx.set_default_timeout(20_000)
    yield ctx.new_page()
    ctx.close()


def test_patient_pages_are_readable_in_dark_mode(dark_page):
    dark_page.goto("/")
    expect(dark_page.get_by_role("heading", name="Patient Portal", level=1)).to_be_visible()
    assert dark_page.evaluate("getComputedStyle(document.body).backgroundColor") != "rgb(255, 255, 255)"
    assert_accessible(dark_page)
    sign_in(dark_page, "patient@demo.clinic", wait=True)
    for route, heading in (("/patient/record", "Your health record"), ("/patient/documents", "Your documents"),
                           ("/account/security", "Sign-in security")):
        dark_page.goto(route)
        expect(dark_page.get_by_role("heading", level=1)).to_have_text(heading)
        dark_page.wait_for_timeout(500)  # the page's data has arrived
        assert_accessible(dark_page)
