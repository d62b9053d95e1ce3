"""Billing at the service layer (issue 14): a claim from a signed visit through the simulated payer's
denial for missing prior authorization, the denial worklist with its deadline, the appeal letter, the
appeal paid and posted, the patient's statement and online payment; the 837P and 835 accepted by an
independent X12 validator (pyx12); 835 posting idempotent, unmatched payments on the worklist; clear
messages for bad input; every role allowed and denied, with another patient's ids; purpose "payment"."""

from __future__ import annotations

import io
import json
import uuid

import pytest
from sqlmodel import select

from patient_portal.core.access import AccessDenied
from patient_portal.core.audit import AuditEvent
from patient_portal.core.db import unit_of_work
from patient_portal.domain.billing import service as billing
from patient_portal.domain.billing.dto import BillingInvalid, PaymentDeclined
from patient_portal.domain.billing.ledger import Overdrawn
from patient_portal.domain.billing.models import ClearinghouseFile, Payment, WorkItem
from tests.integration.billing_support import setup_clinic, signed_visit, visit_charges
from tests.integration.patients_support import call

CARD = {"card_number": "4242 4242 4242 4242", "exp_month": "12", "exp_year": "2035", "cvc": "123"}


@pytest.fixture
def clinic(db):
    return setup_clinic()


def _claim(c, patient=None):
    note = signed_visit(c, patient=patient)
    visit_charges(c, note)
    return call(billing.build_claim, c["staff"], patient_id=patient or c["elena"])


def _verify():
    with unit_of_work() as s:
        report = billing.verify(s)
    assert report.ok, report.problems
    return report


def _pyx12_errors(text: str) -> list:
    import pyx12.params
    import pyx12.x12n_document

    out = io.StringIO()
    ok = pyx12.x12n_document.x12n_document(pyx12.params.params(), io.StringIO(text), io.StringIO(), None, None, out)
    report = json.loads(out.getvalue())
    problems = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("errors"):
                problems.extend(node["errors"])
            if node.get("ack_code") not in (None, "A"):
                problems.append(f"ack {node.get('ack_code')}")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(report)
    return problems if ok or problems else ["pyx12 said the file is not valid"]


# ---------------------------------------------------------------- the whole story


def test_claim_denied_for_prior_authorization_appealed_paid_and_the_patient_pays(clinic):
    c = clinic
    claim = _claim(c)
    assert claim.status == "ready" and claim.total_cents == 27000 and claim.diagnoses == ("R05.9", "I10")
    sent = call(billing.submit_claims, c["staff"], claim_ids=[claim.id])
    assert sent.accepted == (claim.claim_number,)
    [posted] = call(billing.fetch_remittances, c["staff"])
    assert posted.claims_posted == 1 and posted.unmatched == 0 and posted.paid_cents == 9600

    view = call(billing.get_claim, c["staff"], claim_id=claim.id)
    office, xray = view.lines
    assert view.status == "partial"
    assert office.status == "paid" and office.paid_cents == 9600 and office.patient_cents == 2400
    assert xray.status == "denied" and xray.reasons == ("CO-197 Prior authorization missing",) and xray.remarks == ("M62",)
    [denial] = call(billing.denial_worklist, c["staff"])
    assert denial.claim_number == claim.claim_number and denial.denied_cents == 12000
    assert denial.days_left == 120 and denial.deadline == view.appeal_deadline  # the payer's first level: 120 days

    appeal = call(billing.create_appeal, c["staff"], claim_id=claim.id, note="Three weeks of cough: the X-ray was needed.")
    letter = call(billing.appeal_letter, c["staff"], appeal_id=appeal.id)
    assert letter.startswith(b"%PDF") and claim.claim_number.encode() in letter and b"71046" in letter
    assert call(billing.submit_appeal, c["staff"], appeal_id=appeal.id).status == "appealed"
    assert call(billing.denial_worklist, c["staff"]) == []
    call(billing.fetch_remittances, c["staff"])
    view = call(billing.get_claim, c["staff"], claim_id=claim.id)
    assert view.status == "paid" and view.appeals[0].status == "won"
    assert [e.to_status for e in view.events] == ["draft", "ready", "submitted", "acknowledged", "partial",
                                                   "appealed", "paid"]
    assert {e.who for e in view.events} >= {"Simulated payer", "Test staff"}

    statement = call(billing.statement, c["patient"], patient_id=c["elena"])
    assert statement.balance_cents == 2400 + 1920 and statement.insurance_paid_cents == 9600 + 7680
    assert statement.total_charges_cents == 27000 == (statement.insurance_paid_cents + statement.adjustments_cents
                                                      + statement.patient_paid_cents + statement.balance_cents)
    with pytest.raises(Overdrawn) as too_much:
        call(billing.pay_statement, c["patient"], patient_id=c["elena"], amount="50.00", **CARD)
    assert "more than your balance of $43.20" in str(too_much.value)
    receipt = call(billing.pay_statement, c["patient"], patient_id=c["elena"], amount="43.20", **CARD)
    assert receipt.card_last4 == "4242" and receipt.amount_cents == 4320
    after = call(billing.statement, c["patient"], patient_id=c["elena"])
    assert after.balance_cents == 0 and after.receipts[0].receipt_number == receipt.receipt_number
    with unit_of_work() as s:
        stored = s.exec(select(Payment)).one()
        assert stored.processor_token.startswith("tok_test_") and stored.card_last4 == "4242"
        assert "4242424242424242" not in json.dumps(stored.model_dump(mode="json"))
    _verify()


