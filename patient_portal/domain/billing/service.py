"""Billing: the one way in for the UI, the API, the CLI and the seed to payers, the fee schedule,
coverage and eligibility, charges, claims and their 837P, remittances (835), denials and appeals,
statements and payments, and the A/R aging.

The rules, and where each lives:

* **Who.** The policy (``core.access``) decides, and every billing action's purpose is "payment":
  staff process insurance (``billing.coverage.write``, ``billing.eligibility.check``,
  ``billing.charge.write``, ``billing.claim.write``, ``billing.remittance.post``,
  ``billing.payment.record``, ``billing.account.read``, ``billing.worklist.read``); admins do all that
  and keep the payer list, fee schedule and billing numbers (``billing.setup.write``); a doctor sees
  the charges of their own visits (``billing.charge.own.read``); a patient sees and pays their own
  statement (``billing.statement.read``, ``billing.statement.pay``). Refusals go through ``require``.
* **Money** is integer cents, moved only through ``ledger`` (two buckets per charge, never below
  zero), so ``verify`` can prove every sum on the whole database.
* **Claims** follow ``models.TRANSITIONS``; each transition is a ``ClaimEvent`` (who, when, codes).
  A claim is validated before it is ready (``validate_claim``): NPIs with their check digit, the
  taxonomy, the member id, at least one diagnosis, each line's pointers, dates and timely filing.
* **Remittance** posting (``post_835``) is idempotent by (payer, trace number): the same 835 twice
  posts nothing twice. What does not match a claim or a line, or does not balance, is a worklist
  item; nothing crashes.
* **Audit.** Reads end in ``.list``/``.read``; every event holds ids, counts and codes, never names,
  amounts typed by a person, notes or card data.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import case, func
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, select

from patient_portal.core import audit
from patient_portal.core import errors as errors_
from patient_portal.core.access import Action, Actor, Resource, reach_filter, require
from patient_portal.core.clock import clinic_zone
from patient_portal.core.crypto import encrypt_value, encrypted_kinds, plain_rows
from patient_portal.core.db import utcnow
from patient_portal.domain.billing import bulk, ledger, letters, x12
from patient_portal.domain.billing import clearinghouse as ch
from patient_portal.domain.billing import validation as check
from patient_portal.domain.billing.dto import (
    AccountPage,
    Aging,
    AgingRow,
    AppealView,
    BillableVisit,
    BillingInvalid,
    BillingNotFound,
    ChargeView,
    ClaimEventView,
    ClaimLineView,
    ClaimListItem,
    ClaimView,
    CoverageView,
    DenialItem,
    EligibilityView,
    FeeItem,
    PayerView,
    PaymentDeclined,
    PostingResult,
    ProviderView,
    Receipt,
    SetupView,
    Statement,
    StatementLine,
    SubmitResult,
    VerifyReport,
    WorkItemView,
    WrongStatus,
    reason_text,
)
from patient_portal.domain.billing.models import (
    ACKNOWLEDGED,
    ADJUSTMENT,
    APPEALED,
    CLOSED,
    DENIED,
    DRAFT,
    INSURANCE,
    INSURANCE_PAYMENT,
    LINE_DENIED,
    LINE_OPEN,
    LINE_PAID,
    LINE_PARTIAL,
    PAID,
    PARTIAL,
    PATIENT,
    PATIENT_PAYMENT,
    PATIENT_SHARE,
    READY,
    REFUND,
    REJECTED,
    SUBMITTED,
    TRANSITIONS,
    Appeal,
    BillingProfile,
    Charge,
    Claim,
    ClaimEvent,
    ClaimLine,
    ClearinghouseFile,
    Coverage,
    EligibilityCheck,
    FeeScheduleItem,
    LedgerEntry,
    Payer,
    Payment,
    ProviderNumber,
    RemitClaim,
    Remittance,
    WorkItem,
)
from patient_portal.domain.billing.payments import DECLINE_WORDS, CardProblem, processor
from patient_portal.domain.insurance.models import ORDER_RANK, InsurancePolicy
from patient_portal.domain.patients.common import as_uuid, load
from patient_portal.domain.patients.dto import display_name
from patient_portal.domain.patients.models import Patient
from patient_portal.domain.visits.models import SIGNED, VisitNote

A = Action
OBJECT_CLAIM = "billing_claim"


# ---------------------------------------------------------------- helpers


def today() -> date:
    return datetime.now(clinic_zone()).date()


def _id(value: Any, what: str = "That") -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        raise BillingNotFound(what) from None


def _patient_scope(session: Session, actor: Actor | None, action: Action, patient_id: Any, what: str) -> uuid.UUID:
    pid = as_uuid(patient_id)
    require(session, actor, action, Resource(patient_id=pid), audit_as=what)
    load(session, pid)
    return pid


def _global(session: Session, actor: Actor | None, action: Action, what: str) -> None:
    require(session, actor, action, audit_as=what)


def _text(values: dict, name: str, limit: int = 200) -> str:
    raw = values.get(name)
    return str(raw).strip()[:limit] if raw is not None else ""


def _names(session: Session, patient_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not patient_ids:
        return {}
    rows = session.exec(select(Patient).where(Patient.id.in_(list(patient_ids)))).all()  # type: ignore[attr-defined]
    return {p.id: display_name(p) for p in rows}


def _payers(session: Session) -> dict[uuid.UUID, Payer]:
    return {p.id: p for p in session.exec(select(Payer)).all()}


def _event_row(claim_id: uuid.UUID, from_status: str | None, to: str, actor: Actor | None, *, who: str = "",
               detail: dict | None = None) -> dict[str, Any]:
    """A claim's history row as plain values (``ClaimEvent``'s columns)."""
    now = utcnow()
    return {"id": uuid.uuid4(), "created_at": now, "updated_at": now, "claim_id": claim_id,
            "from_status": from_status, "to_status": to, "actor_id": actor.user_id if actor else None,
            "actor_name": who or (actor.display_name if actor else "") or "", "detail": detail or {}}


_EVENTS = "billing_claim_events_batch"


@contextmanager
def _batched(session: Session) -> Iterator[None]:
    """Within this block claim history rows (``_transition``) and the ledger's entries
    (``ledger.batched``) are kept as plain rows and written in bulk (``bulk.insert``) when it
    ends, after the claims themselves are flushed: a billing run or an 835 of 5,000 claims makes
    tens of thousands of them, and building ORM state for each costs more than writing it. Nothing
    in the block may read them back."""
    if session.info.get(_EVENTS) is not None:
        yield
        return
    rows: list[dict[str, Any]] = []
    session.info[_EVENTS] = rows
    try:
        with ledger.batched(session):
            yield
        if rows:
            session.flush()
            bulk.insert(session, ClaimEvent.__table__, rows)  # type: ignore[attr-defined]
    finally:
        session.info.pop(_EVENTS, None)


def _transition(session: Session, claim: Claim, to: str, actor: Actor | None, *, who: str = "",
                detail: dict | None = None) -> None:
    """Move `claim` to `to` (allowed by TRANSITIONS, else WrongStatus) and write the history row
    (a plain row inside ``_batched``). `claim` may be a plain row (``_Rows``): its caller writes it."""
    if to != claim.status and to not in TRANSITIONS[claim.status]:
        raise WrongStatus(claim.status, f"moved to {to}")
    pending = session.info.get(_EVENTS)
    if pending is not None:
        pending.append(_event_row(claim.id, claim.status, to, actor, who=who, detail=detail))
    else:
        session.add(ClaimEvent(claim_id=claim.id, from_status=claim.status, to_status=to,
                               actor_id=actor.user_id if actor else None,
                               actor_name=who or (actor.display_name if actor else "") or "", detail=detail or {}))
    claim.status = to
    claim.version += 1
    claim.updated_at = utcnow()
    if _is_model(claim):
        session.add(claim)


def _is_model(obj: Any) -> bool:
    """Is `obj` an ORM object (not a plain row read with ``plain_rows``)?"""
    return hasattr(obj, "_sa_instance_state")


def _claim_of(session: Session, actor: Actor | None, action: Action, claim_id: Any, what: str) -> Claim:
    """Authorize `action` on the claim's patient (a claim id never reveals whether it exists to
    someone who may not see it: the refusal comes first when the role may not act at all)."""
    if actor is None or not actor.can(action):
        require(session, actor, action, audit_as=what)
    claim = session.get(Claim, _id(claim_id, "That claim"))
    if claim is None:
        raise BillingNotFound("That claim")
    require(session, actor, action, Resource(patient_id=claim.patient_id), audit_as=what,
            object_type=OBJECT_CLAIM, object_id=claim.id)
    return claim


# ---------------------------------------------------------------- setup: payers, fee schedule, billing numbers


def _payer_view(p: Payer) -> PayerView:
    return PayerView(p.id, p.payer_code, p.name, p.address_line1, p.city, p.region, p.postal_code, p.filing_code,
                     p.timely_filing_days, tuple(p.appeal_days or ()), p.active)


def list_payers(session: Session, actor: Actor | None) -> list[PayerView]:
    """The payer list, by name."""
    _global(session, actor, A.BILLING_SETUP_READ, "billing.payer.list")
    rows = session.exec(select(Payer).order_by(Payer.name)).all()  # type: ignore[arg-type]
    audit.record(session, actor, "billing.payer.list", object_type="billing_payer", detail={"count": len(rows)})
    return [_payer_view(p) for p in rows]


def save_payer(session: Session, actor: Actor | None, *, values: dict, payer_id: Any = None) -> PayerView:
    """Add or change a payer (admins): id, name, claim address, timely filing and appeal days per level."""
    _global(session, actor, A.BILLING_SETUP_WRITE, "billing.payer.save")
    errors: dict[str, str] = {}
    code, name = _text(values, "payer_code", 80).upper(), _text(values, "name", 60)
    if not code or not code.replace("-", "").isalnum():
        errors["payer_code"] = "Enter the payer id (letters and digits), as the clearinghouse lists it."
    if not name:
        errors["name"] = "Enter the payer's name."
    try:
        filing = int(values.get("timely_filing_days") or 365)
        if not 30 <= filing <= 1095:
            raise ValueError
    except (TypeError, ValueError):
        errors["timely_filing_days"] = "Timely filing is 30-1095 days."
        filing = 365
    raw_days = values.get("appeal_days") or [180]
    if isinstance(raw_days, str):
        raw_days = [d for d in raw_days.replace(",", " ").split() if d]
    try:
        appeal_days = [int(d) for d in raw_days]
        if not appeal_days or any(not 1 <= d <= 730 for d in appeal_days) or len(appeal_days) > 5:
            raise ValueError
    except (TypeError, ValueError):
        errors["appeal_days"] = "List the days to appeal at each level, like 120, 180, 60."
        appeal_days = [180]
    filing_code = _text(values, "filing_code", 2).upper() or "CI"
    if errors:
        raise BillingInvalid(errors=errors)
    payer = session.get(Payer, _id(payer_id, "That payer")) if payer_id else None
    clash = session.exec(select(Payer).where(Payer.payer_code == code)).first()
    if clash is not None and (payer is None or clash.id != payer.id):
        raise BillingInvalid(errors={"payer_code": "Another payer already has this payer id."})
    payer = payer or Payer(payer_code=code, name=name)
    payer.payer_code, payer.name, payer.filing_code = code, name, filing_code
    payer.address_line1 = _text(values, "address_line1", 55)
    payer.city, payer.region = _text(values, "city", 30), _text(values, "region", 2).upper()
    payer.postal_code = _text(values, "postal_code", 15)
    payer.timely_filing_days, payer.appeal_days = filing, appeal_days
    payer.clearinghouse = _text(values, "clearinghouse", 32) or payer.clearinghouse or ch.SIMULATED
    payer.active = bool(values.get("active", True))
    payer.updated_at = utcnow()
    session.add(payer)
    session.flush()
    audit.record(session, actor, "billing.payer.save", object_type="billing_payer", object_id=payer.id)
    return _payer_view(payer)


def save_billing_profile(session: Session, actor: Actor | None, *, values: dict) -> None:
    """The clinic's billing provider: name, NPI (check digit), EIN, taxonomy, ZIP+4 address."""
    _global(session, actor, A.BILLING_SETUP_WRITE, "billing.profile.save")
    errors: dict[str, str] = {}
    npi = _text(values, "npi", 10)
    if problem := check.npi_problem(npi):
        errors["npi"] = problem
    if problem := check.taxonomy_problem(values.get("taxonomy")):
        errors["taxonomy"] = problem
    tax_id = "".join(ch_ for ch_ in _text(values, "tax_id", 12) if ch_.isdigit())
    if len(tax_id) != 9:
        errors["tax_id"] = "The tax id (EIN) is nine digits."
    postal = "".join(c for c in _text(values, "postal_code", 12) if c.isdigit())
    if len(postal) != 9:
        errors["postal_code"] = "Claims need the ZIP+4 of the billing address (nine digits)."
    for name in ("name", "address_line1", "city", "region"):
        if not _text(values, name):
            errors[name] = "Fill this in."
    if errors:
        raise BillingInvalid(errors=errors)
    row = session.exec(select(BillingProfile)).first() or BillingProfile(
        name="", npi="", tax_id="", taxonomy="", address_line1="", city="", region="", postal_code="")
    row.name, row.npi, row.tax_id = _text(values, "name", 60), npi, tax_id
    row.taxonomy = _text(values, "taxonomy", 10).upper()
    row.address_line1, row.city = _text(values, "address_line1", 55), _text(values, "city", 30)
    row.region, row.postal_code = _text(values, "region", 2).upper(), postal
    row.phone = "".join(c for c in _text(values, "phone", 20) if c.isdigit())[:10]
    row.submitter_id = _text(values, "submitter_id", 80) or tax_id
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    audit.record(session, actor, "billing.profile.save", object_type="billing_profile", object_id=row.id)


def save_provider_number(session: Session, actor: Actor | None, *, user_id: Any, values: dict) -> None:
    """A rendering clinician's NPI (check digit) and taxonomy, as printed on claims."""
    _global(session, actor, A.BILLING_SETUP_WRITE, "billing.provider.save")
    uid = _id(user_id, "That clinician")
    errors: dict[str, str] = {}
    if problem := check.npi_problem(values.get("npi")):
        errors["npi"] = problem
    if problem := check.taxonomy_problem(values.get("taxonomy")):
        errors["taxonomy"] = problem
    if not _text(values, "family_name"):
        errors["family_name"] = "Enter the clinician's family name as on their NPI record."
    if errors:
        raise BillingInvalid(errors=errors)
    row = session.exec(select(ProviderNumber).where(ProviderNumber.user_id == uid)).first() or ProviderNumber(
        user_id=uid, given_name="", family_name="", npi="", taxonomy="")
    row.given_name, row.family_name = _text(values, "given_name", 35), _text(values, "family_name", 60)
    row.npi, row.taxonomy = _text(values, "npi", 10), _text(values, "taxonomy", 10).upper()
    session.add(row)
    session.flush()
    audit.record(session, actor, "billing.provider.save", object_type="billing_provider_number", object_id=row.id)


def save_fee(session: Session, actor: Actor | None, *, values: dict) -> FeeItem:
    """Add or change a fee-schedule code: the clinic's own description and price."""
    _global(session, actor, A.BILLING_SETUP_WRITE, "billing.fee.save")
    errors: dict[str, str] = {}
    code = _text(values, "code", 5).upper()
    if problem := check.procedure_problem(code):
        errors["code"] = problem
    description = _text(values, "description", 120)
    if not description:
        errors["description"] = "Describe the service in the clinic's own words."
    price = check.cents(values.get("price"), errors, "price")
    if errors:
        raise BillingInvalid(errors=errors)
    row = session.exec(select(FeeScheduleItem).where(FeeScheduleItem.code == code)).first() or FeeScheduleItem(
        code=code, description=description, price_cents=price)
    row.description, row.price_cents, row.active = description, price, bool(values.get("active", True))
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    audit.record(session, actor, "billing.fee.save", object_type="billing_fee_item", object_id=row.id,
                 detail={"code": code})
    return FeeItem(row.code, row.description, row.price_cents, row.active)


