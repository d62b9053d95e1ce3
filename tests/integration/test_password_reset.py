"""Forgotten passwords through a real SMTP server: the link works once, for 30 minutes, for the
owner of the address only; asking tells nobody whether an address has an account."""

from __future__ import annotations

import stat
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from sqlmodel import select

from patient_portal.core.db import unit_of_work, utcnow
from patient_portal.core.mail import outbox_dir
from patient_portal.domain.identity import reset
from patient_portal.domain.identity.models import EmailLink, User
from patient_portal.domain.identity.passwords import PasswordRejected
from patient_portal.domain.identity.sessions import actor_for
from tests.integration.identity_support import client, events, login, make_user, sessions_of, user
from tests.mailbox import Mailbox

pytestmark = pytest.mark.usefixtures("db")
NEW_PASSWORD = "a brand new phrase 2026"


def _token(message) -> str:
    link = urlparse(Mailbox.link_in(message))
    assert link.path == reset.ROUTE
    return parse_qs(link.query)["t"][0]


def test_the_owner_gets_a_link_that_sets_a_new_password_once(mailbox):
    make_user("maria@clinic.org", "patient")
    signed_in = client()
    login(signed_in, "maria@clinic.org")
    assert signed_in.get("/api/auth/whoami").status_code == 200

    reset.request_reset("  Maria@Clinic.org ", ip="203.0.113.9")
    [message] = mailbox.wait_for("maria@clinic.org")
    assert "Choose a new password" in message["Subject"]
    token = _token(message)
    assert reset.link_is_valid(token)
    with unit_of_work() as s:  # only the token's hash is stored
        assert token not in repr(s.exec(select(EmailLink)).all())

    reset.complete_reset(token, NEW_PASSWORD, ip="203.0.113.9")
    assert login(client(), "maria@clinic.org").headers["location"].startswith("/login?error")
    assert login(client(), "maria@clinic.org", NEW_PASSWORD).headers["location"] == "/patient"
    assert signed_in.get("/api/auth/whoami").status_code == 401  # other sessions ended
    assert all(row.revoked for row in sessions_of("maria@clinic.org")[:1])
    with pytest.raises(reset.ResetLinkInvalid):
        reset.complete_reset(token, "another fresh phrase 77")
    notice = mailbox.wait_for("maria@clinic.org", 2)[-1]
    assert "password was changed" in notice["Subject"]
    assert [e.outcome for e in events(reset.DONE)] == ["success"]


def test_an_unknown_address_gets_the_same_answer_and_no_mail(mailbox):
    make_user("known@clinic.org")
    assert reset.request_reset("nobody@clinic.org", ip="198.51.100.7") is None
    assert reset.request_reset("known@clinic.org", ip="198.51.100.7") is None
    mailbox.wait_for("known@clinic.org")
    assert [m["To"] for m in mailbox.messages] == ["known@clinic.org"]
    assert [e.outcome for e in events(reset.REQUESTED)] == ["unknown_account", "success"]
    assert "nobody" not in repr([e.detail for e in events()])  # the typed address is not kept


def test_an_expired_link_is_refused_and_a_weak_password_keeps_the_link(mailbox):
    make_user("late@clinic.org")
    reset.request_reset("late@clinic.org")
    token = _token(mailbox.wait_for("late@clinic.org")[0])
    with pytest.raises(PasswordRejected):
        reset.complete_reset(token, "short")
    assert reset.link_is_valid(token)
    with unit_of_work() as s:
        row = s.exec(select(EmailLink)).one()
        row.expires_at = utcnow() - timedelta(seconds=1)
        s.add(row)
    assert not reset.link_is_valid(token)
    with pytest.raises(reset.ResetLinkInvalid):
        reset.complete_reset(token, NEW_PASSWORD)


def test_a_reset_lifts_a_lockout(mailbox):
    make_user("locked@clinic.org")
    c = client()
    for _ in range(5):
        login(c, "locked@clinic.org", "wrong password here")
    assert user("locked@clinic.org").locked_until is not None
    reset.request_reset("locked@clinic.org")
    reset.complete_reset(_token(mailbox.wait_for("locked@clinic.org")[0]), NEW_PASSWORD)
    assert login(client(), "locked@clinic.org", NEW_PASSWORD).headers["location"] == "/staff"


