"""Secondary claims (issue 14, coordination of benefits): after the primary payer's 835 has posted,
staff make the secondary claim from the primary; it goes to the secondary payer with the primary's
payment and adjustments (837P loops 2320/2330A/2330B and 2430 SVD/CAS/DTP*573), passes the
independent X12 validator, is adjudicated by the simulated payer on the balance the primary left,
its 835 posts, and the money reconciles (`verify`). Staff and admins may; doctors and patients may
not, nor with another patient's ids; a patient without a secondary policy gets a clear message."""

from __future__ import annotations

import pytest
from sqlmodel import select

from patient_portal.core.access import AccessDenied
from patient_portal.core.db import unit_of_work
from patient_portal.domain.billing import service as billing
from patient_portal.domain.billing import x12
from patient_portal.domain.billing.dto import BillingInvalid, WrongStatus
from patient_portal.domain.billing.models import ClearinghouseFile
from patient_portal.domain.insurance.models import InsurancePolicy
from tests.integration.billing_support import PAYER, setup_clinic, signed_visit, visit_charges
from tests.integration.patients_support import call
from tests.integration.test_billing import _pyx12_errors, _verify

SECOND_PAYER = {**PAYER, "payer_code": "SECPAY", "name": "Second Mutual", "filing_code": "CI"}


@pytest.fixture
def clinic(db):
    c = setup_clinic()
    c["second"] = call(billing.save_payer, c["admin"], values=SECOND_PAYER)
    with unit_of_work() as s:  # Omar's second policy, from his spouse's employer, with the second payer
        policy = InsurancePolicy(patient_id=c["omar"], order="secondary", payer="Second Mutual", plan="HMO",
                                 member_id="S-7007", group_number="G55", relationship="self")
        s.add(policy)
        s.flush()
        c["second_policy"] = policy.id
    call(billing.save_coverage, c["staff"], patient_id=c["omar"], policy_id=c["second_policy"],
         values={"payer_id": str(c["second"].id), "coinsurance": "20"})
    return c


def _paid_primary(c, patient=None, lines=None):
    """A claim from a signed visit, submitted, its 835 fetched and posted: the primary has paid."""
    pid = patient or c["omar"]
    note = signed_visit(c, patient=pid)
    visit_charges(c, note, lines)
    claim = call(billing.build_claim, c["staff"], patient_id=pid)
    call(billing.submit_claims, c["staff"], claim_ids=[claim.id])
    [posted] = call(billing.fetch_remittances, c["staff"])
    assert posted.claims_posted == 1
    return call(billing.get_claim, c["staff"], claim_id=claim.id)


def test_a_secondary_claim_bills_what_the_primary_left_and_its_835_posts(clinic):
    c = clinic
    primary = _paid_primary(c)
    assert primary.status == "paid" and primary.has_secondary_coverage and primary.secondary_claim_id is None
    before = call(billing.statement, c["staff"], patient_id=c["omar"])
    assert before.balance_cents == 2400 + 1920  # the primary's coinsurance on both lines (PR-2)

    second = call(billing.create_secondary_claim, c["staff"], claim_id=primary.id)
    assert second.sequence == "secondary" and second.payer_name == "Second Mutual" and second.status == "ready"
    assert second.primary_claim_id == primary.id and second.primary_claim_number == primary.claim_number
    assert second.total_cents == 27000 and second.billed_balance_cents == 4320  # full charges; bills the balance
    assert call(billing.statement, c["staff"], patient_id=c["omar"]).balance_cents == 0  # waiting for the payer
    assert call(billing.get_claim, c["staff"], claim_id=primary.id).secondary_claim_number == second.claim_number
    with pytest.raises(BillingInvalid) as twice:
        call(billing.create_secondary_claim, c["admin"], claim_id=primary.id)
    assert f"already has a secondary claim ({second.claim_number})" in str(twice.value)

    files = call(billing.export_837p, c["staff"], claim_ids=[second.id])
    [text] = files.values()
    assert list(files) == ["SECPAY"] and _pyx12_errors(text) == []
    segs = [s.strip() for s in text.split("~")]
    assert "SBR*S*18*G55******CI" in segs and "SBR*P*18*******CI" in segs  # billed as secondary; 2320: the primary
    assert "AMT*D*172.8" in segs and "AMT*EAF*43.2" in segs and "OI***Y*P**Y" in segs
    assert "NM1*PR*2*SIMULATED HEALTH PLAN*****PI*SIMPAY" in segs  # 2330B
    assert "NM1*IL*1*HADDAD*OMAR****MI*M-2002" in segs  # 2330A
    assert "SVD*SIMPAY*96*HC:99213**1" in segs and "CAS*CO*45*30" in segs and "CAS*PR*2*24" in segs  # 2430
    assert sum(1 for s in segs if s.startswith("DTP*573*D8*")) == 2
    read = x12.read_837p(text).claims[0]  # as the payer reads it
    assert read.sequence == "secondary" and read.prior_paid_cents == 17280 and read.prior_payer_code == "SIMPAY"
    assert [ln.left_to_patient_cents for ln in read.lines] == [2400, 1920]

    sent = call(billing.submit_claims, c["staff"], claim_ids=[second.id])
    assert sent.accepted == (second.claim_number,)
    [posted] = call(billing.fetch_remittances, c["staff"])
    assert posted.claims_posted == 1 and posted.unmatched == 0 and posted.paid_cents == 1920 + 1536
    with unit_of_work() as s:  # the secondary payer's 835 is valid X12 too, processed as secondary (CLP02 2)
        remit = s.exec(select(ClearinghouseFile).where(ClearinghouseFile.kind == "835")
                       .order_by(ClearinghouseFile.created_at.desc())).first().content
    assert _pyx12_errors(remit) == [] and "*2*270*34.56*8.64*" in remit.replace("\n", "")

    view = call(billing.get_claim, c["staff"], claim_id=second.id)
    office, xray = view.lines
    assert view.status == "paid" and office.paid_cents == 1920 and office.patient_cents == 480
    assert office.adjusted_cents == 0 and "OA-23 Paid or adjusted by the primary payer" in office.reasons
    after = call(billing.statement, c["omar_patient"], patient_id=c["omar"])
    assert after.balance_cents == 480 + 384  # the secondary's 20 % of the balance
    assert after.insurance_paid_cents == 9600 + 7680 + 1920 + 1536
    assert after.total_charges_cents == 27000 == (after.insurance_paid_cents + after.adjustments_cents
                                                  + after.patient_paid_cents + after.balance_cents)
    aging = call(billing.ar_aging, c["staff"])
    assert sum(r.total for r in aging.by_payer) == 0  # nothing waits for either payer
    _verify()


