"""Notifying the emergency contacts (issue 15 part A) through the real outbox and a real SMTP server:
the primary contact's email first, in their language, with no clinical detail and a signed, expiring
acknowledgement link; when nobody acknowledges within the configured minutes the secondary's; the
link's page marks the notice opened and its button acknowledged (no one else is notified then);
the patient's choice not to have a contact messaged is respected; texts for contacts who prefer
them. With the mail server down the messages wait in the outbox and go out when it is back: none
lost, none twice."""

from __future__ import annotations

import time as clock
from datetime import datetime, timedelta

import pytest
from sqlmodel import select

from patient_portal.core import jobs, sms
from patient_portal.core.clock import clinic_zone
from patient_portal.core.db import unit_of_work, utcnow
from patient_portal.domain.emergency import notify
from patient_portal.domain.emergency import service as emergency
from patient_portal.domain.emergency.dto import EmergencyInvalid
from patient_portal.domain.emergency.models import EmergencyNotice
from patient_portal.settings import reset_settings
from tests.integration.emergency_support import ROSA, TOM, emergency_clinic, set_contacts, start
from tests.integration.patients_support import call, events
from tests.mailbox import Mailbox

ACK_MINUTES = 0.03  # 1.8 s


@pytest.fixture
def quick(db, monkeypatch):
    monkeypatch.setenv("PORTAL_EMERGENCY_ACK_MINUTES", str(ACK_MINUTES))
    monkeypatch.setenv("PORTAL_CLINIC_PHONE", "+1 617 555 0100")
    reset_settings()


@pytest.fixture
def c(quick, mailbox):
    return emergency_clinic()


