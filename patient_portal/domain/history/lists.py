"""What other areas ask of the medical history about many patients or over time, without policy:
the worklist's "which of these patients have X" and the timeline's events. Callers authorize and
audit (``domain.worklist.service``, ``domain.timeline.service``)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, select

from patient_portal.core.crypto import decrypt_value
from patient_portal.domain.history.models import (
    PATIENT_REPORTED,
    Allergy,
    Condition,
    Immunization,
    Medication,
)
from patient_portal.domain.timeline.dto import TimelineItem, at_day, aware

_WORDS = {"severe": "severe", "moderate": "moderate", "mild": "mild"}


def with_unverified_reports(session: Session, actor: Any, patient_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these patients have an allergy or a medication they reported that no clinician has
    verified yet: the worklist's "Reported by patient" flag. Two statements, nothing decrypted."""
    if not patient_ids:
        return set()
    found: set[uuid.UUID] = set()
    for model in (Allergy, Medication):
        found |= set(session.exec(select(model.patient_id).distinct().where(
            model.patient_id.in_(patient_ids), model.verification == PATIENT_REPORTED,  # type: ignore[attr-defined]
            model.status == "active")).all())
    return found


def _dec(kind: str, token: Any, table: str, column: str, row_id: Any) -> Any:
    return decrypt_value(kind, token, table, column, row_id)


def _moment(day: date | None, recorded: datetime) -> tuple[datetime, bool]:
    return (at_day(day), True) if day else (aware(recorded), False)


def timeline_items(session: Session, patient_id: uuid.UUID, kinds: set[str]) -> list[TimelineItem]:
    """The patient's history as timeline items, for the `kinds` asked (conditions, allergies,
    medications, immunizations): a condition at its onset (else when it was recorded), an allergy
    when recorded, a medication at its start and again at its stop, a vaccine on the day given. One
    statement per kind; only the columns shown are decrypted."""
    base = f"/chart/{patient_id}"
    out: list[TimelineItem] = []
    if "conditions" in kinds:
        t = Condition.__tablename__
        for row_id, desc, code, onset, status, created in session.exec(select(
                Condition.id, Condition.description, Condition.code, Condition.onset, Condition.status,
                Condition.created_at).where(Condition.patient_id == patient_id)).all():
            day = _dec("date", onset, t, "onset", row_id)
            when, day_only = _moment(day, created)
            code_text = _dec("str", code, t, "code", row_id)
            out.append(TimelineItem(when, "conditions", "Condition: " + _dec("str", desc, t, "description", row_id),
                                    ", ".join(p for p in (code_text, "onset" if day else "recorded", status) if p),
                                    base + "#history-conditions", str(row_id), day_only))
    if "allergies" in kinds:
        t = Allergy.__tablename__
        for row_id, substance, severity, criticality, status, verification, created in session.exec(select(
                Allergy.id, Allergy.substance, Allergy.severity, Allergy.criticality, Allergy.status,
                Allergy.verification, Allergy.created_at).where(Allergy.patient_id == patient_id)).all():
            parts = [_WORDS.get(severity, ""), "high criticality" if criticality == "high" else "", status,
                     "reported by patient" if verification == PATIENT_REPORTED else ""]
            out.append(TimelineItem(aware(created), "allergies", "Allergy: " + _dec("str", substance, t, "substance", row_id),
                                    ", ".join(p for p in parts if p), base + "#history-allergies", str(row_id)))
    if "medications" in kinds:
        t = Medication.__tablename__
        for row_id, name, dose, start, stop, status, created in session.exec(select(
                Medication.id, Medication.name, Medication.dose, Medication.start_date, Medication.stop_date,
                Medication.status, Medication.created_at).where(Medication.patient_id == patient_id)).all():
            drug = _dec("str", name, t, "name", row_id)
            dose_text = _dec("str", dose, t, "dose", row_id) or ""
            begun = _dec("date", start, t, "start_date", row_id)
            when, day_only = _moment(begun, created)
            out.append(TimelineItem(when, "medications", "Started " + drug,
                                    ", ".join(p for p in (dose_text, "" if begun else "recorded") if p),
                                    base + "#history-medications", f"{row_id}:start", day_only))
            ended = _dec("date", stop, t, "stop_date", row_id)
            if ended:
                out.append(TimelineItem(at_day(ended), "medications", "Stopped " + drug, status,
                                        base + "#history-medications", f"{row_id}:stop", True))
    if "immunizations" in kinds:
        t = Immunization.__tablename__
        for row_id, vaccine, given, cvx, created in session.exec(select(
                Immunization.id, Immunization.vaccine, Immunization.given_on, Immunization.cvx,
                Immunization.created_at).where(Immunization.patient_id == patient_id)).all():
            day = _dec("date", given, t, "given_on", row_id)
            when, day_only = _moment(day, created)
            cvx_text = _dec("str", cvx, t, "cvx", row_id)
            out.append(TimelineItem(when, "immunizations", "Immunization: " + _dec("str", vaccine, t, "vaccine", row_id),
                                    f"CVX {cvx_text}" if cvx_text else "", base + "#history-immunizations", str(row_id),
                                    day_only))
    return out


__all__ = ["timeline_items", "with_unverified_reports"]
