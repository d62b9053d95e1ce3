"""Retention of the appointments area: the one-time links of reminders and offers (confirm, cancel,
accept) once used or expired; the appointment itself and its history stay."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_
from sqlmodel import Session, select

from patient_portal.core.retention import rule
from patient_portal.domain.appointments.models import AppointmentLink

LINKS_KEPT = timedelta(days=7)


def _dead(now: datetime):
    cutoff = now - LINKS_KEPT
    return or_(AppointmentLink.expires_at < cutoff, AppointmentLink.used_at < cutoff)


def _count(session: Session, now: datetime) -> int:
    return int(session.exec(select(func.count()).select_from(AppointmentLink).where(_dead(now))).one())


@rule("appointments.links", "Links in appointment reminders and offers", "7 days after use or expiry", _count)
def _remove(session: Session, now: datetime) -> int:
    return int(session.exec(delete(AppointmentLink).where(_dead(now))).rowcount or 0)  # type: ignore[call-overload]
