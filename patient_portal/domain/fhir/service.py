"""Bulk export requests: the one way to the ``fhir_export`` table.

``request_export`` (system and group level: admins and Backend Services apps, the refusal audited;
a group is a doctor's care team: ``care_teams`` / ``care_team``), ``own_export`` (the requester's
own, unexpired), ``cancel_export``, ``export_file`` (which blob, audited as a download) and, for the
job, ``patients_for`` (every active patient the requester reaches: ``access.reach_filter``),
``start`` / ``still_wanted`` / ``progress`` / ``finish``. The NDJSON itself is written by
``api/fhir/bulk.py`` (FHIR serialization lives in the API layer).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlmodel import Session, col, select

from patient_portal.core import audit, jobs
from patient_portal.core.access import Action, Actor, CareTeamMember, Resource, Role, reach_filter, require
from patient_portal.core.crypto import plain_rows
from patient_portal.core.db import utcnow
from patient_portal.core.errors import NotFound
from patient_portal.core.storage import get_blob_store
from patient_portal.domain.fhir.models import CANCELLED, DONE, QUEUED, RUNNING, FhirExport
from patient_portal.domain.identity.models import User
from patient_portal.domain.patients.models import STATUS_ACTIVE, Patient

JOB = "fhir.export"
EXPORTED = "fhir.export"
REQUESTED = "fhir.request"  # one event per FHIR API request, besides the areas' own reads
DOWNLOADED = "record.download"  # the patient's "Download my record"
GROUPS = "fhir.group.read"  # the care teams as FHIR Groups (bulk export by group)
KEEP = timedelta(days=1)
#: FHIR interactions that only read (their request event needs no chain lock).
READ_INTERACTIONS = frozenset({"read", "vread", "history", "search", "everything"})


def request_export(session: Session, actor: Actor, *, level: str, types: list[str], url: str,
                   client_id: str | None, scopes: frozenset[str] | None, since: str | None = None,
                   group: Any = None) -> FhirExport:
    """Queue an export job; the system and group levels need Action.REPORTS (admins, Backend
    Services apps). `group` (group level): a care team's id (``care_team``). `since` (an ISO
    instant): only resources changed at or after it (the job reads both from its payload)."""
    if level in ("system", "group"):
        require(session, actor, Action.REPORTS, Resource(), audit_as=EXPORTED, object_type="fhir_export")
    if level == "group":
        group = care_team(session, actor, group_id=group)[0]
    export = FhirExport(requested_by=actor.user_id, client_id=client_id, level=level, types=types,
                        request_url=url[:2000])
    session.add(export)
    session.flush()
    jobs.enqueue(session, JOB, {"export": str(export.id), "user": str(actor.user_id), "role": str(actor.role),
                                "patient": str(actor.patient_id) if actor.patient_id else None,
                                "name": actor.display_name, "scopes": sorted(scopes) if scopes else None,
                                "client": client_id, "since": since, "group": str(group) if group else None,
                                "permissions": sorted(actor.permissions) if actor.permissions is not None else None},
                 key=f"fhir-export:{export.id}", fresh=True)
    audit.record(session, actor, EXPORTED, object_type="fhir_export", object_id=export.id,
                 detail={"level": level, "types": types, "client": client_id or "portal", "step": "requested",
                         **({"since": since} if since else {})})
    return export


def own_export(session: Session, actor: Actor, *, export_id: Any) -> FhirExport:
    """The requester's own export, until it expires (NotFound for anyone else)."""
    try:
        export = session.get(FhirExport, uuid.UUID(str(export_id)[:64]))
    except ValueError:
        export = None
    if export is None or export.requested_by != actor.user_id or (
            export.expires_at is not None and export.expires_at < utcnow()):
        raise NotFound("No such export.")
    return export


def cancel_export(session: Session, actor: Actor, *, export_id: Any) -> None:
    """Cancel a waiting or running export and delete its files."""
    export = own_export(session, actor, export_id=export_id)
    store = get_blob_store()
    for f in export.files or []:
        store.delete(f["key"])
    export.status, export.files, export.progress = CANCELLED, [], "cancelled"
    session.add(export)
    jobs.cancel(session, f"fhir-export:{export.id}")
    audit.record(session, actor, EXPORTED, object_type="fhir_export", object_id=export.id,
                 detail={"step": "cancelled"})


def export_file(session: Session, actor: Actor, *, export_id: Any, index: int) -> dict[str, Any]:
    """One finished file's {type, key, wrapped, count}, its download audited (type and count only)."""
    export = own_export(session, actor, export_id=export_id)
    files = export.files or []
    if export.status != DONE or not 0 <= index < len(files):
        raise NotFound("No such file.")
    audit.record(session, actor, EXPORTED, object_type="fhir_export", object_id=export.id,
                 detail={"step": "downloaded", "type": files[index]["type"], "count": files[index]["count"]})
    return files[index]


