"""Who has looked at my record (patients) and the audit log (administrators), against a real database."""

from __future__ import annotations

import dataclasses
import re
import uuid
from datetime import timedelta

import pytest
from sqlmodel import select

from patient_portal.core import audit
from patient_portal.core.access import AccessDenied, Actor, CareTeamMember
from patient_portal.core.audit import AuditEvent
from patient_portal.core.db import unit_of_work, utcnow
from patient_portal.domain.audit_log import service
from patient_portal.domain.audit_log.dto import AuditFilters, FilterInvalid
from patient_portal.domain.documents import service as documents
from patient_portal.domain.identity import service as accounts
from patient_portal.domain.identity.models import User
from patient_portal.domain.identity.sessions import actor_for
from patient_portal.domain.patients.service import get_chart, search_patients
from tests.integration.patients_support import call, draft, events, register

PASSWORD = "correct horse battery 42"
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
PDF = (b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n" + b"% values\n" * 40
       + b"trailer << /Root 1 0 R >>\n%%EOF\n")


def _account(email: str, role: str, name: str, patient_id: uuid.UUID | None = None) -> Actor:
    with unit_of_work() as s:
        accounts.create_user_system(s, email=email, role=role, display_name=name, password=PASSWORD,
                                    patient_id=patient_id)
    with unit_of_work() as s:
        user = s.exec(select(User).where(User.email == email)).one()
        actor = actor_for(user)
    return dataclasses.replace(actor, ip="203.0.113.77", session_id=uuid.uuid4())


@dataclasses.dataclass
class Clinic:
    elena: uuid.UUID
    elena_mrn: str
    omar: uuid.UUID
    admin: Actor
    doctor: Actor
    staff: Actor
    patient: Actor
    other_patient: Actor


@pytest.fixture
def clinic(db) -> Clinic:
    staff = _account("sam@demo.clinic", "staff", "Sam Staff")
    elena = register(draft(), by=staff)
    omar = register(draft(given_name="Omar", family_name="Haddad", date_of_birth="1985-02-11",
                          email="omar@example.com", phone_mobile="(617) 555-0188"), by=staff)
    doctor = _account("dana@demo.clinic", "doctor", "Dr. Dana Doctor")
    with unit_of_work() as s:
        s.add(CareTeamMember(patient_id=elena.patient_id, user_id=doctor.user_id))
        s.add(CareTeamMember(patient_id=omar.patient_id, user_id=doctor.user_id))
    return Clinic(
        elena=elena.patient_id, elena_mrn=elena.mrn, omar=omar.patient_id,
        admin=_account("ada@demo.clinic", "admin", "Ada Admin"), doctor=doctor, staff=staff,
        patient=_account("elena@example.com", "patient", "Elena Marsh", elena.patient_id),
        other_patient=_account("omar@example.com", "patient", "Omar Haddad", omar.patient_id),
    )


def _download(actor: Actor, patient_id: uuid.UUID) -> None:
    doc = documents.upload(actor, patient_id=patient_id, filename="lab.pdf", chunks=iter([PDF]),
                           meta={"category": "lab_result", "title": "Blood panel", "service_date": "2026-01-15",
                                 "source": "City Lab"})
    opened = documents.open_file(actor, document_id=doc.id, purpose="download")
    b"".join(opened.chunks)


def _own(actor: Actor, page: int = 1):
    return call(service.own_access_log, actor, page=page)


