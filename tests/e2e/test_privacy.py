"""Issue 15 part B in the browser: break-the-glass from refusal to expiry, the patient's log, the admin's
review; an amendment denied with a reason and the patient's statement of disagreement; a patient
withdrawing text-message consent (the reminder channel's own test is at the service level:
tests/integration/appointments/test_reminders.py)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from playwright.sync_api import expect

from tests.e2e.helpers import DEMO_PASSWORD, assert_accessible, assert_fits_phone, new_page, sign_in

ROOT = Path(__file__).resolve().parents[2]
PHONE = {"width": 390, "height": 844}

#: Time passes: the doctor's running grant (and the job that closes it) now ends in `seconds`, in the
#: app's own database — as if the hour had almost gone by.
_SHORTEN = """
import sys
from datetime import timedelta
from sqlmodel import select
from patient_portal.core.access_facts import EmergencyGrant
from patient_portal.core.db import unit_of_work, utcnow
from patient_portal.core.jobs import Job
from patient_portal.domain.breakglass.service import ended_job_key
from patient_portal.domain.identity.models import User
email, seconds = sys.argv[1], float(sys.argv[2])
with unit_of_work() as s:
    user = s.exec(select(User).where(User.email == email)).one()
    for grant in s.exec(select(EmergencyGrant).where(EmergencyGrant.user_id == user.id,
                                                     EmergencyGrant.ended_at.is_(None))).all():
        grant.expires_at = utcnow() + timedelta(seconds=seconds)
        s.add(grant)
        for job in s.exec(select(Job).where(Job.key == ended_job_key(grant.id), Job.status == "queued")).all():
            job.run_after = grant.expires_at
            s.add(job)
