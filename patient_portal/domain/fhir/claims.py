"""A patient's insurance claims as the FHIR API reads them (Claim, ExplanationOfBenefit): who may see
which claim is billing's rule (issue 14), asked through the policy decision here, read only.

* staff and admins (``BILLING_ACCOUNT_READ``): every claim of a patient they reach, every line;
* the patient (``STATEMENT_READ`` on their own record): their own claims — what their statement is
  made of, with what the payer paid and what is left to them;
* a doctor (``CHARGE_OWN_READ``): "the charges of their own visits" — only claim lines whose charge
  they rendered, on patients they still reach; a claim without one of theirs is absent.

Each read is audited as ``billing.claim.read`` (the patient's access log words it) with the count.
Amounts stay integer cents here; the API turns them into FHIR Money.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from patient_portal.core import audit
from patient_portal.core.access import Action, Actor, Resource, reach_filter, require
from patient_portal.domain.billing.dto import reason_text
from patient_portal.domain.billing.models import Charge, Claim, ClaimLine, Payer

READ = "billing.claim.read"


@dataclass(frozen=True)
class ClaimLineRecord:
    number: int
    code: str
    description: str
    service_date: date
    units: int
    charge_cents: int
    status: str
    paid_cents: int
    adjusted_cents: int
    patient_cents: int
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class ClaimRecord:
    id: uuid.UUID
    number: str
    patient_id: uuid.UUID
    payer_id: uuid.UUID
    payer_name: str
    policy_id: uuid.UUID | None
    status: str
    sequence: str
    service_from: date
    created: datetime
    billed_on: date | None
    adjudicated_at: datetime | None
    diagnoses: tuple[str, ...]
    lines: tuple[ClaimLineRecord, ...]
    version: int


def claims(session: Session, actor: Actor | None, *, patient_id: Any) -> list[ClaimRecord]:
    """The patient's claims this actor may see (newest first), each with the lines they may see;
    a refusal raises AccessDenied (audited)."""
    pid = uuid.UUID(str(patient_id))
    own_lines_of: uuid.UUID | None = None
    if actor is not None and actor.can(Action.BILLING_ACCOUNT_READ):
        require(session, actor, Action.BILLING_ACCOUNT_READ, Resource(patient_id=pid), audit_as=READ)
    elif actor is not None and actor.can(Action.STATEMENT_READ):
        require(session, actor, Action.STATEMENT_READ, Resource(patient_id=pid), audit_as=READ)
    else:
        require(session, actor, Action.CHARGE_OWN_READ, Resource(owner_id=actor.user_id if actor else None),
                audit_as=READ)
        assert actor is not None
        own_lines_of = actor.user_id
    stmt = select(Claim).where(Claim.patient_id == pid)
    if own_lines_of is not None:
        stmt = stmt.where(reach_filter(actor, Claim.patient_id))
    rows = session.exec(stmt.order_by(col(Claim.created_at).desc()).limit(200)).all()
    lines = session.exec(select(ClaimLine, Charge).join(Charge, col(Charge.id) == ClaimLine.charge_id)
                         .where(col(ClaimLine.claim_id).in_([c.id for c in rows]))
                         .order_by(ClaimLine.line_number)).all() if rows else []
    by_claim: dict[uuid.UUID, list[ClaimLineRecord]] = {}
    for line, charge in lines:
        if own_lines_of is not None and charge.rendering_provider_id != own_lines_of:
            continue
        by_claim.setdefault(line.claim_id, []).append(ClaimLineRecord(
            line.line_number, charge.code, charge.description, charge.service_date, charge.units, line.charge_cents,
            line.status, line.paid_cents, line.adjusted_cents, line.patient_cents,
            tuple(reason_text(a.get("group", ""), a.get("reason", "")) for a in line.adjustments or [])))
    payers = {p.id: p.name for p in session.exec(select(Payer).where(
        col(Payer.id).in_({c.payer_id for c in rows}))).all()} if rows else {}
    found = [ClaimRecord(c.id, c.claim_number, c.patient_id, c.payer_id, payers.get(c.payer_id, ""), c.policy_id,
                         c.status,
                         c.sequence, c.service_from, c.created_at, c.billed_on, c.adjudicated_at,
                         tuple(d.get("code", "") for d in c.diagnoses or []), tuple(by_claim[c.id]), c.version)
             for c in rows if c.id in by_claim]
    audit.record(session, actor, READ, patient_id=pid, object_type="billing_claim",
                 detail={"fhir": True, "claims": len(found), "own_lines": own_lines_of is not None})
    return found
