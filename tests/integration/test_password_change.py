"""A signed-in user changes their own password: the current one must be right, other sessions end,
this one stays, a notice is emailed; guessing the current password locks the account."""

from __future__ import annotations

import pytest

from patient_portal.core.access import AccessDenied
from patient_portal.domain.identity import password_change as pc
from patient_portal.domain.identity.passwords import PasswordRejected
from patient_portal.domain.identity.sessions import check_session_hash, hash_token
from tests.integration.identity_support import PASSWORD, client, events, login, make_user, sessions_of, user

pytestmark = pytest.mark.usefixtures("db")
NEW = "a completely new phrase 31"


def _signed_in(email: str):
    c = client()
    login(c, email)
    token = c.cookies.get("portal_session")
    return c, check_session_hash(hash_token(token)).actor


def test_change_keeps_this_session_ends_the_others_and_emails_a_notice(mailbox):
    make_user("nadia@clinic.org", "doctor")
    here, actor = _signed_in("nadia@clinic.org")
    elsewhere, _ = _signed_in("nadia@clinic.org")
    assert pc.change_password(actor, PASSWORD, NEW, NEW) == 1
    assert here.get("/api/auth/whoami").status_code == 200
    assert elsewhere.get("/api/auth/whoami").status_code == 401
    assert login(client(), "nadia@clinic.org", NEW).headers["location"] == "/doctor"
    assert login(client(), "nadia@clinic.org").headers["location"].startswith("/login?error")
    assert "password was changed" in mailbox.wait_for("nadia@clinic.org")[0]["Subject"]
    assert [e.outcome for e in events(pc.WHAT)] == ["success"]


@pytest.mark.parametrize(("new", "again", "says"), [
    (NEW, NEW + "x", "not the same"),
    (PASSWORD, PASSWORD, "different from the current"),
    ("short", "short", "12"),
])
def test_bad_new_passwords_are_refused_and_nothing_changes(new, again, says):
    make_user("omar@clinic.org")
    _c, actor = _signed_in("omar@clinic.org")
    with pytest.raises(PasswordRejected, match=says):
        pc.change_password(actor, PASSWORD, new, again)
    assert login(client(), "omar@clinic.org").headers["location"] == "/staff"


def test_wrong_current_passwords_count_and_lock_the_account():
    make_user("guess@clinic.org")
    c, actor = _signed_in("guess@clinic.org")
    for attempt in range(1, 6):
        with pytest.raises(pc.WrongCurrentPassword) as err:
            pc.change_password(actor, "not my password at all", NEW, NEW)
        assert err.value.locked is (attempt == 5)
    assert user("guess@clinic.org").locked_until is not None
    assert c.get("/api/auth/whoami").status_code == 401
    assert all(row.revoked for row in sessions_of("guess@clinic.org"))
    assert [e.detail["locked"] for e in events(pc.WHAT)][-1] is True


def test_no_session_no_change():
    with pytest.raises(AccessDenied):
        pc.change_password(None, PASSWORD, NEW, NEW)


def _open_reset_link(email: str) -> str:
    """A reset link as request_reset would mail it (the token the email carries)."""
    from datetime import timedelta

    from patient_portal.core.db import unit_of_work
    from patient_portal.domain.identity import email_links

    with unit_of_work() as s:
        return email_links.issue(s, user(email), "reset", timedelta(minutes=30))


def test_a_password_change_ends_reset_links_mailed_before_it():
    """The probe: a link sent before the change still worked after it (and undid the change)."""
    from patient_portal.domain.identity import reset

    make_user("rita@clinic.org")
    link = _open_reset_link("rita@clinic.org")
    _c, actor = _signed_in("rita@clinic.org")
    assert reset.link_is_valid(link)
    pc.change_password(actor, PASSWORD, NEW, NEW)
    assert not reset.link_is_valid(link)
    with pytest.raises(reset.ResetLinkInvalid):
        reset.complete_reset(link, "the attacker's own phrase 77")
    assert login(client(), "rita@clinic.org", NEW).headers["location"] == "/staff"


@pytest.mark.parametrize("change", ["enrol", "new recovery codes", "admin reset"])
def test_an_mfa_change_ends_reset_links_and_other_sessions(change):
    import time

    from patient_portal.core.db import unit_of_work
    from patient_portal.domain.identity import enrolment, mfa, reset
    from patient_portal.domain.identity.sessions import actor_for
    from tests.integration.identity_support import enrol_mfa

    make_user("mo@clinic.org")
    secret, codes = enrol_mfa("mo@clinic.org") if change != "enrol" else (None, [None, None])
    here, actor = _signed_in_with_mfa("mo@clinic.org", codes[0])
    elsewhere, _ = _signed_in_with_mfa("mo@clinic.org", codes[1])
    link = _open_reset_link("mo@clinic.org")
    with unit_of_work() as s:
        if change == "enrol":
            started = enrolment.begin(s, actor)
            enrolment.confirm(s, actor, mfa.code_at(started.secret, time.time()))
        elif change == "new recovery codes":
            enrolment.new_recovery_codes(s, actor, mfa.code_at(secret, time.time()))
        else:
            admin = actor_for(make_user("root@clinic.org", "admin"))
            enrolment.reset_for_user(s, admin, user("mo@clinic.org").id)
    assert not reset.link_is_valid(link)
    assert elsewhere.get("/api/auth/whoami").status_code == 401
    assert here.get("/api/auth/whoami").status_code == (401 if change == "admin reset" else 200)


def _signed_in_with_mfa(email: str, recovery_code: str | None):
    c = client()
    login(c, email, code=recovery_code)
    token = c.cookies.get("portal_session")
    assert token, "sign-in failed"
    return c, check_session_hash(hash_token(token)).actor
