"""Sign-in endpoints and the request-side session check.

* ``POST /api/auth/login``  — native form post (or JSON); sets the ``portal_session`` cookie and
  answers 303 to the role's home, or back to /login with a generic error. For an account with MFA,
  a right password without a code answers 303 to ``/login?step=code`` with the ``portal_mfa``
  ticket cookie (HttpOnly, 5 minutes; see ``domain.identity.mfa_ticket``) instead of a session.
* ``POST /api/auth/login/code`` — the code step: the ticket cookie and ``code``; a session as above.
* ``POST /api/auth/login/restart`` — drop the ticket and go back to the password step.
* ``POST /api/auth/logout`` — ends the session, clears the cookie, 303 to ``/``.
* ``GET  /api/auth/whoami`` — who the cookie belongs to (for scripts and tests); 401 without one.
* ``actor_from_request(request)`` — the Actor for API endpoints (sync: call via off_loop).
* ``origin_allowed`` / ``OriginCheck`` — state-changing requests from another origin get 403.
"""

from __future__ import annotations

import json
from urllib.parse import quote, urlsplit

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from patient_portal.core import clinic_config
from patient_portal.core.access import Actor
from patient_portal.core.db import off_loop
from patient_portal.domain.identity import mfa_ticket, sessions, signin, sso
from patient_portal.settings import get_settings

router = APIRouter()

