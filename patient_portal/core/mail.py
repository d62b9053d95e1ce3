"""Outgoing email: SMTP when PORTAL_SMTP_HOST is set, otherwise files in the instance outbox.

Use cases ``queue`` a message inside their transaction; the job worker (core.jobs) sends it after
the commit and retries while the mail server is away. The outbox folder (``instance/outbox/*.eml``,
readable by the app's user only) lets the laptop demo show the messages it would send; production
refuses to start without SMTP (see settings). Messages are plain text and never carry clinical data,
only links, account notices and appointment times; an appointment's message may carry its calendar
invitation (``Attachment``, an .ics file).
"""

from __future__ import annotations

import base64
import logging
import os
import secrets
import smtplib
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from sqlmodel import Session

from patient_portal.core import clinic_config, jobs
from patient_portal.settings import get_settings

log = logging.getLogger(__name__)


class MailNotSent(Exception):
    """The message could not be handed to the mail server."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # "text/calendar; method=REQUEST"
    data: bytes


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    attachments: tuple[Attachment, ...] = ()


def _message(mail: Mail, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1].strip("> ") or "localhost")
    message.set_content(mail.text)
    for item in mail.attachments:
        maintype, _, rest = item.content_type.partition("/")
        subtype, *params = [p.strip() for p in rest.split(";")]
        message.add_attachment(item.data, maintype=maintype, subtype=subtype, filename=item.filename,
                               params=dict(p.split("=", 1) for p in params if "=" in p))
    return message


def _send_smtp(message: EmailMessage) -> None:
    settings = get_settings()
    tls = ssl.create_default_context()  # verify the server: the messages carry one-time links
    try:
        if settings.smtp_port == 465:  # TLS from the first byte
            smtp = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=10, context=tls)
        else:
            smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10)
        with smtp:
            if settings.smtp_starttls and settings.smtp_port != 465:
                smtp.starttls(context=tls)
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password)
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailNotSent(f"mail server {settings.smtp_host}:{settings.smtp_port}: {exc}") from exc


def outbox_dir() -> Path:
    return get_settings().instance_dir / "outbox"


def _save_to_outbox(message: EmailMessage) -> Path:
    folder = outbox_dir()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    name = f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(4)}.eml"
    path = folder / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(bytes(message))
    return path


def send(mail: Mail) -> None:
    """Send one message; raises MailNotSent when the SMTP server does not take it."""
    settings = get_settings()
    message = _message(mail, settings.smtp_sender)
    if settings.smtp_host:
        _send_smtp(message)
    else:
        path = _save_to_outbox(message)
        log.warning("no PORTAL_SMTP_HOST: email %r saved to %s", mail.subject, path)


def queue(session: Session, mail: Mail) -> None:
    """Send `mail` once the caller's transaction has committed (retried while the server is away),
    with the clinic's closing words (set on /admin/settings) under the text."""
    signature = clinic_config.current().email_signature
    text = f"{mail.text.rstrip()}\n\n-- \n{signature}\n" if signature else mail.text
    payload: dict = {"to": mail.to, "subject": mail.subject, "text": text}
    if mail.attachments:
        payload["attachments"] = [{"filename": a.filename, "content_type": a.content_type,
                                   "data": base64.b64encode(a.data).decode("ascii")} for a in mail.attachments]
    jobs.enqueue(session, "mail", payload)


@jobs.handler("mail")
def _send_job(payload: dict) -> None:
    attachments = tuple(Attachment(a["filename"], a["content_type"], base64.b64decode(a["data"]))
                        for a in payload.get("attachments") or ())
    send(Mail(to=payload["to"], subject=payload["subject"], text=payload["text"], attachments=attachments))
