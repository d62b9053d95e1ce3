"""GET /api/audit/export.csv: the audit log as a CSV download, for administrators (cookie session).

The query string carries the same filters as the audit log screen; the export is audited before
anything is sent. Answers 401 without a session, 403 for other roles, 400 for a filter it can't read.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from patient_portal.core.access import AccessDenied
from patient_portal.core.clock import clinic_zone
from patient_portal.core.db import off_loop, unit_of_work, utcnow
from patient_portal.domain.audit_log import export
from patient_portal.domain.audit_log.dto import AuditFilters, FilterInvalid

router = APIRouter()
NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
FIELDS = tuple(AuditFilters.__dataclass_fields__)


def _start(request: Request, filters: AuditFilters) -> export.Export:
    from patient_portal.api.auth import actor_from_request

    actor = actor_from_request(request)
    if actor is None:
        raise AccessDenied("Please sign in again.")
    with unit_of_work() as session:
        return export.start_export(session, actor, filters)


@router.get("/audit/export.csv")
async def export_csv(request: Request) -> Response:
    filters = AuditFilters(**{name: request.query_params.get(name, "")[:320] for name in FIELDS})
    try:
        started = await off_loop(_start, request, filters)
    except AccessDenied as exc:
        status = 401 if "sign in" in str(exc).lower() else 403
        return JSONResponse({"detail": str(exc)}, status_code=status, headers=NO_STORE)
    except FilterInvalid as exc:
        return JSONResponse({"detail": str(exc)}, status_code=400, headers=NO_STORE)
    day = utcnow().astimezone(clinic_zone()).strftime("%Y-%m-%d")
    headers = {**NO_STORE, "Content-Disposition": f'attachment; filename="audit-log-{day}.csv"',
               "X-Audit-Events": str(started.count)}
    return StreamingResponse(export.csv_lines(started), media_type="text/csv; charset=utf-8", headers=headers)
