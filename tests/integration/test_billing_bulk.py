"""A billing run, a submission and an 835's posting read and write plain rows in bulk (issue 14's
speed bars; ``billing.bulk``): what a user sees must be what the ORM path gave — claims readable with
their member ids decrypted, every patient's event audited with purpose "payment" on an intact
chain, a line without its control number matched by code, a session that held the rows sees the
new values, and a charge is billed once."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest
from sqlalchemy import text
from sqlmodel import select

from patient_portal.core import audit
from patient_portal.core.audit import AuditEvent
from patient_portal.core.db import unit_of_work
from patient_portal.core.errors import Conflict
from patient_portal.domain.billing import service as billing
from patient_portal.domain.billing.models import Charge, Claim, ClaimLine, WorkItem
from patient_portal.domain.insurance.models import InsurancePolicy
from tests.integration.billing_support import setup_clinic, signed_visit, visit_charges
from tests.integration.patients_support import call
from tests.integration.test_billing import _835, _remit, _verify


@pytest.fixture
def clinic(db):
    return setup_clinic()


def test_a_billing_run_writes_sealed_claims_and_audits_each_patient_on_an_intact_chain(clinic):
    c = clinic
    for pid in (c["elena"], c["omar"]):
        visit_charges(c, signed_visit(c, patient=pid))
    ids = call(billing.build_claims, c["staff"], patient_ids=[c["elena"], c["omar"]])
    call(billing.submit_claims, c["staff"], claim_ids=ids)
    call(billing.fetch_remittances, c["staff"])
    with unit_of_work() as s:
        claims = {k.patient_id: k for k in s.exec(select(Claim).where(Claim.id.in_(ids))).all()}  # type: ignore[attr-defined]
        members = {p.patient_id: p.member_id for p in s.exec(select(InsurancePolicy)).all()}
        assert {pid: k.member_id for pid, k in claims.items()} == {pid: members[pid] for pid in claims}
        raw = s.exec(text("SELECT member_id FROM billing_claim")).all()
        assert not {r[0] for r in raw} & set(members.values())  # ciphertext at rest
        events = s.exec(select(AuditEvent).where(AuditEvent.action.in_(  # type: ignore[attr-defined]
            ["billing.claim.create", "billing.claim.submit", "billing.remittance.post"]))).all()
        by_action: dict[str, set] = {}
        for e in events:
            assert e.purpose == "payment" and e.outcome == "success"
            by_action.setdefault(e.action, set()).add(e.patient_id)
        assert by_action["billing.claim.create"] == by_action["billing.claim.submit"] == {c["elena"], c["omar"]}
        assert {c["elena"], c["omar"]} <= by_action["billing.remittance.post"]
        assert audit.verify_chain(s, checkpoints=False).ok
    assert [e.to_status for e in call(billing.get_claim, c["staff"], claim_id=ids[0]).events][:4] == [
        "draft", "ready", "submitted", "acknowledged"]
    _verify()


def test_an_835_line_without_its_control_number_is_matched_by_code_and_amount(clinic):
    c = clinic
    visit_charges(c, signed_visit(c, patient=c["omar"]), lines=[{"code": "99213", "pointers": [1]}])
    claim = call(billing.build_claim, c["staff"], patient_id=c["omar"])
    call(billing.submit_claims, c["staff"], claim_ids=[claim.id])
    paid = _remit(claim.claim_number, "1", 10000, 2000, 3000)
    paid.lines = [replace(paid.lines[0], control="")]
    result = call(billing.post_835, c["staff"], text=_835("NOREF-1", [paid]))
    assert (result.claims_posted, result.unmatched, result.paid_cents) == (1, 0, 10000)
    view = call(billing.get_claim, c["staff"], claim_id=claim.id)
    assert view.status == "paid" and (view.lines[0].paid_cents, view.lines[0].patient_cents) == (10000, 2000)
    assert call(billing.balance, c["staff"], patient_id=c["omar"]) == 2000
    with unit_of_work() as s:
        assert not s.exec(select(WorkItem)).all()
    _verify()


def test_the_session_holding_the_rows_sees_what_a_run_a_submission_and_a_posting_wrote(clinic):
    c = clinic
    visit_charges(c, signed_visit(c, patient=c["omar"]), lines=[{"code": "99213", "pointers": [1]}])
    with unit_of_work() as s:
        [charge] = s.exec(select(Charge).where(Charge.patient_id == c["omar"])).all()
        assert charge.claim_id is None
        [claim_id] = billing.build_claims(s, c["staff"], patient_ids=[c["omar"]])
        assert charge.claim_id == claim_id
        claim = s.get(Claim, claim_id)
        assert claim.status == "ready"
        billing.submit_claims(s, c["staff"], claim_ids=[claim_id])
        assert claim.status == "acknowledged" and claim.billed_on is not None
        [line] = s.exec(select(ClaimLine).where(ClaimLine.claim_id == claim_id)).all()
        billing.fetch_remittances(s, c["staff"])
        assert claim.status == "paid" and line.status == "paid" and line.paid_cents > 0
        assert charge.insurance_balance_cents == 0 and charge.patient_balance_cents == line.patient_cents
    _verify()


def test_a_patient_named_twice_is_billed_once_and_a_charge_billed_meanwhile_stops_the_run(clinic, monkeypatch):
    c = clinic
    visit_charges(c, signed_visit(c, patient=c["omar"]), lines=[{"code": "99213", "pointers": [1]}])
    setup = billing._setup

    def another_run_bills_them_first(session):  # between the run's read of the charges and its write
        session.connection().execute(Charge.__table__.update().where(Charge.__table__.c.patient_id == c["omar"])
                                     .values(claim_id=uuid.uuid4()))
        return setup(session)

    monkeypatch.setattr(billing, "_setup", another_run_bills_them_first)
    with pytest.raises(Conflict, match="run the billing again"):
        call(billing.build_claims, c["staff"], patient_ids=[c["omar"]])
    monkeypatch.setattr(billing, "_setup", setup)
    with unit_of_work() as s:
        assert not s.exec(select(Claim)).all()
        assert {ch.claim_id for ch in s.exec(select(Charge)).all()} == {None}  # nothing of the run was written
    ids = call(billing.build_claims, c["staff"], patient_ids=[c["omar"], c["omar"]])
    assert len(ids) == 1 and call(billing.get_claim, c["staff"], claim_id=ids[0]).status == "ready"
    _verify()
