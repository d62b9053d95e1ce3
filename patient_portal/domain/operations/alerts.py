"""The admins' alert emails (``core.alerts`` queues them): one message to each active admin saying
what needs them and where to look. Each message is its own mail job, so one admin's mailbox being
away does not resend to the others."""

from __future__ import annotations

from sqlmodel import select

from patient_portal.core import jobs, mail
from patient_portal.core.alerts import JOB_KIND
from patient_portal.core.db import unit_of_work
from patient_portal.domain.identity.models import User
from patient_portal.settings import get_settings


@jobs.handler(JOB_KIND)
def _tell_admins(payload: dict) -> None:
    summary = str(payload.get("summary") or "Something needs an administrator.")
    link = f"{get_settings().public_url.rstrip('/')}/admin/health"
    with unit_of_work() as session:
        admins = session.exec(select(User.email).where(User.role == "admin", User.active == True)).all()  # noqa: E712
        for email in admins:
            mail.queue(session, mail.Mail(
                to=email, subject=f"Patient Portal needs attention: {summary}"[:200],
                text=f"{summary}\n\nSee System health for details and what to do:\n{link}\n"))
