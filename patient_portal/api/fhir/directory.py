"""The clinic's directory in FHIR, outside any patient's compartment: Practitioner (its doctors),
Schedule (one per doctor, with the visit types that may be booked), Slot (free times) and Group (each
doctor's care team, for admins and Backend Services: what ``Group/<id>/$export`` exports).

Slots come from the appointments area's own search (``find_slots``: the policy, the booking rules,
what this person may book), so a patient's app sees the times the portal would offer them, and
nothing about other patients. A Slot search names its visit type (``service-type``) and may name a
doctor's ``schedule`` and a ``start`` range (default: the next 14 days). A slot's id spells its
doctor, start and visit type, so reading it by id asks again whether it is still free (404 if not).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlmodel import Session

from patient_portal.api.fhir import serialize as fhir
from patient_portal.api.fhir.auth import FhirCaller
from patient_portal.api.fhir.search import BadSearch, Query
from patient_portal.domain.appointments import service as appointments
from patient_portal.domain.fhir import records
from patient_portal.domain.fhir import service as exports

VISIT_TYPE_SYSTEM = "urn:patient-portal:visit-type"
#: how far ahead a Slot search without a range looks, and the most slots one search returns
DEFAULT_DAYS, MOST = 14, 100


def practitioners(session: Session, caller: FhirCaller) -> list[dict[str, Any]]:
    """The clinic's doctors as Practitioners (the policy asked: every role that books visits)."""
    return [{**fhir.practitioner(i, name), "meta": {"versionId": "1", "lastUpdated": at.isoformat()}}
            for i, name, at in records.practitioners(session, caller.actor)]


def _service_type(vt: Any) -> dict[str, Any]:
    return {"coding": [{"system": VISIT_TYPE_SYSTEM, "code": vt.code, "display": vt.name}], "text": vt.name}


def schedules(session: Session, caller: FhirCaller) -> list[dict[str, Any]]:
    """One Schedule per doctor (its id is the doctor's), with the visit types this caller may book."""
    types = [_service_type(vt) for vt in appointments.visit_types(session, caller.actor)]
    return [{"resourceType": "Schedule", "id": doctor["id"], "meta": doctor["meta"], "active": True,
             "serviceType": types,
             "actor": [{**fhir.ref("Practitioner", doctor["id"]), "display": doctor.get("name", [{}])[0].get("text", "")}]}
            for doctor in practitioners(session, caller)]


def _slot(vt: Any, view: Any) -> dict[str, Any]:
    start = view.start.astimezone(UTC)
    return {"resourceType": "Slot", "id": f"{view.doctor_id.hex}-{start:%Y%m%d%H%M}-{vt.id.hex[:12]}",
            "meta": {"versionId": "1"}, "schedule": {**fhir.ref("Schedule", view.doctor_id),
                                                     "display": view.doctor_name},
            "status": "free", "serviceType": [_service_type(vt)],
            "start": start.isoformat().replace("+00:00", "Z"), "end": view.end.astimezone(UTC).isoformat()
            .replace("+00:00", "Z")}


def _visit_type(session: Session, caller: FhirCaller, wanted: str) -> Any:
    code = wanted.rpartition("|")[2]
    found = next((vt for vt in appointments.visit_types(session, caller.actor) if vt.code == code), None)
    if found is None:
        raise BadSearch(f"Unknown service-type {code!r}: GET /fhir/Schedule lists the visit types")
    return found


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value[2:12] if value[:2] in ("ge", "gt", "le", "lt", "eq") else value[:10])
    except ValueError:
        raise BadSearch("start must be a date such as ge2026-12-08") from None


def slots(session: Session, caller: FhirCaller, query: Query) -> list[dict[str, Any]]:
    """Free slots of one visit type (``service-type``), for one doctor (``schedule``) or any, from
    ``start=ge…`` to ``start=le…`` (default: the next 14 days). ``status`` other than free: none."""
    wanted = query.first("service-type")
    if not wanted:
        raise BadSearch("A Slot search needs service-type (a visit type code from GET /fhir/Schedule)")
    if any(s != "free" for s in query.values("status")):
        return []
    vt = _visit_type(session, caller, wanted)
    starts = query.values("start")
    first = max((_day(v) for v in starts if not v.startswith(("le", "lt"))), default=date.today())
    last = min((_day(v) for v in starts if v.startswith(("le", "lt"))), default=first + timedelta(days=DEFAULT_DAYS))
    schedule = query.first("schedule")
    doctor = schedule.removeprefix("Schedule/") if schedule else None
    views = appointments.find_slots(session, caller.actor, visit_type_id=vt.id, doctor_id=doctor,
                                    date_from=first.isoformat(), date_to=last.isoformat(),
                                    limit=min(MOST, max(1, query.count + query.offset)))
    return [_slot(vt, view) for view in views]


def slot(session: Session, caller: FhirCaller, rid: str) -> dict[str, Any] | None:
    """A slot by its id while it is still free (None: unknown, taken, or not this caller's to book)."""
    try:
        doctor_hex, stamp, type_prefix = rid.split("-")
        doctor, start = uuid.UUID(hex=doctor_hex), datetime.strptime(stamp, "%Y%m%d%H%M").replace(tzinfo=UTC)
    except ValueError:
        return None
    vt = next((v for v in appointments.visit_types(session, caller.actor) if v.id.hex.startswith(type_prefix)), None)
    if vt is None:
        return None
    views = appointments.find_slots(session, caller.actor, visit_type_id=vt.id, doctor_id=doctor,
                                    date_from=start.date().isoformat(), date_to=start.date().isoformat(), limit=MOST)
    return next((_slot(vt, v) for v in views if v.start.astimezone(UTC) == start), None)


def groups(session: Session, caller: FhirCaller) -> list[dict[str, Any]]:
    """The care teams as FHIR Groups (admins and Backend Services apps: ``REPORTS``): one per
    doctor (its id the doctor's), its members the active patients on that doctor's care team."""
    return [{"resourceType": "Group", "id": str(doctor), "meta": {"versionId": "1", "lastUpdated": _utc(at).isoformat()},
             "type": "person", "actual": True, "name": f"Care team of {name}" if name else "Care team",
             "managingEntity": {**fhir.ref("Practitioner", doctor), "display": name},
             "quantity": len(members), "member": [{"entity": fhir.ref("Patient", p)} for p in members]}
            for doctor, name, members, at in exports.care_teams(session, caller.actor)]


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
