"""What the billing screens read and the routes behind them: the chart's Billing page (coverage with
its eligibility answer, signed visits with their codes, charges, claims, receipts) for staff and
admins only; what a patient owes; the admin's setup; paying with a card token (the number never
reaches the payment service, a token pays once, a made-up token pays nothing); the statement and
appeal-letter PDFs, the 835 upload and the card-token route over HTTP, each refused to the wrong
person; the access log's words for billing."""

from __future__ import annotations

import uuid

import pytest
from sqlmodel import select

from patient_portal.core.access import AccessDenied, Actor, Role
from patient_portal.core.db import unit_of_work
from patient_portal.core.errors import Conflict
from patient_portal.domain.billing import service as billing
from patient_portal.domain.billing.dto import PaymentDeclined
from patient_portal.domain.billing.models import Payment
from patient_portal.domain.billing.payments import processor
from tests.integration.billing_support import policy_of, setup_clinic, signed_visit, visit_charges
from tests.integration.patients_support import call

ORIGIN = "http://localhost:3000"


@pytest.fixture
def clinic(db):
    return setup_clinic()


def _owing(c) -> None:
    """Elena's visit billed, denied for the X-ray, posted: she owes the office visit's coinsurance."""
    visit_charges(c, signed_visit(c))
    claim = call(billing.build_claim, c["staff"], patient_id=c["elena"])
    call(billing.submit_claims, c["staff"], claim_ids=[claim.id])
    call(billing.fetch_remittances, c["staff"])


def _token(number: str = "4242424242424242") -> str:
    return processor().tokenize(number=number, exp_month="12", exp_year="2035", cvc="123",
                                today=billing.today()).token


def test_the_account_page_shows_coverage_visits_charges_and_claims_to_staff_and_admins(clinic):
    c = clinic
    note = signed_visit(c)
    call(billing.check_eligibility, c["staff"], patient_id=c["elena"], policy_id=policy_of(c["elena"]).id)
    page = call(billing.account_page, c["staff"], patient_id=c["elena"])
    [cov] = page.coverages
    assert cov.payer_name == "Simulated Health Plan" and cov.member_id == "PA-1001" and cov.copay_cents == 2500
    assert cov.eligibility is not None and cov.eligibility.active and "prior_auth_imaging" in cov.eligibility.notes
    [visit] = page.visits
    assert visit.id == note.id and not visit.charged and visit.diagnoses[0].startswith("R05.9")
    assert page.charges == () and page.claims == () and page.balance_cents == 0

    visit_charges(c, note)
    call(billing.build_claim, c["staff"], patient_id=c["elena"])
    page = call(billing.account_page, c["admin"], patient_id=c["elena"])
    assert page.visits[0].charged and len(page.charges) == 2 and len(page.claims) == 1
    assert page.pending_insurance_cents == 27000


@pytest.mark.parametrize("who", ["doc", "patient", "omar_patient", "outsider"])
def test_the_account_page_is_refused_to_doctors_and_patients(clinic, who):
    with pytest.raises(AccessDenied):
        call(billing.account_page, clinic[who], patient_id=clinic["elena"])


def test_what_a_patient_owes_is_theirs_alone(clinic):
    c = clinic
    _owing(c)
    assert call(billing.balance, c["patient"], patient_id=c["elena"]) == 2400
    assert call(billing.balance, c["staff"], patient_id=c["elena"]) == 2400
    for who in ("omar_patient", "doc"):
        with pytest.raises(AccessDenied):
            call(billing.balance, c[who], patient_id=c["elena"])


def test_the_setup_page_is_for_admins(clinic):
    view = call(billing.setup, clinic["admin"])
    assert [p.payer_code for p in view.payers] == ["SIMPAY"] and view.profile["npi"] == "1234567893"
    assert {f.code for f in view.fees} >= {"99213", "71046"}
    for who in ("staff", "doc", "patient"):
        with pytest.raises(AccessDenied):
            call(billing.setup, clinic[who])


def test_a_card_token_pays_once_and_a_made_up_token_pays_nothing(clinic):
    c = clinic
    _owing(c)
    token = _token()
    receipt = call(billing.pay_with_token, c["patient"], patient_id=c["elena"], amount="10.00", token=token)
    assert receipt.amount_cents == 1000 and receipt.card_last4 == "4242" and receipt.card_brand == "visa"
    with unit_of_work() as s:
        [payment] = s.exec(select(Payment)).all()
        assert payment.processor_token == token and "4242424242424242" not in repr(payment.model_dump())
    with pytest.raises(Conflict):
        call(billing.pay_with_token, c["patient"], patient_id=c["elena"], amount="1.00", token=token)
    with pytest.raises(PaymentDeclined):
        call(billing.pay_with_token, c["patient"], patient_id=c["elena"], amount="1.00", token="tok_test_made_up")
    forged = "tok_test_visa_4242_ok_" + "0" * 24 + "." + token.rpartition(".")[2]  # well formed, another token's seal
    with pytest.raises(PaymentDeclined):
        call(billing.pay_with_token, c["patient"], patient_id=c["elena"], amount="1.00", token=forged)
    with pytest.raises(PaymentDeclined, match="declined"):
        call(billing.pay_with_token, c["patient"], patient_id=c["elena"], amount="1.00",
             token=_token("4000000000000002"))
    with pytest.raises(AccessDenied):  # another patient's token flow on Elena's balance
        call(billing.pay_with_token, c["omar_patient"], patient_id=c["elena"], amount="1.00", token=_token())
    assert call(billing.balance, c["patient"], patient_id=c["elena"]) == 1400


