"""Answers every API route shares: JSON errors that are never cached, and how a refusal maps to HTTP."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from patient_portal.core.access import AccessDenied

NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def json_error(status: int, detail: str, **extra: Any) -> JSONResponse:
    """{"detail": …} with `status`, not cached."""
    return JSONResponse({"detail": detail, **extra}, status_code=status, headers=NO_STORE)


def denied(exc: AccessDenied) -> JSONResponse:
    """401 when the person must sign in (again), 403 when they may not do this."""
    return json_error(401 if "sign in" in str(exc).lower() else 403, str(exc))
