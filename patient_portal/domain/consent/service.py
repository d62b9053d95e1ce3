"""Consents: the one way in for the "Privacy and sharing" page, the front desk and other areas.

* **Per purpose** (``core.access_facts``): sharing records with outside systems and apps, telling
  emergency contacts, text-message reminders, email newsletters, research. Each decision is a new
  ``ConsentRecord`` with the version and the words agreed to, when, how (portal or paper — the scan
  attached as a document of the patient) and who recorded it; the newest one is in force.
* **Who**: the patient grants, declines and withdraws their own on the portal (``decide_own``); the
  front desk (and admins) record what a patient signed on paper (``record_paper``); the patient,
  their care-team doctors, the front desk and admins read them (``overview``).
* **Enforced by the policy point**, not by screens: ``core.access.decide`` refuses the actions a
  consent decides (sharing records out) without it, and other areas ask ``consent_allows`` (the
  appointment reminders' channel: no text message without the SMS consent).

Events: ``consent.list`` (a read), ``consent.write`` (purpose, status, version, method: never text).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from patient_portal.core import audit
from patient_portal.core.access import Action, Actor, Resource, require
from patient_portal.core.access_facts import DECLINED, GRANTED, WITHDRAWN, ConsentRecord, consent_allows
from patient_portal.core.clock import clinic_zone
from patient_portal.core.db import utcnow
from patient_portal.domain.consent import validation as check
from patient_portal.domain.consent.dto import (
    ORDER,
    TEXTS,
    ConsentEntry,
    ConsentInvalid,
    ConsentItem,
    ConsentOverview,
    ConsentTextChanged,
    opt_in,
)
from patient_portal.domain.documents.models import Category, Document, Status
from patient_portal.domain.identity.models import User
from patient_portal.domain.patients.common import PatientNotFound, as_uuid, load

__all__ = ["ConsentOverview", "consent_allows", "decide_own", "overview", "own_overview", "record_paper"]

OBJECT = "consent"
HISTORY = 50


def _names(session: Session, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    return {u.id: u.display_name for u in session.exec(select(User).where(User.id.in_(ids))).all()}  # type: ignore[attr-defined]


def _recorder(row: ConsentRecord, patient_user: set[uuid.UUID], names: dict[uuid.UUID, str]) -> str:
    return "you" if row.recorded_by in patient_user else (names.get(row.recorded_by) or "the clinic")


def _overview(session: Session, actor: Actor, pid: uuid.UUID) -> ConsentOverview:
    rows = list(session.exec(select(ConsentRecord).where(ConsentRecord.patient_id == pid)
                             .order_by(ConsentRecord.created_at.desc()).limit(HISTORY)).all())  # type: ignore[attr-defined]
    names = _names(session, {r.recorded_by for r in rows})
    mine = {actor.user_id} if actor.patient_id == pid else set()
    latest: dict[str, ConsentRecord] = {}
    for row in rows:
        latest.setdefault(row.purpose, row)
    items = []
    for purpose in ORDER:
        text, row = TEXTS[purpose], latest.get(purpose)
        items.append(ConsentItem(
            purpose=purpose, title=text.title, text=text.text, version=text.version,
            status=row.status if row else None,
            allowed=(row.status == GRANTED) if row else not opt_in(purpose), opt_in=opt_in(purpose),
            when=row.created_at if row else None, method=row.method if row else "",
            recorded_by=_recorder(row, mine, names) if row else "", agreed_version=row.text_version if row else ""))
    history = [ConsentEntry(id=r.id, purpose=r.purpose, title=TEXTS[r.purpose].title if r.purpose in TEXTS else r.purpose,
                            status=r.status, version=r.text_version, when=r.created_at, method=r.method,
                            signed_on=r.signed_on, recorded_by=_recorder(r, mine, names), document_id=r.document_id)
               for r in rows]
    return ConsentOverview(items, history)


def overview(session: Session, actor: Actor | None, *, patient_id: Any) -> ConsentOverview:
    """Every purpose's consent as it stands, and the decisions made (newest first)."""
    pid = as_uuid(patient_id)
    require(session, actor, Action.CONSENT_READ, Resource(patient_id=pid), audit_as="consent.list")
    assert actor is not None
    load(session, pid)
    found = _overview(session, actor, pid)
    audit.record(session, actor, "consent.list", patient_id=pid, object_type=OBJECT,
                 detail={"count": len(found.history)})
    return found


def own_overview(session: Session, actor: Actor | None) -> ConsentOverview:
    """The signed-in patient's own consents (PatientNotFound: no record linked)."""
    if actor is None or actor.patient_id is None:
        if actor is None:
            require(session, actor, Action.CONSENT_READ, audit_as="consent.list")
        raise PatientNotFound()
    return overview(session, actor, patient_id=actor.patient_id)


