"""SMART App Launch over HTTP: authorize → consent → code → token → the token's caller → refresh →
revoke; PKCE and redirect URI failures; scopes narrowed; Backend Services; roles allowed and denied."""

from __future__ import annotations

import time

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, OctKey

from patient_portal.core.access import AccessDenied, Role
from patient_portal.core.db import unit_of_work
from patient_portal.core.errors import Invalid, NotFound
from patient_portal.domain.identity.sessions import actor_for
from patient_portal.domain.smart import service
from patient_portal.domain.smart.tokens import caller_for_access_token
from tests.integration.clinic_support import another_patient
from tests.integration.identity_support import client, events, login, make_user, user
from tests.integration.patients_support import actor, put_on_care_team
from tests.integration.patients_support import register as register_patient
from tests.integration.smart_support import (
    REDIRECT,
    TOKEN_URL,
    assertion,
    authorize_params,
    backend_keys,
    get_code,
    pkce,
    query_of,
    register,
)

pytestmark = pytest.mark.usefixtures("db")


def caller(token: str):
    with unit_of_work() as s:
        return caller_for_access_token(s, token)


def patient_client():
    pid = register_patient().patient_id
    make_user("elena@example.com", "patient", patient_id=pid)
    c = client()
    assert login(c, "elena@example.com").status_code == 303
    return c, pid


def test_discovery_document_and_jwks():
    c = client()
    r = c.get("/.well-known/smart-configuration")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    conf = r.json()
    assert conf["code_challenge_methods_supported"] == ["S256"]
    for key in ("authorization_endpoint", "token_endpoint", "introspection_endpoint", "revocation_endpoint",
                "management_endpoint", "issuer", "jwks_uri", "scopes_supported", "capabilities"):
        assert conf[key]
    assert c.get("/fhir/.well-known/smart-configuration").json() == conf
    keys = c.get("/api/smart/jwks").json()["keys"]
    assert keys and all("d" not in k for k in keys)  # public half only


def test_patient_app_end_to_end_with_refresh_and_revoke():
    app = register().app
    c, pid = patient_client()
    verifier, challenge = pkce()
    back = query_of(get_code(c, app.client_id, challenge, "launch/patient openid fhirUser offline_access "
                                                        "patient/Observation.read patient/*.rs"))
    assert back["state"] == "st-123" and back["code"]
    app_client = client()  # the app's server: no portal cookie
    r = app_client.post("/api/smart/token", data={"grant_type": "authorization_code", "code": back["code"],
                                                  "redirect_uri": REDIRECT, "client_id": app.client_id,
                                                  "code_verifier": verifier},
                        headers={"Origin": "https://app.example.org"})
    assert r.status_code == 200, r.text
    tok = r.json()
    assert tok["patient"] == str(pid) and tok["token_type"] == "Bearer" and tok["refresh_token"]
    assert tok["scope"].split() == ["launch/patient", "openid", "fhirUser", "offline_access",
                                    "patient/Observation.rs", "patient/*.rs"]  # v1 read → v2 rs
    jwks = KeySet.import_key_set(client().get("/api/smart/jwks").json())
    claims = jwt.decode(tok["id_token"], jwks).claims
    assert claims["aud"] == app.client_id and claims["fhirUser"].endswith(f"/fhir/Patient/{pid}")
    # the FHIR API's question: who is this token?
    who, scopes, client_id = caller(tok["access_token"])
    assert who.role is Role.PATIENT and who.patient_id == pid and client_id == app.client_id
    assert "patient/*.rs" in scopes
    # a code works once
    again = app_client.post("/api/smart/token", data={"grant_type": "authorization_code", "code": back["code"],
                                                      "redirect_uri": REDIRECT, "client_id": app.client_id,
                                                      "code_verifier": verifier})
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    # introspection
    info = app_client.post("/api/smart/introspect", data={"token": tok["access_token"], "client_id": app.client_id})
    assert info.json()["active"] is True and info.json()["patient"] == str(pid)
    # refresh rotates: the old refresh token stops working
    r2 = app_client.post("/api/smart/token", data={"grant_type": "refresh_token", "refresh_token": tok["refresh_token"],
                                                   "client_id": app.client_id})
    assert r2.status_code == 200, r2.text
    tok2 = r2.json()
    assert tok2["access_token"] != tok["access_token"] and caller(tok2["access_token"]) is not None
    stale = app_client.post("/api/smart/token", data={"grant_type": "refresh_token",
                                                      "refresh_token": tok["refresh_token"], "client_id": app.client_id})
    assert stale.status_code == 400
    # revocation by the app
    assert app_client.post("/api/smart/revoke", data={"token": tok2["access_token"],
                                                      "client_id": app.client_id}).status_code == 200
    assert caller(tok2["access_token"]) is None
    info = app_client.post("/api/smart/introspect", data={"token": tok2["access_token"], "client_id": app.client_id})
    assert info.json() == {"active": False}
    assert events("smart.authorize") and events("smart.token.issue")


