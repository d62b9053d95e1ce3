"""Emergency procedures in the real app (issue 15 part A bar): the front desk opens Maria Garcia's chart
(her code status, advance directives and special instructions in the critical-information banner),
then Aiko Tanaka's, starts the anaphylaxis protocol and ticks its first step; "Emergency in progress"
shows on her chart.
The primary contact's email arrives over real SMTP with no clinical detail; nobody acknowledges, so
after the configured wait (PORTAL_EMERGENCY_ACK_MINUTES, short here) the secondary contact's arrives,
in Spanish; the secondary opens the link on a phone and acknowledges, and the front desk's screen
shows it acknowledged. Closing asks for an outcome note and ends "Emergency in progress". The admin
sees the four starter protocols on the protocol editor; the patient sees her emergency information
and can print her card. axe finds nothing serious on the run page, the acknowledgement page, the
editor or her record."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import (
    PHONE,
    assert_accessible,
    assert_fits_phone,
    choose,
    new_page,
    open_maria,
    open_patient,
    sign_in,
)
from tests.mailbox import Mailbox

# Repeated on the scaled-out run: the emergency contacts' timed escalation from the scaled-out worker.
pytestmark = pytest.mark.scaled_out

#: Aiko Tanaka's contacts (the run is hers: Maria Garcia's timeline is the other browser tests')
PRIMARY, SECONDARY = "ken.tanaka@example.com", "sofia.ramos@example.com"


def test_the_front_desk_starts_anaphylaxis_and_the_contacts_are_notified_in_turn(page, browser, app_url, smtp):
    sign_in(page, "staff@demo.clinic", wait=True)
    open_maria(page, "/staff/patients")
    banner = page.locator("#critical-banner")
    expect(banner.locator("#banner-code-status")).to_contain_text("Full code")
    expect(banner.locator("#banner-directives")).to_contain_text("Healthcare power of attorney")
    expect(banner.locator("#banner-instructions")).to_contain_text("Keep away from latex")
    expect(page.locator("#emergency-info")).to_contain_text("agent: Luis Garcia (Spouse)")
    assert_accessible(page)

    chart_id = open_patient(page, "Aiko", "Tanaka", "/staff/patients")

    page.locator("#chart-emergency-link").click()
    page.wait_for_url(f"**/chart/{chart_id}/emergency")
    choose(page, "emergency-protocol", "Anaphylaxis")
    expect(page.locator("#emergency-start")).to_contain_text("Give adrenaline (epinephrine)")
    expect(page.locator("#emergency-notify")).to_be_checked()
    page.locator("#emergency-start-open").click()
    page.locator("#emergency-start-confirm").click()
    expect(page.locator("#emergency-in-progress")).to_contain_text("Emergency in progress: Anaphylaxis")
    run = page.locator("#emergency-run")
    run.locator(".emergency-step-box").first.click()
    expect(run.locator(".emergency-step").first).to_contain_text(re.compile(r"Done \d\d:\d\d by Sam Staff"))
    assert_accessible(page)

    first, = smtp.wait_for(PRIMARY, timeout=30)
    body = first.get_body(preferencelist=("plain",)).get_content()
    assert "please call" in first["Subject"] and "+1 617 555 0100" in body
    for secret in ("Aiko", "Tanaka", "Anaphylaxis", "adrenaline"):
        assert secret not in body and secret not in first["Subject"]
    assert smtp.to(SECONDARY) == []
    page.locator("#emergency-refresh").click()
    expect(page.locator(".emergency-notice").first).to_contain_text(re.compile(r"Ken Tanaka.*sent \d\d:\d\d"))

    second, = smtp.wait_for(SECONDARY, timeout=90)  # nobody acknowledged within the wait
    assert second["Subject"] == "Demo Clinic: por favor, llámenos"
    link = Mailbox.link_in(second)

    phone = new_page(browser, app_url, viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        phone.goto(link)  # the app's public address is the one under test
        expect(phone.locator("#ack-button")).to_have_text("Recibí el mensaje")
        assert_accessible(phone)
        assert_fits_phone(phone)
        phone.locator("#ack-button").click()
        expect(phone.locator("#ack-done")).to_contain_text("+1 617 555 0100")
        assert_accessible(phone)
    finally:
        phone.context.close()

    page.locator("#emergency-refresh").click()
    notices = page.locator(".emergency-notice")
    expect(notices.nth(1)).to_contain_text(re.compile(r"Sofía Ramos.*sent \d\d:\d\d · opened \d\d:\d\d · "
                                                      r"acknowledged \d\d:\d\d"))
    expect(page.locator("#notify-status")).to_have_text("An emergency contact acknowledged")

    page.locator("#emergency-close-open").click()
    page.locator("#emergency-close-confirm").click()
    expect(page.locator("#emergency-outcome-error")).to_be_visible()  # an outcome note is asked for
    page.locator("#emergency-outcome").fill("Adrenaline once; recovered and went home with her partner")
    page.locator("#emergency-close-open").click()
    page.locator("#emergency-close-confirm").click()
    expect(page.locator("#emergency-in-progress")).to_have_count(0)
    expect(page.locator(".emergency-outcome")).to_contain_text("recovered and went home")
    assert len(smtp.to(PRIMARY)) == 1 and len(smtp.to(SECONDARY)) == 1  # never twice


def test_the_admin_keeps_the_protocols_and_the_patient_sees_her_emergency_information(browser, app_url):
    admin = new_page(browser, app_url)
    try:
        sign_in(admin, "admin@demo.clinic", wait=True)
        admin.goto("/admin/protocols")
        for name in ("Anaphylaxis", "Cardiac arrest", "Fire evacuation", "Patient fall"):
            expect(admin.locator(".protocol-item", has_text=name)).to_have_count(1)
        assert_accessible(admin)
    finally:
        admin.context.close()

    phone = new_page(browser, app_url, viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        sign_in(phone, "patient@demo.clinic", wait=True)
        phone.goto("/patient/record")
        card = phone.locator("#emergency-info")
        expect(card).to_contain_text("Full code")
        expect(card).to_contain_text("Living will")
        expect(phone.locator("#emergency-card-link")).to_have_attribute("href", re.compile(r"emergency-card\.pdf$"))
        answer = phone.request.get(phone.locator("#emergency-card-link").get_attribute("href"))
        assert answer.status == 200 and answer.body().startswith(b"%PDF")
        assert_fits_phone(phone)
        assert_accessible(phone)
    finally:
        phone.context.close()
