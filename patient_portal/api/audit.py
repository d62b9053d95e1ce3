"""GET /api/audit/export.csv: the audit log as a CSV download, for administrators (cookie session).

The query string carries the same filters as the audit log screen; the export is audited before
anything is sent. Answers 401 without a session, 403 for other roles, 400 for a filter it can't read.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from patient_portal.api.auth import actor_from_request
from patient_portal.api.responses import NO_STORE, denied, json_error
from patient_portal.core.access import AccessDenied
from patient_portal.core.clock import clinic_zone
from patient_portal.core.db import off_loop, unit_of_work, utcnow
from patient_portal.domain.audit_log import export
from patient_portal.domain.audit_log.dto import AuditFilters, FilterInvalid

router = APIRouter()


def _start(request: Request, filters: AuditFilters) -> export.Export:
    actor = actor_from_request(request)
    if actor is None:
        raise AccessDenied("Please sign in again.")
    with unit_of_work() as session:
        return export.start_export(session, actor, filters)


@router.get("/audit/export.csv")
async def export_csv(request: Request) -> Response:
    try:
        started = await off_loop(_start, request, AuditFilters.of(request.query_params))
    except AccessDenied as exc:
        return denied(exc)
    except FilterInvalid as exc:
        return json_error(400, str(exc))
    day = utcnow().astimezone(clinic_zone()).strftime("%Y-%m-%d")
    headers = {**NO_STORE, "Content-Disposition": f'attachment; filename="audit-log-{day}.csv"',
               "X-Audit-Events": str(started.count)}
    return StreamingResponse(export.csv_lines(started), media_type="text/csv; charset=utf-8", headers=headers)
