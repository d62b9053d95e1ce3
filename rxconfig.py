"""Reflex configuration. Portal settings live in patient_portal/settings.py (PORTAL_* env vars)."""

import os

import reflex as rx
from reflex.plugins.sitemap import SitemapPlugin

_public_url = os.environ.get("PORTAL_PUBLIC_URL", "http://localhost:3000").rstrip("/")

config = rx.Config(
    app_name="patient_portal",
    telemetry_enabled=False,
    cors_allowed_origins=[_public_url],
    frontend_port=int(os.environ.get("PORTAL_PORT", "3000")),
    backend_port=int(os.environ.get("PORTAL_PORT", "3000")),
    show_built_with_reflex=False,
    disable_plugins=[SitemapPlugin],
    # behind N reverse proxies, the client address is the Nth entry from the end of X-Forwarded-For
    # (the API reads the same setting: patient_portal.api.auth.client_ip)
    trusted_proxy_hops=int(os.environ.get("PORTAL_TRUSTED_PROXY_HOPS", "0")),
)
