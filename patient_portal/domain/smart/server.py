"""authlib's OAuth 2 server core, adapted to this app (authlib ships Flask/Django integrations only).

``SmartServer`` is an ``authlib.oauth2.rfc6749.AuthorizationServer`` with: the authorization code
grant (PKCE S256 via RFC 7636), refresh tokens (rotated), client_credentials authenticated by a
signed JWT assertion (RFC 7523 ``private_key_jwt``, RS384/ES384, keys from the app's JWKS),
introspection (RFC 7662) and revocation (RFC 7009). It is framework-free: ``handle(name, method,
uri, headers, form)`` takes plain values and returns (status, body dict, headers), so the FastAPI
routes in ``api/smart.py`` stay a few lines. Each call runs in one unit of work held in a context
variable, so the grants' database work and the audit event commit together.
"""

from __future__ import annotations

import contextvars
import hmac
import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

import httpx
from authlib.oauth2.rfc6749 import AuthorizationServer, ClientMixin, TokenMixin, grants
from authlib.oauth2.rfc6749.errors import OAuth2Error
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload, OAuth2Request
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlmodel import Session, select

from patient_portal.core import audit
from patient_portal.core.db import unit_of_work, utcnow
from patient_portal.domain.identity.models import User
from patient_portal.domain.smart.keys import signing_key
from patient_portal.domain.smart.models import (
    SmartApp,
    SmartAssertionJti,
    SmartAuthCode,
    SmartAuthorization,
    SmartToken,
)
from patient_portal.domain.smart.scopes import narrow, normalize, parse_resource
from patient_portal.domain.smart.tokens import digest, new_secret, sharing_allowed, system_actor
from patient_portal.settings import get_settings

ACCESS_SECONDS = 3600
REFRESH_DAYS = 30
BACKEND_SECONDS = 300  # Backend Services: five minutes, no refresh token
ASSERTION_ALGS = ("RS384", "ES384")

_session: contextvars.ContextVar[Session] = contextvars.ContextVar("smart_session")


def _db() -> Session:
    return _session.get()


def _live(when) -> bool:
    return when is not None and when.replace(tzinfo=None) > utcnow().replace(tzinfo=None)


def issuer() -> str:
    return get_settings().public_url + "/api/smart"


# ---------------------------------------------------------------- authlib's models


class Client(ClientMixin):
    def __init__(self, app: SmartApp):
        self.app = app

    def get_client_id(self):
        return self.app.client_id

    def get_default_redirect_uri(self):
        return self.app.redirect_uris[0] if self.app.redirect_uris else None

    def get_allowed_scope(self, scope):
        return narrow(scope, self.app.scope)

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri in self.app.redirect_uris

    def check_client_secret(self, client_secret):
        return bool(self.app.secret_hash) and hmac.compare_digest(self.app.secret_hash, digest(client_secret or ""))

    def check_endpoint_auth_method(self, method, endpoint):
        if self.app.kind == "backend":
            return method == PrivateKeyJWT.CLIENT_AUTH_METHOD
        if self.app.confidential:
            return method in ("client_secret_basic", "client_secret_post")
        return method == "none"

    def check_response_type(self, response_type):
        return self.app.kind == "app" and response_type == "code"

    def check_grant_type(self, grant_type):
        if self.app.kind == "backend":
            return grant_type == "client_credentials"
        return grant_type in ("authorization_code", "refresh_token")


@dataclass
class GrantUser:
    """Who the tokens are for, with the launch context the code or refresh token carried."""

    user_id: uuid.UUID
    patient_id: uuid.UUID | None
    authorization_id: uuid.UUID | None
    nonce: str | None = None

    def get_user_id(self):
        return str(self.user_id)


class Token(TokenMixin):
    def __init__(self, row: SmartToken):
        self.row = row

    def check_client(self, client):
        return self.row.client_id == client.get_client_id()

    def get_scope(self):
        return self.row.scope

    def get_expires_in(self):
        return max(0, int((self.row.expires_at.replace(tzinfo=None) - utcnow().replace(tzinfo=None)).total_seconds()))

    def is_expired(self):
        return not _live(self.row.expires_at)

    def is_revoked(self):
        if self.row.revoked:
            return True
        if self.row.authorization_id is not None:
            grant = _db().get(SmartAuthorization, self.row.authorization_id)
            return grant is None or grant.revoked_at is not None
        return False

    def get_user(self):
        return self.row.user_id

    def get_client(self):
        return query_client(self.row.client_id)


class Code:
    def __init__(self, row: SmartAuthCode):
        self.row = row
        self.code_challenge = row.code_challenge
        self.code_challenge_method = row.code_challenge_method

    def get_redirect_uri(self):
        return self.row.redirect_uri

    def get_scope(self):
        return self.row.scope


def query_client(client_id):
    if not client_id or not isinstance(client_id, str):
        return None
    app = _db().exec(select(SmartApp).where(SmartApp.client_id == client_id)).first()
    return Client(app) if app is not None and app.active else None


# ---------------------------------------------------------------- grants and endpoints


