"""Registration: one transaction, encrypted at rest, duplicate checks, self-registration, roles."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlmodel import select

from patient_portal.core.access import AccessDenied, Role
from patient_portal.core.db import unit_of_work
from patient_portal.domain.history.models import Allergy
from patient_portal.domain.identity import verification
from patient_portal.domain.identity.models import User
from patient_portal.domain.insurance.models import InsurancePolicy
from patient_portal.domain.patients import mrn
from patient_portal.domain.patients.models import STATUS_MERGED, STATUS_PENDING, Patient
from patient_portal.domain.patients.registration import (
    PossibleDuplicates,
    find_possible_duplicates,
    record_duplicate_decision,
    self_register_patient,
)
from patient_portal.domain.patients.validation import ValidationFailed
from tests.integration.patients_support import ADMIN, DOCTOR, STAFF, actor, call, draft, events, register
from tests.mailbox import Mailbox


@pytest.mark.parametrize("role", [STAFF, ADMIN])
def test_staff_and_admin_register_a_patient_with_every_section(db, role):
    done = register(by=actor(role))
    assert mrn.parse(done.mrn) == done.mrn
    with unit_of_work() as s:
        patient = s.get(Patient, done.patient_id)
        assert (patient.given_name, patient.family_name, patient.email) == ("Elena", "Marsh", "elena.marsh@example.com")
        assert patient.phones == [{"type": "mobile", "number": "+16175550133"}]
        assert [a.substance for a in s.exec(select(Allergy)).all()] == ["Latex"]
        assert s.exec(select(InsurancePolicy)).one().member_id == "TH-0091"
    [event] = events("patient.register")
    assert event.patient_id == done.patient_id and event.outcome == "success"
    assert "Elena" not in str(event.detail) and "given_name" in event.detail["fields"]


@pytest.mark.parametrize("role", [DOCTOR, Role.PATIENT])
def test_doctors_and_patients_cannot_register_and_the_refusal_is_audited(db, role):
    with pytest.raises(AccessDenied):
        register(by=actor(role))
    assert [e.outcome for e in events("patient.register")] == ["denied"]
    with unit_of_work() as s:
        assert s.exec(select(Patient)).all() == []


def test_invalid_draft_saves_nothing_and_names_the_fields(db):
    bad = draft(date_of_birth="2999-01-01")
    bad["insurance"][0]["member_id"] = ""
    with pytest.raises(ValidationFailed) as err:
        register(bad)
    assert {"basic.date_of_birth", "insurance.0.member_id"} <= set(err.value.errors)
    with unit_of_work() as s:
        assert s.exec(select(Patient)).all() == [] and s.exec(select(Allergy)).all() == []


def test_a_failure_mid_save_rolls_back_every_row(db, monkeypatch):
    from patient_portal.domain.emergency import rows as emergency_rows

    def boom(*_a, **_k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(emergency_rows, "replace", boom)
    with pytest.raises(RuntimeError):
        register()
    with unit_of_work() as s:
        assert s.exec(select(Patient)).all() == [] and s.exec(select(InsurancePolicy)).all() == []


def test_raw_database_holds_no_plaintext_phi(db):
    register()
    with unit_of_work() as s:
        tables = ["patient", "history_allergy", "history_medication", "insurance_policy", "emergency_contact",
                  "history_condition", "history_family", "history_immunization", "patient_phone_key"]
        dump = " ".join(str(row) for t in tables for row in s.exec(text(f"SELECT * FROM {t}")).all())  # noqa: S608
    for secret in ("Elena", "Marsh", "1979-04-23", "5550133", "elena.marsh", "Latex", "Atorvastatin", "TH-0091",
                   "Tom Marsh", "Asthma", "Elm St"):
        assert secret.lower() not in dump.lower(), secret


@pytest.mark.parametrize("change,reason", [
    ({"given_name": "ELENA", "family_name": "marsh", "phone_mobile": "", "email": "other@example.com",
      "preferred_contact_method": ""}, "same name and date of birth"),
    ({"given_name": "Someone", "email": "", "phone_mobile": "617.555.0133", "preferred_contact_method": ""},
     "same phone"),
    ({"given_name": "Someone", "phone_mobile": "", "email": "ELENA.MARSH@example.com",
      "preferred_contact_method": ""}, "same email"),
])
def test_possible_duplicates_by_name_and_dob_phone_or_email(db, change, reason):
    first = register()
    staff = actor(STAFF)
    matches = call(find_possible_duplicates, staff, draft(**change)["basic"])
    assert [m["id"] for m in matches] == [str(first.patient_id)]
    assert reason in matches[0]["reasons"] and matches[0]["mrn"] == first.mrn
    with pytest.raises(PossibleDuplicates) as dup:
        register(draft(**change), by=staff)
    assert dup.value.matches[0]["id"] == str(first.patient_id)
    second = register(draft(**change), by=staff, confirmed_different=True)
    assert second.patient_id != first.patient_id


def test_no_duplicates_for_a_different_person(db):
    register()
    other = draft(given_name="Paul", family_name="Ng", phone_mobile="+1 617 555 0177", email="",
                  preferred_contact_method="")
    assert call(find_possible_duplicates, actor(STAFF), other["basic"]) == []


def test_each_duplicate_test_is_its_own_lookup_and_a_record_matching_several_is_listed_once(db):
    """name + dob, email and phone are three indexed lookups (an OR of them scans the whole patient
    table on PostgreSQL); a record found by all three comes back once with every reason, a second
    phone number finds it too, and a merged record is never offered."""
    from tests.integration.sql_counter import statements

    first = register()
    with statements() as seen:
        both = call(find_possible_duplicates, actor(STAFF), draft(phone_mobile="", phone_home="617 555 0133")["basic"])
    assert [m["id"] for m in both] == [str(first.patient_id)]
    assert both[0]["reasons"] == "same name and date of birth, same email, same phone"
    [lookup] = [s for s in seen if "patient_phone_key" in s]
    assert "UNION ALL" in lookup and " OR " not in lookup.upper()
    with unit_of_work() as s:
        s.get(Patient, first.patient_id).status = STATUS_MERGED
    assert call(find_possible_duplicates, actor(STAFF), draft()["basic"]) == []


def test_duplicate_decision_is_audited_without_phi(db):
    first = register()
    call(record_duplicate_decision, actor(STAFF), decision="different_person", patient_ids=[str(first.patient_id)])
    [event] = events("patient.duplicate_decision")
    assert event.detail == {"decision": "different_person", "patient_ids": [str(first.patient_id)]}
    with pytest.raises(ValidationFailed):
        call(record_duplicate_decision, actor(STAFF), decision="whatever", patient_ids=[])


@pytest.mark.parametrize("role", [DOCTOR, Role.PATIENT])
def test_duplicate_check_is_refused_to_roles_that_cannot_register(db, role):
    with pytest.raises(AccessDenied):
        call(find_possible_duplicates, actor(role), draft()["basic"])


def _user(role: str = "patient") -> User:
    with unit_of_work() as s:
        user = User(email=f"{uuid.uuid4().hex[:8]}@example.com", role=role, display_name="New Person")
        s.add(user)
    return user


def test_self_registration_creates_a_pending_record_linked_to_the_account(db):
    user = _user()
    me = actor(Role.PATIENT)
    me = type(me)(user_id=user.id, role=Role.PATIENT)
    done = call(self_register_patient, me, draft()["basic"])
    with unit_of_work() as s:
        assert s.get(Patient, done.patient_id).status == STATUS_PENDING
        assert s.get(User, user.id).patient_id == done.patient_id
    with pytest.raises(ValidationFailed):  # a second record for the same account is refused
        call(self_register_patient, me, draft()["basic"])


@pytest.mark.parametrize("role", [STAFF, ADMIN, DOCTOR])
def test_only_patients_self_register(db, role):
    with pytest.raises(AccessDenied):
        call(self_register_patient, actor(role), draft()["basic"])


def test_self_registration_validates_fields(db):
    user = _user()
    from patient_portal.core.access import Actor

    with pytest.raises(ValidationFailed) as err:
        call(self_register_patient, Actor(user_id=user.id, role=Role.PATIENT), draft(family_name="")["basic"])
    assert "family_name" in err.value.errors


def test_public_sign_up_creates_account_and_pending_record(db, mailbox):
    from patient_portal.domain.patients.registration import sign_up_patient

    done = call(sign_up_patient, email="new.person@example.com", password="correct horse battery staple",
                      basic=draft()["basic"])
    with unit_of_work() as s:
        user = s.exec(select(User).where(User.email == "new.person@example.com")).one()
        assert user.role == "patient" and user.patient_id == done.patient_id
        assert not user.email_verified  # usable once the emailed link is opened
        assert s.get(Patient, done.patient_id).status == STATUS_PENDING
    assert "/verify-email?t=" in Mailbox.link_in(mailbox.wait_for("new.person@example.com")[0])


def test_public_sign_up_reports_password_email_and_field_errors(db):
    from patient_portal.domain.patients.registration import sign_up_patient

    with pytest.raises(ValidationFailed) as err:
        call(sign_up_patient, email="x@", password="short", basic=draft(family_name="")["basic"])
    assert {"account.password", "account.email", "family_name"} <= set(err.value.errors)


def test_sign_up_with_a_taken_address_looks_the_same_and_tells_the_owner(db, mailbox):
    first = sign_up(email="taken@example.com", password="correct horse battery staple", basic=draft()["basic"])
    again = sign_up(email="Taken@Example.com", password="another long phrase 99", basic=draft()["basic"])
    assert first is not None and again is None  # the page shows the same either way
    [link, resent] = mailbox.wait_for("taken@example.com", 2)
    assert "Confirm your email" in link["Subject"] and "Confirm your email" in resent["Subject"]
    assert verification.confirm(Mailbox.link_in(resent).split("t=", 1)[1])
    sign_up(email="taken@example.com", password="correct horse battery staple", basic=draft()["basic"])
    notice = mailbox.wait_for("taken@example.com", 3)[-1]
    assert notice["Subject"] == "You already have a Patient Portal account"
    with unit_of_work() as s:
        assert len(s.exec(select(User).where(User.email == "taken@example.com")).all()) == 1


def test_an_unconfirmed_account_cannot_sign_in_until_the_link_is_opened(db, mailbox):
    from patient_portal.domain.identity.signin import sign_in

    sign_up(email="fresh@example.com", password="correct horse battery staple", basic=draft()["basic"])
    assert sign_in("fresh@example.com", "correct horse battery staple").error == "unverified"
    assert sign_in("fresh@example.com", "wrong horse battery staple").error == "credentials"
    token = Mailbox.link_in(mailbox.wait_for("fresh@example.com")[0]).split("t=", 1)[1]
    assert not verification.confirm(token[:-2] + "xx")
    assert verification.confirm(token) and verification.confirm(token)  # a second open still says confirmed
    assert sign_in("fresh@example.com", "correct horse battery staple").ok


def test_public_sign_up_is_throttled_per_network_address(db):
    from patient_portal.domain.patients.registration import (
        SIGN_UPS_PER_IP_PER_HOUR,
        TooManySignUps,
        sign_up_patient,
    )

    for i in range(SIGN_UPS_PER_IP_PER_HOUR):
        call(sign_up_patient, email=f"p{i}@example.com", password="correct horse battery staple",
                   basic=draft(phone_mobile=f"+1 617 555 01{i:02d}")["basic"], ip="203.0.113.9")
    with pytest.raises(TooManySignUps, match="try again later"):
        call(sign_up_patient, email="one.more@example.com", password="correct horse battery staple",
                   basic=draft()["basic"], ip="203.0.113.9")
    with unit_of_work() as s:
        assert s.exec(select(User).where(User.email == "one.more@example.com")).first() is None
    call(sign_up_patient, email="elsewhere@example.com", password="correct horse battery staple",
               basic=draft()["basic"], ip="198.51.100.7")


def sign_up(**kwargs):
    from patient_portal.domain.patients.registration import sign_up_patient

    return call(sign_up_patient, **kwargs)




def test_registration_drafts_survive_and_are_discarded_on_confirm(db):
    from patient_portal.domain.patients.drafts import discard_draft, load_draft, save_draft

    staff = actor(STAFF)
    call(save_draft, staff, draft(), 3)
    data, step = call(load_draft, staff)
    assert step == 3 and data["basic"]["family_name"] == "Marsh"
    assert call(load_draft, actor(STAFF)) is None  # another user's draft is not shared
    with unit_of_work() as s:
        assert "Marsh" not in str(s.exec(text("SELECT data FROM registration_draft")).all())
    register(by=staff)
    assert call(load_draft, staff) is None
    call(save_draft, staff, draft(), 1)
    call(discard_draft, staff)
    assert call(load_draft, staff) is None
    with pytest.raises(AccessDenied):
        call(save_draft, actor(DOCTOR), draft(), 1)
