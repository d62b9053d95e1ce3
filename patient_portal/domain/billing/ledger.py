"""The money ledger's primitives, without policy (the service authorizes and audits).

Every change of what is owed on a charge is one ``LedgerEntry`` in the insurance or the patient
bucket, and the charge's cached balances move with it in the same statement list, so the sums
``portal billing verify`` checks always agree. A bucket never goes below zero: a posting that would
take more than is owed raises ``Overdrawn`` and nothing of it is written.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy import func
from sqlmodel import Session, select

from patient_portal.core import errors
from patient_portal.core.db import new_id, utcnow
from patient_portal.domain.billing import bulk
from patient_portal.domain.billing.models import (
    CHARGE,
    INSURANCE,
    PATIENT,
    PATIENT_PAYMENT,
    PATIENT_SHARE,
    REFUND,
    Charge,
    LedgerEntry,
    Payment,
)


class Overdrawn(errors.Invalid):
    """More than is owed (a payment larger than the balance, a refund larger than was paid)."""

    def __init__(self, message: str, field: str = "amount"):
        super().__init__(message, errors={field: message})


def _balance_attr(bucket: str) -> str:
    return "insurance_balance_cents" if bucket == INSURANCE else "patient_balance_cents"


def post(session: Session, charge: Charge, *, bucket: str, kind: str, amount_cents: int,
         claim_id: uuid.UUID | None = None, group_code: str | None = None, reason_code: str | None = None,
         remark_codes: Iterable[str] = (), remittance_id: uuid.UUID | None = None,
         payment_id: uuid.UUID | None = None, entered_by: uuid.UUID | None = None) -> LedgerEntry | None:
    """One entry on `charge` in `bucket` (+ owed more, - owed less), its cached balance moved with it
    (None inside ``batched``: the entry is a row until the batch ends). `charge` is a model, or a
    plain row with the same attributes whose balances the caller writes back."""
    attr = _balance_attr(bucket)
    after = getattr(charge, attr) + amount_cents
    if after < 0:
        raise Overdrawn("That is more than is owed on this charge.")
    setattr(charge, attr, after)
    if hasattr(charge, "_sa_instance_state"):  # else a plain row its caller writes back (an 835's posting)
        session.add(charge)
    values = {"patient_id": charge.patient_id, "charge_id": charge.id, "claim_id": claim_id or charge.claim_id,
              "bucket": bucket, "kind": kind, "amount_cents": amount_cents, "group_code": group_code,
              "reason_code": reason_code, "remark_codes": list(remark_codes), "remittance_id": remittance_id,
              "payment_id": payment_id, "entered_by": entered_by}
    pending = session.info.get(_BATCH)
    if pending is not None:  # a plain row, written in bulk when the batch ends (``batched``)
        now = utcnow()
        pending.append({"id": new_id(), "created_at": now, "updated_at": now, **values})
        return None
    entry = LedgerEntry(**values)
    session.add(entry)
    return entry


_BATCH = "billing_ledger_batch"
_ENTRIES = LedgerEntry.__table__  # type: ignore[attr-defined]


@contextmanager
def batched(session: Session) -> Iterator[None]:
    """Within this block ``post`` keeps its entries as rows and writes them all at the end in bulk
    (``bulk.insert``: one COPY on PostgreSQL) (an 835 of 5,000 claim payments makes tens of thousands of entries; ORM state
    for each would cost more than the posting). The charges' cached balances move as ever. Nothing
    in the block may read ledger entries back: they are not written until it ends. (Rows, not
    SQLModel objects: constructing one costs more than writing it.)"""
    if session.info.get(_BATCH) is not None:
        yield
        return
    rows: list[dict] = []
    session.info[_BATCH] = rows
    try:
        yield
        if rows:
            session.flush()
            bulk.insert(session, _ENTRIES, rows)
    finally:
        session.info.pop(_BATCH, None)


def open_charge(session: Session, charge: Charge, *, insured: bool, entered_by: uuid.UUID | None) -> None:
    """The charge's amount, owed by the payer when the patient is insured, else by the patient."""
    post(session, charge, bucket=INSURANCE if insured else PATIENT, kind=CHARGE, amount_cents=charge.amount_cents,
         entered_by=entered_by)