HOMES = {"admin": "/admin", "doctor": "/doctor", "staff": "/staff", "patient": "/patient"}
ENROL_PATH = "/account/security"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Endpoints that never read a cookie (OAuth token, introspection, revocation: the client
#: authenticates in the request itself), called by apps on other origins: no origin check.
COOKIELESS_PATHS = frozenset({"/api/smart/token", "/api/smart/introspect", "/api/smart/revoke"})


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


#: Cookies of the two-step sign-in that only the server writes (see websocket_cookie).
TICKET_COOKIES = (mfa_ticket.COOKIE_NAME, mfa_ticket.HINT_COOKIE_NAME)


def ticket_from_header(header: str | None) -> str | None:
    """The MFA ticket from a Cookie header, or None when absent or named more than once (however
    spelled: which copy would win depends on the parser)."""
    found = []
    for part in (header or "").split(";"):
        name, sep, value = part.partition("=")
        if sep and name.strip(" \t\r\n\"").lower() == mfa_ticket.COOKIE_NAME:
            found.append(value.strip(" \t\r\n").strip('"'))
    return (found[0] or None) if len(found) == 1 else None


def ticket_from_request(request: Request) -> str | None:
    return ticket_from_header("; ".join(v for k, v in request.headers.items() if k == "cookie"))


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
    The MFA ticket is dropped the same way; while it is valid, the email it is for is passed on as
    ``portal_mfa_for`` (a client-sent one is dropped) for the sign-in page's code step.
    """
    try:
        cookies = sessions.parse_cookies(header)
    except sessions.AmbiguousCookies:
        cookies = {}
    ours = {name.lower() for name in (*sessions.OUR_COOKIES, *TICKET_COOKIES)}
    kept = [f"{name}={value}" for name, value in cookies.items()
            if not any(o in name.lower() for o in ours)]
    token = cookies.get(sessions.COOKIE_NAME)
    if token and len(token) <= 200:
        kept.append(f"{sessions.WS_COOKIE_NAME}={sessions.ws_credential(token)}")
    claim = mfa_ticket.read(ticket_from_header(header))
    if claim is not None:  # the sign-in page shows whom the code step is for; the ticket stays out
        kept.append(f"{mfa_ticket.HINT_COOKIE_NAME}={quote(claim.email, safe='@')}")
    return "; ".join(kept)


def _rewrite_ws_cookies(scope: Scope) -> Scope:
    raw = [(k, v) for k, v in scope.get("headers", []) if k.lower() != b"cookie"]
    cookie = "; ".join(v.decode("latin-1") for k, v in scope.get("headers", []) if k.lower() == b"cookie")
    if cookie:
        raw.append((b"cookie", websocket_cookie(cookie).encode("latin-1")))
    return {**scope, "headers": raw}


def _bearer_fhir(scope: Scope, headers: dict[str, str]) -> bool:
    """A FHIR API call carrying a bearer token: a SMART app on its own site may write. It is not a
    forged cookie request — with an Authorization header the FHIR API never looks at the cookie."""
    return (scope.get("path", "").startswith("/fhir/")
            and headers.get("authorization", "").lower().startswith("bearer "))


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
            if kind == "websocket" or (method in UNSAFE_METHODS and scope.get("path") not in COOKIELESS_PATHS):
                headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
                if not origin_allowed(headers) and not _bearer_fhir(scope, headers):
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
                        max_age=clinic_config.current().session_absolute_seconds)


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


def _next_query(next_path: object) -> str:
    """``&next=…`` for a path inside the site (checked again where it is used), else nothing."""
    nxt = next_path if isinstance(next_path, str) else ""
    if nxt.startswith("/") and not nxt.startswith("//") and "\\" not in nxt and len(nxt) < 200:
        return "&next=" + quote(nxt, safe="/")
    return ""


def _login_error_url(error: str, next_path: object = None) -> str:
    """Back to the form with a fixed error code (no email in the URL: it would land in access logs)."""
    return f"/login?error={quote(error)}" + _next_query(next_path)


def _code_step_url(error: str | None, next_path: object) -> str:
    """The sign-in page's code step (whom it is for comes from the ticket cookie, not the URL)."""
    return "/login?step=code" + (f"&error={quote(error)}" if error else "") + _next_query(next_path)


def _landing(role: str | None, next_path: object) -> str:
    """The role's home, or the page the user was sent away from when it is inside their own tree."""
    home = HOMES.get(role or "", "/")
    nxt = next_path if isinstance(next_path, str) else ""
    if nxt.startswith("/") and not nxt.startswith("//") and "\\" not in nxt and len(nxt) < 200:
        if nxt == home or nxt.startswith(home + "/") or nxt.startswith("/account"):
            return nxt
    return home


def set_ticket_cookie(response: Response, ticket: str) -> None:
    claim = mfa_ticket.read(ticket)
    response.set_cookie(mfa_ticket.COOKIE_NAME, ticket, httponly=True, samesite="strict",
                        secure=get_settings().secure_cookies, path="/",
                        max_age=max(1, claim.seconds_left if claim else 1))


def clear_ticket_cookie(response: Response) -> None:
    response.delete_cookie(mfa_ticket.COOKIE_NAME, path="/", httponly=True, samesite="strict",
                           secure=get_settings().secure_cookies)


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def _answer(result: signin.SignInResult, data: dict, wants_json: bool, *, step: str, had_ticket: bool) -> Response:
    """The response to either step: a session, the code step (with a ticket), or an error.
    `had_ticket`: the request carried a ticket cookie, which an answer that ends the code step clears."""
    nxt = data.get("next")
    response: Response
    if result.ok:
        home = ENROL_PATH + "?required=1" if result.needs_enrolment else _landing(result.role, nxt)
        response = (JSONResponse({"ok": True, "role": result.role, "home": home}) if wants_json
                    else RedirectResponse(home, status_code=303))
        set_session_cookie(response, result.token or "")
        if had_ticket:
            clear_ticket_cookie(response)
        return _no_store(response)
    error = result.error or "credentials"
    if result.ticket:  # the password was right: on to the code step
        shown = error if step == "code" or data.get("code") else None  # first arrival: no error yet
        response = (JSONResponse({"ok": False, "error": "code", "step": "code"}, status_code=401) if wants_json
                    else RedirectResponse(_code_step_url(shown, nxt), status_code=303))
        set_ticket_cookie(response, result.ticket)
        return _no_store(response)
    response = (JSONResponse({"ok": False, "error": error}, status_code=401) if wants_json
                else RedirectResponse(_login_error_url(error, nxt), status_code=303))
    if had_ticket:
        clear_ticket_cookie(response)
    return _no_store(response)


@router.post("/auth/login")
async def login(request: Request) -> Response:
    """Step one: email and password (and, optionally, the code in the same request)."""
    data, wants_json = await _credentials(request)
    email = str(data.get("email") or "")[:320]
    code = str(data.get("code") or data.get("totp") or "")[:32] or None
    result = await signin.sign_in_async(
        email, str(data.get("password") or ""), code, ip=client_ip(request),
        user_agent=request.headers.get("user-agent"), old_token=token_from_request(request),
    )
    return _answer(result, data, wants_json, step="password", had_ticket=ticket_from_request(request) is not None)


@router.post("/auth/login/code")
async def login_code(request: Request) -> Response:
    """Step two: the ticket cookie from step one and the authenticator (or recovery) code."""
    data, wants_json = await _credentials(request)
    result = await signin.redeem_async(
        ticket_from_request(request), str(data.get("code") or data.get("totp") or "")[:32],
        ip=client_ip(request), user_agent=request.headers.get("user-agent"), old_token=token_from_request(request),
    )
    return _answer(result, data, wants_json, step="code", had_ticket=True)


@router.post("/auth/login/restart")
async def login_restart(request: Request) -> Response:
    """Leave the code step: the ticket is dropped, the password asked for again."""
    data, _ = await _credentials(request)
    nxt = _next_query(data.get("next"))
    response = RedirectResponse("/login" + (f"?{nxt[1:]}" if nxt else ""), status_code=303)
    clear_ticket_cookie(response)
    return _no_store(response)


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


# ------------------------------------------------------------------ single sign-on (OpenID Connect)


@router.get("/auth/sso/start")
async def sso_start(request: Request) -> Response:
    """Off to the outside identity provider (admins, doctors, staff); 404 while none is configured."""
    if not sso.configured():
        return JSONResponse({"detail": "Single sign-on is not set up."}, status_code=404)
    nxt = request.query_params.get("next", "")
    try:
        url, cookie = await off_loop(sso.start, nxt if _next_query(nxt) else "")
    except (sso.SsoError, httpx.HTTPError, ValueError, KeyError) as exc:
        await off_loop(sso.record_failure, getattr(exc, "reason", "provider_unreachable"), client_ip(request))
        return _no_store(RedirectResponse(_login_error_url("sso"), status_code=303))
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(sso.STATE_COOKIE, cookie, max_age=600, httponly=True, samesite="lax",
                        secure=get_settings().secure_cookies, path="/api/auth/sso")
    return _no_store(response)


@router.get("/auth/sso/callback")
async def sso_callback(request: Request) -> Response:
    """Back from the provider: check everything, then open the session (or ask for the MFA code)."""
    ip = client_ip(request)
    try:
        verified = await off_loop(sso.finish, request.query_params.get("code"), request.query_params.get("state"),
                                  request.cookies.get(sso.STATE_COOKIE))
    except (sso.SsoError, httpx.HTTPError, ValueError, KeyError) as exc:
        await off_loop(sso.record_failure, getattr(exc, "reason", "provider_unreachable"), ip)
        response = RedirectResponse(_login_error_url("sso"), status_code=303)
        response.delete_cookie(sso.STATE_COOKIE, path="/api/auth/sso")
        return _no_store(response)
    result = await off_loop(signin.sign_in_federated, verified.user_id, mfa_asserted=verified.mfa_asserted, ip=ip,
                            user_agent=request.headers.get("user-agent"), old_token=token_from_request(request))
    response = _answer(result, {"next": verified.next_path}, False, step="sso",
                       had_ticket=ticket_from_request(request) is not None)
    response.delete_cookie(sso.STATE_COOKIE, path="/api/auth/sso")
    return response

