"""``GET /api/verify/rx/{code}`` — a pharmacy checks a printed prescription's verification code.

Public (no sign-in): the answer is only ``{"result": "valid" | "stopped" | "not_valid"}``, never a
name or a drug; ``Cache-Control: no-store``; at most ``throttle.LIMIT`` lookups per address per
``throttle.WINDOW`` (429 beyond). The human page is ``/verify/rx/<code>`` (pages/public/verify_rx.py).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from patient_portal.api.auth import client_ip
from patient_portal.api.responses import NO_STORE
from patient_portal.core.db import off_loop, transact
from patient_portal.domain.prescriptions import service, throttle

router = APIRouter()


@router.get("/verify/rx/{code}")
async def verify(code: str, request: Request) -> JSONResponse:
    if not throttle.allow(client_ip(request)):
        return JSONResponse({"result": "try_later"}, status_code=429, headers={**NO_STORE, "Retry-After": "600"})
    answer = await off_loop(transact, service.verify, code[:64])
    return JSONResponse({"result": answer.result}, headers=NO_STORE)
