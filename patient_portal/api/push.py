"""Web Push for the phone app (assets/pwa.js calls these; JSON in and out, never cached).

* ``GET /api/push/key`` — the VAPID public key (``{"publicKey": …}``) browsers subscribe with. Public.
* ``POST /api/push/subscriptions`` — the browser's ``PushSubscription.toJSON()``
  (``{"endpoint", "keys": {"p256dh", "auth"}}``): 201 ``{"id"}``; 422 with field errors; 401/403.
* ``POST /api/push/unsubscribe`` — ``{"endpoint"}``: ``{"removed": true|false}``; another account's
  device is 403.
* ``DELETE /api/push/subscriptions`` — every device of the caller's account: ``{"removed": n}``.
* ``GET /api/push/subscriptions`` — ``{"devices": n}`` for the caller's account.
The routes decide nothing themselves: the push service asks ``decide()`` (own account, patients).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from patient_portal.api.auth import actor_from_request
from patient_portal.api.responses import NO_STORE, json_error
from patient_portal.core.db import off_loop, transact
from patient_portal.domain.push import service as push

router = APIRouter()
MAX_BODY = 8 * 1024


async def _json(request: Request) -> dict[str, Any] | None:
    body = await request.body()
    if len(body) > MAX_BODY:
        return None
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


@router.get("/push/key")
async def key() -> JSONResponse:
    return JSONResponse({"publicKey": await off_loop(push.public_key)}, headers=NO_STORE)


@router.post("/push/subscriptions")
async def subscribe(request: Request) -> JSONResponse:
    data = await _json(request)
    if data is None:
        return json_error(400, "Send the browser's push subscription as JSON.")
    keys = data.get("keys") if isinstance(data.get("keys"), dict) else {}
    actor = await off_loop(actor_from_request, request)
    sub_id = await off_loop(transact, push.subscribe, actor, endpoint=data.get("endpoint"),
                            p256dh=keys.get("p256dh"), auth=keys.get("auth"))
    return JSONResponse({"id": str(sub_id)}, status_code=201, headers=NO_STORE)


@router.post("/push/unsubscribe")
async def unsubscribe(request: Request) -> JSONResponse:
    data = await _json(request)
    if data is None:
        return json_error(400, "Send the browser's push address as JSON.")
    actor = await off_loop(actor_from_request, request)
    removed = await off_loop(transact, push.unsubscribe, actor, endpoint=data.get("endpoint"))
    return JSONResponse({"removed": removed}, headers=NO_STORE)


@router.delete("/push/subscriptions")
async def unsubscribe_all(request: Request) -> JSONResponse:
    actor = await off_loop(actor_from_request, request)
    return JSONResponse({"removed": await off_loop(transact, push.unsubscribe_all, actor)}, headers=NO_STORE)


@router.get("/push/subscriptions")
async def devices(request: Request) -> JSONResponse:
    actor = await off_loop(actor_from_request, request)
    return JSONResponse({"devices": await off_loop(transact, push.device_count, actor)}, headers=NO_STORE)
