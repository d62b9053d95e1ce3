"""The authorization request waiting for the person's answer: kept in a short-lived cookie between
``GET /api/smart/authorize`` and the consent page (which reads it server-side) and its form's POST.
It is a request only: every value is checked again when the person approves."""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qsl

REQUEST_COOKIE = "portal_smart_request"
FIELDS = ("response_type", "client_id", "redirect_uri", "scope", "state", "aud", "code_challenge",
          "code_challenge_method", "nonce", "launch")


def pending_request(cookie_header: str | None) -> dict[str, str]:
    """The waiting request's parameters from a Cookie header, or {}."""
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(cookie_header or "")
    except CookieError:
        return {}
    morsel = jar.get(REQUEST_COOKIE)
    if morsel is None:
        return {}
    return {k: v for k, v in parse_qsl(morsel.value) if k in FIELDS}