def test_patient_sees_what_clinicians_did_with_their_record_and_nothing_else(clinic):
    call(search_patients, clinic.doctor, "Marsh")
    call(get_chart, clinic.doctor, clinic.elena)
    _download(clinic.doctor, clinic.elena)
    call(get_chart, clinic.doctor, clinic.omar)  # another patient's record
    _download(clinic.doctor, clinic.omar)
    call(get_chart, clinic.patient, clinic.elena)  # the patient's own actions
    _own(clinic.patient)  # reading the log is audited, but not shown

    log = _own(clinic.patient)
    whats = [r.what for r in log.rows]
    assert "Opened your record, including your health history" in whats
    assert "Opened a document" in whats
    assert "Added a document" in whats
    assert "Found your record in a search" in whats
    assert "Registered you as a patient" in whats
    assert {r.who for r in log.rows} == {"Dr. Dana Doctor (doctor)", "Sam Staff (clinic staff)"}
    assert all(not r.refused for r in log.rows)
    # newest first: the download came after the chart read, the search first of all
    assert whats.index("Opened a document") < whats.index("Opened your record, including your health history")
    assert whats.index("Opened your record, including your health history") < \
        whats.index("Found your record in a search")
    # the other patient's events are not counted: one search, one chart read, one upload, one download,
    # one registration
    assert log.total == 5
    own_reads = events("audit.own.read")
    assert len(own_reads) == 2 and all(e.patient_id == clinic.elena for e in own_reads)

    # the other patient sees their own record's events only (the search listed Elena alone)
    theirs = _own(clinic.other_patient)
    assert "Found your record in a search" not in [r.what for r in theirs.rows]
    assert theirs.total == 4


def test_patient_rows_hold_no_ips_session_or_internal_ids(clinic):
    call(get_chart, clinic.doctor, clinic.elena)
    log = _own(clinic.patient)
    dumped = repr([dataclasses.asdict(r) for r in log.rows]) + repr(dataclasses.asdict(log))
    assert "203.0.113.77" not in dumped
    assert not UUID_RE.search(dumped)
    assert clinic.elena_mrn not in dumped
    assert set(dataclasses.asdict(log.rows[0])) == {"when", "who", "what", "refused"}
    assert re.fullmatch(r"\w{3} \d{1,2} \w{3}, \d{2}:\d{2}", log.rows[0].when)


def test_refused_attempts_read_plainly_and_other_patients_names_stay_hidden(clinic):
    outsider = _account("olly@demo.clinic", "doctor", "Dr. Olly Other")
    with pytest.raises(AccessDenied):
        call(get_chart, outsider, clinic.elena)
    with pytest.raises(AccessDenied):
        call(get_chart, clinic.other_patient, clinic.elena)
    rows = _own(clinic.patient).rows
    assert rows[0].what == "Tried to open your record (refused)" and rows[0].refused
    assert rows[0].who == "Another portal user"  # never another patient's name
    assert rows[1].who == "Dr. Olly Other (doctor)" and rows[1].refused


@pytest.mark.parametrize("who", ["staff", "doctor", "admin"])
def test_only_patients_read_their_own_access_log(clinic, who):
    actor = getattr(clinic, who)
    with pytest.raises(AccessDenied):
        _own(actor)
    denied = events("audit.own.read")[-1]
    assert denied.outcome == "denied" and denied.actor_id == actor.user_id


@pytest.mark.parametrize("who", ["staff", "doctor", "patient"])
def test_only_admins_read_the_audit_log_or_check_the_chain(clinic, who):
    actor = getattr(clinic, who)
    with pytest.raises(AccessDenied):
        call(service.audit_events, actor)
    with pytest.raises(AccessDenied):
        call(service.chain_status, actor)
    denied = [e for e in events("audit.read") if e.actor_id == actor.user_id]
    assert [e.outcome for e in denied] == ["denied", "denied"]


def test_signed_out_is_refused(clinic):
    with pytest.raises(AccessDenied):
        call(service.own_access_log, None)
    with pytest.raises(AccessDenied):
        call(service.audit_events, None)


def _admin(clinic, page: int = 1, **filters):
    return call(service.audit_events, clinic.admin, page=page, filters=AuditFilters(**filters))