def fee_schedule(session: Session, actor: Actor | None) -> list[FeeItem]:
    _global(session, actor, A.BILLING_SETUP_READ, "billing.fee.list")
    rows = session.exec(select(FeeScheduleItem).order_by(FeeScheduleItem.code)).all()  # type: ignore[arg-type]
    audit.record(session, actor, "billing.fee.list", object_type="billing_fee_item", detail={"count": len(rows)})
    return [FeeItem(r.code, r.description, r.price_cents, r.active) for r in rows]


# ---------------------------------------------------------------- coverage and eligibility


def _policies(session: Session, pid: uuid.UUID) -> list[InsurancePolicy]:
    rows = session.exec(select(InsurancePolicy).where(InsurancePolicy.patient_id == pid)).all()
    return sorted(rows, key=lambda r: ORDER_RANK.get(r.order, 9))


def save_coverage(session: Session, actor: Actor | None, *, patient_id: Any, policy_id: Any,
                  values: dict) -> None:
    """Benefits on one of the patient's policies: the payer (from the list), copay, coinsurance,
    deductible and out-of-pocket maximum with the amounts met, and the subscriber if not the patient."""
    pid = _patient_scope(session, actor, A.COVERAGE_WRITE, patient_id, "billing.coverage.save")
    policy = session.get(InsurancePolicy, _id(policy_id, "That policy"))
    if policy is None or policy.patient_id != pid:
        raise BillingNotFound("That policy")
    errors: dict[str, str] = {}
    payer = session.get(Payer, _id(values.get("payer_id"), "That payer")) if values.get("payer_id") else None
    if payer is None:
        errors["payer_id"] = "Choose the payer from the list."
    if problem := check.member_id_problem(policy.member_id):
        errors["member_id"] = problem
    amounts = {name: check.cents(values.get(name) or "0", errors, name, allow_zero=True)
               for name in ("copay", "deductible", "deductible_met", "oop_max", "oop_met")}
    coinsurance = check.basis_points(values.get("coinsurance"), errors, "coinsurance")
    if amounts["deductible_met"] > amounts["deductible"]:
        errors["deductible_met"] = "The amount met cannot be more than the deductible."
    if amounts["oop_met"] > amounts["oop_max"]:
        errors["oop_met"] = "The amount met cannot be more than the out-of-pocket maximum."
    born = None
    if policy.relationship != "self":
        for name in ("subscriber_given_name", "subscriber_family_name"):
            if not _text(values, name):
                errors[name] = "Claims for a dependant need the subscriber's name."
        try:
            born = date.fromisoformat(_text(values, "subscriber_birth_date"))
        except ValueError:
            errors["subscriber_birth_date"] = "Enter the subscriber's date of birth, like 1970-01-31."
    if errors:
        raise BillingInvalid(errors=errors)
    assert payer is not None
    row = session.exec(select(Coverage).where(Coverage.policy_id == policy.id)).first() or Coverage(
        policy_id=policy.id, patient_id=pid, payer_id=payer.id)
    row.payer_id, row.copay_cents, row.coinsurance_bp = payer.id, amounts["copay"], coinsurance
    row.deductible_cents, row.deductible_met_cents = amounts["deductible"], amounts["deductible_met"]
    row.oop_max_cents, row.oop_met_cents = amounts["oop_max"], amounts["oop_met"]
    row.subscriber_given_name = _text(values, "subscriber_given_name", 35) or None
    row.subscriber_family_name = _text(values, "subscriber_family_name", 60) or None
    row.subscriber_birth_date = born
    row.subscriber_sex = _text(values, "subscriber_sex", 10) or None
    row.version += 0 if row.created_at == row.updated_at else 1
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    audit.record(session, actor, "billing.coverage.save", patient_id=pid, object_type="billing_coverage",
                 object_id=row.id, detail={"policy": str(policy.id)})


def check_eligibility(session: Session, actor: Actor | None, *, patient_id: Any, policy_id: Any) -> EligibilityView:
    """Ask the payer (through its clearinghouse) whether the policy is active, and keep the answer."""
    pid = _patient_scope(session, actor, A.ELIGIBILITY_CHECK, patient_id, "billing.eligibility.check")
    assert actor is not None
    policy = session.get(InsurancePolicy, _id(policy_id, "That policy"))
    if policy is None or policy.patient_id != pid:
        raise BillingNotFound("That policy")
    coverage = session.exec(select(Coverage).where(Coverage.policy_id == policy.id)).first()
    if coverage is None:
        raise BillingInvalid("Choose the payer of this policy first.", errors={"payer_id": "Choose the payer from the list."})
    payer = session.get(Payer, coverage.payer_id)
    assert payer is not None
    answer = ch.for_name(payer.clearinghouse).eligibility(session, payer_code=payer.payer_code,
                                                          member_id=policy.member_id, on=today())
    row = EligibilityCheck(patient_id=pid, policy_id=policy.id, payer_id=payer.id, checked_by=actor.user_id,
                           active=answer.active, plan=answer.plan or None, copay_cents=answer.copay_cents,
                           deductible_remaining_cents=answer.deductible_remaining_cents,
                           oop_remaining_cents=answer.oop_remaining_cents, notes=list(answer.notes))
    session.add(row)
    session.flush()
    audit.record(session, actor, "billing.eligibility.check", patient_id=pid, object_type="billing_eligibility",
                 object_id=row.id, detail={"active": answer.active, "notes": list(answer.notes)})
    return EligibilityView(answer.active, answer.plan, answer.copay_cents, answer.deductible_remaining_cents,
                           answer.oop_remaining_cents, tuple(answer.notes), row.created_at)


# ---------------------------------------------------------------- charges


def _primary_coverage(session: Session, pid: uuid.UUID, sequence: str = "primary"
                      ) -> tuple[InsurancePolicy, Coverage] | None:
    for policy in _policies(session, pid):
        if policy.order != sequence:
            continue
        coverage = session.exec(select(Coverage).where(Coverage.policy_id == policy.id)).first()
        if coverage is not None:
            return policy, coverage
    return None


def _new_charge(session: Session, actor: Actor, pid: uuid.UUID, line: dict, *, service: date,
                diagnoses: list[dict], rendering: uuid.UUID | None, visit_id: uuid.UUID | None,
                errors: dict[str, str], prefix: str) -> Charge | None:
    code = str(line.get("code") or "").strip().upper()
    fee = session.exec(select(FeeScheduleItem).where(FeeScheduleItem.code == code,
                                                     FeeScheduleItem.active == True)).first()  # noqa: E712
    if fee is None:
        errors[f"{prefix}code"] = "Choose a code from the clinic's fee schedule."
        return None
    units = check.units(line.get("units", 1), errors, f"{prefix}units")
    mods = check.modifiers(line.get("modifiers"), errors, f"{prefix}modifiers")
    pos = str(line.get("place_of_service") or "11").strip()
    if problem := check.place_of_service_problem(pos):
        errors[f"{prefix}place_of_service"] = problem
    pointers = line.get("pointers") or ([1] if diagnoses else [])
    if problem := check.pointers_problem(pointers, len(diagnoses)):
        if diagnoses:
            errors[f"{prefix}pointers"] = problem
        pointed: list[dict] = []
    else:
        pointed = [diagnoses[int(p) - 1] for p in pointers]
    if any(k.startswith(prefix) for k in errors):
        return None
    return Charge(patient_id=pid, visit_id=visit_id, rendering_provider_id=rendering, service_date=service,
                  posted_on=today(), code=code, description=fee.description, modifiers=mods, units=units,
                  place_of_service=pos, diagnoses=pointed, amount_cents=fee.price_cents * units,
                  entered_by=actor.user_id)


def _open(session: Session, actor: Actor, pid: uuid.UUID, charges: list[Charge]) -> None:
    insured = _primary_coverage(session, pid) is not None
    for charge in charges:
        if insured:
            charge.payer_id = _primary_coverage(session, pid)[1].payer_id  # type: ignore[index]
        session.add(charge)
        session.flush()
        ledger.open_charge(session, charge, insured=insured, entered_by=actor.user_id)


def charges_from_visit(session: Session, actor: Actor | None, *, patient_id: Any, visit_id: Any,
                       lines: list[dict]) -> list[ChargeView]:
    """Charges for a signed visit: each line a fee-schedule code with units, modifiers, place of
    service and pointers (1-based) into the visit's ICD-10-CM diagnoses."""
    pid = _patient_scope(session, actor, A.CHARGE_WRITE, patient_id, "billing.charge.create")
    assert actor is not None
    visit = session.get(VisitNote, _id(visit_id, "That visit"))
    if visit is None or visit.patient_id != pid:
        raise BillingNotFound("That visit")
    if visit.status != SIGNED:
        raise BillingInvalid("Charges come from a signed visit: ask the clinician to sign the note first.",
                             errors={"visit": "This visit note is not signed yet."})
    if not isinstance(lines, list) or not lines:
        raise BillingInvalid(errors={"lines": "Add at least one service."})
    diagnoses = [{"code": d.get("code", ""), "display": d.get("display", "")} for d in visit.diagnoses or []]
    service = datetime.fromisoformat(visit.visit_at).astimezone(clinic_zone()).date()
    errors: dict[str, str] = {}
    made = [_new_charge(session, actor, pid, line if isinstance(line, dict) else {}, service=service,
                        diagnoses=diagnoses, rendering=visit.author_id, visit_id=visit.id, errors=errors,
                        prefix=f"line_{n}_") for n, line in enumerate(lines, start=1)]
    if errors:
        raise BillingInvalid(errors=errors)
    charges = [c for c in made if c is not None]
    _open(session, actor, pid, charges)
    audit.record(session, actor, "billing.charge.create", patient_id=pid, object_type="billing_charge",
                 detail={"charges": [str(c.id) for c in charges], "visit": str(visit.id)})
    return [_charge_view(c) for c in charges]


def add_charge(session: Session, actor: Actor | None, *, patient_id: Any, values: dict) -> ChargeView:
    """A charge entered by hand: code, units, modifiers, place of service, date of service, its
    ICD-10-CM diagnoses, and optionally the rendering clinician."""
    pid = _patient_scope(session, actor, A.CHARGE_WRITE, patient_id, "billing.charge.create")
    assert actor is not None
    errors: dict[str, str] = {}
    service = check.service_date(values.get("service_date"), errors, today=today())
    raw = values.get("diagnoses") or []
    if isinstance(raw, str):
        raw = [c for c in raw.replace(",", " ").split() if c]
    diagnoses = []
    for code in raw:
        code = str(code.get("code") if isinstance(code, dict) else code).strip().upper()
        if problem := check.icd10_problem(code):
            errors["diagnoses"] = problem
        diagnoses.append({"code": code, "display": ""})
    rendering = _id(values["rendering_provider_id"], "That clinician") if values.get("rendering_provider_id") else None
    charge = _new_charge(session, actor, pid, values, service=service or today(), diagnoses=diagnoses,
                         rendering=rendering, visit_id=None, errors=errors, prefix="")
    if errors or charge is None:
        raise BillingInvalid(errors=errors)
    _open(session, actor, pid, [charge])
    audit.record(session, actor, "billing.charge.create", patient_id=pid, object_type="billing_charge",
                 object_id=charge.id)
    return _charge_view(charge)


def _charge_view(c: Charge) -> ChargeView:
    return ChargeView(c.id, c.service_date, c.code, c.description, tuple(c.modifiers or ()), c.units, c.amount_cents,
                      c.insurance_balance_cents, c.patient_balance_cents,
                      tuple(d.get("code", "") for d in c.diagnoses or []), c.claim_id, c.visit_id)


def account(session: Session, actor: Actor | None, *, patient_id: Any) -> tuple[list[ChargeView], list[ClaimListItem]]:
    """A patient's charges and claims (staff, admins)."""
    pid = _patient_scope(session, actor, A.BILLING_ACCOUNT_READ, patient_id, "billing.account.read")
    charges = session.exec(select(Charge).where(Charge.patient_id == pid, Charge.voided == False)  # noqa: E712
                           .order_by(Charge.posted_on.desc(), Charge.created_at.desc())).all()  # type: ignore[attr-defined]
    claims = _claim_items(session, select(Claim).where(Claim.patient_id == pid))
    audit.record(session, actor, "billing.account.read", patient_id=pid, object_type="billing_charge",
                 detail={"charges": len(charges), "claims": len(claims)})
    return [_charge_view(c) for c in charges], claims


def own_charges(session: Session, actor: Actor | None) -> list[tuple[str, ChargeView]]:
    """A doctor's charges of their own visits, on patients they still reach: (patient name, charge)."""
    require(session, actor, A.CHARGE_OWN_READ, Resource(owner_id=actor.user_id if actor else None),
            audit_as="billing.charge.own.list")
    assert actor is not None
    rows = session.exec(select(Charge).where(Charge.rendering_provider_id == actor.user_id,
                                             Charge.voided == False,  # noqa: E712
                                             reach_filter(actor, Charge.patient_id))
                        .order_by(Charge.posted_on.desc()).limit(200)).all()  # type: ignore[attr-defined]
    names = _names(session, {c.patient_id for c in rows})
    audit.record(session, actor, "billing.charge.own.list", object_type="billing_charge",
                 detail={"count": len(rows), "patients": sorted({str(c.patient_id) for c in rows})})
    return [(names.get(c.patient_id, ""), _charge_view(c)) for c in rows]


# ---------------------------------------------------------------- claims: building and validating


def _claim_number() -> str:
    return "PP" + secrets.token_hex(6).upper()


def build_claim(session: Session, actor: Actor | None, *, patient_id: Any, charge_ids: list | None = None,
                prior_authorization: str = "") -> ClaimView:
    """A draft claim to the primary payer from the patient's unclaimed charges (or those named),
    validated at once: ready when nothing is missing, else a draft listing what is."""
    pid = _patient_scope(session, actor, A.CLAIM_WRITE, patient_id, "billing.claim.create")
    assert actor is not None
    found = _primary_coverage(session, pid)
    if found is None:
        raise BillingInvalid("This patient has no primary policy with a payer: add the payer to their coverage.",
                             errors={"coverage": "No primary coverage with a payer."})
    policy, coverage = found
    stmt = select(Charge).where(Charge.patient_id == pid, Charge.claim_id.is_(None),  # type: ignore[union-attr]
                                Charge.voided == False, Charge.insurance_balance_cents > 0)  # noqa: E712
    if charge_ids:
        stmt = stmt.where(Charge.id.in_([_id(c, "That charge") for c in charge_ids]))  # type: ignore[attr-defined]
    charges = sorted(session.exec(stmt).all(), key=lambda c: (c.service_date, c.created_at))
    if not charges:
        raise BillingInvalid("There are no charges waiting for a claim.", errors={"charges": "No unbilled charges."})
    claim = _assemble(session, actor, pid, policy, coverage, charges, prior_authorization=prior_authorization)
    audit.record(session, actor, "billing.claim.create", patient_id=pid, object_type=OBJECT_CLAIM,
                 object_id=claim.id, detail={"lines": len(charges), "status": claim.status})
    return _claim_view(session, claim)


