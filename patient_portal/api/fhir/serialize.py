"""The areas' DTOs (form strings, ``Coding``s, readings) as FHIR R4 JSON, one function per resource.

Reads are serialized from DTOs (no validation cost); tests validate every shape with
``fhir.resources.R4B``. US Core profiles are claimed where the issue names them and their
must-support elements are filled from what the record holds.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from patient_portal.core.coding import FORMULARY, Coding
from patient_portal.domain.history.dto import coding_of

US_CORE = "http://hl7.org/fhir/us/core/StructureDefinition/"
MRN_SYSTEM = "urn:patient-portal:mrn"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFY = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
ALLERGY_VERIFY = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
UCUM = "http://unitsofmeasure.org"
GENDER = {"female": "female", "male": "male", "intersex": "other", "unknown": "unknown"}
ALLERGY_CATEGORY = {"medication": "medication", "drug_class": "medication", "food": "food",
                    "environment": "environment"}
SEVERITY = {"mild": "mild", "moderate": "moderate", "severe": "severe"}
MED_STATUS = {"active": "active", "stopped": "stopped", "completed": "completed"}
#: history kind -> FHIR resource type
KIND_TYPES = {"conditions": "Condition", "allergies": "AllergyIntolerance", "medications": "MedicationStatement",
              "immunizations": "Immunization"}
TYPE_KINDS = {v: k for k, v in KIND_TYPES.items()}


def _meta(version: Any, profile: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"versionId": str(version)}
    if profile:
        meta["profile"] = [US_CORE + profile]
    return meta


def _concept(coding: Coding | None, text: str) -> dict[str, Any]:
    concept: dict[str, Any] = {}
    if coding is not None and coding.system.startswith(("http", "urn")):
        concept["coding"] = [{k: v for k, v in (("system", coding.system), ("code", coding.code),
                                                 ("display", coding.display)) if v}]
    if text:
        concept["text"] = text
    return concept or {"text": "unknown"}


def ref(rtype: str, rid: Any) -> dict[str, str]:
    return {"reference": f"{rtype}/{rid}"}


def patient(summary: dict[str, Any], basic: dict[str, str], version: Any) -> dict[str, Any]:
    """US Core Patient: identifier (MRN), name, gender, birth date; telecom, address, language."""
    out: dict[str, Any] = {
        "resourceType": "Patient", "id": summary["id"], "meta": _meta(version, "us-core-patient"),
        "identifier": [{"system": MRN_SYSTEM, "value": summary["mrn"],
                        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                                             "code": "MR"}]}}],
        "active": summary.get("status") == "active",
        "name": [{"use": "official", "family": basic["family_name"], "given": [basic["given_name"]]}],
        "gender": GENDER.get(basic.get("sex", ""), "unknown"),
        "birthDate": basic["date_of_birth"],
    }
    telecom = [{"system": "phone", "value": basic[f"phone_{t}"], "use": u}
               for t, u in (("mobile", "mobile"), ("home", "home"), ("work", "work")) if basic.get(f"phone_{t}")]
    if basic.get("email"):
        telecom.append({"system": "email", "value": basic["email"]})
    if telecom:
        out["telecom"] = telecom
    lines = [basic[k] for k in ("address_line1", "address_line2") if basic.get(k)]
    address = {k: v for k, v in (("city", basic.get("city")), ("state", basic.get("region")),
                                 ("postalCode", basic.get("postal_code")), ("country", basic.get("country"))) if v}
    if lines or address:
        out["address"] = [{**({"line": lines} if lines else {}), **address}]
    if basic.get("preferred_language"):
        out["communication"] = [{"language": {"text": basic["preferred_language"]}}]
    return out


def condition(pid: Any, v: dict[str, str]) -> dict[str, Any]:
    """US Core Condition (problem list item)."""
    status = v.get("status") or "active"
    out: dict[str, Any] = {
        "resourceType": "Condition", "id": v["id"], "meta": _meta(v["version"], "us-core-condition-problems-health-concerns"),
        "clinicalStatus": {"coding": [{"system": CLINICAL, "code": status}]},
        "verificationStatus": {"coding": [{"system": VERIFY, "code": "confirmed"}]},
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category",
                                  "code": "problem-list-item"}]}],
        "code": _concept(coding_of("conditions", v), v.get("description", "")),
        "subject": ref("Patient", pid),
    }
    if v.get("onset"):
        out["onsetDateTime"] = v["onset"]
    if v.get("note"):
        out["note"] = [{"text": v["note"]}]
    return out


def allergy(pid: Any, v: dict[str, str]) -> dict[str, Any]:
    """US Core AllergyIntolerance."""
    status = v.get("status") or "active"
    verified = "unconfirmed" if v.get("verification") == "patient-reported" else "confirmed"
    out: dict[str, Any] = {
        "resourceType": "AllergyIntolerance", "id": v["id"], "meta": _meta(v["version"], "us-core-allergyintolerance"),
        "clinicalStatus": {"coding": [{"system": ALLERGY_CLINICAL, "code": status}]},
        "verificationStatus": {"coding": [{"system": ALLERGY_VERIFY, "code": verified}]},
        "code": _concept(coding_of("allergies", v), v.get("substance", "")),
        "patient": ref("Patient", pid),
    }
    if v.get("category") in ALLERGY_CATEGORY:
        out["category"] = [ALLERGY_CATEGORY[v["category"]]]
    if v.get("criticality") in ("low", "high", "unable-to-assess"):
        out["criticality"] = v["criticality"]
    if v.get("reaction"):
        reaction: dict[str, Any] = {"manifestation": [{"text": v["reaction"]}]}
        if v.get("severity") in SEVERITY:
            reaction["severity"] = SEVERITY[v["severity"]]
        out["reaction"] = [reaction]
    return out


def medication(pid: Any, v: dict[str, str]) -> dict[str, Any]:
    """MedicationStatement: what the patient takes (the medication list)."""
    out: dict[str, Any] = {
        "resourceType": "MedicationStatement", "id": v["id"], "meta": _meta(v["version"]),
        "status": MED_STATUS.get(v.get("status", ""), "unknown"),
        "medicationCodeableConcept": _concept(coding_of("medications", v), v.get("name", "")),
        "subject": ref("Patient", pid),
    }
    period = {k: v[f] for k, f in (("start", "start_date"), ("end", "stop_date")) if v.get(f)}
    if period:
        out["effectivePeriod"] = period
    dosage = " ".join(p for p in (v.get("dose"), v.get("route"), v.get("frequency")) if p)
    if dosage:
        out["dosage"] = [{"text": dosage}]
    return out


def immunization(pid: Any, v: dict[str, str]) -> dict[str, Any]:
    """US Core Immunization: status, CVX vaccine code, patient, occurrence, primarySource."""
    out: dict[str, Any] = {
        "resourceType": "Immunization", "id": v["id"], "meta": _meta(v["version"], "us-core-immunization"),
        "status": "completed",
        "vaccineCode": _concept(coding_of("immunizations", v), v.get("vaccine", "")),
        "patient": ref("Patient", pid),
        "primarySource": False,
    }
    if v.get("given_on"):
        out["occurrenceDateTime"] = v["given_on"]
    else:
        out["occurrenceString"] = "unknown"
    if v.get("lot"):
        out["lotNumber"] = v["lot"]
    if v.get("site"):
        out["site"] = {"text": v["site"].replace("_", " ")}
    if v.get("route"):
        out["route"] = {"text": v["route"]}
    if v.get("dose_number"):
        out["protocolApplied"] = [{"doseNumberString": v["dose_number"]}]
    return out


def history_entry(kind: str, pid: Any, values: dict[str, str]) -> dict[str, Any]:
    return {"conditions": condition, "allergies": allergy, "medications": medication,
            "immunizations": immunization}[kind](pid, values)


def observation(pid: Any, reading: Any, set_id: Any) -> dict[str, Any]:
    """US Core vital-sign Observation: one value of a set (id ``<set>.<key>``), LOINC + UCUM."""
    meta = _meta(1, "us-core-vital-signs")
    if getattr(reading, "updated_at", None) is not None:
        meta["lastUpdated"] = reading.updated_at.astimezone(UTC).isoformat()
    return {
        "resourceType": "Observation", "id": f"{set_id}.{reading.key.replace('_', '-')}", "meta": meta,
        "status": "final" if reading.verified else "preliminary",
        "category": [{"coding": [{"system": OBS_CATEGORY, "code": "vital-signs"}]}],
        "code": _concept(reading.coding, reading.coding.display or reading.key),
        "subject": ref("Patient", pid),
        "effectiveDateTime": reading.effective_at.isoformat(),
        "valueQuantity": {"value": float(reading.value), "unit": reading.unit_label or reading.unit,
                          "system": UCUM, "code": reading.unit},
    }


LAB_STATUS = {"to_review": "preliminary", "reviewed": "preliminary", "held": "final", "released": "final"}
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"


def lab_observation(pid: Any, result: Any, *, status: str, specimen_date: Any, panel_name: str) -> dict[str, Any]:
    """US Core Laboratory Result Observation: one test of a lab report (id: the result's own id),
    LOINC coded; a number with its UCUM unit or the lab's words; range and flag as the lab gave them.
    ``status`` is the panel's (to review or reviewed: preliminary; released: final; a correction:
    corrected)."""
    out: dict[str, Any] = {
        "resourceType": "Observation", "id": str(result.id), "meta": _meta(1, "us-core-observation-lab"),
        "status": "corrected" if result.corrects_id and status in ("released", "held") else LAB_STATUS.get(status, "preliminary"),
        "category": [{"coding": [{"system": OBS_CATEGORY, "code": "laboratory"}]}],
        "code": _concept(result.coding, result.coding.display or result.coding.code),
        "subject": ref("Patient", pid),
        "effectiveDateTime": specimen_date.isoformat(),
    }
    if result.number is not None:
        out["valueQuantity"] = {"value": float(result.number), "unit": result.unit or "1", "system": UCUM,
                                "code": result.unit or "1"}
    else:
        out["valueString"] = result.value
    if result.flag in ("L", "H", "N", "A"):
        out["interpretation"] = [{"coding": [{"system": INTERPRETATION, "code": result.flag}]}]
    span: dict[str, Any] = {}
    for key, bound in (("low", result.ref_low), ("high", result.ref_high)):
        if bound is not None:
            span[key] = {"value": float(bound), "unit": result.unit or "1", "system": UCUM, "code": result.unit or "1"}
    if result.ref_text:
        span["text"] = result.ref_text
    if span:
        out["referenceRange"] = [span]
    if panel_name:
        out["note"] = [{"text": f"Part of the report: {panel_name}"}]
    return out


def related_person(pid: Any, v: dict[str, str], index: int) -> dict[str, Any]:
    """An emergency contact."""
    out: dict[str, Any] = {"resourceType": "RelatedPerson", "id": v.get("id") or f"{pid}-contact-{index}",
                           "patient": ref("Patient", pid),
                           "relationship": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0131",
                                                         "code": "C"}], "text": v.get("relationship") or "contact"}]}
    if v.get("name"):
        out["name"] = [{"text": v["name"]}]
    if v.get("phone"):
        out["telecom"] = [{"system": "phone", "value": v["phone"]}]
    return out


def medication_request(view: Any) -> dict[str, Any]:
    """US Core MedicationRequest: a prescription as signed (status, intent, drug, patient, authoredOn,
    requester, dosage instruction)."""
    out: dict[str, Any] = {
        "resourceType": "MedicationRequest", "id": str(view.id), "meta": _meta(1, "us-core-medicationrequest"),
        "status": view.status if view.status in ("active", "stopped", "completed", "cancelled") else "unknown",
        "intent": "order",
        "medicationCodeableConcept": _concept(Coding(FORMULARY, view.drug, view.drug_name) if view.drug else None,
                                              view.drug_name),
        "subject": ref("Patient", view.patient_id),
        "authoredOn": view.signed_at.isoformat(),
        "requester": {"display": view.prescriber_name or "the clinic"},
    }
    if view.sig_words:
        out["dosageInstruction"] = [{"text": view.sig_words}]
    if view.renews_id:
        out["priorPrescription"] = ref("MedicationRequest", view.renews_id)
    return out


def coverage(pid: Any, v: dict[str, str]) -> dict[str, Any]:
    """US Core Coverage: status, type, subscriber id, beneficiary, relationship, period, payor, plan."""
    out: dict[str, Any] = {
        "resourceType": "Coverage", "id": v["id"], "meta": _meta(1, "us-core-coverage"),
        "status": "active",
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "HIP",
                             "display": "health insurance plan policy"}]},
        "subscriberId": v.get("member_id", ""),
        "beneficiary": ref("Patient", pid),
        "relationship": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/subscriber-relationship",
                                     "code": v.get("relationship") or "self"}]},
        "payor": [{"display": v.get("payer") or "unknown"}],
        "order": {"primary": 1, "secondary": 2, "tertiary": 3}.get(v.get("order", ""), 1),
    }
    if not out["subscriberId"]:
        del out["subscriberId"]
    period = {k: v[f] for k, f in (("start", "effective_date"), ("end", "end_date")) if v.get(f)}
    if period:
        out["period"] = period
    classes = [{"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/coverage-class",
                                     "code": code}]}, "value": v[f], **({"name": v[f]} if code == "plan" else {})}
               for code, f in (("group", "group_number"), ("plan", "plan")) if v.get(f)]
    if classes:
        out["class"] = classes
    if v.get("subscriber_name"):
        out["subscriber"] = {"display": v["subscriber_name"]}
    return out


def _instant(value: Any) -> str:
    """An aware datetime as a FHIR instant/dateTime (naive values are UTC, as the database keeps them)."""
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


ENCOUNTER_CLASS = {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB",
                   "display": "ambulatory"}


def encounter(pid: Any, item: Any) -> dict[str, Any]:
    """A visit as an Encounter: a signed note is a finished visit, a draft one in progress. `item` is a
    visit list row (clinicians: ``author_name``) or a patient's summary (``clinician``)."""
    signed = getattr(item, "status", "signed") == "signed"
    clinician = getattr(item, "author_name", None) or getattr(item, "clinician", "")
    out: dict[str, Any] = {
        "resourceType": "Encounter", "id": str(item.id), "meta": _meta(1),
        "status": "finished" if signed else "in-progress", "class": ENCOUNTER_CLASS,
        "subject": ref("Patient", pid), "period": {"start": _instant(item.visit_at)},
    }
    if clinician:
        out["participant"] = [{"individual": {"display": clinician}}]
    if item.reason:
        out["reasonCode"] = [{"text": item.reason}]
    diagnoses = [d for d in getattr(item, "diagnoses", ()) if d]
    if diagnoses:
        out["diagnosis"] = [{"condition": {"display": d}} for d in diagnoses]
    return out


