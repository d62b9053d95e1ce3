"""Sign-in endpoints and the request-side session check.

* ``POST /api/auth/login``  — native form post (or JSON); sets the ``portal_session`` cookie and
  answers 303 to the role's home, or back to /login with a generic error.
* ``POST /api/auth/logout`` — ends the session, clears the cookie, 303 to ``/``.
* ``GET  /api/auth/whoami`` — who the cookie belongs to (for scripts and tests); 401 without one.
* ``actor_from_request(request)`` — the Actor for API endpoints (sync: call via off_loop).
* ``origin_allowed`` / ``OriginCheck`` — state-changing requests from another origin get 403.
"""

from __future__ import annotations

import json
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from patient_portal.core.access import Actor
from patient_portal.core.db import off_loop
from patient_portal.domain.identity import sessions, signin
from patient_portal.settings import get_settings

router = APIRouter()

HOMES = {"admin": "/admin", "doctor": "/doctor", "staff": "/staff", "patient": "/patient"}
ENROL_PATH = "/account/security"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def client_ip(request: Request) -> str:
    """The address throttles and the audit trail use: the peer, or, behind PORTAL_TRUSTED_PROXY_HOPS
    reverse proxies, the entry that many places from the end of X-Forwarded-For (what Reflex does for
    the websocket). Entries further left are written by the client and never trusted."""
    peer = request.client.host if request.client else "unknown"
    hops = get_settings().trusted_proxy_hops
    if hops:
        forwarded = [ip.strip() for ip in request.headers.get("x-forwarded-for", "").split(",") if ip.strip()]
        if len(forwarded) >= hops:
            return forwarded[-hops][:64]
    return peer


def token_from_request(request: Request) -> str | None:
    """The session token from the Cookie header(s), read by the one parser (ambiguous → None)."""
    header = "; ".join(v for k, v in request.headers.items() if k == "cookie")
    return sessions.parse_cookie_header(header)


def actor_from_request(request: Request) -> Actor | None:
    """The signed-in Actor for this request, or None (no, expired or MFA-pending session)."""
    check = sessions.check_session(token_from_request(request), ip=client_ip(request))
    return check.actor if check.ok else None


# ------------------------------------------------------------------ origin check


def _origin_of(value: str) -> str:
    parts = urlsplit(value)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else value.lower()


def origin_allowed(headers) -> bool:
    """True unless an Origin (or, lacking it, Referer) header names another origin than public_url."""
    allowed = _origin_of(get_settings().public_url)
    origin = headers.get("origin")
    if origin:
        return origin.lower() != "null" and _origin_of(origin) == allowed
    referer = headers.get("referer")
    if referer:
        return _origin_of(referer) == allowed
    return True


def websocket_cookie(header: str) -> str:
    """The Cookie header the websocket (Reflex state) may see: the session token replaced by a
    server-made credential (``sessions.ws_credential``); every client-sent cookie of ours — however
    spelled or spaced — is dropped, and an ambiguous header carries no credential at all.

    Reflex copies connection headers into state that is sent to the browser, so the HttpOnly token
    must never reach it, and nothing the browser can send may pass for the server-side identity.
    """
    try:
        cookies = sessions.parse_cookies(header)
    except sessions.AmbiguousCookies:
        cookies = {}
    ours = {name.lower() for name in sessions.OUR_COOKIES}
    kept = [f"{name}={value}" for name, value in cookies.items()
            if not any(o in name.lower() for o in ours)]
    token = cookies.get(sessions.COOKIE_NAME)
    if token and len(token) <= 200:
        kept.append(f"{sessions.WS_COOKIE_NAME}={sessions.ws_credential(token)}")
    return "; ".join(kept)


def _rewrite_ws_cookies(scope: Scope) -> Scope:
    raw = [(k, v) for k, v in scope.get("headers", []) if k.lower() != b"cookie"]
    cookie = "; ".join(v.decode("latin-1") for k, v in scope.get("headers", []) if k.lower() == b"cookie")
    if cookie:
        raw.append((b"cookie", websocket_cookie(cookie).encode("latin-1")))
    return {**scope, "headers": raw}