def move_to_patient(session: Session, charge: Charge, cents: int, **codes) -> None:
    """The payer says the patient owes `cents` of this charge (PR): insurance -> patient bucket."""
    post(session, charge, bucket=INSURANCE, kind=PATIENT_SHARE, amount_cents=-cents, **codes)
    post(session, charge, bucket=PATIENT, kind=PATIENT_SHARE, amount_cents=cents, **codes)


def move_to_insurance(session: Session, charge: Charge, cents: int, **codes) -> None:
    """A secondary payer is billed for `cents` the patient owes on this charge (what the primary
    left): patient -> insurance bucket, until the secondary payer's 835 pays it or moves it back."""
    post(session, charge, bucket=PATIENT, kind=PATIENT_SHARE, amount_cents=-cents, **codes)
    post(session, charge, bucket=INSURANCE, kind=PATIENT_SHARE, amount_cents=cents, **codes)


def open_patient_charges(session: Session, patient_id: uuid.UUID, *, for_update: bool = True) -> list[Charge]:
    """The patient's charges with something they owe, oldest first (the order a payment pays them)."""
    owing = (Charge.patient_id == patient_id, Charge.patient_balance_cents > 0)
    if for_update and session.get_bind().dialect.name == "postgresql":  # locked in id order, as an 835's posting
        session.exec(select(Charge.id).where(*owing).order_by(Charge.id).with_for_update())  # locks them: no deadlock
    return list(session.exec(select(Charge).where(*owing).order_by(
        Charge.posted_on, Charge.created_at, Charge.id)).all())  # type: ignore[arg-type]


def patient_balance(session: Session, patient_id: uuid.UUID) -> int:
    """What the patient owes now: one SUM over the cached balances (no charge is loaded or decrypted)."""
    return int(session.exec(select(func.coalesce(func.sum(Charge.patient_balance_cents), 0))
                            .where(Charge.patient_id == patient_id)).one())


def allocate_payment(session: Session, payment: Payment, *, entered_by: uuid.UUID | None) -> None:
    """Pay the patient's open charges oldest first with `payment`; refused (Overdrawn) when it is
    more than they owe."""
    charges = open_patient_charges(session, payment.patient_id)
    owed = sum(c.patient_balance_cents for c in charges)
    if payment.amount_cents > owed:
        from patient_portal.domain.billing.validation import money_text

        raise Overdrawn(f"That is more than the balance of {money_text(owed)}: enter {money_text(owed)} or less.")
    left = payment.amount_cents
    for charge in charges:
        if left == 0:
            break
        take = min(left, charge.patient_balance_cents)
        post(session, charge, bucket=PATIENT, kind=PATIENT_PAYMENT, amount_cents=-take, payment_id=payment.id,
             entered_by=entered_by)
        left -= take


def refundable(session: Session, payment: Payment) -> dict[uuid.UUID, int]:
    """What of `payment` each charge still holds (paid minus refunded already)."""
    rows = session.exec(select(LedgerEntry).where(
        (LedgerEntry.payment_id == payment.id) | (LedgerEntry.payment_id.in_(  # type: ignore[attr-defined]
            select(Payment.id).where(Payment.refund_of == payment.id))))).all()
    held: dict[uuid.UUID, int] = {}
    for entry in rows:
        held[entry.charge_id] = held.get(entry.charge_id, 0) - entry.amount_cents
    return {k: v for k, v in held.items() if v > 0}


def allocate_refund(session: Session, refund: Payment, original: Payment, *, entered_by: uuid.UUID | None) -> None:
    """Give back `refund.amount_cents` of `original`: newest charges first, each at most what the
    original paid on it; the amounts are owed again (a write-off is a separate adjustment)."""
    held = refundable(session, original)
    if refund.amount_cents > sum(held.values()):
        from patient_portal.domain.billing.validation import money_text

        raise Overdrawn(f"That is more than is left to refund of this payment ({money_text(sum(held.values()))}).")
    charges = {c.id: c for c in session.exec(select(Charge).where(Charge.id.in_(list(held)))).all()}  # type: ignore[attr-defined]
    left = refund.amount_cents
    for charge_id in sorted(held, key=lambda cid: (charges[cid].posted_on, charges[cid].created_at), reverse=True):
        if left == 0:
            break
        give = min(left, held[charge_id])
        post(session, charges[charge_id], bucket=PATIENT, kind=REFUND, amount_cents=give, payment_id=refund.id,
             entered_by=entered_by)
        left -= give
