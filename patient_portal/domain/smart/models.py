"""Tables of the SMART area: registered apps, authorization codes, tokens and what a person allowed.

Secrets, codes and tokens are stored only as SHA-256 hex of a high-entropy random value (like
``UserSession.token_hash``): a copy of the database gives no usable credential.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from patient_portal.core.db import TimestampedTable, new_id, utcnow


class SmartApp(TimestampedTable, table=True):
    """An app an admin registered. ``kind`` is ``app`` (SMART App Launch) or ``backend`` (Backend
    Services: client_credentials with a signed JWT assertion, keys from ``jwks``/``jwks_url``)."""

    __tablename__ = "smart_app"

    client_id: str = Field(index=True, unique=True, max_length=64)
    name: str = Field(max_length=120)
    kind: str = Field(default="app", max_length=16)
    confidential: bool = False
    secret_hash: str | None = Field(default=None, max_length=64)
    redirect_uris: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    scope: str = Field(default="", max_length=2000)  # the most it may ever be granted
    jwks: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    jwks_url: str | None = Field(default=None, max_length=500)
    active: bool = True
    created_by: uuid.UUID | None = None


class SmartAuthCode(SQLModel, table=True):
    """A one-time authorization code (60 s), bound to its client, redirect URI and PKCE challenge."""

    __tablename__ = "smart_auth_code"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    code_hash: str = Field(index=True, unique=True, max_length=64)
    client_id: str = Field(max_length=64)
    user_id: uuid.UUID
    patient_id: uuid.UUID | None = None  # the launch context (the patient, or the one a clinician chose)
    authorization_id: uuid.UUID
    redirect_uri: str = Field(max_length=500)
    scope: str = Field(max_length=2000)
    code_challenge: str = Field(max_length=128)
    code_challenge_method: str = Field(default="S256", max_length=8)
    nonce: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(default_factory=utcnow, nullable=False)
    expires_at: datetime = Field(nullable=False)
    used_at: datetime | None = None


class SmartToken(SQLModel, table=True):
    """An access token and its refresh token. Backend Services tokens have no user."""

    __tablename__ = "smart_token"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    access_hash: str = Field(index=True, unique=True, max_length=64)
    refresh_hash: str | None = Field(default=None, index=True, unique=True, max_length=64)
    client_id: str = Field(index=True, max_length=64)
    user_id: uuid.UUID | None = Field(default=None, index=True)
    patient_id: uuid.UUID | None = None
    authorization_id: uuid.UUID | None = Field(default=None, index=True)
    scope: str = Field(max_length=2000)
    issued_at: datetime = Field(default_factory=utcnow, nullable=False)
    expires_at: datetime = Field(nullable=False)
    refresh_expires_at: datetime | None = None
    revoked: bool = False
    revoked_at: datetime | None = None


class SmartAuthorization(SQLModel, table=True):
    """What a signed-in person allowed an app: which scopes, when; revoking it ends its tokens."""

    __tablename__ = "smart_authorization"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    user_id: uuid.UUID = Field(index=True)
    client_id: str = Field(index=True, max_length=64)
    patient_id: uuid.UUID | None = None
    scope: str = Field(max_length=2000)
    granted_at: datetime = Field(default_factory=utcnow, nullable=False)
    revoked_at: datetime | None = None


class SmartAssertionJti(SQLModel, table=True):
    """A client assertion's jti, kept until it expires so a signed JWT cannot be replayed."""

    __tablename__ = "smart_assertion_jti"
    __table_args__ = (UniqueConstraint("client_id", "jti"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    client_id: str = Field(max_length=64)
    jti: str = Field(max_length=255)
    expires_at: datetime = Field(nullable=False, index=True)
