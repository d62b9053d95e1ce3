"""The email a new message sends: that there is one, and where to read it — never who wrote, the
subject or a word of it (core.mail's rule: no clinical data in email). Queued on the job outbox in
the use case's transaction, so it goes only if the message was saved.

* The clinic writes → every active account of the patient's record (link: /patient/messages), and
  a push ("You have a new message") to the devices they turned notifications on for.
* The patient writes in a doctor's thread → that doctor and, while they are away, their delegate
  (link: /doctor/messages). Pool threads email nobody: the front desk works the pool.
"""

from __future__ import annotations

import uuid

from sqlmodel import Session, select

from patient_portal.core import mail, mail_wording
from patient_portal.core.mail_wording import Template
from patient_portal.domain.identity.models import User
from patient_portal.domain.messages.models import MessageDelegate
from patient_portal.domain.push import service as push
from patient_portal.settings import get_settings

NEW_MESSAGE = Template(
    "messages.new", "Messages: a new message", "You have a new message",
    "You have a new message in Patient Portal.\n\nSign in to read it: {base}{path}\n",
    {"base": "https://portal.example-clinic.org", "path": "/patient/messages"}, required=("base", "path"))
PATIENT_PATH, DOCTOR_PATH = "/patient/messages", "/doctor/messages"


def _send(session: Session, users: list[User], path: str) -> int:
    base = get_settings().public_url
    for user in users:
        subject, text = mail_wording.render(NEW_MESSAGE, base=base, path=path)
        mail.queue(session, mail.Mail(to=user.email, subject=subject, text=text))
    return len(users)


def tell_patient(session: Session, patient_id: uuid.UUID) -> int:
    """Email the patient's account(s), and push to the devices they turned notifications on for;
    returns how many emails were queued."""
    users = session.exec(select(User).where(User.patient_id == patient_id, User.role == "patient",
                                            User.active == True)).all()  # noqa: E712
    push.notify_patient(session, patient_id, push.MESSAGE)
    return _send(session, list(users), PATIENT_PATH)


def delegate_of(session: Session, doctor_id: uuid.UUID) -> uuid.UUID | None:
    return session.exec(select(MessageDelegate.delegate_id).where(MessageDelegate.user_id == doctor_id)).first()


def tell_doctor(session: Session, doctor_id: uuid.UUID) -> int:
    """Email the doctor and their delegate, if they named one."""
    ids = {doctor_id, *filter(None, [delegate_of(session, doctor_id)])}
    users = session.exec(select(User).where(User.id.in_(ids), User.role == "doctor",
                                            User.active == True)).all()  # noqa: E712
    return _send(session, list(users), DOCTOR_PATH)
