"""``WS /api/video/{appointment_id}/signal``: the signalling channel of one video visit.

The actor comes from the session cookie on the server (``OriginCheck`` has swapped the token for
the server-made websocket credential; the handshake from another origin is refused there); the
video service decides (``service.join``: only the appointment's patient and doctor, only while the
visit is open). A refusal is answered on the socket — ``{"type": "refused", "message": ...}`` —
then the socket closes with 4403 (not allowed), 4404 (no such visit) or 4409 (not open now), so the
page can say why.

Then the connection relays (``domain.video.signalling``), for the two people of the call only:

* from the server: ``joined`` (own role, the other person's name, the ICE servers), then the other
  side's messages: ``hello``/``here`` (presence), ``admit``, ``ready``, ``offer``, ``answer``,
  ``ice``, ``bye``;
* from the browser: ``hello``, ``here``, ``admit`` (the doctor only: audited), ``ready``, ``offer``,
  ``answer``, ``ice``, ``leave``. The patient's ``ready``/``offer``/``answer``/``ice`` pass only once
  the doctor has admitted them, so nobody is put through to the doctor unasked.

The chat runs over the peers' own data channel: it never reaches the server. Leaving (or a dropped
connection) is audited. Nothing of the call is stored.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from fastapi import APIRouter, WebSocket

from patient_portal.core.access import AccessDenied, Actor
from patient_portal.core.db import off_loop, unit_of_work
from patient_portal.core.errors import NotFound, ServiceError
from patient_portal.domain.identity import sessions
from patient_portal.domain.video import service
from patient_portal.domain.video.signalling import get_hub, ice_servers

router = APIRouter()

MAX_MESSAGE = 64 * 1024  # an SDP offer is a few kB; anything far larger is not signalling
FROM_BROWSER = {
    service.DOCTOR: frozenset({"hello", "here", "admit", "ready", "offer", "answer", "ice", "leave"}),
    service.PATIENT: frozenset({"hello", "here", "ready", "offer", "answer", "ice", "leave"}),
}
#: what a patient may send (and be sent) only once admitted
AFTER_ADMISSION = frozenset({"ready", "offer", "answer", "ice"})
REFUSAL_CODES = ((AccessDenied, 4403), (NotFound, 4404), (service.NotOpen, 4409))


def _actor(cookie_header: str, ip: str | None) -> Actor | None:
    """The signed-in actor from the (rewritten) Cookie header: the websocket credential, or the
    token itself where no middleware swapped it (tests calling the router bare)."""
    try:
        cookies = sessions.parse_cookies(cookie_header)
    except sessions.AmbiguousCookies:
        return None
    credential = cookies.get(sessions.WS_COOKIE_NAME)
    check = sessions.check_ws_credential(credential, ip=ip) if credential \
        else sessions.check_session(cookies.get(sessions.COOKIE_NAME), ip=ip)
    return check.actor if check.ok else None


def _join(cookie_header: str, ip: str | None, appointment_id: str) -> tuple[Actor | None, service.Seat]:
    actor = _actor(cookie_header, ip)
    with unit_of_work() as session:
        return actor, service.join(session, actor, appointment_id=appointment_id)


def _admit(actor: Actor, seat: service.Seat) -> None:
    with unit_of_work() as session:
        service.admit(session, actor, seat=seat)


def _leave(actor: Actor, seat: service.Seat) -> None:
    with unit_of_work() as session:
        service.leave(session, actor, seat=seat)


def _refusal_code(exc: ServiceError) -> int:
    return next((code for kind, code in REFUSAL_CODES if isinstance(exc, kind)), 4400)


def _parse(text: str) -> dict[str, Any] | None:
    if len(text) > MAX_MESSAGE:
        return None
    try:
        message = json.loads(text)
    except ValueError:
        return None
    return message if isinstance(message, dict) and isinstance(message.get("type"), str) else None


@router.websocket("/video/{appointment_id}/signal")
async def signal(ws: WebSocket, appointment_id: str) -> None:
    cookie = "; ".join(v for k, v in ws.headers.items() if k == "cookie")
    ip = ws.client.host if ws.client else None
    await ws.accept()
    try:
        actor, seat = await off_loop(_join, cookie, ip, appointment_id)
    except ServiceError as exc:
        await ws.send_json({"type": "refused", "message": str(exc)})
        await ws.close(code=_refusal_code(exc))
        return
    assert actor is not None
    room, cid = str(seat.appointment_id), uuid.uuid4().hex
    hub = get_hub()
    sub = await hub.subscribe(room)
    admitted = {"yes": seat.role == service.DOCTOR}

    async def publish(kind: str, data: Any = None) -> None:
        await hub.publish(room, {"cid": cid, "from": seat.role, "type": kind, "data": data})

    async def to_browser() -> None:
        async for message in sub.messages():
            if message.get("cid") == cid or message.get("from") == seat.role:
                continue  # our own, or a second tab of the same person
            kind = message.get("type")
            if kind == "admit" and seat.role == service.PATIENT:
                admitted["yes"] = True
            if kind in AFTER_ADMISSION and not admitted["yes"]:
                continue
            await ws.send_json({"type": kind, "data": message.get("data")})

    async def from_browser() -> None:
        while True:
            message = _parse(await ws.receive_text())
            if message is None:
                continue
            kind = message["type"]
            if kind not in FROM_BROWSER[seat.role]:
                continue
            if kind == "leave":
                return
            if kind in AFTER_ADMISSION and not admitted["yes"]:
                await ws.send_json({"type": "notice", "message": "Please wait: the doctor will let you in."})
                continue
            if kind == "admit":
                try:
                    await off_loop(_admit, actor, seat)
                except ServiceError as exc:
                    await ws.send_json({"type": "notice", "message": str(exc)})
                    continue
            await publish(kind, message.get("data"))

    await ws.send_json({"type": "joined", "role": seat.role, "you": seat.own_name, "peer": seat.peer_name,
                        "ends_at": seat.end.isoformat(), "ice_servers": ice_servers()})
    tasks = [asyncio.ensure_future(to_browser()), asyncio.ensure_future(from_browser())]

    async def close() -> None:
        """Leave: audited first, then the other side told, the subscription ended."""
        for task in tasks:
            task.cancel()
        try:
            await off_loop(_leave, actor, seat)
        finally:
            try:
                await publish("bye")
            finally:
                await sub.close()
                await asyncio.gather(*tasks, return_exceptions=True)

    try:
        await publish("hello")
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)  # the browser left, or its socket dropped
    finally:
        # shielded: a server shutting down (or a test client) cancelling this handler still leaves properly
        await asyncio.shield(asyncio.ensure_future(close()))
        try:
            await ws.close()
        except RuntimeError:
            pass  # already closed by the browser