def test_the_837p_and_835_pass_the_independent_pyx12_validator(clinic):
    c = clinic
    claim = _claim(c)
    dependant = _claim(c, patient=c["omar"])
    [text] = call(billing.export_837p, c["staff"], claim_ids=[claim.id, dependant.id]).values()
    assert text.count("CLM*") == 2 and "HI*ABK:R059*ABF:I10" in text and "NM1*82*1*AUTHOR*ADA****XX*1245319599" in text
    assert _pyx12_errors(text) == []
    # x12sdk, a second independent reader, finds both claims with their totals
    from x12sdk.io import X12ModelReader

    with X12ModelReader(text.replace("X222A1", "X222A2")) as reader:
        found = {cl.patient_control_number: cl.charge for m in reader.models() for cl in m.claims()}
    assert set(found) == {claim.claim_number, dependant.claim_number}
    call(billing.submit_claims, c["staff"], claim_ids=[claim.id, dependant.id])
    with unit_of_work() as s:
        [remit] = s.exec(select(ClearinghouseFile).where(ClearinghouseFile.kind == "835")).all()
        assert _pyx12_errors(remit.content) == []


# ---------------------------------------------------------------- remittance


def test_posting_the_same_835_twice_posts_nothing_twice(clinic):
    c = clinic
    claim = _claim(c, patient=c["omar"])
    call(billing.submit_claims, c["staff"], claim_ids=[claim.id])
    with unit_of_work() as s:
        text = s.exec(select(ClearinghouseFile).where(ClearinghouseFile.kind == "835")).one().content
    first = call(billing.post_835, c["staff"], text=text)
    again = call(billing.post_835, c["staff"], text=text)
    resent = call(billing.fetch_remittances, c["staff"])  # the clearinghouse hands over the same file
    assert first.claims_posted == 1 and again.already_posted and resent[0].already_posted
    statement = call(billing.statement, c["staff"], patient_id=c["omar"])
    assert statement.insurance_paid_cents == 9600 + 7680 and statement.balance_cents == 2400 + 1920
    _verify()


def test_an_835_for_claims_that_do_not_exist_goes_to_the_worklist(clinic):
    c = clinic
    from x12sdk.generate import generate_835

    text = generate_835(seed=7, claims=3)
    result = call(billing.post_835, c["staff"], text=text)
    assert result.unmatched == 3 and result.claims_posted == 0
    items = call(billing.remittance_worklist, c["staff"])
    assert len(items) == 3 and {i.kind for i in items} == {"unmatched_claim"}
    call(billing.resolve_work_item, c["staff"], item_id=items[0].id)
    assert len(call(billing.remittance_worklist, c["staff"])) == 2
    with pytest.raises(BillingInvalid) as bad:
        call(billing.post_835, c["staff"], text="hello")
    assert "not an X12 file" in str(bad.value)
    _verify()


# ---------------------------------------------------------------- validation messages


def test_a_claim_without_a_diagnosis_is_refused_with_a_clear_message(clinic):
    c = clinic
    note = signed_visit(c, diagnoses=[])
    visit_charges(c, note, lines=[{"code": "99213"}])
    claim = call(billing.build_claim, c["staff"], patient_id=c["elena"])
    assert claim.status == "draft" and "no diagnosis" in claim.problems["diagnoses"]
    from patient_portal.domain.billing.dto import WrongStatus

    with pytest.raises(WrongStatus):
        call(billing.submit_claims, c["staff"], claim_ids=[claim.id])