def patients_for(session: Session, actor: Actor, level: str, group: Any = None) -> list[uuid.UUID]:
    """Active patients in the export: all (system level), a care team's (group level: the doctor's
    assigned patients) or those the requester reaches (patient level)."""
    query = select(Patient.id).where(Patient.status == STATUS_ACTIVE).order_by(Patient.id)
    if level == "group":
        query = query.where(col(Patient.id).in_(select(CareTeamMember.patient_id).where(
            CareTeamMember.user_id == uuid.UUID(str(group)))))
    elif level != "system":
        query = query.where(reach_filter(actor, Patient.id))
    return list(session.exec(query).all())


def care_teams(session: Session, actor: Actor | None) -> list[tuple[uuid.UUID, str, list[uuid.UUID], Any]]:
    """Every active doctor's care team as (doctor id, name, active patient ids, last change): the
    FHIR Group a Backend Services client exports. Admins only (``REPORTS``); audited with counts."""
    require(session, actor, Action.REPORTS, Resource(), audit_as=GROUPS, object_type="care_team")
    doctors = [(r["id"], r["display_name"], r["updated_at"]) for r in plain_rows(  # names are ciphertext at rest
        session, User, ("display_name", "updated_at"), lambda c: c.role == Role.DOCTOR.value,
        lambda c: c.active == True)]  # noqa: E712
    members = session.exec(select(CareTeamMember.user_id, CareTeamMember.patient_id, CareTeamMember.updated_at)
                           .join(Patient, col(Patient.id) == CareTeamMember.patient_id)
                           .where(Patient.status == STATUS_ACTIVE)
                           .order_by(CareTeamMember.patient_id)).all()
    found: dict[uuid.UUID, list[uuid.UUID]] = {}
    changed: dict[uuid.UUID, Any] = {}
    for doctor, patient, at in members:
        found.setdefault(doctor, []).append(patient)
        changed[doctor] = max(changed.get(doctor, at), at)
    out = [(d, name or "", found.get(d, []), max(at, changed.get(d, at))) for d, name, at in doctors]
    audit.record(session, actor, GROUPS, object_type="care_team",
                 detail={"groups": len(out), "patients": sum(len(m) for _d, _n, m, _a in out)}, purpose="operations")
    return sorted(out, key=lambda g: (g[1].casefold(), str(g[0])))


def care_team(session: Session, actor: Actor | None, *, group_id: Any) -> tuple[uuid.UUID, str, list[uuid.UUID], Any]:
    """One care team by its id (the doctor's); NotFound for anything else."""
    try:
        wanted = uuid.UUID(str(group_id)[:64])
    except ValueError:
        raise NotFound("No such group.") from None
    found = next((g for g in care_teams(session, actor) if g[0] == wanted), None)
    if found is None:
        raise NotFound("No such group.")
    return found


def start(session: Session, export_id: uuid.UUID) -> tuple[list[str], str] | None:
    """Mark a queued export running; (types, level), or None when it is no longer queued."""
    export = session.get(FhirExport, export_id)
    if export is None or export.status != QUEUED:
        return None
    export.status, export.progress = RUNNING, "reading the records"
    session.add(export)
    return list(export.types), export.level


def progress(session: Session, export_id: uuid.UUID, text: str) -> bool:
    """Record how far the job is; False when the export was cancelled meanwhile."""
    export = session.get(FhirExport, export_id)
    if export is None or export.status == CANCELLED:
        return False
    export.progress = text[:64]
    session.add(export)
    return True


def finish(session: Session, actor: Actor, export_id: uuid.UUID, files: list[dict[str, Any]], patients: int) -> bool:
    """Store the finished files (expiring after KEEP); False when the export was cancelled meanwhile."""
    export = session.get(FhirExport, export_id)
    if export is None or export.status == CANCELLED:
        return False
    export.status, export.files, export.progress = DONE, files, "done"
    export.done_at = utcnow()
    export.expires_at = export.done_at + KEEP
    session.add(export)
    audit.record(session, actor, EXPORTED, object_type="fhir_export", object_id=export_id,
                 detail={"step": "finished", "patients": patients, "files": len(files)})
    return True


def record_request(session: Session, actor: Actor | None, *, interaction: str, rtype: str, client_id: str | None,
                   scoped: bool, patient_id: Any = None, count: int = 0) -> None:
    """A FHIR API request's own audit event: the interaction, the type, the client app (or the
    portal) and how many resources it answered with (the areas audit each read themselves). The
    event of a read interaction takes the read events' way (``core.audit_queue``: committed with
    the read, chained right after it, no chain lock held through the request), so concurrent
    reads do not queue behind each other on the chain lock."""
    patient_id = uuid.UUID(str(patient_id)) if patient_id is not None else None
    audit.record(session, actor, REQUESTED, patient_id=patient_id, object_type=rtype,
                 detail={"interaction": interaction, "client": client_id or "portal", "count": count,
                         "scoped": scoped}, reading=interaction in READ_INTERACTIONS)


def record_download(session: Session, actor: Actor, *, kind: str, resources: int) -> None:
    """The patient downloaded their own record as `kind` (json or pdf) with `resources` in it."""
    audit.record(session, actor, DOWNLOADED, patient_id=actor.patient_id, object_type="patient",
                 object_id=actor.patient_id, detail={"export": kind, "resources": resources})
