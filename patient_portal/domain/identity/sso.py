"""Single sign-on for admins, doctors and staff through an outside OpenID Connect provider.

The authorization code flow with PKCE S256, a state and a nonce (kept in a short-lived HttpOnly
cookie between ``start`` and ``finish``); the id_token's signature is checked against the
provider's JWKS, and its issuer, audience, expiry and nonce. Which account: the one linked to the
provider's subject (``SsoLink``), else — first time — the active staff, doctor or admin account
whose email equals the token's email when the provider says it is verified (``email_verified``),
else none (an admin links the account: ``link_account``). Patients do not sign in this way.

MFA policy is kept: an account with two-step sign-in is asked for its code after the provider's
sign-in, unless the provider asserts a second factor in ``amr`` (RFC 8176: ``mfa``, or ``otp``,
``hwk``, ``sc``, ``fpt``…). Accounts that must enrol still enrol.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlmodel import Session, select

from patient_portal.core import audit
from patient_portal.core.access import AccessDenied, Action, Actor, require
from patient_portal.core.db import unit_of_work
from patient_portal.core.errors import Invalid, NotFound
from patient_portal.domain.identity.models import SsoLink, User
from patient_portal.settings import get_settings

STATE_COOKIE = "portal_sso"
SSO_ROLES = frozenset({"admin", "doctor", "staff"})
MFA_AMR = frozenset({"mfa", "otp", "hwk", "swk", "sc", "fpt", "face", "iris", "retina", "vbm"})
ID_TOKEN_ALGS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]


class SsoError(AccessDenied):
    """Sign-in through the provider did not work (a refusal); ``reason`` goes to the audit trail,
    never to the person (they read the sign-in page's one message)."""

    def __init__(self, reason: str):
        super().__init__("Sign-in through your organization did not work.")
        self.reason = reason


def configured() -> bool:
    s = get_settings()
    return bool(s.oidc_issuer and s.oidc_client_id)


def _issuer_ok(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in ("localhost", "127.0.0.1"))


def redirect_uri() -> str:
    return get_settings().public_url + "/api/auth/sso/callback"


def discovery() -> dict:
    """The provider's OpenID configuration (its issuer must be the one configured)."""
    issuer = get_settings().oidc_issuer
    if not _issuer_ok(issuer):
        raise SsoError("issuer_not_https")
    doc = httpx.get(issuer + "/.well-known/openid-configuration", timeout=10).json()
    if doc.get("issuer", "").rstrip("/") != issuer:
        raise SsoError("issuer_mismatch")
    return doc


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def start(next_path: str = "") -> tuple[str, str]:
    """(the provider's authorization URL to send the browser to, the state cookie's value)."""
    doc = discovery()
    state, nonce, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(24), secrets.token_urlsafe(48)
    query = urlencode({"response_type": "code", "client_id": get_settings().oidc_client_id,
                       "redirect_uri": redirect_uri(), "scope": "openid email profile", "state": state,
                       "nonce": nonce, "code_challenge": _b64(hashlib.sha256(verifier.encode()).digest()),
                       "code_challenge_method": "S256"})
    cookie = _b64(json.dumps({"s": state, "n": nonce, "v": verifier, "next": next_path[:200],
                              "t": int(time.time())}).encode())
    return f"{doc['authorization_endpoint']}?{query}", cookie


@dataclass(frozen=True)
class Verified:
    user_id: uuid.UUID
    mfa_asserted: bool
    next_path: str


def _read_cookie(cookie: str | None) -> dict:
    try:
        data = json.loads(base64.urlsafe_b64decode((cookie or "") + "=" * (-len(cookie or "") % 4)))
    except (ValueError, TypeError):
        raise SsoError("no_state") from None
    if not isinstance(data, dict) or time.time() - int(data.get("t", 0)) > 600:
        raise SsoError("state_expired")
    return data


def finish(code: str | None, state: str | None, cookie: str | None) -> Verified:
    """Redeem the provider's code, check its id_token, and find the portal account."""
    data = _read_cookie(cookie)
    if not state or not secrets.compare_digest(str(state), str(data.get("s", ""))):
        raise SsoError("state_mismatch")
    if not code:
        raise SsoError("no_code")
    settings = get_settings()
    doc = discovery()
    answer = httpx.post(doc["token_endpoint"], timeout=10,
                        data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri(),
                              "code_verifier": data.get("v", "")},
                        auth=(settings.oidc_client_id, settings.oidc_client_secret))
    if answer.status_code != 200:
        raise SsoError("token_refused")
    raw = answer.json().get("id_token")
    if not raw:
        raise SsoError("no_id_token")
    keys = KeySet.import_key_set(httpx.get(doc["jwks_uri"], timeout=10).json())
    try:
        claims = jwt.decode(raw, keys, algorithms=ID_TOKEN_ALGS).claims
        jwt.JWTClaimsRegistry(iss={"essential": True, "value": settings.oidc_issuer},
                              aud={"essential": True, "value": settings.oidc_client_id},
                              exp={"essential": True}, sub={"essential": True},
                              nonce={"essential": True, "value": data.get("n")}).validate(claims)
    except (JoseError, ValueError) as exc:
        raise SsoError("id_token_invalid") from exc
    amr = claims.get("amr") or []
    user_id = _account_for(settings.oidc_issuer, str(claims["sub"]), claims)
    return Verified(user_id=user_id, mfa_asserted=bool(set(map(str, amr)) & MFA_AMR),
                    next_path=str(data.get("next", "")))


def _account_for(issuer: str, subject: str, claims: dict) -> uuid.UUID:
    with unit_of_work() as session:
        link = session.exec(select(SsoLink).where(SsoLink.issuer == issuer, SsoLink.subject == subject)).first()
        if link is not None:
            user = session.get(User, link.user_id)
        else:
            email = str(claims.get("email") or "").strip().lower()
            if not email or claims.get("email_verified") is not True:
                raise SsoError("no_link_unverified_email")
            user = session.exec(select(User).where(User.email == email)).first()
            if user is not None and user.role in SSO_ROLES and user.active:
                session.add(SsoLink(issuer=issuer, subject=subject, user_id=user.id))
                audit.record(session, None, "auth.sso.link", object_type="user", object_id=user.id,
                             detail={"by": "verified_email"})
        if user is None or not user.active or user.role not in SSO_ROLES:
            raise SsoError("no_account")
        return user.id


def link_account(session: Session, actor: Actor | None, *, user_id: str, subject: str) -> None:
    """An admin links a staff, doctor or admin account to a subject at the configured provider."""
    require(session, actor, Action.USER_MANAGE)
    issuer = get_settings().oidc_issuer
    if not issuer or not subject.strip() or len(subject) > 255:
        raise Invalid(errors={"subject": "Give the person's subject (sub) at the identity provider."})
    try:
        user = session.get(User, uuid.UUID(str(user_id)))
    except ValueError:
        user = None
    if user is None or user.role not in SSO_ROLES:
        raise NotFound("That staff account was not found.")
    for old in session.exec(select(SsoLink).where(SsoLink.issuer == issuer, SsoLink.subject == subject)).all():
        session.delete(old)
    session.add(SsoLink(issuer=issuer, subject=subject.strip(), user_id=user.id, linked_by=actor.user_id))
    audit.record(session, actor, "auth.sso.link", object_type="user", object_id=user.id, detail={"by": "admin"})


def record_failure(reason: str, ip: str) -> None:
    audit.record_now(None, "auth.sign_in", outcome="denied", ip=ip, detail={"via": "sso", "reason": reason})