def _draft_claim(actor: Actor, pid: uuid.UUID, policy: Any, payer_id: uuid.UUID, charges: list[Any], *,
                 prior_authorization: str = "", frequency: str = "1", replaces: Claim | None = None,
                 primary: uuid.UUID | None = None) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
    """A new draft claim's values (``Claim``'s columns a caller sets; the rest keep their
    defaults), its lines and its first history row as plain rows: the charges' diagnoses in order
    (12 at most) and each line's pointers into them. `policy` and `charges` may be models or plain
    rows with the same attributes; the caller writes the claim (``_assemble``, ``build_claims``)
    and moves the charges onto it."""
    diagnoses: list[dict] = []
    for charge in charges:
        for d in charge.diagnoses or []:
            if d.get("code") not in [x["code"] for x in diagnoses]:
                diagnoses.append({"code": d.get("code"), "display": d.get("display", "")})
    diagnoses = diagnoses[: check.MAX_DIAGNOSES]
    rendering = next((c.rendering_provider_id for c in charges if c.rendering_provider_id), None)
    claim_id = uuid.uuid4()
    claim = {"id": claim_id, "claim_number": _claim_number(), "patient_id": pid, "payer_id": payer_id,
             "policy_id": policy.id, "member_id": policy.member_id, "group_number": policy.group_number,
             "relationship": policy.relationship or "self", "diagnoses": diagnoses,
             "prior_authorization": prior_authorization.strip()[:50] or None,
             "service_from": min(c.service_date for c in charges), "rendering_provider_id": rendering,
             "total_cents": sum(c.amount_cents for c in charges), "frequency": frequency,
             "replaces_id": replaces.id if replaces else None,
             "payer_claim_number": replaces.payer_claim_number if replaces else None,
             "sequence": "secondary" if primary else "primary", "primary_claim_id": primary}
    codes = [d["code"] for d in diagnoses]
    lines = []
    now = utcnow()
    for n, charge in enumerate(charges, start=1):
        pointers = [codes.index(d.get("code")) + 1 for d in charge.diagnoses or [] if d.get("code") in codes]
        lines.append({"id": uuid.uuid4(), "created_at": now, "updated_at": now, "claim_id": claim_id,
                      "charge_id": charge.id, "line_number": n, "charge_cents": charge.amount_cents,
                      "pointers": pointers[: check.MAX_POINTERS], "status": LINE_OPEN, "paid_cents": 0,
                      "adjusted_cents": 0, "patient_cents": 0, "adjustments": [], "remarks": []})
    return claim, lines, _event_row(claim_id, None, DRAFT, actor)


def _write_lines(session: Session, lines: list[dict[str, Any]], events: list[dict[str, Any]]) -> None:
    """New claims' lines and first history rows, in bulk (``bulk.insert``; the claims flushed first)."""
    session.flush()
    bulk.insert(session, ClaimLine.__table__, lines)  # type: ignore[attr-defined]
    bulk.insert(session, ClaimEvent.__table__, events)  # type: ignore[attr-defined]


def _assemble(session: Session, actor: Actor, pid: uuid.UUID, policy: InsurancePolicy, coverage: Coverage,
              charges: list[Charge], *, prior_authorization: str = "", frequency: str = "1",
              replaces: Claim | None = None, primary: uuid.UUID | None = None) -> Claim:
    values, lines, event = _draft_claim(actor, pid, policy, coverage.payer_id, charges,
                                        prior_authorization=prior_authorization, frequency=frequency,
                                        replaces=replaces, primary=primary)
    claim = Claim(**values)
    for charge in charges:
        charge.claim_id, charge.payer_id = claim.id, coverage.payer_id
    session.add_all([claim, *charges])
    _write_lines(session, lines, [event])
    _validate(session, actor, claim)
    return claim


_CLAIMS = Claim.__table__  # type: ignore[attr-defined]
_CHARGES = Charge.__table__  # type: ignore[attr-defined]
#: What a billing run reads of each waiting charge (``_draft_claim`` and ``problems_of``).
_RUN_CHARGE_COLUMNS = ("patient_id", "service_date", "created_at", "code", "diagnoses", "amount_cents",
                       "rendering_provider_id")


def _sealed(table: Any, row: dict[str, Any]) -> dict[str, Any]:
    """`row` with `table`'s encrypted columns encrypted as the ORM would (bound to the table, the
    column and the row's id), for rows written with a core INSERT."""
    for column, kind in encrypted_kinds(table).items():
        if column in row:
            row[column] = encrypt_value(kind, row[column], table.name, column, row["id"])
    return row


def _plain(session: Session, model: Any, columns: tuple[str, ...], *where: Any, order_by: Any = None,
           lock: bool = False) -> list[SimpleNamespace]:
    """``plain_rows`` as objects with attributes, read as a model's would be (``_draft_claim``,
    ``problems_of``, ``_claim_docs`` take either)."""
    return [SimpleNamespace(**row) for row in plain_rows(session, model, columns, *where, order_by=order_by,
                                                         lock=lock)]


class _Rows:
    """Rows of one table read as plain objects (``plain_rows``: `columns` and the id) for a use case
    that changes many of them (an 835 of 5,000 claim payments, a batch sent), and written back by
    ``write`` in one ``bulk.update`` of the rows whose `changes` columns changed, ``updated_at`` set.
    ORM state for thousands of rows, and a flush comparing each, cost more than the posting; the
    session's own objects of those rows, if it holds any, are expired after the write."""

    def __init__(self, session: Session, model: Any, columns: tuple[str, ...], changes: tuple[str, ...],
                 *where: Any, order_by: Any = None) -> None:
        self.model, self.changes = model, changes
        # locked as read (PostgreSQL): the write puts back whole values, so no one may change them between
        # (a patient's payment on a charge an 835 pays would otherwise be lost)
        self.items = _plain(session, model, columns, *where, order_by=order_by, lock=True)
        self._before = {item.id: self._values(item) for item in self.items}

    def _values(self, item: SimpleNamespace) -> tuple:
        """The `changes` values (a list copied: one changed in place still counts as changed)."""
        return tuple(v[:] if isinstance(v := getattr(item, c), list) else v for c in self.changes)

    def write(self, session: Session) -> None:
        changed = [item for item in self.items if self._values(item) != self._before[item.id]]
        if not changed:
            return
        now = utcnow()
        bulk.update(session, self.model.__table__, [{"id": item.id, "updated_at": now,
                                                     **{c: getattr(item, c) for c in self.changes}}
                                                    for item in changed], (*self.changes, "updated_at"))
        _expire(session, self.model, [item.id for item in changed])
        self._before.update({item.id: self._values(item) for item in changed})


def build_claims(session: Session, actor: Actor | None, *, patient_ids: list) -> list[uuid.UUID]:
    """``build_claim`` for many patients at once (the billing run before a batch is sent): each
    patient's unbilled charges to their primary payer, validated; patients without coverage or
    charges are skipped. The same rules as ``build_claim`` (``_draft_claim``, ``_claim_problems``),
    with reads and writes done for all in a few statements: what it reads are plain rows (only the
    columns it needs decrypted, no ORM state), and the claims, their lines, their history and the
    charges' move onto them are written with one core statement each (5,000 claims a run: building
    ORM state for each cost more than the rest). Each claim is written once, ready or draft; one
    audit event per patient, purpose "payment", chained together (``audit.record_each``). A charge
    is billed once: when another run put one on its claim meanwhile, nothing is written (Conflict)."""
    pids = list(dict.fromkeys(as_uuid(p) for p in patient_ids))  # a patient named twice is billed once
    for pid in pids:
        require(session, actor, A.CLAIM_WRITE, Resource(patient_id=pid), audit_as="billing.claim.create")
    assert actor is not None
    addresses = {p.id: p.address for p in _plain(session, Patient, ("address",), lambda c: c.id.in_(pids))}
    policies = {p.patient_id: p for p in _plain(
        session, InsurancePolicy, ("patient_id", "member_id", "group_number", "relationship"),
        lambda c: c.patient_id.in_(pids), lambda c: c["order"] == "primary")}
    coverages = {c.policy_id: c for c in _plain(
        session, Coverage, ("policy_id", "payer_id", "subscriber_family_name", "subscriber_birth_date"),
        lambda c: c.policy_id.in_([p.id for p in policies.values()]))} if policies else {}
    waiting: dict[uuid.UUID, list[SimpleNamespace]] = defaultdict(list)
    for charge in _plain(session, Charge, _RUN_CHARGE_COLUMNS, lambda c: c.patient_id.in_(pids),
                         lambda c: c.claim_id.is_(None), lambda c: c.voided == False,  # noqa: E712
                         lambda c: c.insurance_balance_cents > 0):
        waiting[charge.patient_id].append(charge)
    setup = _setup(session)
    on = today()
    claims: list[dict[str, Any]] = []
    all_lines: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    moved: list[dict[str, Any]] = []
    audited: list[dict[str, Any]] = []
    for pid in pids:
        policy = policies.get(pid)
        coverage = coverages.get(policy.id) if policy else None
        charges = sorted(waiting.get(pid, []), key=lambda c: (c.service_date, c.created_at))
        if pid not in addresses or policy is None or coverage is None or not charges:
            continue
        values, lines, event = _draft_claim(actor, pid, policy, coverage.payer_id, charges)
        claim = SimpleNamespace(**values)
        problems = _claim_problems(claim, [SimpleNamespace(**ln) for ln in lines], {c.id: c for c in charges},
                                   setup, coverage, addresses[pid], on)
        now = utcnow()
        status = DRAFT if problems else READY
        events.append(event)
        if status == READY:  # as _validate would move it: its second history row
            events.append(_event_row(claim.id, DRAFT, READY, actor))
        claims.append(_sealed(_CLAIMS, {
            **values, "created_at": now, "updated_at": now, "status": status, "billed_on": None,
            "submitted_at": None, "adjudicated_at": None, "appeal_deadline": None, "appeal_level": 0,
            "problems": problems, "version": 1 if status == DRAFT else 2}))
        all_lines += lines
        moved += [{"id": c.id, "claim_id": claim.id, "payer_id": coverage.payer_id, "updated_at": now} for c in charges]
        audited.append({"patient_id": pid, "object_type": OBJECT_CLAIM, "object_id": claim.id,
                        "detail": {"lines": len(lines), "status": status}})
    if claims:
        bulk.insert(session, _CLAIMS, claims)
        if bulk.update(session, _CHARGES, moved, ("claim_id", "payer_id", "updated_at"),
                       only_if_null="claim_id") != len(moved):  # another run billed some of them meanwhile
            raise errors_.Conflict("Some of these charges were put on a claim meanwhile: run the billing again.")
        _write_lines(session, all_lines, events)
        _expire(session, Charge, [m["id"] for m in moved])
    audit.record_each(session, actor, "billing.claim.create", audited)
    return [claim["id"] for claim in claims]


def _expire(session: Session, model: Any, ids: list[uuid.UUID]) -> None:
    """Expire the session's objects of these rows (changed by a core statement), if it holds any."""
    held = session.identity_map
    for row_id in ids:
        obj = held.get(identity_key(model, row_id))
        if obj is not None:
            session.expire(obj)


def _lines(session: Session, claim_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[ClaimLine]]:
    out: dict[uuid.UUID, list[ClaimLine]] = defaultdict(list)
    if claim_ids:
        for line in session.exec(select(ClaimLine).where(ClaimLine.claim_id.in_(claim_ids))  # type: ignore[attr-defined]
                                 .order_by(ClaimLine.line_number)).all():
            out[line.claim_id].append(line)
    return out


def _charges(session: Session, charge_ids: list[uuid.UUID]) -> dict[uuid.UUID, Charge]:
    if not charge_ids:
        return {}
    return {c.id: c for c in session.exec(select(Charge).where(Charge.id.in_(charge_ids))).all()}  # type: ignore[attr-defined]


def problems_of(claim: Claim, lines: list[ClaimLine], charges: dict[uuid.UUID, Charge],
                *, profile: BillingProfile | None, payer: Payer | None, provider: ProviderNumber | None,
                coverage: Coverage | None, on: date) -> dict[str, str]:
    """Everything that would make a payer refuse this claim, field -> message (empty: ready)."""
    problems: dict[str, str] = {}
    if profile is None:
        problems["billing_npi"] = "The clinic's billing NPI is not set up (Billing settings)."
    else:
        if p := check.npi_problem(profile.npi):
            problems["billing_npi"] = f"Billing NPI: {p}"
        if p := check.taxonomy_problem(profile.taxonomy):
            problems["taxonomy"] = f"Billing taxonomy: {p}"
    if claim.rendering_provider_id is not None:
        if provider is None:
            problems["rendering_npi"] = "The rendering clinician has no NPI on file (Billing settings)."
        elif p := check.npi_problem(provider.npi):
            problems["rendering_npi"] = f"Rendering NPI: {p}"
    if p := check.member_id_problem(claim.member_id):
        problems["member_id"] = p
    if not claim.diagnoses:
        problems["diagnoses"] = ("This claim has no diagnosis. Every claim needs the diagnosis the services "
                                 "treated: add it to the visit or the charge, then build the claim again.")
    for d in claim.diagnoses or []:
        if check.icd10_problem(d.get("code")):
            problems["diagnoses"] = f"{d.get('code')} is not an ICD-10-CM code."
    if claim.relationship != "self" and (coverage is None or not coverage.subscriber_family_name
                                         or coverage.subscriber_birth_date is None):
        problems["subscriber"] = "The patient is not the subscriber: add the subscriber's name and date of birth."
    if not lines:
        problems["lines"] = "A claim needs at least one service line."
    for line in lines:
        charge = charges.get(line.charge_id)
        if charge is None:
            continue
        if p := check.procedure_problem(charge.code):
            problems[f"line_{line.line_number}"] = p
        elif claim.diagnoses and (p := check.pointers_problem(line.pointers, len(claim.diagnoses))):
            problems[f"line_{line.line_number}"] = f"Line {line.line_number}: {p}"
        errs: dict[str, str] = {}
        check.service_date(charge.service_date, errs, today=on)
        if errs:
            problems["service_date"] = errs["service_date"]
    if payer is not None and (p := check.timely_filing_problem(claim.service_from, payer.timely_filing_days, on)):
        problems["timely_filing"] = p
    if claim.total_cents != sum(ln.charge_cents for ln in lines):
        problems["total"] = "The claim's total does not equal its lines."
    return problems


@dataclass(frozen=True)
class _Setup:
    """What every claim's validation and export reads: the clinic's numbers, clinicians, payers."""

    profile: BillingProfile | None
    providers: dict[uuid.UUID, ProviderNumber]
    payers: dict[uuid.UUID, Payer]


def _setup(session: Session) -> _Setup:
    return _Setup(session.exec(select(BillingProfile)).first(),
                  {p.user_id: p for p in session.exec(select(ProviderNumber)).all()}, _payers(session))


def _claim_problems(claim: Any, lines: list[Any], charges: dict[uuid.UUID, Any], setup: _Setup,
                    coverage: Any, address: dict | None, on: date) -> dict[str, str]:
    """``problems_of`` with the clinic's setup, and the patient's postal address checked too."""
    provider = setup.providers.get(claim.rendering_provider_id) if claim.rendering_provider_id else None
    problems = problems_of(claim, lines, charges, profile=setup.profile, payer=setup.payers.get(claim.payer_id),
                           provider=provider, coverage=coverage, on=on)
    address = address or {}
    if not all(str(address.get(k) or "").strip() for k in ("line1", "city", "region", "postal_code")):
        problems["address"] = "Claims need the patient's postal address: street, city, state and ZIP code."
    return problems


def _validate(session: Session, actor: Actor | None, claim: Claim) -> dict[str, str]:
    """Check the claim and move it to ready, or back to draft."""
    lines = _lines(session, [claim.id])[claim.id]
    charges = _charges(session, [ln.charge_id for ln in lines])
    coverage = session.exec(select(Coverage).where(Coverage.policy_id == claim.policy_id)).first() \
        if claim.policy_id else None
    patient = session.get(Patient, claim.patient_id)
    problems = _claim_problems(claim, lines, charges, _setup(session), coverage, patient.address if patient else None,
                               today())
    claim.problems = problems
    if problems and claim.status == READY:
        _transition(session, claim, DRAFT, actor, detail={"problems": sorted(problems)})
    elif not problems and claim.status == DRAFT:
        _transition(session, claim, READY, actor)
    session.add(claim)
    return problems


