"""A browser's push subscription (its PushSubscription: endpoint and the two keys) for one account.

The endpoint is a capability URL (whoever has it and the keys can write to that phone), so it and
the keys are AES-GCM ciphertext like other personal data; ``endpoint_index`` (an HMAC blind index)
finds a device again when it subscribes anew or asks to stop, without decrypting every row.
"""

from __future__ import annotations

import uuid

from sqlmodel import Field

from patient_portal.core.crypto import encrypted_field
from patient_portal.core.db import TimestampedTable


class PushSubscription(TimestampedTable, table=True):
    """One device of one account that wants push notifications."""

    __tablename__ = "push_subscription"

    user_id: uuid.UUID = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    endpoint: str = encrypted_field("str")
    keys: dict = encrypted_field("json")  # {"p256dh": ..., "auth": ...}, base64url as the browser gave them
    endpoint_index: str = Field(max_length=64, unique=True)
