"""Billing claims as FHIR R4 Claim, ClaimResponse and ExplanationOfBenefit (``domain.fhir.claims``).

One billing claim is all three (same id): the Claim is what the clinic asked the payer for (each
line's code, units, charge), the ExplanationOfBenefit what came back (per line: submitted, allowed,
paid, the payer's adjustment reasons; what is left to the patient), the ClaimResponse that answer on
its own. Integer cents become Money (``value`` in dollars, ``currency`` USD); nothing is a float
sum: each Money is one row's cents divided once.
"""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal
from typing import Any

from patient_portal.api.fhir.serialize import ref

CLAIM_TYPE = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "professional"}]}
ADJUDICATION = "http://terminology.hl7.org/CodeSystem/adjudication"
CPT = "http://www.ama-assn.org/go/cpt"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
CLAIM_NUMBER = "urn:patient-portal:claim-number"
#: the billing claim's status -> (Claim/EOB status, EOB outcome)
STATUS = {"draft": ("draft", "queued"), "ready": ("active", "queued"), "submitted": ("active", "queued"),
          "acknowledged": ("active", "queued"), "rejected": ("active", "error"), "paid": ("active", "complete"),
          "partial": ("active", "partial"), "denied": ("active", "complete"), "appealed": ("active", "partial"),
          "closed": ("active", "complete")}


def money(cents: int) -> dict[str, Any]:
    """Integer cents as FHIR Money (exact: Decimal, then a JSON number with two places at most)."""
    value = Decimal(int(cents)) / 100
    return {"value": float(value) if value != value.to_integral() else int(value), "currency": "USD"}


def _created(record: Any) -> str:
    at = record.created if record.created.tzinfo else record.created.replace(tzinfo=UTC)
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _common(record: Any, rtype: str) -> dict[str, Any]:
    status = STATUS.get(record.status, ("active", "queued"))[0]
    coverage = ref("Coverage", record.policy_id) if record.policy_id else {"display": record.payer_name}
    return {
        "resourceType": rtype, "id": str(record.id), "meta": {"versionId": str(record.version)},
        "identifier": [{"system": CLAIM_NUMBER, "value": record.number}],
        "status": status, "type": CLAIM_TYPE, "use": "claim", "patient": ref("Patient", record.patient_id),
        "created": _created(record), "insurer": {"display": record.payer_name or "the payer"},
        "provider": {"display": "the clinic"},
        "insurance": [{"sequence": 1, "focal": True, "coverage": coverage}] if rtype == "Claim"
        else [{"focal": True, "coverage": coverage}],
        "billablePeriod": {"start": record.service_from.isoformat()},
    }


def _diagnoses(record: Any) -> list[dict[str, Any]]:
    return [{"sequence": i, "diagnosisCodeableConcept": {"coding": [{"system": ICD10, "code": code}]}}
            for i, code in enumerate(record.diagnoses, 1) if code]


def _service(line: Any) -> dict[str, Any]:
    return {"coding": [{"system": CPT, "code": line.code}], "text": line.description or line.code}


def claim(record: Any) -> dict[str, Any]:
    """The Claim: priority normal, the diagnoses, one item per line (code, date, units, charge)."""
    out = _common(record, "Claim")
    out["priority"] = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/processpriority",
                                   "code": "normal"}]}
    if diagnoses := _diagnoses(record):
        out["diagnosis"] = diagnoses
    out["item"] = [{"sequence": line.number, "productOrService": _service(line),
                    "servicedDate": line.service_date.isoformat(), "quantity": {"value": line.units},
                    "net": money(line.charge_cents)} for line in record.lines]
    out["total"] = money(sum(line.charge_cents for line in record.lines))
    return out


def _category(code: str) -> dict[str, Any]:
    return {"coding": [{"system": ADJUDICATION, "code": code}]}


def _adjudication(line: Any) -> list[dict[str, Any]]:
    """Submitted, allowed (eligible: charged less what the payer adjusted off), paid (benefit), and
    each adjustment reason the payer gave (its code and the clinic's short text)."""
    out = [{"category": _category("submitted"), "amount": money(line.charge_cents)},
           {"category": _category("eligible"), "amount": money(line.charge_cents - line.adjusted_cents)},
           {"category": _category("benefit"), "amount": money(line.paid_cents)}]
    out.extend({"category": {"text": "adjustment"}, "reason": {"text": reason}} for reason in line.reasons)
    return out


def explanation_of_benefit(record: Any) -> dict[str, Any]:
    """The ExplanationOfBenefit: outcome from the claim's status, per line submitted / paid (benefit)
    / allowed (eligible), the adjustment reasons; totals submitted, paid, patient responsibility."""
    out = _common(record, "ExplanationOfBenefit")
    out["outcome"] = STATUS.get(record.status, ("active", "queued"))[1]
    out["claim"] = ref("Claim", record.id)
    if diagnoses := _diagnoses(record):
        out["diagnosis"] = diagnoses
    out["item"] = [{"sequence": line.number, "productOrService": _service(line),
                    "servicedDate": line.service_date.isoformat(), "quantity": {"value": line.units},
                    "net": money(line.charge_cents), "adjudication": _adjudication(line)} for line in record.lines]
    totals = (("submitted", sum(x.charge_cents for x in record.lines)),
              ("benefit", sum(x.paid_cents for x in record.lines)))
    out["total"] = [{"category": {"coding": [{"system": ADJUDICATION, "code": code}]}, "amount": money(cents)}
                    for code, cents in totals]
    out["payment"] = {"amount": money(sum(x.paid_cents for x in record.lines))}
    patient_share = sum(x.patient_cents for x in record.lines)
    if patient_share:
        out["total"].append({"category": {"text": "patient responsibility"}, "amount": money(patient_share)})
    return out


def claim_response(record: Any) -> dict[str, Any]:
    """The ClaimResponse: the payer's answer to the Claim (same id) — outcome, per item the
    adjudication, totals and payment; the patient's share as its own total."""
    eob = explanation_of_benefit(record)
    out = {k: eob[k] for k in ("id", "meta", "identifier", "status", "type", "use", "patient", "created",
                               "insurer", "outcome", "total")}
    paid = sum(x.paid_cents for x in record.lines)
    if paid:  # ClaimResponse.payment needs its type: what was paid, in full or in part
        kind = "complete" if record.status == "paid" else "partial"
        out["payment"] = {"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/ex-paymenttype",
                                               "code": kind}]}, "amount": money(paid)}
    out["resourceType"] = "ClaimResponse"
    out["request"] = ref("Claim", record.id)
    out["item"] = [{"itemSequence": item["sequence"], "adjudication": item["adjudication"]} for item in eob["item"]]
    return {"resourceType": "ClaimResponse", **{k: v for k, v in out.items() if k != "resourceType"}}
