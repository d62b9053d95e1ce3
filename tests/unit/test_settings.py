"""Production refuses unsafe configurations with a one-line reason."""

from __future__ import annotations

from patient_portal import cli
from patient_portal.core.crypto import generate_key_spec
from patient_portal.settings import get_settings, reset_settings


def test_demo_defaults_keep_everything_in_the_instance_folder(portal_env):
    s = get_settings()
    assert s.db_url == f"sqlite:///{portal_env / 'portal.db'}"
    assert s.blob_dir == portal_env / "blobs"
    assert s.problems_for_start() == []
    assert not s.require_mfa


def test_production_names_each_missing_piece(monkeypatch, capsys):
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("PORTAL_DEMO_ACCOUNTS", "1")
    reset_settings()
    assert cli.main(["check-config"]) == 1
    err = capsys.readouterr().err
    assert "PORTAL_DEMO_ACCOUNTS" in err and "PORTAL_DATABASE_URL" in err and "PORTAL_MASTER_KEYS" in err
    assert "PORTAL_SMTP_HOST" in err
    assert get_settings().require_mfa


def test_production_with_everything_supplied_may_start(monkeypatch):
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("PORTAL_DATABASE_URL", "postgresql://portal@db/portal")
    monkeypatch.setenv("PORTAL_MASTER_KEYS", generate_key_spec())
    monkeypatch.setenv("PORTAL_SMTP_HOST", "mail.clinic.example")
    reset_settings()
    assert get_settings().problems_for_start() == []
    assert cli.main(["check-config"]) == 0


def test_production_sqlite_only_when_explicitly_allowed(monkeypatch):
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("PORTAL_MASTER_KEYS", generate_key_spec())
    monkeypatch.setenv("PORTAL_SMTP_HOST", "mail.clinic.example")
    reset_settings()
    assert any("PORTAL_DATABASE_URL" in p for p in get_settings().problems_for_start())
    monkeypatch.setenv("PORTAL_ALLOW_SQLITE", "1")
    reset_settings()
    assert get_settings().problems_for_start() == []


def test_production_refuses_shared_ui_state_sent_to_another_host_in_the_clear(monkeypatch):
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("PORTAL_DATABASE_URL", "postgresql://portal@db/portal")
    monkeypatch.setenv("PORTAL_MASTER_KEYS", generate_key_spec())
    monkeypatch.setenv("PORTAL_SMTP_HOST", "mail.clinic.example")
    for url, refused in (("redis://cache.clinic.internal:6379/0", True), ("rediss://cache.clinic.internal:6380/0", False),
                         ("redis://127.0.0.1:6379/0", False), ("unix:///run/redis.sock", False)):
        monkeypatch.setenv("REFLEX_REDIS_URL", url)
        reset_settings()
        assert any("REFLEX_REDIS_URL" in p for p in get_settings().problems_for_start()) == refused, url
