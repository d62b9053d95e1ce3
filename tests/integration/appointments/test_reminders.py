"""Reminders and the waitlist through the real outbox and a real SMTP server (issue 13): the booking's
email with its .ics; a reminder moved with its appointment, sent once even with two job workers and
a job run twice; the cancel link (single use) sends the .ics CANCEL with the same UID and a higher
SEQUENCE and offers the freed time to the first waitlisted patient, whose accept link books it; a
lapsed offer goes to the next; texts for patients who prefer them."""

from __future__ import annotations

import re
import time as clock
from datetime import timedelta

import pytest
from icalendar import Calendar
from sqlmodel import select

from patient_portal.core import sms
from patient_portal.core.db import unit_of_work, utcnow
from patient_portal.core.errors import Invalid
from patient_portal.core.jobs import Job, Worker, run_due
from patient_portal.domain.appointments import reminders
from patient_portal.domain.appointments import service as appts
from patient_portal.domain.appointments.models import Appointment, ReminderSent
from patient_portal.domain.consent import service as consent
from tests.integration.appointments.support import at, jobs_under, mail_jobs, workday
from tests.integration.patients_support import call, events


def _calendar(message) -> Calendar:
    part, = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    return Calendar.from_ical(part.get_content())


def _text(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def _token(message, purpose: str) -> str:
    words = {"confirm": "To confirm you are coming", "cancel": "To cancel", "accept": "To take it"}[purpose]
    found = re.search(re.escape(words) + r", open this link:\r?\n(\S+)", _text(message))
    assert found, _text(message)
    return found.group(1).split("?t=", 1)[1]


def _due_now(key: str) -> dict:
    with unit_of_work() as s:
        job = s.exec(select(Job).where(Job.key == key)).one()
        job.run_after = utcnow() - timedelta(seconds=1)
        s.add(job)
        return dict(job.payload)


def test_booking_reminder_cancel_link_and_the_waitlist_over_real_smtp(clinic, mailbox):
    c = clinic
    day = workday(5)
    booked = call(appts.book, c.staff, patient_id=c.omar, visit_type_id=c.follow_up, doctor_id=c.lee.user_id,
                  start=at(day, "09:00"), reason="Blood pressure check")
    first, = mailbox.wait_for("omar@example.com")
    invite = _calendar(first)
    event = invite.walk("VEVENT")[0]
    assert str(invite["METHOD"]) == "REQUEST" and int(event["SEQUENCE"]) == 0
    assert "Dr. Ana Lee" in _text(first) and "Blood pressure" not in _text(first)
    uid = str(event["UID"])

    # Ines waits for an earlier follow-up than hers
    hers = call(appts.book, c.staff, patient_id=c.ines, visit_type_id=c.follow_up, doctor_id=c.lee.user_id,
                start=at(workday(12), "10:00"))
    call(appts.join_waitlist, c.patient(c.ines), patient_id=c.ines, visit_type_id=c.follow_up,
         appointment_id=hers.id)

    # the 24-hour reminder falls due: two workers, one reminder
    payload = _due_now(f"appt-reminder:{booked.id}:24")
    second = Worker(interval=0.05).start()
    try:
        messages = mailbox.wait_for("omar@example.com", 2)
        clock.sleep(0.5)
    finally:
        second.stop()
    reminder_mails = [m for m in mailbox.to("omar@example.com") if m["Subject"].startswith("Reminder")]
    assert len(reminder_mails) == 1 and len(messages) == 2
    reminders.remind(payload)  # the same job run again (a lease ran out): nothing more
    run_due()
    assert len([m for m in mailbox.to("omar@example.com") if m["Subject"].startswith("Reminder")]) == 1
    with unit_of_work() as s:
        assert len(s.exec(select(ReminderSent)).all()) == 1
    reminder = reminder_mails[0]
    assert "Demo Clinic" in reminder["Subject"] and "Dr. Ana Lee" in _text(reminder)
    assert str(_calendar(reminder).walk("VEVENT")[0]["UID"]) == uid

    # the cancel link: shown first, then used once
    token = _token(reminder, "cancel")
    shown = call(appts.link_details, token=token)
    assert shown.usable and shown.purpose == "cancel" and shown.doctor_name == "Dr. Ana Lee"
    call(appts.use_link, token=token)
    with pytest.raises(Invalid) as again:
        call(appts.use_link, token=token)
    assert "already used" in str(again.value)
    assert jobs_under(f"appt-reminder:{booked.id}") == []
    reminders.remind(payload)  # a reminder job for the cancelled visit does nothing
    cancelled_mail = mailbox.wait_for("omar@example.com", 3)[-1]
    cancel_event = _calendar(cancelled_mail).walk("VEVENT")[0]
    assert str(_calendar(cancelled_mail)["METHOD"]) == "CANCEL" and str(cancel_event["UID"]) == uid
    assert int(cancel_event["SEQUENCE"]) == 1
    assert len([m for m in mailbox.to("omar@example.com") if m["Subject"].startswith("Reminder")]) == 1
    cancel, = events("appointment.cancel")
    assert cancel.actor_id is None and cancel.detail["reason_code"] == "pat-crs" and cancel.detail["via_link"]

    # the freed time is offered to Ines, who takes it: her later appointment is cancelled
    offer = [m for m in mailbox.wait_for("ines@example.com", 2) if m["Subject"].startswith("An earlier")]
    assert offer, [m["Subject"] for m in mailbox.to("ines@example.com")]
    call(appts.use_link, token=_token(offer[0], "accept"))
    mine = call(appts.own, c.patient(c.ines))
    assert [(a.start, a.status) for a in mine.upcoming] == [(at(day, "09:00"), "booked")]
    with unit_of_work() as s:
        assert s.get(Appointment, hers.id).cancel_reason == "pat-swl"
    assert {n.kind for n in call(appts.notices, c.staff)} >= {"cancelled", "waitlist"}


def test_a_lapsed_offer_goes_to_the_next_patient_on_the_list(clinic):
    c = clinic
    day = workday(5)
    taken = call(appts.book, c.staff, patient_id=c.elena, visit_type_id=c.follow_up, doctor_id=c.lee.user_id,
                 start=at(day, "09:00"))
    for pid in (c.omar, c.ines):
        call(appts.join_waitlist, c.staff, patient_id=pid, visit_type_id=c.follow_up, before=at(workday(20), "09:00"))
    call(appts.cancel, c.staff, appointment_id=taken.id, reason_code="pat")
    with unit_of_work() as s:
        offer = s.exec(select(Appointment).where(Appointment.status == "proposed")).one()
        assert offer.patient_id == c.omar and offer.hold_until is not None
        offer.hold_until = utcnow() - timedelta(minutes=1)
        s.add(offer)
        offer_id = offer.id
    assert jobs_under(f"appt-hold:{offer_id}")
    reminders.hold_expired({"appointment_id": str(offer_id)})
    with unit_of_work() as s:
        rows = s.exec(select(Appointment).where(Appointment.status == "proposed")).all()
    assert [r.patient_id for r in rows] == [c.ines]
    assert [m["to"] for m in mail_jobs() if m["subject"].startswith("An earlier")] == ["omar@example.com",
                                                                                        "ines@example.com"]


def test_a_patient_who_prefers_texts_gets_a_text_naming_clinic_time_and_doctor(clinic):
    c = clinic
    booked = call(appts.book, c.staff, patient_id=c.elena, visit_type_id=c.follow_up, doctor_id=c.kim.user_id,
                  start=at(workday(5), "10:00"), reason="Asthma review")
    payload = _due_now(f"appt-reminder:{booked.id}:24")
    reminders.remind(payload)
    while run_due():
        pass
    texts = sms.gateway().to("+16175550133")
    assert texts and "Demo Clinic" in texts[-1].text and "Dr. Joon Kim" in texts[-1].text
    assert "Asthma" not in texts[-1].text and "Cancel: http" in texts[-1].text
    assert events("appointment.remind")[0].detail == {"hours": 24, "channel": "sms"}


def test_a_patient_who_withdraws_sms_consent_gets_the_next_reminder_by_email_only(clinic, mailbox):
    """Consent is the policy point's fact, not a screen's: the reminder job asks it when it runs."""
    c = clinic
    booked = call(appts.book, c.staff, patient_id=c.elena, visit_type_id=c.follow_up, doctor_id=c.kim.user_id,
                  start=at(workday(5), "11:00"))
    while run_due():
        pass
    texts = len(sms.gateway().to("+16175550133"))  # "booked" went by text: she still agreed then
    call(consent.decide_own, c.patient(c.elena), purpose="sms", status="withdrawn")
    payload = _due_now(f"appt-reminder:{booked.id}:24")
    reminders.remind(payload)
    while run_due():
        pass
    assert len(sms.gateway().to("+16175550133")) == texts  # no text after she withdrew
    assert events("appointment.remind")[0].detail == {"hours": 24, "channel": "email"}
    reminder = [m for m in mailbox.wait_for("elena.marsh@example.com") if m["Subject"].startswith("Reminder")]
    assert reminder and "Dr. Joon Kim" in _text(reminder[0])
    assert [e.detail for e in events("consent.write")][-1] == {"purpose": "sms", "status": "withdrawn",
                                                               "version": "2026-01", "method": "portal"}
