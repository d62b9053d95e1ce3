"""The VAPID key that signs this portal's pushes: an EC P-256 key generated once into the instance
folder (``vapid_private.pem``, mode 0600; PORTAL_VAPID_KEY_FILE names another path), like the key ring and the SMART signing key. Push services
tie each subscription to its public half, so losing the file ends every subscription (devices must
turn notifications on again): it belongs in the backup with the rest of the instance folder.
"""

from __future__ import annotations

import base64
import os
import threading
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from patient_portal.settings import get_settings

_lock = threading.Lock()
FILE_NAME = "vapid_private.pem"


def key_path() -> Path:
    """PORTAL_VAPID_KEY_FILE, else the instance folder's file (several hosts must share one key)."""
    settings = get_settings()
    return Path(settings.vapid_key_file) if settings.vapid_key_file else settings.instance_dir / FILE_NAME


def private_key() -> ec.EllipticCurvePrivateKey:
    """The key, created on first use (written 0600 with O_EXCL, so two processes never both write)."""
    path = key_path()
    with _lock:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(pem)
        return serialization.load_pem_private_key(path.read_bytes(), password=None)  # type: ignore[return-value]


def application_server_key() -> str:
    """The public key browsers subscribe with (``applicationServerKey``): the uncompressed point, base64url."""
    raw = private_key().public_key().public_bytes(serialization.Encoding.X962,
                                                  serialization.PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
