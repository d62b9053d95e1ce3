"""Checks on what an admin types when registering an app."""

from __future__ import annotations

from urllib.parse import urlsplit

from patient_portal.core.errors import Invalid
from patient_portal.domain.smart.scopes import normalize, parse_resource

KINDS = ("app", "backend")
_LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]")


def redirect_uri_ok(uri: str) -> bool:
    """https anywhere, http only on this machine (native and test apps); no fragment."""
    parts = urlsplit(uri)
    if parts.fragment or not parts.netloc:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and (parts.hostname or "") in
                                       tuple(h.strip("[]") for h in _LOCAL_HOSTS))


def check_registration(*, name: str, kind: str, redirect_uris: list[str], scope: str,
                       jwks: dict | None, jwks_url: str | None) -> str:
    """Field errors as Invalid; returns the app's scope in v2 form."""
    errors: dict[str, str] = {}
    if not name.strip() or len(name) > 120:
        errors["name"] = "Give the app a name (at most 120 characters)."
    if kind not in KINDS:
        errors["kind"] = "Choose a patient or clinician app, or a backend service."
    scopes = normalize(scope)
    if not scopes:
        errors["scope"] = "List the scopes the app may ask for, e.g. patient/*.rs openid fhirUser."
    if kind == "app":
        if not redirect_uris:
            errors["redirect_uris"] = "Give at least one redirect URI."
        elif not all(redirect_uri_ok(u) for u in redirect_uris):
            errors["redirect_uris"] = "Redirect URIs must be https (http only for localhost), without #."
        if any(s.startswith("system/") for s in scopes):
            errors["scope"] = "Only a backend service may have system/ scopes."
    elif kind == "backend":
        if not jwks and not jwks_url:
            errors["jwks"] = "A backend service needs its public keys: a JWKS or its URL."
        elif jwks is not None and not (isinstance(jwks, dict) and isinstance(jwks.get("keys"), list)):
            errors["jwks"] = "The JWKS must be a JSON object with a keys list."
        elif jwks_url and not jwks_url.startswith("https://"):
            errors["jwks"] = "The JWKS URL must be https."
        for s in scopes:
            parsed = parse_resource(s)
            if parsed is None or parsed.context != "system" or set(parsed.ops) - set("rs"):
                errors["scope"] = "A backend service reads only: system/<Type or *>.rs scopes."
                break
    if errors:
        raise Invalid(errors=errors)
    return " ".join(scopes)
