"""One formatter for people (state/formatting.py): codes as words, dates as the clinic writes them,
addresses on one line with state and country."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from patient_portal.domain.patients import validation as rules
from patient_portal.state import formatting as fmt


@pytest.mark.parametrize(("fn", "code", "words"), [
    (fmt.sex, "female", "Female"), (fmt.sex, "male", "Male"), (fmt.sex, "intersex", "Intersex"),
    (fmt.contact_method, "sms", "Text message"), (fmt.contact_method, "phone", "Phone call"),
    (fmt.contact_method, "mail", "Post"), (fmt.coverage_order, "primary", "Primary"),
    (fmt.coverage_order, "tertiary", "Tertiary"), (fmt.relationship, "self", "Self"),
    (fmt.relationship, "spouse", "Spouse"),
])
def test_coded_values_read_as_words(fn, code, words):
    assert fn(code) == words
    assert fn(code.upper()) == words  # a code typed in capitals is still the code


def test_unknown_codes_and_nothing_pass_through():
    assert fmt.sex("") == "" and fmt.sex(None) == ""
    assert fmt.relationship("Husband") == "Husband"  # free text stays as typed


def test_every_code_the_services_accept_has_words():
    for table, codes in ((fmt.SEX, rules.SEXES), (fmt.CONTACT_METHOD, rules.CONTACT_METHODS),
                         (fmt.ORDER, rules.POLICY_ORDERS), (fmt.RELATIONSHIP, rules.SUBSCRIBER_RELATIONSHIPS),
                         (fmt.SEVERITY, rules.SEVERITIES), (fmt.CONDITION_STATUS, rules.CONDITION_STATUSES)):
        assert set(codes) <= set(table), (table, codes)
        assert all(table[c][0].isupper() for c in codes)


@pytest.mark.parametrize(("value", "shown"), [
    (date(1988, 7, 4), "4 Jul 1988"), ("1988-07-04", "4 Jul 1988"), (datetime(2026, 3, 3, 14, 30), "3 Mar 2026"),
    ("2001-12-25T10:00:00", "25 Dec 2001"), ("", ""), (None, ""), ("not a date", "not a date"),
])
def test_dates_read_as_the_clinic_writes_them(value, shown):
    assert fmt.day(value) == shown


def test_addresses_carry_state_and_country():
    stored = {"line1": "4 Elm St", "line2": "Apt 2", "city": "Boston", "region": "MA", "postal_code": "02118",
              "country": "US"}
    assert fmt.address(stored) == "4 Elm St, Apt 2, Boston, MA 02118, United States"
    flat = {"address_line1": "4 Elm St", "address_line2": "", "city": "Boston", "region": "MA",
            "postal_code": "02118", "country": "Portugal"}
    assert fmt.address(flat, "address_") == "4 Elm St, Boston, MA 02118, Portugal"
    assert fmt.address({}) == "" and fmt.address({"city": "Boston"}) == "Boston"


def test_rows_are_written_for_people_and_keep_their_codes_and_ids():
    policy = {"id": "abc", "payer": "Tufts", "relationship": "self", "order": "primary",
              "effective_date": "2024-01-01", "end_date": ""}
    shown = fmt.row(policy, "insurance")
    assert shown == {"id": "abc", "payer": "Tufts", "relationship": "Self", "relationship_code": "self",
                     "order": "Primary", "order_code": "primary", "effective_date": "1 Jan 2024", "end_date": ""}
    contact = fmt.row({"name": "Tom", "relationship": "Husband", "preferred_contact_method": "sms"}, "emergency")
    assert contact["relationship"] == "Husband" and contact["preferred_contact_method"] == "Text message"
    allergy = fmt.row({"substance": "Latex", "severity": "severe", "version": "3"}, "allergies")
    assert allergy["severity"] == "Severe" and allergy["severity_code"] == "severe" and allergy["version"] == "3"


def test_basic_details_and_a_patient_summary():
    shown = fmt.basic({"given_name": "Elena", "family_name": "Marsh", "date_of_birth": "1979-04-23", "sex": "female",
                       "preferred_contact_method": "email", "address_line1": "4 Elm St", "city": "Boston",
                       "region": "MA", "postal_code": "02118", "country": "US"})
    assert shown["legal_name"] == "Elena Marsh" and shown["date_of_birth"] == "23 Apr 1979"
    assert shown["sex"] == "Female" and shown["preferred_contact_method"] == "Email"
    assert shown["address"] == "4 Elm St, Boston, MA 02118, United States"
    summary = fmt.patient({"name": "Elena Marsh", "sex": "female", "age": "46", "status": "pending_identity_check"})
    assert summary["sex"] == "Female" and summary["age_text"] == "46 years"
    assert summary["status"] == "pending_identity_check" and summary["status_text"] == "Identity check pending"
    assert fmt.patient({"age": "1"})["age_text"] == "1 year" and fmt.patient({"age": ""})["age_text"] == ""


def test_select_options_are_the_same_words():
    from patient_portal.pages.patients.fields import CONTACT, POLICY_ORDER, SEX

    assert ("sms", "Text message") in CONTACT and ("female", "Female") in SEX
    assert [code for code, _ in POLICY_ORDER] == list(rules.POLICY_ORDERS)
