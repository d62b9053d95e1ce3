"""The chart header and the UI kit on the chart and the wizard (issue 11 §3, §4), in the real app:
removing a history entry and starting a registration over ask first, a failed save or step answers
beside its button and puts the focus on the field, and the header shows age and allergies."""

from __future__ import annotations

import random
import string

from playwright.sync_api import Page, expect

from tests.e2e.helpers import open_maria, sign_in
from tests.e2e.wizard_helpers import start_over

TAG = "".join(random.choice(string.ascii_lowercase) for _ in range(6))


def open_maria_as_doctor(page: Page) -> None:
    sign_in(page, "doctor@demo.clinic", wait=True)
    open_maria(page)


def _beside(page: Page, message: str, button: str) -> None:
    """The message is on the button's row: vertically overlapping it, or right below it on a narrow screen."""
    m, b = page.locator(message).bounding_box(), page.locator(button).bounding_box()
    assert m and b, (m, b)
    assert m["y"] < b["y"] + b["height"] + 80 and b["y"] < m["y"] + m["height"] + 80, (m, b)


def test_the_header_shows_age_sex_mrn_allergies_and_insurance_on_the_chart(page: Page):
    open_maria_as_doctor(page)
    header = page.locator("#chart-header")
    expect(page.locator("#chart-name")).to_have_text("Maria Garcia")
    expect(page.locator("#chart-born")).to_contain_text("12 Mar 1984")
    expect(page.locator("#chart-born")).to_contain_text(" years)")
    expect(page.locator("#chart-sex")).to_have_text("Female")
    expect(page.locator("#chart-mrn")).not_to_be_empty()
    expect(page.locator("#allergy-badge")).to_contain_text("Penicillin")
    expect(page.locator("#allergy-badge")).to_contain_text("Peanuts")
    expect(page.locator("#insurance-badge")).to_contain_text("Insured")
    expect(header).not_to_contain_text("female")  # codes never reach the screen
    expect(page.locator("#details")).to_contain_text("Text message")
    expect(page.locator("#details")).to_contain_text("Boston, MA 02110, United States")


def test_removing_an_allergy_asks_first_cancel_keeps_it_and_remove_removes_it(page: Page):
    open_maria_as_doctor(page)
    substance = f"Kiwi {TAG}"
    page.locator("#add-allergies").click()
    page.locator("#new-substance").fill(substance)
    allergies = page.locator("#history-allergies")
    # the picker's answer to the typing moves the form: wait for it before clicking Add (a click whose
    # press and release land on different spots is no click: lost in CI once)
    expect(allergies.get_by_role("status")).to_contain_text("Nothing found")
    page.locator("#save-new-allergies").click()
    expect(allergies).to_contain_text(substance)
    expect(page.locator("#allergy-badge")).to_contain_text(substance)  # the header is read again

    page.get_by_role("button", name=f"Remove {substance}").click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text(f"Remove {substance} from the allergies?")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)
    expect(allergies).to_contain_text(substance)  # Cancel changed nothing

    page.get_by_role("button", name=f"Remove {substance}").click()
    page.locator("#confirm-remove-allergies").click()
    expect(allergies).not_to_contain_text(substance)
    expect(page.locator("#allergy-badge")).not_to_contain_text(substance)
    expect(allergies).to_contain_text("Penicillin")  # only that one went


def test_a_failed_save_answers_beside_save_and_focuses_the_field(page: Page):
    open_maria_as_doctor(page)
    page.locator("#add-medications").click()
    page.locator("#new-dose").fill("5 mg")  # no name: the one required field
    page.locator("#save-new-medications").click()
    expect(page.locator("#add-error-medications")).to_contain_text("need attention")
    expect(page.locator("#add-error-medications")).to_have_attribute("role", "alert")
    expect(page.locator("#new-name-error")).to_be_visible()
    expect(page.locator("#new-name")).to_be_focused()
    _beside(page, "#add-error-medications", "#save-new-medications")
    expect(page.locator("#new-dose")).to_have_value("5 mg")  # what was typed is kept


