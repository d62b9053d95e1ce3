"""Video visits (issue 18): who may join the call of a telehealth appointment and when, at the service
layer and on the signalling websocket — the appointment's patient and doctor only (another patient,
another doctor of the same care team, the front desk and an admin are refused and the refusal is
audited), only from 10 minutes before the start until the end; joining, admitting and leaving are
audited with purpose "treatment"; the patient's call is put through only once the doctor admits them."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, replace
from datetime import timedelta

import pytest
from sqlmodel import select
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from patient_portal.core.access import AccessDenied, Actor, Role
from patient_portal.core.audit import AuditEvent
from patient_portal.core.db import unit_of_work, utcnow
from patient_portal.domain.appointments import service as appts
from patient_portal.domain.appointments.models import Appointment
from patient_portal.domain.video import service as video
from patient_portal.domain.video.demo import video_visit_soon
from tests.integration.fhir_support import signed_in
from tests.integration.patients_support import ADMIN, actor, call, draft, put_on_care_team, register


@dataclass
class Visit:
    appointment_id: uuid.UUID
    elena: uuid.UUID
    doctor: Actor
    patient: Actor
    others: dict[str, Actor]
    webs: dict[str, TestClient]


@pytest.fixture
def visit(db) -> Visit:
    elena = register().patient_id
    omar = register(draft(given_name="Omar", family_name="Haddad", date_of_birth="1985-02-11",
                          email="omar@example.com", phone_mobile="+1 617 555 0199")).patient_id
    doc_web, doc = signed_in("lee@clinic.org", "doctor")
    kim_web, kim = signed_in("kim@clinic.org", "doctor")
    for clinician in (doc, kim):  # both treat Elena: being on the care team is not enough to join
        put_on_care_team(clinician, elena)
    me_web, me = signed_in("elena@example.com", "patient", elena)
    omar_web, omar_actor = signed_in("omar@example.com", "patient", omar)
    me, omar_actor = replace(me, patient_id=elena), replace(omar_actor, patient_id=omar)  # as their sessions see them
    desk_web, desk = signed_in("desk@clinic.org", "staff")
    admin_web, admin = signed_in("boss@clinic.org", "admin")
    call(appts.save_visit_type, actor(ADMIN), values={"name": "Telehealth", "duration_minutes": 20, "telehealth": True})
    aid = video_visit_soon(elena, doc.user_id, minutes=5)
    return Visit(aid, elena, doc, me, {"other patient": omar_actor, "other doctor": kim, "front desk": desk,
                                       "admin": admin},
                 {"doctor": doc_web, "patient": me_web, "other patient": omar_web, "other doctor": kim_web,
                  "front desk": desk_web, "admin": admin_web})


def _join(who: Actor, aid, now=None) -> video.Seat:
    with unit_of_work() as s:
        return video.join(s, who, appointment_id=aid, now=now)


def _events(action: str, aid) -> list[AuditEvent]:
    with unit_of_work() as s:
        return list(s.exec(select(AuditEvent).where(AuditEvent.action == action,
                                                    AuditEvent.object_id == str(aid))).all())


def test_the_patient_and_the_doctor_join_and_it_is_audited_for_treatment(visit):
    mine, theirs = _join(visit.patient, visit.appointment_id), _join(visit.doctor, visit.appointment_id)
    assert (mine.role, theirs.role) == ("patient", "doctor")
    assert mine.peer_name == "Test doctor" and theirs.peer_name.startswith("Elena")
    joined = _events("video.join", visit.appointment_id)
    assert {e.actor_id for e in joined} == {visit.patient.user_id, visit.doctor.user_id}
    assert {e.purpose for e in joined} == {"treatment"} and {e.outcome for e in joined} == {"success"}
    assert all(e.patient_id == visit.elena for e in joined)


@pytest.mark.parametrize("who", ["other patient", "other doctor", "front desk", "admin"])
def test_nobody_else_joins_and_the_refusal_is_audited(visit, who):
    with pytest.raises(AccessDenied, match="Only the patient and the doctor"):
        _join(visit.others[who], visit.appointment_id)
    refused = _events("video.join", visit.appointment_id)
    assert [(e.actor_id, e.outcome) for e in refused] == [(visit.others[who].user_id, "denied")]


def test_the_call_opens_ten_minutes_before_the_start_and_closes_at_the_end(visit):
    with unit_of_work() as s:
        appt = s.get(Appointment, visit.appointment_id)
        start, end = appt.start_at, appt.end_at
    start = start.replace(tzinfo=utcnow().tzinfo) if start.tzinfo is None else start
    end = end.replace(tzinfo=utcnow().tzinfo) if end.tzinfo is None else end
    for who in (visit.patient, visit.doctor):
        with pytest.raises(video.NotOpen, match="opens 10 minutes before"):
            _join(who, visit.appointment_id, now=start - timedelta(minutes=11))
        assert _join(who, visit.appointment_id, now=start - timedelta(minutes=10)).role
        assert _join(who, visit.appointment_id, now=end - timedelta(seconds=1)).role
        with pytest.raises(video.NotOpen, match="has ended"):
            _join(who, visit.appointment_id, now=end)


def test_a_cancelled_or_in_person_appointment_has_no_call(visit):
    with unit_of_work() as s:
        appt = s.get(Appointment, visit.appointment_id)
        appt.status = "cancelled"
        s.add(appt)
    with pytest.raises(video.NotOpen, match="no longer"):
        _join(visit.patient, visit.appointment_id)
    with pytest.raises(Exception, match="not found"):
        _join(visit.patient, uuid.uuid4())


def test_the_lists_show_each_person_their_own_video_visits_joinable_now(visit):
    with unit_of_work() as s:
        mine = video.my_visits(s, visit.patient)
        doctors = video.my_visits(s, visit.doctor)
        others = video.my_visits(s, visit.others["other patient"])
        kims = video.my_visits(s, visit.others["other doctor"])
    assert [(v.appointment_id, v.joinable, v.with_name) for v in mine] == [(visit.appointment_id, True, "Test doctor")]
    assert [v.appointment_id for v in doctors] == [visit.appointment_id] and doctors[0].with_name.startswith("Elena")
    assert others == [] and kims == []


def test_the_appointment_itself_offers_join_to_its_patient_and_doctor_only_while_open(visit):
    """Issue 18: a telehealth appointment gets a Join button for the patient and the doctor from 10
    minutes before its time — on the patient's appointments and the doctor's schedule."""
    def offered(who: Actor, now=None) -> bool:
        with unit_of_work() as s:
            if who.role == Role.PATIENT:
                rows = appts.own(s, who).upcoming
            else:
                rows = [i for day in appts.schedule(s, who, doctor_id=visit.doctor.user_id).days for i in day.items]
                assert any(r.id == visit.appointment_id for r in rows)  # listed, with or without Join
        return any(r.id == visit.appointment_id and r.can_join for r in rows)

    assert offered(visit.patient) and offered(visit.doctor)
    assert not offered(visit.others["front desk"])  # the front desk sees the visit on the schedule: no Join
    with unit_of_work() as s:  # 30 minutes on: not yet (the call opens 10 minutes before)
        appt = s.get(Appointment, visit.appointment_id)
        start, end, blocked = appt.start_at, appt.end_at, appt.blocked_until
        appt.start_at, appt.end_at, appt.blocked_until = (t + timedelta(minutes=25) for t in (start, end, blocked))
        s.add(appt)
    assert not offered(visit.patient)
    with unit_of_work() as s:
        appt = s.get(Appointment, visit.appointment_id)
        appt.start_at, appt.end_at, appt.blocked_until = start, end, blocked
        s.add(appt)
    assert offered(visit.patient)
    with unit_of_work() as s:  # an in-person visit type: no call
        appt = s.get(Appointment, visit.appointment_id)
        in_person = s.exec(select(appts.VisitType).where(appts.VisitType.telehealth == False)).first()  # noqa: E712
        if in_person is None:
            in_person = appts.VisitType(code="office", name="Office visit", duration_minutes=20)
            s.add(in_person)
            s.flush()
        appt.visit_type_id = in_person.id
        s.add(appt)
    assert not offered(visit.patient) and not offered(visit.doctor)


def test_a_demo_visit_goes_around_the_doctors_bookings(visit):
    """``portal demo-video-visit`` writes straight into the schedule: never over another booking."""
    again = video_visit_soon(visit.elena, visit.doctor.user_id, minutes=5)
    with unit_of_work() as s:
        first, second = s.get(Appointment, visit.appointment_id), s.get(Appointment, again)
        assert second.start_at >= first.blocked_until or second.blocked_until <= first.start_at


# ---------------------------------------------------------------- the signalling websocket


def _path(visit: Visit) -> str:
    return f"/api/video/{visit.appointment_id}/signal"


def _socket(web: TestClient, visit: Visit):
    """The signalling socket as the browser opens it: with the session cookie (the test client's jar
    does not send it on websockets by itself)."""
    token = web.cookies.get("portal_session")
    return web.websocket_connect(_path(visit), headers={"cookie": f"portal_session={token}"} if token else {})


@pytest.mark.parametrize("who", ["other patient", "other doctor", "front desk", "admin"])
def test_the_websocket_refuses_a_third_person_with_a_reason(visit, who):
    with _socket(visit.webs[who], visit) as ws:
        answer = ws.receive_json()
        assert answer == {"type": "refused", "message": video.REFUSED}
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    assert closed.value.code == 4403


def test_the_websocket_refuses_someone_signed_out(visit):
    from tests.integration.identity_support import client

    with _socket(client(), visit) as ws:
        assert ws.receive_json()["type"] == "refused"
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    assert closed.value.code == 4403


REDIS_URL = os.environ.get("PORTAL_E2E_REDIS_URL", "")  # read before the fixtures clear PORTAL_*


@pytest.fixture(params=["in-process", "redis"])
def relay(request, monkeypatch):
    """The embedded relay, and the scaled-out one (Redis pub/sub: each socket has its own Redis
    subscription, as two app workers would)."""
    from patient_portal.domain.video import signalling
    from patient_portal.settings import reset_settings

    if request.param == "redis":
        if not REDIS_URL:
            pytest.skip("PORTAL_E2E_REDIS_URL is not set (a Redis server for the scaled-out relay)")
        monkeypatch.setenv("REFLEX_REDIS_URL", REDIS_URL)
    reset_settings()
    hub = signalling.get_hub()
    assert type(hub).__name__ == ("RedisHub" if request.param == "redis" else "LocalHub")
    yield hub
    reset_settings()


def _next(ws, kind: str) -> dict:
    """The next message of this type (presence messages may come in between)."""
    for _ in range(10):
        message = ws.receive_json()
        if message["type"] == kind:
            return message
        assert message["type"] in ("hello", "here", "notice"), message
    raise AssertionError(f"no {kind}")


def test_the_doctor_admits_the_waiting_patient_and_their_messages_meet(visit, relay):
    with _socket(visit.webs["patient"], visit) as patient:
        joined = patient.receive_json()
        assert joined["type"] == "joined" and joined["role"] == "patient" and joined["ice_servers"] == []
        patient.send_json({"type": "ready"})  # not admitted yet: not put through
        assert patient.receive_json()["type"] == "notice"
        with _socket(visit.webs["doctor"], visit) as doctor:
            assert doctor.receive_json()["role"] == "doctor"
            assert _next(patient, "hello")  # the doctor is here
            patient.send_json({"type": "here"})
            assert _next(doctor, "here")  # the patient waits
            doctor.send_json({"type": "admit"})
            assert _next(patient, "admit")
            patient.send_json({"type": "ready"})
            assert _next(doctor, "ready")
            doctor.send_json({"type": "offer", "data": {"sdp": "v=0", "type": "offer"}})
            assert _next(patient, "offer") == {"type": "offer", "data": {"sdp": "v=0", "type": "offer"}}
            patient.send_json({"type": "leave"})
            assert _next(doctor, "bye")  # sent once the patient's leave is written
            doctor.send_json({"type": "leave"})
            with pytest.raises(WebSocketDisconnect):  # the server closes once the doctor's leave is written
                _next(doctor, "closed")
    # (leaving by message, not by dropping the socket: the test client stops its event loop as a socket
    # drops, which could cut the server's closing work short, as a real server does not)
    assert [e.actor_id for e in _events("video.admit", visit.appointment_id)] == [visit.doctor.user_id]
    left = _events("video.leave", visit.appointment_id)
    assert sorted(e.actor_id for e in left) == sorted([visit.patient.user_id, visit.doctor.user_id])
    assert {e.purpose for e in left} == {"treatment"}


def test_the_patient_cannot_admit_themselves(visit):
    with _socket(visit.webs["patient"], visit) as patient:
        patient.receive_json()
        patient.send_json({"type": "admit"})  # ignored: only the doctor admits
        patient.send_json({"type": "offer", "data": {"sdp": "x"}})
        assert patient.receive_json()["type"] == "notice"
    assert _events("video.admit", visit.appointment_id) == []


def test_ice_servers_come_from_the_environment(monkeypatch):
    from patient_portal.domain.video.signalling import ice_servers
    from patient_portal.settings import reset_settings

    monkeypatch.setenv("PORTAL_VIDEO_ICE_SERVERS",
                       '[{"urls": "turn:turn.clinic.example:3478", "username": "u", "credential": "c", "x": 1}]')
    reset_settings()
    assert ice_servers() == [{"urls": "turn:turn.clinic.example:3478", "username": "u", "credential": "c"}]
    monkeypatch.setenv("PORTAL_VIDEO_ICE_SERVERS", "stun:stun.clinic.example:3478")
    reset_settings()
    assert ice_servers() == [{"urls": "stun:stun.clinic.example:3478"}]
    assert Role.PATIENT  # (imported for the fixture's actors)


def test_only_the_call_page_may_use_the_camera_and_microphone(db):
    from tests.integration.identity_support import client

    web = client()
    call = web.get(f"/video/{uuid.uuid4()}").headers["permissions-policy"]
    other = web.get("/api/health").headers["permissions-policy"]
    assert "camera=(self)" in call and "microphone=(self)" in call
    assert "camera=()" in other and "microphone=()" in other


def test_a_page_of_another_site_cannot_open_the_signalling_socket(visit):
    token = visit.webs["patient"].cookies.get("portal_session")
    with pytest.raises(WebSocketDisconnect) as closed:
        with visit.webs["patient"].websocket_connect(
                _path(visit), headers={"cookie": f"portal_session={token}", "origin": "https://evil.example"}) as ws:
            ws.receive_json()
    assert closed.value.code == 1008
    assert _events("video.join", visit.appointment_id) == []


def test_the_patients_access_log_words_the_call():
    from patient_portal.domain.audit_log.dto import phrase

    assert phrase("video.join") == "Joined your video visit"
    assert phrase("video.admit") == "Let you into your video visit"
    assert phrase("video.join", outcome="denied") == "Tried to join your video visit (refused)"
