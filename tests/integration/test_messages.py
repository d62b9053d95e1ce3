"""Secure messages at the service layer (issue 18): a patient writes to a doctor of their care team,
the front desk or billing — never to a doctor off it; care-team doctors and the front desk answer;
read receipts; the triage pool with overdue threads first and routing to the right person; a doctor
away delegates; PDF attachments go through the documents pipeline; the email says only "You have a
new message"; everything is encrypted at rest, audited with its purpose and in "download my record".
Each role is tried allowed and refused, with another patient's ids too. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlmodel import select

from patient_portal.core.access import AccessDenied, Actor
from patient_portal.core.db import get_engine, unit_of_work, utcnow
from patient_portal.core.jobs import Job
from patient_portal.domain.documents.filetypes import FileRefused
from patient_portal.domain.documents.models import Document
from patient_portal.domain.identity.models import User
from patient_portal.domain.messages import notify
from patient_portal.domain.messages import service as messages
from patient_portal.domain.messages.models import MessageThread
from tests.integration.clinic_support import doctor, two_patients
from tests.integration.patients_support import call, events
from tests.samples import one_page_pdf

SECRET = "my chest hurts when I climb stairs"


def _account(who: Actor, role: str, email: str, patient_id=None) -> None:
    with unit_of_work() as s:
        s.add(User(id=who.user_id, email=email, role=role, display_name=who.display_name or email,
                   patient_id=patient_id))


@pytest.fixture
def clinic(db):
    c = two_patients({"ada": doctor("Dr. Ada"), "cole": doctor("Dr. Cole")})
    for name in ("ada", "cole", "outsider"):
        _account(c[name], "doctor", f"{name}@clinic.test")
    _account(c["patient"], "patient", "elena@example.com", c["elena"])
    _account(c["omar_patient"], "patient", "omar@example.com", c["omar"])
    return c


def _to(who: Actor) -> str:
    return f"doctor:{who.user_id}"


def _send(c, to=None, subject="Stairs", body=SECRET) -> messages.Sent:
    return call(messages.start_thread, c["patient"], to=to or _to(c["ada"]), subject=subject, body=body)


def _mails() -> list[dict]:
    with unit_of_work() as s:
        return [j.payload for j in s.exec(select(Job).where(Job.kind == "mail")).all()]


# ---------------------------------------------------------------- writing and answering


def test_a_patient_writes_to_their_doctor_who_is_told_and_answers(clinic):
    c = clinic
    sent = _send(c)
    mails = _mails()
    assert [m["to"] for m in mails] == ["ada@clinic.test"]
    assert mails[0]["subject"] == "You have a new message"
    assert SECRET not in mails[0]["text"] and "Stairs" not in mails[0]["text"] and "/doctor/messages" in mails[0]["text"]

    inbox = call(messages.inbox, c["ada"])
    assert [r.subject for r in inbox.rows] == ["Stairs"] and inbox.rows[0].unread == 1
    assert inbox.rows[0].patient_name == "Elena Marsh" and inbox.rows[0].waiting_since is not None

    view = call(messages.open_thread, c["ada"], thread_id=sent.thread_id)
    assert [m.body for m in view.messages] == [SECRET] and view.can_reply and not view.can_route
    call(messages.reply, c["ada"], thread_id=sent.thread_id, body="Please come in tomorrow at 9.")
    assert [m["to"] for m in _mails()] == ["ada@clinic.test", "elena@example.com"]
    assert "/patient/messages" in _mails()[1]["text"]

    own, _ = call(messages.own_page, c["patient"])
    assert own.rows[0].unread == 1 and own.rows[0].waiting_since is None
    mine = call(messages.open_thread, c["patient"], thread_id=sent.thread_id)
    assert mine.messages[0].mine and mine.messages[0].read_at is not None  # read receipt: the clinic read it
    assert not mine.messages[1].mine and mine.messages[1].author_name == "Dr. Ada"
    assert call(messages.own_page, c["patient"])[0].rows[0].unread == 0
    # the doctor sees the patient read the answer
    assert call(messages.open_thread, c["ada"], thread_id=sent.thread_id).messages[1].read_at is not None


def test_the_patient_is_offered_only_their_care_team_and_the_pools(clinic):
    _, choices = call(messages.own_page, clinic["patient"])
    assert [r.label for r in choices] == ["Dr. Ada", "Dr. Cole", "Front desk", "Billing"]


def test_a_patient_cannot_write_to_a_doctor_off_their_care_team(clinic):
    c = clinic
    with pytest.raises(AccessDenied):
        _send(c, to=_to(c["outsider"]))
    with unit_of_work() as s:
        assert s.exec(select(MessageThread)).all() == []
    refusal = events("message.send")[-1]
    assert refusal.outcome == "denied" and refusal.detail["reason"] == "recipient_off_care_team"
    assert _mails() == []


@pytest.mark.parametrize("values", [{"to": "nobody"}, {"to": "doctor:not-an-id"}, {"subject": ""}, {"body": " "},
                                    {"body": "x" * 5001}, {"subject": ["x"]}])
def test_bad_messages_are_refused_field_by_field(clinic, values):
    args = {"to": _to(clinic["ada"]), "subject": "Stairs", "body": SECRET, **values}
    with pytest.raises(messages.MessageInvalid) as refused:
        call(messages.start_thread, clinic["patient"], **args)
    assert set(refused.value.errors) <= {"to", "subject", "body"} and refused.value.errors


def test_other_people_cannot_read_or_write_in_elenas_thread(clinic):
    c = clinic
    sent = _send(c)
    for who in (c["omar_patient"], c["outsider"]):
        with pytest.raises(AccessDenied):
            call(messages.open_thread, who, thread_id=sent.thread_id)
        with pytest.raises(AccessDenied):
            call(messages.reply, who, thread_id=sent.thread_id, body="hi")
    assert call(messages.inbox, c["outsider"]).rows == []
    assert call(messages.own_page, c["omar_patient"])[0].rows == []
    with pytest.raises(messages.ThreadNotFound):
        call(messages.open_thread, c["ada"], thread_id="not-a-thread")


def test_the_clinic_does_not_open_threads_for_a_patient(clinic):
    for who in ("ada", "staff", "admin"):
        with pytest.raises(AccessDenied):
            call(messages.start_thread, clinic[who], to="front_desk", subject="Hi", body="Hello")


# ---------------------------------------------------------------- the pool, routing, overdue


def test_the_front_desk_works_the_pool_and_routes_to_the_care_team_only(clinic):
    c = clinic
    desk_thread = _send(c, to="front_desk", subject="Parking")
    billing = _send(c, to="billing", subject="My bill")
    _send(c)  # to Dr. Ada: not in the pool
    page = call(messages.pool, c["staff"])
    assert sorted(r.subject for r in page.rows) == ["My bill", "Parking"]
    assert [r.subject for r in call(messages.pool, c["staff"], view="billing").rows] == ["My bill"]
    assert _mails() == [m for m in _mails() if m["to"] == "ada@clinic.test"]  # pools email nobody

    view = call(messages.open_thread, c["staff"], thread_id=desk_thread.thread_id)
    assert view.can_route and [r.label for r in view.routes] == ["Dr. Ada", "Dr. Cole", "Front desk", "Billing"]
    with pytest.raises(AccessDenied):
        call(messages.route, c["staff"], thread_id=desk_thread.thread_id, to=_to(c["outsider"]))
    assert events("message.route")[-1].detail["reason"] == "recipient_off_care_team"
    routed = call(messages.route, c["staff"], thread_id=desk_thread.thread_id, to=_to(c["cole"]))
    assert routed.with_label == "Dr. Cole"
    assert [r.subject for r in call(messages.inbox, c["cole"]).rows] == ["Parking"]
    assert "cole@clinic.test" in [m["to"] for m in _mails()]
    # the front desk answers a billing question
    call(messages.reply, c["staff"], thread_id=billing.thread_id, body="We are checking with your insurer.")
    assert call(messages.open_thread, c["patient"], thread_id=billing.thread_id).messages[-1].body.startswith("We are")


def test_overdue_threads_come_first_and_stand_out(clinic, monkeypatch):
    c = clinic
    old = _send(c, to="front_desk", subject="Old question")
    _send(c, to="front_desk", subject="New question")
    with unit_of_work() as s:
        thread = s.get(MessageThread, old.thread_id)
        thread.waiting_since = utcnow() - timedelta(hours=49)
        s.add(thread)
    page = call(messages.pool, c["staff"])
    assert [(r.subject, r.overdue) for r in page.rows] == [("Old question", True), ("New question", False)]
    assert page.response_hours == 48
    assert [r.subject for r in call(messages.pool, c["staff"], view="overdue").rows] == ["Old question"]
    monkeypatch.setenv("PORTAL_MESSAGE_RESPONSE_HOURS", "72")
    from patient_portal.settings import reset_settings

    reset_settings()
    assert [r.overdue for r in call(messages.pool, c["staff"]).rows] == [False, False]


def test_admins_read_and_route_but_do_not_answer(clinic):
    c = clinic
    sent = _send(c, to="front_desk")
    assert len(call(messages.pool, c["admin"]).rows) == 1
    view = call(messages.open_thread, c["admin"], thread_id=sent.thread_id)
    assert not view.can_reply and view.can_route
    assert view.messages[0].read_at is None  # an admin reading for operations is no read receipt
    with pytest.raises(AccessDenied):
        call(messages.reply, c["admin"], thread_id=sent.thread_id, body="hello")
    call(messages.route, c["admin"], thread_id=sent.thread_id, to="billing")


@pytest.mark.parametrize("who,fn", [("patient", messages.pool), ("ada", messages.pool), ("staff", messages.inbox),
                                    ("admin", messages.inbox), ("patient", messages.inbox),
                                    ("staff", messages.delegation), ("patient", messages.delegation)])
def test_lists_of_other_roles_are_refused(clinic, who, fn):
    with pytest.raises(AccessDenied):
        call(fn, clinic[who])


def test_a_patient_and_a_doctor_cannot_route(clinic):
    sent = _send(clinic, to="front_desk")
    for who in ("patient", "ada"):
        with pytest.raises(AccessDenied):
            call(messages.route, clinic[who], thread_id=sent.thread_id, to="billing")


# ---------------------------------------------------------------- delegates


def test_a_doctor_away_delegates_to_a_colleague(clinic):
    c = clinic
    assert {r.label for r in call(messages.delegation, c["ada"]).choices} == {"Dr. Cole", "Dr. Out Side"}
    for bad in (str(c["ada"].user_id), "x", str(c["staff"].user_id)):
        with pytest.raises(messages.MessageInvalid):
            call(messages.set_delegate, c["ada"], delegate=bad)
    set_to = call(messages.set_delegate, c["ada"], delegate=str(c["cole"].user_id))
    assert set_to.delegate_name == "Dr. Cole"
    assert call(messages.delegation, c["cole"]).covering_for == ["Dr. Ada"]
    _send(c)
    assert sorted(m["to"] for m in _mails()) == ["ada@clinic.test", "cole@clinic.test"]
    assert [r.with_label for r in call(messages.inbox, c["cole"]).rows] == ["Dr. Ada"]
    # a delegate off the patient's care team does not see the thread (the policy's reach)
    call(messages.set_delegate, c["ada"], delegate=str(c["outsider"].user_id))
    assert call(messages.inbox, c["outsider"]).rows == []
    assert call(messages.set_delegate, c["ada"], delegate="").delegate_id is None


# ---------------------------------------------------------------- attachments


def test_a_pdf_goes_through_the_documents_pipeline(clinic):
    c = clinic
    sent = _send(c)
    summary = messages.attach(c["patient"], message_id=sent.message_id, filename="readings.pdf",
                              chunks=[one_page_pdf("BP 135/85")])
    assert summary.kind == "pdf"
    with unit_of_work() as s:
        doc = s.get(Document, summary.id)
        assert doc.patient_id == c["elena"] and doc.provided_by_patient
    assert events("document.upload")[-1].patient_id == c["elena"]
    assert events("message.attachment.add")[-1].outcome == "success"
    view = call(messages.open_thread, c["ada"], thread_id=sent.thread_id)
    assert [a.filename for a in view.messages[0].attachments] == ["readings.pdf"]

    with pytest.raises(FileRefused):
        messages.attach(c["patient"], message_id=sent.message_id, filename="x.pdf", chunks=[b"MZ\x90\x00" * 50])
    for who in (c["omar_patient"], c["ada"], c["outsider"]):  # another patient; not the author; off the team
        with pytest.raises(AccessDenied):
            messages.attach(who, message_id=sent.message_id, filename="x.pdf", chunks=[one_page_pdf()])
    with pytest.raises(messages.ThreadNotFound):
        messages.attach(c["patient"], message_id="nope", filename="x.pdf", chunks=[one_page_pdf()])


def test_the_front_desk_cannot_attach_a_clinical_file(clinic):
    c = clinic
    sent = _send(c, to="front_desk")
    answer = call(messages.reply, c["staff"], thread_id=sent.thread_id, body="See the form.")
    with pytest.raises(AccessDenied):
        messages.attach(c["staff"], message_id=answer.message_id, filename="form.pdf", chunks=[one_page_pdf()])
    assert not call(messages.open_thread, c["staff"], thread_id=sent.thread_id).can_attach


# ---------------------------------------------------------------- at rest, audit, the record


def test_messages_are_ciphertext_at_rest(clinic):
    _send(clinic, subject="Chest pain on stairs")
    with get_engine().connect() as conn:
        rows = conn.execute(text("SELECT body, author_name FROM message")).all()
        subjects = conn.execute(text("SELECT subject FROM message_thread")).all()
    raw = repr(rows) + repr(subjects)
    assert SECRET not in raw and "Chest pain" not in raw and "Test patient" not in raw


def test_every_read_and_write_is_audited_with_its_purpose_and_no_text(clinic):
    c = clinic
    sent = _send(c)
    call(messages.open_thread, c["ada"], thread_id=sent.thread_id)
    call(messages.reply, c["ada"], thread_id=sent.thread_id, body="Come in.")
    call(messages.own_page, c["patient"])
    call(messages.pool, c["staff"])
    expected = {"message.send": "patient_request", "message.thread.read": "treatment", "message.reply": "treatment",
                "message.list": "patient_request", "message.pool.read": "operations"}
    for action, purpose in expected.items():
        event = events(action)[-1]
        assert event.purpose == purpose and event.outcome == "success", action
        assert SECRET not in str(event.detail) and "Come in" not in str(event.detail)
    assert events("message.thread.read")[-1].basis == "care_team"


def test_messages_are_in_download_my_record(clinic):
    from patient_portal.api.fhir.download import own_record

    c = clinic
    sent = _send(c)
    call(messages.reply, c["ada"], thread_id=sent.thread_id, body="Come in tomorrow.")
    found = call(messages.record_export, c["patient"])
    assert [r["payload"][0]["contentString"] for r in found] == [SECRET, "Come in tomorrow."]
    assert found[0]["resourceType"] == "Communication" and found[0]["topic"]["text"] == "Stairs"
    with pytest.raises(AccessDenied):
        call(messages.record_export, c["ada"])
    name, data, _ = call(own_record, c["patient"], kind="json")
    assert b'"Communication"' in data and SECRET.encode() in data
    assert notify.NEW_MESSAGE.subject == "You have a new message"


def test_the_email_arrives_over_smtp_and_says_nothing_else(clinic, mailbox):
    c = clinic
    sent = _send(c)
    call(messages.reply, c["ada"], thread_id=sent.thread_id, body="Come in tomorrow.")
    got = mailbox.wait_for("elena@example.com", subject="You have a new message")
    assert got, "no email reached the patient"
    body = got[0].get_content()
    assert "Come in" not in body and "Stairs" not in body and "Dr. Ada" not in body
    assert mailbox.link_in(got[0]).endswith("/patient/messages")
