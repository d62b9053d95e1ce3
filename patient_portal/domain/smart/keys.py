"""The key that signs id_tokens: an RSA key generated once into the instance folder (0600)."""

from __future__ import annotations

import json
import os
import threading

from joserfc.jwk import RSAKey

from patient_portal.settings import get_settings

_lock = threading.Lock()


def signing_key() -> RSAKey:
    """The id_token signing key, created on first use (file ``smart_signing_key.json``, mode 0600)."""
    path = get_settings().instance_dir / "smart_signing_key.json"
    with _lock:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            key = RSAKey.generate_key(2048, parameters={"use": "sig", "alg": "RS256"}, auto_kid=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                json.dump(key.as_dict(private=True), fh)
        return RSAKey.import_key(json.loads(path.read_text()))


def public_jwks() -> dict:
    """The JWKS published at jwks_uri (public half only)."""
    return {"keys": [signing_key().as_dict(private=False)]}
