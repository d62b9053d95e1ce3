"""Helpers for the billing tests: a clinic set up for billing (payer, billing numbers, fee schedule),
patients with coverage, a doctor's signed visit."""

from __future__ import annotations

from dataclasses import replace

from sqlmodel import select

from patient_portal.core.access import Role
from patient_portal.core.coding import ICD10_CM
from patient_portal.core.db import unit_of_work
from patient_portal.domain.billing import service as billing
from patient_portal.domain.insurance.models import InsurancePolicy
from patient_portal.domain.visits import service as visits
from tests.integration.patients_support import (
    ADMIN,
    DOCTOR,
    STAFF,
    actor,
    call,
    draft,
    put_on_care_team,
    register,
)

BILLING_NPI = "1234567893"
DOCTOR_NPI = "1245319599"
PAYER = {"payer_code": "SIMPAY", "name": "Simulated Health Plan", "address_line1": "1 Payer Way", "city": "Columbus",
         "region": "OH", "postal_code": "43215", "timely_filing_days": "365", "appeal_days": "120, 180, 60",
         "filing_code": "CI"}
PROFILE = {"name": "Demo Clinic", "npi": BILLING_NPI, "tax_id": "12-3456789", "taxonomy": "207Q00000X",
           "address_line1": "12 Harbor Street", "city": "Boston", "region": "MA", "postal_code": "02110-1234",
           "phone": "617 555 0100"}
FEES = [("99213", "Office visit, established patient, low complexity", "150.00"),
        ("71046", "Chest X-ray, two views", "120.00"),
        ("99401", "Preventive counselling, 15 minutes", "80.00"),
        ("36415", "Blood draw", "20.00")]
VISIT = {"visit_at": "2026-01-14T09:30", "reason": "Cough for three weeks", "subjective": "Dry cough.",
         "objective": "Chest clear.", "assessment": "Persistent cough; hypertension stable.", "plan": "Chest X-ray.",
         "diagnoses": [{"system": ICD10_CM, "code": "R05.9", "display": "Cough, unspecified"},
                       {"system": ICD10_CM, "code": "I10", "display": "Essential hypertension"}], "orders": []}


def patient_with_policy(member_id: str, **basic) -> object:
    data = draft(**{"region": "MA", **basic})
    data["insurance"] = [{"payer": "Simulated Health Plan", "plan": "PPO", "member_id": member_id,
                          "relationship": "self", "order": "primary"}]
    return register(data).patient_id


def policy_of(patient_id) -> InsurancePolicy:
    with unit_of_work() as s:
        return s.exec(select(InsurancePolicy).where(InsurancePolicy.patient_id == patient_id)).one()


def setup_clinic() -> dict:
    """Payer, billing numbers, fee schedule, a doctor on two patients' care teams, coverage on both."""
    admin, staff = actor(ADMIN), actor(STAFF)
    doc = replace(actor(DOCTOR), display_name="Dr. Ada Author")
    payer = call(billing.save_payer, admin, values=PAYER)
    call(billing.save_billing_profile, admin, values=PROFILE)
    call(billing.save_provider_number, admin, user_id=doc.user_id,
         values={"given_name": "Ada", "family_name": "Author", "npi": DOCTOR_NPI, "taxonomy": "207Q00000X"})
    for code, description, price in FEES:
        call(billing.save_fee, admin, values={"code": code, "description": description, "price": price})
    elena = patient_with_policy("PA-1001")
    omar = patient_with_policy("M-2002", given_name="Omar", family_name="Haddad", date_of_birth="1985-02-11",
                               email="omar@example.com", phone_mobile="+1 617 555 0199")
    for pid in (elena, omar):
        put_on_care_team(doc, pid)
        call(billing.save_coverage, staff, patient_id=pid, policy_id=policy_of(pid).id,
             values={"payer_id": str(payer.id), "copay": "25", "coinsurance": "20", "deductible": "1500",
                     "deductible_met": "500", "oop_max": "5000", "oop_met": "1000"})
    return {"admin": admin, "staff": staff, "doc": doc, "payer": payer, "elena": elena, "omar": omar,
            "patient": actor(Role.PATIENT, elena), "omar_patient": actor(Role.PATIENT, omar),
            "outsider": replace(actor(DOCTOR), display_name="Dr. Out Side")}


def signed_visit(c: dict, patient=None, **changes):
    note = call(visits.create_note, c["doc"], patient_id=patient or c["elena"], values={**VISIT, **changes})
    return call(visits.sign_note, c["doc"], patient_id=note.patient_id, note_id=note.id, expected_version=note.version)


def visit_charges(c: dict, note, lines=None):
    lines = lines or [{"code": "99213", "pointers": [1, 2]}, {"code": "71046", "pointers": [1]}]
    return call(billing.charges_from_visit, c["staff"], patient_id=note.patient_id, visit_id=note.id, lines=lines)
