"""e2e (issue 13 bars): appointments as each role uses them, in Chromium against the real app.

* The admin adds an evening session for today; the front desk books a new-patient visit for James
  Okafor with "first available" and checks him in on the doctor's day; that doctor's My day shows him
  checked in; a visit whose time has come is marked a no-show.
* Maria Garcia (the demo patient) sets reminders to email, is told why she cannot book two hours
  ahead or on a Sunday, books a follow-up with her doctor; the reminder arrives over real SMTP with an
  .ics invitation and a cancel link; she cancels through the link (once); the time is offered to a
  waitlisted patient, who takes it through their link; the front desk sees the portal bookings.

"Time passes" through two test hooks that act on the app's own database (as helpers.make_mfa_account
does): the reminder's job is made due now (the worker in the app sends it), and a booked visit is
moved into the past so it can be marked a no-show.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import assert_accessible, assert_fits_phone, choose, sign_in

# Repeated on the scaled-out run: booking and reminders on PostgreSQL with two app workers.
pytestmark = pytest.mark.scaled_out

ROOT = Path(__file__).resolve().parents[2]
DOCTORS = {"Dr. Dana Doctor": "doctor@demo.clinic", "Dr. Priya Raman": "priya.raman@demo.clinic",
           "Dr. Marcus Bell": "marcus.bell@demo.clinic"}
MARIA_EMAIL = "maria.garcia@example.com"
NORA_EMAIL = "nora.lindqvist@example.org"

_HOOKS = """
import sys
from datetime import UTC, timedelta
from sqlmodel import col, select
from patient_portal.core.access import Actor, Role
from patient_portal.core.db import unit_of_work, utcnow
from patient_portal.core.jobs import Job
from patient_portal.domain.appointments.models import Appointment
from patient_portal.domain.identity.models import User
from patient_portal.domain.patients.models import Patient
from patient_portal.domain.patients.registration import register_patient

what = sys.argv[1]
with unit_of_work() as s:
    if what == "patient":  # the front desk registers a patient who prefers email
        given, family, email = sys.argv[2:5]
        desk = s.exec(select(User).where(User.email == "staff@demo.clinic")).one()
        register_patient(s, Actor(user_id=desk.id, role=Role.STAFF, display_name="Sam Staff"), {
            "basic": {"given_name": given, "family_name": family, "date_of_birth": "1988-06-14", "sex": "female",
                      "phone_mobile": "+1 617 555 0188", "email": email, "address_line1": "9 Pier Road",
                      "city": "Boston", "postal_code": "02110", "preferred_contact_method": "email",
                      "preferred_language": "English"},
            "history": {"allergies": [], "medications": [], "conditions": [], "family_history": [],
                        "immunizations": []},
            "insurance": [],
            "emergency": [{"name": "Erik Lindqvist", "relationship": "Brother", "phone": "+1 617 555 0189",
                           "order": "primary"}]}, confirmed_different=True)
    elif what == "remind":  # the next reminder of the account's newest booked appointment is due now
        user = s.exec(select(User).where(User.email == sys.argv[2])).one()
        appt = s.exec(select(Appointment).where(Appointment.patient_id == user.patient_id,
                                                Appointment.status == "booked")
                      .order_by(col(Appointment.created_at).desc())).first()
        jobs = [j for j in s.exec(select(Job).where(Job.status == "queued")).all()
                if (j.key or "").startswith(f"appt-reminder:{appt.id}:")]
        job = min(jobs, key=lambda j: j.run_after)
        job.run_after = utcnow() - timedelta(seconds=1)
        s.add(job)
    elif what == "time-passes":  # the newest booked appointment began a quarter of an hour ago
        appt = s.exec(select(Appointment).where(Appointment.status == "booked")
                      .order_by(col(Appointment.created_at).desc())).first()
        length = appt.end_at - appt.start_at
        held = appt.blocked_until - appt.start_at
        naive = lambda d: d.astimezone(UTC).replace(tzinfo=None) if d.tzinfo else d  # noqa: E731 (SQLite: naive UTC)
        others = [(naive(a.start_at), naive(a.blocked_until)) for a in s.exec(select(Appointment).where(
            Appointment.doctor_id == appt.doctor_id, Appointment.id != appt.id,
            col(Appointment.status).not_in(["cancelled", "entered-in-error"]))).all()]
        start = utcnow().replace(second=0, microsecond=0) - timedelta(minutes=15)
        while any(a < naive(start + held) and naive(start) < b for a, b in others):  # the database refuses overlaps
            start -= timedelta(minutes=15)
        appt.start_at, appt.end_at, appt.blocked_until = start, start + length, start + held
        s.add(appt)
    elif what == "contact":  # put the account's record back to its contact preference
        user = s.exec(select(User).where(User.email == sys.argv[2])).one()
        patient = s.get(Patient, user.patient_id)
        patient.preferred_contact_method = sys.argv[3]
        s.add(patient)