def test_requests_are_throttled_per_account_and_per_address(mailbox):
    make_user("busy@clinic.org")
    admin = actor_for(make_user("admin@clinic.org", "admin"))
    with unit_of_work() as s:  # a link the clinic sent does not use up the owner's own requests
        reset.send_link_for_user(s, admin, user("busy@clinic.org").id)
    for _ in range(reset.PER_ACCOUNT_PER_HOUR + 2):
        reset.request_reset("busy@clinic.org", ip=None)
    sent = reset.PER_ACCOUNT_PER_HOUR + 1
    assert len(mailbox.wait_for("busy@clinic.org", sent)) == sent
    assert [e.outcome for e in events(reset.REQUESTED)] == ["success"] * reset.PER_ACCOUNT_PER_HOUR + ["throttled"] * 2
    make_user("other@clinic.org")
    for n in range(reset.PER_ADDRESS_PER_HOUR):
        reset.request_reset(f"someone{n}@clinic.org", ip="192.0.2.1")
    reset.request_reset("other@clinic.org", ip="192.0.2.1")
    assert mailbox.to("other@clinic.org") == []


def test_a_message_waits_while_the_mail_server_is_down_and_goes_out_when_it_is_back(monkeypatch):
    from patient_portal.core import jobs
    from patient_portal.settings import reset_settings
    from tests.mailbox import Mailbox

    box = Mailbox()  # its port, but not listening yet
    monkeypatch.setenv("PORTAL_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("PORTAL_SMTP_PORT", str(box.port))
    reset_settings()
    make_user("down@clinic.org")
    assert reset.request_reset("down@clinic.org") is None
    assert jobs.run_due() == 1
    with unit_of_work() as s:
        job = s.exec(select(jobs.Job)).one()
        assert job.status == "queued" and job.attempts == 1 and job.last_error
        assert job.run_after > utcnow()  # retried later, with backoff
        job.run_after = utcnow()
        s.add(job)
    box.start()
    try:
        assert jobs.run_due() == 1
        assert "Choose a new password" in box.wait_for("down@clinic.org")[0]["Subject"]
    finally:
        box.stop()


def test_without_smtp_the_demo_keeps_messages_in_the_instance_outbox():
    from patient_portal.core import jobs

    make_user("demo@clinic.org")
    reset.request_reset("demo@clinic.org")
    assert list(outbox_dir().glob("*.eml")) == []  # nothing is sent before the worker runs
    jobs.run_due()
    [saved] = list(outbox_dir().glob("*.eml"))
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert "/reset-password?t=" in saved.read_text()


def test_an_admin_emails_a_password_link_that_also_confirms_the_address(mailbox):
    from patient_portal.core.access import AccessDenied
    from patient_portal.domain.identity import service
    admin = actor_for(make_user("root@clinic.org", "admin"))
    make_user("unconfirmed@clinic.org", "patient")
    with unit_of_work() as s:
        target = s.exec(select(User).where(User.email == "unconfirmed@clinic.org")).one()
        target.email_verified = False
        s.add(target)
        target_id = target.id
    with unit_of_work() as s:
        [summary] = [u for u in service.list_users(s, admin, query="unconfirmed")[0]]
        assert summary.email_confirmed is False
    for role in ("staff", "doctor", "patient"):
        with pytest.raises(AccessDenied), unit_of_work() as s:
            reset.send_link_for_user(s, actor_for(make_user(f"{role}@clinic.org", role)), target_id)
    with unit_of_work() as s:
        assert reset.send_link_for_user(s, admin, target_id) == "unconfirmed@clinic.org"
    [message] = mailbox.wait_for("unconfirmed@clinic.org")
    assert "24 hours" in message.get_content()
    reset.complete_reset(_token(message), NEW_PASSWORD)
    assert user("unconfirmed@clinic.org").email_verified
    assert login(client(), "unconfirmed@clinic.org", NEW_PASSWORD).headers["location"] == "/patient"
    assert [e.outcome for e in events("user.reset_link")] == ["denied"] * 3 + ["success"]
