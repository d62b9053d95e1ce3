"""The FHIR REST interactions under ``/fhir``.

* ``GET /fhir/metadata`` — the CapabilityStatement (what the routes below really answer);
* ``GET /fhir/{type}/{id}``, ``…/_history``, ``…/_history/{vid}`` — read, history, vread (the
  current version: the areas keep a version counter, not old copies);
* ``GET /fhir/{type}?…`` and ``POST /fhir/{type}/_search`` (form body) — search in a patient's
  compartment, ``_count`` paging with ``Bundle.link`` next/previous, ``_include``/``_revinclude``;
* ``GET /fhir/Patient/{id}/$everything`` — the whole record (``_type``, ``_since``, ``start``, ``end``, ``_count``);
* ``GET /fhir/Binary/{id}`` — a DocumentReference's file, through the documents area's download;
* Practitioner (the clinic's doctors) is read and searched without a patient;
* ``GET /fhir/AuditEvent?patient=…`` (and by id) — a patient's own access log, or (administrators) the trail;
* ``POST /fhir/{type}`` (``If-None-Exist``) and ``PUT /fhir/{type}/{id}`` (``If-Match``) — Condition
  and AllergyIntolerance, through the history service (the clinician's write, validated and audited);
* ``DELETE /fhir/{type}/{id}`` — where the area has a delete use case (``writes.DELETABLE``): a
  history entry made in error (Condition, AllergyIntolerance, MedicationStatement, Immunization:
  ``history.remove_item``) and a document (DocumentReference: ``documents.remove``, a soft delete
  an administrator can undo); 204 when done, 405 for every other type. The caller must first be
  able to read the resource (else 404: existence does not leak), then the area decides (403).

Every answer is ``application/fhir+json``; every error an OperationOutcome: 400 bad syntax, 401
without a credential, 403 a scope or role refusal, 404 unknown — and other patients' ids, so
existence does not leak —, 409/412 version conflicts, 422 a rule broken (with the element's path).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlmodel import Session

from patient_portal.api.documents import file_response
from patient_portal.api.fhir import auditevents, directory, search, source, writes
from patient_portal.api.fhir import serialize as fhir
from patient_portal.api.fhir.auth import FhirCaller, caller
from patient_portal.api.fhir.scopes import scope_allows
from patient_portal.core.access import AccessDenied
from patient_portal.core.db import off_loop, transact
from patient_portal.core.errors import Conflict, Invalid, NotFound, ServiceError
from patient_portal.domain.documents import service as documents
from patient_portal.settings import get_settings

router = APIRouter()
MEDIA = "application/fhir+json"
MAX_BODY = 1_000_000
SUPPORTED = (*source.PATIENT_TYPES, *source.DIRECTORY_TYPES, *source.LOG_TYPES)
WRITABLE = tuple(writes.KINDS)
#: Types whose area has a delete use case (``writes.DELETABLE``): the rest answer DELETE with 405.
DELETABLE = tuple(writes.DELETABLE)


class Problem(Exception):
    """An OperationOutcome answer: HTTP status, issue code, what went wrong, where."""

    def __init__(self, status: int, code: str, message: str, expression: list[str] | None = None):
        super().__init__(message)
        self.status, self.code, self.expression = status, code, expression


def base_url() -> str:
    return get_settings().public_url + "/fhir"


def answer(body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(body, status_code=status, media_type=MEDIA,
                        headers={"Cache-Control": "no-store", **(headers or {})})


def outcome(status: int, code: str, message: str, expression: list[str] | None = None) -> Response:
    return answer(fhir.outcome(code, message, expression), status)


def _error(exc: Exception, *, if_match: bool = False) -> Response:
    if isinstance(exc, Problem):
        return outcome(exc.status, exc.code, str(exc), exc.expression)
    if isinstance(exc, AccessDenied):
        if exc.must_sign_in:
            return outcome(401, "login", "Sign in or present a valid access token.")
        return outcome(403, "forbidden", str(exc))
    if isinstance(exc, NotFound):
        return outcome(404, "not-found", "Resource not found.")
    if isinstance(exc, Conflict):
        return outcome(412 if if_match else 409, "conflict", str(exc))
    if isinstance(exc, Invalid):
        paths = sorted(getattr(exc, "errors", {}) or {})
        return outcome(422, "business-rule", str(exc), paths or None)
    if isinstance(exc, search.BadSearch):
        return outcome(400, "invalid", str(exc))
    if isinstance(exc, ServiceError):
        return outcome(exc.status, "processing", str(exc))
    raise exc


async def run(request: Request, rtype: str, interaction: str, work, *args: Any, if_match: bool = False) -> Response:
    """Resolve the caller, check the type and the scopes, then ``work(session, caller, *args)`` in one
    unit of work; every refusal and failure an OperationOutcome."""
    def unit(session: Session) -> Any:
        who = caller(session, request)
        if who is None:
            raise Problem(401, "login", "Sign in or present a valid access token.")
        if rtype not in SUPPORTED:
            raise Problem(404, "not-supported", f"Resource type {rtype[:40]} is not served here.")
        if not scope_allows(who.scopes, rtype, interaction):
            raise Problem(403, "forbidden", f"The access token's scopes do not allow {interaction} on {rtype}.")
        return work(session, who, *args)

    try:
        return await off_loop(transact, unit)
    except (ServiceError, Problem, search.BadSearch) as exc:
        return _error(exc, if_match=if_match)


def _strict(request: Request) -> bool:
    return "handling=strict" in request.headers.get("prefer", "").replace(" ", "").lower()


# ---------------------------------------------------------------------------------------------- metadata

@router.get("/fhir/metadata")
async def metadata() -> Response:
    """A CapabilityStatement listing only the interactions these routes answer."""
    resources = []
    for rtype in SUPPORTED:
        interactions = (["read", "vread", "history-instance"] if rtype in source.READABLE else []) + ["search-type"]
        if rtype in WRITABLE:
            interactions += ["create", "update"]
        if rtype in DELETABLE:
            interactions += ["delete"]
        entry: dict[str, Any] = {
            "type": rtype, "interaction": [{"code": c} for c in interactions], "versioning": "versioned",
            "readHistory": False, "conditionalCreate": rtype in WRITABLE,
            **({"conditionalDelete": "not-supported"} if rtype in DELETABLE else {}),
            "searchParam": [{"name": n, "type": _param_type(n)} for n in sorted(_params(rtype))],
            "searchInclude": [f"{rtype}:{search.PATIENT_REF[rtype]}"] if rtype in search.PATIENT_REF else [],
        }
        if rtype == "Group":
            entry["operation"] = [{"name": "export",
                                   "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export"}]
        if rtype == "Patient":
            entry["operation"] = [{"name": "everything",
                                   "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything"},
                                  {"name": "export",
                                   "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export"}]
            entry["searchRevInclude"] = [f"{t}:{p}" for t, p in search.PATIENT_REF.items()]
        resources.append(entry)
    resources.append({"type": "Binary", "interaction": [{"code": "read"}],
                      "documentation": "The content of a DocumentReference (its attachment.url)."})
    body = {
        "resourceType": "CapabilityStatement", "status": "active", "date": "2026-12-07", "kind": "instance",
        "fhirVersion": "4.0.1", "format": ["application/fhir+json", "json"],
        "software": {"name": "Patient Portal"},
        "implementation": {"description": "Patient Portal FHIR API", "url": base_url()},
        "rest": [{"mode": "server", "resource": resources,
                  "operation": [{"name": "export",
                                 "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export"}],
                  "security": {"description": "The portal's session cookie, or a SMART access token (Bearer)."}}],
    }
    return answer(body)


def _params(rtype: str) -> set[str]:
    """The search parameters a type answers (the audit trail: only its own, newest first)."""
    own = search.BY_TYPE.get(rtype, set())
    return own if rtype in source.LOG_TYPES else own | {"_id", "_lastUpdated"}


def _param_type(name: str) -> str:
    if name == "_id":
        return "token"
    if name in ("onset-date", "date", "effective", "birthdate", "authoredon", "_lastUpdated"):
        return "date"
    if name in ("patient", "subject", "beneficiary", "practitioner", "entity"):
        return "reference"
    if name in ("family", "given", "name"):
        return "string"
    return "token"


# ---------------------------------------------------------------------------------------------- Binary

@router.get("/fhir/Binary/{rid}")
async def binary(rid: str, request: Request) -> Response:
    """A DocumentReference's content (its ``attachment.url``): the caller and the scopes checked here
    (``DocumentReference`` read), then the documents area's own download — its policy decision, hold
    rule and ``document.download`` audit event, the same path as the portal's download button.
    Another patient's document, or one the reader may not open, is 404 (existence does not leak)."""
    def who_calls(session: Session, who: FhirCaller) -> FhirCaller:
        source.record(session, who, "read", "Binary", count=1)
        return who

    who = await run(request, "DocumentReference", "read", who_calls)
    if isinstance(who, Response):
        return who
    try:
        opened = await off_loop(documents.open_file, who.actor, document_id=rid[:64], purpose="download")
    except AccessDenied as exc:
        if exc.must_sign_in:
            return outcome(401, "login", "Sign in or present a valid access token.")
        return outcome(404, "not-found", "Resource not found.")
    except NotFound:
        return outcome(404, "not-found", "Resource not found.")
    except ServiceError as exc:
        return _error(exc)
    return file_response(opened, rid[:64])


