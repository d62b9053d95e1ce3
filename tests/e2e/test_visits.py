"""Visit notes in the real app (issue 12): the demo doctor writes a note for Maria Garcia and signs it
behind the confirm; the signed note can then only take an addendum; the patient reads its summary
(never a draft); the front desk cannot open the Visits page; the dashboard lists unsigned notes."""

from __future__ import annotations

import random
import string

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import assert_accessible, assert_fits_phone, open_maria, sign_in

TAG = "".join(random.choice(string.ascii_uppercase) for _ in range(5))
REASON = f"Knee pain after running {TAG}"
PLAN = f"Ice and rest for a week; physiotherapy referral {TAG}"
DRAFT_REASON = f"Draft that stays private {TAG}"


@pytest.fixture(scope="module")
def signed(browser, app_url) -> dict[str, str]:
    """The demo doctor opens Maria Garcia's Visits from her chart, writes a note and signs it; then
    saves a second note as a draft."""
    ctx = browser.new_context(base_url=app_url, viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(20_000)
    page = ctx.new_page()
    sign_in(page, "doctor@demo.clinic", wait=True)
    patient_id = open_maria(page)
    page.locator("#chart-visits-link").click()
    page.wait_for_url(f"**/chart/{patient_id}/visits")
    expect(page.locator("#chart-name")).to_have_text("Maria Garcia")

    page.locator("#new-visit").click()
    page.locator("#visit-reason").fill("")
    page.locator("#visit-save").click()  # the reason is needed: said beside the field, focus moves there
    expect(page.locator("#visit-reason-error")).to_have_text("Enter the reason for the visit.")
    expect(page.locator("#visit-reason")).to_be_focused()

    page.locator("#visit-reason").fill(REASON)
    page.locator("#visit-subjective").fill("Pain on the inside of the right knee since a 10 km run.")
    page.locator("#visit-objective").fill("Mild swelling, full range of motion, stable ligaments.")
    page.locator("#visit-assessment").fill("Medial knee strain.")
    page.locator("#visit-plan").fill(PLAN)
    page.locator("#visit-orders").fill("Physiotherapy referral")
    page.locator("#visit-save").click()
    expect(page.locator("#visit-message")).to_contain_text("Draft saved.")

    page.locator("#visit-sign").click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text("Signing locks this note; corrections become addenda.")
    page.locator("#visit-sign-confirm").click()
    expect(page.locator("#visit-note")).to_contain_text(PLAN)
    expect(page.locator("#visit-note")).to_contain_text("Signed")

    page.get_by_role("button", name="All visits").click()
    page.locator("#new-visit").click()
    page.locator("#visit-reason").fill(DRAFT_REASON)
    page.locator("#visit-save").click()
    expect(page.locator("#visit-message")).to_contain_text("Draft saved.")
    ctx.close()
    return {"patient_id": patient_id}


def test_a_signed_note_takes_only_an_addendum(page, signed):
    sign_in(page, "doctor@demo.clinic", wait=True)
    page.goto(f"/chart/{signed['patient_id']}/visits")
    row = page.locator(".visit-row", has_text=REASON)
    expect(row).to_contain_text("Signed")
    row.get_by_role("button").click()
    note = page.locator("#visit-note")
    expect(note).to_contain_text(PLAN)
    expect(page.locator("#visit-form")).to_have_count(0)  # no form: the note cannot be edited
    expect(page.locator("#visit-sign")).to_have_count(0)
    page.locator("#visit-addendum-text").fill(f"Physiotherapy booked for Monday {TAG}.")
    page.locator("#visit-add-addendum").click()
    expect(note.locator(".visit-addendum")).to_contain_text(f"Physiotherapy booked for Monday {TAG}.")
    expect(note).to_contain_text(PLAN)  # the note itself is as signed
    assert_accessible(page)


def test_the_dashboard_lists_the_unsigned_draft(page, signed):
    sign_in(page, "doctor@demo.clinic", wait=True)
    page.goto("/doctor")
    card = page.locator("#unsigned-notes")
    expect(card).to_contain_text("Maria Garcia")
    card.locator(".unsigned-note").last.click()
    page.wait_for_url(f"**/chart/{signed['patient_id']}/visits?note=*")
    expect(page.locator("#visit-form")).to_be_visible()
    expect(page.locator("#visit-reason")).to_have_value(DRAFT_REASON)


def test_the_patient_reads_the_summary_and_never_the_draft(phone_page, signed):
    page = phone_page
    sign_in(page, "patient@demo.clinic", wait=True)
    page.goto("/patient/visits")
    summary = page.locator(".visit-summary", has_text=REASON)
    expect(summary).to_contain_text("What happens next")
    expect(summary).to_contain_text(PLAN)
    expect(summary).to_contain_text(f"Physiotherapy booked for Monday {TAG}.")  # added by the test above (file order)
    expect(summary).not_to_contain_text("Pain on the inside")  # the working notes stay with the clinic
    expect(page.get_by_text(DRAFT_REASON)).to_have_count(0)
    assert_fits_phone(page)
    assert_accessible(page)


def test_the_front_desk_cannot_open_visits(page, signed):
    sign_in(page, "staff@demo.clinic", wait=True)
    page.goto(f"/chart/{signed['patient_id']}/visits")
    expect(page.locator("#not-permitted")).to_be_visible()
    expect(page.get_by_text(REASON)).to_have_count(0)
