"""GET /metrics (Prometheus text format) and the request-latency middleware that feeds it.

The endpoint exists only when PORTAL_METRICS_TOKEN is set (else 404, as if there were none) and
answers only a request carrying ``Authorization: Bearer <that token>`` (else 401), compared in
constant time. It shows every app process's figures (``core.metrics``: multiprocess mode) plus the
job queue read from the database at scrape time. No label holds patient data.
"""

from __future__ import annotations

import hmac
import time

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from patient_portal.core import metrics
from patient_portal.core.db import off_loop
from patient_portal.settings import get_settings

router = APIRouter()


def _authorized(request: Request, token: str) -> bool:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def _scrape() -> tuple[bytes, str]:
    from patient_portal.domain.operations import service

    return metrics.render(service.scrape_collectors())


@router.get("/metrics", include_in_schema=False)
async def scrape(request: Request) -> Response:
    token = get_settings().metrics_token
    if not token:
        return PlainTextResponse("Not Found", status_code=404)
    if not _authorized(request, token):
        return PlainTextResponse("Unauthorized", status_code=401, headers={"WWW-Authenticate": "Bearer"})
    body, content_type = await off_loop(_scrape)
    return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})


def route_template(scope: Scope) -> str:
    """The matched route's template with its router's prefix (``/api/documents/{document_id}``).
    Routers included with a prefix leave only their own part in ``scope["route"]``; the prefix is
    the part of the real path before the piece that route matches."""
    route = scope.get("route")
    template = getattr(route, "path", None)
    if not template:
        return "unmatched"
    path = scope.get("path", "")
    regex = getattr(route, "path_regex", None)
    if regex is not None:
        for i, char in enumerate(path):
            if char == "/" and regex.match(path[i:]):
                return path[:i] + template
    return template


class RequestMetrics:
    """ASGI middleware: each HTTP answer's latency by method, route template and status. A path no
    route matched is counted as ``unmatched`` (raw paths would carry record ids and grow without end)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = route_template(scope)
            metrics.observe_request(scope.get("method", ""), route, status, time.perf_counter() - started)
