"""Answers every API route shares: JSON errors that are never cached, and how a refusal maps to HTTP."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from patient_portal.core.access import AccessDenied
from patient_portal.core.errors import Invalid, ServiceError

NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def json_error(status: int, detail: str, **extra: Any) -> JSONResponse:
    """{"detail": …} with `status`, not cached."""
    return JSONResponse({"detail": detail, **extra}, status_code=status, headers=NO_STORE)


def denied(exc: AccessDenied) -> JSONResponse:
    """401 when the person must sign in (again), 403 when they may not do this."""
    return json_error(401 if exc.must_sign_in else 403, str(exc))


def service_error(exc: ServiceError) -> JSONResponse:
    """The error family as JSON: Invalid 422 (with the field ``errors``), NotFound 404, Conflict 409,
    AccessDenied 401/403. Installed as the API's exception handler, so a route just calls services."""
    if isinstance(exc, AccessDenied):
        return denied(exc)
    if isinstance(exc, Invalid):
        return json_error(exc.status, str(exc), errors=exc.errors)
    return json_error(exc.status, str(exc))
