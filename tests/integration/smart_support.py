"""Helpers for the SMART tests: registered apps, a PKCE pair, the authorize → consent → code dance."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
import uuid
from urllib.parse import parse_qs, urlsplit

from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from patient_portal.core.access import Actor, Role
from patient_portal.core.db import unit_of_work
from patient_portal.domain.smart import service
from tests.integration.identity_support import ORIGIN

REDIRECT = "https://app.example.org/callback"
TOKEN_URL = f"{ORIGIN}/api/smart/token"
ADMIN = Actor(user_id=uuid.uuid4(), role=Role.ADMIN, display_name="Test admin")


def register(scope: str = "launch/patient openid fhirUser offline_access patient/*.cruds user/*.rs",
             confidential: bool = False, **kw):
    with unit_of_work() as s:
        return service.register_app(s, ADMIN, name="Health Diary", confidential=confidential,
                                    redirect_uris=[REDIRECT], scope=scope, **kw)


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize_params(client_id: str, challenge: str, scope: str, **over) -> dict:
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT, "scope": scope,
              "state": "st-123", "aud": f"{ORIGIN}/fhir", "code_challenge": challenge,
              "code_challenge_method": "S256"}
    params.update(over)
    return {k: v for k, v in params.items() if v is not None}


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def get_code(c, client_id: str, challenge: str, scope: str, decision: str = "approve", **form) -> dict[str, str]:
    """Authorize as the signed-in client `c`, answer the consent form; the redirect's query."""
    r = c.get("/api/smart/authorize", params=authorize_params(client_id, challenge, scope), follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/account/apps/authorize", r.text
    r = c.post("/api/smart/authorize", data={"decision": decision, **form}, follow_redirects=False,
               headers={"Origin": ORIGIN})
    assert r.status_code == 303, r.text
    return r.headers["location"]


def backend_keys(kind: str = "RS384"):
    key = RSAKey.generate_key(2048, auto_kid=True) if kind == "RS384" else ECKey.generate_key("P-384", auto_kid=True)
    return key, {"keys": [key.as_dict(private=False)]}


def assertion(key, client_id: str, alg: str = "RS384", aud: str = TOKEN_URL, jti: str | None = None) -> str:
    now = int(time.time())
    claims = {"iss": client_id, "sub": client_id, "aud": aud, "exp": now + 240, "jti": jti or secrets.token_hex(8)}
    return jwt.encode({"alg": alg, "kid": key.kid, "typ": "JWT"}, claims, key, algorithms=[alg])