def test_an_npi_that_fails_its_check_digit_is_refused(clinic):
    with pytest.raises(BillingInvalid) as bad:
        call(billing.save_provider_number, clinic["admin"], user_id=uuid.uuid4(),
             values={"family_name": "X", "npi": "1245319590", "taxonomy": "207Q00000X"})
    assert bad.value.errors["npi"] == "This NPI fails its check digit: check for a mistyped digit."


def test_timely_filing_inactive_members_and_charges_need_a_signed_visit(clinic):
    c = clinic
    from patient_portal.domain.visits import service as visits

    draft_note = call(visits.create_note, c["doc"], patient_id=c["elena"],
                      values={"visit_at": "2026-01-10T09:00", "reason": "Check"})
    with pytest.raises(BillingInvalid) as unsigned:
        visit_charges(c, draft_note)
    assert "signed" in str(unsigned.value)
    call(billing.save_payer, c["admin"], payer_id=c["payer"].id, values={**_payer(c), "timely_filing_days": "90"})
    old = call(billing.add_charge, c["staff"], patient_id=c["omar"],
               values={"code": "99213", "service_date": "2026-01-02", "diagnoses": "I10"})
    claim = call(billing.build_claim, c["staff"], patient_id=c["omar"], charge_ids=[old.id])
    assert claim.status == "draft" and "Too late to file" in claim.problems["timely_filing"]


def _payer(c):
    from tests.integration.billing_support import PAYER

    return PAYER


def test_a_declined_card_and_a_bad_card_number_say_what_to_do(clinic):
    c = clinic
    call(billing.add_charge, c["staff"], patient_id=c["elena"], values={"code": "36415", "service_date": "2026-02-01",
                                                                     "diagnoses": "I10"})
    with unit_of_work() as s:  # make it the patient's to pay (a self-pay charge)
        from patient_portal.domain.billing import ledger
        from patient_portal.domain.billing.models import INSURANCE, PATIENT_SHARE, Charge

        charge = s.exec(select(Charge)).one()
        ledger.move_to_patient(s, charge, 2000, group_code="PR", reason_code="1")
        assert charge.insurance_balance_cents == 0 and PATIENT_SHARE and INSURANCE
    with pytest.raises(PaymentDeclined) as declined:
        call(billing.pay_statement, c["patient"], patient_id=c["elena"], amount="20", **{**CARD, "card_number": "4000000000000002"})
    assert "declined" in str(declined.value)
    with pytest.raises(PaymentDeclined) as typo:
        call(billing.pay_statement, c["patient"], patient_id=c["elena"], amount="20", **{**CARD, "card_number": "4242424242424241"})
    assert typo.value.errors == {"card_number": "Check the card number: it is not a valid card number."}
    with unit_of_work() as s:
        assert s.exec(select(Payment)).all() == []
    desk = call(billing.record_payment, c["staff"], patient_id=c["elena"], amount="20", method="cash")
    refund = call(billing.refund_payment, c["staff"], patient_id=c["elena"], payment_id=desk.id, amount="5")
    assert refund.kind == "refund"
    with pytest.raises(Overdrawn):
        call(billing.refund_payment, c["staff"], patient_id=c["elena"], payment_id=desk.id, amount="16")
    assert call(billing.statement, c["staff"], patient_id=c["elena"]).balance_cents == 500
    _verify()


def test_an_inactive_member_is_rejected_and_eligibility_says_so(clinic):
    c = clinic
    from patient_portal.domain.insurance import service as insurance
    from tests.integration.billing_support import policy_of

    policy = policy_of(c["omar"])
    with unit_of_work() as s:
        p = s.get(type(policy), policy.id)
        p.member_id = "INA-3003"
        s.add(p)
    answer = call(billing.check_eligibility, c["staff"], patient_id=c["omar"], policy_id=policy.id)
    assert answer.active is False and answer.checked_at is not None
    claim = _claim(c, patient=c["omar"])
    result = call(billing.submit_claims, c["staff"], claim_ids=[claim.id])
    assert result.rejected == (claim.claim_number,)
    assert call(billing.get_claim, c["staff"], claim_id=claim.id).status == "rejected"
    assert insurance  # the insurance area keeps the policy; billing only reads it


# ---------------------------------------------------------------- who may do what


