"""Billing in the real app (issue 14's bar), one app start for the file: the front desk checks Maria
Garcia's coverage, enters charges from her signed visit (an office visit and a chest X-ray) and
builds a claim, submits it; the simulated payer denies the X-ray for missing prior authorization
(her plan's member id starts with PA); posting the 835 puts the claim in the denial worklist with
its deadline (120 days left); the desk writes the appeal, downloads the letter (a PDF) and sends the
appeal; the payer pays on appeal and the 835 posts. On a phone, the patient's home says what she owes,
her statement shows the balance, she pays with a test card; the balance is zero and the receipt is
in her portal. axe on every page; the patient's pages fit the phone; the doctor sees the charges of
his visits, read only; the patient cannot open the office's pages."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import assert_accessible, assert_fits_phone, choose, sign_in

# Repeated on the scaled-out run: claims, the 835 upload and payments on PostgreSQL and S3.
pytestmark = pytest.mark.scaled_out

NOTE = "The chest X-ray was ordered for a cough of three weeks; authorization PA-55120 was on file."


def _maria_billing(page: Page) -> str:
    page.goto("/staff/patients")
    page.locator("#patient-query").fill("Garcia")
    page.locator("#search-submit").click()
    page.locator("#search-results").get_by_role("link", name="Maria Garcia").first.click()
    page.wait_for_url("**/chart/*")
    patient_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    page.locator("#chart-billing-link").click()
    page.wait_for_url(f"**/chart/{patient_id}/billing")
    expect(page.locator("#chart-name")).to_have_text("Maria Garcia")
    return patient_id


def _fetch_835(page: Page, expect_text: str) -> None:
    page.goto("/billing/remittance")
    page.locator("#fetch-835").click()
    expect(page.locator("#posting-result")).to_contain_text(expect_text)


def _pdf_behind(page: Page, selector: str) -> None:
    href = page.locator(selector).get_attribute("href")
    answer = page.request.get(href)
    assert answer.status == 200 and answer.body().startswith(b"%PDF"), (href, answer.status)


def test_a_claim_from_denial_to_appeal_to_the_patient_paying(page, browser, app_url):
    sign_in(page, "staff@demo.clinic", wait=True)
    _maria_billing(page)

    coverage = page.locator(".coverage-card").filter(has_text="Primary")
    expect(coverage).to_contain_text("Harbor Health Plan")
    coverage.locator(".check-eligibility").click()
    expect(coverage.locator(".eligibility-badge")).to_have_text("Active")
    expect(coverage.locator(".eligibility-answer")).to_contain_text("Imaging needs prior authorization")
    assert_accessible(page)

    visit = page.locator(".visit-to-bill").filter(has_text="J30.9")
    visit.locator(".enter-charges").click()
    expect(page.locator("#visit-diagnoses")).to_contain_text("J30.9")
    choose(page, "line-1-code", "99213 Office visit, established patient — $150.00")
    page.locator("#add-line").click()
    choose(page, "line-2-code", "71046 Chest X-ray, two views — $120.00")
    page.locator("#save-visit-charges").click()
    expect(page.get_by_text("2 charges entered from the visit")).to_be_visible()
    expect(page.locator("#account-pending")).to_have_text("$270.00")
    expect(visit).to_contain_text("Charges entered")

    page.locator("#create-claim").click()
    page.wait_for_url("**/billing/claims/*")
    claim_url = page.url
    expect(page.locator("#claim-status")).to_have_text("Ready to send")
    assert_accessible(page)
    page.locator("#submit-claim").click()
    expect(page.locator("#claim-status")).to_have_text("Acknowledged")
    expect(page.locator("#claim-history")).to_contain_text("Submitted → Acknowledged")

    _fetch_835(page, "Posted 1 remittance")
    page.goto("/billing/denials")
    row = page.locator("#denials-table tr").filter(has_text="Maria Garcia")
    expect(row).to_contain_text("CO-197 Prior authorization missing")
    expect(row).to_contain_text("$120.00")
    expect(row.locator(".days-left")).to_have_text("120 days left")
    assert_accessible(page)
    row.locator(".claim-link").click()
    page.wait_for_url(claim_url)
    expect(page.locator("#claim-status")).to_have_text("Partly paid")
    expect(page.locator("#claim-lines")).to_contain_text("Denied")

    page.locator("#appeal-note").fill(NOTE)
    page.locator("#save-appeal").click()
    expect(page.locator("#appeal-letter")).to_be_visible()
    _pdf_behind(page, "#appeal-letter")
    page.locator("#send-appeal").click()
    expect(page.get_by_role("alertdialog")).to_contain_text("Send this appeal to the payer?")
    page.locator("#confirm-send-appeal").click()
    expect(page.locator("#claim-status")).to_have_text("Appealed")
    expect(page.locator("#claim-appeals .appeal-status")).to_have_text("Sent, waiting for the payer")

    _fetch_835(page, "Posted 1 remittance")
    page.goto(claim_url)
    expect(page.locator("#claim-status")).to_have_text("Paid")
    expect(page.locator("#claim-appeals .appeal-status")).to_have_text("Paid on appeal")
    page.goto("/billing/denials")
    expect(page.locator("#denials-table tr").filter(has_text="Maria Garcia")).to_have_count(0)
    page.goto("/billing/aging")
    expect(page.locator("#aging-patients")).to_contain_text("Maria Garcia")
    assert_accessible(page)

    phone = browser.new_context(base_url=app_url, viewport={"width": 390, "height": 844}, is_mobile=True,
                                has_touch=True)
    phone.set_default_timeout(20_000)
    mine = phone.new_page()
    sign_in(mine, "patient@demo.clinic", wait=True)
    mine.goto("/patient")
    expect(mine.locator("#home-owed")).to_have_text("$43.20")  # 20 % of the allowed $120 + $96
    mine.locator("#home-owed-card").click()
    mine.wait_for_url("**/patient/billing")
    expect(mine.locator("#balance")).to_have_text("$43.20")
    expect(mine.locator(".statement-line").filter(has_text="Chest X-ray")).to_contain_text("you owe $19.20")
    _pdf_behind(mine, "#statement-pdf")
    assert_fits_phone(mine)
    assert_accessible(mine)

    mine.locator("#card-number").fill("4000 0000 0000 0002")
    mine.locator("#card-exp-month").fill("12")
    mine.locator("#card-exp-year").fill("2035")
    mine.locator("#card-cvc").fill("123")
    mine.locator("#pay-button").click()
    expect(mine.locator("#pay-error")).to_contain_text("The card was declined")
    expect(mine.locator("#card-number")).to_have_value("")  # the number is never kept, not even in the form
    expect(mine.locator("#balance")).to_have_text("$43.20")

    mine.locator("#card-number").fill("4242 4242 4242 4242")
    mine.locator("#card-cvc").fill("123")
    mine.locator("#pay-button").click()
    expect(mine.locator("#balance")).to_have_text("$0.00")
    expect(mine.locator("#last-receipt")).to_contain_text(re.compile(r"Paid \$43\.20 — receipt R-"))
    expect(mine.locator("#receipts .receipt").first).to_contain_text("Visa ending 4242")
    expect(mine.locator("#pay-form")).to_have_count(0)
    assert_fits_phone(mine)
    assert_accessible(mine)

    mine.goto("/billing/denials")  # the office's pages are not hers
    expect(mine.locator("#not-permitted")).to_be_visible()
    phone.close()


def test_the_doctor_sees_the_charges_of_his_visits(browser, app_url):
    ctx = browser.new_context(base_url=app_url, viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(20_000)
    page = ctx.new_page()
    sign_in(page, "doctor@demo.clinic", wait=True)
    page.get_by_role("link", name="My charges").first.click()
    page.wait_for_url("**/doctor/charges")
    expect(page.get_by_role("heading", name="My charges")).to_be_visible()
    expect(page.locator("#doctor-charges")).to_contain_text("Office visit, established patient")
    expect(page.locator("#doctor-charges button")).to_have_count(0)  # read only
    assert_accessible(page)
    page.goto("/billing/claims")
    expect(page.locator("#not-permitted")).to_be_visible()
    ctx.close()