def validate_claim(session: Session, actor: Actor | None, *, claim_id: Any) -> ClaimView:
    """Check the claim again (after a fix in the setup or the coverage): ready or the problems."""
    claim = _claim_of(session, actor, A.CLAIM_WRITE, claim_id, "billing.claim.validate")
    if claim.status not in (DRAFT, READY, REJECTED):
        raise WrongStatus(claim.status, "validated")
    if claim.status == REJECTED:
        _transition(session, claim, DRAFT, actor)
    problems = _validate(session, actor, claim)
    audit.record(session, actor, "billing.claim.validate", patient_id=claim.patient_id, object_type=OBJECT_CLAIM,
                 object_id=claim.id, detail={"problems": sorted(problems)})
    return _claim_view(session, claim)


# ---------------------------------------------------------------- claims: 837P and submission


#: What an 837P says of each claim, its lines, their charges and its patient (``_claim_docs``): read
#: as plain rows, only these columns decrypted.
_DOC_CLAIM_COLUMNS = ("claim_number", "patient_id", "payer_id", "policy_id", "status", "version", "sequence",
                      "frequency", "relationship", "rendering_provider_id", "primary_claim_id", "total_cents",
                      "member_id", "group_number", "diagnoses", "prior_authorization", "payer_claim_number",
                      "submitted_at", "billed_on")
_DOC_LINE_COLUMNS = ("claim_id", "charge_id", "line_number", "charge_cents", "pointers", "paid_cents", "patient_cents",
                     "adjustments")
_DOC_CHARGE_COLUMNS = ("code", "modifiers", "units", "place_of_service", "service_date")
_DOC_PATIENT_COLUMNS = ("family_name", "given_name", "address", "date_of_birth", "sex")


def _doc_lines(session: Session, claim_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[SimpleNamespace]]:
    """``_lines`` as plain rows of the columns an 837P reads."""
    out: dict[uuid.UUID, list[SimpleNamespace]] = defaultdict(list)
    if claim_ids:
        for line in _plain(session, ClaimLine, _DOC_LINE_COLUMNS, lambda c: c.claim_id.in_(claim_ids),
                           order_by=lambda c: c.line_number):
            out[line.claim_id].append(line)
    return out


def _claim_docs(session: Session, claims: list[Any]) -> tuple[x12.BillingParty, list[tuple[Any, x12.ClaimDoc]]]:
    """Each claim (a model or a plain row with ``_DOC_CLAIM_COLUMNS``) as the 837P's ClaimDoc."""
    profile = session.exec(select(BillingProfile)).first()
    if profile is None:
        raise BillingInvalid("Set up the clinic's billing NPI first.", errors={"billing_npi": "Not set up."})
    billing = x12.BillingParty(profile.name, profile.npi, profile.tax_id, profile.taxonomy, profile.address_line1,
                               profile.city, profile.region, profile.postal_code, profile.phone, profile.submitter_id)
    ids = [c.id for c in claims]
    lines = _doc_lines(session, ids)
    charge_ids = [ln.charge_id for ls in lines.values() for ln in ls]
    charges = {c.id: c for c in _plain(session, Charge, _DOC_CHARGE_COLUMNS, lambda c: c.id.in_(charge_ids))}
    patient_ids = list({c.patient_id for c in claims})
    patients = {p.id: p for p in _plain(session, Patient, _DOC_PATIENT_COLUMNS, lambda c: c.id.in_(patient_ids))}
    providers = {p.user_id: p for p in session.exec(select(ProviderNumber)).all()}
    payers = _payers(session)
    primaries = {c.id: c for c in session.exec(select(Claim).where(Claim.id.in_(
        {c.primary_claim_id for c in claims if c.primary_claim_id}))).all()} \
        if any(c.primary_claim_id for c in claims) else {}  # type: ignore[attr-defined]
    primary_lines = {pid_: {ln.charge_id: ln for ln in ls} for pid_, ls in _doc_lines(session, list(primaries)).items()}
    policy_ids = [c.policy_id for c in [*claims, *primaries.values()] if c.policy_id and c.relationship != "self"]
    coverages = {cv.policy_id: cv for cv in session.exec(select(Coverage).where(
        Coverage.policy_id.in_(policy_ids))).all()} if policy_ids else {}  # type: ignore[attr-defined]

    def subscriber_of(claim: Claim, person: x12.Party) -> x12.Party:
        if claim.relationship == "self":
            return person
        cov = coverages.get(claim.policy_id)
        return x12.Party(name=(cov.subscriber_family_name if cov else "") or "",
                         given_name=(cov.subscriber_given_name if cov else "") or "",
                         address_line1=person.address_line1, city=person.city, region=person.region,
                         postal_code=person.postal_code, birth_date=cov.subscriber_birth_date if cov else None,
                         sex=(cov.subscriber_sex if cov else "") or "")

    def adjustments(ln: Any) -> tuple[x12.Adjustment, ...]:
        return tuple(x12.Adjustment(a["group"], a["reason"], int(a["cents"])) for a in ln.adjustments or []
                     if int(a.get("cents") or 0))

    docs = []
    for claim in claims:
        patient, payer = patients[claim.patient_id], payers[claim.payer_id]
        addr = patient.address or {}
        person = x12.Party(name=patient.family_name, given_name=patient.given_name,
                           address_line1=addr.get("line1", ""), city=addr.get("city", ""),
                           region=addr.get("region", ""), postal_code=addr.get("postal_code", ""),
                           birth_date=patient.date_of_birth, sex=patient.sex)
        subscriber = subscriber_of(claim, person)
        provider = providers.get(claim.rendering_provider_id) if claim.rendering_provider_id else None
        claim_lines = lines[claim.id]
        first = primaries.get(claim.primary_claim_id) if claim.primary_claim_id else None
        before = primary_lines.get(first.id, {}) if first else {}
        paid_on = (first.adjudicated_at or utcnow()).date() if first else None
        other = None
        if first is not None:
            mine = [before[ln.charge_id] for ln in claim_lines if ln.charge_id in before]
            other_payer = payers[first.payer_id]
            other = x12.OtherPayer(
                payer=x12.Party(name=other_payer.name, identifier=other_payer.payer_code),
                subscriber=subscriber_of(first, person), member_id=first.member_id,
                group_number=first.group_number or "", relationship=first.relationship,
                filing_code=other_payer.filing_code, paid_cents=sum(p.paid_cents for p in mine),
                patient_cents=sum(p.patient_cents for p in mine), payer_claim_number=first.payer_claim_number or "")
        pos = charges[claim_lines[0].charge_id].place_of_service if claim_lines else "11"
        docs.append((claim, x12.ClaimDoc(
            claim_number=claim.claim_number, total_cents=claim.total_cents, place_of_service=pos,
            frequency=claim.frequency, sequence=claim.sequence, filing_code=payer.filing_code,
            member_id=claim.member_id, group_number=claim.group_number or "", relationship=claim.relationship,
            subscriber=subscriber, patient=person,
            payer=x12.Party(name=payer.name, identifier=payer.payer_code),
            diagnoses=tuple(check.icd10_x12(d["code"]) for d in claim.diagnoses or []),
            lines=tuple(x12.ServiceLine(
                code=charges[ln.charge_id].code, modifiers=tuple(charges[ln.charge_id].modifiers or ()),
                charge_cents=ln.charge_cents, units=charges[ln.charge_id].units,
                place_of_service=charges[ln.charge_id].place_of_service, pointers=tuple(ln.pointers or ()),
                service_date=charges[ln.charge_id].service_date, control=f"{claim.claim_number}-{ln.line_number}",
                prior=x12.PriorLine(before[ln.charge_id].paid_cents, adjustments(before[ln.charge_id]), paid_on)
                if ln.charge_id in before and paid_on else None)
                for ln in claim_lines),
            rendering=x12.Party(name=provider.family_name, given_name=provider.given_name, identifier=provider.npi)
            if provider and provider.npi != profile.npi else None,
            rendering_taxonomy=provider.taxonomy if provider else "",
            payer_claim_number=claim.payer_claim_number or "",
            prior_authorization=claim.prior_authorization or "", other=other)))
    return billing, docs


def _envelope(payer: Payer, sender: str) -> x12.Envelope:
    return x12.Envelope(sender_id=sender or "CLINIC", receiver_id=payer.payer_code,
                        control_number=secrets.randbelow(999_999_999) + 1, created=utcnow())


def export_837p(session: Session, actor: Actor | None, *, claim_ids: list) -> dict[str, str]:
    """The 837P files of these ready (or submitted) claims, one per payer: payer code -> file text."""
    if actor is None or not actor.can(A.CLAIM_WRITE):
        _global(session, actor, A.CLAIM_WRITE, "billing.claim.export")
    claims = list(session.exec(select(Claim).where(Claim.id.in_([_id(c, "That claim") for c in claim_ids]))).all())  # type: ignore[attr-defined]
    for claim in claims:
        require(session, actor, A.CLAIM_WRITE, Resource(patient_id=claim.patient_id), audit_as="billing.claim.export",
                object_type=OBJECT_CLAIM, object_id=claim.id)
    files = _files_by_payer(session, claims)
    audit.record_each(session, actor, "billing.claim.export", [
        {"patient_id": pid, "object_type": OBJECT_CLAIM, "detail": {"claims": [str(c.id) for c in mine]}}
        for pid, mine in _by_patient(claims).items()])
    return {code: text for code, (text, _payer, _claims) in files.items()}


def _by_patient(claims: list[Claim]) -> dict[uuid.UUID, list[Claim]]:
    out: dict[uuid.UUID, list[Claim]] = defaultdict(list)
    for c in claims:
        out[c.patient_id].append(c)
    return out


def _files_by_payer(session: Session, claims: list[Claim]) -> dict[str, tuple[str, Payer, list[Claim]]]:
    not_ready = [c for c in claims if c.status not in (READY, SUBMITTED, ACKNOWLEDGED)]
    if not_ready:
        raise WrongStatus(not_ready[0].status, "sent: fix its problems first")
    billing, docs = _claim_docs(session, claims)
    payers = _payers(session)
    grouped: dict[uuid.UUID, list[tuple[Claim, x12.ClaimDoc]]] = defaultdict(list)
    for claim, doc in docs:
        grouped[claim.payer_id].append((claim, doc))
    out = {}
    for payer_id, items in grouped.items():
        payer = payers[payer_id]
        text = x12.write_837p(_envelope(payer, billing.submitter_id), billing, payer.name, [d for _c, d in items])
        out[payer.payer_code] = (text, payer, [c for c, _d in items])
    return out


#: What sending changes on a claim (``_send``; the claims are plain rows written back by ``_Rows``).
_SUBMIT_CHANGES = ("status", "version", "submitted_at", "billed_on", "payer_claim_number")


def submit_claims(session: Session, actor: Actor | None, *, claim_ids: list) -> SubmitResult:
    """Send ready claims to their payers' clearinghouses as 837P files and record each
    acknowledgement (accepted -> acknowledged, rejected -> rejected, with the code). The claims
    are read and written back as plain rows (``_Rows``): a batch of 5,000 is one UPDATE."""
    if actor is None or not actor.can(A.CLAIM_WRITE):
        _global(session, actor, A.CLAIM_WRITE, "billing.claim.submit")
    assert actor is not None
    ids = [_id(c, "That claim") for c in claim_ids]
    rows = _Rows(session, Claim, _DOC_CLAIM_COLUMNS, _SUBMIT_CHANGES, lambda c: c.id.in_(ids))
    claims = rows.items
    if not claims:
        raise BillingNotFound("That claim")
    for claim in claims:
        require(session, actor, A.CLAIM_WRITE, Resource(patient_id=claim.patient_id), audit_as="billing.claim.submit",
                object_type=OBJECT_CLAIM, object_id=claim.id)
        if claim.status != READY:
            raise WrongStatus(claim.status, "submitted: only a ready claim is sent")
    accepted: list[str] = []
    rejected: list[str] = []
    with _batched(session):
        file_id = _send(session, actor, claims, utcnow(), accepted, rejected)
        rows.write(session)
    audit.record_each(session, actor, "billing.claim.submit", [
        {"patient_id": pid, "object_type": OBJECT_CLAIM, "detail": {"claims": [str(c.id) for c in mine]}}
        for pid, mine in _by_patient(claims).items()])
    return SubmitResult(tuple(accepted), tuple(rejected), file_id)


def _send(session: Session, actor: Actor, claims: list[Any], now: datetime, accepted: list[str],
          rejected: list[str]) -> uuid.UUID | None:
    """Each payer's 837P to its clearinghouse, and its acknowledgements on the claims (models or
    plain rows; numbers added to `accepted` or `rejected`): the last file's id."""
    file_id = None
    for _code, (text, payer, mine) in _files_by_payer(session, claims).items():
        out = ClearinghouseFile(clearinghouse=payer.clearinghouse, direction="out", kind="837P", content=text,
                                claim_count=len(mine))
        session.add(out)
        file_id = out.id
        for claim in mine:
            _transition(session, claim, SUBMITTED, actor, detail={"file": str(out.id)})
            claim.submitted_at = now
            claim.billed_on = claim.billed_on or today()
        acks = {a.claim_number: a for a in ch.for_name(payer.clearinghouse).submit(session, text)}
        for claim in mine:
            ack = acks.get(claim.claim_number)
            if ack is None:
                continue
            if ack.accepted:
                claim.payer_claim_number = ack.payer_claim_number or claim.payer_claim_number
                _transition(session, claim, ACKNOWLEDGED, None, who=ch.PAYER_ACTOR,
                            detail={"ack": ack.category, "code": ack.status_code})
                accepted.append(claim.claim_number)
            else:
                _transition(session, claim, REJECTED, None, who=ch.PAYER_ACTOR,
                            detail={"ack": ack.category, "code": ack.status_code})
                rejected.append(claim.claim_number)
    return file_id


def claim_status(session: Session, actor: Actor | None, *, claim_id: Any) -> str:
    """Ask the payer for the claim's status (276/277-style): its category code (F1 paid, F2 denied …)."""
    claim = _claim_of(session, actor, A.BILLING_ACCOUNT_READ, claim_id, "billing.claim.status.read")
    payer = session.get(Payer, claim.payer_id)
    assert payer is not None
    answer = ch.for_name(payer.clearinghouse).status(session, claim_number=claim.claim_number)
    audit.record(session, actor, "billing.claim.status.read", patient_id=claim.patient_id, object_type=OBJECT_CLAIM,
                 object_id=claim.id, detail={"category": answer.category})
    return answer.category