# ---------------------------------------------------------------------------------------------- reads

def _directory(session: Session, who: FhirCaller, rtype: str, query: search.Query | None = None
               ) -> list[dict[str, Any]]:
    if rtype == "Slot":
        return directory.slots(session, who, query) if query is not None else []
    if rtype == "Group":
        return directory.groups(session, who)
    return (directory.schedules if rtype == "Schedule" else directory.practitioners)(session, who)


def _one(session: Session, who: FhirCaller, rtype: str, rid: str) -> dict[str, Any]:
    if rtype in source.DIRECTORY_TYPES:
        if rtype == "Slot":
            resource = directory.slot(session, who, rid[:64])
        else:
            resource = next((r for r in _directory(session, who, rtype) if r["id"] == rid), None)
        if resource is None:
            raise Problem(404, "not-found", "Resource not found.")
        return resource
    if rtype in source.LOG_TYPES:
        event = auditevents.read(session, who, rid[:64])
        if event is None:
            raise Problem(404, "not-found", "Resource not found.")
        return event
    pid = source.owner(session, rtype, rid[:64])
    if pid is None:
        raise Problem(404, "not-found", "Resource not found.")
    try:
        found = source.compartment(session, who, pid, {rtype},
                                   search.narrow_id(rid) if rtype == "Observation" else None)
    except AccessDenied as exc:
        if exc.must_sign_in:
            raise
        raise Problem(404, "not-found", "Resource not found.") from None
    if rtype not in found:
        raise Problem(403, "forbidden", f"Your role does not read {rtype}.")
    resource = next((r for r in found[rtype] if r["id"] == rid), None)
    if resource is None:
        raise Problem(404, "not-found", "Resource not found.")
    return resource


