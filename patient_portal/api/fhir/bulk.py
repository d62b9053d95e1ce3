"""Bulk Data ``$export`` (system, Group and Patient level), run as a job (``core.jobs``).

Kick-off ``GET /fhir/$export`` or ``/fhir/Patient/$export`` with ``Prefer: respond-async`` → 202 and
``Content-Location`` (the status URL). Polling it: 202 with ``X-Progress`` while the job runs, then
200 with the manifest; ``DELETE`` cancels (and removes the files). Each file is NDJSON of one type,
encrypted in the BlobStore with its own data key, served by ``/fhir/$export-file/<id>/<n>`` to the
requester only, until the export expires (a day after it finished).

Which patients: the system level is for admins (``Action.REPORTS``, refusal audited), and so is the
Group level (``/fhir/Group/<care team>/$export``: one doctor's care-team patients); the Patient
level covers every patient the caller reaches (``access.reach_filter``: a doctor's care team, a
patient's own record). Each patient's resources come from ``source.compartment`` as the requester —
the same services, policy and audit as any read — and scopes narrow the types. ``_since`` keeps the
resources whose ``meta.lastUpdated`` is at or after it (a patient's unchanged record adds nothing).
"""

from __future__ import annotations

import json
import uuid
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from sqlmodel import Session

from patient_portal.api.fhir import search, source
from patient_portal.api.fhir.auth import FhirCaller
from patient_portal.api.fhir.routes import Problem, answer, base_url, outcome, run
from patient_portal.api.fhir.scopes import scope_allows
from patient_portal.core import jobs
from patient_portal.core.access import Action, Actor, Role
from patient_portal.core.crypto import decrypt_frames, encrypt_stream, new_data_key, unwrap_data_key
from patient_portal.core.db import get_engine, unit_of_work
from patient_portal.core.errors import ServiceError
from patient_portal.core.storage import get_blob_store, new_object_key
from patient_portal.domain.fhir import service as exports
from patient_portal.domain.fhir.models import CANCELLED, FAILED, QUEUED, RUNNING, FhirExport

router = APIRouter()
JOB = exports.JOB
FORMATS = ("application/fhir+ndjson", "application/ndjson", "ndjson")


def _kickoff(session: Session, who: FhirCaller, level: str, params: dict[str, str], url: str,
             prefer: str, group: str | None = None) -> Response:
    if "respond-async" not in prefer.lower():
        raise Problem(400, "invalid", "Bulk export needs the header Prefer: respond-async.")
    if params.get("_outputFormat", FORMATS[0]) not in FORMATS:
        raise Problem(400, "invalid", "_outputFormat must be application/fhir+ndjson.")
    since = search.since_param(params.get("_since"))  # 400 for anything but a FHIR instant or date
    wanted = [t for t in params.get("_type", "").split(",") if t]
    unknown = [t for t in wanted if t not in source.PATIENT_TYPES]
    if unknown:
        raise Problem(400, "not-supported", f"Cannot export {unknown[0][:40]}.", ["_type"])
    types = [t for t in (wanted or source.PATIENT_TYPES) if scope_allows(who.scopes, t, "export")]
    if not types:
        raise Problem(403, "forbidden", "The access token's scopes allow none of these types.")
    export = exports.request_export(session, who.actor, level=level, types=types, url=url,
                                    client_id=who.client_id, scopes=who.scopes,
                                    since=since.isoformat() if since else None, group=group)
    return Response(status_code=202, headers={"Content-Location": f"{base_url()}/$export-poll/{export.id}"})


@router.get("/fhir/$export")
async def export_system(request: Request) -> Response:
    return await run(request, "Patient", "export", _kickoff, "system", dict(request.query_params),
                     str(request.url), request.headers.get("prefer", ""))


@router.get("/fhir/Patient/$export")
async def export_patients(request: Request) -> Response:
    return await run(request, "Patient", "export", _kickoff, "patient", dict(request.query_params),
                     str(request.url), request.headers.get("prefer", ""))


@router.get("/fhir/Group/{group_id}/$export")
async def export_group(group_id: str, request: Request) -> Response:
    """A care team's patients (Group id: the doctor's; ``GET /fhir/Group`` lists them): admins and
    Backend Services apps (``system/*.rs``), the same job and files as the other levels."""
    return await run(request, "Group", "export", _kickoff, "group", dict(request.query_params),
                     str(request.url), request.headers.get("prefer", ""), group_id[:64])


def _mine(session: Session, who: FhirCaller, export_id: str) -> FhirExport:
    return exports.own_export(session, who.actor, export_id=export_id)


def _poll(session: Session, who: FhirCaller, export_id: str) -> Response:
    export = _mine(session, who, export_id)
    if export.status in (QUEUED, RUNNING):
        return Response(status_code=202, headers={"X-Progress": export.progress, "Retry-After": "2"})
    if export.status == FAILED:
        return outcome(500, "exception", "The export failed; ask again.")
    if export.status == CANCELLED:
        raise Problem(404, "not-found", "The export was cancelled.")
    output = [{"type": f["type"], "url": f"{base_url()}/$export-file/{export.id}/{n}", "count": f["count"]}
              for n, f in enumerate(export.files or [])]
    return answer({"transactionTime": export.done_at.isoformat() if export.done_at else "",
                   "request": export.request_url, "requiresAccessToken": True, "output": output, "error": []},
                  headers={"Expires": export.expires_at.strftime("%a, %d %b %Y %H:%M:%S GMT")
                           if export.expires_at else ""})