def test_roles_allowed_and_denied_with_another_patients_ids(clinic):
    c = clinic
    claim = _claim(c)
    omar_claim = _claim(c, patient=c["omar"])
    call(billing.submit_claims, c["staff"], claim_ids=[claim.id, omar_claim.id])
    call(billing.fetch_remittances, c["admin"])

    # staff and admins process insurance; a doctor and a patient do not
    for who in ("staff", "admin"):
        assert call(billing.get_claim, c[who], claim_id=claim.id).claim_number == claim.claim_number
        assert call(billing.ar_aging, c[who]).by_payer
        assert call(billing.account, c[who], patient_id=c["omar"])[1]
    for who in ("doc", "patient"):
        for fn, kw in ((billing.get_claim, {"claim_id": claim.id}), (billing.ar_aging, {}),
                       (billing.denial_worklist, {}), (billing.post_835, {"text": "x"}),
                       (billing.build_claim, {"patient_id": c["elena"]}),
                       (billing.record_payment, {"patient_id": c["elena"], "amount": "1", "method": "cash"})):
            with pytest.raises(AccessDenied):
                call(fn, c[who], **kw)
    # only admins keep the payer list and fee schedule
    with pytest.raises(AccessDenied):
        call(billing.save_fee, c["staff"], values={"code": "99214", "description": "x", "price": "1"})
    assert call(billing.fee_schedule, c["staff"])
    # a doctor sees the charges of their own visits, another doctor none
    mine = call(billing.own_charges, c["doc"])
    assert {name for name, _ in mine} == {"Elena Marsh", "Omar Haddad"} and len(mine) == 4
    assert call(billing.own_charges, c["outsider"]) == []
    with pytest.raises(AccessDenied):
        call(billing.own_charges, c["staff"])
    # a patient sees and pays their own statement, never another's
    assert call(billing.statement, c["patient"], patient_id=c["elena"]).balance_cents > 0
    for fn, kw in ((billing.statement, {}), (billing.statement_pdf, {}),
                   (billing.pay_statement, {"amount": "1", **CARD})):
        with pytest.raises(AccessDenied):
            call(fn, c["patient"], patient_id=c["omar"], **kw)
    with pytest.raises(AccessDenied):  # staff record desk payments; paying online is the patient's own
        call(billing.pay_statement, c["staff"], patient_id=c["elena"], amount="1", **CARD)
    with pytest.raises(AccessDenied):
        call(billing.statement, c["doc"], patient_id=c["elena"])
    assert call(billing.statement_pdf, c["patient"], patient_id=c["elena"]).startswith(b"%PDF")


def test_every_billing_event_is_audited_with_purpose_payment(clinic):
    c = clinic
    claim = _claim(c)
    call(billing.get_claim, c["staff"], claim_id=claim.id)
    call(billing.statement, c["patient"], patient_id=c["elena"])
    with pytest.raises(AccessDenied):
        call(billing.statement, c["omar_patient"], patient_id=c["elena"])
    with unit_of_work() as s:
        events = s.exec(select(AuditEvent).where(AuditEvent.action.like("billing.%"))).all()  # type: ignore[attr-defined]
    allowed = [e for e in events if e.outcome == "success"]
    assert {e.action for e in allowed} >= {"billing.claim.create", "billing.claim.read", "billing.statement.read",
                                           "billing.charge.create", "billing.coverage.save", "billing.payer.save"}
    assert {e.purpose for e in allowed} == {"payment"}
    assert any(e.outcome == "denied" and e.action == "billing.statement.read" for e in events)
    text = json.dumps([e.detail for e in events])
    assert "Elena" not in text and "Marsh" not in text and "PA-1001" not in text and "R05.9" not in text


def test_the_worklist_row_in_the_database_holds_no_patient_name(clinic):
    c = clinic
    from x12sdk.generate import generate_835

    call(billing.post_835, c["staff"], text=generate_835(seed=3, claims=1))
    with unit_of_work() as s:
        assert s.exec(select(WorkItem)).one().kind == "unmatched_claim"


def test_portal_billing_verify_proves_the_sums_and_finds_a_tampered_balance(clinic, capsys):
    from patient_portal import cli
    from patient_portal.domain.billing.models import Charge

    c = clinic
    claim = _claim(c)
    call(billing.submit_claims, c["staff"], claim_ids=[claim.id])
    call(billing.fetch_remittances, c["staff"])
    assert cli.main(["billing", "verify"]) == 0
    assert "billing reconciles: 2 charges, 1 claims" in capsys.readouterr().out
    with unit_of_work() as s:
        charge = s.exec(select(Charge)).first()
        charge.patient_balance_cents += 1
        s.add(charge)
    assert cli.main(["billing", "verify"]) == 2
    assert "differ from its ledger" in capsys.readouterr().err


