"""Who calls the FHIR API: the contract with the SMART authorization server (part B).

``caller(session, request)`` gives a ``FhirCaller(actor, scopes, client_id)`` or None (401):

* ``Authorization: Bearer <token>`` — ``domain.smart.tokens.caller_for_access_token`` (part B) gives
  the Actor, the granted scopes and the client id; until that module exists a bearer token is 401.
* the portal's session cookie — the person's own rights (scopes None, client None).

Scopes only narrow (``scopes.scope_allows``); the area services' policy decision is still asked.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from sqlmodel import Session

from patient_portal.api.auth import actor_from_request
from patient_portal.core.access import Actor


@dataclass(frozen=True)
class FhirCaller:
    actor: Actor
    scopes: frozenset[str] | None
    client_id: str | None


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer`` header ("" for a malformed one), None without one."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    kind, _, token = header.partition(" ")
    return token.strip() if kind.lower() == "bearer" and token.strip() else ""


def caller(session: Session, request: Request) -> FhirCaller | None:
    """The caller of this request, or None (no valid credential: 401)."""
    token = bearer_token(request)
    if token is not None:
        if not token or len(token) > 4096:
            return None
        try:
            from patient_portal.domain.smart.tokens import caller_for_access_token  # part B
        except ImportError:
            return None
        found = caller_for_access_token(session, token)
        if found is None:
            return None
        actor, granted, client_id = found
        return FhirCaller(actor, frozenset(granted), client_id)
    actor = actor_from_request(request)
    return FhirCaller(actor, None, None) if actor is not None else None
