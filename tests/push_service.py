"""A local Web Push service for tests, and the browser's side of a subscription.

Headless Chromium cannot reach a real push service here, so tests stand in for both ends with real
parts: ``Browser`` holds what a browser generates when it subscribes (an EC P-256 key pair and a
16-byte auth secret, RFC 8291) and decrypts what arrives with ``http_ece``; ``PushServer`` is an
HTTP server on 127.0.0.1 that receives the portal's encrypted pushes (answering 201, or the status
a test asks for — 410 when the browser dropped the subscription).
"""

from __future__ import annotations

import base64
import json
import os
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Browser:
    """One browser's subscription keys (what PushSubscription.toJSON() carries, and the private half)."""

    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    secret: bytes = field(default_factory=lambda: os.urandom(16))

    @property
    def p256dh(self) -> str:
        return b64url(self.key.public_key().public_bytes(serialization.Encoding.X962,
                                                        serialization.PublicFormat.UncompressedPoint))

    @property
    def auth(self) -> str:
        return b64url(self.secret)

    def decrypt(self, body: bytes) -> dict:
        return json.loads(http_ece.decrypt(body, private_key=self.key, auth_secret=self.secret, version="aes128gcm"))


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class PushServer:
    """``with PushServer() as push:`` — ``push.url(name)`` is an endpoint; ``push.received`` what came."""

    def __init__(self, status: int = 201):
        self.status = status
        self.received: list[Received] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                owner.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(owner.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/push/{name}"

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> PushServer:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._server.shutdown()
        self._server.server_close()


def vapid_claims(authorization: str, public_key: str) -> dict:
    """Check an ``Authorization: vapid t=<JWT>, k=<key>`` header as a push service does (RFC 8292):
    the key is the portal's, the ES256 signature verifies; returns the JWT's claims."""
    scheme, _, params = authorization.partition(" ")
    assert scheme.lower() == "vapid", authorization
    parts = dict(p.strip().split("=", 1) for p in params.split(","))
    assert parts["k"] == public_key
    head, claims, sig = parts["t"].split(".")
    raw = unb64url(sig)
    point = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(public_key))
    point.verify(encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")),
                 f"{head}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
    return json.loads(unb64url(claims))