def test_admin_filters(clinic):
    call(search_patients, clinic.doctor, "Marsh")
    call(get_chart, clinic.doctor, clinic.elena)
    call(get_chart, clinic.doctor, clinic.omar)
    with pytest.raises(AccessDenied):
        call(get_chart, clinic.other_patient, clinic.elena)

    reads = _admin(clinic, action="patient.demographics")
    assert reads.total == 3 and {r.action for r in reads.rows} == {"patient.demographics.read"}
    row = reads.rows[-1]
    assert row.actor == "Dr. Dana Doctor" and row.role == "doctor" and row.actor_email == "dana@demo.clinic"
    assert row.ip == "203.0.113.77" and row.patient_mrn == clinic.elena_mrn

    by_doctor = _admin(clinic, actor="DANA@demo.clinic")
    assert by_doctor.total == 3 and {r.actor_email for r in by_doctor.rows} == {"dana@demo.clinic"}
    assert _admin(clinic, actor=str(clinic.doctor.user_id)).total == 3
    assert _admin(clinic, actor="nobody@demo.clinic").total == 0

    about_elena = _admin(clinic, patient=clinic.elena_mrn)
    assert {r.action for r in about_elena.rows} >= {"patient.register", "patient.search", "patient.demographics.read"}
    assert all(r.patient_mrn in (clinic.elena_mrn, "") for r in about_elena.rows)
    assert _admin(clinic, patient=str(clinic.omar)).total == 2  # registration and chart read

    denied = _admin(clinic, outcome="denied")
    assert denied.total == 1 and denied.rows[0].role == "patient"

    today = utcnow().date()
    assert _admin(clinic, date_from=str(today - timedelta(days=1)), date_to=str(today + timedelta(days=1))).total > 0
    assert _admin(clinic, date_from=str(today + timedelta(days=2))).total == 0

    for bad in ({"patient": "not an mrn"}, {"outcome": "maybe"}, {"date_from": "yesterday"},
                {"date_from": str(today), "date_to": str(today - timedelta(days=3))}):
        with pytest.raises(FilterInvalid):
            _admin(clinic, **bad)

    read = [e for e in events("audit.read") if e.outcome == "success"][-1]
    assert read.actor_id == clinic.admin.user_id
    last_patient_filter = [e for e in events("audit.read") if "patient" in e.detail.get("filters", [])][-1]
    assert last_patient_filter.detail["filters"] == ["patient"]
    assert str(clinic.omar) not in repr(last_patient_filter.detail) and clinic.elena_mrn not in repr(
        [e.detail for e in events("audit.read")])


def _many_reads(actor: Actor, patient_id: uuid.UUID, count: int) -> None:
    with unit_of_work() as s:
        for _ in range(count):
            audit.record(s, actor, "patient.clinical.read", patient_id=patient_id, object_type="patient")


def test_pagination(clinic):
    _many_reads(clinic.doctor, clinic.elena, 30)  # plus the registration: 31 events
    first, second = _own(clinic.patient, 1), _own(clinic.patient, 2)
    assert (len(first.rows), len(second.rows), first.total, first.pages) == (25, 6, 31, 2)
    assert first.rows[0].what == "Looked at your health history"
    assert second.rows[-1].what == "Registered you as a patient"
    assert _own(clinic.patient, 0).page == 1

    _many_reads(clinic.doctor, clinic.omar, 40)
    page1 = _admin(clinic, action="patient.")  # (reading the log adds audit.* events of its own)
    assert len(page1.rows) == 50 and page1.pages >= 2
    assert page1.rows[0].seq > page1.rows[-1].seq  # newest first
    page2 = _admin(clinic, page=2, action="patient.")
    assert page2.rows[0].seq == page1.rows[-1].seq - 1
    assert len(call(service.audit_events, clinic.admin, page_size=500).rows) == 50


def test_chain_check(clinic):
    ok = call(service.chain_status, clinic.admin)
    assert ok.ok and re.fullmatch(r"Audit chain intact: \d+ events", ok.message)
    with unit_of_work() as s:
        event = s.exec(select(AuditEvent).where(AuditEvent.seq == 2)).one()
        event.outcome = "denied"
        s.add(event)
    broken = call(service.chain_status, clinic.admin)
    assert not broken.ok and broken.message == "Audit chain problem: event 2 was altered"


def test_a_chart_page_opened_reads_as_one_entry_naming_what_was_shown():
    from patient_portal.domain.audit_log.dto import phrase

    assert phrase("document.list", {"count": 3, "filters": [], "header": ["header", "allergies"]}) == \
        "Opened your record and looked at your list of documents"
    assert phrase("document.list", {"count": 3, "filters": ["source"]}) == "Looked at your list of documents"
    assert phrase("patient.demographics.read", {"sections": ["demographics", "insurance", "header"]}) == \
        "Opened your record"
