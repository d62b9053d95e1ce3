"""``POST /api/results/import`` — a doctor imports the CSV file a lab sent (``domain/results``).

The body is the file itself (``Content-Type: text/csv``; ``application/vnd.ms-excel``, which some
browsers send for .csv, is taken too): at most ``csv_import.MAX_BYTES``, read in full into memory
(never stored), decoded and parsed on the server by the results service, which authorizes every
patient in the file, imports all rows in one transaction or none, and audits. The answer is JSON:
``{"panels", "results", "patients"}``, or ``{"detail", "lines": [[n, message], …]}`` with 4xx.
The origin check (``auth.OriginCheck``) covers this route like every other POST.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from patient_portal.api.auth import actor_from_request
from patient_portal.api.responses import NO_STORE, json_error
from patient_portal.core.db import off_loop, transact
from patient_portal.domain.results import csv_import, service

router = APIRouter()
TYPES = {"text/csv", "application/csv", "application/vnd.ms-excel"}


@router.post("/results/import")
async def import_results(request: Request) -> JSONResponse:
    kind = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if kind not in TYPES:
        return json_error(415, "Choose a CSV file (text/csv).")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > csv_import.MAX_BYTES:
        return json_error(413, "The file is larger than 1 MB: split it.")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > csv_import.MAX_BYTES:
            return json_error(413, "The file is larger than 1 MB: split it.")
    actor = await off_loop(actor_from_request, request)
    try:
        report = await off_loop(transact, service.import_csv, actor, data=bytes(body))
    except csv_import.ImportInvalid as exc:
        return json_error(422, str(exc), lines=[list(x) for x in exc.lines[:csv_import.MAX_LINES_SHOWN]])
    return JSONResponse({"panels": report.panels, "results": report.results, "patients": report.patients},
                        headers=NO_STORE)