def test_patient_sees_and_revokes_the_app_and_its_tokens_stop():
    app = register().app
    c, pid = patient_client()
    verifier, challenge = pkce()
    back = query_of(get_code(c, app.client_id, challenge, "launch/patient offline_access patient/*.rs"))
    tok = client().post("/api/smart/token", data={"grant_type": "authorization_code", "code": back["code"],
                                                  "redirect_uri": REDIRECT, "client_id": app.client_id,
                                                  "code_verifier": verifier}).json()

    bearer = {"Authorization": f"Bearer {tok['access_token']}"}
    read = client().get(f"/fhir/Patient/{pid}", headers=bearer)  # the FHIR API takes the app's token
    assert read.status_code == 200 and read.json()["id"] == str(pid)
    stranger = another_patient()
    assert client().get(f"/fhir/Patient/{stranger}", headers=bearer).status_code == 404

    me = actor_for(user("elena@example.com"))
    with unit_of_work() as s:
        mine = service.my_authorizations(s, me)
    assert [m.app_name for m in mine] == ["Health Diary"]
    assert "Read, search all data in your record" in mine[0].permissions
    other = actor(Role.PATIENT, stranger)
    with unit_of_work() as s, pytest.raises(NotFound):  # another person's connection: not found, no leak
        service.revoke_authorization(s, other, authorization_id=mine[0].id)
    with unit_of_work() as s:
        service.revoke_authorization(s, me, authorization_id=mine[0].id)
    assert caller(tok["access_token"]) is None
    assert client().get(f"/fhir/Patient/{pid}", headers=bearer).status_code == 401  # disconnected: stops at once
    r = client().post("/api/smart/token", data={"grant_type": "refresh_token", "refresh_token": tok["refresh_token"],
                                                "client_id": app.client_id})
    assert r.status_code == 400
    with unit_of_work() as s:
        assert service.my_authorizations(s, me) == []


def test_pkce_failures_and_wrong_redirect_uri():
    app = register().app
    c, _ = patient_client()
    verifier, challenge = pkce()
    # no PKCE, or plain: refused back to the app
    for over in ({"code_challenge": None, "code_challenge_method": None}, {"code_challenge_method": "plain"}):
        r = c.get("/api/smart/authorize", params=authorize_params(app.client_id, challenge, "patient/*.rs", **over),
                  follow_redirects=False)
        assert r.status_code == 303 and query_of(r.headers["location"])["error"] == "invalid_request"
    # an unregistered redirect URI: never redirected to
    r = c.get("/api/smart/authorize", params=authorize_params(app.client_id, challenge, "patient/*.rs",
                                                              redirect_uri="https://evil.example/cb"),
              follow_redirects=False)
    assert r.status_code == 400 and "location" not in r.headers
    back = query_of(get_code(c, app.client_id, challenge, "patient/*.rs"))
    base = {"grant_type": "authorization_code", "code": back["code"], "client_id": app.client_id}
    wrong = client().post("/api/smart/token", data={**base, "redirect_uri": REDIRECT, "code_verifier": "x" * 50})
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    missing = client().post("/api/smart/token", data={**base, "redirect_uri": REDIRECT})
    assert missing.status_code == 400
    other_uri = client().post("/api/smart/token", data={**base, "redirect_uri": "https://app.example.org/other",
                                                        "code_verifier": verifier})
    assert other_uri.status_code == 400


def test_deny_returns_access_denied_to_the_app():
    app = register().app
    c, _ = patient_client()
    _, challenge = pkce()
    back = query_of(get_code(c, app.client_id, challenge, "patient/*.rs", decision="deny"))
    assert back == {"error": "access_denied", "state": "st-123"}


def test_scopes_are_narrowed_to_what_the_app_may_hold():
    app = register(scope="launch/patient patient/Observation.rs").app
    c, _ = patient_client()
    verifier, challenge = pkce()
    back = query_of(get_code(c, app.client_id, challenge,
                             "launch/patient patient/*.cruds patient/Observation.rs patient/Condition.rs"))
    tok = client().post("/api/smart/token", data={"grant_type": "authorization_code", "code": back["code"],
                                                  "redirect_uri": REDIRECT, "client_id": app.client_id,
                                                  "code_verifier": verifier}).json()
    assert tok["scope"] == "launch/patient patient/Observation.rs"
    assert "refresh_token" not in tok  # no offline_access asked


