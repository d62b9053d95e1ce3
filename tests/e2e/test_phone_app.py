"""The portal as a phone app (issue 18): Chromium finds it installable (web app manifest, icons,
service worker), the service worker's cache holds the app shell only — never an API answer, an
event, a page or a chart — and offline a page says "You are offline" and what to do.

The service worker is registered by the patient's own tap on "Add to home screen" (an ordinary visit
registers none, so the other browser tests run without one)."""

from __future__ import annotations

import json

from playwright.sync_api import expect

from tests.e2e.conftest import CHROMIUM
from tests.e2e.helpers import PHONE, assert_accessible, sign_in

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic", "--no-first-run",
        "--disable-component-update", "--disable-sync"]

CACHED = """async () => {
  const found = [];
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) found.push(new URL(request.url).pathname);
  }
  return found;
}"""


def test_the_portal_installs_as_a_phone_app_and_caches_no_patient_data(browser, app_url, tmp_path):
    # a profile on disk: Chromium never offers to install from an incognito context (new_context's kind)
    context = browser.browser_type.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=CHROMIUM, args=ARGS, base_url=app_url, viewport=PHONE,
        is_mobile=True, has_touch=True, reduced_motion="reduce")
    context.set_default_timeout(20_000)
    page = context.pages[0] if context.pages else context.new_page()
    try:
        page.goto("/")
        assert page.locator("head link[rel=manifest]").get_attribute("href") == "/manifest.webmanifest"
        manifest = page.request.get("/manifest.webmanifest")
        assert manifest.ok and "manifest+json" in manifest.headers["content-type"]
        app = json.loads(manifest.text())
        assert app["display"] == "standalone" and app["start_url"] == "/" and app["theme_color"] == "#3e63dd"
        assert {i["sizes"] for i in app["icons"]} == {"192x192", "512x512"}
        assert any(i["purpose"] == "maskable" for i in app["icons"])
        for icon in app["icons"]:
            assert page.request.get(icon["src"]).headers["content-type"] == "image/png"
        assert page.evaluate("navigator.serviceWorker.controller") is None  # a visit registers nothing

        sign_in(page, "patient@demo.clinic", wait=True)
        page.goto("/account")
        card = page.get_by_role("heading", name="Phone app and notifications")
        expect(card).to_be_visible()
        page.get_by_role("button", name="Add to home screen").click()
        expect(page.locator("#pwa-status")).not_to_be_empty()
        page.wait_for_function("navigator.serviceWorker.getRegistration('/').then(r => !!(r && r.active))",
                               polling=200, timeout=30_000)
        cdp = context.new_cdp_session(page)
        errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
        assert errors == [], errors

        # use the app with the service worker in control: pages, the event websocket, API calls
        page.reload()
        page.wait_for_function("!!navigator.serviceWorker.controller", timeout=30_000)
        for path in ("/patient", "/patient/messages", "/patient/appointments", "/account"):
            page.goto(path)
            page.get_by_role("heading", level=1).first.wait_for()
        assert page.request.get("/api/push/key").ok
        page.evaluate("fetch('/api/auth/whoami', {credentials: 'same-origin'}).then(r => r.text())")
        cached = page.evaluate(CACHED)
        assert "/offline.html" in cached and any(p.endswith(".js") for p in cached)
        data = [p for p in cached if p.startswith(("/api", "/_event", "/_upload", "/fhir", "/chart", "/patient",
                                                  "/account", "/doctor")) or p.endswith((".json", ".html"))
                and p != "/offline.html"]
        assert data == [], data

        context.set_offline(True)
        page.goto("/patient/messages")
        expect(page.get_by_role("heading", name="You are offline")).to_be_visible()
        expect(page.get_by_text("Nothing of your record is kept on this phone.")).to_be_visible()
        expect(page.get_by_role("link", name="try again")).to_have_attribute("href", "/")
        assert_accessible(page)
        page.screenshot(path="test-artifacts/phone-app-offline.png", full_page=True)
        context.set_offline(False)
    finally:
        context.close()


def test_the_notifications_card_explains_a_blocked_permission(browser, app_url):
    """Push itself needs a push service headless Chromium cannot reach here (the integration tests
    run the round trip); the card answers a refusal in plain words."""
    context = browser.new_context(base_url=app_url, viewport=PHONE, is_mobile=True)
    page = context.new_page()
    try:
        sign_in(page, "patient@demo.clinic", wait=True)
        page.goto("/account")
        page.get_by_role("button", name="Turn on notifications").click()
        expect(page.locator("#pwa-status")).to_contain_text("blocked", timeout=20_000)
        assert_accessible(page)
        page.reload()  # the card says how this device stands when it opens
        expect(page.locator("#pwa-status")).to_have_text(
            "Notifications are blocked for this site in your browser's settings.")
        page.screenshot(path="test-artifacts/phone-app-card.png", full_page=True)
        # a lost phone: every device's notifications off from here (none had them on in this test)
        page.get_by_role("button", name="Turn off on all my devices").click()
        expect(page.locator("#pwa-status")).to_have_text("No device had notifications on.")
    finally:
        context.close()
