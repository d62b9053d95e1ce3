"""What an appointment sends, and when: reminders on the job outbox, messages by the patient's
preferred channel, calendar invitations and one-time links.

* **Reminders** are jobs under the key ``appt-reminder:<id>:<hours>`` (core.jobs): booking
  enqueues one per reminder time of the clinic's rules, a reschedule enqueues them again under the
  same keys (the waiting job is moved, never doubled), a cancellation drops them. The job itself
  (reminders.py) checks the appointment again and records ``ReminderSent`` (unique per appointment,
  hours and start) before it queues anything, so no reminder goes out twice or for a cancelled visit,
  whatever the number of workers.
* **Channel**: the patient's preferred contact method on their record: ``sms`` with a mobile number
  and the patient's consent to text messages (``core.access_facts.consent_allows``: opt-in, so none
  on file is no; withdrawn, the next reminder goes by email) → a text (core.sms); otherwise email when the record has an address; else nothing is sent (the
  front desk phones). Texts are not sent between 21:00 and 08:00 clinic time: a reminder due then
  goes out at 20:00 the evening before.
* **Email** carries the .ics (``icalendar``): METHOD REQUEST when booked or moved, CANCEL when
  cancelled; one UID per appointment and a SEQUENCE that rises with each change, so calendars update
  the one event. Messages name the clinic, the time and the doctor; nothing clinical (not the visit
  type, not the reason).
* **Links** (confirm, cancel, accept a waitlist offer) are 256-bit tokens, only their SHA-256 stored
  (models.AppointmentLink), single use, expiring at the appointment (an offer: at the end of its
  hold), and void once the appointment changes (their ``sequence``).
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, time, timedelta
from typing import Any

from icalendar import Calendar, Event, vCalAddress
from sqlmodel import Session, select

from patient_portal.core import clinic_config, jobs, mail, mail_wording, sms
from patient_portal.core.access_facts import SMS as SMS_CONSENT
from patient_portal.core.access_facts import consent_allows
from patient_portal.core.clock import clinic_zone, plain_time
from patient_portal.core.db import utcnow
from patient_portal.core.mail_wording import Template
from patient_portal.domain.appointments.models import Appointment, AppointmentLink, SchedulingRules
from patient_portal.domain.identity.email_links import url
from patient_portal.domain.identity.models import User
from patient_portal.domain.identity.sessions import hash_token
from patient_portal.domain.patients.models import Patient
from patient_portal.settings import get_settings

REMINDER = "appointment.reminder"
HOLD_EXPIRY = "appointment.hold_expiry"
LINK_PATH = "/appointments/respond"
QUIET_FROM, QUIET_UNTIL, QUIET_SEND = time(21, 0), time(8, 0), time(20, 0)


def reminder_key(appointment_id: Any, hours: int) -> str:
    return f"appt-reminder:{appointment_id}:{hours}"


def hold_key(appointment_id: Any) -> str:
    return f"appt-hold:{appointment_id}"


def aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


# ---------------------------------------------------------------- who, and by which channel


def channel_for(session: Session, patient: Patient) -> tuple[str, str]:
    """("sms", number) | ("email", address) | ("none", "") from the patient's record — a text only
    with the patient's consent to text messages (the policy point's consent fact), else email."""
    mobile = next((p.get("number", "") for p in patient.phones or [] if p.get("type") == "mobile"), "")
    if patient.preferred_contact_method == "sms" and mobile and consent_allows(session, patient.id, SMS_CONSENT):
        return "sms", mobile
    if patient.email:
        return "email", patient.email
    return "none", ""


def doctor_name(session: Session, doctor_id: Any) -> str:
    user = session.get(User, doctor_id)
    return (user.display_name if user else "") or "your doctor"


def _quiet(due: datetime) -> datetime:
    """A text due in the night goes out at 20:00 the evening before (never later than due)."""
    zone = clinic_zone()
    local = due.astimezone(zone)
    if QUIET_UNTIL <= local.time() < QUIET_FROM:
        return due
    day = local.date() - timedelta(days=1) if local.time() < QUIET_UNTIL else local.date()
    return datetime.combine(day, QUIET_SEND, tzinfo=zone).astimezone(UTC)


# ---------------------------------------------------------------- reminders on the outbox


def schedule_reminders(session: Session, appt: Appointment, rules: SchedulingRules, patient: Patient, *,
                       fresh: bool = False) -> None:
    """(Re)queue the appointment's reminders at its current time; past ones are dropped (`fresh`: a
    new appointment, which has none queued yet)."""
    now = utcnow()
    start = aware(appt.start_at)
    channel, _to = channel_for(session, patient)
    for hours in rules.reminder_hours or []:
        due = start - timedelta(hours=int(hours))
        if channel == "sms":
            due = _quiet(due)
        if due <= now:
            if not fresh:
                jobs.cancel(session, reminder_key(appt.id, hours))
            continue
        jobs.enqueue(session, REMINDER, {"appointment_id": str(appt.id), "hours": int(hours),
                                         "start": start.isoformat()},
                     run_after=due, key=reminder_key(appt.id, hours), fresh=fresh)


def drop_reminders(session: Session, appt: Appointment, rules: SchedulingRules) -> None:
    for hours in rules.reminder_hours or []:
        jobs.cancel(session, reminder_key(appt.id, hours))


# ---------------------------------------------------------------- links


def issue_link(session: Session, appt: Appointment, purpose: str, expires_at: datetime) -> str:
    token = secrets.token_urlsafe(32)
    session.add(AppointmentLink(appointment_id=appt.id, purpose=purpose, token_hash=hash_token(token),
                                sequence=appt.sequence, expires_at=expires_at))
    return url(LINK_PATH, token)


def find_link(session: Session, token: str) -> AppointmentLink | None:
    if not token or len(token) > 200:
        return None
    return session.exec(select(AppointmentLink).where(AppointmentLink.token_hash == hash_token(token))).first()


# ---------------------------------------------------------------- the calendar invitation


def ics(appt: Appointment, method: str, doctor: str) -> bytes:
    settings = get_settings()
    cal = Calendar()
    cal.add("prodid", "-//Patient Portal//Appointments//EN")
    cal.add("version", "2.0")
    cal.add("method", method)
    event = Event()
    event.add("uid", f"{appt.id}@patient-portal")
    event.add("sequence", appt.sequence)
    event.add("dtstamp", utcnow())
    event.add("dtstart", aware(appt.start_at))
    event.add("dtend", aware(appt.end_at))
    event.add("summary", f"Appointment with {doctor} at {clinic_config.current().clinic_name}")
    event.add("location", clinic_config.current().clinic_address)
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    organizer = vCalAddress(f"mailto:{settings.smtp_sender}")
    organizer.params["cn"] = clinic_config.current().clinic_name
    event["organizer"] = organizer
    cal.add_component(event)
    return cal.to_ical()


# ---------------------------------------------------------------- messages

_SUBJECTS = {
    "booked": "Your appointment at {clinic}: {when}",
    "pending": "Your appointment request at {clinic}: {when}",
    "moved": "Your appointment at {clinic} has moved: {when}",
    "cancelled": "Your appointment at {clinic} is cancelled: {when}",
    "reminder": "Reminder: your appointment at {clinic}, {when}",
    "offer": "An earlier appointment at {clinic}: {when}",
}
_BODIES = {
    "booked": "Your appointment with {doctor} at {clinic} is booked for {when} ({zone} time).\n{address}\n",
    "pending": "We have your request for an appointment with {doctor} at {clinic} on {when} ({zone} time). The "
               "clinic will confirm it soon.\n",
    "moved": "Your appointment with {doctor} at {clinic} is now on {when} ({zone} time).\n{address}\n",
    "cancelled": "Your appointment with {doctor} at {clinic} on {when} is cancelled.\n",
    "reminder": "This is a reminder of your appointment with {doctor} at {clinic} on {when} ({zone} time).\n"
                "{address}\n",
    "offer": "An earlier time is free: {when} ({zone} time) with {doctor} at {clinic}. It is held for you until "
             "{hold}.\n",
}
_LABELS = {"booked": "booked", "pending": "requested (to be confirmed)", "moved": "moved", "cancelled": "cancelled",
           "reminder": "reminder", "offer": "an earlier time is offered (waitlist)"}
_EXAMPLES = {"clinic": "Harbor Family Clinic", "doctor": "Dr. Dana Doctor", "when": "Tue 8 Dec, 09:30",
             "zone": "New York", "address": "12 Harbor Street, Boston", "hold": "Mon 7 Dec, 18:00",
             "links": "\nTo confirm you are coming, open this link:\nhttps://portal.example-clinic.org/a/…\n"}
#: the email of each kind; {links} holds the confirm / cancel / accept links (empty when there are none)
EMAILS = {kind: Template(f"appointments.{kind}", f"Appointments: {label}", _SUBJECTS[kind],
                         _BODIES[kind] + "{links}\nPlease do not reply to this email; call the clinic if you have "
                         "questions.\n", _EXAMPLES, required=("links",))
          for kind, label in _LABELS.items()}
_TEXTS = {
    "booked": "{clinic}: appointment with {doctor} booked for {when}.",
    "pending": "{clinic}: we have your request for {when} with {doctor}; the clinic will confirm it.",
    "moved": "{clinic}: your appointment with {doctor} is now {when}.",
    "cancelled": "{clinic}: your appointment with {doctor} on {when} is cancelled.",
    "reminder": "{clinic}: reminder of your appointment with {doctor} on {when}.",
    "offer": "{clinic}: an earlier time is free, {when} with {doctor}, held until {hold}.",
}


def send(session: Session, appt: Appointment, patient: Patient, kind: str, *, links: bool = False,
         doctor: str | None = None) -> str:
    """Tell the patient about the appointment (`kind`: booked, pending, moved, cancelled, reminder,
    offer) by their channel, after the commit; with `links`, confirm and cancel links (offers carry
    an accept link). Returns the channel used."""
    channel, to = channel_for(session, patient)
    if channel == "none":
        return channel
    clinic = clinic_config.current()
    doctor = doctor or doctor_name(session, appt.doctor_id)
    start = aware(appt.start_at)
    values = {"clinic": clinic.clinic_name, "doctor": doctor, "when": plain_time(start),
              "zone": str(clinic_zone()).rsplit("/", 1)[-1].replace("_", " "), "address": clinic.clinic_address,
              "hold": plain_time(aware(appt.hold_until)) if appt.hold_until else ""}
    extra: list[tuple[str, str, str]] = []  # (email words, text words, link)
    if kind == "offer":
        extra.append(("To take it", "Take it", issue_link(session, appt, "accept", aware(appt.hold_until or start))))
    elif links:
        extra.append(("To confirm you are coming", "Confirm", issue_link(session, appt, "confirm", start)))
        extra.append(("To cancel", "Cancel", issue_link(session, appt, "cancel", start)))
    if channel == "sms":
        text = _TEXTS[kind].format(**values) + "".join(f" {short}: {link}" for _long, short, link in extra)
        sms.queue(session, to, text)
        return channel
    links = "".join(f"\n{label}, open this link:\n{link}\n" for label, _short, link in extra)
    subject, body = mail_wording.render(EMAILS[kind], **values, links=links)
    attachments: tuple[mail.Attachment, ...] = ()
    if kind in ("booked", "moved", "reminder", "cancelled"):
        method = "CANCEL" if kind == "cancelled" else "REQUEST"
        attachments = (mail.Attachment("appointment.ics", f"text/calendar; method={method}",
                                       ics(appt, method, doctor)),)
    mail.queue(session, mail.Mail(to=to, subject=subject, text=body,
                                  attachments=attachments))
    return channel