def test_a_secondary_claim_needs_a_paid_primary_a_secondary_policy_and_a_balance(clinic):
    c = clinic
    # Elena has only a primary policy: a clear message, and the claim says so for the screen
    note = signed_visit(c)
    visit_charges(c, note, [{"code": "99213", "pointers": [1]}])
    elena = call(billing.build_claim, c["staff"], patient_id=c["elena"])
    with pytest.raises(WrongStatus) as early:  # not paid yet
        call(billing.create_secondary_claim, c["staff"], claim_id=elena.id)
    assert "until the primary payer has paid it" in str(early.value)
    call(billing.submit_claims, c["staff"], claim_ids=[elena.id])
    call(billing.fetch_remittances, c["staff"])
    paid = call(billing.get_claim, c["staff"], claim_id=elena.id)
    assert paid.status == "paid" and not paid.has_secondary_coverage
    with pytest.raises(BillingInvalid) as none:
        call(billing.create_secondary_claim, c["staff"], claim_id=elena.id)
    assert "no secondary insurance" in str(none.value) and none.value.errors["coverage"]

    # Omar paid his share at the desk before the secondary was billed: nothing is left to bill
    primary = _paid_primary(c)
    call(billing.record_payment, c["staff"], patient_id=c["omar"], amount="43.20", method="cash")
    with pytest.raises(BillingInvalid) as nothing:
        call(billing.create_secondary_claim, c["staff"], claim_id=primary.id)
    assert "Nothing is left for a secondary payer" in str(nothing.value)
    _verify()


def test_only_the_lines_the_primary_paid_go_to_the_secondary(clinic):
    c = clinic
    # Omar's primary member id needs prior authorization for imaging: the X-ray is denied
    with unit_of_work() as s:
        policy = s.exec(select(InsurancePolicy).where(InsurancePolicy.patient_id == c["omar"],
                                                      InsurancePolicy.order == "primary")).one()
        policy.member_id = "PA-2002"
        s.add(policy)
    primary = _paid_primary(c)
    assert primary.status == "partial"
    second = call(billing.create_secondary_claim, c["staff"], claim_id=primary.id)
    assert [ln.code for ln in second.lines] == ["99213"] and second.billed_balance_cents == 2400
    # the denied X-ray stays on the primary, to be appealed there; closing the primary writes off only it
    assert [d.claim_number for d in call(billing.denial_worklist, c["staff"])] == [primary.claim_number]
    [text] = call(billing.export_837p, c["staff"], claim_ids=[second.id]).values()
    assert _pyx12_errors(text) == []
    call(billing.submit_claims, c["staff"], claim_ids=[second.id])
    call(billing.fetch_remittances, c["staff"])
    assert call(billing.get_claim, c["staff"], claim_id=second.id).status == "paid"
    closed = call(billing.close_claim, c["staff"], claim_id=primary.id, write_off=True)
    assert closed.status == "closed"
    statement = call(billing.statement, c["staff"], patient_id=c["omar"])
    assert statement.balance_cents == 480 and statement.pending_insurance_cents == 0
    _verify()


def test_who_may_make_a_secondary_claim(clinic):
    c = clinic
    primary = _paid_primary(c)
    for who in ("doc", "patient", "omar_patient", "outsider"):
        with pytest.raises(AccessDenied):
            call(billing.create_secondary_claim, c[who], claim_id=primary.id)
    with pytest.raises(AccessDenied):  # a made-up id is refused the same way to a role that may not act
        call(billing.create_secondary_claim, c["patient"], claim_id="00000000-0000-0000-0000-000000000000")
    assert call(billing.create_secondary_claim, c["admin"], claim_id=primary.id).sequence == "secondary"
    # staff on another patient's claim id: the claim decides the patient, never the caller
    other = _paid_primary(c, patient=c["elena"], lines=[{"code": "99213", "pointers": [1]}])
    with pytest.raises(BillingInvalid):  # Elena has no secondary policy: Omar's is never used for her
        call(billing.create_secondary_claim, c["staff"], claim_id=other.id)
    _verify()