def practitioner(pid: Any, name: str) -> dict[str, Any]:
    """A doctor of the clinic: an id and a name (the directory holds nothing more)."""
    out: dict[str, Any] = {"resourceType": "Practitioner", "id": str(pid), "meta": _meta(1), "active": True}
    if name:
        parts = name.split()
        out["name"] = [{"text": name, "family": parts[-1], **({"given": parts[:-1]} if len(parts) > 1 else {})}]
    return out


def appointment(view: Any) -> dict[str, Any]:
    """An appointment (the area keeps FHIR's status codes): the patient and the doctor as participants."""
    out: dict[str, Any] = {
        "resourceType": "Appointment", "id": str(view.id), "meta": _meta(view.version), "status": view.status,
        "serviceType": [{"text": view.visit_type}] if view.visit_type else [],
        "start": _instant(view.start), "end": _instant(view.end),
        "participant": [
            {"actor": {**ref("Patient", view.patient_id), "display": view.patient_name}, "status": "accepted"},
            {"actor": {**ref("Practitioner", view.doctor_id), "display": view.doctor_name}, "status": "accepted"},
        ],
    }
    if not out["serviceType"]:
        del out["serviceType"]
    if view.reason:
        out["reasonCode"] = [{"text": view.reason}]
    if view.cancel_reason is not None:
        out["cancelationReason"] = _concept(view.cancel_reason, view.cancel_reason.display or "")
    return out


