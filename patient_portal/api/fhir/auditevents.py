"""AuditEvent: the audit trail as FHIR, searched (``GET /fhir/AuditEvent?patient=…``) and read by id
where that search would find it; never written.

The audit-log area answers (``audit_log.access_records``: its policy decision, its own audit event):

* a patient — their own access log, the rows and plain words of "Who has looked at my record" (what
  other people did with their record, no IP, no account ids); another patient's id finds nothing;
* an administrator (``AUDIT_READ``) — the whole trail, or one patient's (``patient=``), with the
  account, its role and the network address;
* every other role is refused (403), as on the screens.

Paging is the database's (``_count``, ``Bundle.link`` next/previous); newest first.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from sqlmodel import Session

from patient_portal.api.fhir.auth import FhirCaller
from patient_portal.api.fhir.search import BadSearch, Query
from patient_portal.domain.audit_log import service as audit_log

DCM = "http://dicom.nema.org/resources/ontology/DCM"
ACTION_SYSTEM = "urn:patient-portal:audit-action"
REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
PURPOSES = {"treatment": "TREAT", "payment": "HPAYMT", "operations": "HOPERAT", "patient_request": "PATRQT",
            "emergency": "ETREAT", "research": "HRESCH"}
#: the verb an action names (its last dotted part) -> FHIR AuditEvent.action (C R U D E)
VERBS = {"create": "C", "register": "C", "upload": "C", "add": "C", "write": "U", "update": "U", "sign": "U",
         "release": "U", "hold": "U", "review": "U", "correct": "U", "delete": "D", "purge": "D",
         "export": "E", "search": "E", "download": "R"}


def _verb(action: str) -> str:
    return next((VERBS[p] for p in reversed(action.split(".")) if p in VERBS), "R")


def audit_event(row: Any) -> dict[str, Any]:
    """One audit record as an R4 AuditEvent (type DICOM 110110 Patient Record, subtype the portal's
    action code, outcome 0 success / 4 refused, purpose of use from the policy's purpose)."""
    at = row.at if row.at.tzinfo else row.at.replace(tzinfo=UTC)
    agent: dict[str, Any] = {"who": {"display": row.who}, "requestor": True}
    if row.actor_id:
        agent["who"]["identifier"] = {"system": "urn:patient-portal:account", "value": str(row.actor_id)}
    if row.role:
        agent["role"] = [{"text": row.role}]
    if row.ip:
        agent["network"] = {"address": row.ip, "type": "2"}
    if row.purpose in PURPOSES:
        agent["purposeOfUse"] = [{"coding": [{"system": REASON, "code": PURPOSES[row.purpose]}]}]
    out: dict[str, Any] = {
        "resourceType": "AuditEvent", "id": str(row.id), "meta": {"versionId": "1"},
        "type": {"system": DCM, "code": "110110", "display": "Patient Record"},
        "subtype": [{"system": ACTION_SYSTEM, "code": row.action}],
        "action": _verb(row.action), "recorded": at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "outcome": "0" if row.outcome == "success" else "4",
        "outcomeDesc": row.what or row.action,
        "agent": [agent], "source": {"observer": {"display": "Patient Portal"}},
    }
    if row.patient_id:
        out["entity"] = [{"what": {"reference": f"Patient/{row.patient_id}"},
                          "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "1"}}]
    return out


def search(session: Session, caller: FhirCaller, query: Query) -> tuple[list[dict[str, Any]], int]:
    """(a page of AuditEvents, how many in all) for the query's ``patient`` (one, or none: all)."""
    named = [v.removeprefix("Patient/") for v in query.values("patient") + query.values("entity")]
    if len(named) > 1 or any("," in v for v in named):
        raise BadSearch("AuditEvent is searched for one patient at a time")
    unsupported = [k for k, _v in query.params if k.split(":")[0] in ("_id", "_lastUpdated", "_sort", "_include",
                                                                        "_revinclude")]
    if unsupported:
        raise BadSearch(f"{unsupported[0]} is not supported on AuditEvent (newest first, by patient)")
    if query.count and query.offset % query.count:
        raise BadSearch("_getpagesoffset must be a multiple of _count")
    size = max(1, min(query.count or 1, audit_log.ADMIN_PAGE_SIZE))
    query.count = size
    found = audit_log.access_records(session, caller.actor, patient_id=named[0] if named else None,
                                     page=query.offset // size + 1, page_size=size)
    return [audit_event(r) for r in found.rows], found.total


def read(session: Session, caller: FhirCaller, rid: str) -> dict[str, Any] | None:
    """One AuditEvent by id, where the caller's search would find it (None: 404)."""
    found = audit_log.access_records(session, caller.actor, page_size=1, event_id=rid)
    return audit_event(found.rows[0]) if found.rows else None
