"""HIPAA rights: the accounting of disclosures (164.528) and amendment requests (164.526).

* **Disclosures** outside treatment, payment and operations are recorded — by the front desk for
  records sent out (``record_disclosure``), automatically by the area that sends them to an app
  (``record_app_disclosure``, no policy: its caller decided and audits). The patient (and the front
  desk, admins) list them (``disclosures``) and the patient downloads the accounting of the last six
  years as a PDF (``accounting_pdf``: date, recipient, what, why).
* **Amendments**: the patient asks to correct something (``request_amendment``), due 60 days later;
  a care-team doctor accepts — saying what they corrected — or denies with the reason in writing
  (``answer_amendment``, at the version they read); after a denial the patient may file a statement
  of disagreement (``add_disagreement``), which travels with the record: every view of the
  request shows it. Open requests are on the doctor's worklist, due date first
  (``amendment_worklist``).

Events hold ids, codes and counts only: ``disclosure.list``, ``disclosure.record``,
``disclosure.accounting.print``, ``amendment.list``, ``amendment.request``, ``amendment.answer``,
``amendment.disagreement``, ``amendment.worklist.list``.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from patient_portal.core import audit, clinic_config
from patient_portal.core.access import Action, Actor, Resource, reach_filter, require
from patient_portal.core.clock import clinic_zone, plain_day
from patient_portal.core.db import utcnow
from patient_portal.core.pdf import pdf
from patient_portal.domain.patients.common import PatientNotFound, as_uuid, load
from patient_portal.domain.patients.dto import display_name
from patient_portal.domain.patients.models import Patient
from patient_portal.domain.rights import validation as check
from patient_portal.domain.rights.dto import (
    ACCOUNTING_YEARS,
    BASES,
    DUE_DAYS,
    AmendmentDecided,
    AmendmentNotFound,
    AmendmentView,
    DisclosureView,
    RightsInvalid,
)
from patient_portal.domain.rights.models import ACCEPTED, DENIED, PENDING, AmendmentRequest, Disclosure

__all__ = ["accounting_pdf", "add_disagreement", "amendment_worklist", "amendments", "answer_amendment",
           "disclosures", "record_app_disclosure", "record_disclosure", "request_amendment"]

LIMIT = 200


def _today() -> date:
    return datetime.now(clinic_zone()).date()


def _own(session: Session, actor: Actor | None, action: Action, what: str) -> uuid.UUID:
    """The signed-in patient's own record id (PatientNotFound: none linked)."""
    if actor is None or actor.patient_id is None:
        if actor is None:
            require(session, actor, action, audit_as=what)
        raise PatientNotFound()
    return actor.patient_id


# ---------------------------------------------------------------- disclosures


def _disclosure(row: Disclosure) -> DisclosureView:
    return DisclosureView(id=row.id, disclosed_on=row.disclosed_on, recipient=row.recipient,
                          recipient_address=row.recipient_address or "", description=row.description,
                          purpose=row.purpose, basis=row.basis, basis_words=BASES.get(row.basis, row.basis),
                          source=row.source)


def _since(today: date) -> date:
    try:
        return today.replace(year=today.year - ACCOUNTING_YEARS)
    except ValueError:  # 29 February
        return today.replace(year=today.year - ACCOUNTING_YEARS, day=28)


def _six_years(session: Session, pid: uuid.UUID) -> list[Disclosure]:
    return list(session.exec(select(Disclosure).where(Disclosure.patient_id == pid,
                                                      Disclosure.disclosed_on >= _since(_today()))
                             .order_by(Disclosure.disclosed_on.desc(), Disclosure.created_at.desc())  # type: ignore[attr-defined]
                             .limit(LIMIT)).all())


def disclosures(session: Session, actor: Actor | None, *, patient_id: Any = None) -> list[DisclosureView]:
    """The disclosures of the last six years, newest first (the patient: their own when no id)."""
    pid = _own(session, actor, Action.DISCLOSURE_READ, "disclosure.list") if patient_id is None else as_uuid(patient_id)
    require(session, actor, Action.DISCLOSURE_READ, Resource(patient_id=pid), audit_as="disclosure.list")
    load(session, pid)
    rows = _six_years(session, pid)
    audit.record(session, actor, "disclosure.list", patient_id=pid, object_type="disclosure",
                 detail={"count": len(rows)})
    return [_disclosure(r) for r in rows]