def _read(session: Session, who: FhirCaller, rtype: str, rid: str, vid: str | None, history: bool) -> Response:
    resource = _one(session, who, rtype, rid)
    version = resource["meta"]["versionId"]
    pid = source.patient_of(resource)
    source.record(session, who, "history" if history else "vread" if vid else "read", rtype, patient_id=pid, count=1)
    if vid is not None and vid != version:
        raise Problem(404, "not-found", "Only the current version of a resource is kept.")
    if history:
        return answer({"resourceType": "Bundle", "type": "history", "total": 1,
                       "entry": [{"fullUrl": f"{base_url()}/{rtype}/{rid}", "resource": resource,
                                  "request": {"method": "PUT", "url": f"{rtype}/{rid}"},
                                  "response": {"status": "200"}}]})
    return answer(resource, headers={"ETag": f'W/"{version}"'})


@router.get("/fhir/{rtype}/{rid}/_history/{vid}")
async def vread(rtype: str, rid: str, vid: str, request: Request) -> Response:
    return await run(request, rtype, "vread", _read, rtype, rid, vid[:16], False)


@router.get("/fhir/{rtype}/{rid}/_history")
async def history(rtype: str, rid: str, request: Request) -> Response:
    return await run(request, rtype, "history", _read, rtype, rid, None, True)