#: document category -> (LOINC document type, display); the others carry their label as text
DOC_TYPES = {"lab_result": ("11502-2", "Laboratory report"), "imaging_report": ("18748-4", "Diagnostic imaging study"),
             "prescription": ("57833-6", "Prescription for medication"), "medical_document": ("34109-9", "Note"),
             "advance_directive": ("42348-3", "Advance directives"), "consent_form": ("59284-0", "Patient Consent"),
             "insurance_card": ("64290-0", "Health insurance card")}
DOC_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category"


def document_reference(base: str, doc: Any, media_type: str, clinical: bool) -> dict[str, Any]:
    """US Core DocumentReference: status, type (LOINC), category, subject, date, author, the
    attachment (its content from ``Binary/<id>``: the documents area's authorizing, audited download).
    A document held back from this reader says only that it exists (no title, no address)."""
    loinc = DOC_TYPES.get(doc.category)
    kind = {"coding": [{"system": "http://loinc.org", "code": loinc[0], "display": loinc[1]}], "text": doc.category_label
            } if loinc else {"text": doc.category_label}
    attachment: dict[str, Any] = {"contentType": media_type, "creation": _instant(doc.uploaded_at)}
    if not doc.restricted:
        attachment.update(url=f"{base}/Binary/{doc.id}", size=int(doc.size_bytes), title=doc.title)
    out: dict[str, Any] = {
        "resourceType": "DocumentReference", "id": str(doc.id), "meta": _meta(doc.version, "us-core-documentreference"),
        "status": "current" if doc.status == "active" else "entered-in-error",
        "type": kind,
        "category": [{"coding": [{"system": DOC_CATEGORY, "code": "clinical-note", "display": "Clinical Note"}]}
                     if clinical else {"text": doc.category_label}],
        "subject": ref("Patient", doc.patient_id), "date": _instant(doc.uploaded_at),
        "content": [{"attachment": attachment}],
    }
    if doc.uploaded_by_name:
        out["author"] = [{"display": doc.uploaded_by_name}]
    if doc.service_date and not doc.restricted:
        out["context"] = {"period": {"start": doc.service_date.isoformat()}}
    if doc.note and not doc.restricted:
        out["description"] = doc.note
    return out


