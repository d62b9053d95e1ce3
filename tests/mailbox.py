"""A real SMTP server for tests (aiosmtpd) that keeps what it receives."""

from __future__ import annotations

import email
import email.policy
import re
import socket
import time
from email.message import EmailMessage

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Mailbox:
    """Every message the server accepted, newest last."""

    def __init__(self, **smtp_options) -> None:
        """smtp_options go to aiosmtpd's SMTP (tls_context, require_starttls, authenticator, …)."""
        self.messages: list[EmailMessage] = []
        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port, **smtp_options)

    async def handle_DATA(self, _server, _session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted"

    def start(self) -> Mailbox:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def to(self, address: str, subject: str = "") -> list[EmailMessage]:
        """The messages to `address` (whose subject contains `subject`, when given)."""
        return [m for m in self.messages if m["To"] == address and subject in (m["Subject"] or "")]

    def wait_for(self, address: str, count: int = 1, timeout: float = 10, subject: str = "") -> list[EmailMessage]:
        """Wait until `count` such messages arrived (or `timeout` seconds); returns them all. Name the
        subject where the address may get other mail meanwhile (a demo patient's reminders)."""
        deadline = time.time() + timeout
        while len(self.to(address, subject)) < count and time.time() < deadline:
            time.sleep(0.1)
        return self.to(address, subject)

    @staticmethod
    def link_in(message: EmailMessage) -> str:
        found = re.search(r"https?://\S+", message.get_content())
        assert found, "no link in the message"
        return found.group(0)
