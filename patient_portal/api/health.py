"""GET /api/health: is the database answering, is the blob store answering."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from patient_portal.core import db, storage
from patient_portal.core.db import off_loop

router = APIRouter()


def _check(probe) -> dict:
    try:
        probe()
        return {"status": "ok"}
    except Exception as exc:  # report which part failed, never a stack trace
        return {"status": "unavailable", "error": type(exc).__name__}


def health_report() -> tuple[int, dict]:
    """The health document and its HTTP status."""
    parts = {
        "database": _check(db.ping),
        "blob_store": _check(lambda: storage.get_blob_store().ping()),
    }
    failing = [name for name, part in parts.items() if part["status"] != "ok"]
    body = {"status": "ok" if not failing else "degraded", "failing": failing, **parts}
    return (200 if not failing else 503), body


@router.get("/health")
async def health() -> JSONResponse:
    status, body = await off_loop(health_report)
    return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})