def _client(monkeypatch, who: dict):
    from starlette.testclient import TestClient

    from patient_portal.api import billing as api_billing
    from patient_portal.api.app import build_api

    monkeypatch.setattr(api_billing, "actor_from_request", lambda request: who.get(request.headers.get("x-test-as", "")))
    return TestClient(build_api(), base_url=ORIGIN)


def test_the_billing_routes_answer_the_right_people_only(clinic, monkeypatch):
    c = clinic
    _owing(c)
    who = {k: c[k] for k in ("staff", "patient", "omar_patient", "doc")}
    client = _client(monkeypatch, who)

    def get(path, as_):
        return client.get(path, headers={"x-test-as": as_})

    def post(path, body, as_, kind="text/plain"):
        return client.post(path, content=body, headers={"x-test-as": as_, "origin": ORIGIN, "content-type": kind})

    mine = get("/api/billing/statement.pdf", "patient")
    assert mine.status_code == 200 and mine.content.startswith(b"%PDF") and mine.headers["cache-control"] == "no-store"
    assert get(f"/api/billing/statement.pdf?patient={c['elena']}", "staff").status_code == 200
    assert get(f"/api/billing/statement.pdf?patient={c['elena']}", "omar_patient").status_code == 403
    assert get("/api/billing/statement.pdf", "nobody").status_code == 401

    [denial] = call(billing.denial_worklist, c["staff"])
    appeal = call(billing.create_appeal, c["staff"], claim_id=denial.claim_id, note="Authorization PA-777 was on file.")
    letter = get(f"/api/billing/appeals/{appeal.id}/letter.pdf", "staff")
    assert letter.status_code == 200 and letter.content.startswith(b"%PDF")
    assert get(f"/api/billing/appeals/{appeal.id}/letter.pdf", "patient").status_code == 403
    assert get(f"/api/billing/appeals/{appeal.id}/letter.pdf", "doc").status_code == 403

    card = b'{"number": "4242 4242 4242 4242", "exp_month": "12", "exp_year": "2035", "cvc": "123"}'
    answer = post("/api/billing/card-token", card, "patient", "application/json")
    assert answer.status_code == 200 and answer.json()["last4"] == "4242" and "4242424242424242" not in answer.text
    assert post("/api/billing/card-token", card, "staff", "application/json").status_code == 403
    assert post("/api/billing/card-token", card, "nobody", "application/json").status_code == 401
    bad = post("/api/billing/card-token", card.replace(b"4242 4242", b"4242 4243"), "patient", "application/json")
    assert bad.status_code == 422 and "card_number" in bad.json()["errors"]

    with unit_of_work() as s:
        from patient_portal.domain.billing.models import ClearinghouseFile

        text = s.exec(select(ClearinghouseFile).where(ClearinghouseFile.kind == "835")).first().content
    assert post("/api/billing/remittances", text.encode(), "patient").status_code == 403
    assert post("/api/billing/remittances", b"%PDF-1.7", "staff", "application/pdf").status_code == 415
    again = post("/api/billing/remittances", text.encode(), "staff")  # fetched and posted before: nothing twice
    assert again.status_code == 200 and again.json()["already_posted"] is True
    assert post("/api/billing/remittances", b"ISA*nonsense~", "staff").status_code == 422


def test_the_access_log_words_billing_events():
    from patient_portal.domain.audit_log.dto import phrase

    assert phrase("billing.account.read", {"header": ["identity"]}) == \
        "Opened your record and looked at your billing account"
    assert phrase("billing.claim.submit") == "Sent an insurance claim to your insurer"
    assert phrase("billing.statement.pay", outcome="denied") == "Tried to take your online payment (refused)"


def test_a_patient_without_a_record_has_nothing_to_owe(db):
    from patient_portal.state.billing_patient import _own_balance

    nobody = Actor(user_id=uuid.uuid4(), role=Role.PATIENT, display_name="No Record")
    with unit_of_work() as s:
        assert _own_balance(s, nobody) is None


def test_the_demo_clinic_bills(db):
    """`portal seed`: payers, fee schedule and NPIs; Maria Garcia covered by a plan that wants prior
    authorization for imaging and nothing billed yet; other patients' claims paid, ready and draft;
    every sum reconciles."""
    from patient_portal import seed

    seed.seed_demo(patients=16)
    with unit_of_work() as s:
        from patient_portal.domain.identity.models import User

        admin = s.exec(select(User).where(User.email == "admin@demo.clinic")).one()
        desk = s.exec(select(User).where(User.email == "staff@demo.clinic")).one()
        maria = s.exec(select(User).where(User.email == "patient@demo.clinic")).one().patient_id
    admin = Actor(user_id=admin.id, role=Role.ADMIN, display_name="Alex Admin")
    desk = Actor(user_id=desk.id, role=Role.STAFF, display_name="Sam Staff")
    view = call(billing.setup, admin)
    assert [p.name for p in view.payers] == ["Harbor Health Plan", "Medicare (simulated)"]
    assert all(p.npi for p in view.providers) and len(view.fees) >= 8
    page = call(billing.account_page, desk, patient_id=maria)
    assert page.coverages[0].payer_name == "Harbor Health Plan" and page.coverages[0].member_id.startswith("PA")
    assert page.charges == () and page.claims == () and any(v.diagnoses for v in page.visits)
    statuses = {c.status for c in call(billing.claims_worklist, desk)}
    assert {"paid", "ready", "draft"} <= statuses
    with unit_of_work() as s:
        assert billing.verify(s).ok
