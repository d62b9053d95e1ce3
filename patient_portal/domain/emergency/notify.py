"""Notifying a patient's emergency contacts during an emergency, one after the other, through the job
outbox (core.jobs). No policy here: the service authorizes and audits the people's actions; the
jobs below audit what they do themselves (with no actor).

* **Who, in which order.** The contacts in their order, primary first. ``may_notify`` is the one
  question "may the clinic message this contact?": today the patient's choice on the contact
  (``notify`` "no" means never); the consent area adds its "notifying emergency contacts" consent
  here. A contact who may not be messaged, or has no address, gets a *skipped* notice (shown on
  screen, audited) and the next one is tried at once.
* **Channel and language.** The contact's preferred method: a text (core.sms) when they prefer
  texts, an email (core.mail) when they prefer email and have an address; otherwise email when
  there is an address, else a text to their phone. The message is in their language when we have
  it (``TEMPLATES``; English otherwise) and carries no clinical detail — not the patient's name, not
  what happened: "you are listed as an emergency contact; please call the clinic at …".
* **Hours.** A contact's preferred hours ("evenings", "after 6 pm", "9am-5pm") are read by
  ``preferred_window``; an emergency is urgent, so the message goes out at once anyway, says why,
  and the notice records that it went outside their hours.
* **Never lost, never twice.** Deciding to notify a contact writes its ``EmergencyNotice`` (unique
  per run and contact) and queues a ``emergency.message`` job in the same unit. The job sends the
  message (outside any transaction; a mail server that is down makes it retry with backoff) and then
  marks the notice sent; a notice no longer queued is never sent again.
* **Escalation.** With each contact notified, an ``emergency.escalate`` job is queued for the
  configured minutes later (PORTAL_EMERGENCY_ACK_MINUTES), under one key per run (so one waits at a
  time). When it runs and nobody has acknowledged — and the run is still in progress — the next
  contact is notified; when nobody is left the run's notification is "exhausted".
* **Acknowledgement links** are signed and expiring: ``a1.<key id>.<notice id>.<expiry>.<HMAC>``
  under the key ring's MAC key for "emergency-ack" (nothing secret stored; a key rotated away ends
  its links). Opening the link's page marks the notice *opened*; its button marks it
  *acknowledged* and stops the escalation.
"""

from __future__ import annotations

import hmac
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlmodel import Session, select

from patient_portal.core import audit, clinic_config, jobs, mail, sms
from patient_portal.core.clock import clinic_zone, plain_time
from patient_portal.core.db import unit_of_work, utcnow
from patient_portal.domain.emergency.models import (
    ACTIVE,
    QUEUED,
    SENT,
    SKIPPED,
    EmergencyContact,
    EmergencyNotice,
    EmergencyRun,
)
from patient_portal.domain.emergency.rows import ORDER_RANK
from patient_portal.settings import get_settings

MESSAGE = "emergency.message"
ESCALATE = "emergency.escalate"
ACK_PATH = "/emergency/ack"
MAC_PURPOSE = "emergency-ack"
LINK_FORMAT = "a1"

# ---------------------------------------------------------------- may this contact be messaged?


def may_notify(session: Session, *, patient_id: uuid.UUID, contact: EmergencyContact) -> bool:
    """May the clinic message this emergency contact of this patient in an emergency? The patient's
    choice on the contact ("no": never). The consent area extends this with its "notifying emergency
    contacts" consent; every notification asks here and nowhere else."""
    return (contact.notify or "").strip().lower() != "no"


def channel_for(contact: EmergencyContact) -> tuple[str, str]:
    """("sms", number) | ("email", address) | ("none", "") by the contact's preferred method."""
    method = (contact.preferred_contact_method or "").strip().lower()
    if method == "sms" and contact.phone:
        return "sms", contact.phone
    if contact.email:
        return "email", contact.email
    if contact.phone:
        return "sms", contact.phone
    return "none", ""


# ---------------------------------------------------------------- language


#: Language names and codes people type, by the code of the template they get.
_LANGUAGE_NAMES = {
    "en": ("en", "english", "inglés", "ingles"),
    "es": ("es", "spanish", "español", "espanol", "castellano"),
    "pt": ("pt", "portuguese", "português", "portugues", "brazilian portuguese"),
    "fr": ("fr", "french", "français", "francais"),
}


def language_code(text: str | None) -> str:
    """The template language for what a contact's record says ("Spanish", "es", "Español"); en."""
    said = (text or "").strip().lower()
    for code, names in _LANGUAGE_NAMES.items():
        if said in names or said.split(" ")[0] in names:
            return code
    return "en"


