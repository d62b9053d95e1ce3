"""A tour of what each role sees, saved as screenshots for the README (test-artifacts/tour/).

Each stop asserts what a person would look for on that screen, so a broken screen fails here too.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from tests.e2e.helpers import sign_in

OUT = Path("test-artifacts/tour")


def _shot(page, name: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)


def test_doctor_tour(page):
    sign_in(page, "doctor@demo.clinic", wait=True)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")
    _shot(page, "doctor-dashboard")
    page.goto("/doctor/patients")
    page.locator("#patient-query").fill("Garcia")
    page.locator("#search-submit").click()
    page.locator("#search-results").get_by_role("link", name="Maria Garcia").first.click()
    expect(page.locator("#chart-name")).to_have_text("Maria Garcia")
    expect(page.get_by_text("Penicillin").first).to_be_visible()
    _shot(page, "doctor-chart")


def test_staff_registration_tour(page):
    sign_in(page, "staff@demo.clinic", wait=True)
    page.goto("/staff/register")
    expect(page.locator("#step-title")).to_contain_text("Basic information")
    _shot(page, "staff-register")


def test_patient_tour_on_a_phone(phone_page):
    sign_in(phone_page, "patient@demo.clinic", wait=True)
    phone_page.goto("/patient/record")
    expect(phone_page.locator("#chart-name")).to_have_text("Maria Garcia")
    _shot(phone_page, "patient-record-phone")
