"""Security headers on every HTTP response of the app: pages, assets and API alike.

Pages may not be framed by another site (clickjacking), nothing is MIME-sniffed, chart URLs (which
carry record ids) do not leak in the Referer header to other sites, and the browser features the
portal never uses are switched off. Under https, browsers are told to use https only (HSTS).
A response that sets one of these itself (the document endpoint does) keeps its own value.

Scripts (``script-src``): only the app's own files and the inline scripts of the built pages,
allowed by their SHA-256 hashes, read from the frontend build at the first response; an injected
inline or foreign script does not run. ``'unsafe-eval'`` stays because Reflex's client runs
server-sent ``call_script`` code with ``eval``. Without a build (development) inline scripts are
allowed by ``'unsafe-inline'`` instead, so the dev server keeps working.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from pathlib import Path

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from patient_portal.settings import get_settings

HEADERS = {
    "content-security-policy": "frame-ancestors 'none'; object-src 'none'; base-uri 'self'; form-action 'self'",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    "cross-origin-opener-policy": "same-origin",
}
HSTS = "max-age=31536000; includeSubDomains"
#: The one page that may use the camera and microphone (this origin only): a video visit's call.
VIDEO_PAGES = "/video/"
VIDEO_PERMISSIONS = "camera=(self), microphone=(self), geolocation=(), payment=(), usb=()"
_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)


def _build_dir() -> Path | None:
    try:
        from reflex.utils.prerequisites import get_web_dir
        from reflex_base.constants import Dirs
    except ImportError:  # pragma: no cover - reflex is a dependency
        return None
    path = get_web_dir() / Dirs.STATIC
    return path if path.is_dir() else None


def inline_script_hashes(build: Path | None) -> list[str]:
    """The CSP hash sources of every inline script in the built pages (sorted, unique)."""
    if build is None:
        return []
    found = set()
    for page in build.rglob("*.html"):
        for body in _INLINE_SCRIPT.findall(page.read_text(encoding="utf-8", errors="replace")):
            found.add("'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'")
    return sorted(found)


#: (checked at, build signature, policy): the build may finish after the server starts answering,
#: so the hashes are re-read when the built pages change, looked at most every RECHECK seconds.
_policy: tuple[float, tuple, str] = (0.0, (), "")
RECHECK = 5.0


def _signature(build: Path | None) -> tuple:
    if build is None:
        return ()
    return tuple(sorted((str(p), p.stat().st_mtime_ns) for p in build.rglob("*.html")))


def content_security_policy() -> str:
    """HEADERS' policy plus script-src (see the module doc)."""
    global _policy
    checked, signature, policy = _policy
    now = time.monotonic()
    if policy and now - checked < RECHECK:
        return policy
    build = _build_dir()
    current = _signature(build)
    if not policy or current != signature:
        hashes = inline_script_hashes(build)
        scripts = " ".join(["'self'", "'unsafe-eval'", *(hashes or ["'unsafe-inline'"])])
        policy = f"{HEADERS['content-security-policy']}; script-src {scripts}"
    _policy = (now, current, policy)
    return policy


#: The SMART consent page. Its form posts to /api/smart/authorize, which answers 303 to the app's
#: redirect URI — and browsers apply ``form-action`` to the redirects of a form submission too, so
#: with ``'self'`` alone the person's "Allow" never reaches the app. That page's policy adds the
#: origin of the waiting request's redirect URI (from its cookie; the POST re-checks the URI against
#: the registered app before redirecting): one origin, on one page.
CONSENT_PAGE = "/account/apps/authorize"
_ORIGIN_HOST = re.compile(r"[A-Za-z0-9.-]{1,253}(:\d{1,5})?")


def consent_form_action(scope: Scope) -> str | None:
    """The redirect URI's origin the consent page's form may end at, or None (not that page, no
    waiting request, or not a plain http(s) origin)."""
    if scope.get("path", "").rstrip("/") != CONSENT_PAGE:
        return None
    from urllib.parse import urlsplit

    from patient_portal.domain.smart.launch import pending_request

    cookies = "; ".join(v.decode("latin-1") for k, v in scope.get("headers", []) if k.lower() == b"cookie")
    target = urlsplit(pending_request(cookies).get("redirect_uri", ""))
    if target.scheme not in ("https", "http") or not _ORIGIN_HOST.fullmatch(target.netloc or ""):
        return None
    return f"{target.scheme}://{target.netloc}"


class SecurityHeaders:
    """ASGI middleware adding HEADERS (and HSTS under https) to each HTTP response."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        wanted = dict(HEADERS)
        wanted["content-security-policy"] = content_security_policy()
        app_origin = consent_form_action(scope)
        if app_origin:
            wanted["content-security-policy"] = wanted["content-security-policy"].replace(
                "form-action 'self'", f"form-action 'self' {app_origin}")
        if scope.get("path", "").startswith(VIDEO_PAGES):  # a video visit's page uses the camera and microphone
            wanted["permissions-policy"] = VIDEO_PERMISSIONS
        if get_settings().secure_cookies:  # the public URL is https
            wanted["strict-transport-security"] = HSTS

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in wanted.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
