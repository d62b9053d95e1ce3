"""Text messages: one interface (``SmsGateway.send(to, text)``), one implementation here.

``RecordingGateway`` keeps every message it is given (in memory, for tests, and as a line in
``instance/sms/outbox.txt``, readable by the app's user only, for the laptop demo) and sends
nothing. A real provider plugs in behind the same interface (``set_gateway`` at start-up). Like
email, a use case ``queue``s a text inside its transaction and the job worker hands it to the
gateway after the commit (retried while the gateway is away). Texts carry times, names of the
clinic and doctor, and links; never clinical data.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from sqlmodel import Session

from patient_portal.core import jobs
from patient_portal.settings import get_settings


class SmsNotSent(Exception):
    """The gateway did not take the message."""


class SmsGateway(Protocol):
    def send(self, to: str, text: str) -> None:
        """Hand one text to the provider (`to` in E.164); raise SmsNotSent when it is not taken."""


@dataclass(frozen=True)
class Text:
    to: str
    text: str
    at: datetime


class RecordingGateway:
    """Records texts instead of sending them (the only implementation in this project)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.sent: list[Text] = []

    def send(self, to: str, text: str) -> None:
        item = Text(to, text, datetime.now(UTC))
        with self._lock:
            self.sent.append(item)
        folder = get_settings().instance_dir / "sms"
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(folder / "outbox.txt", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as fh:
            fh.write(f"{item.at.isoformat()}\t{to}\t{text.replace(chr(10), ' ')}\n")

    def to(self, number: str) -> list[Text]:
        with self._lock:
            return [t for t in self.sent if t.to == number]


_gateway: SmsGateway = RecordingGateway()


def gateway() -> SmsGateway:
    return _gateway


def set_gateway(new: SmsGateway) -> None:
    """Use another provider (a real one, at start-up)."""
    global _gateway
    _gateway = new


def queue(session: Session, to: str, text: str) -> None:
    """Send `text` to `to` once the caller's transaction has committed."""
    jobs.enqueue(session, "sms", {"to": to, "text": text})


@jobs.handler("sms")
def _send_job(payload: dict) -> None:
    gateway().send(payload["to"], payload["text"])