@router.get("/fhir/Patient/{pid}/$everything")
async def everything(pid: str, request: Request) -> Response:
    """The patient's whole record as a searchset Bundle (``_type`` narrows, ``_since`` keeps what
    changed after it, ``start``/``end`` the care dates in a period, ``_count`` pages)."""
    params = list(request.query_params.multi_items())

    def work(session: Session, who: FhirCaller) -> Response:
        changed = search.since_param(dict(params).get("_since"))
        period = dict(params).get("start"), dict(params).get("end")
        query = search.parse("Patient", [(k, v) for k, v in params if k not in ("_type", "_since", "start", "end")],
                             strict=False)
        wanted = {t for v in query_types(params) for t in v.split(",")} or set(source.PATIENT_TYPES)
        allowed = {t for t in wanted & set(source.PATIENT_TYPES) if scope_allows(who.scopes, t, "read")}
        found = _compartment(session, who, pid, allowed)
        resources = search.care_period(search.since([r for t in source.PATIENT_TYPES for r in found.get(t, [])],
                                                    changed), *period)
        page = resources[query.offset:query.offset + query.count]
        source.record(session, who, "everything", "Patient", patient_id=pid, count=len(page))
        return answer(fhir.bundle("searchset", page, base_url(), len(resources),
                                  _links(f"Patient/{pid}/$everything", params, query, len(resources))))

    return await run(request, "Patient", "everything", work)


def query_types(params: list[tuple[str, str]]) -> list[str]:
    return [v for k, v in params if k == "_type"]


def _links(path: str, params: list[tuple[str, str]], query: search.Query, total: int) -> list[dict[str, str]]:
    links = search.links(base_url(), search.Query(path, [p for p in params], count=query.count,
                                                  offset=query.offset), total)
    return links


def _compartment(session: Session, who: FhirCaller, pid: Any, types: set[str],
                 narrow: search.Narrow | None = None) -> dict[str, list[dict[str, Any]]]:
    """The patient's resources of `types`; another patient's (or an unknown) id is 404."""
    try:
        return source.compartment(session, who, pid, types, narrow)
    except AccessDenied as exc:
        if exc.must_sign_in:
            raise
        raise Problem(404, "not-found", "Patient not found.") from None
    except NotFound:
        raise Problem(404, "not-found", "Patient not found.") from None


def _directory_search(session: Session, who: FhirCaller, query: search.Query) -> Response:
    """The clinic's directory (doctors, their schedules, free slots): no patient compartment."""
    found = _directory(session, who, query.rtype, query)
    if query.rtype == "Schedule":
        actors = {v.removeprefix("Practitioner/") for v in query.values("actor")}
        found = [r for r in found if not actors or r["id"] in actors]
    resources = search.sort([r for r in found if search.matches(r, query)], query)
    page = resources[query.offset:query.offset + query.count]
    source.record(session, who, "search", query.rtype, count=len(page))
    return answer(fhir.bundle("searchset", page, base_url(), len(resources), search.links(base_url(), query,
                                                                                             len(resources))))


