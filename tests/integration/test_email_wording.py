"""The wording of notification emails, kept in the app (issue 17 Configuration): an admin rewords an
email and the next one sent says it; the checks keep what the email is for (its link) and refuse
unknown or attribute-reaching placeholders; back to the standard wording; audited with before and
after; admins only; in force in another process through the settings row's version."""

from __future__ import annotations

import pytest

from patient_portal.core import clinic_config
from patient_portal.core.access import AccessDenied
from patient_portal.core.db import unit_of_work
from patient_portal.core.errors import Conflict, Invalid
from patient_portal.core.jobs import Job
from patient_portal.domain.configuration import service
from patient_portal.domain.identity import reset
from patient_portal.domain.identity.sessions import actor_for
from tests.integration.identity_support import events, make_user

pytestmark = pytest.mark.usefixtures("db")
RESET = "account.reset_link"
OURS = "Harbor Family Practice: your password link"
OUR_TEXT = "Hello from Harbor Family Practice.\n\nChoose your new password here within {valid}:\n{link}\n"


def _call(fn, *args, **kwargs):
    with unit_of_work() as s:
        return fn(s, *args, **kwargs)


@pytest.fixture
def admin():
    return actor_for(make_user("root@clinic.org", "admin"))


def _reset_email(address: str) -> dict:
    """The reset email the forgot-password form queues now for this account."""
    reset.request_reset(address, ip=None)
    with unit_of_work() as s:
        jobs = s.query(Job).filter(Job.kind == "mail").order_by(Job.created_at).all()
        return [j.payload for j in jobs if j.payload["to"] == address][-1]


def _email(view, key: str):
    return next(e for e in view.emails if e.key == key)


def test_a_reworded_email_is_sent_as_the_admin_wrote_it_and_audited(admin):
    make_user("maria@clinic.org", "patient")
    standard = _reset_email("maria@clinic.org")
    assert standard["subject"] == "Choose a new password for Patient Portal"
    view = _call(service.save_email_wording, admin, key=RESET, subject=OURS, text=OUR_TEXT, expected_version=0)
    assert _email(view, RESET).reworded and view.version == 1
    sent = _reset_email("maria@clinic.org")
    assert sent["subject"] == OURS
    assert sent["text"].startswith("Hello from Harbor Family Practice.\n\nChoose your new password here within 30 "
                                   "minutes:\nhttp")
    assert "/reset-password" in sent["text"] and "{link}" not in sent["text"]
    [event] = events("system.settings.email.save")
    assert event.detail["email"] == RESET and event.detail["changed"]["subject"] == {
        "before": "Choose a new password for Patient Portal", "after": OURS}
    # the other emails keep the standard wording
    others = [e for e in view.emails if e.key != RESET]
    assert others and not any(e.reworded for e in others)


def test_back_to_the_standard_wording(admin):
    make_user("maria@clinic.org", "patient")
    _call(service.save_email_wording, admin, key=RESET, subject=OURS, text=OUR_TEXT, expected_version=0)
    view = _call(service.save_email_wording, admin, key=RESET, standard=True, expected_version=1)
    assert not _email(view, RESET).reworded and _email(view, RESET).subject == _email(view, RESET).standard_subject
    assert _reset_email("maria@clinic.org")["subject"] == "Choose a new password for Patient Portal"
    assert events("system.settings.email.save")[-1].detail["standard"] is True


@pytest.mark.parametrize(("subject", "text", "field", "words"), [
    ("Your link", "Choose a password here.\n", "text", "Keep {link}"),
    ("Your link", "Here: {link} for {patient_name}\n", "text", "This email has no {patient_name}"),
    ("Your link", "Here: {link.__class__}\n", "text", "Write a placeholder as its name"),
    ("Your link", "Here: {link!r}\n", "text", "Write a placeholder as its name"),
    ("Your link", "Here: {link\n", "text", "A brace is not closed"),
    ("Your link", "<b>Here</b>: {link}\n", "text", "Plain words only"),
    ("", "Here: {link}\n", "subject", "Write the subject"),
    ("x" * 151, "Here: {link}\n", "subject", "Keep it to 150 characters"),
])
def test_each_bad_wording_gets_a_message_next_to_its_field_and_nothing_changes(admin, subject, text, field, words):
    with pytest.raises(Invalid) as refused:
        _call(service.save_email_wording, admin, key=RESET, subject=subject, text=text, expected_version=0)
    assert words in refused.value.errors[field]
    assert not _email(_call(service.email_wording, admin), RESET).reworded
    assert clinic_config.current().email_wording == {}


def test_a_stale_page_and_an_unknown_email_are_refused(admin):
    _call(service.save_email_wording, admin, key=RESET, subject=OURS, text=OUR_TEXT, expected_version=0)
    with pytest.raises(Conflict):
        _call(service.save_email_wording, admin, key=RESET, subject="Other", text=OUR_TEXT, expected_version=0)
    with pytest.raises(Invalid):
        _call(service.save_email_wording, admin, key="nope", subject="A", text="B\n", expected_version=1)


@pytest.mark.parametrize("role", ["staff", "doctor", "patient"])
def test_only_admins_read_or_reword_the_emails(role, admin):
    other = actor_for(make_user(f"{role}@clinic.org", role))
    with pytest.raises(AccessDenied):
        _call(service.email_wording, other)
    with pytest.raises(AccessDenied):
        _call(service.save_email_wording, other, key=RESET, subject=OURS, text=OUR_TEXT, expected_version=0)
    assert clinic_config.current().email_wording == {}
    assert {e.action for e in events() if e.outcome == "denied"} >= {"system.settings.email.read",
                                                                      "system.settings.email.save"}


def test_the_settings_form_keeps_the_wording(admin):
    """Saving the main settings form (or the logo) after a rewording leaves the wording as it is."""
    _call(service.save_email_wording, admin, key=RESET, subject=OURS, text=OUR_TEXT, expected_version=0)
    values = dict(_call(service.get, admin).values, clinic_name="Harbor Family Practice")
    _call(service.save, admin, values=values, expected_version=1)
    assert clinic_config.current().email_wording[RESET]["subject"] == OURS