def correct_claim(session: Session, actor: Actor | None, *, claim_id: Any, prior_authorization: str = "") -> ClaimView:
    """A corrected claim: a rejected claim goes back to draft to be fixed and sent again; a denied
    or paid one is replaced by a new claim (frequency 7, naming the payer's claim number) with the
    same charges, and the old one is closed."""
    claim = _claim_of(session, actor, A.CLAIM_WRITE, claim_id, "billing.claim.correct")
    assert actor is not None
    if claim.status == REJECTED:
        if prior_authorization:
            claim.prior_authorization = prior_authorization.strip()[:50]
        _transition(session, claim, DRAFT, actor, detail={"corrected": True})
        _validate(session, actor, claim)
        new = claim
    elif claim.status in (DENIED, PARTIAL, PAID):
        lines = _lines(session, [claim.id])[claim.id]
        charges = [c for c in _charges(session, [ln.charge_id for ln in lines]).values()
                   if c.insurance_balance_cents > 0 and c.claim_id == claim.id]  # a secondary claim carries the rest
        if not charges:
            raise BillingInvalid("Nothing on this claim is still waiting for the payer.", errors={"claim": "Nothing to correct."})
        policy = session.get(InsurancePolicy, claim.policy_id) if claim.policy_id else None
        coverage = session.exec(select(Coverage).where(Coverage.policy_id == claim.policy_id)).first() if policy else None
        if policy is None or coverage is None:
            raise BillingInvalid("The claim's policy is no longer on file.", errors={"coverage": "Policy missing."})
        _transition(session, claim, CLOSED, actor, detail={"replaced": True})
        new = _assemble(session, actor, claim.patient_id, policy, coverage, sorted(charges, key=lambda c: c.created_at),
                        prior_authorization=prior_authorization or claim.prior_authorization or "",
                        frequency="7", replaces=claim, primary=claim.primary_claim_id)
    else:
        raise WrongStatus(claim.status, "corrected")
    audit.record(session, actor, "billing.claim.correct", patient_id=claim.patient_id, object_type=OBJECT_CLAIM,
                 object_id=new.id, detail={"replaces": str(claim.id) if new is not claim else None})
    return _claim_view(session, new)


def _secondary_of(session: Session, claim: Claim) -> Claim | None:
    """The secondary claim made from this primary (the newest not closed; a corrected one replaces it)."""
    return session.exec(select(Claim).where(Claim.primary_claim_id == claim.id, Claim.status != CLOSED)
                        .order_by(Claim.created_at.desc())).first()  # type: ignore[attr-defined]


def create_secondary_claim(session: Session, actor: Actor | None, *, claim_id: Any) -> ClaimView:
    """A secondary claim (coordination of benefits) from a primary claim its payer has paid: to the
    patient's secondary payer, with the same charges at their full amounts (as X12 wants) and the
    primary's payment and adjustments on each line, billing the balance the primary left to the
    patient. That balance (what the patient still owes of the primary's PR share on each line) moves
    from the patient's bucket back to the insurance bucket until the secondary payer's 835 posts.
    Refused, saying why, when the primary has not paid, already has a secondary claim, the patient
    has no secondary policy with a payer, or nothing is left to bill."""
    primary = _claim_of(session, actor, A.CLAIM_WRITE, claim_id, "billing.claim.secondary.create")
    assert actor is not None
    if primary.sequence != "primary":
        raise BillingInvalid("A secondary claim is made from the primary claim, not from another secondary one.",
                             errors={"claim": "Not a primary claim."})
    if primary.status not in (PAID, PARTIAL):
        raise WrongStatus(primary.status, "billed to a secondary payer until the primary payer has paid it")
    if (existing := _secondary_of(session, primary)) is not None:
        raise BillingInvalid(f"This claim already has a secondary claim ({existing.claim_number}).",
                             errors={"claim": "Secondary claim already made."})
    found = _primary_coverage(session, primary.patient_id, "secondary")
    if found is None:
        raise BillingInvalid("This patient has no secondary insurance with a payer: add the secondary policy and "
                             "choose its payer on the patient's billing page first.",
                             errors={"coverage": "No secondary coverage with a payer."})
    policy, coverage = found
    if coverage.payer_id == primary.payer_id and policy.id == primary.policy_id:
        raise BillingInvalid("The secondary policy is the primary one.", errors={"coverage": "Same policy."})
    lines = _lines(session, [primary.id])[primary.id]
    charges = _charges(session, [ln.charge_id for ln in lines])
    balance = {ln.charge_id: min(ln.patient_cents, charges[ln.charge_id].patient_balance_cents) for ln in lines
               if ln.status in (LINE_PAID, LINE_PARTIAL) and charges[ln.charge_id].claim_id == primary.id}
    billable = sorted((charges[cid] for cid, cents in balance.items() if cents > 0),
                      key=lambda c: (c.service_date, c.created_at))
    if not billable:
        raise BillingInvalid("Nothing is left for a secondary payer: the primary paid every line in full or the "
                             "patient has paid their share.", errors={"claim": "No balance left."})
    claim = _assemble(session, actor, primary.patient_id, policy, coverage, billable, primary=primary.id)
    for charge in billable:
        ledger.move_to_insurance(session, charge, balance[charge.id], claim_id=claim.id, group_code="PR",
                                 entered_by=actor.user_id)
    audit.record(session, actor, "billing.claim.secondary.create", patient_id=primary.patient_id,
                 object_type=OBJECT_CLAIM, object_id=claim.id,
                 detail={"primary": str(primary.id), "lines": len(billable), "status": claim.status})
    return _claim_view(session, claim)


def close_claim(session: Session, actor: Actor | None, *, claim_id: Any, write_off: bool = False) -> ClaimView:
    """Close a claim; with `write_off`, what is still waiting for the payer is written off (an
    adjustment of the clinic's own, group OA)."""
    claim = _claim_of(session, actor, A.CLAIM_WRITE, claim_id, "billing.claim.close")
    assert actor is not None
    lines = _lines(session, [claim.id])[claim.id]
    charges = {k: c for k, c in _charges(session, [ln.charge_id for ln in lines]).items()
               if c.claim_id == claim.id}  # what a secondary claim now carries is the secondary's to close
    waiting = sum(c.insurance_balance_cents for c in charges.values())
    if waiting and not write_off:
        raise BillingInvalid("This claim still has money waiting for the payer: write it off to close it.",
                             errors={"write_off": "Confirm the write-off."})
    for charge in charges.values():
        if charge.insurance_balance_cents:
            ledger.post(session, charge, bucket=INSURANCE, kind=ADJUSTMENT, amount_cents=-charge.insurance_balance_cents,
                        claim_id=claim.id, group_code="OA", reason_code="A2", entered_by=actor.user_id)
    _transition(session, claim, CLOSED, actor, detail={"write_off": bool(waiting)})
    audit.record(session, actor, "billing.claim.close", patient_id=claim.patient_id, object_type=OBJECT_CLAIM,
                 object_id=claim.id, detail={"written_off": bool(waiting)})
    return _claim_view(session, claim)


# ---------------------------------------------------------------- claims: reading


def _claim_items(session: Session, stmt: Any, limit: int = 50) -> list[ClaimListItem]:
    rows = session.exec(stmt.order_by(Claim.created_at.desc()).limit(limit)).all()  # type: ignore[attr-defined]
    names, payers = _names(session, {c.patient_id for c in rows}), _payers(session)
    return [ClaimListItem(c.id, c.claim_number, c.patient_id, names.get(c.patient_id, ""),
                          payers[c.payer_id].name if c.payer_id in payers else "", c.status, c.total_cents, c.billed_on)
            for c in rows]


def _claim_view(session: Session, claim: Claim) -> ClaimView:
    lines = _lines(session, [claim.id])[claim.id]
    charges = _charges(session, [ln.charge_id for ln in lines])
    events = session.exec(select(ClaimEvent).where(ClaimEvent.claim_id == claim.id)
                          .order_by(ClaimEvent.created_at)).all()  # type: ignore[arg-type]
    appeals = session.exec(select(Appeal).where(Appeal.claim_id == claim.id).order_by(Appeal.level)).all()  # type: ignore[arg-type]
    payer = session.get(Payer, claim.payer_id)
    patient = session.get(Patient, claim.patient_id)
    return ClaimView(
        id=claim.id, claim_number=claim.claim_number, patient_id=claim.patient_id,
        patient_name=display_name(patient) if patient else "", payer_name=payer.name if payer else "",
        status=claim.status, sequence=claim.sequence, frequency=claim.frequency, total_cents=claim.total_cents,
        service_from=claim.service_from, diagnoses=tuple(d.get("code", "") for d in claim.diagnoses or []),
        lines=tuple(ClaimLineView(
            ln.line_number, charges[ln.charge_id].code, tuple(charges[ln.charge_id].modifiers or ()),
            charges[ln.charge_id].units, ln.charge_cents, tuple(ln.pointers or ()), ln.status, ln.paid_cents,
            ln.adjusted_cents, ln.patient_cents,
            tuple(reason_text(a["group"], a["reason"]) for a in ln.adjustments or []), tuple(ln.remarks or ()))
            for ln in lines),
        events=tuple(ClaimEventView(e.created_at, e.from_status, e.to_status, e.actor_name, dict(e.detail or {}))
                     for e in events),
        problems=dict(claim.problems or {}), appeal_deadline=claim.appeal_deadline, appeal_level=claim.appeal_level,
        payer_claim_number=claim.payer_claim_number or "", version=claim.version,
        appeals=tuple(_appeal_view(a) for a in appeals), **_coordination(session, claim))


def _coordination(session: Session, claim: Claim) -> dict[str, Any]:
    """A claim's coordination of benefits for its view: a secondary's primary and the balance it
    bills (what moved back to the insurance bucket for it); a primary's secondary claim, and whether
    the patient has a secondary payer to bill."""
    if claim.primary_claim_id:
        first = session.get(Claim, claim.primary_claim_id)
        billed = session.exec(select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0)).where(
            LedgerEntry.claim_id == claim.id, LedgerEntry.bucket == INSURANCE, LedgerEntry.kind == PATIENT_SHARE,
            LedgerEntry.amount_cents > 0)).one()
        return {"primary_claim_id": claim.primary_claim_id, "primary_claim_number": first.claim_number if first else "",
                "billed_balance_cents": int(billed)}
    second = _secondary_of(session, claim)
    return {"secondary_claim_id": second.id if second else None,
            "secondary_claim_number": second.claim_number if second else "",
            "has_secondary_coverage": _primary_coverage(session, claim.patient_id, "secondary") is not None}


def get_claim(session: Session, actor: Actor | None, *, claim_id: Any) -> ClaimView:
    """One claim with its lines, every transition (who, when) and its appeals."""
    claim = _claim_of(session, actor, A.BILLING_ACCOUNT_READ, claim_id, "billing.claim.read")
    audit.record(session, actor, "billing.claim.read", patient_id=claim.patient_id, object_type=OBJECT_CLAIM,
                 object_id=claim.id)
    return _claim_view(session, claim)


def payer_claims(session: Session, actor: Actor | None, *, payer_id: Any, status: str = "") -> list[ClaimListItem]:
    """A payer's claim history, newest first (50)."""
    _global(session, actor, A.BILLING_WORKLIST, "billing.claim.list")
    stmt = select(Claim).where(Claim.payer_id == _id(payer_id, "That payer"))
    if status:
        stmt = stmt.where(Claim.status == status)
    items = _claim_items(session, stmt)
    for pid in {i.patient_id for i in items}:
        audit.record(session, actor, "billing.claim.list", patient_id=pid, object_type=OBJECT_CLAIM,
                     detail={"claims": [str(i.id) for i in items if i.patient_id == pid]})
    return items


def claims_worklist(session: Session, actor: Actor | None, *, status: str = "") -> list[ClaimListItem]:
    """Claims across patients by status (ready to send, rejected …), newest first (50)."""
    _global(session, actor, A.BILLING_WORKLIST, "billing.claim.list")
    stmt = select(Claim)
    if status:
        stmt = stmt.where(Claim.status == status)
    items = _claim_items(session, stmt)
    for pid in {i.patient_id for i in items}:
        audit.record(session, actor, "billing.claim.list", patient_id=pid, object_type=OBJECT_CLAIM,
                     detail={"claims": [str(i.id) for i in items if i.patient_id == pid]})
    return items


# ---------------------------------------------------------------- remittance (835)


def fetch_remittances(session: Session, actor: Actor | None) -> list[PostingResult]:
    """Fetch the 835s waiting at every clearinghouse the payers use, and post each."""
    _global(session, actor, A.REMITTANCE_POST, "billing.remittance.post")
    results = []
    for name in sorted({p.clearinghouse for p in _payers(session).values()}):
        house = ch.for_name(name)
        for inbound in house.fetch(session):
            results.append(_post(session, actor, inbound.content, source="clearinghouse"))
            house.mark_read(session, inbound.id)
    return results


def post_835(session: Session, actor: Actor | None, *, text: str, source: str = "upload") -> PostingResult:
    """Post one 835 (uploaded by staff or fetched): payments and adjustments to each claim line,
    the patient's share to their balance, anything unmatched to the worklist. Idempotent."""
    _global(session, actor, A.REMITTANCE_POST, "billing.remittance.post")
    return _post(session, actor, text, source=source)


def _post(session: Session, actor: Actor | None, text: str, *, source: str) -> PostingResult:
    try:
        doc = x12.read_835(text)
    except ValueError as exc:
        raise BillingInvalid(str(exc), errors={"file": str(exc)}) from None
    payer = session.exec(select(Payer).where(Payer.payer_code == doc.payer_code)).first() if doc.payer_code else None
    payer_code = doc.payer_code or doc.payer_name or "UNKNOWN"
    if session.exec(select(Remittance.id).where(Remittance.payer_code == payer_code,
                                                Remittance.trace_number == doc.trace_number)).first():
        return PostingResult(None, True, 0, 0, 0)
    remit = Remittance(payer_code=payer_code, payer_id=payer.id if payer else None, trace_number=doc.trace_number,
                       paid_cents=doc.paid_cents, provider_adjustment_cents=doc.provider_adjustment_cents,
                       payment_date=doc.payment_date, source=source, posted_by=actor.user_id if actor else None,
                       claim_count=len(doc.claims), digest=hashlib.sha256(text.encode()).hexdigest())
    session.add(remit)
    session.flush()
    numbers = [c.control_number for c in doc.claims]
    # posting reads and changes amounts, statuses and codes: plain rows of plain columns (no ORM state,
    # nothing decrypted), written back with one UPDATE a table; a charge's code (encrypted) is read
    # only when a line must be matched by it
    claims = _Rows(session, Claim, _POST_CLAIM_COLUMNS, _POST_CLAIM_CHANGES, lambda c: c.claim_number.in_(numbers))
    by_number = {c.claim_number: c for c in claims.items}
    lines = _Rows(session, ClaimLine, _POST_LINE_COLUMNS, _POST_LINE_CHANGES,
                  lambda c: c.claim_id.in_([c.id for c in claims.items]), order_by=lambda c: c.line_number)
    by_claim: dict[uuid.UUID, list[SimpleNamespace]] = defaultdict(list)
    for line in lines.items:
        by_claim[line.claim_id].append(line)
    charges = _Rows(session, Charge, _POST_CHARGE_COLUMNS, _POST_CHARGE_CHANGES,
                    lambda c: c.id.in_([ln.charge_id for ln in lines.items]))
    by_id = {c.id: c for c in charges.items}
    _codes_where_needed(session, doc, by_number, by_claim, by_id)
    payers = _payers(session)
    touched: dict[uuid.UUID, list[str]] = defaultdict(list)
    with _batched(session):
        posted, unmatched, paid_total = _post_claims(session, actor, remit, doc, by_number, by_claim, by_id, payers,
                                                     touched)
        for rows in (claims, lines, charges):
            rows.write(session)
    remit.posted_cents, remit.unmatched_count = paid_total, unmatched
    session.add(remit)
    audit.record_each(session, actor, "billing.remittance.post", [
        *({"patient_id": pid, "object_type": "billing_remittance", "object_id": remit.id, "detail": {"claims": ids}}
          for pid, ids in touched.items()),
        {"object_type": "billing_remittance", "object_id": remit.id,
         "detail": {"claims": posted, "unmatched": unmatched, "source": source}}])
    return PostingResult(remit.id, False, posted, unmatched, paid_total)


#: What posting reads (plain columns only) and may change of each claim, line and charge.
_POST_CLAIM_COLUMNS = ("claim_number", "patient_id", "payer_id", "status", "version", "appeal_level",
                       "payer_claim_number", "adjudicated_at", "appeal_deadline")