def _current(session: Session, pid: uuid.UUID, purpose: str) -> str | None:
    return session.exec(select(ConsentRecord.status).where(ConsentRecord.patient_id == pid,
                                                           ConsentRecord.purpose == purpose)
                        .order_by(ConsentRecord.created_at.desc()).limit(1)).first()  # type: ignore[attr-defined]


def _write(session: Session, actor: Actor, pid: uuid.UUID, purpose: str, status: str, method: str, **extra: Any
           ) -> ConsentRecord:
    text = TEXTS[purpose]
    now = utcnow()
    previous = session.exec(select(ConsentRecord.created_at).where(ConsentRecord.patient_id == pid)
                            .order_by(ConsentRecord.created_at.desc()).limit(1)).first()  # type: ignore[attr-defined]
    if previous is not None:  # the newest row is the one in force: never two at one instant
        previous = previous if previous.tzinfo else previous.replace(tzinfo=now.tzinfo)
        now = max(now, previous + timedelta(microseconds=1))
    row = ConsentRecord(patient_id=pid, purpose=purpose, status=status, text_version=text.version, text=text.text,
                        method=method, recorded_by=actor.user_id, created_at=now, updated_at=now, **extra)
    session.add(row)
    session.flush()
    audit.record(session, actor, "consent.write", patient_id=pid, object_type=OBJECT, object_id=row.id,
                 detail={"purpose": purpose, "status": status, "version": text.version, "method": method})
    return row


def decide_own(session: Session, actor: Actor | None, *, purpose: Any, status: Any, version: Any = None
               ) -> ConsentOverview:
    """The patient agrees, declines or withdraws on the portal, to the text at `version` (the one
    they read: a stale one is ConsentTextChanged). Withdrawing is for a consent given; otherwise the
    answer is declining."""
    pid = actor.patient_id if actor is not None else None
    require(session, actor, Action.CONSENT_OWN_WRITE, Resource(patient_id=pid), audit_as="consent.write")
    assert actor is not None and pid is not None
    load(session, pid)
    errors: dict[str, str] = {}
    chosen, said = check.decision(purpose, status, errors)
    if errors:
        raise ConsentInvalid(errors=errors)
    if version is not None and str(version) != TEXTS[chosen].version:
        raise ConsentTextChanged()
    current = _current(session, pid, chosen)
    if said == WITHDRAWN and current != GRANTED:
        said = DECLINED
    if said == current:
        return _overview(session, actor, pid)
    _write(session, actor, pid, chosen, said, "portal")
    return _overview(session, actor, pid)


def record_paper(session: Session, actor: Actor | None, *, patient_id: Any, purpose: Any, status: Any,
                 signed_on: Any, document_id: Any) -> ConsentOverview:
    """The front desk records a consent the patient signed on paper: the purpose, the answer, the
    date on the form, and the scan (a consent-form document of this patient, uploaded first)."""
    pid = as_uuid(patient_id)
    require(session, actor, Action.CONSENT_RECORD, Resource(patient_id=pid), audit_as="consent.write")
    assert actor is not None
    load(session, pid)
    errors: dict[str, str] = {}
    chosen, said = check.decision(purpose, status, errors)
    day = check.signed_on(signed_on, datetime.now(clinic_zone()).date(), errors)
    doc_id = check.document_ref(document_id, errors)
    if doc_id is not None:
        doc = session.get(Document, doc_id)
        if doc is None or doc.patient_id != pid or doc.status != Status.ACTIVE or doc.category != Category.CONSENT_FORM:
            errors["document_id"] = "Choose a consent form among this patient's documents (upload the scan first)."
    if errors:
        raise ConsentInvalid(errors=errors)
    _write(session, actor, pid, chosen, said, "paper", signed_on=day, document_id=doc_id)
    return _overview(session, actor, pid)


def consent_forms(session: Session, actor: Actor | None, *, patient_id: Any) -> list[tuple[str, str]]:
    """(document id, title) of the patient's active consent-form scans, for the paper form's choice.
    The caller has authorized the page (``overview``); this asks the policy for the documents again."""
    pid = as_uuid(patient_id)
    require(session, actor, Action.ADMIN_DOC_READ, Resource(patient_id=pid), audit_as="document.list")
    rows = session.exec(select(Document).where(Document.patient_id == pid, Document.status == Status.ACTIVE,
                                               Document.category == Category.CONSENT_FORM)
                        .order_by(Document.created_at.desc())).all()  # type: ignore[attr-defined]
    audit.record(session, actor, "document.list", patient_id=pid, object_type="document",
                 detail={"count": len(rows), "filters": ["category"]})
    return [(str(r.id), r.title or "Consent form") for r in rows]


def allows(session: Session, patient_id: uuid.UUID, purpose: str) -> bool:
    """``core.access_facts.consent_allows``, for areas that choose how to act (no policy, no audit)."""
    return consent_allows(session, patient_id, purpose)