def record_disclosure(session: Session, actor: Actor | None, *, patient_id: Any, values: Any) -> DisclosureView:
    """The front desk records records sent out of the clinic (not for treatment, payment or operations)."""
    pid = as_uuid(patient_id)
    require(session, actor, Action.DISCLOSURE_RECORD, Resource(patient_id=pid), audit_as="disclosure.record")
    assert actor is not None
    load(session, pid)
    cleaned, errors = check.disclosure(values, _today())
    if errors:
        raise RightsInvalid(errors=errors)
    row = Disclosure(patient_id=pid, recorded_by=actor.user_id, source="staff",
                     **{**cleaned, "recipient_address": cleaned["recipient_address"] or None})
    session.add(row)
    session.flush()
    audit.record(session, actor, "disclosure.record", patient_id=pid, object_type="disclosure", object_id=row.id,
                 detail={"basis": row.basis})
    return _disclosure(row)


def record_app_disclosure(session: Session, *, patient_id: uuid.UUID, app: str, description: str,
                          purpose: str = "You asked for your record to be shared with this app.") -> uuid.UUID:
    """For the area that sends records to an app the patient connected (with their sharing consent,
    decided by ``core.access``): the accounting's entry, in its unit. No policy, no audit here."""
    row = Disclosure(patient_id=patient_id, disclosed_on=_today(), basis="app", recipient=app[:200],
                     description=description[:2000], purpose=purpose[:2000], source="app")
    session.add(row)
    session.flush()
    return row.id


def accounting_pdf(session: Session, actor: Actor | None, *, patient_id: Any = None) -> tuple[str, bytes]:
    """The accounting of disclosures of the last six years as (file name, PDF bytes)."""
    pid = _own(session, actor, Action.DISCLOSURE_READ, "disclosure.accounting.print") if patient_id is None \
        else as_uuid(patient_id)
    require(session, actor, Action.DISCLOSURE_READ, Resource(patient_id=pid), audit_as="disclosure.accounting.print")
    patient = load(session, pid)
    rows = _six_years(session, pid)
    clinic = clinic_config.current()
    today = _today()
    lines: list[tuple[int, str | tuple[str, ...]]] = [
        (16, clinic.clinic_name), (10, clinic.clinic_address), (10, ""),
        (14, "Accounting of disclosures"), (10, ""),
        (11, f"Patient: {display_name(patient)}"), (11, f"Period: {plain_day(_since(today))} to {plain_day(today)}"),
        (10, ""),
    ]
    for r in rows:
        lines += [(11, f"{plain_day(r.disclosed_on)} — to {r.recipient[:70]}"),
                  (10, f"Address: {r.recipient_address[:80]}" if r.recipient_address else ""),
                  (10, f"What: {r.description[:95]}"), (10, f"Why: {r.purpose[:95]} ({BASES.get(r.basis, r.basis)})"),
                  (6, "")]
    if not rows:
        lines.append((11, "Your health information was not disclosed outside treatment, payment and operations "))
        lines.append((11, "in this period."))
    lines += [(10, ""), (9, "Disclosures for treatment, payment and health care operations, to you, or with your "
                            "written authorization are not listed (45 CFR 164.528)."),
              (9, f"Printed {plain_day(today)}. Ask the clinic if you have questions.")]
    audit.record(session, actor, "disclosure.accounting.print", patient_id=pid, object_type="disclosure",
                 detail={"export": "pdf", "count": len(rows)})
    return f"accounting-of-disclosures-{today:%Y%m%d}.pdf", pdf(lines)


# ---------------------------------------------------------------- amendments


def _amendment(row: AmendmentRequest, patient_name: str = "") -> AmendmentView:
    return AmendmentView(id=row.id, patient_id=row.patient_id, patient_name=patient_name, requested_at=row.created_at,
                         record_part=row.record_part, requested_change=row.requested_change, reason=row.reason or "",
                         status=row.status, due_on=row.due_on, overdue=row.status == PENDING and row.due_on < _today(),
                         decided_by=row.decided_by_name or "", decided_at=row.decided_at, response=row.response or "",
                         disagreement=row.disagreement or "", disagreement_at=row.disagreement_at, version=row.version)


def amendments(session: Session, actor: Actor | None, *, patient_id: Any = None) -> list[AmendmentView]:
    """The patient's amendment requests, newest first, with answers and statements of disagreement."""
    pid = _own(session, actor, Action.AMENDMENT_READ, "amendment.list") if patient_id is None else as_uuid(patient_id)
    require(session, actor, Action.AMENDMENT_READ, Resource(patient_id=pid), audit_as="amendment.list")
    load(session, pid)
    rows = session.exec(select(AmendmentRequest).where(AmendmentRequest.patient_id == pid)
                        .order_by(AmendmentRequest.created_at.desc()).limit(LIMIT)).all()  # type: ignore[attr-defined]
    audit.record(session, actor, "amendment.list", patient_id=pid, object_type="amendment_request",
                 detail={"count": len(rows)})
    return [_amendment(r) for r in rows]


