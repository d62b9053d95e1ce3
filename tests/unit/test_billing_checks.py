"""Billing's pure checks: the NPI check digit (Luhn with prefix 80840), money typed by people as
integer cents, X12 amounts both ways, and the test card processor keeping no card number."""

from __future__ import annotations

from datetime import date

import pytest

from patient_portal.domain.billing import validation as check
from patient_portal.domain.billing import x12
from patient_portal.domain.billing.payments import CardProblem, TestProcessor


@pytest.mark.parametrize("npi", ["1234567893", "1245319599", "1987654328"])
def test_valid_npis_pass(npi):
    assert check.npi_problem(npi) == ""


@pytest.mark.parametrize(("npi", "words"), [("1234567890", "check digit"), ("123456789", "ten digits"),
                                            ("", "Enter the NPI")])
def test_bad_npis_say_why(npi, words):
    assert words in check.npi_problem(npi)


def test_every_single_digit_typo_of_an_npi_is_caught():
    good = "1234567893"
    for i in range(10):
        for d in "0123456789":
            typo = good[:i] + d + good[i + 1:]
            if typo != good:
                assert check.npi_problem(typo), typo


@pytest.mark.parametrize(("typed", "cents"), [("12.50", 1250), ("$1,200", 120000), ("0.5", 50), ("7", 700)])
def test_money_is_integer_cents(typed, cents):
    errors: dict = {}
    assert check.cents(typed, errors, "amount") == cents and errors == {}


@pytest.mark.parametrize("typed", ["12.345", "abc", "-5", "1,20"])
def test_bad_money_is_refused(typed):
    errors: dict = {}
    check.cents(typed, errors, "amount")
    assert errors["amount"]


@pytest.mark.parametrize(("cents", "text"), [(15000, "150"), (15050, "150.5"), (1234, "12.34"), (5, "0.05"), (-1234, "-12.34")])
def test_x12_amounts_round_trip_exactly(cents, text):
    assert x12.amount(cents) == text and x12.parse_amount(text) == cents


def test_pointers_and_codes():
    assert check.pointers_problem([1, 2], 2) == ""
    assert "does not have" in check.pointers_problem([3], 2)
    assert "diagnosis first" in check.pointers_problem([1], 0)
    assert check.procedure_problem("99213") == "" and check.procedure_problem("G0438") == ""
    assert check.procedure_problem("9921") and check.icd10_problem("E11.9") == "" and check.icd10_problem("11.9")
    assert check.timely_filing_problem(date(2026, 1, 1), 90, date(2026, 4, 2)).startswith("Too late")
    assert x12.clean("José*O'Neil~") == "JOSE O'NEIL"


def test_the_test_processor_keeps_only_a_token_and_the_last_four():
    proc = TestProcessor()
    card = proc.tokenize(number="4242 4242 4242 4242", exp_month="12", exp_year="35", cvc="123", today=date(2026, 1, 1))
    assert card.last4 == "4242" and card.brand == "visa" and "4242424242424242" not in repr(proc.__dict__)
    assert proc.charge(token=card.token, amount_cents=100, idempotency_key="k").approved
    declined = proc.tokenize(number="4000000000000002", exp_month="1", exp_year="2030", cvc="123", today=date(2026, 1, 1))
    assert proc.charge(token=declined.token, amount_cents=100, idempotency_key="j").decline_code == "card_declined"
    with pytest.raises(CardProblem):
        proc.tokenize(number="4242424242424241", exp_month="12", exp_year="35", cvc="123", today=date(2026, 1, 1))
    with pytest.raises(CardProblem):
        proc.tokenize(number="4242424242424242", exp_month="12", exp_year="2020", cvc="123", today=date(2026, 1, 1))
