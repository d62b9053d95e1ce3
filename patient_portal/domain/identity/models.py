"""Tables of the identity area: user accounts, sign-in sessions, sign-in failures, emailed links."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Column, UniqueConstraint, true
from sqlmodel import Field, SQLModel

from patient_portal.core.crypto import encrypted_field
from patient_portal.core.db import TimestampedTable, new_id, utcnow


class User(TimestampedTable, table=True):
    """A person who signs in. Email is the login identifier (stored lowercase, plaintext)."""

    __tablename__ = "user_account"

    email: str = Field(index=True, unique=True, max_length=320)
    role: str = Field(max_length=16)
    display_name: str = encrypted_field("str")
    active: bool = True
    patient_id: uuid.UUID | None = Field(default=None, index=True)  # the linked patient record
    password_hash: str = Field(default="", max_length=255)
    failed_attempts: int = 0
    locked_until: datetime | None = None
    last_sign_in_at: datetime | None = None
    mfa_enabled: bool = False
    mfa_secret: str | None = encrypted_field("str", nullable=True)
    mfa_pending_secret: str | None = encrypted_field("str", nullable=True)
    mfa_last_step: int | None = None
    recovery_codes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # False only for self-registered accounts until the emailed link is opened
    email_verified: bool = Field(default=True, sa_column_kwargs={"server_default": true()})
    #: the permission set narrowing the role (None: the role's full permissions)
    permission_set_id: uuid.UUID | None = Field(default=None, index=True)


class UserSession(SQLModel, table=True):
    """One signed-in browser. Only the SHA-256 of the token is stored."""

    __tablename__ = "user_session"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    token_hash: str = Field(index=True, unique=True, max_length=64)
    user_id: uuid.UUID = Field(index=True)
    created_at: datetime = Field(default_factory=utcnow, nullable=False)
    last_seen_at: datetime = Field(default_factory=utcnow, nullable=False)
    ip: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=512)
    revoked: bool = Field(default=False, index=True)
    revoked_at: datetime | None = None
    ended_reason: str | None = Field(default=None, max_length=32)


class SignInFailure(SQLModel, table=True):
    """A failed sign-in from an address, for per-IP throttling (no email stored)."""

    __tablename__ = "sign_in_failure"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    ip: str = Field(index=True, max_length=64)
    at: datetime = Field(default_factory=utcnow, nullable=False, index=True)



class EmailLink(SQLModel, table=True):
    """A one-time link sent by email (choose a new password, confirm an address).

    Only the SHA-256 of the link's token is stored.
    """

    __tablename__ = "email_link"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    user_id: uuid.UUID = Field(index=True)
    purpose: str = Field(max_length=16)  # reset | verify
    token_hash: str = Field(index=True, unique=True, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, nullable=False, index=True)
    expires_at: datetime = Field(nullable=False)
    used_at: datetime | None = None
    ip: str | None = Field(default=None, max_length=64)


class SsoLink(SQLModel, table=True):
    """A portal account linked to a person at the outside OpenID Connect provider (issuer + subject):
    made on the first sign-in whose verified email matches, or by an admin's choice."""

    __tablename__ = "sso_link"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    issuer: str = Field(max_length=500)
    subject: str = Field(max_length=255)
    user_id: uuid.UUID = Field(index=True)
    created_at: datetime = Field(default_factory=utcnow, nullable=False)
    linked_by: uuid.UUID | None = None  # the admin who chose the account; None: by verified email


class PermissionSet(TimestampedTable, table=True):
    """A named narrowing of one role ("Front desk", "Billing"): the capability keys its holders get
    (``core.capabilities``). Read with every session check; ``version`` rises on each edit."""

    __tablename__ = "permission_set"

    name: str = Field(unique=True, max_length=80)
    role: str = Field(max_length=16)
    description: str = Field(default="", max_length=300)
    capabilities: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    version: int = 1