PLAN_STATUS = {"active": "active", "completed": "completed", "cancelled": "revoked"}
GOAL_LIFECYCLE = {"in_progress": "active", "achieved": "completed", "not_achieved": "cancelled"}
GOAL_ACHIEVEMENT = {"in_progress": "in-progress", "achieved": "achieved", "not_achieved": "not-achieved"}
ACHIEVEMENT = "http://terminology.hl7.org/CodeSystem/goal-achievement"


def care_plan(plan: Any) -> dict[str, Any]:
    """A care plan: status, intent plan, title, the problem it addresses, its goals and activities."""
    out: dict[str, Any] = {
        "resourceType": "CarePlan", "id": str(plan.id), "meta": _meta(plan.version),
        "status": PLAN_STATUS.get(plan.status, "unknown"), "intent": "plan",
        "category": [{"coding": [{"system": "http://hl7.org/fhir/us/core/CodeSystem/careplan-category",
                                  "code": "assess-plan"}]}],
        "title": plan.title, "subject": ref("Patient", plan.patient_id), "created": _instant(plan.created_at),
        "period": {"start": _instant(plan.created_at), **({"end": _instant(plan.ended_at)} if plan.ended_at else {})},
    }
    if plan.author_name:
        out["author"] = {"display": plan.author_name}
    if plan.condition_id:
        out["addresses"] = [{**ref("Condition", plan.condition_id),
                             **({"display": plan.problem.display} if plan.problem and plan.problem.display else {})}]
    if plan.goals:
        out["goal"] = [ref("Goal", g.id) for g in plan.goals]
    if plan.activities:
        out["activity"] = [{"detail": {"status": "completed" if a.done_at else "not-started" if a.task else "in-progress",
                                       "description": a.text}} for a in plan.activities]
    return out


