"""Issue 10 in the real app: a self-registered account is linked to a record with clinical data only
after a second person confirms (confirm dialogs, the record's email told), and a doctor removed from a
chart's care team can no longer open it."""

from __future__ import annotations

import random
import string

from playwright.sync_api import Page, expect

from tests.e2e.helpers import assert_accessible, choose, sign_in
from tests.e2e.wizard_helpers import start_over
from tests.mailbox import Mailbox

FAMILY = "Linq" + "".join(random.choice(string.ascii_lowercase) for _ in range(6))
GIVEN, DOB = "Odile", "1988-07-09"
PHONE = "+1 617 555 " + str(random.randint(3000, 3999))
RECORD_EMAIL = f"odile.{FAMILY.lower()}.record@example.com"
ACCOUNT_EMAIL = f"odile.{FAMILY.lower()}@example.com"
ACCOUNT_PASSWORD = "a quiet morning by the lake"


def _register_record(page: Page) -> str:
    """Staff register the person with an allergy (clinical data); returns the chart id."""
    page.goto("/staff/register")
    expect(page.locator("#step-title")).to_contain_text("Basic information")
    start_over(page)  # asks first when the staff draft holds something
    page.locator("#reg-given_name").fill(GIVEN)
    page.locator("#reg-family_name").fill(FAMILY)
    page.locator("#reg-date_of_birth").fill(DOB)
    choose(page, "reg-sex", "Female")
    page.locator("#reg-phone_mobile").fill(PHONE)
    page.locator("#reg-email").fill(RECORD_EMAIL)
    page.locator("#reg-email").blur()
    for title in ("Medical history", "Insurance", "Emergency contacts", "Review and confirm"):
        page.locator("#wizard-next").click()
        expect(page.locator("#step-title")).to_contain_text(title)
        if title == "Medical history":
            page.locator("#add-allergies").click()
            page.locator("#allergies-0-substance").fill("Shellfish")
            choose(page, "allergies-0-severity", "Severe")
        if title == "Emergency contacts":
            page.locator("#emergency-0-name").fill("Remy " + FAMILY)
            page.locator("#emergency-0-relationship").fill("Partner")
            page.locator("#emergency-0-phone").fill("+1 617 555 0199")
    page.locator("#wizard-confirm").click()
    href = page.get_by_role("link", name="Open the chart").get_attribute("href")
    return href.rsplit("/", 1)[-1]


def _self_register(page: Page, smtp) -> None:
    page.goto("/register")
    page.locator("#signup-given_name").fill(GIVEN)
    page.locator("#signup-family_name").fill(FAMILY)
    page.locator("#signup-date_of_birth").fill(DOB)
    choose(page, "signup-sex", "Female")
    page.locator("#signup-email").fill(ACCOUNT_EMAIL)
    page.locator("#signup-password").fill(ACCOUNT_PASSWORD)
    page.locator("#signup-submit").click()
    expect(page.locator("#signup-sent")).to_contain_text(ACCOUNT_EMAIL)
    page.goto(Mailbox.link_in(smtp.wait_for(ACCOUNT_EMAIL)[0]))
    expect(page.locator("#verify-done")).to_contain_text("pending an identity check")


def _card(page: Page):
    return page.locator(".identity-check").filter(has_text=f"{GIVEN} {FAMILY}")


def test_two_people_link_an_account_to_a_record_with_clinical_data(browser, app_url, smtp):
    def new_page() -> Page:
        ctx = browser.new_context(base_url=app_url, viewport={"width": 1280, "height": 900})
        ctx.set_default_timeout(20_000)
        return ctx.new_page()

    desk = new_page()
    sign_in(desk, "staff@demo.clinic", wait=True)
    chart_id = _register_record(desk)
    person = new_page()
    _self_register(person, smtp)

    desk.goto("/staff/review")
    card = _card(desk)
    match = card.locator(".identity-match")
    expect(match).to_contain_text("same name and date of birth")
    match.get_by_role("button", name="Propose link to this record").click()
    dialog = desk.get_by_role("alertdialog")
    expect(dialog).to_contain_text("Nothing changes until a second person")
    dialog.get_by_role("button", name="Cancel").click()  # Cancel changes nothing
    expect(card.locator(".link-proposal")).to_have_count(0)
    match.get_by_role("button", name="Propose link to this record").click()
    desk.get_by_role("alertdialog").get_by_role("button", name="Propose link").click()
    proposal = card.locator(".link-proposal")
    expect(proposal).to_contain_text("proposed by Sam Staff")
    expect(proposal.get_by_role("button", name="Confirm link")).to_have_count(0)  # not for the proposer
    assert_accessible(desk)

    second = new_page()
    sign_in(second, "admin@demo.clinic", wait=True)
    second.goto("/admin/review")
    _card(second).get_by_role("button", name="Confirm link").click()
    second.get_by_role("alertdialog").get_by_role("button", name="Confirm link").click()
    expect(_card(second)).to_have_count(0)
    [notice] = smtp.wait_for(RECORD_EMAIL)
    assert notice["Subject"] == "An online account was linked to your clinic record"
    assert FAMILY not in notice.get_content()

    sign_in(person, ACCOUNT_EMAIL, ACCOUNT_PASSWORD, wait=True)
    person.goto("/patient/record")
    expect(person.locator("#chart-name")).to_contain_text(f"{GIVEN} {FAMILY}")
    expect(person.locator("#allergy-badge")).to_contain_text("Shellfish")
    expect(person.locator("#pending-identity")).to_have_count(0)

    # ---- the chart's care team: add the demo doctor, then remove them again
    second.goto(f"/chart/{chart_id}")
    team = second.locator("#care-team")
    expect(team).to_contain_text("No doctor is on the care team yet")
    choose(second, "team-pick", "Dr. Dana Doctor (doctor@demo.clinic)")
    second.locator("#team-add").click()
    second.locator("#confirm-team-add").click()  # adding asks first
    expect(team.locator(".care-team-member")).to_contain_text("Dr. Dana Doctor")
    doctor = new_page()
    sign_in(doctor, "doctor@demo.clinic", wait=True)
    doctor.goto(f"/chart/{chart_id}")
    expect(doctor.locator("#allergy-badge")).to_contain_text("Shellfish")
    expect(doctor.locator("#care-team")).to_have_count(0)  # doctors do not manage care teams
    team.get_by_role("button", name="Remove Dr. Dana Doctor from the care team").click()
    dialog = second.get_by_role("alertdialog")
    expect(dialog).to_contain_text("can no longer open this chart")
    assert_accessible(second)
    dialog.get_by_role("button", name="Remove from care team").click()
    expect(team).to_contain_text("No doctor is on the care team yet")
    doctor.goto(f"/chart/{chart_id}")
    expect(doctor.locator("#not-permitted")).to_be_visible()
    for p in (desk, person, second, doctor):
        p.context.close()