def _body(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def _token(message) -> str:
    return Mailbox.link_in(message).split("?t=", 1)[1]


def _notices() -> list[EmergencyNotice]:
    with unit_of_work() as s:
        return list(s.exec(select(EmergencyNotice).order_by(EmergencyNotice.created_at)).all())


def _eventually(read, ok, timeout: float = 10):
    deadline = clock.time() + timeout
    while True:
        found = read()
        if ok(found) or clock.time() > deadline:
            return found
        clock.sleep(0.05)


def _page(c):
    return call(emergency.run_page, c["staff"], patient_id=c["elena"]).active


def test_primary_then_secondary_then_acknowledged(c, mailbox):
    run = start(c)
    assert run.notify_status == "notifying" and [(n.name, n.status) for n in run.notices] == [("Tom Marsh", "queued")]
    first, = mailbox.wait_for(TOM["email"])
    body = _body(first)
    assert first["Subject"] == "Demo Clinic: please call us"
    assert "+1 617 555 0100" in body and "emergency contact" in body
    for secret in ("Elena", "Marsh", "Anaphylaxis", "adrenaline", "allerg"):
        assert secret not in body and secret not in first["Subject"]
    assert mailbox.to(ROSA["email"]) == []
    tom = _eventually(lambda: _page(c).notices[0], lambda n: n.status == "sent")  # marked once the server took it
    assert tom.sent_at is not None and tom.opened_at is None

    second, = mailbox.wait_for(ROSA["email"], timeout=15)  # nobody acknowledged within the wait
    assert second["Subject"] == "Demo Clinic: por favor, llámenos" and "Por favor, llame" in _body(second)
    page = _page(c)
    assert [(n.name, n.position) for n in page.notices] == [("Tom Marsh", 0), ("Rosa Marsh", 1)]

    seen = call(emergency.ack_details, token=_token(second))
    assert seen.problem == "" and not seen.acknowledged and seen.language == "es"
    assert _page(c).notices[1].opened_at is not None
    done = call(emergency.acknowledge, token=_token(second))
    assert done.acknowledged and done.phone == "+1 617 555 0100"
    page = _page(c)
    assert page.notify_status == "acknowledged" and page.notices[1].acknowledged_at is not None
    call(emergency.acknowledge, token=_token(second))  # a second press changes nothing
    assert len(events("emergency.contact.acknowledge")) == 1
    clock.sleep(ACK_MINUTES * 60 + 1)
    assert len(mailbox.messages) == 2 and len(_notices()) == 2  # nobody else is told
    assert [e.detail["position"] for e in events("emergency.contact.notify")] == [0, 1]
    assert [e.actor_id for e in events("emergency.contact.acknowledge")] == [None]


def test_links_are_signed_and_expire(c, mailbox):
    start(c)
    token = _token(mailbox.wait_for(TOM["email"])[0])
    notice_id = notify.read_token(token)
    assert notice_id == _notices()[0].id
    head, mac = token.rsplit(".", 1)
    for bad in (head + "." + ("0" if mac[0] != "0" else "1") + mac[1:], token.replace(notice_id.hex, "0" * 32),
                "", "a1.x", token + "x"):
        assert notify.read_token(bad) is None
        assert call(emergency.ack_details, token=bad).problem
        with pytest.raises(EmergencyInvalid):
            call(emergency.acknowledge, token=bad)
    assert notify.read_token(token, now=utcnow() + timedelta(hours=25)) is None  # links last 24 hours


def test_the_patients_choice_not_to_message_a_contact_is_respected(c, mailbox):
    set_contacts(c, {**TOM, "notify": "no"}, ROSA)
    run = start(c)
    assert [(n.name, n.status, n.skipped) for n in run.notices] == [("Tom Marsh", "skipped", "declined"),
                                                                   ("Rosa Marsh", "queued", "")]
    mailbox.wait_for(ROSA["email"])
    clock.sleep(ACK_MINUTES * 60 + 1)
    assert mailbox.to(TOM["email"]) == [] and _page(c).notify_status == "exhausted"
    call(emergency.close_run, c["staff"], patient_id=c["elena"], run_id=run.id, outcome="Resolved",
         expected_version=run.version)
    set_contacts(c, {**TOM, "notify": "no"}, {**ROSA, "notify": "no"})
    nobody = start(c)
    assert nobody.notify_status == "none" and {n.status for n in nobody.notices} == {"skipped"}
    assert [e.detail["reason"] for e in events("emergency.contact.skip")] == ["declined"] * 3


def test_texts_for_those_who_prefer_them_and_outside_their_hours_because_it_is_urgent(c, mailbox):
    gateway = sms.RecordingGateway()
    sms.set_gateway(gateway)
    try:
        hour = datetime.now(clinic_zone()).hour
        later = f"{(hour + 3) % 24}:00-{(hour + 4) % 24}:00"  # a window that does not hold now
        set_contacts(c, {**TOM, "preferred_contact_method": "sms", "hours": later}, ROSA)
        run = start(c)
        assert run.notices[0].channel == "sms" and run.notices[0].outside_hours
        deadline = clock.time() + 10
        while not gateway.to("+16175550134") and clock.time() < deadline:
            clock.sleep(0.1)
        text, = gateway.to("+16175550134")
        assert "+1 617 555 0100" in text.text and "Elena" not in text.text and "/emergency/ack?t=" in text.text
    finally:
        sms.set_gateway(sms.RecordingGateway())


def test_messages_wait_while_the_mail_server_is_down_none_lost_none_twice(quick, monkeypatch):
    box = Mailbox()  # its port, but not listening yet
    monkeypatch.setenv("PORTAL_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("PORTAL_SMTP_PORT", str(box.port))
    reset_settings()
    c = emergency_clinic()
    start(c)
    assert jobs.run_due() == 1  # Tom's message: the server is down
    with unit_of_work() as s:
        waiting = s.exec(select(jobs.Job).where(jobs.Job.kind == notify.MESSAGE)).one()
        assert waiting.status == "queued" and waiting.attempts == 1 and waiting.run_after > utcnow()
    assert [n.status for n in _notices()] == ["queued"]
    clock.sleep(ACK_MINUTES * 60 + 0.2)
    assert jobs.run_due() == 1  # the escalation: Rosa is notified too (still nobody has acknowledged)
    assert [n.status for n in _notices()] == ["queued", "queued"]
    assert jobs.run_due() == 1  # Rosa's message: down as well
    _all_due()
    assert jobs.run_due() == 2 and all(n.status == "queued" for n in _notices())  # still down: both wait
    box.start()
    try:
        _all_due()
        assert jobs.run_due() == 2
        assert len(box.wait_for(TOM["email"])) == 1 and len(box.wait_for(ROSA["email"])) == 1
        assert [n.status for n in _notices()] == ["sent", "sent"]
        for notice in _notices():  # the same message job run again (a lease ran out): nothing more
            notify.send_message({"notice_id": str(notice.id)})
        _all_due()
        jobs.run_due()
        clock.sleep(0.3)
        assert len(box.messages) == 2
        assert len(events("emergency.contact.sent")) == 2
    finally:
        box.stop()


def _all_due() -> None:
    """Every waiting message due now (its backoff skipped); the escalation keeps its time."""
    with unit_of_work() as s:
        for job in s.exec(select(jobs.Job).where(jobs.Job.status == "queued", jobs.Job.kind == notify.MESSAGE)).all():
            job.run_after = utcnow() - timedelta(seconds=1)
            s.add(job)
