"""The origin check and the websocket cookie swap, as ASGI middleware around any app."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocket, WebSocketDisconnect

from patient_portal.api.auth import OriginCheck, origin_allowed
from patient_portal.domain.identity.sessions import hash_token, ws_credential


async def _echo_cookie(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text(websocket.headers.get("cookie", ""))
    await websocket.close()


async def _post(request) -> PlainTextResponse:
    return PlainTextResponse("changed")


@pytest.fixture
def app_client() -> TestClient:
    app = Starlette(routes=[WebSocketRoute("/_event/", _echo_cookie), Route("/thing", _post, methods=["POST", "GET"])])
    return TestClient(OriginCheck(app), base_url="http://localhost:3000")


def test_websocket_from_another_origin_is_refused(app_client):
    with pytest.raises(WebSocketDisconnect), app_client.websocket_connect(
            "/_event/", headers={"origin": "https://evil.example"}) as ws:
        ws.receive_text()


@pytest.mark.parametrize("forged", ["portal_ws=forged", "portal_ws =forged", "portal_ws\t=forged"])
def test_websocket_sees_a_server_credential_never_the_token(app_client, forged):
    with app_client.websocket_connect("/_event/", headers={
            "origin": "http://localhost:3000", "cookie": f"a=1; portal_session=TOPSECRET; {forged}"}) as ws:
        seen = ws.receive_text()
    assert "TOPSECRET" not in seen and "forged" not in seen
    assert seen == f"a=1; portal_ws={ws_credential('TOPSECRET')}"
    assert hash_token("TOPSECRET") in seen  # the hash alone is no credential: see test_session_state


def test_posts_from_another_origin_are_refused_reads_are_not(app_client):
    assert app_client.post("/thing", headers={"origin": "https://evil.example"}).status_code == 403
    assert app_client.post("/thing", headers={"referer": "http://evil.example/x"}).status_code == 403
    assert app_client.post("/thing", headers={"origin": "http://localhost:3000"}).status_code == 200
    assert app_client.post("/thing").status_code == 200  # no Origin/Referer: non-browser client
    assert app_client.get("/thing", headers={"origin": "https://evil.example"}).status_code == 200


@pytest.mark.parametrize(("headers", "ok"), [
    ({}, True), ({"origin": "http://localhost:3000"}, True), ({"origin": "HTTP://LOCALHOST:3000"}, True),
    ({"origin": "http://localhost:3001"}, False), ({"origin": "http://localhost:3000.evil.example"}, False),
    ({"origin": "null"}, False), ({"referer": "http://localhost:3000/login?x=1"}, True),
    ({"referer": "https://localhost:3000/login"}, False),
])
def test_origin_allowed(headers, ok):
    assert origin_allowed(headers) is ok