def test_confidential_app_needs_its_secret():
    reg = register(confidential=True)
    c, _ = patient_client()
    verifier, challenge = pkce()
    back = query_of(get_code(c, reg.app.client_id, challenge, "launch/patient patient/*.rs"))
    data = {"grant_type": "authorization_code", "code": back["code"], "redirect_uri": REDIRECT,
            "code_verifier": verifier}
    bad = client().post("/api/smart/token", data={**data, "client_id": reg.app.client_id})
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"
    ok = client().post("/api/smart/token", data=data, auth=(reg.app.client_id, reg.client_secret))
    assert ok.status_code == 200, ok.text


def test_clinician_standalone_launch_chooses_a_patient_they_reach():
    app = register().app
    mine = register_patient().patient_id
    make_user("doc@clinic.org", "doctor")

    put_on_care_team(actor_for(user("doc@clinic.org")), mine)
    stranger = another_patient()
    c = client()
    login(c, "doc@clinic.org")
    verifier, challenge = pkce()
    loc = get_code(c, app.client_id, challenge, "launch/patient patient/*.rs", patient_id=str(stranger))
    assert loc.startswith("/account/apps/authorize?error=patient")  # not one of theirs: choose again
    loc = get_code(c, app.client_id, challenge, "launch/patient patient/*.rs", patient_id=str(mine))
    tok = client().post("/api/smart/token", data={"grant_type": "authorization_code", "code": query_of(loc)["code"],
                                                  "redirect_uri": REDIRECT, "client_id": app.client_id,
                                                  "code_verifier": verifier}).json()
    assert tok["patient"] == str(mine)
    who, _, _ = caller(tok["access_token"])
    assert who.role is Role.DOCTOR  # the doctor acts; the FHIR API asks core.access with them


@pytest.mark.parametrize("alg", ["RS384", "ES384"])
def test_backend_services_token_with_private_key_jwt(alg):
    key, jwks = backend_keys(alg)
    app = register(scope="system/*.rs", kind="backend", jwks=jwks).app
    data = {"grant_type": "client_credentials", "scope": "system/*.rs system/Patient.cruds",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}
    a = assertion(key, app.client_id, alg)
    r = client().post("/api/smart/token", data={**data, "client_assertion": a})
    assert r.status_code == 200, r.text
    tok = r.json()
    assert tok["scope"] == "system/*.rs" and tok["expires_in"] <= 300 and "refresh_token" not in tok
    who, scopes, cid = caller(tok["access_token"])
    assert cid == app.client_id and scopes == frozenset({"system/*.rs"})
    # a replayed assertion, a wrong audience, another key: refused
    refused = [client().post("/api/smart/token", data={**data, "client_assertion": a}),
               client().post("/api/smart/token", data={**data, "client_assertion": assertion(
                   key, app.client_id, alg, aud="https://elsewhere/token")}),
               client().post("/api/smart/token", data={**data, "client_assertion": assertion(
                   backend_keys(alg)[0], app.client_id, alg)})]
    assert [r.json()["error"] for r in refused] == ["invalid_client"] * 3


