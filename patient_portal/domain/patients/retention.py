"""Retention of the patients area: registration wizards left unfinished (what was typed so far,
encrypted) go after DRAFTS_KEPT of no change; a finished registration already deletes its own."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func
from sqlmodel import Session, select

from patient_portal.core.retention import rule
from patient_portal.domain.patients.models import RegistrationDraftRow

DRAFTS_KEPT = timedelta(days=30)


def _count(session: Session, now: datetime) -> int:
    return int(session.exec(select(func.count()).select_from(RegistrationDraftRow)
                            .where(RegistrationDraftRow.updated_at < now - DRAFTS_KEPT)).one())


@rule("patients.drafts", "Unfinished registration forms", "30 days after their last change", _count)
def _remove(session: Session, now: datetime) -> int:
    stmt = delete(RegistrationDraftRow).where(RegistrationDraftRow.updated_at < now - DRAFTS_KEPT)
    return int(session.exec(stmt).rowcount or 0)  # type: ignore[call-overload]