def _cancel(session: Session, who: FhirCaller, export_id: str) -> Response:
    exports.cancel_export(session, who.actor, export_id=export_id)
    return Response(status_code=202)


@router.get("/fhir/$export-poll/{export_id}")
async def poll(export_id: str, request: Request) -> Response:
    return await run(request, "Patient", "export", _poll, export_id)


@router.delete("/fhir/$export-poll/{export_id}")
async def cancel(export_id: str, request: Request) -> Response:
    return await run(request, "Patient", "export", _cancel, export_id)


def _file(session: Session, who: FhirCaller, export_id: str, index: int) -> tuple[str, str]:
    found = exports.export_file(session, who.actor, export_id=export_id, index=index)
    return found["key"], found["wrapped"]


@router.get("/fhir/$export-file/{export_id}/{index}")
async def download(export_id: str, index: int, request: Request) -> Response:
    found = await run(request, "Patient", "export", lambda s, w: _FileRef(*_file(s, w, export_id, index)))
    if not isinstance(found, _FileRef):
        return found
    store = get_blob_store()

    def body() -> Iterator[bytes]:
        dek = unwrap_data_key(found.wrapped, found.key)
        for frame in decrypt_frames(store.get(found.key), dek, found.key):
            yield from frame

    return StreamingResponse(body(), media_type="application/fhir+ndjson", headers={"Cache-Control": "no-store"})


class _FileRef:
    def __init__(self, key: str, wrapped: str):
        self.key, self.wrapped = key, wrapped


# ---------------------------------------------------------------------------------------------- the job

#: Patients the job reads at once on PostgreSQL, each in its own unit of work: a patient's record is
#: some thirty short statements, and their round trips overlap (SQLite: one, its units serialize).
READERS = 3
#: Patients read between two progress notes (and cancellation checks); what one chunk serializes is
#: all the job holds besides the compressed spools.
CHUNK = 50


def _readers() -> int:
    return READERS if get_engine().dialect.name == "postgresql" else 1

class _Spool:
    """One type's NDJSON while the export reads patient after patient: kept zlib-compressed in memory
    (NDJSON of FHIR compresses several times over, so a large export stays within the worker's
    memory), never written to disk in clear; ``chunks()`` gives it back, decompressed, piece by piece
    for the encrypting upload."""

    def __init__(self) -> None:
        self._packer = zlib.compressobj(6)
        self._parts: list[bytes] = []
        self.count = 0

    def add(self, line: bytes) -> None:
        self.count += 1
        if packed := self._packer.compress(line):
            self._parts.append(packed)

    def chunks(self) -> Iterator[bytes]:
        self._parts.append(self._packer.flush())
        unpacker = zlib.decompressobj()
        self._parts.reverse()  # pop from the end: each part freed once it is unpacked
        while self._parts:
            if out := unpacker.decompress(self._parts.pop()):
                yield out
        if rest := unpacker.flush():
            yield rest


@jobs.handler(JOB)
def run_export(payload: dict[str, Any]) -> None:
    """Write one encrypted NDJSON file per type: every reached patient's resources, read through
    ``source.compartment`` as the requester (a patient the policy refuses now is skipped)."""
    export_id = uuid.UUID(payload["export"])
    actor = Actor(user_id=uuid.UUID(payload["user"]), role=Role(payload["role"]), display_name=payload["name"] or "",
                  patient_id=uuid.UUID(payload["patient"]) if payload.get("patient") else None,
                  permissions=frozenset(Action(a) for a in payload["permissions"])  # the requester's permission set
                  if payload.get("permissions") is not None else None)
    who = FhirCaller(actor, frozenset(payload["scopes"]) if payload.get("scopes") else None, payload.get("client"))
    with unit_of_work() as session:
        started = exports.start(session, export_id)
    if started is None:
        return
    types, level = started
    since = search.since_param(payload.get("since"))
    with unit_of_work() as session:
        pids = exports.patients_for(session, actor, level, payload.get("group"))
    lines = {t: _Spool() for t in types}

    def read(pid: uuid.UUID) -> list[tuple[str, bytes]]:
        try:
            with unit_of_work() as session:
                found = source.compartment(session, who, pid, set(types))
        except ServiceError:  # a patient the policy refuses now, or one gone since: not in the export
            return []
        return [(rtype, json.dumps(r, separators=(",", ":")).encode() + b"\n")
                for rtype, resources in found.items() for r in search.since(resources, since)]

    with ThreadPoolExecutor(max_workers=_readers(), thread_name_prefix="fhir-export") as pool:
        for start in range(0, len(pids), CHUNK):
            for found in pool.map(read, pids[start:start + CHUNK]):  # in patient order
                for rtype, line in found:
                    lines[rtype].add(line)
            with unit_of_work() as session:
                done = min(start + CHUNK, len(pids))
                if not exports.progress(session, export_id, f"{done} of {len(pids)} patients"):
                    return
    store = get_blob_store()
    files = []
    for rtype in types:
        if not lines[rtype].count:
            continue
        key = new_object_key("fhir-export")
        dek, wrapped = new_data_key(key)
        store.put(key, encrypt_stream(lines[rtype].chunks(), dek, key))
        files.append({"type": rtype, "key": key, "wrapped": wrapped.token, "count": lines[rtype].count})
    with unit_of_work() as session:
        kept = exports.finish(session, actor, export_id, files, len(pids))
    if not kept:
        for f in files:
            store.delete(f["key"])
