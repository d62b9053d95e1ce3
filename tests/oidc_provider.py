"""A small but real OpenID Connect provider for the single sign-on tests: discovery, JWKS,
authorize (it signs in whichever test person the test chose, as a real provider would after its
own login page) and token (client secret, one-time code, PKCE S256), with RS256 id_tokens signed
by joserfc (authlib's JOSE library).

Served by the standard library's threading HTTP server on 127.0.0.1 in a thread: the portal talks
to it over real HTTP.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import RSAKey


@dataclass
class Person:
    sub: str
    email: str
    email_verified: bool = True
    amr: list[str] = field(default_factory=lambda: ["pwd"])


@dataclass
class Provider:
    client_id: str = "portal"
    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    person: Person | None = None
    issuer: str = ""
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, auto_kid=True))
    #: the key id_tokens are signed with (None: the published key); a test sets another to forge
    signing_key: RSAKey | None = None
    codes: dict = field(default_factory=dict)
    httpd: ThreadingHTTPServer | None = None

    def discovery(self) -> dict:
        return {"issuer": self.issuer, "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token", "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"], "code_challenge_methods_supported": ["S256"]}

    def authorize(self, q: dict) -> tuple[int, dict, dict]:
        if q.get("client_id") != self.client_id or q.get("code_challenge_method") != "S256" or self.person is None:
            return 400, {"error": "invalid_request"}, {}
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"person": self.person, "nonce": q.get("nonce"), "redirect_uri": q.get("redirect_uri"),
                            "challenge": q.get("code_challenge")}
        location = f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q.get('state', '')})}"
        return 302, {}, {"Location": location}

    def token(self, form: dict, authorization: str) -> tuple[int, dict, dict]:
        expected = "Basic " + base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if authorization != expected:
            return 401, {"error": "invalid_client"}, {}
        grant = self.codes.pop(str(form.get("code")), None)
        verifier = str(form.get("code_verifier", ""))
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if grant is None or grant["redirect_uri"] != form.get("redirect_uri") or challenge != grant["challenge"]:
            return 400, {"error": "invalid_grant"}, {}
        p: Person = grant["person"]
        now = int(time.time())
        claims = {"iss": self.issuer, "sub": p.sub, "aud": self.client_id, "iat": now, "exp": now + 300,
                  "nonce": grant["nonce"], "email": p.email, "email_verified": p.email_verified, "amr": p.amr}
        key = self.signing_key or self.key
        id_token = jwt.encode({"alg": "RS256", "kid": self.key.kid}, claims, key)
        return 200, {"access_token": secrets.token_urlsafe(16), "token_type": "Bearer", "expires_in": 300,
                     "id_token": id_token}, {}

    def start(self) -> Provider:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _send(self, status: int, body: dict, headers: dict) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self):  # noqa: N802
                parts = urlsplit(self.path)
                q = dict(parse_qsl(parts.query))
                if parts.path == "/.well-known/openid-configuration":
                    self._send(200, provider.discovery(), {})
                elif parts.path == "/jwks":
                    self._send(200, {"keys": [provider.key.as_dict(private=False)]}, {})
                elif parts.path == "/authorize":
                    self._send(*provider.authorize(q))
                else:
                    self._send(404, {}, {})

            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(parse_qsl(self.rfile.read(length).decode()))
                if urlsplit(self.path).path == "/token":
                    self._send(*provider.token(form, self.headers.get("Authorization", "")))
                else:
                    self._send(404, {}, {})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