_POST_CLAIM_CHANGES = ("status", "version", "payer_claim_number", "adjudicated_at", "appeal_deadline")
_POST_LINE_COLUMNS = ("claim_id", "charge_id", "line_number", "charge_cents", "status", "paid_cents", "adjusted_cents",
                      "patient_cents", "adjustments", "remarks")
_POST_LINE_CHANGES = ("status", "paid_cents", "adjusted_cents", "patient_cents", "adjustments", "remarks")
_POST_CHARGE_COLUMNS = ("patient_id", "claim_id", "insurance_balance_cents", "patient_balance_cents")
_POST_CHARGE_CHANGES = ("insurance_balance_cents", "patient_balance_cents")


def _codes_where_needed(session: Session, doc: x12.RemitDoc, claims: dict[str, Any], lines: dict[uuid.UUID, list[Any]],
                        charges: dict[uuid.UUID, Any]) -> None:
    """Set ``code`` (decrypted) on the charges of the claims with a remittance line that names no
    line of theirs by its control number (``_post_claim`` then matches it by code and amount)."""
    wanted: list[uuid.UUID] = []
    for cdoc in doc.claims:
        claim = claims.get(cdoc.control_number)
        if claim is None:
            continue
        controls = {f"{claim.claim_number}-{ln.line_number}" for ln in lines[claim.id]}
        if any(rline.control not in controls for rline in cdoc.lines):
            wanted += [ln.charge_id for ln in lines[claim.id]]
    for row in plain_rows(session, Charge, ("code",), lambda c: c.id.in_(wanted)) if wanted else ():
        charges[row["id"]].code = row["code"]


def _post_claims(session: Session, actor: Actor | None, remit: Remittance, doc: x12.RemitDoc,
                 claims: dict[str, Any], lines: dict[uuid.UUID, list[Any]], charges: dict[uuid.UUID, Any],
                 payers: dict[uuid.UUID, Payer], touched: dict[uuid.UUID, list[str]]) -> tuple[int, int, int]:
    """Each claim payment of the 835 to its claim (or the worklist): (posted, unmatched, paid cents).
    Claims, lines and charges are ``_Rows``' plain objects: the caller writes them back."""
    posted, unmatched, paid_total = 0, 0, 0
    rows = []  # the claim payments, written in bulk (no ORM state for each)
    for position, cdoc in enumerate(doc.claims, start=1):
        claim = claims.get(cdoc.control_number)
        now = utcnow()
        rows.append({"id": uuid.uuid4(), "created_at": now, "updated_at": now, "remittance_id": remit.id,
                     "position": position, "claim_id": claim.id if claim else None,
                     "control_number": cdoc.control_number[:38], "status_code": cdoc.status_code[:2],
                     "charge_cents": cdoc.charge_cents, "paid_cents": cdoc.paid_cents,
                     "patient_cents": cdoc.patient_cents, "payer_claim_number": cdoc.payer_claim_number[:50] or None})
        if claim is None:
            session.add(WorkItem(remittance_id=remit.id, kind="unmatched_claim",
                                 control_number=cdoc.control_number[:38], amount_cents=cdoc.paid_cents))
            unmatched += 1
            continue
        if cdoc.status_code == REVERSAL:
            ok = _reverse_claim(session, remit, claim, cdoc, lines[claim.id], charges)
        else:
            ok = _post_claim(session, actor, remit, claim, cdoc, lines[claim.id], charges, payers.get(claim.payer_id))
        posted += 1
        unmatched += 0 if ok else 1
        paid_total += cdoc.paid_cents
        touched[claim.patient_id].append(str(claim.id))
    if rows:
        bulk.insert(session, RemitClaim.__table__, rows)  # type: ignore[attr-defined]
    return posted, unmatched, paid_total


def _post_claim(session: Session, actor: Actor | None, remit: Remittance, claim: Any, cdoc: x12.RemitClaimDoc,
                lines: list[Any], charges: dict[uuid.UUID, Any], payer: Payer | None) -> bool:
    """Post one claim payment; False when a line went to the worklist."""
    by_control = {f"{claim.claim_number}-{ln.line_number}": ln for ln in lines}
    all_ok = True
    used: set[uuid.UUID] = set()
    for rline in cdoc.lines:
        line = by_control.get(rline.control) or next(
            (ln for ln in lines if ln.id not in used and charges[ln.charge_id].code == rline.code
             and ln.charge_cents == rline.charge_cents), None)
        if line is None or rline.charge_cents != rline.paid_cents + rline.adjusted_cents:
            session.add(WorkItem(remittance_id=remit.id, kind="unmatched_line" if line is None else "unbalanced",
                                 control_number=(rline.control or cdoc.control_number)[:38],
                                 amount_cents=rline.paid_cents))
            all_ok = False
            continue
        used.add(line.id)
        charge = charges[line.charge_id]
        patient_share = sum(a.cents for a in rline.adjustments if a.group == "PR")
        prior = sum(a.cents for a in rline.adjustments if a.reason == PRIOR_PAYER and a.group != "PR")
        line.adjustments = [{"group": a.group, "reason": a.reason, "cents": a.cents} for a in rline.adjustments]
        line.remarks = list(rline.remarks)
        if rline.paid_cents == 0 and patient_share == 0:
            line.status = LINE_DENIED  # denied: recorded, nothing moves until it is appealed or written off
            continue
        needed = rline.paid_cents + rline.adjusted_cents - prior
        if needed > charge.insurance_balance_cents:
            session.add(WorkItem(remittance_id=remit.id, kind="unbalanced", control_number=(rline.control or "")[:38],
                                 amount_cents=rline.paid_cents))
            all_ok = False
            continue
        codes = {"claim_id": claim.id, "remittance_id": remit.id}
        if rline.paid_cents:
            ledger.post(session, charge, bucket=INSURANCE, kind=INSURANCE_PAYMENT, amount_cents=-rline.paid_cents,
                        remark_codes=rline.remarks, **codes)
        for adj in rline.adjustments:
            if adj.group == "PR":
                ledger.move_to_patient(session, charge, adj.cents, group_code="PR", reason_code=adj.reason[:5], **codes)
            elif adj.reason != PRIOR_PAYER:
                ledger.post(session, charge, bucket=INSURANCE, kind=ADJUSTMENT, amount_cents=-adj.cents,
                            group_code=adj.group[:2], reason_code=adj.reason[:5], **codes)
        line.paid_cents += rline.paid_cents
        line.patient_cents += patient_share
        line.adjusted_cents += rline.adjusted_cents - patient_share - prior
        line.status = LINE_PAID if charge.insurance_balance_cents == 0 else LINE_PARTIAL
    statuses = {ln.status for ln in lines}
    denied = LINE_DENIED in statuses
    paid_any = bool(statuses & {LINE_PAID, LINE_PARTIAL})
    new = (PARTIAL if paid_any else DENIED) if denied else (PAID if LINE_OPEN not in statuses else PARTIAL)
    claim.payer_claim_number = cdoc.payer_claim_number or claim.payer_claim_number
    claim.adjudicated_at = utcnow()
    appeal_days = list(payer.appeal_days or []) if payer else []
    if denied and claim.appeal_level < len(appeal_days):
        claim.appeal_deadline = (remit.payment_date or today()) + timedelta(days=int(appeal_days[claim.appeal_level]))
    elif not denied:
        claim.appeal_deadline = None
    if claim.status == APPEALED:
        for appeal in session.exec(select(Appeal).where(Appeal.claim_id == claim.id, Appeal.status == "submitted")).all():
            appeal.status, appeal.decided_at = ("won" if not denied else "lost"), utcnow()
            session.add(appeal)
    if new != claim.status:
        _transition(session, claim, new, None, who=ch.PAYER_ACTOR,
                    detail={"remittance": str(remit.id), "paid": cdoc.paid_cents, "status_code": cdoc.status_code})
    return all_ok


#: CARC 23, "the impact of prior payer(s) adjudication": on a secondary payer's 835 it covers what the
#: primary paid and wrote off, already posted from the primary's 835, so it moves no money again.
PRIOR_PAYER = "23"
#: CLP02 of a claim payment that takes back an earlier one (its amounts are the earlier ones, negated).
REVERSAL = "22"


def _reverse_claim(session: Session, remit: Remittance, claim: Any, cdoc: x12.RemitClaimDoc,
                   lines: list[Any], charges: dict[uuid.UUID, Any]) -> bool:
    """Post a reversal (CLP02 22): the payer takes back what it paid on each line and the shares it
    had moved to the patient, so the charge waits for the payer again, and the claim goes back to
    acknowledged until the corrected payment (usually the next CLP of the same 835) posts. A line
    that cannot be reversed — no such line, or the patient has already paid the share now taken
    back — goes to the worklist and nothing of it moves. False when anything went to the worklist."""
    by_control = {f"{claim.claim_number}-{ln.line_number}": ln for ln in lines}
    all_ok = True
    for rline in cdoc.lines:
        line = by_control.get(rline.control) or next(
            (ln for ln in lines if charges[ln.charge_id].code == rline.code and ln.charge_cents == -rline.charge_cents),
            None)
        back_paid = -rline.paid_cents  # the reversal's amounts are negative: what is taken back
        back_patient = -sum(a.cents for a in rline.adjustments if a.group == "PR")
        back_adjusted = -rline.adjusted_cents - back_patient
        charge = charges[line.charge_id] if line is not None else None
        if (line is None or charge is None or min(back_paid, back_patient, back_adjusted) < 0
                or back_paid > line.paid_cents or back_patient > line.patient_cents
                or back_patient > charge.patient_balance_cents):
            session.add(WorkItem(remittance_id=remit.id, kind="reversal",
                                 control_number=(rline.control or cdoc.control_number)[:38],
                                 amount_cents=rline.paid_cents))
            all_ok = False
            continue
        codes = {"claim_id": claim.id, "remittance_id": remit.id}
        if back_paid:
            ledger.post(session, charge, bucket=INSURANCE, kind=INSURANCE_PAYMENT, amount_cents=back_paid, **codes)
        for adj in rline.adjustments:
            if adj.group == "PR":
                ledger.move_to_patient(session, charge, adj.cents, group_code="PR", reason_code=adj.reason[:5], **codes)
            else:
                ledger.post(session, charge, bucket=INSURANCE, kind=ADJUSTMENT, amount_cents=-adj.cents,
                            group_code=adj.group[:2], reason_code=adj.reason[:5], **codes)
        line.paid_cents -= back_paid
        line.patient_cents -= back_patient
        line.adjusted_cents -= back_adjusted
        line.status, line.adjustments, line.remarks = LINE_OPEN, [], []
    if all_ok and claim.status != ACKNOWLEDGED:
        _transition(session, claim, ACKNOWLEDGED, None, who=ch.PAYER_ACTOR,
                    detail={"remittance": str(remit.id), "reversed": True, "status_code": REVERSAL})
    return all_ok


def remittance_worklist(session: Session, actor: Actor | None) -> list[WorkItemView]:
    """What remittance posting could not place, oldest first."""
    _global(session, actor, A.BILLING_WORKLIST, "billing.worklist.remittance.list")
    rows = session.exec(select(WorkItem).where(WorkItem.resolved_at.is_(None))  # type: ignore[union-attr]
                        .order_by(WorkItem.created_at).limit(200)).all()  # type: ignore[arg-type]
    audit.record(session, actor, "billing.worklist.remittance.list", object_type="billing_work_item",
                 detail={"count": len(rows)})
    return [WorkItemView(r.id, r.kind, r.control_number, r.amount_cents, r.created_at) for r in rows]


def resolve_work_item(session: Session, actor: Actor | None, *, item_id: Any) -> None:
    _global(session, actor, A.REMITTANCE_POST, "billing.worklist.resolve")
    assert actor is not None
    row = session.get(WorkItem, _id(item_id, "That item"))
    if row is None:
        raise BillingNotFound("That item")
    row.resolved_at, row.resolved_by = utcnow(), actor.user_id
    session.add(row)
    audit.record(session, actor, "billing.worklist.resolve", object_type="billing_work_item", object_id=row.id)


# ---------------------------------------------------------------- denials and appeals


def denial_worklist(session: Session, actor: Actor | None) -> list[DenialItem]:
    """Denied lines waiting for a decision, by appeal deadline (soonest first), with days left."""
    _global(session, actor, A.BILLING_WORKLIST, "billing.worklist.denials.list")
    claims = session.exec(select(Claim).where(Claim.status.in_([DENIED, PARTIAL]))  # type: ignore[attr-defined]
                          .order_by(Claim.appeal_deadline.is_(None), Claim.appeal_deadline, Claim.claim_number)  # type: ignore[union-attr]
                          .limit(200)).all()
    lines = _lines(session, [c.id for c in claims])
    names, payers, now = _names(session, {c.patient_id for c in claims}), _payers(session), today()
    items = []
    for c in claims:
        denied = [ln for ln in lines[c.id] if ln.status == LINE_DENIED]
        if not denied:
            continue
        reasons = tuple(dict.fromkeys(reason_text(a["group"], a["reason"]) for ln in denied for a in ln.adjustments or []))
        items.append(DenialItem(c.id, c.claim_number, c.patient_id, names.get(c.patient_id, ""),
                                payers[c.payer_id].name if c.payer_id in payers else "", reasons,
                                sum(ln.charge_cents for ln in denied), c.appeal_deadline,
                                (c.appeal_deadline - now).days if c.appeal_deadline else None))
    for pid in {i.patient_id for i in items}:
        audit.record(session, actor, "billing.worklist.denials.list", patient_id=pid, object_type=OBJECT_CLAIM,
                     detail={"claims": [str(i.claim_id) for i in items if i.patient_id == pid]})
    return items


def _appeal_view(a: Appeal) -> AppealView:
    return AppealView(a.id, a.claim_id, a.level, a.deadline, a.status, a.note, tuple(a.document_ids or ()),
                      a.submitted_at)


def create_appeal(session: Session, actor: Actor | None, *, claim_id: Any, note: str,
                  document_ids: list | None = None) -> AppealView:
    """An appeal of the claim's denied lines at its next level, due by the payer's deadline."""
    claim = _claim_of(session, actor, A.CLAIM_WRITE, claim_id, "billing.appeal.create")
    assert actor is not None
    if claim.status not in (DENIED, PARTIAL):
        raise WrongStatus(claim.status, "appealed")
    if claim.appeal_deadline is None:
        raise BillingInvalid("The payer allows no further appeal of this claim.", errors={"appeal": "No appeal level left."})
    if claim.appeal_deadline < today():
        raise BillingInvalid(f"The appeal deadline ({claim.appeal_deadline.isoformat()}) has passed.",
                             errors={"appeal": "Deadline passed."})
    text = str(note or "").strip()
    if not text:
        raise BillingInvalid(errors={"note": "Say why the payer should pay (what the records show)."})
    docs = []
    if document_ids:
        from patient_portal.domain.documents.models import Document

        wanted = [_id(d, "That document") for d in document_ids]
        found = session.exec(select(Document.id).where(Document.id.in_(wanted),  # type: ignore[attr-defined]
                                                      Document.patient_id == claim.patient_id)).all()
        if len(set(found)) != len(set(wanted)):
            raise BillingInvalid(errors={"documents": "Attach documents of this patient only."})
        docs = [str(d) for d in wanted]
    existing = session.exec(select(Appeal).where(Appeal.claim_id == claim.id, Appeal.status == "draft")).first()
    appeal = existing or Appeal(claim_id=claim.id, patient_id=claim.patient_id, level=claim.appeal_level + 1,
                                deadline=claim.appeal_deadline, note=text, created_by=actor.user_id)
    appeal.note, appeal.document_ids = text[:4000], docs
    session.add(appeal)
    session.flush()
    audit.record(session, actor, "billing.appeal.create", patient_id=claim.patient_id, object_type="billing_appeal",
                 object_id=appeal.id, detail={"claim": str(claim.id), "level": appeal.level, "documents": len(docs)})
    return _appeal_view(appeal)