def test_a_failed_contact_save_by_the_front_desk_focuses_the_email(page: Page):
    sign_in(page, "staff@demo.clinic", wait=True)
    open_maria(page, "/staff/patients")
    expect(page.locator("#allergy-badge")).to_have_count(0)  # the front desk sees no clinical details
    page.locator("#edit-contact").click()
    page.locator("#edit-email").fill("not an address")
    page.locator("#edit-save").click()
    expect(page.locator("#edit-error")).to_be_visible()
    expect(page.locator("#edit-email-error")).to_be_visible()
    expect(page.locator("#edit-email")).to_be_focused()
    _beside(page, "#edit-error", "#edit-save")
    page.get_by_role("button", name="Cancel").click()


def test_a_failed_wizard_step_answers_beside_next_and_focuses_the_first_field(page: Page):
    sign_in(page, "staff@demo.clinic", wait=True)
    page.goto("/staff/register")
    expect(page.locator("#step-title")).to_contain_text("Basic information")
    start_over(page)
    page.locator("#wizard-next").click()
    expect(page.locator("#wizard-error")).to_contain_text("need attention")
    expect(page.locator("#reg-given_name")).to_be_focused()
    _beside(page, "#wizard-error", "#wizard-next")
    page.locator("#reg-given_name").fill("Ana")
    page.locator("#wizard-next").click()
    expect(page.locator("#reg-family_name")).to_be_focused()  # the first field still in error


def test_start_over_asks_first_and_cancel_keeps_what_was_typed(page: Page):
    sign_in(page, "staff@demo.clinic", wait=True)
    page.goto("/staff/register")
    expect(page.locator("#step-title")).to_contain_text("Basic information")
    start_over(page)
    page.locator("#reg-given_name").fill("Keep")
    page.locator("#reg-given_name").blur()
    page.locator("#start-over").click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text("Start over?")
    expect(dialog).to_contain_text("thrown away")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)
    expect(page.locator("#reg-given_name")).to_have_value("Keep")
    page.locator("#start-over").click()
    page.locator("#start-over-confirm").click()
    expect(page.locator("#reg-given_name")).to_have_value("")
    page.locator("#start-over").click()  # nothing left to lose: no question
    expect(page.get_by_role("alertdialog")).to_have_count(0)


def test_the_review_step_reads_words_and_plain_dates(page: Page):
    sign_in(page, "staff@demo.clinic", wait=True)
    page.goto("/staff/register")
    expect(page.locator("#step-title")).to_contain_text("Basic information")
    start_over(page)
    page.locator("#reg-given_name").fill("Rhea")
    page.locator("#reg-family_name").fill("Review" + TAG)
    page.locator("#reg-date_of_birth").fill("1988-07-04")
    page.locator("#reg-sex").click()
    page.get_by_role("option", name="Female", exact=True).click()
    page.locator("#reg-phone_mobile").fill("+1 617 555 0177")
    page.locator("#reg-city").fill("Boston")
    page.locator("#reg-region").fill("MA")
    page.locator("#reg-country").fill("US")
    page.locator("#reg-country").blur()
    for title in ("Medical history", "Insurance", "Emergency contacts"):
        page.locator("#wizard-next").click()
        expect(page.locator("#step-title")).to_contain_text(title)
        if title == "Insurance":
            page.locator("#add-insurance").click()
            page.locator("#insurance-0-payer").fill("Harvard Pilgrim")
            page.locator("#insurance-0-member_id").fill("HP-" + TAG)
            page.locator("#insurance-0-effective_date").fill("2024-01-01")
    page.locator("#emergency-0-name").fill("Sol Review")
    page.locator("#emergency-0-relationship").fill("Sister")
    page.locator("#emergency-0-phone").fill("+1 617 555 0178")
    page.locator("#wizard-next").click()
    expect(page.locator("#step-title")).to_contain_text("Review and confirm")
    basic = page.locator("#review-basic")
    expect(basic).to_contain_text("4 Jul 1988")
    expect(basic).to_contain_text("Female")
    expect(basic).to_contain_text("Boston, MA, United States")
    policy = page.locator("#review-insurance")
    expect(policy).to_contain_text("relationship to subscriber: Self")
    expect(policy).to_contain_text("Order: Primary")
    expect(policy).to_contain_text("Effective date: 1 Jan 2024")
    expect(page.locator("#review-emergency")).to_contain_text("Order: Primary")
    start_over(page)
