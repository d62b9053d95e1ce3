"""Demo messages for `portal seed`: Maria Garcia (the demo patient account's record) has three
conversations — her home blood pressure readings with her doctor (answered, read), a question to the
front desk (answered), and one to billing still waiting past the clinic's response time, so the
triage pool has an overdue thread. Written through the messages service as the people who write
them (validated, encrypted, audited), then moved back in time so the screens read like a real week.
Idempotent: a record with any thread gets none.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from patient_portal.core.db import unit_of_work, utcnow
from patient_portal.domain.demo import DemoClinic
from patient_portal.domain.messages import service
from patient_portal.domain.messages.models import Message, MessageThread

#: (to, subject, [(who, text, hours ago)]): who is "patient", "doctor" or "desk"
THREADS = (
    ("doctor", "My home blood pressure readings", [
        ("patient", "Hello Dr. Doctor, my home readings this week were around 135/85 in the mornings. "
                    "Should I change anything before my follow-up?", 75),
        ("doctor", "Thank you, Maria. That is close to where we want it. Keep taking your lisinopril every "
                   "morning and keep logging your readings; we will look at them together at your follow-up.", 52),
    ]),
    ("front_desk", "Parking at the clinic", [
        ("patient", "Is there parking near the clinic for my next visit?", 30),
        ("desk", "Yes: the Harbor Street garage next door validates for two hours. Bring the ticket to the desk.", 26),
    ]),
    ("billing", "Question about my last statement", [
        ("patient", "My statement shows a charge for a lab test I thought my insurance covered. Could you check?", 60),
    ]),
)


def seed_messages(clinic: DemoClinic) -> int:
    """Maria Garcia's conversations; returns how many threads were added (0 when she has any)."""
    if clinic.patient is None or clinic.patient.patient_id is None:
        return 0
    patient, doctor, desk = clinic.patient, clinic.doctor(0), clinic.front_desk(0)
    pid = patient.patient_id
    with unit_of_work() as session:
        if session.exec(select(MessageThread.id).where(MessageThread.patient_id == pid).limit(1)).first():
            return 0
    added = 0
    for to, subject, turns in THREADS:
        with unit_of_work() as session:
            target = f"doctor:{doctor.user_id}" if to == "doctor" else to
            first, *rest = turns
            sent = service.start_thread(session, patient, to=target, subject=subject, body=first[1])
            stamps = {sent.message_id: first[2]}
            for who, text, hours in rest:
                author = {"patient": patient, "doctor": doctor, "desk": desk}[who]
                if who != "patient":
                    service.open_thread(session, author, thread_id=sent.thread_id)  # read before answering
                stamps[service.reply(session, author, thread_id=sent.thread_id, body=text).message_id] = hours
            if to != "billing":
                service.open_thread(session, patient, thread_id=sent.thread_id)
            _back_in_time(session, sent.thread_id, stamps)
        added += 1
    return added


def _back_in_time(session, thread_id, stamps: dict) -> None:
    now = utcnow()
    thread = session.get(MessageThread, thread_id)
    for message in session.exec(select(Message).where(Message.thread_id == thread_id)).all():
        at = now - timedelta(hours=stamps[message.id])
        message.created_at = message.updated_at = at
        if message.read_at is not None:
            message.read_at = at + timedelta(hours=1)
        session.add(message)
    latest = max(stamps.values(), default=0)
    thread.last_message_at = now - timedelta(hours=min(stamps.values(), default=latest))
    if thread.waiting_since is not None:
        thread.waiting_since = now - timedelta(hours=max(stamps.values()))
    thread.created_at = now - timedelta(hours=max(stamps.values()))
    session.add(thread)