def _appeal_of(session: Session, actor: Actor | None, action: Action, appeal_id: Any, what: str) -> tuple[Appeal, Claim]:
    appeal = session.get(Appeal, _id(appeal_id, "That appeal"))
    if appeal is None:
        if actor is None or not actor.can(action):
            require(session, actor, action, audit_as=what)
        raise BillingNotFound("That appeal")
    claim = _claim_of(session, actor, action, appeal.claim_id, what)
    return appeal, claim


def appeal_letter(session: Session, actor: Actor | None, *, appeal_id: Any) -> bytes:
    """The appeal letter's PDF, from the template: the claim, its denied lines, the note, attachments."""
    appeal, claim = _appeal_of(session, actor, A.CLAIM_WRITE, appeal_id, "billing.appeal.letter.read")
    profile = session.exec(select(BillingProfile)).first()
    payer = session.get(Payer, claim.payer_id)
    patient = session.get(Patient, claim.patient_id)
    assert payer is not None and patient is not None
    lines = _lines(session, [claim.id])[claim.id]
    charges = _charges(session, [ln.charge_id for ln in lines])
    denied = [(charges[ln.charge_id].code, charges[ln.charge_id].description, ln.charge_cents,
               ", ".join(reason_text(a["group"], a["reason"]) for a in ln.adjustments or []))
              for ln in lines if ln.status == LINE_DENIED]
    names = []
    if appeal.document_ids:
        from patient_portal.domain.documents.models import Document

        rows = session.exec(select(Document).where(Document.id.in_([_id(d) for d in appeal.document_ids]))).all()  # type: ignore[attr-defined]
        names = [getattr(r, "title", "") or "document" for r in rows]
    data = letters.appeal_letter(
        clinic=profile.name if profile else "Clinic",
        clinic_address=f"{profile.address_line1}, {profile.city}, {profile.region}" if profile else "",
        billing_npi=profile.npi if profile else "", payer=payer.name,
        payer_address=f"{payer.address_line1}, {payer.city}, {payer.region} {payer.postal_code}".strip(", "),
        today=today(), patient=display_name(patient), born=patient.date_of_birth, member_id=claim.member_id,
        claim_number=claim.claim_number, payer_claim_number=claim.payer_claim_number or "",
        service_from=claim.service_from, level=appeal.level, deadline=appeal.deadline, lines=denied, note=appeal.note,
        attachments=names)
    audit.record(session, actor, "billing.appeal.letter.read", patient_id=claim.patient_id,
                 object_type="billing_appeal", object_id=appeal.id)
    return data


def submit_appeal(session: Session, actor: Actor | None, *, appeal_id: Any) -> ClaimView:
    """Send the appeal of the claim's denied lines; the claim is appealed until the payer answers."""
    appeal, claim = _appeal_of(session, actor, A.CLAIM_WRITE, appeal_id, "billing.appeal.submit")
    assert actor is not None
    if appeal.status != "draft":
        raise WrongStatus(appeal.status, "sent again")
    if appeal.deadline < today():
        raise BillingInvalid(f"The appeal deadline ({appeal.deadline.isoformat()}) has passed.",
                             errors={"appeal": "Deadline passed."})
    payer = session.get(Payer, claim.payer_id)
    patient = session.get(Patient, claim.patient_id)
    profile = session.exec(select(BillingProfile)).first()
    assert payer is not None and patient is not None
    lines = _lines(session, [claim.id])[claim.id]
    charges = _charges(session, [ln.charge_id for ln in lines])
    denied = [x12.SubmittedLine(code=charges[ln.charge_id].code, modifiers=list(charges[ln.charge_id].modifiers or []),
                                charge_cents=ln.charge_cents, units=charges[ln.charge_id].units,
                                control=f"{claim.claim_number}-{ln.line_number}")
              for ln in lines if ln.status == LINE_DENIED]
    appeal.status, appeal.submitted_at = "submitted", utcnow()
    claim.appeal_level = appeal.level
    session.add(appeal)
    _transition(session, claim, APPEALED, actor, detail={"appeal": str(appeal.id), "level": appeal.level})
    for ln in lines:
        if ln.status == LINE_DENIED:
            ln.status = LINE_OPEN
            session.add(ln)
    session.flush()
    ch.for_name(payer.clearinghouse).appeal(
        session, claim_number=claim.claim_number, payer_claim_number=claim.payer_claim_number or "", lines=denied,
        patient_name=(patient.family_name, patient.given_name), payer_code=payer.payer_code, payer_name=payer.name,
        billing_name=profile.name if profile else "", billing_npi=profile.npi if profile else "")
    audit.record(session, actor, "billing.appeal.submit", patient_id=claim.patient_id, object_type="billing_appeal",
                 object_id=appeal.id, detail={"claim": str(claim.id), "level": appeal.level, "lines": len(denied)})
    return _claim_view(session, claim)


# ---------------------------------------------------------------- statements and payments


