"""A visitor opens the landing page."""

from playwright.sync_api import expect


def test_landing_shows_product_and_sign_in(page):
    response = page.goto("/")
    # pages are served with the app's security headers: another site cannot frame them
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    expect(page.get_by_role("heading", name="Patient Portal", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="Sign in").first).to_be_visible()
    expect(page.locator("#demo-accounts")).to_contain_text("doctor@demo.clinic")
    expect(page.locator("#demo-accounts")).to_contain_text("demo-clinic-2026")


def test_landing_fits_a_phone(phone_page):
    phone_page.goto("/")
    expect(phone_page.get_by_role("heading", name="Patient Portal", level=1)).to_be_visible()
    scroll_width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= 390, f"page scrolls sideways on a phone ({scroll_width}px wide)"


def test_landing_has_no_serious_accessibility_violations(page):
    from tests.e2e.helpers import assert_accessible

    page.goto("/")
    page.get_by_role("heading", name="Patient Portal", level=1).wait_for()
    assert_accessible(page)
    page.screenshot(path="test-artifacts/landing.png", full_page=True)


def test_an_injected_inline_script_does_not_run(page):
    """script-src: the built pages' own inline scripts run (the page works), a foreign one does not."""
    response = page.goto("/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "'sha256-" in policy and "'unsafe-inline'" not in policy
    expect(page.get_by_role("link", name="Sign in").first).to_be_visible()
    ran = page.evaluate("""() => { const s = document.createElement('script');
        s.textContent = 'window.__injected = 1'; document.body.appendChild(s); return window.__injected === 1; }""")
    assert ran is False
