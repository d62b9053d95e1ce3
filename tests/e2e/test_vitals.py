"""Vitals in the real app (issue 12): the demo doctor opens Maria Garcia's vitals, sees her blood
pressure trend drawn as two lines, is told beside the field that 400/20 is not a blood pressure,
records a set; the patient adds a home reading, which the doctor sees marked "Reported by patient"
and verifies. The patient's readings page fits a phone."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.helpers import assert_accessible, assert_fits_phone, new_page, sign_in

CLINIC_BP = ("133", "85")
HOME_BP = ("139", "87")


def _open_vitals(page: Page, patient_id: str) -> None:
    page.goto(f"/chart/{patient_id}")
    page.locator("#chart-vitals-link").click()
    page.wait_for_url(f"**/chart/{patient_id}/vitals")
    expect(page.locator("#chart-name")).to_have_text("Maria Garcia")


def _fill(page: Page, values: dict[str, str]) -> None:
    for key, value in values.items():
        page.locator(f"#vital-{key}").fill(value)


def test_doctor_records_vitals_sees_the_trend_and_is_told_of_a_bad_value(page, maria):
    sign_in(page, "doctor@demo.clinic", wait=True)
    _open_vitals(page, maria)
    chart = page.locator("#trend-blood_pressure")
    expect(chart).to_be_visible()
    expect(chart.locator(".recharts-line")).to_have_count(2)  # systolic and diastolic, from the demo year

    page.locator("#record-vitals").click()
    expect(page.get_by_label("Systolic (mmHg)")).to_be_visible()  # units in the labels
    expect(page.get_by_label("Weight (kg)")).to_be_visible()
    _fill(page, {"systolic": "400", "diastolic": "20"})
    page.locator("#vitals-save").click()
    expect(page.locator("#vital-systolic-error")).to_have_text("Systolic must be between 40 and 300 mmHg.")
    expect(page.locator("#vitals-form-error")).to_contain_text("need attention")
    assert_accessible(page)

    _fill(page, {"systolic": CLINIC_BP[0], "diastolic": CLINIC_BP[1], "heart-rate": "71"})
    page.locator("#vitals-save").click()
    expect(page.get_by_text("Vitals recorded")).to_be_visible()
    expect(page.locator("#vitals-latest")).to_contain_text("/".join(CLINIC_BP))
    expect(page.locator("#vitals-table")).to_contain_text("/".join(CLINIC_BP))
    expect(chart.locator(".recharts-line")).to_have_count(2)


def test_patient_adds_a_home_reading_and_the_doctor_sees_it_reported_by_patient(browser, app_url, maria):
    page = new_page(browser, app_url)
    sign_in(page, "patient@demo.clinic", wait=True)
    page.goto("/patient/readings")
    expect(page.get_by_role("heading", name="Your readings", exact=True)).to_be_visible()
    page.locator("#add-reading").click()
    expect(page.locator("#vital-heart-rate")).to_have_count(0)  # a patient adds BP, weight or glucose only
    _fill(page, {"systolic": HOME_BP[0], "diastolic": HOME_BP[1]})
    page.locator("#vitals-save").click()
    expect(page.get_by_text("Reading added")).to_be_visible()
    expect(page.locator("#vitals-latest")).to_contain_text("/".join(HOME_BP))
    assert_accessible(page)
    page.context.close()

    page = new_page(browser, app_url)
    sign_in(page, "doctor@demo.clinic", wait=True)
    _open_vitals(page, maria)
    expect(page.locator("#vitals-unverified")).to_be_visible()
    row = page.locator("#vitals-table tr", has_text="/".join(HOME_BP))
    expect(row.locator(".reported-badge")).to_have_text("Reported by patient")
    row.locator(".verify-button").click()
    expect(page.get_by_text("Reading verified")).to_be_visible()
    expect(row.locator(".reported-badge")).to_have_text("Reported by patient, verified")
    expect(row.locator(".verify-button")).to_have_count(0)
    page.context.close()


def test_staff_do_not_reach_vitals(page, maria):
    sign_in(page, "staff@demo.clinic", wait=True)
    page.goto(f"/chart/{maria}")
    expect(page.locator("#chart-documents-link")).to_be_visible()
    expect(page.locator("#chart-vitals-link")).to_have_count(0)
    page.goto(f"/chart/{maria}/vitals")
    expect(page.locator("#not-permitted")).to_be_visible()
    expect(page.locator("#vitals-table")).to_have_count(0)


def test_your_readings_fit_a_phone(phone_page):
    sign_in(phone_page, "patient@demo.clinic", wait=True)
    phone_page.goto("/patient/readings")
    expect(phone_page.locator("#trend-blood_pressure")).to_be_visible()
    expect(phone_page.locator(".reading-card").first).to_be_visible()
    assert_fits_phone(phone_page)
