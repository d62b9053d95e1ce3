"""Where FHIR resources come from: the area services, which authorize and audit each read.

``compartment(session, caller, pid, types, narrow)`` — every resource of one patient that the caller
may read, by type, through ``profile.get_chart`` (only the parts the types need: demographics,
emergency contacts, insurance, history; audited as a chart read with the policy's basis and
purpose), ``observations.search`` and ``results.search`` (vital signs and lab results, narrowed in
SQL by code, category, date or id for an Observation search or read),
``prescriptions``, ``visits`` (Encounter: the full list for clinicians, signed summaries for the
patient), ``appointments.for_patient``, ``documents.list_in`` (DocumentReference; the file itself is
``Binary``, the documents area's download), ``careplans.board`` (CarePlan, Goal) and
``consent.overview`` (Consent), ``fhir.claims`` (Claim, ClaimResponse and ExplanationOfBenefit: billing's rule of
who sees which claim line). Each service asks the policy and writes its own audit event; a type
the role does not read is absent (the router answers 403). ``practitioners`` is the clinic's
directory (Practitioner), outside any compartment. Each
FHIR request then appends one ``fhir.request`` audit event naming the interaction, the resource
type, the client app and how many resources went out (counts and codes only: no PHI).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import Session

from patient_portal.api.fhir import financial
from patient_portal.api.fhir import serialize as fhir
from patient_portal.api.fhir.auth import FhirCaller
from patient_portal.api.fhir.search import Narrow
from patient_portal.core.access import Action
from patient_portal.domain.appointments import service as appointments
from patient_portal.domain.careplans import service as careplans
from patient_portal.domain.consent import service as consents
from patient_portal.domain.documents import service as documents
from patient_portal.domain.documents.filetypes import KINDS as FILE_KINDS
from patient_portal.domain.documents.models import is_clinical
from patient_portal.domain.fhir import claims, records
from patient_portal.domain.fhir import service as exports
from patient_portal.domain.history import service as history
from patient_portal.domain.observations import service as observations
from patient_portal.domain.patients.common import as_uuid, guard, keep_loaded, load
from patient_portal.domain.patients.profile import get_chart
from patient_portal.domain.prescriptions import service as prescriptions
from patient_portal.domain.results import service as results
from patient_portal.domain.visits import service as visits
from patient_portal.settings import get_settings

#: Visits, appointments, documents, care plans and goals read per page, at most this many pages.
LIST_PAGES = 40
PATIENT_TYPES = ("Patient", "Condition", "AllergyIntolerance", "MedicationStatement", "Immunization",
                 "Observation", "RelatedPerson", "Coverage", "MedicationRequest", "Encounter", "Appointment",
                 "DocumentReference", "CarePlan", "Goal", "Consent", "Claim", "ClaimResponse", "ExplanationOfBenefit")
#: Types outside any patient's compartment (the clinic's directory).
DIRECTORY_TYPES = ("Practitioner", "Schedule", "Slot", "Group")
#: The audit trail (searched through the audit-log area: ``api/fhir/auditevents.py``).
LOG_TYPES = ("AuditEvent",)
#: Types read by id (the others are found by searching a patient's compartment).
READABLE = ("Patient", "Observation", *fhir.KIND_TYPES.values(), *records.BY_ID, *DIRECTORY_TYPES, *LOG_TYPES)


#: FHIR types read from the chart (``patients.get_chart``), and which of its parts each needs.
CHART_PARTS: dict[str, tuple[str, ...]] = {
    "Patient": (), "RelatedPerson": ("emergency",), "Coverage": ("insurance",),
    **{rtype: ("clinical",) for rtype in fhir.KIND_TYPES.values()}}


def compartment(session: Session, caller: FhirCaller, pid: Any, types: set[str],
                narrow: Narrow | None = None) -> dict[str, list[dict[str, Any]]]:
    """{type: [resource …]} for the patient `pid`, only the `types` asked for and the caller's role
    reads (a section the role does not read is absent, not empty). AccessDenied / PatientNotFound
    from the services pass through (the router turns both into 404 for someone signed in).

    Only what `types` need is read: the chart's parts they name (a Patient read decrypts no
    history), and no chart at all for the other areas' types (each area's service asks the policy
    itself; when the role reads none of them, the demographics decision says 404 or 403).
    `narrow` (Observation search: codes, category, dates) is handed to the areas as SQL filters;
    it is a superset of what matches, and the caller still filters with ``search.matches``."""
    actor = caller.actor
    keep_loaded(session)  # the areas below each load the patient: once from the database is enough
    out: dict[str, list[dict[str, Any]]] = {}
    from_chart = types & CHART_PARTS.keys()
    if from_chart:
        chart = get_chart(session, actor, pid, parts={p for t in from_chart for p in CHART_PARTS[t]},
                          kinds={k for k, t in fhir.KIND_TYPES.items() if t in types})
        pid = chart["patient"]["id"]
        if "Patient" in types:
            out["Patient"] = [fhir.patient(chart["patient"], chart["basic"], chart["version"])]
            out["Patient"][0]["meta"]["lastUpdated"] = records.utc(chart["updated_at"]).isoformat()
        if "RelatedPerson" in types and chart["emergency"] is not None:
            out["RelatedPerson"] = [fhir.related_person(pid, c, i) for i, c in enumerate(chart["emergency"])]
        if "Coverage" in types and chart["insurance"] is not None:
            out["Coverage"] = [fhir.coverage(pid, v) for v in chart["insurance"]]
        if chart["history"] is not None:
            for kind, rtype in fhir.KIND_TYPES.items():
                if rtype in types:
                    out[rtype] = [fhir.history_entry(kind, pid, v) for v in chart["history"].get(kind, [])]
    else:
        pid = str(as_uuid(pid))  # a malformed id: PatientNotFound (404)
    if "MedicationRequest" in types and actor.can(Action.PRESCRIPTION_READ):
        out["MedicationRequest"] = [fhir.medication_request(v)
                                    for v in prescriptions.list_prescriptions(session, actor, patient_id=pid)]
    if "Observation" in types:
        narrow = narrow or Narrow()
        if actor.can(Action.OBSERVATION_READ) and narrow.vitals:
            out["Observation"] = [fhir.observation(pid, r, r.set_id) for r in observations.search(
                session, actor, patient_id=pid, codes=narrow.codes, start=narrow.start, end=narrow.end,
                set_id=narrow.set_id)]
        labs = lab_results(session, actor, pid, narrow) if narrow.labs else None
        if labs is not None:
            out.setdefault("Observation", []).extend(labs)
        elif not narrow.labs and (actor.can(Action.RESULT_READ) or actor.can(Action.RESULT_OWN_READ)):
            out.setdefault("Observation", [])  # the role reads lab results; none can match the category
        if not narrow.vitals and actor.can(Action.OBSERVATION_READ):
            out.setdefault("Observation", [])
    if "Encounter" in types and (actor.can(Action.VISIT_READ) or actor.can(Action.VISIT_SUMMARY_READ)):
        read = visits.list_notes if actor.can(Action.VISIT_READ) else visits.summaries
        out["Encounter"] = [fhir.encounter(pid, item) for item in _pages(
            lambda n: read(session, actor, patient_id=pid, page=n))]
    if "Appointment" in types and actor.can(Action.APPOINTMENT_READ):
        booked = appointments.for_patient(session, actor, patient_id=pid, past_limit=500)
        out["Appointment"] = [fhir.appointment(v) for v in booked.upcoming + booked.past]
    if "DocumentReference" in types and (actor.can(Action.CLINICAL_DOC_READ) or actor.can(Action.ADMIN_DOC_READ)):
        base = get_settings().public_url + "/fhir"
        out["DocumentReference"] = [
            fhir.document_reference(base, d, FILE_KINDS[d.kind].media_type if d.kind in FILE_KINDS
                                    else "application/octet-stream", is_clinical(d.category))
            for d in _pages(lambda n: documents.list_in(session, actor, patient_id=pid, page=n, page_size=50))]
    if types & {"CarePlan", "Goal"} and actor.can(Action.CAREPLAN_READ):
        plans = careplans.board(session, actor, patient_id=pid).plans
        if "CarePlan" in types:
            out["CarePlan"] = [fhir.care_plan(p) for p in plans]
        if "Goal" in types:
            out["Goal"] = [fhir.goal(pid, g) for p in plans for g in p.goals]
    if "Consent" in types and actor.can(Action.CONSENT_READ):
        found_consents = consents.overview(session, actor, patient_id=pid)
        opt_in = {i.purpose: i.opt_in for i in found_consents.items}
        newest: set[Any] = set()
        rows = []
        for entry in found_consents.history:  # newest first: the first of each purpose is in force
            rows.append(fhir.consent(pid, entry, entry.purpose not in newest, opt_in.get(entry.purpose, True)))
            newest.add(entry.purpose)
        out["Consent"] = rows
    if types & {"Claim", "ClaimResponse", "ExplanationOfBenefit"} and any(
            actor.can(a) for a in (Action.BILLING_ACCOUNT_READ, Action.STATEMENT_READ, Action.CHARGE_OWN_READ)):
        found_claims = claims.claims(session, actor, patient_id=pid)
        if "Claim" in types:
            out["Claim"] = [financial.claim(c) for c in found_claims]
        if "ClaimResponse" in types:
            out["ClaimResponse"] = [financial.claim_response(c) for c in found_claims]
        if "ExplanationOfBenefit" in types:
            out["ExplanationOfBenefit"] = [financial.explanation_of_benefit(c) for c in found_claims]
    if not from_chart and not out:
        guard(session, actor, Action.DEMOGRAPHICS_READ, patient_id=as_uuid(pid))  # unreachable: 404, else 403
        load(session, pid)
    stamp(session, out)
    return out


def lab_results(session: Session, actor: Any, pid: Any, narrow: Narrow | None = None) -> list[dict[str, Any]] | None:
    """The patient's lab results as Observations, by the results area's own search: a clinician's
    (every report, to review and held ones too; superseded results left out) or the patient's own
    (released reports only: a held one has no values yet), narrowed by code and specimen date.
    None when the role reads neither."""
    narrow = narrow or Narrow()
    found = results.search(session, actor, patient_id=pid, codes=narrow.codes,
                           first=narrow.start.date() if narrow.start else None,
                           last=narrow.end.date() if narrow.end else None, result_id=narrow.result_id)
    if found is None:
        return None
    return [fhir.lab_observation(pid, r, status=status, specimen_date=day, panel_name=name)
            for r, status, day, name in found]


def _pages(read: Any) -> list[Any]:
    """Every item of a paged service read (``read(page)`` gives ``.items`` and ``.total``), at most
    LIST_PAGES pages."""
    items: list[Any] = []
    for number in range(1, LIST_PAGES + 1):
        page = read(number)
        items.extend(page.items)
        if not page.items or len(items) >= page.total:
            break
    return items


def stamp(session: Session, found: dict[str, list[dict[str, Any]]]) -> None:
    """Fill ``meta.lastUpdated`` of every resource from its row (one statement per type whose
    resources do not carry it yet)."""
    for rtype, resources in found.items():
        missing = [r["id"] for r in resources if "lastUpdated" not in r.get("meta", {})]
        if not missing:
            continue
        when = records.last_updated(session, rtype, missing)
        for resource in resources:
            if resource["id"] in when:
                resource.setdefault("meta", {})["lastUpdated"] = when[resource["id"]].isoformat()


def patient_of(resource: dict[str, Any]) -> str | None:
    """The patient id a compartment resource points at (subject, patient, beneficiary, participant)."""
    if resource["resourceType"] == "Patient":
        return resource["id"]
    for key in ("subject", "patient", "beneficiary"):
        if key in resource:
            return resource[key]["reference"].removeprefix("Patient/")
    for part in resource.get("participant", []):
        reference = part.get("actor", {}).get("reference", "")
        if reference.startswith("Patient/"):
            return reference.removeprefix("Patient/")
    return None


def owner(session: Session, rtype: str, rid: str) -> uuid.UUID | None:
    """The patient a resource id belongs to (no policy: the compartment read asks it)."""
    if rtype in ("Patient",):
        try:
            return uuid.UUID(rid)
        except ValueError:
            return None
    if rtype not in READABLE:
        return None  # found by searching the patient's compartment, not read by id
    if rtype in records.BY_ID or rtype == "Observation":
        return records.patient_of(session, rtype, rid)
    kind = fhir.TYPE_KINDS.get(rtype)
    return history.patient_of(session, kind, rid) if kind else None


def record(session: Session, caller: FhirCaller, interaction: str, rtype: str, *, patient_id: Any = None,
           count: int = 0) -> None:
    """The request's own audit event: interaction, type, the client app (or the portal), how many."""
    exports.record_request(session, caller.actor, interaction=interaction, rtype=rtype, client_id=caller.client_id,
                           scoped=caller.scopes is not None, patient_id=patient_id, count=count)