"""


def _hook(app_env: dict, *args: str) -> None:
    subprocess.run([sys.executable, "-c", _HOOKS, *args], cwd=ROOT, env=app_env, check=True, capture_output=True,
                   text=True, timeout=120)


def _zone(app_env: dict) -> ZoneInfo:
    return ZoneInfo(app_env.get("PORTAL_TIMEZONE", "UTC"))


def _today(app_env: dict) -> date:
    return datetime.now(UTC).astimezone(_zone(app_env)).date()


def _new_page(browser, app_url: str, *, phone: bool = False) -> Page:
    size = {"width": 390, "height": 844} if phone else {"width": 1280, "height": 900}
    ctx = browser.new_context(base_url=app_url, viewport=size, is_mobile=phone, has_touch=phone)
    ctx.set_default_timeout(20_000)
    return ctx.new_page()


def _toast(page: Page, text: str) -> None:
    expect(page.locator("[data-sonner-toast]").filter(has_text=text).first).to_be_visible()


def _mail(smtp, address: str, subject: str, timeout: float = 60):
    """The newest message to `address` whose subject starts with `subject` (waiting for it)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = [m for m in smtp.to(address) if str(m["Subject"]).startswith(subject)]
        if found:
            return found[-1]
        time.sleep(0.5)
    raise AssertionError(f"no message '{subject}…' to {address}: {[m['Subject'] for m in smtp.to(address)]}")


def _link(message, words: str) -> str:
    found = re.search(re.escape(words) + r", open this link:\s+(\S+)", message.get_body(("plain",)).get_content())
    assert found, f"no '{words}' link in the message"
    return found.group(1)


def _find_patient(page: Page, query: str, name: str) -> None:
    if page.get_by_role("button", name="Change patient").is_visible():
        page.get_by_role("button", name="Change patient").click()
    page.locator("#booking-patient-search").fill(query)
    page.locator("#booking-patient-find").click()
    page.locator("#booking-patient-results").get_by_role("button", name=f"Choose {name}").click()
    expect(page.locator("#booking-patient")).to_have_text(name)


def _book_first(page: Page, visit_type: str, doctor: str, *, start: date | None = None) -> str:
    """Book the first free time the front desk is shown; returns the appointment's line."""
    choose(page, "booking-visit-type", visit_type)
    choose(page, "booking-doctor", doctor)
    if start is not None:
        page.locator("#booking-from").fill(start.isoformat())
    page.locator("#booking-find").click()
    first = page.locator("#booking-slots .time-choice").first
    expect(first).to_be_visible()
    first.click()
    page.locator("#booking-book").click()
    _toast(page, "Booked:")
    card = page.locator(".patient-appointment").filter(has_text=visit_type).last
    expect(card).to_be_visible()
    return card.inner_text()


def _day_of(page: Page, doctor: str) -> None:
    page.locator("#tab-schedule").click()
    choose(page, "schedule-doctor", doctor)
    page.get_by_role("button", name="Today", exact=True).click()