@dataclass(frozen=True)
class Words:
    subject: str
    body: str  # {clinic} {phone} {link} {until}
    late: str  # the line added outside the contact's preferred hours
    text: str  # an SMS: {clinic} {phone} {link}
    page_title: str
    page_lead: str  # {clinic} {phone}
    button: str
    done: str  # {clinic} {phone}


TEMPLATES: dict[str, Words] = {
    "en": Words(
        subject="{clinic}: please call us",
        body="This is {clinic}. You are listed as an emergency contact of one of our patients.\n\n"
             "Please call the clinic as soon as you can: {phone}\n\n"
             "To let us know you got this message, open this link:\n{link}\n(it works until {until})\n",
        late="We are sorry to contact you outside the hours you asked for: it is urgent.\n",
        text="{clinic}: you are listed as an emergency contact. Please call us now at {phone}. "
             "Got this? Tell us: {link}",
        page_title="Emergency contact message",
        page_lead="{clinic} asked you to call them as soon as you can: {phone}.",
        button="I got the message",
        done="Thank you. {clinic} knows you got the message. Please call them at {phone}."),
    "es": Words(
        subject="{clinic}: por favor, llámenos",
        body="Le escribe {clinic}. Usted figura como contacto de emergencia de uno de nuestros pacientes.\n\n"
             "Por favor, llame a la clínica lo antes posible: {phone}\n\n"
             "Para avisarnos de que recibió este mensaje, abra este enlace:\n{link}\n(válido hasta {until})\n",
        late="Disculpe que le contactemos fuera del horario que pidió: es urgente.\n",
        text="{clinic}: usted es contacto de emergencia. Llámenos ahora al {phone}. "
             "¿Recibido? Avísenos: {link}",
        page_title="Mensaje para un contacto de emergencia",
        page_lead="{clinic} le pide que llame lo antes posible: {phone}.",
        button="Recibí el mensaje",
        done="Gracias. {clinic} sabe que recibió el mensaje. Llame al {phone}."),
    "pt": Words(
        subject="{clinic}: por favor, ligue para nós",
        body="Aqui é {clinic}. Você está indicado como contato de emergência de um dos nossos pacientes.\n\n"
             "Por favor, ligue para a clínica assim que puder: {phone}\n\n"
             "Para nos avisar que recebeu esta mensagem, abra este link:\n{link}\n(válido até {until})\n",
        late="Desculpe contatá-lo fora do horário que pediu: é urgente.\n",
        text="{clinic}: você é contato de emergência. Ligue agora para {phone}. Recebeu? Avise-nos: {link}",
        page_title="Mensagem para um contato de emergência",
        page_lead="{clinic} pede que ligue assim que puder: {phone}.",
        button="Recebi a mensagem",
        done="Obrigado. {clinic} sabe que recebeu a mensagem. Ligue para {phone}."),
    "fr": Words(
        subject="{clinic} : merci de nous appeler",
        body="Ici {clinic}. Vous êtes indiqué comme contact d'urgence de l'un de nos patients.\n\n"
             "Merci d'appeler la clinique dès que possible : {phone}\n\n"
             "Pour nous dire que vous avez reçu ce message, ouvrez ce lien :\n{link}\n(valable jusqu'au {until})\n",
        late="Pardon de vous contacter en dehors des heures demandées : c'est urgent.\n",
        text="{clinic} : vous êtes contact d'urgence. Appelez-nous au {phone}. Reçu ? Dites-le-nous : {link}",
        page_title="Message pour un contact d'urgence",
        page_lead="{clinic} vous demande d'appeler dès que possible : {phone}.",
        button="J'ai reçu le message",
        done="Merci. {clinic} sait que vous avez reçu le message. Appelez le {phone}."),
}


def words(language: str) -> Words:
    return TEMPLATES.get(language, TEMPLATES["en"])


# ---------------------------------------------------------------- preferred hours

_NAMED = {
    "morning": (time(8), time(12)), "mornings": (time(8), time(12)),
    "afternoon": (time(12), time(17)), "afternoons": (time(12), time(17)),
    "evening": (time(17), time(21)), "evenings": (time(17), time(21)),
    "daytime": (time(9), time(17)), "days": (time(9), time(17)), "business hours": (time(9), time(17)),
    "office hours": (time(9), time(17)), "working hours": (time(9), time(17)),
}
_ANY = ("any", "anytime", "any time", "24/7", "always", "all day")
_CLOCK = r"(\d{1,2})(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?"


def _clock(hour: str, minute: str | None, half: str | None) -> time | None:
    h, m = int(hour), int(minute or 0)
    half = (half or "").replace(".", "")
    if half == "pm" and h < 12:
        h += 12
    elif half == "am" and h == 12:
        h = 0
    return time(h, m) if 0 <= h <= 23 and 0 <= m <= 59 else None


