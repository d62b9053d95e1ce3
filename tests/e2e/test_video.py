"""Video visits in the real app (issue 18 Bars): Maria Garcia joins from her telehealth appointment's
Join button, her doctor from their list of video visits; she waits, the doctor admits her, and both browsers —
two Chromium contexts with Chromium's fake camera and microphone — show a connected call with a live
video track from the other side, and chat over it; a third account (another doctor) is refused with
a reason on screen."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import assert_accessible, new_page, sign_in

# Repeated on the scaled-out run: the signalling relay between the app's workers goes through Redis.
pytestmark = pytest.mark.scaled_out

ROOT = Path(__file__).resolve().parents[2]
LIVE_VIDEO = """() => {
  const v = document.getElementById('video-remote');
  const t = v && v.srcObject && v.srcObject.getVideoTracks()[0];
  return !!t && t.readyState === 'live';
}"""
CONNECTED = "() => !!window.portalVideoCall && !!window.portalVideoCall.pc && " \
            "window.portalVideoCall.pc.connectionState === 'connected'"


def _book(app_env: dict, minutes: int, doctor: str) -> str:
    """A telehealth appointment of Maria Garcia with this doctor starting in `minutes`, booked in the
    app's own database with the operator's command (``portal demo-video-visit``)."""
    done = subprocess.run([str(Path(sys.executable).parent / "portal"), "demo-video-visit", "--minutes", str(minutes),
                           "--doctor", doctor],
                          cwd=ROOT, env=app_env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return re.search(r"/video/([0-9a-f-]{36})", done.stdout).group(1)


_TEAM = """
import sys
import patient_portal.models
from sqlmodel import select
from patient_portal.core.db import unit_of_work
from patient_portal.domain.identity import care_team
from patient_portal.core.access import CareTeamMember
from patient_portal.domain.identity.models import User
with unit_of_work() as s:
    maria = s.exec(select(User).where(User.email == "patient@demo.clinic")).one().patient_id
    doctor = s.exec(select(User).where(User.email == sys.argv[2])).one().id
    if sys.argv[1] == "on":
        care_team.assign_doctor_system(s, patient_id=maria, doctor_id=doctor)
    else:
        for row in s.exec(select(CareTeamMember).where(CareTeamMember.patient_id == maria,
                                                       CareTeamMember.user_id == doctor)).all():
            s.delete(row)
"""


@pytest.fixture
def priya_treats_maria(app_env):
    """Dr. Priya Raman on Maria Garcia's care team for this test only (a doctor joins the calls of their
    own patients); Dr. Dana Doctor's day is filled by the appointments tests, on the same database when
    scaled out, so the visit is booked with Dr. Raman."""
    def team(what: str) -> None:
        subprocess.run([sys.executable, "-c", _TEAM, what, "priya.raman@demo.clinic"], cwd=ROOT, env=app_env,
                       check=True, capture_output=True, text=True, timeout=120)

    team("on")
    yield "priya.raman@demo.clinic"
    team("off")


def _person(browser, app_url, email: str):
    page = new_page(browser, app_url, permissions=["camera", "microphone"])
    sign_in(page, email, wait=True)
    return page


def test_a_video_visit_connects_patient_and_doctor_and_a_third_person_is_refused(browser, app_url, app_env,
                                                                               priya_treats_maria):
    aid = _book(app_env, minutes=3, doctor=priya_treats_maria)
    patient = _person(browser, app_url, "patient@demo.clinic")
    doctor = _person(browser, app_url, "priya.raman@demo.clinic")
    try:
        patient.goto("/patient/appointments")  # the appointment itself has the Join button
        card = patient.locator(".appointment-card", has=patient.locator(f"a[href='/video/{aid}']"))
        expect(card).to_contain_text("Dr. Priya Raman")
        assert_accessible(patient)
        card.get_by_role("link", name="Join the video visit with Dr. Priya Raman").click()
        patient.wait_for_url(f"**/video/{aid}")
        expect(patient.locator("#video-status")).to_be_visible()
        expect(patient.locator("#video-status")).to_contain_text("waiting room")

        doctor.goto("/doctor/patients")
        doctor.get_by_role("link", name="Video visits").first.click()  # inside the app, as a doctor goes there
        doctor.locator(f"a[href='/video/{aid}']").click()
        doctor.wait_for_url(f"**/video/{aid}")
        expect(doctor.locator("#video-status")).to_contain_text("is waiting")
        doctor.locator("#video-admit").click()

        for side in (patient, doctor):
            side.wait_for_function(CONNECTED, timeout=30_000)
            side.wait_for_function(LIVE_VIDEO, timeout=30_000)
            expect(side.locator("#video-root")).to_have_attribute("data-state", "connected")
            expect(side.locator("#video-status")).to_contain_text("Connected with")
        assert_accessible(patient)

        doctor.locator("#video-chat-input").fill("Can you hear me well?")
        doctor.locator("#video-chat-send").click()
        expect(patient.locator("#video-chat-log")).to_contain_text("Can you hear me well?")
        patient.locator("#video-camera").click()  # the camera off: the switch says so
        expect(patient.locator("#video-camera")).to_have_attribute("aria-pressed", "false")
        expect(patient.locator("#video-camera")).to_contain_text("Camera off")

        third = _person(browser, app_url, "doctor@demo.clinic")  # Maria's own doctor, not this visit's
        try:
            third.goto(f"/video/{aid}")
            expect(third.locator("#video-refused")).to_be_visible()
            expect(third.locator("#video-refused")).to_contain_text(
                "Only the patient and the doctor of this appointment can join")
            assert third.evaluate("() => !window.portalVideoCall || !window.portalVideoCall.pc")
        finally:
            third.context.close()

        # the call between the two is untouched by the refused attempt
        doctor.wait_for_function(CONNECTED)
        patient.locator("#video-leave").click()
        expect(patient.locator("#video-ended")).to_contain_text("You have left")
        expect(doctor.locator("#video-status")).to_contain_text("has left")
    finally:
        patient.context.close()
        doctor.context.close()