def test_building_claims_for_many_patients_at_once_is_the_same_as_one_by_one(clinic):
    c = clinic
    for pid in (c["elena"], c["omar"]):
        visit_charges(c, signed_visit(c, patient=pid))
    ids = call(billing.build_claims, c["staff"], patient_ids=[c["elena"], c["omar"]])
    views = [call(billing.get_claim, c["staff"], claim_id=i) for i in ids]
    assert [v.status for v in views] == ["ready", "ready"] and [v.total_cents for v in views] == [27000, 27000]
    assert [e.to_status for e in views[0].events] == ["draft", "ready"]
    assert call(billing.build_claims, c["staff"], patient_ids=[c["elena"]]) == []  # nothing left unbilled
    with pytest.raises(AccessDenied):
        call(billing.build_claims, c["doc"], patient_ids=[c["elena"]])
    _verify()


def _remit(claim_number: str, status: str, paid: int, patient: int, contractual: int, sign: int = 1, payer_number=""):
    from patient_portal.domain.billing import x12

    adjustments = [x12.Adjustment("CO", "45", sign * contractual), x12.Adjustment("PR", "2", sign * patient)]
    line = x12.RemitLine(code="99213", modifiers=[], charge_cents=sign * 15000, paid_cents=sign * paid, units=1,
                         control=f"{claim_number}-1", adjustments=adjustments)
    return x12.RemitClaimDoc(control_number=claim_number, status_code=status, charge_cents=sign * 15000,
                             paid_cents=sign * paid, patient_cents=sign * patient, payer_claim_number=payer_number,
                             lines=[line], patient_name=("HADDAD", "OMAR"))


def _835(trace: str, claims) -> str:
    from datetime import UTC, datetime

    from patient_portal.domain.billing import x12

    env = x12.Envelope(sender_id="SIMPAY", receiver_id="1234567893", control_number=77, created=datetime.now(UTC))
    return x12.write_835(env, payer_name="Simulated Health Plan", payer_code="SIMPAY", payee_name="Demo Clinic",
                         payee_npi="1234567893", trace_number=trace, paid_on=billing.today(), claims=claims)


def test_a_reversal_takes_a_payment_back_and_the_corrected_payment_posts(clinic):
    """835 CLP02 22 is posted, not worklisted: the payment and the patient's share go back to waiting
    for the payer, the claim is acknowledged again, and the corrected payment in the same file posts.
    A reversal of a share the patient has already paid cannot be posted: it goes to the worklist and
    nothing of it moves."""
    c = clinic
    note = signed_visit(c, patient=c["omar"])
    visit_charges(c, note, lines=[{"code": "99213", "pointers": [1]}])
    claim = call(billing.build_claim, c["staff"], patient_id=c["omar"])
    call(billing.submit_claims, c["staff"], claim_ids=[claim.id])
    call(billing.fetch_remittances, c["staff"])
    paid = call(billing.get_claim, c["staff"], claim_id=claim.id)
    assert paid.status == "paid" and paid.lines[0].paid_cents == 9600 and paid.lines[0].patient_cents == 2400

    text = _835("REV-1", [_remit(claim.claim_number, "22", 9600, 2400, 3000, sign=-1),
                          _remit(claim.claim_number, "1", 10000, 2000, 3000)])
    result = call(billing.post_835, c["staff"], text=text)
    assert (result.claims_posted, result.unmatched, result.paid_cents) == (2, 0, 400)
    after = call(billing.get_claim, c["staff"], claim_id=claim.id)
    assert after.status == "paid" and (after.lines[0].paid_cents, after.lines[0].patient_cents) == (10000, 2000)
    assert [e.to_status for e in after.events][-2:] == ["acknowledged", "paid"]
    assert after.events[-2].detail.get("reversed") is True
    assert call(billing.balance, c["staff"], patient_id=c["omar"]) == 2000
    with unit_of_work() as s:
        assert not s.exec(select(WorkItem)).all()
    _verify()
    assert call(billing.post_835, c["staff"], text=text).already_posted

    call(billing.record_payment, c["staff"], patient_id=c["omar"], amount="20.00", method="cash")
    late = call(billing.post_835, c["staff"], text=_835("REV-2", [
        _remit(claim.claim_number, "22", 10000, 2000, 3000, sign=-1)]))
    assert late.unmatched == 1
    with unit_of_work() as s:
        assert [w.kind for w in s.exec(select(WorkItem)).all()] == ["reversal"]
    kept = call(billing.get_claim, c["staff"], claim_id=claim.id)
    assert kept.status == "paid" and kept.lines[0].paid_cents == 10000
    assert call(billing.balance, c["staff"], patient_id=c["omar"]) == 0