def preferred_window(text: str | None) -> tuple[time, time] | None:
    """The hours a contact asked to be called in, from what their record says; None when it says
    nothing we can read (or any time)."""
    said = " ".join((text or "").strip().lower().split())
    if not said or said in _ANY:
        return None
    if said in _NAMED:
        return _NAMED[said]
    for name, window in _NAMED.items():
        if re.fullmatch(rf"(in the |weekday |weekdays? )?{name}", said):
            return window
    span = re.search(rf"(?:between\s+)?{_CLOCK}\s*(?:-|–|to|and|until)\s*{_CLOCK}", said)
    if span:
        h1, m1, a1, h2, m2, a2 = span.groups()
        start = _clock(h1, m1, a1 or (None if a2 != "pm" or int(h1) >= int(h2) else "pm"))
        end = _clock(h2, m2, a2)
        if start and end and end < start and not a2 and end.hour <= 12:
            end = _clock(str(end.hour + 12), m2, None) if end.hour < 12 else end
        return (start, end) if start and end else None
    after = re.search(rf"(?:after|from)\s+{_CLOCK}", said)
    if after:
        start = _clock(*after.groups())
        return (start, time(22)) if start and start < time(22) else ((start, time(23, 59)) if start else None)
    before = re.search(rf"(?:before|until)\s+{_CLOCK}", said)
    if before:
        end = _clock(*before.groups())
        return (time(7), end) if end and end > time(7) else None
    return None


def outside_hours(text: str | None, moment: datetime) -> bool:
    """Is `moment` outside the contact's preferred hours (clinic time)? False when they gave none."""
    window = preferred_window(text)
    if window is None:
        return False
    now = moment.astimezone(clinic_zone()).time()
    start, end = window
    inside = start <= now <= end if start <= end else (now >= start or now <= end)
    return not inside


# ---------------------------------------------------------------- signed, expiring links


def _mac(kid: str, body: str) -> str:
    from patient_portal.core.crypto import get_keyring

    return hmac.new(get_keyring().mac_key(kid, MAC_PURPOSE), body.encode("ascii"), "sha256").hexdigest()[:32]


def link_token(notice_id: uuid.UUID, expires_at: datetime) -> str:
    """The signed token of a notice's acknowledgement link (the same for the same notice and expiry)."""
    from patient_portal.core.crypto import get_keyring

    kid = get_keyring().active_kid
    body = f"{LINK_FORMAT}.{kid}.{notice_id.hex}.{int(expires_at.timestamp())}"
    return f"{body}.{_mac(kid, body)}"


def read_token(token: str | None, now: datetime | None = None) -> uuid.UUID | None:
    """The notice a token with a good signature names, if it has not expired; None otherwise."""
    from patient_portal.core.crypto import DecryptionError

    if not token or len(token) > 200:
        return None
    parts = token.strip().split(".")
    if len(parts) != 5 or parts[0] != LINK_FORMAT:
        return None
    version, kid, notice, expires, mac = parts
    try:
        if not hmac.compare_digest(_mac(kid, f"{version}.{kid}.{notice}.{expires}"), mac):
            return None
        if int(expires) <= int((now or utcnow()).timestamp()):
            return None
        return uuid.UUID(hex=notice)
    except (ValueError, DecryptionError):
        return None


def link_url(notice_id: uuid.UUID, expires_at: datetime) -> str:
    return f"{get_settings().public_url}{ACK_PATH}?t={link_token(notice_id, expires_at)}"


# ---------------------------------------------------------------- deciding who is next


def contacts_in_order(session: Session, patient_id: uuid.UUID) -> list[EmergencyContact]:
    rows = session.exec(select(EmergencyContact).where(EmergencyContact.patient_id == patient_id)).all()
    return sorted(rows, key=lambda c: (ORDER_RANK.get(c.order, 9), c.created_at))


def _ack_wait() -> timedelta:
    return timedelta(minutes=get_settings().emergency_ack_minutes)


def escalation_key(run_id: uuid.UUID) -> str:
    return f"emerg-escalate:{run_id}"