class OriginCheck:
    """ASGI middleware around the whole app (Reflex's event websocket included):

    * 403 for state-changing HTTP requests and websocket handshakes from another origin;
    * on websockets, the session token in the Cookie header is swapped for a server-made credential.
    """

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind in ("http", "websocket"):
            method = scope.get("method", "GET")
            if kind == "websocket" or method in UNSAFE_METHODS:
                headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
                if not origin_allowed(headers):
                    if kind == "websocket":  # closing before accept answers the handshake with 403
                        await send({"type": "websocket.close", "code": 1008})
                        return
                    response = JSONResponse({"detail": "Request from another site refused"}, status_code=403)
                    await response(scope, receive, send)
                    return
            if kind == "websocket" or scope.get("path", "").startswith("/_event"):
                scope = _rewrite_ws_cookies(scope)
        await self.app(scope, receive, send)


# ------------------------------------------------------------------ endpoints


def set_session_cookie(response: Response, token: str) -> None:
    response.set_cookie(sessions.COOKIE_NAME, token, httponly=True, samesite="strict",
                        secure=get_settings().secure_cookies, path="/",
                        max_age=get_settings().session_absolute_seconds)


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(sessions.COOKIE_NAME, path="/", httponly=True, samesite="strict",
                           secure=get_settings().secure_cookies)


async def _credentials(request: Request) -> tuple[dict, bool]:
    """The submitted fields and whether the client sent JSON (wants JSON back)."""
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("application/json"):
        try:
            data = json.loads(await request.body() or b"{}")
        except ValueError:
            data = {}
        return (data if isinstance(data, dict) else {}), True
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}, False


def _login_error_url(error: str) -> str:
    """Back to the form with a fixed error code (no email in the URL: it would land in access logs)."""
    return f"/login?error={quote(error)}"


def _landing(role: str | None, next_path: object) -> str:
    """The role's home, or the page the user was sent away from when it is inside their own tree."""
    home = HOMES.get(role or "", "/")
    nxt = next_path if isinstance(next_path, str) else ""
    if nxt.startswith("/") and not nxt.startswith("//") and "\\" not in nxt and len(nxt) < 200:
        if nxt == home or nxt.startswith(home + "/") or nxt.startswith("/account"):
            return nxt
    return home


@router.post("/auth/login")
async def login(request: Request) -> Response:
    data, wants_json = await _credentials(request)
    email = str(data.get("email") or "")[:320]
    code = str(data.get("code") or data.get("totp") or "")[:32] or None
    result = await signin.sign_in_async(
        email, str(data.get("password") or ""), code, ip=client_ip(request),
        user_agent=request.headers.get("user-agent"), old_token=token_from_request(request),
    )
    if not result.ok:
        if wants_json:
            return JSONResponse({"ok": False, "error": result.error}, status_code=401,
                                headers={"Cache-Control": "no-store"})
        return RedirectResponse(_login_error_url(result.error or "credentials"),
                                status_code=303, headers={"Cache-Control": "no-store"})
    home = ENROL_PATH + "?required=1" if result.needs_enrolment else _landing(result.role, data.get("next"))
    response: Response
    if wants_json:
        response = JSONResponse({"ok": True, "role": result.role, "home": home})
    else:
        response = RedirectResponse(home, status_code=303)
    response.headers["Cache-Control"] = "no-store"
    set_session_cookie(response, result.token or "")
    return response


@router.post("/auth/logout")
async def logout(request: Request) -> Response:
    await off_loop(sessions.revoke_token, token_from_request(request), ip=client_ip(request))
    response = RedirectResponse("/", status_code=303, headers={"Cache-Control": "no-store"})
    clear_session_cookie(response)
    return response


@router.get("/auth/whoami")
async def whoami(request: Request) -> Response:
    actor = await off_loop(actor_from_request, request)
    if actor is None:
        return JSONResponse({"signed_in": False}, status_code=401, headers={"Cache-Control": "no-store"})
    return JSONResponse({"signed_in": True, "role": actor.role.value, "display_name": actor.display_name},
                        headers={"Cache-Control": "no-store"})
