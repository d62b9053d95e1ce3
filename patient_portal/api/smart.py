"""SMART App Launch 2.x over HTTP: discovery, the JWKS, authorize (→ the consent page), token,
introspection and revocation. The OAuth work is authlib's core (``domain/smart/server.py``); these
routes only move values between HTTP and it.

The authorization request is checked here, kept in a short-lived HttpOnly cookie and the browser
sent to the consent page ``/account/apps/authorize`` (a Reflex page: it asks sign-in first, then
shows the app and its scopes in plain words). Its form posts back here with the person's decision.
The token, introspection and revocation endpoints take no cookie; apps call them from other
origins, so the origin check lets them through (``COOKIELESS_PATHS``). Browser apps (public clients
with PKCE) POST to the token and revocation endpoints from their own origin: ``TokenCors`` answers
their CORS preflight and lets any origin read the answer, never with credentials.
"""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from anyio import to_thread
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from patient_portal.api.auth import COOKIELESS_PATHS, actor_from_request  # noqa: F401
from patient_portal.core.db import unit_of_work
from patient_portal.core.errors import ServiceError
from patient_portal.domain.smart import server as smart_server
from patient_portal.domain.smart import service
from patient_portal.domain.smart.keys import public_jwks
from patient_portal.domain.smart.launch import FIELDS, REQUEST_COOKIE, pending_request
from patient_portal.domain.smart.scopes import CONTEXT_SCOPES
from patient_portal.settings import get_settings

router = APIRouter()
BASE = "/api/smart"
CONSENT_PAGE = "/account/apps/authorize"


def configuration() -> dict:
    """The SMART configuration document (also linked from the CapabilityStatement's oauth-uris)."""
    root = get_settings().public_url
    return {
        "issuer": smart_server.issuer(),
        "jwks_uri": f"{root}{BASE}/jwks",
        "authorization_endpoint": f"{root}{BASE}/authorize",
        "token_endpoint": f"{root}{BASE}/token",
        "introspection_endpoint": f"{root}{BASE}/introspect",
        "revocation_endpoint": f"{root}{BASE}/revoke",
        "management_endpoint": f"{root}/account/apps",
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": list(smart_server.ASSERTION_ALGS),
        "scopes_supported": sorted(CONTEXT_SCOPES) + ["patient/*.rs", "patient/*.cruds", "user/*.rs",
                                                      "user/*.cruds", "system/*.rs"],
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
        "capabilities": ["launch-standalone", "client-public", "client-confidential-symmetric",
                         "client-confidential-asymmetric", "context-standalone-patient", "permission-offline",
                         "permission-online", "permission-patient", "permission-user", "permission-v1",
                         "permission-v2", "sso-openid-connect", "authorize-post"],
    }


@router.get("/.well-known/smart-configuration")
@router.get("/fhir/.well-known/smart-configuration")
async def smart_configuration() -> Response:
    return JSONResponse(configuration(), media_type="application/json")


@router.get(f"{BASE}/jwks")
async def jwks() -> Response:
    return JSONResponse(await to_thread.run_sync(public_jwks))


def _redirect_with(redirect_uri: str, **params: str | None) -> RedirectResponse:
    sep = "&" if "?" in redirect_uri else "?"
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return RedirectResponse(f"{redirect_uri}{sep}{query}", status_code=303)


def _bad_request(message: str) -> Response:
    return JSONResponse({"error": "invalid_request", "error_description": message}, status_code=400)


def check_request(params: dict[str, str]) -> tuple[str | None, str | None]:
    """(redirect_uri when the app and it are known, error code or None) for an authorization request."""
    with unit_of_work() as session:
        app = service.app_for_launch(session, params.get("client_id", ""))
        redirect_uri = params.get("redirect_uri", "")
        if app is None or redirect_uri not in app.redirect_uris:
            return None, "invalid_request"
    if params.get("response_type") != "code":
        return redirect_uri, "unsupported_response_type"
    if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
        return redirect_uri, "invalid_request"
    aud = params.get("aud")
    if aud and aud.rstrip("/") != get_settings().public_url + "/fhir":
        return redirect_uri, "invalid_request"
    return redirect_uri, None


@router.get(f"{BASE}/authorize")
async def authorize(request: Request) -> Response:
    params = {k: v for k, v in request.query_params.items() if k in FIELDS and len(v) <= 2000}
    redirect_uri, error = await to_thread.run_sync(check_request, params)
    if redirect_uri is None:  # never redirect to an address the app did not register
        return _bad_request("Unknown app or redirect URI.")
    if error:
        return _redirect_with(redirect_uri, error=error, state=params.get("state"))
    response = RedirectResponse(CONSENT_PAGE, status_code=303)
    response.set_cookie(REQUEST_COOKIE, urlencode(params), max_age=600, httponly=True, samesite="lax",
                        secure=get_settings().secure_cookies, path="/")
    return response


