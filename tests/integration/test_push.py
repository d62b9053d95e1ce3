"""Web Push for patients (issue 18, the phone app), at the service layer and through /api/push.

A patient turns notifications on for their own devices only; doctors, staff, admins and signed-out
callers are refused; another account's device can be neither turned off nor taken over. When the
clinic writes to the patient or a reminder goes out, the job queue sends a real Web Push (RFC 8291
encryption, RFC 8292 VAPID) to a local push service, which the test decrypts with the subscription's
own keys: the text says "You have a new message" / "You have an appointment reminder" and nothing
more. Endpoints and keys are ciphertext at rest. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlmodel import select

from patient_portal.core import jobs
from patient_portal.core.access import AccessDenied, Actor
from patient_portal.core.db import get_engine, unit_of_work
from patient_portal.core.errors import Invalid
from patient_portal.core.jobs import Job
from patient_portal.domain.identity.models import User
from patient_portal.domain.messages import service as messages
from patient_portal.domain.push import service as push
from patient_portal.domain.push import vapid
from patient_portal.domain.push.models import PushSubscription
from tests.integration.clinic_support import doctor, two_patients
from tests.integration.patients_support import call, events
from tests.push_service import Browser, PushServer, vapid_claims

SECRET = "the biopsy came back"
SUBJECT = "Your biopsy"


@pytest.fixture
def clinic(db, monkeypatch):
    from patient_portal.settings import reset_settings

    monkeypatch.setenv("PORTAL_PUSH_HOSTS", "127.0.0.1")  # the tests' local push service
    reset_settings()
    c = two_patients({"ada": doctor("Dr. Ada")})
    with unit_of_work() as s:
        s.add(User(id=c["ada"].user_id, email="ada@clinic.test", role="doctor", display_name="Dr. Ada"))
        s.add(User(id=c["patient"].user_id, email="elena@example.com", role="patient", display_name="Elena",
                   patient_id=c["elena"]))
        s.add(User(id=c["omar_patient"].user_id, email="omar@example.com", role="patient", display_name="Omar",
                   patient_id=c["omar"]))
    return c


@pytest.fixture
def service():
    with PushServer() as server:
        yield server


def _subscribe(who: Actor, endpoint: str, browser: Browser):
    return call(push.subscribe, who, endpoint=endpoint, p256dh=browser.p256dh, auth=browser.auth)


def _rows() -> list[PushSubscription]:
    with unit_of_work() as s:
        return list(s.exec(select(PushSubscription)).all())


def _run_jobs() -> None:
    while jobs.run_due():
        pass


# ---------------------------------------------------------------- the round trip


def test_a_new_message_reaches_the_patients_phone_as_a_push_that_says_nothing_clinical(clinic, service):
    c, phone = clinic, Browser()
    _subscribe(c["patient"], service.url("elena-phone"), phone)
    sent = call(messages.start_thread, c["patient"], to=f"doctor:{c['ada'].user_id}", subject=SUBJECT, body="Hi")
    _run_jobs()
    assert service.received == []  # her own message does not notify her
    call(messages.reply, c["ada"], thread_id=sent.thread_id, body=SECRET)
    _run_jobs()

    [got] = service.received
    assert got.path == "/push/elena-phone"
    assert got.headers["content-encoding"] == "aes128gcm" and int(got.headers["ttl"]) > 0
    note = phone.decrypt(got.body)  # only the subscription's own keys open it
    assert note == {"title": "Patient Portal", "body": "You have a new message", "url": "/patient/messages",
                    "tag": "message"}
    assert SECRET.encode() not in got.body and SUBJECT not in str(note) and "Ada" not in str(note)
    with pytest.raises(Exception):
        Browser().decrypt(got.body)  # another browser's keys cannot
    claims = vapid_claims(got.headers["authorization"], vapid.application_server_key())
    assert claims["aud"] == service.origin and claims["sub"].startswith("mailto:")


def test_an_appointment_reminder_pushes_only_that_there_is_a_reminder(clinic, service):
    c, phone = clinic, Browser()
    _subscribe(c["patient"], service.url("elena"), phone)
    _subscribe(c["omar_patient"], service.url("omar"), Browser())
    with unit_of_work() as s:
        assert push.notify_patient(s, c["elena"], push.REMINDER) == 1  # Omar's phone is not Elena's
    _run_jobs()
    [got] = service.received
    assert got.path == "/push/elena"
    assert phone.decrypt(got.body)["body"] == "You have an appointment reminder"


def test_a_device_the_browser_dropped_is_forgotten(clinic):
    c = clinic
    with PushServer(status=410) as gone:
        _subscribe(c["patient"], gone.url("old"), Browser())
        with unit_of_work() as s:
            push.notify_patient(s, c["elena"], push.MESSAGE)
        _run_jobs()
        assert len(gone.received) == 1
    assert _rows() == []
    with unit_of_work() as s:
        assert s.exec(select(Job).where(Job.kind == "push")).one().status == "done"


def test_a_push_service_error_is_retried(clinic):
    c = clinic
    with PushServer(status=503) as down:
        _subscribe(c["patient"], down.url("busy"), Browser())
        with unit_of_work() as s:
            push.notify_patient(s, c["elena"], push.MESSAGE)
        _run_jobs()
    with unit_of_work() as s:
        job = s.exec(select(Job).where(Job.kind == "push")).one()
        assert job.status == "queued" and job.attempts == 1 and "503" in job.last_error
    assert len(_rows()) == 1


# ---------------------------------------------------------------- who may do what


def test_only_a_patient_turns_notifications_on_and_only_for_themselves(clinic, service):
    c = clinic
    for who in ("ada", "staff", "admin"):
        with pytest.raises(AccessDenied):
            _subscribe(c[who], service.url(who), Browser())
    with pytest.raises(AccessDenied):
        _subscribe(None, service.url("nobody"), Browser())
    assert _rows() == [] and len(events("push.subscribe")) == 4  # each refusal is audited
    _subscribe(c["patient"], service.url("elena"), Browser())
    [row] = _rows()
    assert row.user_id == c["patient"].user_id
    assert call(push.device_count, c["patient"]) == 1 and call(push.device_count, c["omar_patient"]) == 0


def test_another_patients_device_can_be_neither_turned_off_nor_taken(clinic, service):
    c, elena_phone = clinic, Browser()
    _subscribe(c["patient"], service.url("elena"), elena_phone)
    with pytest.raises(AccessDenied):
        call(push.unsubscribe, c["omar_patient"], endpoint=service.url("elena"))
    with pytest.raises(AccessDenied):  # his own keys for her endpoint: not her browser
        _subscribe(c["omar_patient"], service.url("elena"), Browser())
    assert call(push.unsubscribe_all, c["omar_patient"]) == 0
    [row] = _rows()
    assert row.user_id == c["patient"].user_id and row.keys["auth"] == elena_phone.auth
    denied = [e for e in events("push.unsubscribe") if e.outcome == "denied"]
    assert len(denied) == 1

    # the same browser (it holds the subscription's secret), now signed in as Omar: his from now on
    _subscribe(c["omar_patient"], service.url("elena"), elena_phone)
    assert [r.user_id for r in _rows()] == [c["omar_patient"].user_id]


def test_a_patient_turns_one_device_or_all_of_them_off(clinic, service):
    c = clinic
    _subscribe(c["patient"], service.url("phone"), Browser())
    _subscribe(c["patient"], service.url("tablet"), Browser())
    assert call(push.unsubscribe, c["patient"], endpoint=service.url("phone")) is True
    assert call(push.unsubscribe, c["patient"], endpoint=service.url("phone")) is False
    assert call(push.device_count, c["patient"]) == 1
    assert call(push.unsubscribe_all, c["patient"]) == 1
    assert _rows() == []
    with unit_of_work() as s:
        push.notify_patient(s, c["elena"], push.MESSAGE)
        assert s.exec(select(Job).where(Job.kind == "push")).all() == []


def test_only_a_real_push_service_is_accepted(clinic):
    c, browser = clinic, Browser()
    for endpoint in ("https://intranet.clinic.local/push", "http://fcm.googleapis.com/fcm/send/x",
                     "http://10.1.2.3/push", "https://user:pw@fcm.googleapis.com/x", "", None, "x" * 3000):
        with pytest.raises(Invalid) as refused:
            call(push.subscribe, c["patient"], endpoint=endpoint, p256dh=browser.p256dh, auth=browser.auth)
        assert "endpoint" in refused.value.errors
    with pytest.raises(Invalid) as refused:
        call(push.subscribe, c["patient"], endpoint="https://fcm.googleapis.com/fcm/send/abc", p256dh="AAAA", auth="x")
    assert set(refused.value.errors) == {"p256dh", "auth"}
    assert push.allowed_endpoint("https://fcm.googleapis.com/fcm/send/abc")
    assert push.allowed_endpoint("https://web.push.apple.com/QG3a")
    assert push.allowed_endpoint("https://updates.push.services.mozilla.com/wpush/v2/gAAA")


def test_endpoints_and_keys_are_ciphertext_at_rest(clinic, service):
    c, browser = clinic, Browser()
    _subscribe(c["patient"], service.url("secret-endpoint"), browser)
    with get_engine().connect() as conn:
        raw = conn.execute(text("SELECT endpoint, keys FROM push_subscription")).one()
    assert "secret-endpoint" not in raw[0] and browser.auth not in raw[1] and browser.p256dh not in raw[1]


def test_the_vapid_key_is_made_once_in_the_instance_folder(clinic, portal_env):
    first = vapid.application_server_key()
    path = portal_env / "vapid_private.pem"
    assert path.exists() and oct(path.stat().st_mode & 0o777) == "0o600"
    assert vapid.application_server_key() == first and len(push.public_key()) == 87


def test_every_process_can_share_one_vapid_key_file(clinic, tmp_path, monkeypatch):
    from patient_portal.settings import reset_settings

    shared = tmp_path / "shared" / "vapid.pem"
    monkeypatch.setenv("PORTAL_VAPID_KEY_FILE", str(shared))
    reset_settings()
    key = vapid.application_server_key()
    assert shared.exists() and vapid.application_server_key() == key


# ---------------------------------------------------------------- over HTTP


def test_the_api_subscribes_and_unsubscribes_the_signed_in_patient(clinic, service):
    from tests.integration.identity_support import ORIGIN, client, login, make_user

    make_user("pat@example.com", "patient", patient_id=clinic["omar"])
    make_user("desk@clinic.org", "staff")
    web, browser = client(), Browser()
    assert web.get("/api/push/key").json()["publicKey"] == vapid.application_server_key()
    body = {"endpoint": service.url("pat"), "keys": {"p256dh": browser.p256dh, "auth": browser.auth}}
    assert web.post("/api/push/subscriptions", json=body, headers={"Origin": ORIGIN}).status_code == 401

    login(web, "pat@example.com")
    created = web.post("/api/push/subscriptions", json=body, headers={"Origin": ORIGIN})
    assert created.status_code == 201 and created.headers["cache-control"] == "no-store"
    assert web.get("/api/push/subscriptions").json() == {"devices": 1}
    bad = web.post("/api/push/subscriptions", json={**body, "endpoint": "https://example.org/x"},
                   headers={"Origin": ORIGIN})
    assert bad.status_code == 422 and "endpoint" in bad.json()["errors"]

    desk = client()
    login(desk, "desk@clinic.org")
    assert desk.post("/api/push/subscriptions", json=body, headers={"Origin": ORIGIN}).status_code == 403
    assert desk.post("/api/push/unsubscribe", json={"endpoint": body["endpoint"]},
                     headers={"Origin": ORIGIN}).status_code == 403

    assert desk.get("/api/push/subscriptions").status_code == 403
    assert desk.delete("/api/push/subscriptions", headers={"Origin": ORIGIN}).status_code == 403
    assert web.get("/api/push/subscriptions").json() == {"devices": 1}  # the refusals changed nothing

    gone = web.post("/api/push/unsubscribe", json={"endpoint": body["endpoint"]}, headers={"Origin": ORIGIN})
    assert gone.json() == {"removed": True} and web.get("/api/push/subscriptions").json() == {"devices": 0}
    web.post("/api/push/subscriptions", json=body, headers={"Origin": ORIGIN})
    everywhere = web.delete("/api/push/subscriptions", headers={"Origin": ORIGIN})  # a lost phone
    assert everywhere.json() == {"removed": 1} and web.get("/api/push/subscriptions").json() == {"devices": 0}
    assert web.post("/api/push/subscriptions", content=b"not json", headers={"Origin": ORIGIN}).status_code == 400