def test_first_available_check_in_the_doctors_day_and_a_no_show(browser, app_url, app_env):
    now = datetime.now(UTC).astimezone(_zone(app_env))
    if now.hour >= 23:
        pytest.skip("a new-patient visit no longer fits into today (clinic time after 23:00)")
    if now.hour < 1:  # "time passes" puts the visit a quarter of an hour back: yesterday, off today's list
        pytest.skip("the no-show needs a visit earlier today (clinic time before 01:00)")
    # the admin opens an evening session for today, so "first available" is today whatever the weekday
    admin = _new_page(browser, app_url)
    sign_in(admin, "admin@demo.clinic", wait=True)
    admin.goto("/admin/scheduling")
    expect(admin.get_by_role("heading", level=1)).to_have_text("Scheduling")
    choose(admin, "exception-kind", "Extra session")
    choose(admin, "exception-doctor", "Dr. Dana Doctor")
    admin.locator("#exception-start").fill(now.date().isoformat())
    begin = (now + timedelta(minutes=5 - now.minute % 5)).strftime("%H:%M")
    admin.locator("#exception-from").fill(begin)
    admin.locator("#exception-until").fill("23:55")
    admin.locator("#exception-label").fill("Evening clinic")
    admin.locator("#exception-add").click()
    _toast(admin, "Exception added")
    expect(admin.locator("#doctor-hours")).to_contain_text("Evening clinic")
    assert_accessible(admin)

    # the front desk books James Okafor's new-patient visit at the first available time and checks him in
    desk = _new_page(browser, app_url)
    sign_in(desk, "staff@demo.clinic", wait=True)
    desk.goto("/staff/appointments")
    expect(desk.get_by_role("heading", level=1)).to_have_text("Appointments")
    _find_patient(desk, "Okafor, James", "James Okafor")
    line = _book_first(desk, "New patient", "Any doctor (first available)")
    doctor = next(name for name in DOCTORS if name in line)
    assert now.strftime("%a %-d %b") in line, f"first available is not today: {line}"
    _day_of(desk, doctor)
    james = desk.locator(".schedule-item").filter(has_text="James Okafor")
    expect(james).to_contain_text("New patient")
    james.locator(".check-in").click()
    _toast(desk, "Checked in")
    expect(james).to_contain_text("Checked in")
    assert_accessible(desk)

    # that doctor's day shows him checked in
    clinician = _new_page(browser, app_url)
    sign_in(clinician, DOCTORS[doctor], wait=True)
    clinician.goto("/doctor")
    clinician.get_by_role("link", name=re.compile("My day")).first.click()
    expect(clinician.get_by_role("heading", level=1)).to_have_text("My day")
    row = clinician.locator(".schedule-item").filter(has_text="James Okafor")
    expect(row).to_contain_text("Checked in")
    expect(row).to_contain_text("New patient")
    assert_accessible(clinician)

    # a visit whose time has come and nobody arrived: the front desk marks a no-show
    desk.get_by_role("tab", name="Book").click()
    _find_patient(desk, "Tanaka, Aiko", "Aiko Tanaka")
    _book_first(desk, "Follow-up", "Dr. Dana Doctor")
    _hook(app_env, "time-passes")
    _day_of(desk, "Dr. Dana Doctor")
    aiko = desk.locator(".schedule-item").filter(has_text="Aiko Tanaka")
    aiko.locator(".no-show").click()
    desk.locator("#confirm-no-show").click()
    _toast(desk, "Marked as a no-show")
    expect(aiko).to_contain_text("No-show")
    for p in (admin, desk, clinician):
        p.context.close()


def test_self_booking_reminder_cancel_link_and_the_waitlist(browser, app_url, app_env, smtp):
    _hook(app_env, "patient", "Nora", "Lindqvist", NORA_EMAIL)
    maria = _new_page(browser, app_url, phone=True)
    try:
        _patient_books_and_cancels_by_link(browser, app_url, app_env, smtp, maria)
    finally:
        _hook(app_env, "contact", "patient@demo.clinic", "sms")  # as the demo seed has it, for the other tests
        maria.context.close()