def notify_next(session: Session, run: EmergencyRun, actor: Any = None) -> EmergencyNotice | None:
    """Notify the next contact of the run's patient not yet notified in this run (skipping, with a
    notice each, those who may not be messaged or cannot be reached); queue their message and the
    escalation after the wait. Returns the notice sent, or None when nobody is left (the run's
    notification is then "exhausted", or "none" when nobody could be messaged at all)."""
    now = utcnow()
    done = {n.contact_id: n for n in session.exec(select(EmergencyNotice).where(
        EmergencyNotice.run_id == run.id)).all()}
    for contact in contacts_in_order(session, run.patient_id):
        if contact.id in done:
            continue
        position = ORDER_RANK.get(contact.order, 9)
        channel, address = channel_for(contact)
        skipped = "declined" if not may_notify(session, patient_id=run.patient_id, contact=contact) else (
            "no_address" if channel == "none" else None)
        notice = EmergencyNotice(run_id=run.id, patient_id=run.patient_id, contact_id=contact.id, position=position,
                                 name=contact.name, channel="none" if skipped else channel,
                                 address=None if skipped else address, language=language_code(contact.language),
                                 outside_hours=not skipped and outside_hours(contact.hours, now),
                                 status=SKIPPED if skipped else QUEUED, skipped=skipped,
                                 expires_at=None if skipped else now + timedelta(hours=get_settings().emergency_link_hours))
        session.add(notice)
        session.flush()
        if skipped:
            audit.record(session, actor, "emergency.contact.skip", patient_id=run.patient_id,
                         object_type="emergency_notice", object_id=notice.id,
                         detail={"run": str(run.id), "position": position, "reason": skipped})
            done[contact.id] = notice
            continue
        jobs.enqueue(session, MESSAGE, {"notice_id": str(notice.id)}, key=f"emerg-msg:{notice.id}", fresh=True)
        jobs.enqueue(session, ESCALATE, {"run_id": str(run.id), "notice_id": str(notice.id)},
                     run_after=now + _ack_wait(), key=escalation_key(run.id))
        run.notify_status = "notifying"
        session.add(run)
        audit.record(session, actor, "emergency.contact.notify", patient_id=run.patient_id,
                     object_type="emergency_notice", object_id=notice.id,
                     detail={"run": str(run.id), "position": position, "channel": channel,
                             "outside_hours": notice.outside_hours})
        return notice
    run.notify_status = "exhausted" if any(n.status != SKIPPED for n in done.values()) else "none"
    session.add(run)
    jobs.cancel(session, escalation_key(run.id))
    return None


# ---------------------------------------------------------------- the jobs


def _locked(session: Session, model: Any, row_id: uuid.UUID) -> Any:
    stmt = select(model).where(model.id == row_id)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return session.exec(stmt).first()


def compose(notice: EmergencyNotice) -> tuple[str, str, str]:
    """(subject, email body, text message) of a notice, in its language; no clinical detail."""
    clinic = clinic_config.current()
    said = words(notice.language)
    expires = notice.expires_at or utcnow()
    values = {"clinic": clinic.clinic_name, "phone": clinic.clinic_phone,
              "link": link_url(notice.id, expires), "until": plain_time(expires)}
    body = said.body.format(**values)
    if notice.outside_hours:
        body = said.late + "\n" + body
    return said.subject.format(**values), body, said.text.format(**values)


@jobs.handler(MESSAGE)
def send_message(payload: dict) -> None:
    """Send one notice's message once: nothing for a notice no longer queued; the send itself runs
    outside any transaction (a mail server that is down raises, and the outbox retries)."""
    notice_id = uuid.UUID(payload["notice_id"])
    with unit_of_work() as session:
        notice = session.get(EmergencyNotice, notice_id)
        if notice is None or notice.status != QUEUED or not notice.address:
            return
        channel, to = notice.channel, notice.address
        subject, body, text = compose(notice)
    if channel == "sms":
        sms.gateway().send(to, text)
    else:
        mail.send(mail.Mail(to=to, subject=subject, text=body))
    with unit_of_work() as session:
        notice = _locked(session, EmergencyNotice, notice_id)
        if notice is None or notice.status != QUEUED:
            return
        notice.status, notice.sent_at = SENT, utcnow()
        session.add(notice)
        audit.record(session, None, "emergency.contact.sent", patient_id=notice.patient_id,
                     object_type="emergency_notice", object_id=notice.id,
                     detail={"run": str(notice.run_id), "channel": channel})


@jobs.handler(ESCALATE)
def escalate(payload: dict) -> None:
    """Nobody acknowledged in time: notify the next contact (while the run is in progress)."""
    run_id, notice_id = uuid.UUID(payload["run_id"]), uuid.UUID(payload["notice_id"])
    with unit_of_work() as session:
        run = _locked(session, EmergencyRun, run_id)
        if run is None or run.status != ACTIVE or run.notify_status != "notifying":
            return
        notices = session.exec(select(EmergencyNotice).where(EmergencyNotice.run_id == run.id)).all()
        if any(n.acknowledged_at is not None for n in notices):
            return
        latest = max((n for n in notices if n.status != SKIPPED), key=lambda n: n.created_at, default=None)
        if latest is None or latest.id != notice_id:
            return  # a later contact is already waiting (this job ran late, or twice)
        audit.record(session, None, "emergency.contact.escalate", patient_id=run.patient_id,
                     object_type="emergency_run", object_id=run.id,
                     detail={"after_notice": str(notice_id), "minutes": get_settings().emergency_ack_minutes})
        notify_next(session, run)