def test_backend_app_cannot_use_a_secret_or_hs256():
    key, jwks = backend_keys()
    app = register(scope="system/*.rs", kind="backend", jwks=jwks).app
    oct_key = OctKey.generate_key(256)
    forged = jwt.encode({"alg": "HS256"}, {"iss": app.client_id, "sub": app.client_id, "aud": TOKEN_URL,
                                           "exp": int(time.time()) + 60, "jti": "j1"}, oct_key)
    r = client().post("/api/smart/token", data={
        "grant_type": "client_credentials", "scope": "system/*.rs", "client_assertion": forged,
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"})
    assert r.status_code == 400 and r.json()["error"] == "invalid_client"


def test_only_admins_register_apps_and_registration_is_checked():
    for role in (Role.DOCTOR, Role.STAFF, Role.PATIENT):
        with unit_of_work() as s, pytest.raises(AccessDenied):
            service.register_app(s, actor(role), name="X", redirect_uris=[REDIRECT], scope="patient/*.rs")
    with pytest.raises(Invalid) as err:
        with unit_of_work() as s:
            service.register_app(s, actor(Role.ADMIN), name="X", redirect_uris=["http://evil.example/cb"],
                                 scope="system/*.rs")
    assert set(err.value.errors) == {"redirect_uris", "scope"}
    with pytest.raises(Invalid) as err:
        with unit_of_work() as s:
            service.register_app(s, actor(Role.ADMIN), name="B", kind="backend", scope="system/*.cruds")
    assert set(err.value.errors) == {"jwks", "scope"}
    with unit_of_work() as s:
        assert [a.name for a in service.list_apps(s, actor(Role.ADMIN))] == []


def test_unknown_and_garbage_tokens_are_nobody():
    assert caller("") is None and caller("nope") is None and caller("x" * 5000) is None


def test_switched_off_app_stops_its_tokens():
    key, jwks = backend_keys()
    app = register(scope="system/*.rs", kind="backend", jwks=jwks).app
    tok = client().post("/api/smart/token", data={
        "grant_type": "client_credentials", "scope": "system/*.rs", "client_assertion": assertion(key, app.client_id),
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}).json()
    assert caller(tok["access_token"]) is not None
    with unit_of_work() as s:
        service.set_app_active(s, actor(Role.ADMIN), client_id=app.client_id, active=False)
    assert caller(tok["access_token"]) is None


def test_token_endpoint_takes_calls_from_other_origins_but_consent_does_not():
    r = client().post("/api/smart/token", data={"grant_type": "client_credentials"},
                      headers={"Origin": "https://app.example.org"})
    assert r.status_code in (400, 401)  # an OAuth answer, not the origin check's 403
    r = client().post("/api/smart/authorize", data={"decision": "approve"}, headers={"Origin": "https://evil.example"})
    assert r.status_code == 403


def _served_stack():
    """The API as the running app serves it: Reflex's CORS for the portal's own origin around it
    (what ``rx.App`` does to an ``api_transformer`` app), then ``TokenCors`` outermost."""
    from reflex.app import App
    from starlette.testclient import TestClient

    from patient_portal.api.app import build_api
    from patient_portal.api.smart import TokenCors
    from tests.integration.identity_support import ORIGIN

    api = build_api()
    App._add_cors(api)
    return TestClient(TokenCors(api), base_url=ORIGIN)


def test_a_browser_app_on_another_origin_gets_its_token_with_cors_but_no_credentials():
    app = register().app
    c, pid = patient_client()
    verifier, challenge = pkce()
    back = query_of(get_code(c, app.client_id, challenge, "launch/patient openid patient/*.rs"))
    browser = _served_stack()
    elsewhere = "https://app.example.org"
    preflight = browser.options("/api/smart/token", headers={
        "Origin": elsewhere, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 204 and preflight.headers["access-control-allow-origin"] == "*"
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert "content-type" in preflight.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-credentials" not in preflight.headers
    r = browser.post("/api/smart/token", data={"grant_type": "authorization_code", "code": back["code"],
                                               "redirect_uri": REDIRECT, "client_id": app.client_id,
                                               "code_verifier": verifier}, headers={"Origin": elsewhere})
    assert r.status_code == 200 and r.json()["patient"] == str(pid)
    assert r.headers["access-control-allow-origin"] == "*" and "access-control-allow-credentials" not in r.headers
    refused = browser.post("/api/smart/token", data={"grant_type": "authorization_code", "code": "nope",
                                                     "client_id": app.client_id}, headers={"Origin": elsewhere})
    assert refused.status_code == 400 and refused.headers["access-control-allow-origin"] == "*"  # the app reads why
    revoked = browser.post("/api/smart/revoke", data={"token": r.json()["access_token"], "client_id": app.client_id},
                           headers={"Origin": elsewhere})
    assert revoked.status_code == 200 and revoked.headers["access-control-allow-origin"] == "*"
    assert caller(r.json()["access_token"]) is None


def test_cors_opens_the_token_endpoints_only_and_never_with_the_portals_credentials():
    from tests.integration.identity_support import ORIGIN

    browser = _served_stack()
    ask = {"Origin": "https://app.example.org", "Access-Control-Request-Method": "POST"}
    for path in ("/api/auth/login", "/api/smart/authorize", "/fhir/Patient"):
        answer = browser.options(path, headers=ask)
        assert answer.headers.get("access-control-allow-origin") != "*", path
    own = browser.post("/api/smart/token", data={"grant_type": "client_credentials"}, headers={"Origin": ORIGIN})
    assert own.headers["access-control-allow-origin"] == "*" and "access-control-allow-credentials" not in own.headers
    page = browser.get("/api/health", headers={"Origin": ORIGIN})  # the portal's own API keeps its one origin
    assert page.headers.get("access-control-allow-origin") == ORIGIN


def test_the_consent_page_may_send_its_form_on_to_the_apps_redirect_uri_only():
    """Browsers apply form-action to the 303 that follows "Allow": the consent page's policy names the
    waiting request's redirect origin, and no other page's does."""
    app = register().app
    c, _pid = patient_client()
    _verifier, challenge = pkce()
    asked = c.get("/api/smart/authorize", params=authorize_params(app.client_id, challenge, "launch/patient openid"),
                  follow_redirects=False)
    assert asked.status_code == 303
    page = c.get("/account/apps/authorize")
    assert "form-action 'self' https://app.example.org;" in page.headers["content-security-policy"]
    assert "form-action 'self';" in c.get("/account/apps").headers["content-security-policy"]
    forged = client()
    forged.cookies.set("portal_smart_request", "redirect_uri=javascript:alert(1)")
    assert "form-action 'self';" in forged.get("/account/apps/authorize").headers["content-security-policy"]
