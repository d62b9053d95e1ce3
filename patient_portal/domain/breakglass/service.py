"""Break-the-glass: a clinician who may not open a record asks for emergency access, for a while.

* **Request** (``request_access``): doctors, or the front desk needing clinical data; admins and
  patients are refused (audited). A reason from the short list (and words of their own for
  "other", kept encrypted), their password again and — where two-step sign-in is on — a code: a
  borrowed session cannot break the glass. The grant lasts PORTAL_EMERGENCY_ACCESS_MINUTES (60).
* **During the grant** ``core.access.decide`` allows what ``EMERGENCY_OPENS`` lists for the role with
  basis "emergency_grant" and purpose "emergency", so every read and write of those minutes says so
  on its audit event and in the patient's "Who has looked at my record". Sensitive records open too
  (nothing else opens them). Every event decides again: when the grant runs out — or an admin or
  the holder ends it — the next click is refused.
* **Afterwards** a job at the end (``notify.py``) records the end (DICOM 110138) if it ran out by
  itself and, when PORTAL_EMERGENCY_ACCESS_TELL_PATIENT is on, emails the patient in plain words.
* **Review**: every grant is an admin's review task (``reviews``), approved or flagged with a note
  (``review``); admins see the active grants and end one (``end_grant``).

Events: ``emergency_access.start`` / ``.end`` (FHIR AuditEvent DICOM 110113 with subtype 110127 /
110138, purpose ETREAT — see dto), ``emergency_access.review``, ``emergency_access.list`` (reads);
only codes in their detail, never the free text.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlmodel import Session, select

from patient_portal.core import access_facts, audit, jobs
from patient_portal.core.access import Action, Actor, Basis, Purpose, Resource, decide, require
from patient_portal.core.access_facts import APPROVED, FLAGGED, PENDING, EmergencyGrant
from patient_portal.core.db import unit_of_work, utcnow
from patient_portal.domain.breakglass import validation
from patient_portal.domain.breakglass.dto import (
    ACTIVE,
    END,
    ENDED,
    EXPIRED,
    REASONS,
    REVIEW,
    START,
    STARTED,
    STOPPED,
    AlreadyReached,
    Grant,
    GrantInvalid,
    GrantNotFound,
)
from patient_portal.domain.identity import reauth
from patient_portal.domain.identity.models import User
from patient_portal.domain.patients.common import as_uuid, load
from patient_portal.domain.patients.dto import display_name
from patient_portal.domain.patients.models import Patient
from patient_portal.settings import get_settings

__all__ = ["END", "START", "Grant", "active_grants", "end_grant", "ended_job_key", "grant_minutes",
           "request_access", "review", "reviews"]

OBJECT = "emergency_grant"
#: the job that closes a grant at its end (notify.py)
ENDED_JOB = "emergency_access.ended"
LIST = "emergency_access.list"
PAGE = 50


def grant_minutes() -> int:
    return get_settings().emergency_access_minutes


def ended_job_key(grant_id: Any) -> str:
    return f"emergency-grant:{grant_id}"


def _aware(value):
    return value if value is None or value.tzinfo else value.replace(tzinfo=utcnow().tzinfo)


def _state(row: EmergencyGrant) -> str:
    if row.ended_at is not None and _aware(row.ended_at) < _aware(row.expires_at):
        return ENDED
    return ACTIVE if _aware(row.expires_at) > utcnow() and row.ended_at is None else EXPIRED


def _views(session: Session, rows: list[EmergencyGrant], *, with_text: bool) -> list[Grant]:
    """Grants with the names of their patients, holders and reviewers (two statements)."""
    users = {u.id: u for u in session.exec(select(User).where(User.id.in_(  # type: ignore[attr-defined]
        {r.user_id for r in rows} | {r.reviewed_by for r in rows if r.reviewed_by}))).all()} if rows else {}
    patients = {p.id: p for p in session.exec(select(Patient).where(Patient.id.in_(  # type: ignore[attr-defined]
        {r.patient_id for r in rows}))).all()} if rows else {}
    out = []
    for r in rows:
        patient, holder, reviewer = patients.get(r.patient_id), users.get(r.user_id), users.get(r.reviewed_by)
        out.append(Grant(
            id=r.id, patient_id=r.patient_id, patient_name=display_name(patient) if patient else "",
            mrn=patient.mrn if patient else "", user_id=r.user_id,
            user_name=(holder.display_name if holder else "") or "A former clinic user", role=r.role,
            reason_code=r.reason_code, reason=REASONS.get(r.reason_code, r.reason_code),
            reason_text=(r.reason_text or "") if with_text else "", started_at=_aware(r.started_at),
            expires_at=_aware(r.expires_at), ended_at=_aware(r.ended_at), state=_state(r),
            review_status=r.review_status, review_note=(r.review_note or "") if with_text else "",
            reviewer_name=(reviewer.display_name if reviewer else "") or ""))
    return out


# ---------------------------------------------------------------- the requester


def _authorize_request(session: Session, actor: Actor | None, pid: uuid.UUID) -> Actor:
    require(session, actor, Action.EMERGENCY_ACCESS_REQUEST, Resource(patient_id=pid), audit_as=START,
            object_type="patient", object_id=pid,
            message="Emergency access is for clinicians and the front desk.")
    assert actor is not None
    load(session, pid)
    held = decide(session, actor, Action.CLINICAL_READ, Resource(patient_id=pid))
    if held.allowed and held.basis is Basis.EMERGENCY_GRANT:
        raise AlreadyReached()
    return actor


def check_request(session: Session, actor: Actor | None, *, patient_id: Any) -> bool:
    """Whether this actor may ask for emergency access to this patient (the form's first check; no
    audit unless refused). AlreadyReached while a grant of theirs runs; PatientNotFound for no record."""
    _authorize_request(session, actor, as_uuid(patient_id))
    return True


def request_access(actor: Actor | None, *, patient_id: Any, reason_code: Any, reason_text: Any = "",
                   password: Any = "", code: Any = "") -> Grant:
    """Break the glass: check who asks and why, the password again (outside any transaction) and the
    code, then start the grant, its audit event, and the job that closes it. Opens its own units."""
    pid = as_uuid(patient_id)
    with unit_of_work() as session:
        actor = _authorize_request(session, actor, pid)
    code_, text, errors = validation.request(reason_code, reason_text, password)
    if errors:
        raise GrantInvalid(errors=errors)
    needs_code = reauth.check_password(actor, password, START)
    minutes = grant_minutes()
    with unit_of_work() as session:
        _authorize_request(session, actor, pid)
        if needs_code:
            reauth.use_code(session, actor, str(code or ""), START)
        now = utcnow()
        row = EmergencyGrant(patient_id=pid, user_id=actor.user_id, role=actor.role.value, reason_code=code_,
                             reason_text=text or None, started_at=now, expires_at=now + timedelta(minutes=minutes))
        session.add(row)
        session.flush()
        access_facts.forget(session)
        audit.record(session, actor, START, patient_id=pid, object_type=OBJECT, object_id=row.id,
                     purpose=Purpose.EMERGENCY.value, basis=Basis.EMERGENCY_GRANT.value,
                     detail={**STARTED, "reason": code_, "minutes": minutes})
        jobs.enqueue(session, ENDED_JOB, {"grant_id": str(row.id)}, run_after=row.expires_at,
                     key=ended_job_key(row.id), fresh=True)
        return _views(session, [row], with_text=False)[0]


# ---------------------------------------------------------------- ending one early


def end_grant(session: Session, actor: Actor | None, *, grant_id: Any) -> Grant:
    """End an active grant now: the holder ("I am done") or an admin. The end is audited at once
    and the job that tells the patient runs now instead of at the planned end."""
    row = session.get(EmergencyGrant, _grant_uuid(grant_id))
    if row is None:
        require(session, actor, Action.EMERGENCY_ACCESS_MANAGE, audit_as=END, object_type=OBJECT)
        raise GrantNotFound()
    if actor is None or actor.user_id != row.user_id:
        require(session, actor, Action.EMERGENCY_ACCESS_MANAGE, Resource(patient_id=row.patient_id), audit_as=END,
                object_type=OBJECT, object_id=row.id)
    assert actor is not None
    if _state(row) != ACTIVE:
        return _views(session, [row], with_text=actor.user_id != row.user_id)[0]
    now = utcnow()
    row.ended_at, row.ended_by, row.updated_at = now, actor.user_id, now
    session.add(row)
    access_facts.forget(session)
    audit.record(session, actor, END, patient_id=row.patient_id, object_type=OBJECT, object_id=row.id,
                 purpose=Purpose.EMERGENCY.value, basis=Basis.EMERGENCY_GRANT.value,
                 detail={**STOPPED, "by": "self" if actor.user_id == row.user_id else "admin"})
    jobs.enqueue(session, ENDED_JOB, {"grant_id": str(row.id)}, run_after=now, key=ended_job_key(row.id))
    return _views(session, [row], with_text=actor.user_id != row.user_id)[0]


def _grant_uuid(value: Any) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        raise GrantNotFound() from None


# ---------------------------------------------------------------- admins: active grants, review tasks


def active_grants(session: Session, actor: Actor | None) -> list[Grant]:
    """Every grant running now, the one ending soonest first (admins)."""
    require(session, actor, Action.EMERGENCY_ACCESS_MANAGE, audit_as=LIST, object_type=OBJECT)
    now = utcnow()
    rows = list(session.exec(select(EmergencyGrant).where(
        EmergencyGrant.expires_at > now, EmergencyGrant.ended_at.is_(None))  # type: ignore[union-attr]
        .order_by(EmergencyGrant.expires_at).limit(PAGE)).all())  # type: ignore[arg-type]
    audit.record(session, actor, LIST, object_type=OBJECT, detail={"active": True, "grants": [str(r.id) for r in rows]})
    return _views(session, rows, with_text=True)


def reviews(session: Session, actor: Actor | None, *, status: str = PENDING) -> list[Grant]:
    """Grants to review (pending, oldest first), or those reviewed (approved/flagged, newest first)."""
    require(session, actor, Action.EMERGENCY_ACCESS_MANAGE, audit_as=LIST, object_type=OBJECT)
    wanted = status if status in (PENDING, APPROVED, FLAGGED) else PENDING
    order = EmergencyGrant.started_at if wanted == PENDING else EmergencyGrant.reviewed_at.desc()  # type: ignore[union-attr]
    rows = list(session.exec(select(EmergencyGrant).where(EmergencyGrant.review_status == wanted)
                             .order_by(order).limit(PAGE)).all())
    audit.record(session, actor, LIST, object_type=OBJECT, detail={"review_status": wanted,
                                                                    "grants": [str(r.id) for r in rows]})
    return _views(session, rows, with_text=True)


def review(session: Session, actor: Actor | None, *, grant_id: Any, decision: Any, note: Any = "") -> Grant:
    """An admin's review of a grant: approve it, or flag it for follow-up (a note saying what)."""
    row = session.get(EmergencyGrant, _grant_uuid(grant_id))
    require(session, actor, Action.EMERGENCY_ACCESS_MANAGE, Resource(patient_id=row.patient_id if row else None),
            audit_as=REVIEW, object_type=OBJECT, object_id=row.id if row else None)
    assert actor is not None
    if row is None:
        raise GrantNotFound()
    chosen, text, errors = validation.review(decision, note)
    if errors:
        raise GrantInvalid(errors=errors)
    now = utcnow()
    row.review_status = APPROVED if chosen == "approve" else FLAGGED
    row.reviewed_by, row.reviewed_at, row.review_note, row.updated_at = actor.user_id, now, text or None, now
    session.add(row)
    audit.record(session, actor, REVIEW, patient_id=row.patient_id, object_type=OBJECT, object_id=row.id,
                 detail={"review_status": row.review_status})
    return _views(session, [row], with_text=True)[0]