"""


def _shorten_grant(app_env: dict, email: str, seconds: float) -> None:
    subprocess.run([sys.executable, "-c", _SHORTEN, email, str(seconds)], cwd=ROOT, env=app_env, check=True)


def test_break_the_glass_from_refusal_to_expiry_review_and_the_patients_log(browser, app_url, app_env, maria, smtp):
    doctor = new_page(browser, app_url)
    sign_in(doctor, "priya.raman@demo.clinic", wait=True)  # not on Maria Garcia's care team
    doctor.goto(f"/chart/{maria}")
    expect(doctor.locator("#not-permitted")).to_be_visible()
    doctor.locator("#request-emergency-access").click()
    doctor.wait_for_url(f"**/chart/{maria}/emergency-access")
    expect(doctor.get_by_role("heading", level=1)).to_have_text("Emergency access")
    assert_accessible(doctor)
    doctor.get_by_text("Life-threatening emergency", exact=True).click()
    doctor.locator("#emergency-form-reason-text").fill("Collapsed in the waiting room")
    doctor.locator("#emergency-form-password").fill("not my password at all")
    doctor.locator("#emergency-submit").click()
    expect(doctor.locator("#emergency-form-password-error")).to_have_text("Your current password is not right.")
    expect(doctor.locator("#emergency-form-password")).to_have_value("")  # the refusal empties it: type again after
    doctor.locator("#emergency-form-password").fill(DEMO_PASSWORD)
    doctor.locator("#emergency-submit").click()
    doctor.wait_for_url(f"**/chart/{maria}")
    expect(doctor.locator("#emergency-banner")).to_contain_text("Emergency access")
    expect(doctor.locator("#emergency-banner")).to_contain_text("minutes left")
    expect(doctor.locator("#chart-name")).to_have_text("Maria Garcia")
    expect(doctor.locator("#chart-visits-link")).to_be_visible()
    assert_accessible(doctor)
    Path("test-artifacts/tour").mkdir(parents=True, exist_ok=True)
    doctor.screenshot(path="test-artifacts/tour/emergency-access-banner.png", full_page=True)

    _shorten_grant(app_env, "priya.raman@demo.clinic", 2)
    time.sleep(3)
    doctor.locator("#chart-visits-link").click()  # the next click decides again: the grant has run out
    expect(doctor.locator("#not-permitted")).to_be_visible()
    expect(doctor.locator("#request-emergency-access")).to_be_visible()
    told = smtp.wait_for("maria.garcia@example.com", timeout=60, subject="Emergency access")
    assert told and "Dr. Priya Raman" in told[-1].get_content()
    doctor.context.close()

    patient = new_page(browser, app_url, viewport=PHONE)
    sign_in(patient, "patient@demo.clinic", wait=True)
    patient.goto("/patient/access-log")
    log = patient.locator("#access-log")
    expect(log).to_contain_text("Dr. Priya Raman (doctor)")
    expect(log).to_contain_text("Used emergency access to open your record (reason: life-threatening emergency)")
    expect(log).to_contain_text("— using emergency access")
    patient.context.close()

    admin = new_page(browser, app_url)
    sign_in(admin, "admin@demo.clinic", wait=True)
    admin.goto("/admin/emergency-access")
    task = admin.locator("#review-tasks .review-task", has_text="Dr. Priya Raman")
    expect(task.first).to_contain_text("Collapsed in the waiting room")
    assert_accessible(admin)
    task.first.locator(".review-approve").click()
    expect(admin.locator("#review-tasks")).to_contain_text("Nothing to review.")
    admin.context.close()


def test_an_amendment_denied_with_a_reason_and_the_patients_disagreement(browser, app_url, maria):
    patient = new_page(browser, app_url, viewport=PHONE)
    sign_in(patient, "patient@demo.clinic", wait=True)
    patient.goto("/patient/privacy")
    expect(patient.get_by_role("heading", level=1)).to_have_text("Privacy and sharing")
    patient.locator("#amend-part").fill("My record says I smoke")
    patient.locator("#amend-change").fill("I stopped smoking in 2019")
    patient.locator("#amend-submit").click()
    request = patient.locator("#amendments .amendment", has_text="I stopped smoking in 2019")
    expect(request).to_contain_text("Waiting for an answer")
    assert_accessible(patient)
    assert_fits_phone(patient)

    doctor = new_page(browser, app_url)
    sign_in(doctor, "doctor@demo.clinic", wait=True)
    doctor.goto("/doctor")
    expect(doctor.locator("#amendments-due")).to_contain_text("Maria Garcia")
    doctor.goto(f"/chart/{maria}/privacy")
    asked = doctor.locator("#amendments .amendment", has_text="I stopped smoking in 2019")
    asked.locator("textarea").fill("The 2025 visit notes record that you smoke daily.")
    asked.locator(".amendment-deny").click()
    expect(asked).to_contain_text("Reason for the denial")
    assert_accessible(doctor)
    doctor.context.close()

    patient.reload()
    denied = patient.locator("#amendments .amendment", has_text="I stopped smoking in 2019")
    expect(denied).to_contain_text("The 2025 visit notes record that you smoke daily.")
    denied.locator("textarea").fill("I quit in 2019; the 2025 note copied an old entry.")
    denied.locator(".amendment-disagree").click()
    expect(denied.locator(".amendment-disagreement")).to_contain_text("I quit in 2019")
    patient.context.close()


def test_a_patient_withdraws_text_message_consent(browser, app_url):
    patient = new_page(browser, app_url, viewport=PHONE)
    sign_in(patient, "patient@demo.clinic", wait=True)
    patient.goto("/patient/privacy")
    sms = patient.locator("#consent-sms")
    sms.locator("#consent-sms-agree").click()
    expect(sms.locator(".consent-status")).to_have_text("Agreed")
    sms.locator("#consent-sms-withdraw").click()
    expect(sms.locator(".consent-status")).to_have_text("Withdrawn")
    expect(sms.locator("#consent-sms-agree")).to_be_visible()
    patient.screenshot(path="test-artifacts/tour/patient-privacy-phone.png", full_page=True)
    patient.context.close()