class S256Only(CodeChallenge):
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]


class CodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

    def save_authorization_code(self, code, request):  # codes are issued by service.approve
        raise NotImplementedError

    def query_authorization_code(self, code, client):
        row = _db().exec(select(SmartAuthCode).where(SmartAuthCode.code_hash == digest(code or ""))).first()
        if row is None or row.client_id != client.get_client_id() or row.used_at is not None or not _live(row.expires_at):
            return None
        return Code(row)

    def delete_authorization_code(self, authorization_code):
        authorization_code.row.used_at = utcnow()
        _db().add(authorization_code.row)

    def authenticate_user(self, authorization_code):
        row = authorization_code.row
        user = _db().get(User, row.user_id)
        if user is None or not user.active:
            return None
        return GrantUser(row.user_id, row.patient_id, row.authorization_id, row.nonce)


class RefreshGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token):
        row = _db().exec(select(SmartToken).where(SmartToken.refresh_hash == digest(refresh_token or ""))).first()
        if row is None or row.revoked or not _live(row.refresh_expires_at):
            return None
        token = Token(row)
        return None if token.is_revoked() else token

    def authenticate_user(self, refresh_token):
        row = refresh_token.row
        user = _db().get(User, row.user_id) if row.user_id else None
        if user is None or not user.active:
            return None
        return GrantUser(row.user_id, row.patient_id, row.authorization_id)

    def revoke_old_credential(self, refresh_token):
        refresh_token.row.revoked, refresh_token.row.revoked_at = True, utcnow()
        _db().add(refresh_token.row)


class BackendGrant(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["private_key_jwt"]


class PrivateKeyJWT(JWTBearerClientAssertion):
    """RFC 7523 client authentication as SMART Backend Services asks it: RS384 or ES384, the key
    from the app's registered JWKS (inline or fetched from its https URL), jti not reused."""

    CLIENT_AUTH_METHOD = "private_key_jwt"

    def get_audiences(self):
        return [issuer() + "/token"]

    def resolve_client_public_key(self, client):
        app = client.app
        data = app.jwks
        if not data and app.jwks_url:
            data = httpx.get(app.jwks_url, timeout=5, follow_redirects=False).json()
        return KeySet.import_key_set(data or {"keys": []})

    def process_assertion_claims(self, assertion, resolve_key):
        from authlib.oauth2.rfc6749.errors import InvalidClientError
        from joserfc.errors import JoseError

        try:
            token = jwt.decode(assertion, resolve_key, algorithms=list(ASSERTION_ALGS))
        except (JoseError, ValueError) as e:
            raise InvalidClientError(description="The client assertion is not valid.") from e
        self.verify_claims(token.claims)
        return token.claims

    def validate_jti(self, claims, jti):
        db = _db()
        client_id = str(claims.get("sub"))
        jti = str(jti)[:255]
        if db.exec(select(SmartAssertionJti).where(SmartAssertionJti.client_id == client_id,
                                                   SmartAssertionJti.jti == jti)).first() is not None:
            return False
        exp = claims.get("exp") or time.time() + 300
        db.add(SmartAssertionJti(client_id=client_id, jti=jti,
                                 expires_at=utcnow() + timedelta(seconds=max(0, int(exp - time.time())) + 60)))
        return True


class Introspection(IntrospectionEndpoint):
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none", "private_key_jwt"]

    def query_token(self, token_string, token_type_hint):
        return _find_token(token_string, token_type_hint)

    def check_permission(self, token, client, request):
        return token.check_client(client)  # an app introspects only its own tokens

    def introspect_token(self, token):
        row = token.row
        data = {"active": True, "client_id": row.client_id, "token_type": "Bearer", "scope": row.scope,
                "exp": int(row.expires_at.replace(tzinfo=None).timestamp()) if row.expires_at.tzinfo is None
                else int(row.expires_at.timestamp()),
                "iat": int(row.issued_at.timestamp()), "iss": issuer()}
        if row.user_id:
            data["sub"] = str(row.user_id)
        if row.patient_id:
            data["patient"] = str(row.patient_id)
        return data


class Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none", "private_key_jwt"]

    def query_token(self, token_string, token_type_hint):
        return _find_token(token_string, token_type_hint)

    def revoke_token(self, token, request):
        token.row.revoked, token.row.revoked_at = True, utcnow()
        _db().add(token.row)
        audit.record(_db(), None, "smart.token.revoke", object_type="smart_token", object_id=token.row.id,
                     detail={"client_id": token.row.client_id})


def _find_token(token_string: str, hint: str | None):
    h = digest(token_string or "")
    column = SmartToken.refresh_hash if hint == "refresh_token" else SmartToken.access_hash
    row = _db().exec(select(SmartToken).where(column == h)).first()
    if row is None:
        other = SmartToken.access_hash if hint == "refresh_token" else SmartToken.refresh_hash
        row = _db().exec(select(SmartToken).where(other == h)).first()
    return Token(row) if row is not None else None


# ---------------------------------------------------------------- tokens


def _id_token(client: Client, user: GrantUser) -> str:
    db = _db()
    u = db.get(User, user.user_id)
    kind = "Patient" if u is not None and u.role == "patient" and u.patient_id else "Practitioner"
    ref = f"{kind}/{u.patient_id if kind == 'Patient' else u.id}" if u is not None else None
    now = int(time.time())
    claims = {"iss": issuer(), "sub": str(user.user_id), "aud": client.get_client_id(), "iat": now,
              "exp": now + ACCESS_SECONDS, "fhirUser": f"{get_settings().public_url}/fhir/{ref}"}
    if user.nonce:
        claims["nonce"] = user.nonce
    key = signing_key()
    return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)