def goal(pid: Any, view: Any) -> dict[str, Any]:
    """A goal of a care plan, in the words the portal shows it ("Blood pressure below 130/80 mmHg")."""
    out: dict[str, Any] = {
        "resourceType": "Goal", "id": str(view.id), "meta": _meta(view.version),
        "lifecycleStatus": GOAL_LIFECYCLE.get(view.status, "active"),
        "achievementStatus": {"coding": [{"system": ACHIEVEMENT,
                                          "code": GOAL_ACHIEVEMENT.get(view.status, "in-progress")}]},
        "description": {"text": view.words}, "subject": ref("Patient", pid),
        "startDate": view.created_at.date().isoformat(),
    }
    if view.due:
        out["target"] = [{"dueDate": view.due.isoformat()}]
    if view.notes:
        out["note"] = [{"text": n.text, "time": _instant(n.written_at), "authorString": n.author_name}
                       for n in view.notes]
    return out


CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"


def consent(pid: Any, entry: Any, in_force: bool, opt_in: bool) -> dict[str, Any]:
    """One consent decision (the newest of its purpose is active, earlier ones inactive): permit when
    granted, deny when declined or withdrawn; the policy is the purpose's text at its version."""
    out: dict[str, Any] = {
        "resourceType": "Consent", "id": str(entry.id), "meta": _meta(1),
        "status": "active" if in_force else "inactive",
        "scope": {"coding": [{"system": CONSENT_SCOPE, "code": "research" if entry.purpose == "research"
                              else "patient-privacy"}]},
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0", "display": "Patient Consent"}],
                      "text": entry.title}],
        "patient": ref("Patient", pid), "dateTime": _instant(entry.when),
        "policy": [{"uri": f"urn:patient-portal:consent:{entry.purpose}:{entry.version}"}],
        "policyRule": {"coding": [{"system": ACT_CODE, "code": "OPTIN" if opt_in else "OPTOUT"}]},
        "provision": {"type": "permit" if entry.status == "granted" else "deny",
                      "purpose": [{"system": "urn:patient-portal:consent-purpose", "code": entry.purpose,
                                   "display": entry.title}]},
    }
    if entry.document_id:
        out["sourceReference"] = ref("DocumentReference", entry.document_id)
    return out


def bundle(kind: str, resources: list[dict[str, Any]], base: str, total: int | None = None,
           links: list[dict[str, str]] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"resourceType": "Bundle", "type": kind,
                           "entry": [{"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r,
                                      **({"search": {"mode": "match"}} if kind == "searchset" else {})}
                                     for r in resources]}
    if total is not None:
        out["total"] = total
    if links:
        out["link"] = links
    return out


def outcome(code: str, diagnostics: str, expression: list[str] | None = None) -> dict[str, Any]:
    issue: dict[str, Any] = {"severity": "error", "code": code, "diagnostics": diagnostics}
    if expression:
        issue["expression"] = expression
    return {"resourceType": "OperationOutcome", "issue": [issue]}
