"""GET /api/reports/{report}.csv and /api/reports/reports.pdf: the admins' reports as downloads
(cookie session), with the same filters as /admin/reports in the query string (start, end, doctor).

The service authorizes (admins only) and audits the export before anything is sent. Answers 401
without a session, 403 for other roles, 404 for an unknown report, 422 for filters it can't read.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from patient_portal.api.auth import actor_from_request
from patient_portal.api.responses import NO_STORE
from patient_portal.core.access import AccessDenied
from patient_portal.core.db import off_loop, unit_of_work
from patient_portal.domain.reports import service

router = APIRouter()


def _export(request: Request, fn, *args):
    actor = actor_from_request(request)
    if actor is None:
        raise AccessDenied("Please sign in again.")
    with unit_of_work() as session:
        return fn(session, actor, *args, dict(request.query_params))


def _download(name: str, body: str | bytes, media_type: str) -> Response:
    return Response(body, media_type=media_type,
                    headers={**NO_STORE, "Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/reports/reports.pdf")
async def export_pdf(request: Request) -> Response:
    name, body = await off_loop(_export, request, service.export_pdf)
    return _download(name, body, "application/pdf")


@router.get("/reports/{key}.csv")
async def export_csv(request: Request, key: str) -> Response:
    name, body = await off_loop(_export, request, service.export_csv, key)
    return _download(name, body, "text/csv; charset=utf-8")
