"""What e2e tests do again and again, the way a person would: sign in, pick an option, check the page."""

from __future__ import annotations

import json
from urllib.parse import quote

from playwright.sync_api import Page

DEMO_PASSWORD = "demo-clinic-2026"  # noqa: S105 - the published demo credential


def sign_in(page: Page, email: str, password: str = DEMO_PASSWORD, code: str = "", *, wait: bool = False) -> None:
    """Fill and send the sign-in form; with wait=True, wait until the browser has left /login."""
    page.goto("/login")
    page.locator("#login-email").fill(email)
    page.locator("#login-password").fill(password)
    if code:
        page.locator("#login-code").fill(code)
    page.locator("#login-form button[type=submit]").click()
    if wait:
        page.wait_for_url(lambda url: "/login" not in url)


def choose(page: Page, field_id: str, option: str) -> None:
    """Open a select by its id and pick the option with that exact label."""
    page.locator(f"#{field_id}").click()
    page.get_by_role("option", name=option, exact=True).click()


def assert_accessible(page, *, impacts: tuple[str, ...] = ("serious", "critical")) -> None:
    """axe-core finds no violation of the given impact on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    # a toast fading in is measured at part opacity (a false contrast failure): let it settle first
    page.wait_for_function("""() => [...document.querySelectorAll('[data-sonner-toast]')]
        .every(t => getComputedStyle(t).opacity === '1')""", timeout=5000)
    results = Axe().run(page)
    bad = [v for v in results.response["violations"] if v.get("impact") in impacts]
    summary = "\n".join(f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes'][:3]]}"
                        for v in bad)
    assert not bad, f"accessibility violations on {page.url}:\n{summary}"


def assert_fits_phone(page, width: int = 390) -> None:
    """The whole page, header included, fits the phone's width: no sideways scrolling."""
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{page.url} is {scroll_width}px wide on a {width}px phone"


def api_upload_document(page: Page, patient_id: str, title: str, body: bytes, *, category: str = "imaging_report",
                        filename: str = "scan.pdf") -> str:
    """Upload a document through the API as the page's signed-in user; returns its id."""
    meta = {"patient_id": patient_id, "category": category, "title": title, "filename": filename,
            "service_date": "2026-02-02", "source": "Radiology"}
    answer = page.request.post("/api/documents", data=body, headers={"X-Document-Meta": quote(json.dumps(meta))})
    assert answer.status == 201, answer.text()
    return answer.json()["id"]
