"""Reflex configuration. Portal settings live in patient_portal/settings.py (PORTAL_* env vars)."""

import os

import reflex as rx
from reflex.plugins.sitemap import SitemapPlugin

from patient_portal.settings import load_settings

_public_url = os.environ.get("PORTAL_PUBLIC_URL", "http://localhost:3000").rstrip("/")
_port = int(os.environ.get("PORTAL_PORT", "3000"))
#: `reflex run --env prod --backend-only` (REFLEX_BACKEND_ONLY=1; bench/load.py) refuses a frontend port
_backend_only = os.environ.get("REFLEX_BACKEND_ONLY", "").strip().lower() in ("1", "true", "yes")

config = rx.Config(
    app_name="patient_portal",
    telemetry_enabled=False,
    cors_allowed_origins=[_public_url],
    frontend_port=None if _backend_only else _port,
    backend_port=_port,
    show_built_with_reflex=False,
    disable_plugins=[SitemapPlugin],
    # behind N reverse proxies, the client address is the Nth entry from the end of X-Forwarded-For
    # (the API reads the same setting: patient_portal.api.auth.client_ip)
    trusted_proxy_hops=int(os.environ.get("PORTAL_TRUSTED_PROXY_HOPS", "0")),
    # one process: tabs' UI state in memory; several (REFLEX_REDIS_URL set): in Redis. Reflex's own
    # default (disk) costs the embedded app half its CPU under load; see Settings.state_manager_mode
    state_manager_mode=load_settings().state_manager_mode,
)
