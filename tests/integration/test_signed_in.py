"""Where you're signed in: a person sees their own open sign-ins (browser, address, last active) and
can sign any other one out, or all of them; never someone else's. Ending one is audited, and the
browser it belonged to is signed out at its next request."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from patient_portal.core.access import AccessDenied
from patient_portal.core.db import unit_of_work, utcnow
from patient_portal.domain.identity import signed_in
from patient_portal.domain.identity.models import UserSession
from patient_portal.domain.identity.sessions import actor_for, check_session, hash_token
from tests.integration.identity_support import client, events, login, make_user, user
from tests.unit.test_signed_in_agents import LAPTOP, PHONE

pytestmark = pytest.mark.usefixtures("db")


def _sign_in(email: str, agent: str, ip: str) -> str:
    c = client(ip)
    assert login(c, email, **{"user-agent": agent}).status_code == 303
    return c.cookies.get("portal_session")


def _actor(token: str):
    return check_session(token).actor


def _listed(token: str) -> list[signed_in.SignedIn]:
    with unit_of_work() as s:
        return signed_in.list_signed_in(s, _actor(token))


def test_a_person_sees_their_sign_ins_and_signs_another_device_out():
    make_user("nina@clinic.org")
    phone = _sign_in("nina@clinic.org", PHONE, "198.51.100.7")
    laptop = _sign_in("nina@clinic.org", LAPTOP, "203.0.113.9")
    listed = _listed(laptop)
    assert [(d.device, d.ip, d.current) for d in listed] == [("Firefox on Windows", "203.0.113.9", True),
                                                             ("Chrome on Android", "198.51.100.7", False)]
    with unit_of_work() as s:
        signed_in.sign_out_session(s, _actor(laptop), listed[1].id)
    assert check_session(phone).status == "none"  # the phone is signed out at its next request
    assert check_session(laptop).status == "ok"
    assert [e.detail["reason"] for e in events("auth.session.end")] == ["ended_by_user"]


def test_someone_elses_session_or_this_one_cannot_be_ended_here():
    make_user("nina@clinic.org")
    make_user("omar@clinic.org")
    nina = _sign_in("nina@clinic.org", LAPTOP, "203.0.113.9")
    omar = _sign_in("omar@clinic.org", PHONE, "198.51.100.7")
    omars_id = _listed(omar)[0].id
    for target in (omars_id, _listed(nina)[0].id, "not-an-id"):
        with pytest.raises(AccessDenied), unit_of_work() as s:
            signed_in.sign_out_session(s, _actor(nina), target)
    assert check_session(omar).status == "ok" and check_session(nina).status == "ok"
    assert all(d.device == "Chrome on Android" for d in _listed(omar))  # Nina's sign-in never shows to Omar
    with pytest.raises(AccessDenied), unit_of_work() as s:  # no session at all
        signed_in.list_signed_in(s, actor_for(user("nina@clinic.org")))


def test_sign_out_everywhere_else_keeps_this_device_and_leaves_timed_out_ones_unlisted():
    make_user("nina@clinic.org")
    tokens = [_sign_in("nina@clinic.org", agent, ip) for agent, ip in
              ((PHONE, "198.51.100.7"), (PHONE, "198.51.100.8"), (LAPTOP, "203.0.113.9"))]
    with unit_of_work() as s:
        assert signed_in.sign_out_everywhere_else(s, _actor(tokens[2])) == 2
    assert [check_session(t).status for t in tokens] == ["none", "none", "ok"]
    assert [d.current for d in _listed(tokens[2])] == [True]
    assert events("auth.session.end_others")[0].detail == {"ended": 2}
    # a sign-in that has timed out (idle 16 minutes) is not open, so it is not listed
    stale = _sign_in("nina@clinic.org", PHONE, "198.51.100.7")
    with unit_of_work() as s:
        row = s.exec(select(UserSession).where(UserSession.token_hash == hash_token(stale))).one()
        row.last_seen_at = utcnow() - timedelta(minutes=16)
        s.add(row)
    assert [d.current for d in _listed(tokens[2])] == [True]


def test_a_sign_in_from_a_new_browser_is_emailed_to_the_owner(mailbox):
    make_user("nina@clinic.org")
    _sign_in("nina@clinic.org", LAPTOP, "203.0.113.9")  # the first sign-in: nothing to compare with
    _sign_in("nina@clinic.org", LAPTOP, "203.0.113.9")  # the same browser and address again
    _sign_in("nina@clinic.org", PHONE, "198.51.100.7")  # a new one
    notice = mailbox.wait_for("nina@clinic.org")
    assert len(notice) == 1
    body = notice[0].get_content()
    assert notice[0]["Subject"] == "New sign-in to your Patient Portal account"
    assert "Chrome on Android (198.51.100.7)" in body and "/account/security" in body
    assert len(mailbox.wait_for("nina@clinic.org", 2, timeout=2)) == 1  # none for the known browser