def _generate(grant_type, client, user=None, scope=None, expires_in=None, include_refresh_token=True):
    scopes = normalize(client.get_allowed_scope(scope))  # never more than the app may hold
    token = {"token_type": "Bearer", "access_token": new_secret(), "scope": " ".join(scopes)}
    if user is None:  # Backend Services
        token["expires_in"] = BACKEND_SECONDS
        return token
    token["expires_in"] = ACCESS_SECONDS
    if include_refresh_token and ("offline_access" in scopes or "online_access" in scopes):
        token["refresh_token"] = new_secret()
    if user.patient_id is not None:
        token["patient"] = str(user.patient_id)
    if "openid" in scopes and ("fhirUser" in scopes or "profile" in scopes):
        token["id_token"] = _id_token(client, user)
    return token


class SmartServer(AuthorizationServer):
    def __init__(self):
        super().__init__(scopes_supported=None)
        self.register_token_generator("default", _generate)
        self.register_client_auth_method(PrivateKeyJWT.CLIENT_AUTH_METHOD, PrivateKeyJWT())
        self.register_grant(CodeGrant, [S256Only(required=True)])
        self.register_grant(RefreshGrant)
        self.register_grant(BackendGrant)
        self.register_endpoint(Introspection)
        self.register_endpoint(Revocation)

    def query_client(self, client_id):
        return query_client(client_id)

    def save_token(self, token, request):
        db = _db()
        user: GrantUser | None = request.user
        client: Client = request.client
        now = utcnow()
        row = SmartToken(access_hash=digest(token["access_token"]),
                         refresh_hash=digest(token["refresh_token"]) if token.get("refresh_token") else None,
                         client_id=client.get_client_id(), user_id=user.user_id if user else None,
                         patient_id=user.patient_id if user else None,
                         authorization_id=user.authorization_id if user else None,
                         scope=token.get("scope", ""), issued_at=now,
                         expires_at=now + timedelta(seconds=token["expires_in"]),
                         refresh_expires_at=now + timedelta(days=REFRESH_DAYS) if token.get("refresh_token") else None)
        db.add(row)
        if user is not None and not sharing_allowed(db, user.patient_id, client.get_client_id()):
            raise OAuth2Error(description="The patient does not share their record with apps.")
        actor = system_actor(client.app) if user is None else None
        audit.record(db, actor, "smart.token.issue", patient_id=user.patient_id if user else None,
                     object_type="smart_token", object_id=row.id,
                     detail={"client_id": client.get_client_id(), "grant_type": request.payload.grant_type,
                             "user_id": str(user.user_id) if user else None})

    def create_oauth2_request(self, request):
        return request

    def create_json_request(self, request):
        return request

    def handle_response(self, status, body, headers):
        return status, body, dict(headers)

    def send_signal(self, name, *args, **kwargs):
        pass


class FormRequest(OAuth2Request):
    """An OAuth2Request from plain values (the FastAPI adapter reads the body first)."""

    def __init__(self, method: str, uri: str, headers: Mapping[str, str], form: dict):
        super().__init__(method, uri, headers=headers)
        self._form = form
        self.payload = BasicOAuth2Payload(form)

    @property
    def args(self):
        return {}

    @property
    def form(self):
        return self._form


_server: SmartServer | None = None


def server() -> SmartServer:
    global _server
    if _server is None:
        _server = SmartServer()
    return _server


def handle(endpoint: str, method: str, path: str, headers: Mapping[str, str], form: dict) -> tuple[int, dict, dict]:
    """Run the token, introspection or revocation endpoint in one unit of work."""
    uri = get_settings().public_url + path
    with unit_of_work() as session:
        reset = _session.set(session)
        try:
            request = FormRequest(method, uri, headers, form)
            try:
                if endpoint == "token":
                    status, body, hdrs = server().create_token_response(request)
                else:
                    status, body, hdrs = server().create_endpoint_response(endpoint, request)
            except OAuth2Error as error:
                status, body, hdrs = error.status_code, dict(error.get_body()), dict(error.get_headers())
            if status >= 400:
                session.rollback()
            return status, (body if isinstance(body, dict) else json.loads(body or "{}")), hdrs
        finally:
            _session.reset(reset)


def backend_scopes_ok(scope: str) -> bool:
    """Backend Services hold system/ read-and-search scopes only (bulk export)."""
    return all((p := parse_resource(s)) is not None and p.context == "system" and not set(p.ops) - set("rs")
               for s in normalize(scope))
