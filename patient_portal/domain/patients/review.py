"""The staff review queue: patients' requests to change legal fields, and self-registrations
awaiting an identity check at the desk (link to an existing record, or accept as new).

Linking a self-registered account to an existing record hands that account the record: its
details, insurance, documents and health history. So a link is only ever made to one of the
records the review itself offered for that sign-up (recomputed here, never taken from the browser),
never to a record that already has an online account, and — when the record holds clinical data —
only after a second person agreed (see ``link_identity``). Audit events (all with the target record
as patient, the self-registered record as object):

  patient.identity.link_proposed   a link waits for a second person
  patient.identity.linked          the account now uses the existing record (its email was told)
  patient.identity.link_declined   a proposal was declined (or withdrawn by its proposer)
  patient.identity.link / .link_confirm / .link_decline, outcome "denied"   a refused attempt, with the reason

Both queues are paged on the server, PAGE_SIZE rows a page, oldest first.
"""

from __future__ import annotations

import uuid
from typing import Any, NoReturn

from sqlalchemy import func
from sqlmodel import Session, select

from patient_portal.core import audit, clock
from patient_portal.core.access import Action, Actor, Role, refuse, require
from patient_portal.core.db import utcnow
from patient_portal.domain.documents.models import ADMINISTRATIVE, Document
from patient_portal.domain.history.models import KINDS
from patient_portal.domain.identity import account_mail
from patient_portal.domain.identity.models import User
from patient_portal.domain.patients import dto, indexes
from patient_portal.domain.patients.common import PatientNotFound, as_uuid, deny, guard, load
from patient_portal.domain.patients.link_models import (
    LINK_CONFIRMED,
    LINK_DECLINED,
    LINK_PENDING,
    IdentityLinkProposal,
)
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
PAGE_SIZE = 25


