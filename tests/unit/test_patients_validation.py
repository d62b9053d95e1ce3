"""Every field rule of registration and profile edits, and the MRN check digit."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from patient_portal.domain.patients import mrn
from patient_portal.domain.patients import validation as v

GOOD_BASIC = {"given_name": "Ana", "family_name": "Lopez", "date_of_birth": "1990-01-02", "sex": "female",
              "phone_mobile": "+1 617 555 0100"}


def test_mrn_has_a_valid_luhn_check_digit_and_rejects_typos():
    number = mrn.generate()
    assert number.startswith("PP-") and len(number) == 11
    assert mrn.parse(number) == number
    assert mrn.parse(number.lower().replace("-", "")) == number
    digits = number[3:]
    typo = digits[:2] + str((int(digits[2]) + 1) % 10) + digits[3:]
    assert mrn.parse("PP-" + typo) is None
    assert mrn.parse("hello") is None


def test_valid_basic_information_has_no_errors():
    assert v.validate_basic(GOOD_BASIC) == {}


@pytest.mark.parametrize("name", ["given_name", "family_name", "date_of_birth", "sex"])
def test_required_basic_fields(name):
    assert v.validate_basic({**GOOD_BASIC, name: " "})[name] == v.REQUIRED


def test_date_of_birth_not_in_future_and_within_130_years():
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    assert "future" in v.validate_basic({**GOOD_BASIC, "date_of_birth": tomorrow})["date_of_birth"]
    assert "130" in v.validate_basic({**GOOD_BASIC, "date_of_birth": "1880-01-01"})["date_of_birth"]
    assert "YYYY-MM-DD" in v.validate_basic({**GOOD_BASIC, "date_of_birth": "12/03/1984"})["date_of_birth"]


def test_sex_must_be_a_listed_choice():
    assert "Choose" in v.validate_basic({**GOOD_BASIC, "sex": "robot"})["sex"]


def test_phone_and_email_are_checked_and_normalized():
    errors = v.validate_basic({**GOOD_BASIC, "phone_home": "12345", "email": "not-an-email"})
    assert "phone" in errors["phone_home"] and "email" in errors["email"]
    assert v.normalize_phone("(617) 555-0100") == "+16175550100"
    assert v.normalize_email("Ana.Lopez@Example.COM") == "ana.lopez@example.com"


def test_some_way_to_reach_the_patient_is_required():
    basic = {**GOOD_BASIC, "phone_mobile": ""}
    assert "at least one" in v.validate_basic(basic)["phone_mobile"]
    assert v.validate_basic({**basic, "email": "ana@example.com"}) == {}


def test_preferred_contact_method_needs_matching_detail():
    assert "email" in v.validate_basic({**GOOD_BASIC, "preferred_contact_method": "email"})
    assert "address_line1" in v.validate_basic({**GOOD_BASIC, "preferred_contact_method": "mail"})
    assert "phone_mobile" in v.validate_basic({**GOOD_BASIC, "phone_mobile": "", "phone_home": "+1 617 555 0101",
                                               "preferred_contact_method": "sms"})


def test_history_rows_are_checked_per_kind():
    errors = v.validate_history({
        "allergies": [{"substance": "", "severity": "deadly"}],
        "conditions": [{"description": "Asthma", "onset": "2999-01-01", "code": "J45"}],
        "medications": [{"name": ""}],
        "family_history": [{"relative": "Mother"}],
        "immunizations": [{"vaccine": "MMR", "given_on": "soon"}],
    })
    assert errors["allergies.0.substance"] == v.REQUIRED
    assert "Choose" in errors["allergies.0.severity"]
    assert "future" in errors["conditions.0.onset"]
    assert "code system" in errors["conditions.0.code_system"]
    assert errors["medications.0.name"] == v.REQUIRED
    assert errors["family_history.0.condition"] == v.REQUIRED
    assert "YYYY-MM-DD" in errors["immunizations.0.given_on"]


def test_insurance_rules():
    good = {"payer": "Aetna", "member_id": "A1", "relationship": "self", "order": "primary"}
    assert v.validate_insurance([]) == {}
    assert v.validate_insurance([good]) == {}
    errors = v.validate_insurance([
        {**good, "relationship": "spouse", "effective_date": "2025-05-01", "end_date": "2025-01-01"},
        {**good, "member_id": ""},
    ])
    assert "subscriber" in errors["0.subscriber_name"]
    assert "after" in errors["0.end_date"]
    assert errors["1.member_id"] == v.REQUIRED
    assert "Only one primary" in errors["1.order"]


def test_emergency_contact_rules():
    good = {"name": "Bo", "relationship": "Brother", "phone": "+1 617 555 0100", "order": "primary"}
    assert "at least one" in v.validate_emergency([])["contacts"]
    assert v.validate_emergency([good]) == {}
    errors = v.validate_emergency([{**good, "phone": "abc", "email": "x@"}, {**good, "name": ""}])
    assert "phone" in errors["0.phone"] and "email" in errors["0.email"]
    assert errors["1.name"] == v.REQUIRED and "Only one primary" in errors["1.order"]


def test_overlong_text_is_refused():
    assert "under" in v.validate_basic({**GOOD_BASIC, "given_name": "A" * 500})["given_name"]


def test_validate_draft_prefixes_keys_with_the_step():
    errors = v.validate_draft({"basic": {}, "history": {}, "insurance": [], "emergency": []})
    assert "basic.given_name" in errors and "emergency.contacts" in errors
