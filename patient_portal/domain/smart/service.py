"""Use cases of the SMART area: admins register apps; a signed-in person allows an app (which
issues a one-time authorization code), sees the apps they allowed and revokes them.

The token endpoint's grants (``server.py``) turn codes into tokens; ``tokens.py`` answers what a
token stands for.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta

from sqlmodel import Session, select

from patient_portal.core import audit
from patient_portal.core.access import Action, Actor, Resource, Role, reaches_patient, require
from patient_portal.core.db import utcnow
from patient_portal.core.errors import Invalid, NotFound
from patient_portal.domain.smart import validation
from patient_portal.domain.smart.dto import AppView, AuthorizationView, ConsentView, Registered
from patient_portal.domain.smart.models import SmartApp, SmartAuthCode, SmartAuthorization, SmartToken
from patient_portal.domain.smart.scopes import describe, narrow, normalize
from patient_portal.domain.smart.tokens import digest, new_secret

CODE_SECONDS = 60


def _view(app: SmartApp) -> AppView:
    return AppView(client_id=app.client_id, name=app.name, kind=app.kind, confidential=app.confidential,
                   redirect_uris=tuple(app.redirect_uris), scope=app.scope, active=app.active)


def register_app(session: Session, actor: Actor | None, *, name: str, kind: str = "app",
                 confidential: bool = False, redirect_uris: list[str] | None = None, scope: str = "",
                 jwks: dict | None = None, jwks_url: str | None = None) -> Registered:
    """Register an app (admins). A confidential app's secret is returned once and stored hashed."""
    require(session, actor, Action.SMART_APP_MANAGE)
    uris = [u.strip() for u in (redirect_uris or []) if u.strip()]
    scope = validation.check_registration(name=name, kind=kind, redirect_uris=uris, scope=scope,
                                          jwks=jwks, jwks_url=jwks_url)
    secret = new_secret() if (confidential and kind == "app") else None
    app = SmartApp(client_id=secrets.token_urlsafe(16), name=name.strip(), kind=kind,
                   confidential=secret is not None, secret_hash=digest(secret) if secret else None,
                   redirect_uris=uris if kind == "app" else [], scope=scope,
                   jwks=jwks if kind == "backend" else None, jwks_url=jwks_url if kind == "backend" else None,
                   created_by=actor.user_id)
    session.add(app)
    session.flush()
    audit.record(session, actor, "smart.app.register", object_type="smart_app", object_id=app.id,
                 detail={"client_id": app.client_id, "kind": kind, "confidential": app.confidential})
    return Registered(app=_view(app), client_secret=secret)


def list_apps(session: Session, actor: Actor | None) -> list[AppView]:
    """Every registered app (admins)."""
    require(session, actor, Action.SMART_APP_MANAGE)
    return [_view(a) for a in session.exec(select(SmartApp).order_by(SmartApp.name)).all()]


def set_app_active(session: Session, actor: Actor | None, *, client_id: str, active: bool) -> AppView:
    """Switch an app off (its tokens stop working at once) or back on (admins)."""
    require(session, actor, Action.SMART_APP_MANAGE)
    app = session.exec(select(SmartApp).where(SmartApp.client_id == client_id)).first()
    if app is None:
        raise NotFound("That app is not registered.")
    app.active = active
    app.updated_at = utcnow()
    session.add(app)
    audit.record(session, actor, "smart.app.update", object_type="smart_app", object_id=app.id,
                 detail={"client_id": client_id, "active": active})
    return _view(app)


def app_for_launch(session: Session, client_id: str) -> SmartApp | None:
    """The active launchable app with this client id (no actor: the consent screen names it)."""
    app = session.exec(select(SmartApp).where(SmartApp.client_id == client_id)).first()
    return app if app is not None and app.active and app.kind == "app" else None


def consent_details(session: Session, actor: Actor | None, *, client_id: str, scope: str) -> ConsentView:
    """What the consent screen shows for a waiting request (the signed-in person's own question)."""
    require(session, actor, Action.SMART_AUTHORIZE_OWN, Resource())
    app = app_for_launch(session, client_id)
    if app is None:
        raise NotFound("That app is not registered here.")
    wanted = normalize(narrow(scope, app.scope))
    if actor.role is Role.PATIENT:
        wanted = [s for s in wanted if not s.startswith("user/")]
    needs_patient = actor.role is not Role.PATIENT and (
        "launch/patient" in wanted or any(s.startswith("patient/") for s in wanted))
    return ConsentView(app_name=app.name, permissions=tuple(describe(" ".join(wanted))), needs_patient=needs_patient)


