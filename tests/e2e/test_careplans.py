"""Care plans in the real app (issue 12): the demo doctor opens Maria Garcia's care plan from her chart,
starts a plan for her hypertension with the goal "BP below 130/80" by a date and a task for her; on a
phone the patient finds the task on her home, ticks it off and sees the plan in plain words on her
record, then adds a home blood pressure reading; the doctor sees the goal on target from that
reading and the goal line on the vitals trend chart. The front desk cannot reach the page. axe finds
nothing serious on the doctor's page, the patient's home or her record."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import assert_accessible, assert_fits_phone, choose, sign_in

PLAN = "Home blood pressure"
TASK = "Send your home blood pressure reading every Monday"
GOAL = "Blood pressure below 130/80 mmHg"
DUE = date.today() + timedelta(days=75)
HOME_BP = ("124", "78")


@pytest.fixture(scope="module")
def maria(browser, app_url) -> str:
    """Maria Garcia's chart id, found the way the doctor finds her."""
    ctx = browser.new_context(base_url=app_url, viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(20_000)
    page = ctx.new_page()
    sign_in(page, "doctor@demo.clinic", wait=True)
    page.goto("/doctor/patients")
    page.locator("#patient-query").fill("Garcia")
    page.locator("#search-submit").click()
    page.locator("#search-results").get_by_role("link", name="Maria Garcia").first.click()
    page.wait_for_url("**/chart/*")
    patient_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    ctx.close()
    return patient_id


def _open_plan_page(page: Page, patient_id: str) -> None:
    page.goto(f"/chart/{patient_id}")
    page.locator("#chart-careplan-link").click()
    page.wait_for_url(f"**/chart/{patient_id}/careplan")
    expect(page.locator("#chart-name")).to_have_text("Maria Garcia")


def _plan(page: Page):
    return page.locator(".careplan-plan", has=page.get_by_role("heading", name=PLAN, exact=True))


def test_the_doctor_starts_a_plan_with_a_goal_and_a_task(page, maria):
    sign_in(page, "doctor@demo.clinic", wait=True)
    _open_plan_page(page, maria)
    expect(page.locator(".careplan-plan").first).to_contain_text("Blood pressure plan")  # the demo's plan

    page.locator("#new-careplan").click()
    page.locator("#careplan-title").fill(PLAN)
    choose(page, "careplan-problem", "I10 — Essential (primary) hypertension")
    page.locator("#careplan-save").click()
    expect(page.get_by_text("Care plan started.").first).to_be_visible()
    plan = _plan(page)
    expect(plan).to_contain_text("For I10 — Essential (primary) hypertension")

    plan.locator(".add-goal").click()
    page.locator("#careplan-target").fill("400/20")
    page.locator("#careplan-due").fill(DUE.isoformat())
    page.locator("#careplan-save").click()
    expect(page.locator("#careplan-target-error")).to_have_text(
        "The upper (systolic) target must be between 40 and 300 mmHg.")
    page.locator("#careplan-target").fill("130/80")
    page.locator("#careplan-save").click()
    expect(page.get_by_text("Goal added.").first).to_be_visible()
    goal = plan.locator(".careplan-goal").first
    expect(goal).to_contain_text(GOAL)
    expect(goal).to_contain_text(f"by {DUE:%a} {DUE.day} {DUE:%b %Y}")

    plan.locator(".add-activity").click()
    page.locator("#careplan-activity-text").fill(TASK)
    page.locator("#careplan-task").click()
    page.locator("#careplan-save").click()
    expect(page.get_by_text("Activity added.").first).to_be_visible()
    activity = plan.locator(".careplan-activity", has_text=TASK)
    expect(activity).to_contain_text("Patient task")
    expect(activity).to_contain_text("Not done yet")
    assert_accessible(page)


def test_the_patient_ticks_the_task_and_adds_a_home_reading_on_a_phone(phone_page):
    sign_in(phone_page, "patient@demo.clinic", wait=True)
    phone_page.goto("/patient")
    todo = phone_page.locator("#tasks-to-do")
    task = todo.locator(".careplan-task", has_text=TASK)
    expect(task).to_contain_text(f"From {PLAN}")
    assert_accessible(phone_page)
    assert_fits_phone(phone_page)
    task.get_by_role("checkbox").click()
    expect(phone_page.get_by_text("Task done").first).to_be_visible()
    expect(todo.locator(".careplan-task", has_text=TASK)).to_have_count(0)

    phone_page.goto("/patient/record")
    card = phone_page.locator("#care-plan")
    own = card.locator(".own-careplan", has=phone_page.get_by_role("heading", name=PLAN, exact=True))
    expect(own).to_contain_text(GOAL)
    expect(own.locator(".goal-progress")).to_contain_text("Your latest reading: ")  # her demo home readings
    expect(own.get_by_role("checkbox", name=TASK)).to_be_checked()
    expect(own.locator(".careplan-task", has_text=TASK)).to_contain_text("Done ")
    assert_accessible(phone_page)
    assert_fits_phone(phone_page)

    phone_page.goto("/patient/readings")
    phone_page.locator("#add-reading").click()
    phone_page.locator("#vital-systolic").fill(HOME_BP[0])
    phone_page.locator("#vital-diastolic").fill(HOME_BP[1])
    phone_page.locator("#vitals-save").click()
    expect(phone_page.get_by_text("Reading added").first).to_be_visible()
    expect(phone_page.locator("#trend-blood_pressure .trend-goal")).to_contain_text("Your goal: below 130/80 mmHg")


def test_the_doctor_sees_progress_and_the_goal_line(page, maria):
    sign_in(page, "doctor@demo.clinic", wait=True)
    _open_plan_page(page, maria)
    goal = _plan(page).locator(".careplan-goal").first
    expect(goal.locator(".goal-progress")).to_contain_text(f"Latest: {'/'.join(HOME_BP)} mmHg")
    expect(goal.locator(".goal-progress")).to_contain_text("(reported by patient) — on target")
    expect(_plan(page).locator(".careplan-activity", has_text=TASK)).to_contain_text("Done ")

    page.goto(f"/chart/{maria}/vitals")
    chart = page.locator("#trend-blood_pressure")
    expect(chart.locator(".recharts-line")).to_have_count(2)
    expect(chart.locator(".recharts-reference-line")).to_have_count(2)  # systolic 130 and diastolic 80
    expect(chart.locator(".trend-goal")).to_contain_text("Care plan goal: below 130/80 mmHg")


def test_staff_do_not_reach_care_plans(page, maria):
    sign_in(page, "staff@demo.clinic", wait=True)
    page.goto(f"/chart/{maria}")
    expect(page.locator("#chart-documents-link")).to_be_visible()
    expect(page.locator("#chart-careplan-link")).to_have_count(0)
    page.goto(f"/chart/{maria}/careplan")
    expect(page.locator("#not-permitted")).to_be_visible()
    expect(page.locator(".careplan-plan")).to_have_count(0)
