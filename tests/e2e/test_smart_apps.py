"""SMART apps in the browser (issue 16): an admin registers apps on /admin/apps — the client id
shown, a confidential app's secret shown once, the app listed — and switches one off; a patient
authorizes an app on the consent screen, is sent back to the app with a code, sees the app among
her connected apps and disconnects it."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from urllib.parse import urlencode

from playwright.sync_api import Browser, Page, expect

from tests.e2e.helpers import sign_in

REDIRECT = "https://diary.example.org/callback"


def register_app(page: Page, name: str, *, confidential: bool = False) -> str:
    """Register an app from the admin's form; its client id."""
    page.goto("/admin/apps")
    expect(page.get_by_role("heading", name="Register an app")).to_be_visible()
    page.locator("#app-name").fill(name)
    page.locator("#app-redirects").fill(REDIRECT)
    page.locator("#app-scope").fill("launch/patient openid fhirUser patient/*.rs")
    if confidential:
        page.locator("#app-confidential-label").click()
    page.locator("#register-app-form button[type=submit]").click()
    expect(page.locator("#new-client-id")).not_to_be_empty()
    expect(page.locator("#apps-table")).to_contain_text(name)
    return page.locator("#new-client-id").inner_text().strip()


def test_an_admin_registers_apps_and_switches_one_off(page: Page):
    public, private = (f"Health Diary {secrets.token_hex(2)}", f"Clinic Sync {secrets.token_hex(2)}")
    sign_in(page, "admin@demo.clinic", wait=True)
    client_id = register_app(page, public)
    expect(page.locator("#apps-table")).to_contain_text(client_id)
    expect(page.locator("#new-client-secret")).to_have_count(0)  # a public app has no secret
    register_app(page, private, confidential=True)
    expect(page.locator("#new-client-secret")).not_to_be_empty()  # shown once, to hand to the app's owner
    expect(page.locator("#apps-table tr", has_text=private)).to_contain_text("Confidential app")
    page.get_by_role("button", name=f"Switch off {public}").click()
    expect(page.locator("#apps-table tr", has_text=public)).to_contain_text("Switched off")
    page.reload()
    expect(page.locator("#new-client-secret")).to_have_count(0)  # never shown again


def test_a_patient_authorizes_an_app_sees_it_and_disconnects_it(page: Page, browser: Browser, app_url: str):
    name = f"Sleep Log {secrets.token_hex(2)}"
    sign_in(page, "admin@demo.clinic", wait=True)
    client_id = register_app(page, name)

    ctx = browser.new_context(base_url=app_url, viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(20_000)
    patient = ctx.new_page()
    patient.route(re.compile(r"^https://diary\.example\.org/.*"), lambda route: route.fulfill(status=200, body="app"))
    sign_in(patient, "patient@demo.clinic", wait=True)
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    patient.goto("/api/smart/authorize?" + urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT, "state": "s-1",
        "scope": "launch/patient openid fhirUser patient/*.rs", "aud": f"{app_url}/fhir",
        "code_challenge": challenge, "code_challenge_method": "S256"}))
    expect(patient.locator("#consent-app")).to_have_text(name)
    expect(patient.locator("#consent-permissions")).not_to_be_empty()
    patient.locator("#consent-allow").click()
    patient.wait_for_url(re.compile(r"^https://diary\.example\.org/callback\?.*code=.*state=s-1"))

    patient.goto("/account/apps")
    row = patient.locator(".connected-app", has_text=name)
    expect(row).to_be_visible()
    row.get_by_role("button", name=f"Disconnect {name}").click()
    patient.get_by_role("alertdialog").get_by_role("button", name="Disconnect").click()
    expect(patient.locator(".connected-app", has_text=name)).to_have_count(0)
    ctx.close()