def _sums_by_charge(session: Session, charge_ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, int]]:
    out: dict[uuid.UUID, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    if not charge_ids:
        return out
    rows = session.exec(select(LedgerEntry.charge_id, LedgerEntry.kind, LedgerEntry.bucket,
                               func.sum(LedgerEntry.amount_cents))
                        .where(LedgerEntry.charge_id.in_(charge_ids))  # type: ignore[attr-defined]
                        .group_by(LedgerEntry.charge_id, LedgerEntry.kind, LedgerEntry.bucket)).all()
    for charge_id, kind, bucket, total in rows:
        out[charge_id][f"{kind}:{bucket}"] += int(total or 0)
    return out


def _receipts(session: Session, pid: uuid.UUID) -> list[Receipt]:
    rows = session.exec(select(Payment).where(Payment.patient_id == pid).order_by(Payment.created_at.desc())).all()  # type: ignore[attr-defined]
    return [_receipt(p) for p in rows]


def _statement(session: Session, pid: uuid.UUID) -> Statement:
    patient = load(session, pid)
    charges = session.exec(select(Charge).where(Charge.patient_id == pid, Charge.voided == False)).all()  # noqa: E712
    sums = _sums_by_charge(session, [c.id for c in charges])
    lines = []
    for c in sorted(charges, key=lambda c: (c.service_date, c.created_at)):
        s = sums[c.id]
        lines.append(StatementLine(
            service_date=c.service_date, description=c.description, charge_cents=c.amount_cents,
            insurance_paid_cents=-s[f"{INSURANCE_PAYMENT}:{INSURANCE}"],
            adjustments_cents=-s[f"{ADJUSTMENT}:{INSURANCE}"] - s[f"{ADJUSTMENT}:{PATIENT}"],
            patient_paid_cents=-s[f"{PATIENT_PAYMENT}:{PATIENT}"] - s[f"{REFUND}:{PATIENT}"],
            owed_cents=c.patient_balance_cents, pending_insurance_cents=c.insurance_balance_cents))
    return Statement(
        patient_id=pid, patient_name=display_name(patient), lines=tuple(lines),
        total_charges_cents=sum(ln.charge_cents for ln in lines),
        insurance_paid_cents=sum(ln.insurance_paid_cents for ln in lines),
        adjustments_cents=sum(ln.adjustments_cents for ln in lines),
        patient_paid_cents=sum(ln.patient_paid_cents for ln in lines),
        pending_insurance_cents=sum(ln.pending_insurance_cents for ln in lines),
        balance_cents=sum(ln.owed_cents for ln in lines), receipts=tuple(_receipts(session, pid)))


def statement(session: Session, actor: Actor | None, *, patient_id: Any) -> Statement:
    """The patient's statement: each service's charge, what insurance paid, adjustments, what they
    paid and what they owe; their receipts (the patient, their own; staff, admins)."""
    pid = _patient_scope(session, actor, A.STATEMENT_READ, patient_id, "billing.statement.read")
    result = _statement(session, pid)
    audit.record(session, actor, "billing.statement.read", patient_id=pid, object_type="billing_statement",
                 detail={"lines": len(result.lines)})
    return result


def statement_pdf(session: Session, actor: Actor | None, *, patient_id: Any) -> bytes:
    pid = _patient_scope(session, actor, A.STATEMENT_READ, patient_id, "billing.statement.pdf.read")
    s = _statement(session, pid)
    profile = session.exec(select(BillingProfile)).first()
    data = letters.statement(
        clinic=profile.name if profile else "Clinic",
        clinic_address=f"{profile.address_line1}, {profile.city}, {profile.region}" if profile else "",
        patient=s.patient_name, today=today(),
        lines=[(ln.service_date.isoformat(), ln.description, ln.charge_cents, ln.insurance_paid_cents,
                ln.adjustments_cents, ln.owed_cents) for ln in s.lines],
        balance_cents=s.balance_cents, pending_cents=s.pending_insurance_cents)
    audit.record(session, actor, "billing.statement.pdf.read", patient_id=pid, object_type="billing_statement")
    return data


def _receipt_number() -> str:
    return "R-" + secrets.token_hex(5).upper()


def pay_statement(session: Session, actor: Actor | None, *, patient_id: Any, amount: Any, card_number: str,
                  exp_month: Any, exp_year: Any, cvc: str, idempotency_key: str = "") -> Receipt:
    """The patient pays their own balance online with a card handed over whole (tests, the CLI): it
    goes to the processor for a token first, then as ``pay_with_token``. The screens tokenize in the
    browser (``payments`` module docstring), so the number never reaches the app's state."""
    _patient_scope(session, actor, A.STATEMENT_PAY, patient_id, "billing.statement.pay")
    errors: dict[str, str] = {}
    check.cents(amount, errors, "amount")
    if errors:
        raise BillingInvalid(errors=errors)
    try:
        card = processor().tokenize(number=card_number, exp_month=str(exp_month), exp_year=str(exp_year), cvc=cvc,
                                    today=today())
    except CardProblem as exc:
        raise PaymentDeclined(str(exc), exc.field) from None
    return pay_with_token(session, actor, patient_id=patient_id, amount=amount, token=card.token,
                          idempotency_key=idempotency_key)


def pay_with_token(session: Session, actor: Actor | None, *, patient_id: Any, amount: Any, token: str,
                   idempotency_key: str = "") -> Receipt:
    """The patient pays their own balance online with a processor's card token. Only the token, the
    brand and the last four digits are kept. A payment larger than the balance is refused."""
    pid = _patient_scope(session, actor, A.STATEMENT_PAY, patient_id, "billing.statement.pay")
    assert actor is not None
    errors: dict[str, str] = {}
    cents = check.cents(amount, errors, "amount")
    if errors:
        raise BillingInvalid(errors=errors)
    owed = ledger.patient_balance(session, pid)
    if cents > owed:
        raise ledger.Overdrawn(f"That is more than your balance of {check.money_text(owed)}.")
    proc = processor()
    card = proc.describe(str(token or "")[:200])
    if card is None:
        raise PaymentDeclined("The card could not be read. Enter it again.")
    if session.exec(select(Payment.id).where(Payment.processor_token == card.token[:80])).first() is not None:
        raise errors_.Conflict("This payment was already made: see your receipts.")
    payment = Payment(patient_id=pid, kind="payment", method="card_online", amount_cents=cents,
                      receipt_number=_receipt_number(), processor=proc.name, processor_token=card.token[:80],
                      card_last4=card.last4, card_brand=card.brand, received_by=actor.user_id)
    result = proc.charge(token=card.token, amount_cents=cents,
                         idempotency_key=str(idempotency_key or "")[:80] or str(payment.id))
    if not result.approved:
        raise PaymentDeclined(DECLINE_WORDS.get(result.decline_code, "The card was declined. Try another card."))
    session.add(payment)
    session.flush()
    ledger.allocate_payment(session, payment, entered_by=actor.user_id)
    audit.record(session, actor, "billing.statement.pay", patient_id=pid, object_type="billing_payment",
                 object_id=payment.id, detail={"method": "card_online"})
    return _receipt(payment)


def _receipt(p: Payment) -> Receipt:
    return Receipt(p.id, p.receipt_number, p.created_at, p.kind, p.method, p.amount_cents, p.card_last4, p.card_brand)


METHODS = ("cash", "check", "card_desk")


def record_payment(session: Session, actor: Actor | None, *, patient_id: Any, amount: Any, method: str,
                   check_number: str = "", card_last4: str = "") -> Receipt:
    """Staff record a payment at the desk: cash, check (its number) or card on the desk terminal
    (its last four digits, from the terminal's slip)."""
    pid = _patient_scope(session, actor, A.PAYMENT_RECORD, patient_id, "billing.payment.record")
    assert actor is not None
    errors: dict[str, str] = {}
    cents = check.cents(amount, errors, "amount")
    if method not in METHODS:
        errors["method"] = "Choose cash, check or card."
    if method == "check" and not str(check_number or "").strip():
        errors["check_number"] = "Enter the check number."
    last4 = str(card_last4 or "").strip()
    if method == "card_desk" and not (len(last4) == 4 and last4.isdigit()):
        errors["card_last4"] = "Enter the last four digits from the terminal's slip."
    if errors:
        raise BillingInvalid(errors=errors)
    payment = Payment(patient_id=pid, kind="payment", method=method, amount_cents=cents,
                      receipt_number=_receipt_number(), check_number=str(check_number).strip()[:30] or None,
                      card_last4=last4 if method == "card_desk" else None, received_by=actor.user_id)
    session.add(payment)
    session.flush()
    ledger.allocate_payment(session, payment, entered_by=actor.user_id)
    audit.record(session, actor, "billing.payment.record", patient_id=pid, object_type="billing_payment",
                 object_id=payment.id, detail={"method": method})
    return _receipt(payment)


def refund_payment(session: Session, actor: Actor | None, *, patient_id: Any, payment_id: Any, amount: Any) -> Receipt:
    """Give back (part of) a payment; what it paid is owed again unless written off."""
    pid = _patient_scope(session, actor, A.PAYMENT_RECORD, patient_id, "billing.payment.refund")
    assert actor is not None
    original = session.get(Payment, _id(payment_id, "That payment"))
    if original is None or original.patient_id != pid or original.kind != "payment":
        raise BillingNotFound("That payment")
    errors: dict[str, str] = {}
    cents = check.cents(amount, errors, "amount")
    if errors:
        raise BillingInvalid(errors=errors)
    refund = Payment(patient_id=pid, kind="refund", method=original.method, amount_cents=cents,
                     receipt_number=_receipt_number(), refund_of=original.id, processor=original.processor,
                     card_last4=original.card_last4, card_brand=original.card_brand, received_by=actor.user_id)
    session.add(refund)
    session.flush()
    ledger.allocate_refund(session, refund, original, entered_by=actor.user_id)
    audit.record(session, actor, "billing.payment.refund", patient_id=pid, object_type="billing_payment",
                 object_id=refund.id, detail={"refund_of": str(original.id)})
    return _receipt(refund)


def adjust_patient_balance(session: Session, actor: Actor | None, *, patient_id: Any, charge_id: Any, amount: Any,
                           reason_code: str = "A2") -> None:
    """A write-off of what the patient owes on one charge (a hardship or small-balance adjustment)."""
    pid = _patient_scope(session, actor, A.PAYMENT_RECORD, patient_id, "billing.payment.adjust")
    assert actor is not None
    charge = session.get(Charge, _id(charge_id, "That charge"))
    if charge is None or charge.patient_id != pid:
        raise BillingNotFound("That charge")
    errors: dict[str, str] = {}
    cents = check.cents(amount, errors, "amount")
    if errors:
        raise BillingInvalid(errors=errors)
    if cents > charge.patient_balance_cents:
        raise ledger.Overdrawn(f"That is more than is owed on this charge ({check.money_text(charge.patient_balance_cents)}).")
    ledger.post(session, charge, bucket=PATIENT, kind=ADJUSTMENT, amount_cents=-cents, group_code="OA",
                reason_code=str(reason_code or "A2")[:5], entered_by=actor.user_id)
    audit.record(session, actor, "billing.payment.adjust", patient_id=pid, object_type="billing_charge",
                 object_id=charge.id)


# ---------------------------------------------------------------- A/R aging


BUCKET_EDGES = (30, 60, 90)


def _aging_buckets(column: Any, day: date) -> list[Any]:
    """Sums of `column` by the age of its charge on `day`: 0-30, 31-60, 61-90, 90+ days."""
    edges = [day - timedelta(days=n) for n in BUCKET_EDGES]
    return [func.coalesce(func.sum(case((cond, column), else_=0)), 0) for cond in (
        Charge.posted_on >= edges[0],
        (Charge.posted_on < edges[0]) & (Charge.posted_on >= edges[1]),
        (Charge.posted_on < edges[1]) & (Charge.posted_on >= edges[2]),
        Charge.posted_on < edges[2])]


def aging_by_payer(session: Session, *, as_of: date, rendering_provider_id: uuid.UUID | None = None
                   ) -> tuple[tuple[AgingRow, ...], tuple[int, int, int, int]]:
    """(what insurance owes by payer, largest first; what patients owe, in total) now, on the charges
    posted up to `as_of`, in the A/R aging's buckets — optionally of one rendering doctor's charges.
    No authorization: callers decide (``ar_aging`` here, the admins' reports)."""
    doctor = [Charge.posted_on <= as_of]
    if rendering_provider_id:
        doctor.append(Charge.rendering_provider_id == rendering_provider_id)
    payer_rows = session.exec(select(Charge.payer_id, *_aging_buckets(Charge.insurance_balance_cents, as_of))
                              .where(Charge.insurance_balance_cents > 0, *doctor).group_by(Charge.payer_id)).all()
    patients = session.exec(select(*_aging_buckets(Charge.patient_balance_cents, as_of))
                            .where(Charge.patient_balance_cents > 0, *doctor)).one()
    payers = _payers(session)
    by_payer = sorted((AgingRow(str(r[0]), payers[r[0]].name if r[0] in payers else "No payer",
                                tuple(int(x) for x in r[1:])) for r in payer_rows),  # type: ignore[arg-type]
                      key=lambda r: -r.total)
    return tuple(by_payer), tuple(int(x) for x in patients)  # type: ignore[return-value]


def ar_aging(session: Session, actor: Actor | None, *, as_of: date | None = None, limit: int = 50) -> Aging:
    """What is owed, aged from the day each charge was posted (0-30, 31-60, 61-90, 90+ days), by
    payer (waiting for insurance) and by patient (their balance); largest first."""
    _global(session, actor, A.BILLING_WORKLIST, "billing.ar.read")
    day = as_of or today()
    by_payer, patient_totals = aging_by_payer(session, as_of=day)
    patient_rows = session.exec(select(Charge.patient_id, *_aging_buckets(Charge.patient_balance_cents, day))
                                .where(Charge.patient_balance_cents > 0).group_by(Charge.patient_id)).all()
    by_patient_all = sorted((AgingRow(str(r[0]), "", tuple(int(x) for x in r[1:])) for r in patient_rows),  # type: ignore[arg-type]
                            key=lambda r: -r.total)
    top = by_patient_all[:limit]
    names = _names(session, {uuid.UUID(r.key) for r in top})
    by_patient = [AgingRow(r.key, names.get(uuid.UUID(r.key), ""), r.buckets) for r in top]
    totals = tuple(sum(r.buckets[i] for r in by_payer) + patient_totals[i] for i in range(4))
    audit.record(session, actor, "billing.ar.read", object_type="billing_ar",
                 detail={"payers": len(by_payer), "patients": len(by_patient)})
    return Aging(day, tuple(by_payer), tuple(by_patient), totals)  # type: ignore[arg-type]


# ---------------------------------------------------------------- what a screen reads in one call


def _coverage_views(session: Session, pid: uuid.UUID) -> list[CoverageView]:
    policies = _policies(session, pid)
    ids = [p.id for p in policies]
    coverages = {c.policy_id: c for c in session.exec(select(Coverage).where(
        Coverage.policy_id.in_(ids))).all()} if ids else {}  # type: ignore[attr-defined]
    checks: dict[uuid.UUID, EligibilityCheck] = {}
    if ids:
        for row in session.exec(select(EligibilityCheck).where(EligibilityCheck.policy_id.in_(ids))  # type: ignore[attr-defined]
                                .order_by(EligibilityCheck.created_at)).all():  # type: ignore[arg-type]
            checks[row.policy_id] = row  # the latest wins
    payers = _payers(session)
    out = []
    for p in policies:
        cov, last = coverages.get(p.id), checks.get(p.id)
        payer = payers.get(cov.payer_id) if cov else None
        out.append(CoverageView(
            policy_id=p.id, order=p.order, payer_text=p.payer or "", plan=p.plan or "", member_id=p.member_id or "",
            relationship=p.relationship or "self", payer_id=payer.id if payer else None,
            payer_name=payer.name if payer else "", copay_cents=cov.copay_cents if cov else 0,
            coinsurance_bp=cov.coinsurance_bp if cov else 0, deductible_cents=cov.deductible_cents if cov else 0,
            deductible_met_cents=cov.deductible_met_cents if cov else 0, oop_max_cents=cov.oop_max_cents if cov else 0,
            oop_met_cents=cov.oop_met_cents if cov else 0,
            eligibility=EligibilityView(last.active, last.plan or "", last.copay_cents, last.deductible_remaining_cents,
                                        last.oop_remaining_cents, tuple(last.notes or ()), last.created_at)
            if last else None))
    return out


def _billable_visits(session: Session, pid: uuid.UUID) -> list[BillableVisit]:
    notes = session.exec(select(VisitNote).where(VisitNote.patient_id == pid, VisitNote.status == SIGNED)).all()
    charged = set(session.exec(select(Charge.visit_id).where(Charge.patient_id == pid, Charge.voided == False,  # noqa: E712
                                                              Charge.visit_id.is_not(None))).all())  # type: ignore[union-attr]
    out = []
    for n in notes:
        try:
            day = datetime.fromisoformat(n.visit_at).astimezone(clinic_zone()).date()
        except (TypeError, ValueError):
            continue
        out.append(BillableVisit(n.id, day, n.author_name or "", tuple(
            f"{d.get('code', '')} {d.get('display', '')}".strip() for d in n.diagnoses or []), n.id in charged))
    return sorted(out, key=lambda v: v.day, reverse=True)[:20]


def account_page(session: Session, actor: Actor | None, *, patient_id: Any,
                 header_sections: tuple[str, ...] | list[str] = ()) -> AccountPage:
    """The chart's Billing page (staff, admins): coverage with its last eligibility answer, the
    signed visits to enter charges from (their diagnosis codes only), charges, claims and receipts.
    One audit event, naming what the chart header showed too (``patients.header.with_header``)."""
    pid = _patient_scope(session, actor, A.BILLING_ACCOUNT_READ, patient_id, "billing.account.read")
    assert actor is not None
    charges = session.exec(select(Charge).where(Charge.patient_id == pid, Charge.voided == False)  # noqa: E712
                           .order_by(Charge.posted_on.desc(), Charge.created_at.desc()).limit(100)).all()  # type: ignore[attr-defined]
    claims = _claim_items(session, select(Claim).where(Claim.patient_id == pid))
    visits = _billable_visits(session, pid) if actor.can(A.CHARGE_WRITE) else []
    balance = session.exec(select(func.coalesce(func.sum(Charge.patient_balance_cents), 0),
                                  func.coalesce(func.sum(Charge.insurance_balance_cents), 0))
                           .where(Charge.patient_id == pid, Charge.voided == False)).one()  # noqa: E712
    audit.record(session, actor, "billing.account.read", patient_id=pid, object_type="billing_charge",
                 detail={"charges": len(charges), "claims": len(claims), "header": list(header_sections)})
    return AccountPage(tuple(_coverage_views(session, pid)), tuple(visits), tuple(_charge_view(c) for c in charges),
                       tuple(claims), tuple(_receipts(session, pid)), int(balance[0]), int(balance[1]))


def balance(session: Session, actor: Actor | None, *, patient_id: Any) -> int:
    """What the patient owes now, in cents (their home page's "What you owe")."""
    pid = _patient_scope(session, actor, A.STATEMENT_READ, patient_id, "billing.balance.read")
    owed = ledger.patient_balance(session, pid)
    audit.record(session, actor, "billing.balance.read", patient_id=pid, object_type="billing_statement")
    return owed


def setup(session: Session, actor: Actor | None) -> SetupView:
    """The billing setup page (admins): payers, fee schedule, the clinic's numbers, each doctor's NPI."""
    _global(session, actor, A.BILLING_SETUP_WRITE, "billing.setup.read")
    from patient_portal.domain.identity.models import User

    payers = session.exec(select(Payer).order_by(Payer.name)).all()  # type: ignore[arg-type]
    fees = session.exec(select(FeeScheduleItem).order_by(FeeScheduleItem.code)).all()  # type: ignore[arg-type]
    row = session.exec(select(BillingProfile)).first()
    profile = {k: str(getattr(row, k) or "") for k in ("name", "npi", "tax_id", "taxonomy", "address_line1", "city",
                                                       "region", "postal_code", "phone")} if row else {}
    numbers = {p.user_id: p for p in session.exec(select(ProviderNumber)).all()}
    doctors = session.exec(select(User).where(User.role == "doctor", User.active == True)).all()  # noqa: E712
    providers = sorted((ProviderView(u.id, u.display_name or u.email, numbers[u.id].npi if u.id in numbers else "",
                                     numbers[u.id].taxonomy if u.id in numbers else "") for u in doctors),
                       key=lambda p: p.name)
    audit.record(session, actor, "billing.setup.read", object_type="billing_profile",
                 detail={"payers": len(payers), "fees": len(fees)})
    return SetupView(tuple(_payer_view(p) for p in payers),
                     tuple(FeeItem(f.code, f.description, f.price_cents, f.active) for f in fees), profile,
                     tuple(providers))


# ---------------------------------------------------------------- verification (portal billing verify)


def verify(session: Session) -> VerifyReport:
    """Prove every sum on the whole database (no actor: the CLI's operator check, read only):
    each charge's cached balances equal its ledger entries, no bucket is negative, each charge's
    opening entry is its amount, each claim's total equals its lines and each line its charge, each
    payment equals what it allocated, each remittance's posted claims equal its claim payments, and
    overall charges = insurance payments + adjustments + patient payments - refunds + balances."""
    report = VerifyReport()
    sums = defaultdict(lambda: defaultdict(int))
    for charge_id, kind, bucket, total in session.exec(
            select(LedgerEntry.charge_id, LedgerEntry.kind, LedgerEntry.bucket, func.sum(LedgerEntry.amount_cents))
            .group_by(LedgerEntry.charge_id, LedgerEntry.kind, LedgerEntry.bucket)).all():
        sums[charge_id][(kind, bucket)] += int(total or 0)
    totals = defaultdict(int)
    charges = session.exec(select(Charge.id, Charge.amount_cents, Charge.insurance_balance_cents,
                                  Charge.patient_balance_cents)).all()
    for cid, amount_cents, ins, pat in charges:
        s = sums[cid]
        ledger_ins = sum(v for (k, b), v in s.items() if b == INSURANCE)
        ledger_pat = sum(v for (k, b), v in s.items() if b == PATIENT)
        opened = s.get(("charge", INSURANCE), 0) + s.get(("charge", PATIENT), 0)
        if opened != amount_cents:
            report.problems.append(f"charge {cid}: opened at {opened} cents, its amount is {amount_cents}")
        if ledger_ins != ins or ledger_pat != pat:
            report.problems.append(f"charge {cid}: cached balances {ins}/{pat} differ from its ledger {ledger_ins}/{ledger_pat}")
        if ins < 0 or pat < 0:
            report.problems.append(f"charge {cid}: a negative balance")
        for (k, _b), v in s.items():
            totals[k] += v
        totals["balance"] += ins + pat
    # charges = payments + adjustments + balances (signs: entries that lower what is owed are negative)
    paid = -(totals[INSURANCE_PAYMENT] + totals[ADJUSTMENT] + totals[PATIENT_PAYMENT] + totals[REFUND])
    if totals["charge"] != paid + totals["balance"] or totals[PATIENT_SHARE] != 0:
        report.problems.append(f"ledger: charges {totals['charge']} != payments and adjustments {paid} "
                               f"+ balances {totals['balance']} (patient shares net {totals[PATIENT_SHARE]})")
    line_sums = dict(session.exec(select(ClaimLine.claim_id, func.sum(ClaimLine.charge_cents))
                                  .group_by(ClaimLine.claim_id)).all())
    claims = session.exec(select(Claim.id, Claim.total_cents)).all()
    for claim_id, total in claims:
        if int(line_sums.get(claim_id, 0) or 0) != total:
            report.problems.append(f"claim {claim_id}: total {total} != its lines {line_sums.get(claim_id, 0)}")
    line_charge = session.exec(select(ClaimLine.id, ClaimLine.charge_cents, Charge.amount_cents)
                               .join(Charge, Charge.id == ClaimLine.charge_id)).all()  # type: ignore[arg-type]
    for line_id, line_cents, charge_cents in line_charge:
        if line_cents != charge_cents:
            report.problems.append(f"claim line {line_id}: {line_cents} != its charge {charge_cents}")
    allocated = dict(session.exec(select(LedgerEntry.payment_id, func.sum(LedgerEntry.amount_cents))
                                  .where(LedgerEntry.payment_id.is_not(None))  # type: ignore[union-attr]
                                  .group_by(LedgerEntry.payment_id)).all())
    payments = session.exec(select(Payment.id, Payment.kind, Payment.amount_cents)).all()
    for pay_id, kind, cents in payments:
        moved = int(allocated.get(pay_id, 0) or 0)
        if (kind == "payment" and moved != -cents) or (kind == "refund" and moved != cents):
            report.problems.append(f"payment {pay_id}: {cents} cents but {abs(moved)} allocated")
    remit_sums = dict(session.exec(select(RemitClaim.remittance_id, func.sum(RemitClaim.paid_cents))
                                   .group_by(RemitClaim.remittance_id)).all())
    remits = session.exec(select(Remittance.id, Remittance.paid_cents, Remittance.provider_adjustment_cents)).all()
    for rid, paid_cents, plb in remits:
        claimed = int(remit_sums.get(rid, 0) or 0)
        if claimed - plb != paid_cents:
            report.problems.append(f"remittance {rid}: check {paid_cents} != claim payments {claimed} - PLB {plb}")
    posted = dict(session.exec(select(LedgerEntry.remittance_id, func.sum(LedgerEntry.amount_cents))
                               .where(LedgerEntry.kind == INSURANCE_PAYMENT, LedgerEntry.remittance_id.is_not(None))  # type: ignore[union-attr]
                               .group_by(LedgerEntry.remittance_id)).all())
    open_items = dict(session.exec(select(WorkItem.remittance_id, func.sum(WorkItem.amount_cents))
                                   .where(WorkItem.remittance_id.is_not(None))  # type: ignore[union-attr]
                                   .group_by(WorkItem.remittance_id)).all())
    for rid, _paid, _plb in remits:
        accounted = -int(posted.get(rid, 0) or 0) + int(open_items.get(rid, 0) or 0)
        if accounted != int(remit_sums.get(rid, 0) or 0):
            report.problems.append(f"remittance {rid}: paid {remit_sums.get(rid, 0)} but posted {-int(posted.get(rid, 0) or 0)}"
                                   f" and {int(open_items.get(rid, 0) or 0)} on the worklist")
    report.checked = {"charges": len(charges), "claims": len(claims), "payments": len(payments), "remittances": len(remits)}
    return report
