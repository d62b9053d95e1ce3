"""What a bearer token stands for: the contract the FHIR API (part A) reads.

``caller_for_access_token(session, token)`` answers ``(actor, scopes, client_id)`` for a live token,
None for an unknown, expired or revoked one, or one whose app or authorization is gone. Scopes only
narrow: the FHIR API still asks ``core.access`` with the actor for every call.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid

from sqlmodel import Session, select

from patient_portal.core.access import Actor, Role
from patient_portal.core.db import utcnow
from patient_portal.domain.identity.models import User
from patient_portal.domain.identity.sessions import actor_for
from patient_portal.domain.smart.models import SmartApp, SmartAuthorization, SmartToken
from patient_portal.domain.smart.scopes import normalize

#: Backend Services act as no person: a fixed namespace gives each app its own stable actor id.
SYSTEM_NAMESPACE = uuid.UUID("5d1c1f0e-3a55-4d0b-9a1e-6f6f9b3b2c10")


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def system_actor(app: SmartApp) -> Actor:
    """The actor of a Backend Services token. It carries the ADMIN role so ``core.access`` reaches
    every patient, and its ``display_name`` starts ``system:``; what it may do is limited by its
    scopes, which for a backend app are only ever ``system/*.rs`` style reads (bulk export): the
    FHIR API must honour the scopes on every call."""
    return Actor(user_id=uuid.uuid5(SYSTEM_NAMESPACE, app.client_id), role=Role.ADMIN,
                 display_name=f"system:{app.client_id}")


def is_system_actor(actor: Actor) -> bool:
    return actor.display_name.startswith("system:") and actor.session_id is None


def sharing_allowed(session: Session, patient_id: uuid.UUID | None, client_id: str) -> bool:
    """The consent hook: False once the patient withdrew consent to share with outside apps.

    No consent area exists on main yet, so this answers True; the consent area replaces the body
    (and the FHIR API needs no change)."""
    return True


def caller_for_access_token(session: Session, token: str) -> tuple[Actor, frozenset[str], str] | None:
    """The actor, granted scopes (v2 strings) and client id of a live access token, else None."""
    if not token or len(token) > 200:
        return None
    row = session.exec(select(SmartToken).where(SmartToken.access_hash == digest(token))).first()
    if row is None or row.revoked or row.expires_at.replace(tzinfo=None) <= utcnow().replace(tzinfo=None):
        return None
    app = session.exec(select(SmartApp).where(SmartApp.client_id == row.client_id)).first()
    if app is None or not app.active:
        return None
    scopes = frozenset(normalize(row.scope))
    if row.user_id is None:
        return (system_actor(app), scopes, app.client_id) if app.kind == "backend" else None
    if row.authorization_id is not None:
        grant = session.get(SmartAuthorization, row.authorization_id)
        if grant is None or grant.revoked_at is not None:
            return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    if not sharing_allowed(session, row.patient_id or user.patient_id, app.client_id):
        return None
    return actor_for(user, session=session), scopes, app.client_id


def launch_patient(session: Session, token: str) -> uuid.UUID | None:
    """The patient in context of a live token (patient launch or a clinician's choice), if any."""
    row = session.exec(select(SmartToken).where(SmartToken.access_hash == digest(token))).first()
    return row.patient_id if row is not None else None
