"""Money reconciles after any sequence of charges, insurance payments, adjustments, the patient's
share, patient payments, refunds and write-offs (hypothesis): ``verify`` finds nothing, no balance
goes below zero, a refused step (more than is owed, more than was paid) changes nothing, and the
sums a person would check add up (charges = payments + adjustments + balances)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from patient_portal.core.db import unit_of_work
from patient_portal.domain.billing import ledger
from patient_portal.domain.billing import service as billing
from patient_portal.domain.billing.models import ADJUSTMENT, INSURANCE, INSURANCE_PAYMENT, Charge, Payment
from tests.integration.billing_support import setup_clinic
from tests.integration.patients_support import call

OPS = ("charge", "insurance_payment", "contractual", "patient_share", "pay", "refund", "write_off")
STEPS = st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 120), st.integers(0, 7)), min_size=1, max_size=14)


@pytest.fixture
def money_clinic(db):
    return setup_clinic()


def _charges(pid):
    with unit_of_work() as s:
        return list(s.exec(select(Charge).where(Charge.patient_id == pid).order_by(Charge.created_at)).all())


def _balance(pid):
    return sum(c.patient_balance_cents for c in _charges(pid))


def _insurance_step(pid, pick, percent, kind):
    with unit_of_work() as s:
        charges = list(s.exec(select(Charge).where(Charge.patient_id == pid, Charge.insurance_balance_cents > 0)
                              .order_by(Charge.created_at)).all())
        if not charges:
            return
        charge = charges[pick % len(charges)]
        cents = charge.insurance_balance_cents * percent // 100
        if cents <= 0:
            return
        if cents > charge.insurance_balance_cents:  # more than the payer owes: refused, the unit rolls back
            with pytest.raises(ledger.Overdrawn):
                ledger.post(s, charge, bucket=INSURANCE, kind=INSURANCE_PAYMENT, amount_cents=-cents)
            s.rollback()
            return
        if kind == "patient_share":
            ledger.move_to_patient(s, charge, cents, group_code="PR", reason_code="2")
        else:
            ledger.post(s, charge, bucket=INSURANCE, kind=INSURANCE_PAYMENT if kind == "insurance_payment" else ADJUSTMENT,
                        amount_cents=-cents, group_code=None if kind == "insurance_payment" else "CO",
                        reason_code=None if kind == "insurance_payment" else "45")


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS)
def test_money_reconciles_after_any_sequence(money_clinic, steps):
    c = money_clinic
    pid, staff = c["omar"], c["staff"]
    codes = ["99213", "71046", "99401", "36415"]
    for op, percent, pick in steps:
        before = _balance(pid)
        if op == "charge":
            call(billing.add_charge, staff, patient_id=pid,
                 values={"code": codes[pick % 4], "units": str(1 + pick % 3), "service_date": "2026-02-01",
                         "diagnoses": "I10"})
        elif op in ("insurance_payment", "contractual", "patient_share"):
            _insurance_step(pid, pick, percent, op)
        elif op == "pay":
            cents = max(1, before * percent // 100)
            if cents > before:
                with pytest.raises(ledger.Overdrawn):
                    call(billing.record_payment, staff, patient_id=pid, amount=f"{cents / 100:.2f}", method="cash")
                assert _balance(pid) == before
            else:
                call(billing.record_payment, staff, patient_id=pid, amount=f"{cents / 100:.2f}", method="cash")
                assert _balance(pid) == before - cents
        elif op == "refund":
            with unit_of_work() as s:
                payments = list(s.exec(select(Payment).where(Payment.patient_id == pid, Payment.kind == "payment")
                                       .order_by(Payment.created_at)).all())
                held = sum(ledger.refundable(s, payments[pick % len(payments)]).values()) if payments else 0
            if not payments:
                continue
            cents = max(1, held * percent // 100)
            chosen = payments[pick % len(payments)]
            if cents > held:
                with pytest.raises(ledger.Overdrawn):
                    call(billing.refund_payment, staff, patient_id=pid, payment_id=chosen.id, amount=f"{cents / 100:.2f}")
                assert _balance(pid) == before
            else:
                call(billing.refund_payment, staff, patient_id=pid, payment_id=chosen.id, amount=f"{cents / 100:.2f}")
                assert _balance(pid) == before + cents
        elif op == "write_off":
            owing = [ch for ch in _charges(pid) if ch.patient_balance_cents > 0]
            if owing:
                target = owing[pick % len(owing)]
                cents = max(1, target.patient_balance_cents * percent // 100)
                if cents > target.patient_balance_cents:
                    with pytest.raises(ledger.Overdrawn):
                        call(billing.adjust_patient_balance, staff, patient_id=pid, charge_id=target.id,
                             amount=f"{cents / 100:.2f}")
                else:
                    call(billing.adjust_patient_balance, staff, patient_id=pid, charge_id=target.id,
                         amount=f"{cents / 100:.2f}")
        with unit_of_work() as s:
            report = billing.verify(s)
        assert report.ok, report.problems
        statement = call(billing.statement, staff, patient_id=pid)
        assert statement.total_charges_cents == (statement.insurance_paid_cents + statement.adjustments_cents
                                                 + statement.patient_paid_cents + statement.balance_cents
                                                 + statement.pending_insurance_cents)
        assert all(ch.patient_balance_cents >= 0 and ch.insurance_balance_cents >= 0 for ch in _charges(pid))


def test_a_payment_while_an_835_is_posted_waits_for_it_and_both_count(money_clinic):
    """The 835's posting reads charges and writes their balances back whole (``_Rows``): it locks them
    as it reads (PostgreSQL), so a patient's payment on the same charge waits and then pays from what
    the posting left — neither is lost. (SQLite's unit of work holds its write lock already.)"""
    import threading
    import time

    from sqlalchemy import update

    from patient_portal.core.crypto import plain_rows
    from patient_portal.core.db import get_engine
    from patient_portal.domain.billing.models import PATIENT, PATIENT_PAYMENT
    from tests.integration.billing_support import signed_visit, visit_charges

    if get_engine().dialect.name != "postgresql":
        pytest.skip("row locks are PostgreSQL's")
    c = money_clinic
    visit_charges(c, signed_visit(c))
    charge = _charges(c["elena"])[0]
    with unit_of_work() as s:
        ledger.move_to_patient(s, s.get(Charge, charge.id), 3000, group_code="PR", reason_code="1")
    locked = threading.Event()

    def posting() -> None:  # as an 835's posting: read the balance locked, write it back whole
        with unit_of_work() as s:
            [row] = plain_rows(s, Charge, ("patient_balance_cents",), lambda t: t.id == charge.id, lock=True)
            locked.set()
            time.sleep(0.5)
            s.execute(update(Charge).where(Charge.id == charge.id)
                      .values(patient_balance_cents=row["patient_balance_cents"] - 1000))

    worker = threading.Thread(target=posting)
    worker.start()
    assert locked.wait(10)
    with unit_of_work() as s:  # the patient pays 5 dollars meanwhile
        [owing] = [ch for ch in ledger.open_patient_charges(s, c["elena"]) if ch.id == charge.id]
        ledger.post(s, owing, bucket=PATIENT, kind=PATIENT_PAYMENT, amount_cents=-500)
    worker.join(10)
    assert [ch.patient_balance_cents for ch in _charges(c["elena"]) if ch.id == charge.id] == [3000 - 1000 - 500]