def request_amendment(session: Session, actor: Actor | None, *, values: Any) -> AmendmentView:
    """The patient asks to correct their record; the clinic answers within 60 days."""
    pid = _own(session, actor, Action.AMENDMENT_REQUEST, "amendment.request")
    require(session, actor, Action.AMENDMENT_REQUEST, Resource(patient_id=pid), audit_as="amendment.request")
    assert actor is not None
    load(session, pid)
    cleaned, errors = check.amendment(values)
    if errors:
        raise RightsInvalid(errors=errors)
    row = AmendmentRequest(patient_id=pid, requested_by=actor.user_id, record_part=cleaned["record_part"],
                           requested_change=cleaned["requested_change"], reason=cleaned["reason"] or None,
                           due_on=_today() + timedelta(days=DUE_DAYS))
    session.add(row)
    session.flush()
    audit.record(session, actor, "amendment.request", patient_id=pid, object_type="amendment_request",
                 object_id=row.id, detail={"due_on": row.due_on.isoformat()})
    return _amendment(row)


def _request(session: Session, pid: uuid.UUID, request_id: Any) -> AmendmentRequest:
    try:
        rid = request_id if isinstance(request_id, uuid.UUID) else uuid.UUID(str(request_id))
    except ValueError:
        raise AmendmentNotFound() from None
    row = session.get(AmendmentRequest, rid)
    if row is None or row.patient_id != pid:
        raise AmendmentNotFound()
    return row


def answer_amendment(session: Session, actor: Actor | None, *, patient_id: Any, request_id: Any, decision: Any,
                     response: Any, expected_version: Any = None) -> AmendmentView:
    """A care-team doctor accepts the request (saying what they corrected in the record) or denies
    it with the reason in writing; once answered it stays answered (AmendmentDecided)."""
    pid = as_uuid(patient_id)
    require(session, actor, Action.AMENDMENT_DECIDE, Resource(patient_id=pid), audit_as="amendment.answer")
    assert actor is not None
    load(session, pid)
    row = _request(session, pid, request_id)
    if row.status != PENDING or (expected_version is not None and str(expected_version) != str(row.version)):
        raise AmendmentDecided()
    chosen, said, errors = check.answer(decision, response)
    if errors:
        raise RightsInvalid(errors=errors)
    now = utcnow()
    row.status = ACCEPTED if chosen == "accept" else DENIED
    row.response, row.decided_by, row.decided_by_name, row.decided_at = said, actor.user_id, actor.display_name, now
    row.version += 1
    row.updated_at = now
    session.add(row)
    audit.record(session, actor, "amendment.answer", patient_id=pid, object_type="amendment_request", object_id=row.id,
                 detail={"status": row.status})
    return _amendment(row)


def add_disagreement(session: Session, actor: Actor | None, *, request_id: Any, statement: Any) -> AmendmentView:
    """After a denial, the patient files a statement of disagreement (once); it travels with the record."""
    pid = _own(session, actor, Action.AMENDMENT_REQUEST, "amendment.disagreement")
    require(session, actor, Action.AMENDMENT_REQUEST, Resource(patient_id=pid), audit_as="amendment.disagreement")
    row = _request(session, pid, request_id)
    if row.status != DENIED:
        raise RightsInvalid(errors={"statement": "You can disagree with a request that was denied."})
    if row.disagreement:
        raise AmendmentDecided()
    errors: dict[str, str] = {}
    said = check.text({"statement": statement}, "statement", errors, required="Say why you disagree.")
    if errors:
        raise RightsInvalid(errors=errors)
    row.disagreement, row.disagreement_at = said, utcnow()
    row.version += 1
    session.add(row)
    audit.record(session, actor, "amendment.disagreement", patient_id=pid, object_type="amendment_request",
                 object_id=row.id)
    return _amendment(row)


def amendment_worklist(session: Session, actor: Actor | None) -> list[AmendmentView]:
    """The doctor's open amendment requests — their care-team patients' — due date first."""
    require(session, actor, Action.AMENDMENT_WORKLIST, Resource(owner_id=actor.user_id if actor else None),
            audit_as="amendment.worklist.list")
    assert actor is not None
    rows = session.exec(select(AmendmentRequest, Patient).join(Patient, Patient.id == AmendmentRequest.patient_id)  # type: ignore[arg-type]
                         .where(AmendmentRequest.status == PENDING, reach_filter(actor, AmendmentRequest.patient_id))
                         .order_by(AmendmentRequest.due_on, AmendmentRequest.created_at).limit(LIMIT)).all()
    audit.record(session, actor, "amendment.worklist.list", object_type="amendment_request",
                 detail={"count": len(rows), "requests": [str(r.id) for r, _p in rows]})
    return [_amendment(r, display_name(p)) for r, p in rows]
