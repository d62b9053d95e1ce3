"""The appointment jobs the worker runs (core.jobs.HANDLER_MODULES names this module).

* ``appointment.reminder`` — one reminder of one appointment time. In one unit: the appointment is
  read again (locked on PostgreSQL); nothing happens unless it is still booked, at the time the job
  was queued for, and still to come; ``ReminderSent`` (unique per appointment, hours and start) is
  written in a savepoint — if it exists, another worker or an earlier run already decided this
  reminder and nothing more happens; then the message (with confirm and cancel links) is queued on
  the outbox in the same unit (and a push to the patient's devices that asked for one). So a reminder goes out once, or not at all for a cancelled or moved
  visit, whichever worker runs it and however often.
* ``appointment.hold_expiry`` — a waitlist offer's hold ran out: ``service.lapse_offer``.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from patient_portal.core import audit, jobs
from patient_portal.core.db import unit_of_work, utcnow
from patient_portal.domain.appointments import notify
from patient_portal.domain.appointments.models import BOOKED, Appointment, ReminderSent
from patient_portal.domain.patients.models import Patient
from patient_portal.domain.push import service as push


@jobs.handler(notify.REMINDER)
def remind(payload: dict) -> None:
    appointment_id = uuid.UUID(payload["appointment_id"])
    hours = int(payload["hours"])
    queued_for = datetime.fromisoformat(payload["start"])
    with unit_of_work() as session:
        stmt = select(Appointment).where(Appointment.id == appointment_id)
        if session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        appt = session.exec(stmt).first()
        if appt is None or appt.status != BOOKED:
            return
        start = notify.aware(appt.start_at)
        if start != queued_for or start <= utcnow():
            return
        patient = session.get(Patient, appt.patient_id)
        if patient is None:
            return
        channel, _to = notify.channel_for(session, patient)
        try:
            with session.begin_nested():
                session.add(ReminderSent(appointment_id=appt.id, hours=hours, start_at=start, channel=channel))
                session.flush()
        except IntegrityError:
            return  # already decided by another run
        notify.send(session, appt, patient, "reminder", links=True)
        push.notify_patient(session, appt.patient_id, push.REMINDER)  # "You have an appointment reminder"
        audit.record(session, None, "appointment.remind", patient_id=appt.patient_id, object_type="appointment",
                     object_id=appt.id, detail={"hours": hours, "channel": channel})


@jobs.handler(notify.HOLD_EXPIRY)
def hold_expired(payload: dict) -> None:
    from patient_portal.domain.appointments import service

    with unit_of_work() as session:
        service.lapse_offer(session, uuid.UUID(payload["appointment_id"]))
