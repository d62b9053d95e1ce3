"""The relay of a call's signalling messages between the two browsers (offers, answers, ICE
candidates, presence, admission), one channel per appointment.

* ``LocalHub`` (the embedded default): in-process queues — both peers reach the one app process.
* ``RedisHub`` (REFLEX_REDIS_URL set: several app workers): Redis pub/sub on ``portal:video:<id>``,
  so the patient and the doctor meet whichever worker their websocket reached. Pub/sub keeps
  nothing: a message reaches the subscribers of that moment and is gone.

A message is a small JSON object ``{"cid": sender connection, "from": patient|doctor, "type": ...,
"data": ...}``; every subscriber of the channel gets every message, its own included (the reader
drops those by ``cid``). Nothing is written anywhere.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any, Protocol

from patient_portal.settings import get_settings, on_reset

CHANNEL = "portal:video:{}"


class Subscription(Protocol):
    def messages(self) -> AsyncIterator[dict[str, Any]]: ...
    async def close(self) -> None: ...


class Hub(Protocol):
    async def subscribe(self, room: str) -> Subscription: ...
    async def publish(self, room: str, message: dict[str, Any]) -> None: ...


class _LocalSubscription:
    def __init__(self, hub: LocalHub, room: str):
        self.hub, self.room, self.queue = hub, room, asyncio.Queue(maxsize=500)
        self.loop = asyncio.get_running_loop()

    def put(self, message: dict[str, Any]) -> None:
        if not self.queue.full():  # a stalled reader loses messages, never blocks the room
            self.queue.put_nowait(message)

    async def messages(self) -> AsyncIterator[dict[str, Any]]:
        while True:
            yield await self.queue.get()

    async def close(self) -> None:
        members = self.hub.rooms.get(self.room)
        if members is not None:
            members.discard(self)
            if not members:
                self.hub.rooms.pop(self.room, None)


class LocalHub:
    """Rooms of in-process queues (one app process; safe across its threads' event loops)."""

    def __init__(self) -> None:
        self.rooms: dict[str, set[_LocalSubscription]] = {}

    async def subscribe(self, room: str) -> _LocalSubscription:
        sub = _LocalSubscription(self, room)
        self.rooms.setdefault(room, set()).add(sub)
        return sub

    async def publish(self, room: str, message: dict[str, Any]) -> None:
        for sub in list(self.rooms.get(room, ())):
            # each reader's own event loop wakes it (a server may run more than one loop in a process)
            sub.loop.call_soon_threadsafe(sub.put, message)


class _RedisSubscription:
    def __init__(self, pubsub: Any, channel: str):
        self.pubsub, self.channel = pubsub, channel

    async def messages(self) -> AsyncIterator[dict[str, Any]]:
        while True:
            raw = await self.pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            if raw is None or raw.get("type") != "message":
                continue
            try:
                message = json.loads(raw["data"])
            except (TypeError, ValueError):
                continue
            if isinstance(message, dict):
                yield message

    async def close(self) -> None:
        try:
            await self.pubsub.unsubscribe(self.channel)
        finally:
            await self.pubsub.aclose()


class RedisHub:
    """Rooms as Redis pub/sub channels (several app workers)."""

    def __init__(self, url: str):
        self.url = url
        self.clients: dict[asyncio.AbstractEventLoop, Any] = {}

    def _client(self) -> Any:
        """One client per event loop (an asyncio connection belongs to the loop that opened it)."""
        import redis.asyncio as aioredis

        loop = asyncio.get_running_loop()
        if loop not in self.clients:
            for gone in [other for other in self.clients if other.is_closed()]:
                del self.clients[gone]
            self.clients[loop] = aioredis.from_url(self.url)
        return self.clients[loop]

    async def subscribe(self, room: str) -> _RedisSubscription:
        pubsub = self._client().pubsub()
        channel = CHANNEL.format(room)
        await pubsub.subscribe(channel)
        return _RedisSubscription(pubsub, channel)

    async def publish(self, room: str, message: dict[str, Any]) -> None:
        await self._client().publish(CHANNEL.format(room), json.dumps(message, separators=(",", ":")))


_hub: Hub | None = None


def get_hub() -> Hub:
    """The process's hub: Redis when REFLEX_REDIS_URL is set, else in-process."""
    global _hub
    if _hub is None:
        url = get_settings().redis_url
        _hub = RedisHub(url) if url else LocalHub()
    return _hub


@on_reset
def _forget_hub() -> None:
    global _hub
    _hub = None


def ice_servers() -> list[dict[str, Any]]:
    """The STUN/TURN servers for the browsers (PORTAL_VIDEO_ICE_SERVERS, a JSON list of RTCIceServer
    objects, or a comma-separated list of URLs); [] when unset or unreadable (none is needed on one
    machine or a LAN)."""
    raw = get_settings().video_ice_servers.strip()
    if not raw:
        return []
    if not raw.startswith("["):
        return [{"urls": u.strip()} for u in raw.split(",") if u.strip()]
    try:
        value = json.loads(raw)
    except ValueError:
        return []
    keep = ("urls", "username", "credential")
    return [{k: v for k, v in item.items() if k in keep} for item in value if isinstance(item, dict) and item.get("urls")]
