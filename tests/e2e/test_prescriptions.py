"""Prescriptions in the real app (issue 12 Bars): the demo doctor tries amoxicillin for Maria Garcia
(allergic to penicillins) and sees the warning with the override-reason field; prescribes
azithromycin instead and downloads its PDF; the patient sees it with how to take it and asks for a
renewal; the doctor approves it from the dashboard; the patient sees the answer; the public verify
page answers validity only."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import assert_accessible, assert_fits_phone, my_patients_row, open_maria, sign_in


def _pick(page: Page, typed: str) -> None:
    page.locator("#rx-drug").fill(typed)
    expect(page.locator("#rx-drug-options")).to_be_visible()
    page.locator("#rx-drug").press("Enter")
    expect(page.locator("#rx-drug-chosen")).to_be_visible()


@pytest.fixture(scope="module")
def prescribed(browser, app_url) -> dict[str, str]:
    ctx = browser.new_context(base_url=app_url, viewport={"width": 1280, "height": 900}, accept_downloads=True)
    ctx.set_default_timeout(20_000)
    page = ctx.new_page()
    sign_in(page, "doctor@demo.clinic", wait=True)
    patient_id = open_maria(page)
    page.locator("#chart-prescriptions-link").click()
    page.wait_for_url(f"**/chart/{patient_id}/prescriptions")
    expect(page.locator("#chart-name")).to_have_text("Maria Garcia")
    expect(page.locator("#rx-list")).to_contain_text("Lisinopril")  # the demo prescription

    page.locator("#new-prescription").click()
    _pick(page, "amoxi")
    page.locator("#rx-dose").fill("500")
    page.locator("#rx-quantity").fill("21")
    page.locator("#rx-sign").click()
    findings = page.locator("#rx-findings")
    expect(findings).to_contain_text(re.compile("allergic to penicillin", re.I))
    expect(page.locator("#rx-override-reason")).to_be_visible()
    expect(page.locator("#rx-override-reason-error")).to_contain_text("reason")
    assert_accessible(page)
    page.get_by_role("button", name="Cancel").click()

    page.locator("#new-prescription").click()
    _pick(page, "azithro")
    page.locator("#rx-dose").fill("500")
    page.locator("#rx-duration").fill("3")
    page.locator("#rx-quantity").fill("3")
    page.locator("#rx-sign").click()
    expect(page.locator("#rx-message")).to_contain_text("Azithromycin prescribed")
    row = page.locator(".rx-row", has_text="Azithromycin")
    expect(row).to_contain_text("Take 500 mg by mouth once daily for 3 days.")
    with page.expect_download() as download:
        row.locator(".rx-pdf").click()
    path = download.value.path()
    data = open(path, "rb").read()
    assert data.startswith(b"%PDF-") and b"Azithromycin" in data and b"Verification code: RX-" in data
    code = re.search(rb"Verification code: (RX-[A-Z0-9-]+)", data).group(1).decode()
    ctx.close()
    return {"patient_id": patient_id, "code": code}


def test_the_patient_asks_for_a_renewal_the_doctor_approves_and_the_patient_sees_it(browser, app_url, prescribed):
    phone = browser.new_context(base_url=app_url, viewport={"width": 390, "height": 844})
    phone.set_default_timeout(20_000)
    page = phone.new_page()
    sign_in(page, "patient@demo.clinic", wait=True)
    page.goto("/patient/prescriptions")
    mine = page.locator(".rx-own", has_text="Azithromycin").first
    expect(mine).to_contain_text("How to take it: Take 500 mg by mouth once daily for 3 days.")
    assert_fits_phone(page)
    assert_accessible(page)
    mine.get_by_role("button", name="Ask for a renewal").click()
    expect(page.locator("#rx-message")).to_contain_text("Your doctor was asked to renew it")

    doctor = browser.new_context(base_url=app_url, viewport={"width": 1280, "height": 900})
    doctor.set_default_timeout(20_000)
    dpage = doctor.new_page()
    sign_in(dpage, "doctor@demo.clinic", wait=True)
    expect(my_patients_row(dpage).locator(".worklist-flag", has_text="Renewal request")).to_be_visible()
    dpage.goto("/doctor")
    request = dpage.locator("#renewal-requests .renewal-request", has_text="Azithromycin")
    expect(request).to_contain_text("Maria Garcia")
    assert_accessible(dpage)
    request.get_by_role("button", name=re.compile("^Approve")).click()
    expect(dpage.locator("#renewal-requests .renewal-request", has_text="Azithromycin")).to_have_count(0)
    doctor.close()

    page.goto("/patient/prescriptions")
    expect(page.locator(".rx-own", has_text="Renewal approved")).to_have_count(1)
    expect(page.locator(".rx-own", has_text="Azithromycin").first).to_contain_text("Active")
    phone.close()


def test_the_public_verify_page_shows_validity_only(page, prescribed):
    page.goto(f"/verify/rx/{prescribed['code']}")
    expect(page.locator("#rx-verify-result")).to_contain_text(re.compile("Valid|Not valid"))
    body = page.locator("body").inner_text()
    assert "Maria" not in body and "Azithromycin" not in body
    page.goto("/verify/rx/RX-AAAAA-AAAAA-AAAAA-AAAAA")
    expect(page.locator("#rx-verify-result")).to_contain_text("Not valid")
    assert_accessible(page)


def test_the_front_desk_cannot_open_prescriptions(page, prescribed):
    sign_in(page, "staff@demo.clinic", wait=True)
    page.goto(f"/chart/{prescribed['patient_id']}/prescriptions")
    expect(page.get_by_text("Not permitted")).to_be_visible()
    expect(page.locator("#rx-list")).to_have_count(0)
