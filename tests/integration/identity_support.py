"""Helpers for identity tests: accounts, a sign-in client, session rows, audit events."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlmodel import select
from starlette.testclient import TestClient

from patient_portal.core.audit import AuditEvent
from patient_portal.core.db import unit_of_work, utcnow
from patient_portal.domain.identity import enrolment, mfa, service
from patient_portal.domain.identity.models import User, UserSession
from patient_portal.domain.identity.sessions import actor_for

PASSWORD = "correct horse battery 42"
ORIGIN = "http://localhost:3000"  # settings.public_url default


def make_user(email: str, role: str = "staff", password: str = PASSWORD, **kw) -> User:
    with unit_of_work() as s:
        service.create_user_system(s, email=email, role=role, display_name=f"Test {role}", password=password, **kw)
    return user(email)


def user(email: str) -> User:
    with unit_of_work() as s:
        return s.exec(select(User).where(User.email == email)).one()


def client(ip: str = "testclient") -> TestClient:
    from patient_portal.api.app import build_api

    return TestClient(build_api(), base_url=ORIGIN, client=(ip, 50000))


def login(c: TestClient, email: str, password: str = PASSWORD, code: str | None = None, **headers):
    data = {"email": email, "password": password}
    if code is not None:
        data["code"] = code
    return c.post("/api/auth/login", data=data, follow_redirects=False, headers=headers)


def sessions_of(email: str) -> list[UserSession]:
    uid = user(email).id
    with unit_of_work() as s:
        return list(s.exec(select(UserSession).where(UserSession.user_id == uid)
                           .order_by(UserSession.created_at)).all())


def age_session(email: str, *, idle: timedelta = timedelta(0), age: timedelta = timedelta(0)) -> None:
    """Move the user's open sessions into the past."""
    uid = user(email).id
    with unit_of_work() as s:
        for row in s.exec(select(UserSession).where(UserSession.user_id == uid)).all():
            row.last_seen_at = utcnow() - idle
            row.created_at = utcnow() - age
            s.add(row)


def events(action: str | None = None) -> list[AuditEvent]:
    with unit_of_work() as s:
        stmt = select(AuditEvent).order_by(AuditEvent.seq)
        if action:
            stmt = stmt.where(AuditEvent.action == action)
        return list(s.exec(stmt).all())


def enrol_mfa(email: str) -> tuple[str, list[str]]:
    """Turn MFA on for the account; returns (secret, recovery codes). Uses the previous TOTP step."""
    u = user(email)
    actor = actor_for(u)
    with unit_of_work() as s:
        started = enrolment.begin(s, actor)
    with unit_of_work() as s:
        codes = enrolment.confirm(s, actor, mfa.code_at(started.secret, time.time() - 30))
    return started.secret, codes
