"""Where FHIR resources come from: the area services, which authorize and audit each read.

``compartment(session, caller, pid, types)`` — every resource of one patient that the caller may
read, by type, through ``profile.get_chart`` (demographics, emergency contacts, history; audited as
a chart read with the policy's basis and purpose) and ``observations.readings`` (vital signs). Each
FHIR request then appends one ``fhir.request`` audit event naming the interaction, the resource
type, the client app and how many resources went out (counts and codes only: no PHI).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import Session

from patient_portal.api.fhir import serialize as fhir
from patient_portal.api.fhir.auth import FhirCaller
from patient_portal.core import audit
from patient_portal.core.access import Action
from patient_portal.domain.history import service as history
from patient_portal.domain.observations import service as observations
from patient_portal.domain.patients.profile import get_chart
from patient_portal.domain.prescriptions import service as prescriptions

AUDIT_ACTION = "fhir.request"
#: Vital-sign sets read per page, and how many pages a compartment read goes through at most.
OBS_PAGE, OBS_PAGES = 50, 40
PATIENT_TYPES = ("Patient", "Condition", "AllergyIntolerance", "MedicationStatement", "Immunization",
                 "Observation", "RelatedPerson", "Coverage", "MedicationRequest")
#: Types read by id (the others are found by searching a patient's compartment).
READABLE = ("Patient", *fhir.KIND_TYPES.values())


def compartment(session: Session, caller: FhirCaller, pid: Any, types: set[str]) -> dict[str, list[dict[str, Any]]]:
    """{type: [resource …]} for the patient `pid`, only the `types` asked for and the caller's role
    reads (a section the role does not read is absent, not empty). AccessDenied / PatientNotFound
    from the services pass through (the router turns both into 404 for someone signed in)."""
    actor = caller.actor
    chart = get_chart(session, actor, pid)
    pid = chart["patient"]["id"]
    out: dict[str, list[dict[str, Any]]] = {}
    if "Patient" in types:
        out["Patient"] = [fhir.patient(chart["patient"], chart["basic"], chart["version"])]
    if "RelatedPerson" in types and chart["emergency"] is not None:
        out["RelatedPerson"] = [fhir.related_person(pid, c, i) for i, c in enumerate(chart["emergency"])]
    if "Coverage" in types and chart["insurance"] is not None:
        out["Coverage"] = [fhir.coverage(pid, v) for v in chart["insurance"]]
    if chart["history"] is not None:
        for kind, rtype in fhir.KIND_TYPES.items():
            if rtype in types:
                out[rtype] = [fhir.history_entry(kind, pid, v) for v in chart["history"].get(kind, [])]
    if "MedicationRequest" in types and actor.can(Action.PRESCRIPTION_READ):
        out["MedicationRequest"] = [fhir.medication_request(v)
                                    for v in prescriptions.list_prescriptions(session, actor, patient_id=pid)]
    if "Observation" in types and actor.can(Action.OBSERVATION_READ):
        found: list[dict[str, Any]] = []
        for page in range(1, OBS_PAGES + 1):
            sets = observations.readings(session, actor, patient_id=pid, page=page, page_size=OBS_PAGE)
            for vital_set in sets.items:
                found.extend(fhir.observation(pid, r, vital_set.id) for r in vital_set.values.values())
            if page >= sets.pages:
                break
        out["Observation"] = found
    return out


def owner(session: Session, rtype: str, rid: str) -> uuid.UUID | None:
    """The patient a resource id belongs to (no policy: the compartment read asks it)."""
    if rtype in ("Patient",):
        try:
            return uuid.UUID(rid)
        except ValueError:
            return None
    if rtype not in READABLE:
        return None  # found by searching the patient's compartment, not read by id
    kind = fhir.TYPE_KINDS.get(rtype)
    return history.patient_of(session, kind, rid) if kind else None


def record(session: Session, caller: FhirCaller, interaction: str, rtype: str, *, patient_id: Any = None,
           count: int = 0) -> None:
    """The request's own audit event: interaction, type, the client app (or the portal), how many."""
    patient_id = uuid.UUID(str(patient_id)) if patient_id is not None else None
    audit.record(session, caller.actor, AUDIT_ACTION, patient_id=patient_id, object_type=rtype,
                 detail={"interaction": interaction, "client": caller.client_id or "portal", "count": count,
                         "scoped": caller.scopes is not None})
