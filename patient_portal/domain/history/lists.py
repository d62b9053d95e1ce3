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
from patient_portal.domain.timeline.dto import Event, SourcePage, at_day, aware, newest

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


def timeline_items(session: Session, patient_id: uuid.UUID, kinds: set[str], *, limit: int) -> SourcePage:
    """The newest `limit` of the patient's history events of the `kinds` asked (conditions,
    allergies, medications, immunizations), and how many there are: a condition at its onset (else
    when it was recorded), an allergy when recorded, a medication at its start and again at its stop,
    a vaccine on the day given. One statement per kind; the moment (an encrypted date) is decrypted
    for every row, what an item says only for the events kept (``timeline.dto``: the paged source
    contract)."""
    base = f"/chart/{patient_id}"
    events: list[Event] = []
    if "conditions" in kinds:
        t = Condition.__tablename__
        for row_id, desc, code, onset, status, created in session.exec(select(
                Condition.id, Condition.description, Condition.code, Condition.onset, Condition.status,
                Condition.created_at).where(Condition.patient_id == patient_id)).all():
            day = _dec("date", onset, t, "onset", row_id)
            when, day_only = _moment(day, created)

            def condition(row_id=row_id, desc=desc, code=code, status=status, dated=bool(day), t=t) -> tuple[str, str]:
                code_text = _dec("str", code, t, "code", row_id)
                return ("Condition: " + _dec("str", desc, t, "description", row_id),
                        ", ".join(p for p in (code_text, "onset" if dated else "recorded", status) if p))

            events.append(Event(when, "conditions", str(row_id), condition, base + "#history-conditions", day_only))
    if "allergies" in kinds:
        t = Allergy.__tablename__
        for row_id, substance, severity, criticality, status, verification, created in session.exec(select(
                Allergy.id, Allergy.substance, Allergy.severity, Allergy.criticality, Allergy.status,
                Allergy.verification, Allergy.created_at).where(Allergy.patient_id == patient_id)).all():
            parts = [_WORDS.get(severity, ""), "high criticality" if criticality == "high" else "", status,
                     "reported by patient" if verification == PATIENT_REPORTED else ""]

            def allergy(row_id=row_id, substance=substance, parts=parts, t=t) -> tuple[str, str]:
                return ("Allergy: " + _dec("str", substance, t, "substance", row_id),
                        ", ".join(p for p in parts if p))

            events.append(Event(aware(created), "allergies", str(row_id), allergy, base + "#history-allergies"))
    if "medications" in kinds:
        t = Medication.__tablename__
        for row_id, name, dose, start, stop, status, created in session.exec(select(
                Medication.id, Medication.name, Medication.dose, Medication.start_date, Medication.stop_date,
                Medication.status, Medication.created_at).where(Medication.patient_id == patient_id)).all():
            begun = _dec("date", start, t, "start_date", row_id)
            when, day_only = _moment(begun, created)

            def started(row_id=row_id, name=name, dose=dose, dated=bool(begun), t=t) -> tuple[str, str]:
                dose_text = _dec("str", dose, t, "dose", row_id) or ""
                return ("Started " + _dec("str", name, t, "name", row_id),
                        ", ".join(p for p in (dose_text, "" if dated else "recorded") if p))

            events.append(Event(when, "medications", f"{row_id}:start", started, base + "#history-medications",
                                day_only))
            ended = _dec("date", stop, t, "stop_date", row_id)
            if ended:
                events.append(Event(at_day(ended), "medications", f"{row_id}:stop",
                                    lambda row_id=row_id, name=name, status=status, t=t: (
                                        "Stopped " + _dec("str", name, t, "name", row_id), status),
                                    base + "#history-medications", True))
    if "immunizations" in kinds:
        t = Immunization.__tablename__
        for row_id, vaccine, given, cvx, created in session.exec(select(
                Immunization.id, Immunization.vaccine, Immunization.given_on, Immunization.cvx,
                Immunization.created_at).where(Immunization.patient_id == patient_id)).all():
            day = _dec("date", given, t, "given_on", row_id)
            when, day_only = _moment(day, created)

            def immunization(row_id=row_id, vaccine=vaccine, cvx=cvx, t=t) -> tuple[str, str]:
                cvx_text = _dec("str", cvx, t, "cvx", row_id)
                return ("Immunization: " + _dec("str", vaccine, t, "vaccine", row_id),
                        f"CVX {cvx_text}" if cvx_text else "")

            events.append(Event(when, "immunizations", str(row_id), immunization, base + "#history-immunizations",
                                day_only))
    return newest(events, limit)


__all__ = ["timeline_items", "with_unverified_reports"]
