"""Short-lived, session-bound links to a document's preview or download.

A link carries ``document id, version, purpose, session id, expiry`` signed with HMAC-SHA256 under
a key derived from the key ring (HKDF, its own purpose name). The endpoint checks the signature,
the expiry, and that the session in the link is the session of the cookie that presents it.
"""

from __future__ import annotations

import base64
import hmac
import json
import time
import uuid
from dataclasses import dataclass
from hashlib import sha256

from patient_portal.core.access import AccessDenied
from patient_portal.core.crypto import get_keyring

LINK_TTL_SECONDS = 300
PURPOSES = ("download", "preview")


class LinkInvalid(AccessDenied):
    """The link is forged, expired, for another document, or for another session (403)."""

    def __init__(self, message: str = "This link has expired or is not valid for you. Go back to the "
                                      "documents list and open the document again."):
        super().__init__(message)


@dataclass(frozen=True)
class LinkClaims:
    document_id: uuid.UUID
    version: int
    purpose: str
    session_id: uuid.UUID
    expires: int


def _key() -> bytes:
    return get_keyring().index_key("document-link")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(*, document_id: uuid.UUID, version: int, purpose: str, session_id: uuid.UUID,
         ttl: int = LINK_TTL_SECONDS, now: float | None = None) -> str:
    """A token for one document version, one purpose and one session, valid for `ttl` seconds (≤ 300)."""
    if purpose not in PURPOSES:
        raise ValueError(purpose)
    expires = int((time.time() if now is None else now) + min(ttl, LINK_TTL_SECONDS))
    body = json.dumps({"d": str(document_id), "v": int(version), "p": purpose, "s": str(session_id),
                       "e": expires}, separators=(",", ":")).encode()
    mac = hmac.new(_key(), body, sha256).digest()
    return f"{_b64(body)}.{_b64(mac)}"


def verify(token: str, *, document_id: uuid.UUID, purpose: str, session_id: uuid.UUID | None,
           now: float | None = None) -> LinkClaims:
    """The link's claims if it is genuine, unexpired, for this document and purpose, and this session."""
    try:
        body_b64, mac_b64 = token.split(".", 1)
        body = _unb64(body_b64)
        if not hmac.compare_digest(hmac.new(_key(), body, sha256).digest(), _unb64(mac_b64)):
            raise LinkInvalid()
        data = json.loads(body)
        claims = LinkClaims(uuid.UUID(data["d"]), int(data["v"]), str(data["p"]), uuid.UUID(data["s"]),
                            int(data["e"]))
    except LinkInvalid:
        raise
    except (ValueError, KeyError, TypeError):
        raise LinkInvalid() from None
    if claims.expires < (time.time() if now is None else now):
        raise LinkInvalid()
    if claims.document_id != document_id or claims.purpose != purpose:
        raise LinkInvalid()
    if session_id is None or claims.session_id != session_id:
        raise LinkInvalid()
    return claims