def _search(session: Session, who: FhirCaller, rtype: str, params: list[tuple[str, str]], strict: bool) -> Response:
    query = search.parse(rtype, params, strict=strict)
    if rtype in source.DIRECTORY_TYPES:
        return _directory_search(session, who, query)
    if rtype == "AuditEvent":
        page, total = auditevents.search(session, who, query)
        source.record(session, who, "search", rtype, count=len(page))
        return answer(fhir.bundle("searchset", page, base_url(), total, search.links(base_url(), query, total)))
    ids = search.patient_ids(query)
    if not ids and who.actor.patient_id is not None:
        ids = [str(who.actor.patient_id)]
    if not ids:
        raise Problem(400, "required", "Search needs a patient (patient=…, or _id on Patient).", [f"{rtype}.patient"])
    includes = {v.split(":")[0] for v in query.values("_include")}
    revincludes = [v.split(":")[0] for v in query.values("_revinclude")]
    resources: list[dict[str, Any]] = []
    extra: list[dict[str, Any]] = []
    for pid in ids[:20]:
        types = {rtype, *(t for t in revincludes if t in source.PATIENT_TYPES and scope_allows(who.scopes, t, "search"))}
        if includes and rtype in includes:
            types.add("Patient")
        try:
            found = _compartment(session, who, pid, types, search.narrow(query) if rtype == "Observation" else None)
        except Problem:
            continue  # someone else's patient: no match, not a leak
        if rtype not in found:
            raise Problem(403, "forbidden", f"Your role does not read {rtype}.")
        resources.extend(r for r in found[rtype] if search.matches(r, query))
        if "Patient" in types and rtype != "Patient":
            extra.extend(found.get("Patient", []))
        for t in revincludes:
            extra.extend(found.get(t, []))
    resources = search.sort(resources, query)
    page = resources[query.offset:query.offset + query.count]
    source.record(session, who, "search", rtype, patient_id=ids[0] if len(ids) == 1 else None, count=len(page))
    out = fhir.bundle("searchset", page, base_url(), len(resources), search.links(base_url(), query, len(resources)))
    for r in extra if page else []:
        out["entry"].append({"fullUrl": f"{base_url()}/{r['resourceType']}/{r['id']}", "resource": r,
                             "search": {"mode": "include"}})
    return answer(out)


@router.get("/fhir/{rtype}")
async def search_get(rtype: str, request: Request) -> Response:
    return await run(request, rtype, "search", _search, rtype, list(request.query_params.multi_items()),
                     _strict(request))


@router.post("/fhir/{rtype}/_search")
async def search_post(rtype: str, request: Request) -> Response:
    body = await request.body()
    if len(body) > MAX_BODY:
        return outcome(413, "too-costly", "The request body is too large.")
    from urllib.parse import parse_qsl

    try:
        form = parse_qsl(body.decode("utf-8"), keep_blank_values=False)
    except (UnicodeDecodeError, ValueError):
        return outcome(400, "invalid", "The search body must be application/x-www-form-urlencoded.")
    params = list(request.query_params.multi_items()) + form
    return await run(request, rtype, "search", _search, rtype, params, _strict(request))


@router.get("/fhir/{rtype}/{rid}")
async def read(rtype: str, rid: str, request: Request) -> Response:
    return await run(request, rtype, "read", _read, rtype, rid, None, False)


# ---------------------------------------------------------------------------------------------- writes