def approve(session: Session, actor: Actor | None, *, client_id: str, redirect_uri: str, scope: str,
            code_challenge: str, code_challenge_method: str, nonce: str | None = None,
            patient_id: uuid.UUID | None = None) -> tuple[str, str]:
    """The signed-in person allows the app: returns (authorization code, granted scope).

    The scope granted is what was asked, narrowed to what the app may hold; a patient's launch
    context is their own record; a clinician who asks launch/patient names a patient they reach."""
    require(session, actor, Action.SMART_AUTHORIZE_OWN, Resource())
    app = app_for_launch(session, client_id)
    if app is None or redirect_uri not in app.redirect_uris:
        raise Invalid(errors={"client_id": "Unknown app or redirect URI."})
    if code_challenge_method != "S256" or not (43 <= len(code_challenge or "") <= 128):
        raise Invalid(errors={"code_challenge": "PKCE with S256 is required."})
    granted = narrow(scope, app.scope)
    wanted = normalize(granted)
    patient_scopes = any(s.startswith("patient/") for s in wanted)
    context: uuid.UUID | None = None
    if actor.role is Role.PATIENT:
        if any(s.startswith("user/") for s in wanted):
            wanted = [s for s in wanted if not s.startswith("user/")]
        context = actor.patient_id if (patient_scopes or "launch/patient" in wanted) else None
    elif "launch/patient" in wanted or patient_scopes:
        if patient_id is None:
            raise Invalid(errors={"patient_id": "Choose the patient the app works with."})
        if not reaches_patient(session, actor, patient_id):
            raise NotFound("That patient was not found.")  # as for another patient's id: no leak
        context = patient_id
    granted = " ".join(wanted)
    if not granted:
        raise Invalid(errors={"scope": "The app asked for nothing it may have."})
    grant = SmartAuthorization(user_id=actor.user_id, client_id=app.client_id, patient_id=context, scope=granted)
    session.add(grant)
    session.flush()
    code = new_secret()
    session.add(SmartAuthCode(code_hash=digest(code), client_id=app.client_id, user_id=actor.user_id,
                              patient_id=context, authorization_id=grant.id, redirect_uri=redirect_uri,
                              scope=granted, code_challenge=code_challenge, code_challenge_method="S256",
                              nonce=nonce, expires_at=utcnow() + timedelta(seconds=CODE_SECONDS)))
    audit.record(session, actor, "smart.authorize", patient_id=context, object_type="smart_authorization",
                 object_id=grant.id, detail={"client_id": app.client_id, "scope": granted})
    return code, granted


def my_authorizations(session: Session, actor: Actor | None) -> list[AuthorizationView]:
    """The apps this person allowed and has not revoked, newest first."""
    require(session, actor, Action.SMART_AUTHORIZE_OWN, Resource())
    rows = session.exec(select(SmartAuthorization).where(SmartAuthorization.user_id == actor.user_id,
                                                         SmartAuthorization.revoked_at == None)  # noqa: E711
                        .order_by(SmartAuthorization.granted_at.desc())).all()
    names = {a.client_id: a.name for a in session.exec(
        select(SmartApp).where(SmartApp.client_id.in_({r.client_id for r in rows}))).all()} if rows else {}
    return [AuthorizationView(id=str(r.id), app_name=names.get(r.client_id, r.client_id), client_id=r.client_id,
                              permissions=tuple(describe(r.scope)), granted_at=r.granted_at) for r in rows]


def revoke_authorization(session: Session, actor: Actor | None, *, authorization_id: str) -> None:
    """Revoke one of one's own authorizations: its tokens stop working at once. Another person's
    id answers NotFound (existence does not leak)."""
    require(session, actor, Action.SMART_AUTHORIZE_OWN, Resource())
    try:
        key = uuid.UUID(str(authorization_id))
    except ValueError:
        raise NotFound("That app connection was not found.") from None
    grant = session.get(SmartAuthorization, key)
    if grant is None or grant.user_id != actor.user_id or grant.revoked_at is not None:
        raise NotFound("That app connection was not found.")
    now = utcnow()
    grant.revoked_at = now
    session.add(grant)
    for token in session.exec(select(SmartToken).where(SmartToken.authorization_id == grant.id,
                                                       SmartToken.revoked == False)).all():  # noqa: E712
        token.revoked, token.revoked_at = True, now
        session.add(token)
    audit.record(session, actor, "smart.authorization.revoke", patient_id=grant.patient_id,
                 object_type="smart_authorization", object_id=grant.id, detail={"client_id": grant.client_id})
