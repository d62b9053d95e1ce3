"""Demo billing for `portal seed`: the clinic set up to bill (two payers on the simulated
clearinghouse, the clinic's billing numbers, the doctors' NPIs, a fee schedule), coverage on Maria
Garcia's primary policy (her plan needs prior authorization for imaging: her member id starts with
``PA``, the simulated payer's rule), and a few claims of other patients in the states a billing
office sees: paid with a patient balance, ready to send, a draft that needs a fix.

Maria Garcia's own account starts with nothing billed: the browser test (tests/e2e/test_billing.py)
bills her visit, sees the payer deny the X-ray, appeals and has her pay. Everything goes through the
billing service as the demo admin and front desk, so it is validated, encrypted and audited as in
real use. Idempotent: once a payer exists nothing is added.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from patient_portal.core.db import unit_of_work
from patient_portal.core.errors import Invalid
from patient_portal.domain.billing import service as billing
from patient_portal.domain.billing.models import Payer
from patient_portal.domain.demo import DemoClinic
from patient_portal.domain.insurance.models import InsurancePolicy

#: Payers the demo clinic bills (names are the clinic's own list, not a patient's data).
PAYERS = (
    {"payer_code": "HHP01", "name": "Harbor Health Plan", "address_line1": "PO Box 4100", "city": "Boston",
     "region": "MA", "postal_code": "02101", "filing_code": "CI", "timely_filing_days": "365",
     "appeal_days": "120, 180, 60"},
    {"payer_code": "SMCR1", "name": "Medicare (simulated)", "address_line1": "PO Box 1000", "city": "Hingham",
     "region": "MA", "postal_code": "02018", "filing_code": "MB", "timely_filing_days": "365",
     "appeal_days": "120, 180, 60"},
)
PROFILE = {"name": "Demo Family Clinic", "npi": "1234567893", "tax_id": "04-1234567", "taxonomy": "207Q00000X",
           "address_line1": "88 Clinic Way", "city": "Boston", "region": "MA", "postal_code": "02110-1234",
           "phone": "617 555 0100"}
#: The three demo doctors' NPIs (valid check digits) and taxonomies: family, pediatrics, internal medicine.
DOCTOR_NUMBERS = (("1314151618", "207Q00000X"), ("1456789019", "208000000X"), ("1678901236", "207R00000X"))
FEES = (("99203", "New patient visit, low complexity", "180.00"),
        ("99213", "Office visit, established patient", "150.00"),
        ("99214", "Office visit, established patient, moderate", "220.00"),
        ("99401", "Preventive counselling, 15 minutes", "80.00"),
        ("71046", "Chest X-ray, two views", "120.00"),
        ("93000", "Electrocardiogram with report", "60.00"),
        ("36415", "Blood draw", "20.00"),
        ("80061", "Lipid panel", "45.00"),
        ("83036", "Hemoglobin A1c", "35.00"))
COVERAGE = {"copay": "25", "coinsurance": "20", "deductible": "1500", "deductible_met": "500", "oop_max": "5000",
            "oop_met": "1000"}
#: (days ago, codes, diagnoses, what happens): the other patients' claims.
CLAIMS = ((45, ("99213", "36415"), "I10", "paid"), (38, ("99214", "80061"), "E78.5", "paid"),
          (30, ("99213", "83036"), "E11.9", "paid"), (12, ("99213",), "J30.9", "ready"),
          (8, ("99203", "93000"), "I10", "ready"), (5, ("99213",), "", "draft"))


def seed_billing(clinic: DemoClinic) -> int:
    """Set the demo clinic up for billing and add a few claims; returns how many claims were made."""
    if not clinic.patients:
        return 0
    with unit_of_work() as session:
        if session.exec(select(Payer.id).limit(1)).first() is not None:
            return 0
    admin, desk = clinic.admin, clinic.staff[0]
    with unit_of_work() as session:
        payers = [billing.save_payer(session, admin, values=p) for p in PAYERS]
        billing.save_billing_profile(session, admin, values=PROFILE)
        for doctor, (npi, taxonomy) in zip(clinic.doctors, DOCTOR_NUMBERS, strict=False):
            parts = doctor.display_name.replace("Dr. ", "").split()
            billing.save_provider_number(session, admin, user_id=doctor.user_id, values={
                "given_name": " ".join(parts[:-1]), "family_name": parts[-1], "npi": npi, "taxonomy": taxonomy})
        for code, description, price in FEES:
            billing.save_fee(session, admin, values={"code": code, "description": description, "price": price})
    maria = clinic.patients[0].id
    _cover(desk, maria, str(payers[0].id))
    made = 0
    for record in clinic.patients[3:]:
        if made >= len(CLAIMS):
            break
        if not _cover(desk, record.id, str(payers[0].id)):
            continue
        days, codes, dx, outcome = CLAIMS[made]
        made += 1
        with unit_of_work() as session:
            for code in codes:
                billing.add_charge(session, desk, patient_id=record.id, values={
                    "service_date": (clinic.today - timedelta(days=days)).isoformat(), "code": code, "units": "1",
                    "diagnoses": dx, "rendering_provider_id": str(clinic.doctors[0].user_id)})
            claim = billing.build_claim(session, desk, patient_id=record.id)
        if outcome == "paid" and claim.status == "ready":
            with unit_of_work() as session:
                billing.submit_claims(session, desk, claim_ids=[claim.id])
    with unit_of_work() as session:
        billing.fetch_remittances(session, desk)
    return made


def _cover(desk, patient_id, payer_id: str) -> bool:
    """Benefits on the patient's primary policy (the patient is the subscriber); False when they have none."""
    with unit_of_work() as session:
        policy = session.exec(select(InsurancePolicy).where(InsurancePolicy.patient_id == patient_id,
                                                            InsurancePolicy.order == "primary")).first()
        if policy is None or (policy.relationship or "self") != "self":
            return False
        try:
            billing.save_coverage(session, desk, patient_id=patient_id, policy_id=policy.id,
                                  values={"payer_id": payer_id, **COVERAGE})
        except Invalid:  # a member id the payer would not take: no coverage, no demo claim
            return False
    return True