async def _body(request: Request, rtype: str) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise Problem(413, "too-costly", "The request body is too large.")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise Problem(400, "structure", "The body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise Problem(400, "structure", "The body must be a FHIR resource (a JSON object).")
    if body.get("resourceType") != rtype:
        raise Problem(400, "invalid", f"The body's resourceType must be {rtype}.", [f"{rtype}.resourceType"])
    return body


@router.post("/fhir/{rtype}")
async def create(rtype: str, request: Request) -> Response:
    try:
        body = await _body(request, rtype)
    except Problem as exc:
        return _error(exc)
    condition = request.headers.get("if-none-exist")

    def work(session: Session, who: FhirCaller) -> Response:
        if rtype not in WRITABLE:
            raise Problem(405, "not-supported", f"{rtype} is read-only here.")
        pid, values = writes.parse(rtype, body)
        if condition is not None:
            from urllib.parse import parse_qsl

            params = [(k, v) for k, v in parse_qsl(condition.split("?", 1)[-1]) if k not in ("patient", "subject")]
            found = [r for r in _compartment(session, who, pid, {rtype}).get(rtype, [])
                     if search.matches(r, search.parse(rtype, params, strict=True))]
            if len(found) > 1:
                raise Problem(412, "duplicate", "More than one resource matches If-None-Exist.")
            if found:
                return answer(found[0], 200, {"ETag": f'W/"{found[0]["meta"]["versionId"]}"'})
        saved = writes.save(session, who.actor, rtype, pid, values)
        resource = fhir.history_entry(writes.KINDS[rtype], pid, saved)
        source.record(session, who, "create", rtype, patient_id=pid, count=1)
        return answer(resource, 201, {"Location": f"{base_url()}/{rtype}/{saved['id']}/_history/{saved['version']}",
                                      "ETag": f'W/"{saved["version"]}"'})

    return await run(request, rtype, "create", work)


@router.put("/fhir/{rtype}/{rid}")
async def update(rtype: str, rid: str, request: Request) -> Response:
    try:
        body = await _body(request, rtype)
    except Problem as exc:
        return _error(exc)
    if_match = request.headers.get("if-match")
    expected = None
    if if_match is not None:
        digits = if_match.strip().removeprefix("W/").strip('"')
        if not digits.isdigit():
            return outcome(400, "invalid", 'If-Match must be W/"<version>".')
        expected = int(digits)

    def work(session: Session, who: FhirCaller) -> Response:
        if rtype not in WRITABLE:
            raise Problem(405, "not-supported", f"{rtype} is read-only here.")
        if body.get("id") != rid:
            raise Problem(400, "invalid", "The body's id must match the URL.", [f"{rtype}.id"])
        current = _one(session, who, rtype, rid)
        pid, values = writes.parse(rtype, body)
        if str(pid) != (current.get("subject") or current.get("patient"))["reference"][8:]:
            raise Problem(422, "business-rule", "A resource cannot move to another patient.", [f"{rtype}.subject"])
        saved = writes.save(session, who.actor, rtype, pid, values, item_id=rid, expected_version=expected)
        source.record(session, who, "update", rtype, patient_id=pid, count=1)
        return answer(fhir.history_entry(writes.KINDS[rtype], pid, saved), 200, {"ETag": f'W/"{saved["version"]}"'})

    return await run(request, rtype, "update", work, if_match=expected is not None)


@router.delete("/fhir/{rtype}/{rid}")
async def delete(rtype: str, rid: str, request: Request) -> Response:
    """Delete through the area's own use case (see the module's docstring); 204 No Content."""
    if rtype in SUPPORTED and rtype not in DELETABLE:
        return answer(fhir.outcome("not-supported", f"{rtype} cannot be deleted here."), 405,
                      {"Allow": "GET, HEAD" + (", PUT" if rtype in WRITABLE else "")})
    done = Response(status_code=204, headers={"Cache-Control": "no-store"})

    def readable(session: Session, who: FhirCaller) -> tuple[FhirCaller, str | None]:
        return who, source.patient_of(_one(session, who, rtype, rid))  # another patient's, or unknown: 404

    def remove(session: Session, who: FhirCaller) -> Response:
        _who, pid = readable(session, who)
        writes.delete(session, who.actor, rtype, pid, rid)
        source.record(session, who, "delete", rtype, patient_id=pid, count=1)
        return done

    if rtype not in writes.OWN_UNIT:
        return await run(request, rtype, "delete", remove)
    found = await run(request, rtype, "delete", readable)  # the area's use case opens its own unit
    if isinstance(found, Response):
        return found
    who, pid = found
    try:
        await off_loop(writes.delete_in_own_unit, who, rtype, rid)
    except (ServiceError, Problem) as exc:
        return _error(exc)

    def record(session: Session, who: FhirCaller) -> Response:
        source.record(session, who, "delete", rtype, patient_id=pid, count=1)
        return done

    return await run(request, rtype, "delete", record)
