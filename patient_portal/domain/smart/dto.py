"""What screens and the API see of the SMART area (never a secret or a hash)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class AppView:
    client_id: str
    name: str
    kind: str
    confidential: bool
    redirect_uris: tuple[str, ...]
    scope: str
    active: bool


@dataclass(frozen=True)
class Registered:
    """A newly registered app, with its client secret shown once (confidential apps only)."""

    app: AppView
    client_secret: str | None


@dataclass(frozen=True)
class AuthorizationView:
    id: str
    app_name: str
    client_id: str
    permissions: tuple[str, ...]  # plain words
    granted_at: datetime


@dataclass(frozen=True)
class ConsentView:
    """What the consent screen shows: the app, its asks in plain words, whether a patient is chosen."""

    app_name: str
    permissions: tuple[str, ...]
    needs_patient: bool  # a clinician's standalone launch: choose among the patients they reach
