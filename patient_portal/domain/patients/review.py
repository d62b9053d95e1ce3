"""The staff review queue: patients' requests to change legal fields, and self-registrations
awaiting an identity check at the desk (link to an existing record, or accept as new)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from patient_portal.core import audit
from patient_portal.core.access import Action, Actor, Role
from patient_portal.core.db import utcnow
from patient_portal.domain.identity.models import User
from patient_portal.domain.patients import dto, indexes
from patient_portal.domain.patients.common import PatientNotFound, as_uuid, deny, guard, load
from patient_portal.domain.patients.models import (
    CHANGE_APPROVED,
    CHANGE_PENDING,
    CHANGE_REJECTED,
    STATUS_ACTIVE,
    STATUS_MERGED,
    STATUS_PENDING,
    Patient,
    PatientChangeRequest,
)
from patient_portal.domain.patients.registration import duplicate_rows, match_dtos
from patient_portal.domain.patients.validation import ValidationFailed, validate_name

MAX_NOTE = 1000


def request_legal_change(session: Session, actor: Actor, patient_id: Any, changes: dict[str, str],
                         note: str = "") -> dict[str, str]:
    """A patient asks to change their legal name, date of birth or sex; staff decide."""
    pid = as_uuid(patient_id)
    guard(session, actor, Action.DEMOGRAPHICS_WRITE, patient_id=pid)
    if actor.role != Role.PATIENT:
        session.rollback()
        deny(actor, "patient.change_request.create", patient_id=pid,
             message="Staff change these fields directly in the chart.")
    patient = load(session, pid)
    current = dto.basic_values(patient)
    wanted = {k: str(v).strip() for k, v in (changes or {}).items()
              if k in dto.LEGAL_FIELDS and str(v or "").strip() and str(v).strip() != current[k]}
    if not wanted:
        raise ValidationFailed({"changes": "Change at least one of: legal name, date of birth, sex."})
    errors = {k: v for k, v in validate_name({**current, **wanted}).items() if k in wanted}
    if len(note or "") > MAX_NOTE:
        errors["note"] = f"Keep the note under {MAX_NOTE} characters."
    if errors:
        raise ValidationFailed(errors)
    row = PatientChangeRequest(patient_id=pid, requested_by=actor.user_id, changes=wanted,
                               note=(note or "").strip() or None)
    session.add(row)
    session.flush()
    audit.record(session, actor, "patient.change_request.create", patient_id=pid,
                 object_type="change_request", object_id=row.id, detail={"fields": sorted(wanted)})
    return {"id": str(row.id), "fields": ", ".join(dto.LABELS[k] for k in wanted)}


def list_change_requests(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """Pending change requests with the current and requested values (staff, admin)."""
    guard(session, actor, Action.IDENTITY_REVIEW)
    rows = session.exec(select(PatientChangeRequest).where(PatientChangeRequest.status == CHANGE_PENDING)
                        .order_by(PatientChangeRequest.created_at).limit(50)).all()
    out = []
    for row in rows:
        patient = session.get(Patient, row.patient_id)
        current = dto.basic_values(patient)
        out.append({
            "id": str(row.id), "patient_id": str(patient.id), "patient": dto.display_name(patient),
            "mrn": patient.mrn, "note": row.note or "", "requested": dto.display_date(row.created_at.date()),
            "changes": [{"field": dto.LABELS[k], "from": current.get(k, ""), "to": v} for k, v in row.changes.items()],
        })
    audit.record(session, actor, "patient.change_request.list", object_type="change_request",
                 detail={"count": len(out), "patient_ids": [o["patient_id"] for o in out]})
    return out


def decide_change_request(session: Session, actor: Actor, request_id: Any, *, approve: bool,
                          note: str = "") -> None:
    """Approve (apply to the record) or reject a pending change request; audited with field names."""
    guard(session, actor, Action.IDENTITY_REVIEW)
    row = session.get(PatientChangeRequest, as_uuid(request_id))
    if row is None or row.status != CHANGE_PENDING:
        raise ValidationFailed({"request": "This request was already handled."})
    guard(session, actor, Action.DEMOGRAPHICS_WRITE, patient_id=row.patient_id)
    patient = load(session, row.patient_id)
    changed: list[str] = []
    if approve:
        merged = {**dto.basic_values(patient), **row.changes}
        errors = validate_name(merged)
        if errors:
            raise ValidationFailed(errors)
        changed = dto.apply_basic(patient, merged, dto.LEGAL_FIELDS)
        indexes.apply(session, patient)
        patient.version += 1
        patient.updated_by = actor.user_id
        patient.updated_at = utcnow()
        session.add(patient)
    row.status = CHANGE_APPROVED if approve else CHANGE_REJECTED
    row.decided_by = actor.user_id
    row.decided_at = utcnow()
    row.decision_note = (note or "").strip()[:MAX_NOTE] or None
    session.add(row)
    audit.record(session, actor, "patient.change_request.decide", patient_id=patient.id,
                 object_type="change_request", object_id=row.id,
                 detail={"decision": row.status, "fields_changed": changed, "fields": sorted(row.changes)})


def list_identity_checks(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """Self-registered records awaiting an identity check, each with possible existing records."""
    guard(session, actor, Action.IDENTITY_REVIEW)
    pending = session.exec(select(Patient).where(Patient.status == STATUS_PENDING)
                           .order_by(Patient.created_at).limit(50)).all()
    out, seen = [], []
    for patient in pending:
        matches = [(p, r) for p, r in duplicate_rows(session, dto.basic_values(patient), exclude=patient.id)
                   if p.status == STATUS_ACTIVE]
        item = dto.summary(patient)
        item["matches"] = match_dtos(session, actor, matches)
        out.append(item)
        seen += [str(patient.id)] + [str(p.id) for p, _ in matches]
    audit.record(session, actor, "patient.identity.list", object_type="patient",
                 detail={"count": len(out), "patient_ids": seen})
    return out


def verify_identity(session: Session, actor: Actor, patient_id: Any, *, link_to: Any = None) -> str:
    """After checking ID at the desk: accept the self-registered record as new (``link_to`` None) or
    link the account to an existing record (the self-registered one is marked merged). Returns the
    id of the record the account now uses."""
    guard(session, actor, Action.IDENTITY_REVIEW)
    pid = as_uuid(patient_id)
    pending = load(session, pid)
    if pending.status != STATUS_PENDING:
        raise ValidationFailed({"patient": "This record is not waiting for an identity check."})
    users = session.exec(select(User).where(User.patient_id == pid)).all()
    if link_to:
        target = load(session, as_uuid(link_to))
        if target.status != STATUS_ACTIVE:
            raise PatientNotFound()
        for user in users:
            user.patient_id = target.id
            session.add(user)
        pending.status = STATUS_MERGED
        result = target.id
    else:
        pending.status = STATUS_ACTIVE
        result = pending.id
    pending.version += 1
    pending.updated_by = actor.user_id
    session.add(pending)
    audit.record(session, actor, "patient.identity.verify", patient_id=result, object_type="patient",
                 object_id=pid, detail={"outcome": "linked" if link_to else "accepted",
                                        "accounts": len(users)})
    return str(result)
