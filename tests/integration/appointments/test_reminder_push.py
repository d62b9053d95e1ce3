"""An appointment reminder also reaches the patient's phone as a Web Push (issue 18, the phone app):
the reminder job queues it in its own unit, and the push says only "You have an appointment
reminder" — not the doctor, the time, the place or the reason. A real push round trip to a local
push service (tests/push_service.py), decrypted with the subscription's keys."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from patient_portal.core.db import unit_of_work, utcnow
from patient_portal.core.jobs import Job, run_due
from patient_portal.domain.appointments import service as appts
from patient_portal.domain.identity.models import User
from patient_portal.domain.push import service as push
from tests.integration.appointments.support import at, workday
from tests.integration.patients_support import call
from tests.push_service import Browser, PushServer


def test_a_reminder_pushes_that_there_is_one_and_nothing_more(clinic, monkeypatch):
    from patient_portal.settings import reset_settings

    c = clinic
    monkeypatch.setenv("PORTAL_PUSH_HOSTS", "127.0.0.1")
    reset_settings()
    omar = c.patient(c.omar)
    with unit_of_work() as s:
        s.add(User(id=omar.user_id, email="omar@example.com", role="patient", display_name="Omar", patient_id=c.omar))
    booked = call(appts.book, c.staff, patient_id=c.omar, visit_type_id=c.follow_up, doctor_id=c.lee.user_id,
                  start=at(workday(5), "09:00"), reason="Blood pressure check")
    phone = Browser()
    with PushServer() as service:
        call(push.subscribe, omar, endpoint=service.url("omar"), p256dh=phone.p256dh, auth=phone.auth)
        while run_due():  # the booking's own email goes; the reminder waits for its time
            pass
        assert service.received == []
        with unit_of_work() as s:
            job = s.exec(select(Job).where(Job.key == f"appt-reminder:{booked.id}:24")).one()
            job.run_after = utcnow() - timedelta(seconds=1)
            s.add(job)
        while run_due():
            pass
        [got] = service.received
    note = phone.decrypt(got.body)
    assert note["body"] == "You have an appointment reminder" and note["url"] == "/patient/appointments"
    assert not any(word in str(note) for word in ("Lee", "Blood", "09:00", "Follow-up"))
