"""Claim, ClaimResponse and ExplanationOfBenefit (issue 16, from issue 14's billing): read and search by patient,
as valid R4, amounts as Money. Billing's rule of who sees what: the front desk and admins every claim
line; the patient her own claims; a doctor only the lines of their own visits ("doctors see the
charges of their own visits"), and nothing of a patient off their care team; another patient's
claim is 404. Callers come in with SMART access tokens (the ``tokens`` fixture) so any role can call."""

from __future__ import annotations

from dataclasses import replace

import pytest

import patient_portal.api.app  # noqa: F401 (imported before the tokens fixture stands in for SMART's tokens)
from patient_portal.api.fhir.financial import money
from patient_portal.core.access import Role
from patient_portal.domain.billing import service as billing
from tests.integration.billing_support import setup_clinic, signed_visit, visit_charges
from tests.integration.fhir_support import tokens, valid  # noqa: F401 (a fixture)
from tests.integration.identity_support import client
from tests.integration.patients_support import ADMIN, DOCTOR, actor, call, put_on_care_team


@pytest.fixture
def billed(db, tokens):  # noqa: F811 (the fixture)
    """Elena's claim: two lines from Dr. Author's visit ($150 + $120) and a blood draw ($20) her
    colleague rendered; Omar's claim from his own visit. Tokens for every role."""
    c = setup_clinic()
    colleague = replace(actor(DOCTOR), display_name="Dr. Col League")
    put_on_care_team(colleague, c["elena"])
    visit_charges(c, signed_visit(c))
    call(billing.add_charge, c["staff"], patient_id=c["elena"],
         values={"code": "36415", "units": "1", "service_date": "2026-01-14", "diagnoses": "I10",
                 "rendering_provider_id": str(colleague.user_id)})
    elena_claim = call(billing.build_claim, c["staff"], patient_id=c["elena"])
    visit_charges(c, signed_visit(c, patient=c["omar"]), lines=[{"code": "99213", "pointers": [1]}])
    omar_claim = call(billing.build_claim, c["staff"], patient_id=c["omar"])
    for name, who in (("staff", c["staff"]), ("admin", actor(ADMIN)), ("doc", c["doc"]), ("colleague", colleague),
                      ("outsider", c["outsider"]), ("elena", actor(Role.PATIENT, c["elena"])),
                      ("omar", actor(Role.PATIENT, c["omar"]))):
        tokens[name] = (who, frozenset({"user/*.rs"} if who.role != Role.PATIENT else {"patient/*.rs"}), "billing-app")
    return {**c, "elena_claim": str(elena_claim.id), "omar_claim": str(omar_claim.id), "web": client()}


def _get(b, who: str, url: str, **params):
    return b["web"].get(url, params=params, headers={"Authorization": f"Bearer {who}"})


def _search(b, who: str, rtype: str, pid) -> list[dict]:
    answer = _get(b, who, f"/fhir/{rtype}", patient=str(pid))
    assert answer.status_code == 200, answer.text
    return [e["resource"] for e in valid(answer.json())["entry"]]


def _codes(resource: dict) -> list[str]:
    return [i["productOrService"]["coding"][0]["code"] for i in resource["item"]]


def test_money_is_exact_dollars_from_integer_cents():
    assert money(15000) == {"value": 150, "currency": "USD"}
    assert money(2050) == {"value": 20.5, "currency": "USD"} and money(1) == {"value": 0.01, "currency": "USD"}


def test_the_front_desk_and_admins_read_every_line_of_a_claim(billed):
    for who in ("staff", "admin"):
        [claim] = _search(billed, who, "Claim", billed["elena"])
        assert claim["id"] == billed["elena_claim"] and sorted(_codes(claim)) == ["36415", "71046", "99213"]
        assert claim["total"] == {"value": 290, "currency": "USD"}
        assert claim["patient"]["reference"] == f"Patient/{billed['elena']}"
        assert claim["diagnosis"][0]["diagnosisCodeableConcept"]["coding"][0]["code"]
        [eob] = _search(billed, who, "ExplanationOfBenefit", billed["elena"])
        assert eob["claim"]["reference"] == f"Claim/{billed['elena_claim']}" and eob["outcome"] == "queued"
        submitted = next(a for a in eob["item"][0]["adjudication"] if a["category"]["coding"][0]["code"] == "submitted")
        assert submitted["amount"]["currency"] == "USD"
        assert eob["payment"]["amount"] == {"value": 0, "currency": "USD"}  # nothing paid yet
    [answer] = _search(billed, who, "ClaimResponse", billed["elena"])
    assert answer["request"]["reference"] == f"Claim/{billed['elena_claim']}" and answer["outcome"] == "queued"
    assert len(answer["item"]) == 3 and "payment" not in answer  # nothing paid yet
    one = _get(billed, "staff", f"/fhir/ExplanationOfBenefit/{billed['elena_claim']}")
    assert one.status_code == 200 and valid(one.json())["id"] == billed["elena_claim"]
    assert valid(_get(billed, "staff", f"/fhir/Claim/{billed['omar_claim']}").json())["resourceType"] == "Claim"


