"""States of the SMART screens: the consent screen (/account/apps/authorize), the apps a person
connected (/account/apps) and the admins' app registry (/admin/apps).

The consent screen reads the waiting request from its cookie on the server; the choice it sends
back (approve or deny, and for a clinician the patient) goes by a native form POST to
/api/smart/authorize, which checks everything again. Only DTO fields are held here; sign-out
resets these states with the rest.
"""

from __future__ import annotations

import json

import reflex as rx

from patient_portal.domain.patients.search import search_patients
from patient_portal.domain.smart import service
from patient_portal.domain.smart.launch import pending_request
from patient_portal.state.calls import attempt

ERRORS = {"patient": "Choose one of the patients you care for, then allow again."}


class SmartConsentState(rx.State):
    """The app asking, what it asks in plain words, and (clinicians) the patient chosen."""

    app_name: str = ""
    permissions: list[str] = []
    needs_patient: bool = False
    query: str = ""
    results: list[dict[str, str]] = []
    patient_id: str = ""
    patient_label: str = ""
    loaded: bool = False
    error: str = ""

    @rx.event
    async def load(self):
        self.loaded, self.results, self.patient_id, self.patient_label = False, [], "", ""
        self.error = ERRORS.get(self.router.url.query_parameters.get("error", ""), "") if self.router.url else ""
        params = pending_request(self.router.headers.cookie)
        if not params.get("client_id"):
            self.error = "No app is waiting for your answer. Start again from the app."
            return None
        answer = await attempt(self, service.consent_details, client_id=params["client_id"],
                               scope=params.get("scope", ""))
        if not answer.ok:
            return answer.show(self)
        view = answer.value
        self.app_name, self.permissions, self.needs_patient = view.app_name, list(view.permissions), view.needs_patient
        self.loaded = True
        return None

    @rx.event
    async def search(self, form_data: dict):
        self.query = str((form_data or {}).get("query", ""))[:100]
        answer = await attempt(self, search_patients, self.query)
        if not answer.ok:
            self.results = []
            return answer.show(self)
        self.results = [{"id": str(r["id"]), "label": f"{r['name']} · {r['dob_display']} · MRN {r['mrn']}"}
                        for r in answer.value.get("rows", [])[:10]]
        self.error = "" if self.results else answer.value.get("message", "No patients match.")
        return None

    @rx.event
    def choose(self, patient_id: str, label: str):
        """A request only: the POST re-checks that this person reaches the patient."""
        self.patient_id, self.patient_label = str(patient_id)[:36], str(label)[:200]


class SmartAppsState(rx.State):
    """The apps the signed-in person connected, with a revoke button each."""

    rows: list[dict[str, str]] = []
    loaded: bool = False
    error: str = ""
    message: str = ""

    async def _show(self):
        answer = await attempt(self, service.my_authorizations)
        if not answer.ok:
            self.rows = []
            return answer.show(self)
        self.rows = [{"id": a.id, "name": a.app_name, "what": "; ".join(a.permissions),
                      "when": a.granted_at.strftime("%a %d %b %Y, %H:%M")} for a in answer.value]
        self.loaded = True
        return None

    @rx.event
    async def load(self):
        self.error = self.message = ""
        return await self._show()

    @rx.event
    async def revoke(self, authorization_id: str):
        self.message = ""
        answer = await attempt(self, service.revoke_authorization, authorization_id=str(authorization_id)[:64])
        if not answer.ok:
            return answer.show(self)
        self.message = "The app can no longer reach your record."
        return await self._show()


class SmartAdminState(rx.State):
    """Registered apps, and the form that registers one (a confidential app's secret shown once)."""

    apps: list[dict[str, str]] = []
    error: str = ""
    form_errors: dict[str, str] = {}
    new_client_id: str = ""
    new_secret: str = ""

    async def _show(self):
        answer = await attempt(self, service.list_apps)
        if not answer.ok:
            self.apps = []
            return answer.show(self)
        self.apps = [{"client_id": a.client_id, "name": a.name, "kind": "Backend service" if a.kind == "backend"
                      else ("Confidential app" if a.confidential else "Public app"),
                      "redirects": ", ".join(a.redirect_uris), "scope": a.scope,
                      "status": "Active" if a.active else "Switched off",
                      "active": "yes" if a.active else ""} for a in answer.value]
        return None

    @rx.event
    async def load(self):
        self.error, self.form_errors, self.new_client_id, self.new_secret = "", {}, "", ""
        return await self._show()

    @rx.event
    async def register(self, form_data: dict):
        data = {k: str(v)[:4000] for k, v in (form_data or {}).items()}
        self.form_errors, self.new_client_id, self.new_secret = {}, "", ""
        jwks = None
        if data.get("jwks", "").strip():
            try:
                jwks = json.loads(data["jwks"])
            except ValueError:
                self.form_errors = {"jwks": "The JWKS is not valid JSON."}
                return None
        answer = await attempt(self, service.register_app, name=data.get("name", ""), kind=data.get("kind", "app"),
                               confidential=data.get("confidential") in ("on", "true", "yes"),
                               redirect_uris=data.get("redirect_uris", "").split(), scope=data.get("scope", ""),
                               jwks=jwks if isinstance(jwks, dict) else ({} if jwks is not None else None),
                               jwks_url=data.get("jwks_url", "").strip() or None)
        if not answer.ok:
            return answer.show(self, errors_var="form_errors")
        self.new_client_id, self.new_secret = answer.value.app.client_id, answer.value.client_secret or ""
        return await self._show()

    @rx.event
    async def switch(self, client_id: str, active: bool):
        answer = await attempt(self, service.set_app_active, client_id=str(client_id)[:64], active=bool(active))
        if not answer.ok:
            return answer.show(self)
        return await self._show()