@router.post(f"{BASE}/authorize")
async def decide(request: Request) -> Response:
    """The consent form's answer: approve (optionally with the chosen patient) or deny."""
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    params = pending_request(request.headers.get("cookie"))
    redirect_uri, error = await to_thread.run_sync(check_request, params) if params else (None, "invalid_request")
    if redirect_uri is None:
        return _bad_request("No app is waiting for your answer. Start again from the app.")
    actor = actor_from_request(request)
    if actor is None:
        return RedirectResponse(f"/login?next={CONSENT_PAGE}", status_code=303)
    if error:
        response = _redirect_with(redirect_uri, error=error, state=params.get("state"))
    elif form.get("decision") != "approve":
        response = _redirect_with(redirect_uri, error="access_denied", state=params.get("state"))
    else:
        try:
            patient = uuid.UUID(form["patient_id"]) if form.get("patient_id") else None
        except ValueError:
            patient = None

        def approve() -> str:
            with unit_of_work() as session:
                code, _ = service.approve(session, actor, client_id=params["client_id"], redirect_uri=redirect_uri,
                                          scope=params.get("scope", ""), code_challenge=params["code_challenge"],
                                          code_challenge_method=params["code_challenge_method"],
                                          nonce=params.get("nonce"), patient_id=patient)
                return code

        try:
            code = await to_thread.run_sync(approve)
        except ServiceError as exc:
            if "patient_id" in getattr(exc, "errors", {}) or exc.status == 404:
                return RedirectResponse(f"{CONSENT_PAGE}?error=patient", status_code=303)
            response = _redirect_with(redirect_uri, error="invalid_scope", state=params.get("state"))
        else:
            response = _redirect_with(redirect_uri, code=code, state=params.get("state"))
    response.delete_cookie(REQUEST_COOKIE, path="/")
    response.headers["Cache-Control"] = "no-store"
    return response


async def _endpoint(name: str, request: Request) -> Response:
    raw = await request.form()
    form = {k: v for k, v in raw.items() if isinstance(v, str)}
    headers = request.headers  # case-insensitive, as authlib reads "Authorization"
    status, body, extra = await to_thread.run_sync(smart_server.handle, name, request.method, request.url.path,
                                                   headers, form)
    response = JSONResponse(body, status_code=status)
    for key, value in extra.items():
        if key.lower() not in ("content-type", "content-length"):
            response.headers[key] = value
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


@router.post(f"{BASE}/token")
async def token(request: Request) -> Response:
    return await _endpoint("token", request)


@router.post(f"{BASE}/introspect")
async def introspect(request: Request) -> Response:
    return await _endpoint("introspection", request)


@router.post(f"{BASE}/revoke")
async def revoke(request: Request) -> Response:
    return await _endpoint("revocation", request)


#: The endpoints a browser app calls across origins: CORS for any origin, without credentials.
CORS_PATHS = frozenset({f"{BASE}/token", f"{BASE}/revoke"})
CORS_PREFLIGHT = {"access-control-allow-origin": "*", "access-control-allow-methods": "POST, OPTIONS",
                  "access-control-allow-headers": "Authorization, Content-Type, Accept",
                  "access-control-max-age": "600"}


class TokenCors:
    """ASGI middleware, outermost (``api_transformer=[build_api(), TokenCors]``: outside the CORS
    middleware Reflex puts around the API for the portal's own origin, which would refuse an app's
    preflight with 400). On ``CORS_PATHS`` only:

    * ``OPTIONS`` (a preflight) is answered here: 204, any origin, POST, the headers a token request
      sends — no ``Access-Control-Allow-Credentials``: these endpoints never read a cookie;
    * every other answer gets ``Access-Control-Allow-Origin: *`` (and loses any allow-credentials
      header an inner layer added, since ``*`` with credentials is refused by browsers anyway).

    Everything else passes through untouched: the portal's own pages and API keep their one origin.
    """

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") not in CORS_PATHS:
            await self.app(scope, receive, send)
            return
        if scope.get("method") == "OPTIONS":
            response = Response(status_code=204, headers=CORS_PREFLIGHT)
            await response(scope, receive, send)
            return

        async def send_open(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.lower() not in (b"access-control-allow-origin", b"access-control-allow-credentials")]
                message = {**message, "headers": [*headers, (b"access-control-allow-origin", b"*")]}
            await send(message)

        await self.app(scope, receive, send_open)