def _patient_books_and_cancels_by_link(browser, app_url, app_env, smtp, maria: Page) -> None:
    # Maria wants her reminders by email
    sign_in(maria, "patient@demo.clinic", wait=True)
    maria.goto("/patient/record")
    maria.locator("#edit-contact").click()
    choose(maria, "edit-preferred_contact_method", "Email")
    maria.locator("#edit-save").click()
    expect(maria.locator("#edit-save")).to_have_count(0)

    # she is told why not today, or on a Sunday, then books the next free follow-up with her doctor
    maria.goto("/patient/appointments")
    expect(maria.get_by_role("heading", level=1)).to_have_text("Your appointments")
    expect(maria.get_by_text("We send reminders by email.")).to_be_visible()
    maria.locator("#book-appointment").click()
    choose(maria, "book-visit-type", "Follow-up")
    expect(maria.locator("#booking-times .time-choice").first).to_be_visible()
    today = _today(app_env)
    maria.locator("#book-day").fill(today.isoformat())
    expect(maria.locator("#booking-day-message")).to_contain_text("Appointments can be booked from 24 hours ahead")
    sunday = today + timedelta(days=(6 - today.weekday()) % 7 or 7)
    maria.locator("#book-day").fill(sunday.isoformat())
    expect(maria.locator("#booking-day-message")).to_contain_text(
        f"Dr. Dana Doctor does not see patients for this visit on {sunday.strftime('%a %-d %b %Y')}")
    maria.locator("#booking-next-free").click()
    first = maria.locator("#booking-times .time-choice").first
    expect(first).to_be_visible()
    at = first.inner_text().strip()
    day = date.fromisoformat(maria.locator("#book-day").input_value())
    first.click()
    maria.locator("#book-reason").fill("Blood pressure check")
    assert_accessible(maria)
    assert_fits_phone(maria)
    maria.locator("#booking-save").click()
    _toast(maria, "Booked:")
    when = f"{day.strftime('%a %-d %b')}, {at}"
    card = maria.locator(".appointment-card").filter(has_text=when)
    expect(card).to_contain_text("Follow-up with Dr. Dana Doctor")
    expect(card).to_contain_text("Booked")

    # the front desk books Nora Lindqvist a week later and puts her on the waitlist for earlier
    desk = _new_page(browser, app_url)
    sign_in(desk, "staff@demo.clinic", wait=True)
    desk.goto("/staff/appointments")
    _find_patient(desk, "Lindqvist, Nora", "Nora Lindqvist")
    _book_first(desk, "Follow-up", "Dr. Dana Doctor", start=day + timedelta(days=7))
    desk.get_by_role("button", name="Waitlist for earlier").click()
    _toast(desk, "On the waitlist")

    # the reminder (its job made due now) arrives over SMTP: the clinic, the time, the doctor, an .ics, links
    _hook(app_env, "remind", "patient@demo.clinic")
    reminder = _mail(smtp, MARIA_EMAIL, "Reminder: your appointment at Demo Clinic")
    text = reminder.get_body(("plain",)).get_content()
    assert "Dr. Dana Doctor" in text and at in text and "Blood pressure" not in text
    invites = [a for a in reminder.iter_attachments() if a.get_content_type() == "text/calendar"]
    assert len(invites) == 1 and invites[0].get_filename() == "appointment.ics"
    ics = invites[0].get_content()
    ics = ics.decode() if isinstance(ics, bytes) else ics
    assert "BEGIN:VEVENT" in ics and "METHOD:REQUEST" in ics

    # she cancels through the link, without signing in; the link works once
    cancel_url = _link(reminder, "To cancel")
    visitor = _new_page(browser, app_url, phone=True)
    visitor.goto(cancel_url)
    expect(visitor.get_by_role("heading", level=1)).to_have_text("Cancel your appointment")
    expect(visitor.locator("#link-appointment")).to_contain_text("Dr. Dana Doctor")
    assert_accessible(visitor)
    visitor.locator("#link-respond").click()
    expect(visitor.locator("#link-done")).to_contain_text("Your appointment is cancelled")
    visitor.goto(cancel_url)
    expect(visitor.locator("#link-error")).to_contain_text("already used")

    # the freed time is offered to Nora, who takes it through her link
    offer = _mail(smtp, NORA_EMAIL, "An earlier appointment at Demo Clinic")
    assert at in offer.get_body(("plain",)).get_content()
    visitor.goto(_link(offer, "To take it"))
    expect(visitor.get_by_role("heading", level=1)).to_have_text("An earlier time for you")
    visitor.locator("#link-respond").click()
    expect(visitor.locator("#link-done")).to_contain_text("The time is yours")
    visitor.context.close()

    # Maria sees it cancelled; the front desk was told of her booking and cancellation and Nora's move
    maria.goto("/patient/appointments")
    expect(maria.locator("#past")).to_contain_text("Cancelled")
    desk.goto("/staff")
    notices = desk.locator("#appointment-notices")
    expect(notices).to_contain_text("Maria Garcia booked online")
    expect(notices).to_contain_text("Maria Garcia cancelled")
    expect(notices).to_contain_text("Nora Lindqvist took a waitlist offer for")
    assert_accessible(desk)
    desk.context.close()