class ReviewPage(list):
    """One page of a review queue: the rows themselves (it is a list), and ``total`` (rows waiting
    in all), ``page`` (1-based, clamped to the last page) and ``pages``."""

    def __init__(self, rows: list[dict[str, Any]], *, total: int, page: int):
        super().__init__(rows)
        self.total = total
        self.page = page
        self.pages = max(1, -(-total // PAGE_SIZE))


def _page_of(session: Session, rows_stmt: Any, count_stmt: Any, page: Any) -> tuple[list[Any], int, int]:
    """Rows of page `page` (browser input: anything not a number is page 1; past the end is the last)."""
    try:
        wanted = max(1, int(page))
    except (TypeError, ValueError):
        wanted = 1
    total = int(session.exec(count_stmt).one())
    page = min(wanted, max(1, -(-total // PAGE_SIZE)))
    return list(session.exec(rows_stmt.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()), total, page


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


def list_change_requests(session: Session, actor: Actor, *, page: Any = 1) -> ReviewPage:
    """One page (oldest first) of pending change requests with the current and requested values
    (staff, admin)."""
    guard(session, actor, Action.IDENTITY_REVIEW)
    pending = PatientChangeRequest.status == CHANGE_PENDING
    rows, total, page = _page_of(session, select(PatientChangeRequest).where(pending)
                                 .order_by(PatientChangeRequest.created_at, PatientChangeRequest.id),
                                 select(func.count()).select_from(PatientChangeRequest).where(pending), page)
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
                 detail={"count": len(out), "total": total, "page": page,
                         "patient_ids": [o["patient_id"] for o in out]})
    return ReviewPage(out, total=total, page=page)


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


# ---------------------------------------------------------------- identity checks


def _offered(session: Session, pending: Patient) -> list[tuple[Patient, list[str]]]:
    """The existing records the review offers for a self-registration: the only ones it may link to."""
    return [(p, r) for p, r in duplicate_rows(session, dto.basic_values(pending), exclude=pending.id)
            if p.status == STATUS_ACTIVE]


def _has_account(session: Session, patient_id: uuid.UUID) -> bool:
    return session.exec(select(User.id).where(User.patient_id == patient_id).limit(1)).first() is not None


def has_clinical_data(session: Session, patient_id: uuid.UUID) -> bool:
    """Any health-history row, or any clinical document (removed or purged ones too: a stricter rule
    costs one more person's click, a looser one a chart)."""
    for model, _ in KINDS.values():
        if session.exec(select(model.id).where(model.patient_id == patient_id).limit(1)).first() is not None:
            return True
    admin_categories = [str(c) for c in ADMINISTRATIVE]
    clinical_doc = select(Document.id).where(Document.patient_id == patient_id,
                                             Document.category.not_in(admin_categories)).limit(1)
    return session.exec(clinical_doc).first() is not None


def _open_proposal(session: Session, pending_id: uuid.UUID) -> IdentityLinkProposal | None:
    return session.exec(select(IdentityLinkProposal).where(IdentityLinkProposal.pending_patient_id == pending_id,
                                                           IdentityLinkProposal.status == LINK_PENDING)).first()


def _proposal_dto(session: Session, actor: Actor, proposal: IdentityLinkProposal) -> dict[str, Any]:
    target = session.get(Patient, proposal.target_patient_id)
    proposer = session.get(User, proposal.proposed_by)
    return {
        "id": str(proposal.id), "target_id": str(target.id), "target_name": dto.display_name(target),
        "target_mrn": target.mrn,
        "proposed_by": (proposer.display_name or proposer.email) if proposer else "another staff member",
        "proposed_at": clock.plain_time(proposal.created_at),
        "mine": proposal.proposed_by == actor.user_id,
    }


def list_identity_checks(session: Session, actor: Actor, *, page: Any = 1) -> ReviewPage:
    """One page (oldest first) of self-registered records awaiting an identity check, each with the
    existing records it may be linked to (``has_account``: cannot be linked; ``needs_second_person``:
    holds clinical data) and the link waiting for a second person, if any."""
    guard(session, actor, Action.IDENTITY_REVIEW)
    waiting = Patient.status == STATUS_PENDING
    pending, total, page = _page_of(session, select(Patient).where(waiting).order_by(Patient.created_at, Patient.id),
                                    select(func.count()).select_from(Patient).where(waiting), page)
    proposals = {p.pending_patient_id: p for p in session.exec(select(IdentityLinkProposal).where(
        IdentityLinkProposal.status == LINK_PENDING,
        IdentityLinkProposal.pending_patient_id.in_([p.id for p in pending]))).all()} if pending else {}
    out, seen = [], []
    for patient in pending:
        matches = _offered(session, patient)
        item = dto.summary(patient)
        item["matches"] = match_dtos(session, actor, matches)
        for shown, (record, _) in zip(item["matches"], matches, strict=True):
            shown["has_account"] = _has_account(session, record.id)
            shown["needs_second_person"] = has_clinical_data(session, record.id)
        proposal = proposals.get(patient.id)
        item["proposal"] = _proposal_dto(session, actor, proposal) if proposal else None
        out.append(item)
        seen += [str(patient.id)] + [str(p.id) for p, _ in matches]
        if proposal and str(proposal.target_patient_id) not in seen:
            seen.append(str(proposal.target_patient_id))
    audit.record(session, actor, "patient.identity.list", object_type="patient",
                 detail={"count": len(out), "total": total, "page": page, "patient_ids": seen})
    return ReviewPage(out, total=total, page=page)


def _refuse(session: Session, actor: Actor | None, action: str, reason: str, message: str, *,
            target: uuid.UUID | None = None, pending: uuid.UUID | None = None) -> NoReturn:
    """Audit a refused link attempt (own transaction, with the reason) and raise AccessDenied."""
    refuse(session, actor, action, reason=reason, patient_id=target, object_type="patient", object_id=pending,
           message=message)


def _may_review(session: Session, actor: Actor | None, action: str) -> Actor:
    require(session, actor, Action.IDENTITY_REVIEW, audit_as=action)
    assert actor is not None
    return actor


def _pending_record(session: Session, patient_id: uuid.UUID) -> Patient:
    """The self-registered record, locked (PostgreSQL) so two reviewers cannot both act on it."""
    patient = session.get(Patient, patient_id, with_for_update=True)
    if patient is None or patient.status == STATUS_MERGED:
        raise PatientNotFound()
    if patient.status != STATUS_PENDING:
        raise ValidationFailed({"patient": "This record is not waiting for an identity check."})
    return patient


def _linkable_target(session: Session, actor: Actor, action: str, pending: Patient, target_id: uuid.UUID) -> Patient:
    """The target, if the review offers it for `pending` and it has no account; refused otherwise."""
    target = next((p for p, _ in _offered(session, pending) if p.id == target_id), None)
    if target is None:
        _refuse(session, actor, action, "not_offered", "Link only to one of the existing records this review "
                "suggests for the sign-up. Search for the person and check again if the right record is missing.",
                target=target_id, pending=pending.id)
    if _has_account(session, target.id):
        _refuse(session, actor, action, "has_account", "This record already has an online account, so another "
                "account cannot be linked to it. Ask the person to sign in with the account they have (or to "
                "reset its password).", target=target.id, pending=pending.id)
    return target


def _link(session: Session, actor: Actor, pending: Patient, target: Patient,
          proposal: IdentityLinkProposal | None) -> None:
    """Move the sign-up's accounts to the target, close the sign-up, tell the record's email."""
    users = session.exec(select(User).where(User.patient_id == pending.id)).all()
    for user in users:
        user.patient_id = target.id
        session.add(user)
    pending.status = STATUS_MERGED
    pending.version += 1
    pending.updated_by = actor.user_id
    pending.updated_at = utcnow()
    session.add(pending)
    if target.email:
        account_mail.queue_to_address(session, "record_linked", target.email, when=clock.plain_time(utcnow()))
    detail: dict[str, Any] = {"outcome": "linked", "accounts": len(users), "notified": bool(target.email)}
    if proposal is not None:
        detail |= {"proposal": str(proposal.id), "proposed_by": str(proposal.proposed_by)}
    audit.record(session, actor, "patient.identity.linked", patient_id=target.id, object_type="patient",
                 object_id=pending.id, detail=detail)


def link_identity(session: Session, actor: Actor, patient_id: Any, *, link_to: Any) -> dict[str, str]:
    """After checking photo ID at the desk: link the self-registered account to an existing record.

    Only records this review offers for the sign-up qualify (same name and birth date, phone or
    email; recomputed here), and never one that already has an online account. A record with no
    clinical data is linked at once (the screen asked "are you sure" first). A record with clinical
    data is only *proposed*: a second person — another staff member or an administrator, never
    the proposer — confirms it with ``confirm_link`` (or declines it). This is the two-person rule:
    one insider alone must not be able to hand a patient's chart (allergies, conditions, clinical
    documents) to an online account they control, e.g. one they self-registered under that
    patient's name. Returns ``outcome`` ("linked" | "proposed") and ``patient_id``, the record the
    account uses now.
    """
    action = "patient.identity.link"
    _may_review(session, actor, action)
    pending = _pending_record(session, as_uuid(patient_id))
    target_id = as_uuid(link_to)
    if _open_proposal(session, pending.id) is not None:
        raise ValidationFailed({"patient": "A link for this sign-up is already waiting for a second person. "
                                           "Confirm or decline it first."})
    target = _linkable_target(session, actor, action, pending, target_id)
    if not has_clinical_data(session, target.id):
        _link(session, actor, pending, target, None)
        return {"outcome": "linked", "patient_id": str(target.id)}
    proposal = IdentityLinkProposal(pending_patient_id=pending.id, target_patient_id=target.id,
                                    proposed_by=actor.user_id)
    session.add(proposal)
    session.flush()
    audit.record(session, actor, "patient.identity.link_proposed", patient_id=target.id, object_type="patient",
                 object_id=pending.id, detail={"outcome": "proposed", "proposal": str(proposal.id),
                                               "reason": "clinical_data"})
    return {"outcome": "proposed", "patient_id": str(pending.id), "proposal_id": str(proposal.id)}


def _waiting_proposal(session: Session, proposal_id: Any) -> IdentityLinkProposal:
    try:
        pid = proposal_id if isinstance(proposal_id, uuid.UUID) else uuid.UUID(str(proposal_id))
    except ValueError:
        pid = None
    proposal = session.get(IdentityLinkProposal, pid, with_for_update=True) if pid else None
    if proposal is None or proposal.status != LINK_PENDING:
        raise ValidationFailed({"proposal": "This link is no longer waiting: someone already confirmed or "
                                            "declined it."})
    return proposal


def confirm_link(session: Session, actor: Actor, proposal_id: Any) -> str:
    """The second person confirms a proposed link (staff or admin, not the proposer). Everything is
    checked again (still offered, still no account). Returns the record the account now uses."""
    action = "patient.identity.link_confirm"
    _may_review(session, actor, action)
    proposal = _waiting_proposal(session, proposal_id)
    if proposal.proposed_by == actor.user_id:
        _refuse(session, actor, action, "own_proposal", "You proposed this link, so someone else must confirm "
                "it: another staff member or an administrator.", target=proposal.target_patient_id,
                pending=proposal.pending_patient_id)
    pending = _pending_record(session, proposal.pending_patient_id)
    target = _linkable_target(session, actor, action, pending, proposal.target_patient_id)
    proposal.status, proposal.decided_by, proposal.decided_at = LINK_CONFIRMED, actor.user_id, utcnow()
    proposal.updated_at = proposal.decided_at
    session.add(proposal)
    _link(session, actor, pending, target, proposal)
    return str(target.id)


def decline_link(session: Session, actor: Actor, proposal_id: Any) -> None:
    """Decline a proposed link (staff or admin; the proposer may withdraw their own). The sign-up
    stays in the queue, to be linked elsewhere or accepted as new."""
    action = "patient.identity.link_decline"
    _may_review(session, actor, action)
    proposal = _waiting_proposal(session, proposal_id)
    proposal.status, proposal.decided_by, proposal.decided_at = LINK_DECLINED, actor.user_id, utcnow()
    proposal.updated_at = proposal.decided_at
    session.add(proposal)
    audit.record(session, actor, "patient.identity.link_declined", patient_id=proposal.target_patient_id,
                 object_type="patient", object_id=proposal.pending_patient_id,
                 detail={"outcome": "declined", "proposal": str(proposal.id),
                         "by_proposer": proposal.proposed_by == actor.user_id})


def verify_identity(session: Session, actor: Actor, patient_id: Any, *, link_to: Any = None) -> str:
    """After checking ID at the desk: accept the self-registered record as new (``link_to`` None) or
    link the account to an existing record (see ``link_identity``: a record with clinical data is
    only proposed). Returns the id of the record the account uses now."""
    if link_to:
        return link_identity(session, actor, patient_id, link_to=link_to)["patient_id"]
    guard(session, actor, Action.IDENTITY_REVIEW)
    pending = _pending_record(session, as_uuid(patient_id))
    if _open_proposal(session, pending.id) is not None:
        raise ValidationFailed({"patient": "A link to an existing record is waiting for a second person. "
                                           "Decline it first to keep this sign-up as a new record."})
    users = session.exec(select(User).where(User.patient_id == pending.id)).all()
    pending.status = STATUS_ACTIVE
    pending.version += 1
    pending.updated_by = actor.user_id
    pending.updated_at = utcnow()
    session.add(pending)
    audit.record(session, actor, "patient.identity.verify", patient_id=pending.id, object_type="patient",
                 object_id=pending.id, detail={"outcome": "accepted", "accounts": len(users)})
    return str(pending.id)
