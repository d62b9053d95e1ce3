"""The small clinic the FHIR API tests run in: Elena (with a care-team doctor, three vital signs and
the registration draft's history, contacts and insurance) and Omar (no one's patient here), each
signed in over HTTP — the doctor, Elena herself and the front desk."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fhir.resources.R4B import get_fhir_model_class

from patient_portal.core.db import unit_of_work, utcnow
from patient_portal.domain.identity import service as identity
from patient_portal.domain.identity.sessions import actor_for
from patient_portal.domain.observations import service as observations
from tests.integration.identity_support import client, login, make_user
from tests.integration.patients_support import draft, put_on_care_team, register


def valid(resource: dict) -> dict:
    """The resource, after R4B's model accepted it (and every resource of a Bundle)."""
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    for entry in resource.get("entry", []):
        valid(entry["resource"])
    return resource


def signed_in(email: str, role: str, patient_id=None):
    user = make_user(email, role)
    if patient_id is not None:
        with unit_of_work() as s:
            identity.link_patient_system(s, user.id, patient_id)
    web = client()
    assert login(web, email).status_code == 303
    return web, actor_for(user)


def fhir_clinic() -> dict:
    elena = register().patient_id
    omar = register(draft(given_name="Omar", family_name="Haddad", date_of_birth="1985-02-11",
                          email="omar@example.com", phone_mobile="+1 617 555 0199")).patient_id
    doc, doc_actor = signed_in("doc@clinic.org", "doctor")
    put_on_care_team(doc_actor, elena)
    with unit_of_work() as s:
        observations.record_vitals(s, doc_actor, patient_id=elena, values={"systolic": "128", "diastolic": "82",
                                                                            "heart_rate": "70"},
                                    effective_at=utcnow() - timedelta(hours=1))
    me, me_actor = signed_in("elena@example.com", "patient", elena)
    desk, desk_actor = signed_in("desk@clinic.org", "staff")
    return {"elena": str(elena), "omar": str(omar), "doc": doc, "doc_actor": doc_actor, "me": me, "desk": desk,
            "me_actor": me_actor, "desk_actor": desk_actor}


@pytest.fixture
def tokens(monkeypatch):
    """SMART access tokens as ``domain.smart.tokens`` answers them: token -> (Actor, scopes, client
    id), None for a token it did not issue. Tokens are registered by the test."""
    import sys
    import types

    issued: dict[str, tuple] = {}
    module = types.ModuleType("patient_portal.domain.smart.tokens")
    module.caller_for_access_token = lambda _session, token: issued.get(token)
    package = types.ModuleType("patient_portal.domain.smart")
    package.tokens = module
    if "patient_portal.domain.smart" not in sys.modules:
        monkeypatch.setitem(sys.modules, "patient_portal.domain.smart", package)
    monkeypatch.setitem(sys.modules, "patient_portal.domain.smart.tokens", module)
    return issued
