"""Every response carries the security headers: no framing by other sites, no sniffing, no referrer
to other sites, unused browser features off; HSTS once the portal is served over https."""

from __future__ import annotations

from fastapi.testclient import TestClient

from patient_portal.api.app import build_api
from patient_portal.settings import reset_settings


def test_api_answers_carry_the_security_headers_and_no_hsts_over_http(db):
    for path in ("/api/health", "/api/no-such-thing"):
        resp = TestClient(build_api()).get(path)
        assert resp.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in resp.headers["content-security-policy"]
        assert resp.headers["x-content-type-options"] == "nosniff"
        assert resp.headers["referrer-policy"] == "same-origin"
        assert "camera=()" in resp.headers["permissions-policy"]
        assert "strict-transport-security" not in resp.headers


def test_over_https_browsers_are_told_to_use_https_only(db, monkeypatch):
    monkeypatch.setenv("PORTAL_PUBLIC_URL", "https://portal.clinic.example")
    reset_settings()
    resp = TestClient(build_api(), base_url="https://portal.clinic.example").get("/api/health")
    assert resp.headers["strict-transport-security"].startswith("max-age=31536000")


def test_scripts_are_limited_to_the_apps_files_and_its_built_inline_scripts(tmp_path):
    """The probe: the policy had no script-src. Inline scripts of the build are allowed by hash only."""
    from patient_portal.api.headers import inline_script_hashes

    (tmp_path / "a").mkdir()
    (tmp_path / "index.html").write_text('<script>one()</script><script src="/x.js"></script>')
    (tmp_path / "a" / "b.html").write_text("<script type='module'>two()</script><script>one()</script>")
    import base64
    import hashlib

    def source(body: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"

    assert inline_script_hashes(tmp_path) == sorted([source("one()"), source("two()")])
    assert inline_script_hashes(None) == []


def test_every_response_carries_a_script_src(db):
    resp = TestClient(build_api()).get("/api/health")
    policy = resp.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