def test_the_patient_reads_her_own_claims_and_another_patients_is_404(billed):
    [claim] = _search(billed, "elena", "Claim", billed["elena"])
    assert sorted(_codes(claim)) == ["36415", "71046", "99213"]
    assert _get(billed, "elena", f"/fhir/Claim/{billed['elena_claim']}").status_code == 200
    for url in (f"/fhir/Claim/{billed['omar_claim']}", f"/fhir/ExplanationOfBenefit/{billed['omar_claim']}",
                f"/fhir/ClaimResponse/{billed['omar_claim']}"):
        answer = _get(billed, "elena", url)
        assert answer.status_code == 404 and valid(answer.json())["resourceType"] == "OperationOutcome"
    assert _get(billed, "elena", "/fhir/Claim", patient=str(billed["omar"])).json()["total"] == 0


def test_a_doctor_sees_only_the_lines_of_their_own_visits(billed):
    [mine] = _search(billed, "doc", "Claim", billed["elena"])
    assert sorted(_codes(mine)) == ["71046", "99213"] and mine["total"]["value"] == 270
    [theirs] = _search(billed, "colleague", "ExplanationOfBenefit", billed["elena"])
    assert _codes(theirs) == ["36415"]
    assert _search(billed, "colleague", "Claim", billed["omar"]) == []  # not on Omar's care team
    assert _get(billed, "colleague", f"/fhir/Claim/{billed['omar_claim']}").status_code == 404
    assert _search(billed, "outsider", "Claim", billed["elena"]) == []  # on no one's care team
    assert _get(billed, "outsider", f"/fhir/ExplanationOfBenefit/{billed['elena_claim']}").status_code == 404


def test_the_claim_read_is_audited_for_the_patients_access_log(billed):
    from tests.integration.identity_support import events

    _search(billed, "doc", "Claim", billed["elena"])
    last = events("billing.claim.read")[-1]
    assert str(last.patient_id) == str(billed["elena"]) and last.detail["own_lines"] is True


def test_scopes_narrow_claims_and_the_capability_statement_lists_them(billed, tokens):  # noqa: F811 (the fixture)
    tokens["vitals-only"] = (actor(Role.PATIENT, billed["elena"]), frozenset({"patient/Observation.rs"}), "bp-app")
    refused = _get(billed, "vitals-only", "/fhir/Claim", patient=str(billed["elena"]))
    assert refused.status_code == 403 and valid(refused.json())["resourceType"] == "OperationOutcome"
    body = client().get("/fhir/metadata").json()
    served = {r["type"]: {i["code"] for i in r["interaction"]} for r in body["rest"][0]["resource"]}
    assert all({"read", "search-type"} <= served[t] for t in ("Claim", "ClaimResponse", "ExplanationOfBenefit"))


def test_after_the_payer_answers_the_eob_shows_what_was_paid_and_what_is_left_to_the_patient(billed):
    call(billing.submit_claims, billed["staff"], claim_ids=[billed["omar_claim"]])
    [posted] = call(billing.fetch_remittances, billed["staff"])
    view = call(billing.get_claim, billed["staff"], claim_id=billed["omar_claim"])
    [line] = view.lines
    [eob] = _search(billed, "omar", "ExplanationOfBenefit", billed["omar"])
    assert eob["outcome"] in ("complete", "partial") and eob["payment"]["amount"] == money(posted.paid_cents)
    paid = next(a for a in eob["item"][0]["adjudication"] if a["category"].get("coding", [{}])[0].get("code") == "benefit")
    assert paid["amount"] == money(line.paid_cents)
    left = next(t for t in eob["total"] if t["category"].get("text") == "patient responsibility")
    assert left["amount"] == money(line.patient_cents)
    [answer] = _search(billed, "omar", "ClaimResponse", billed["omar"])
    assert answer["payment"]["amount"] == money(posted.paid_cents)
