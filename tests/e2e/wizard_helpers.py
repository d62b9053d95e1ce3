"""What the registration e2e tests do with the wizard, the way a person would."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout


def start_over(page: Page) -> None:
    """Press Start over and, when the wizard holds something to lose (it then asks first), confirm."""
    page.locator("#start-over").click()
    confirm = page.locator("#start-over-confirm")
    try:
        confirm.wait_for(state="visible", timeout=2_000)
    except PlaywrightTimeout:
        return
    confirm.click()
    expect(confirm).to_have_count(0)
