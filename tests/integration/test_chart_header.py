"""The chart header (issue 11 §3): one service, one state, read by every /chart/<id>/… page.

What each role sees in it, that a foreign id is refused (and the refusal audited), that it takes a
small fixed number of statements whatever the size of the record, and that the patient's access log
words it as "Opened your record" — not as a look at the health history.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta

import pytest
from sqlmodel import select

from patient_portal.core.access import AccessDenied, Role
from patient_portal.core.db import unit_of_work
from patient_portal.domain.audit_log.service import own_access_log
from patient_portal.domain.documents.models import Document
from patient_portal.domain.history.models import Allergy
from patient_portal.domain.identity.sessions import actor_for
from patient_portal.domain.insurance.models import InsurancePolicy
from patient_portal.domain.patients import header as hdr
from patient_portal.domain.patients.common import PatientNotFound
from tests.integration.identity_support import client, events, login, make_user
from tests.integration.patients_support import DOCTOR, STAFF, actor, call, draft, put_on_care_team, register
from tests.integration.sql_counter import statements as _statements

pytestmark = pytest.mark.usefixtures("db")

#: The header's own reads may take at most this many statements (the brief's bound) ...
READ_LIMIT = 5
#: ... and the whole unit, with its BEGIN (SQLite) or chain lock (PostgreSQL) and the audit append.
UNIT_LIMIT = READ_LIMIT + 3


def _reads(seen: list[str]) -> list[str]:
    """The statements that read the header: not the transaction's BEGIN, not the audit append."""
    return [s for s in seen if not s.lstrip().upper().startswith("BEGIN") and "audit_event" not in s
            and "pg_advisory" not in s and "LOCK TABLE" not in s.upper()]


def _directive(pid: uuid.UUID, status: str = "active") -> None:
    with unit_of_work() as s:
        s.add(Document(patient_id=pid, category="advance_directive", uploaded_by=uuid.uuid4(), status=status,
                       title="Living will"))


@pytest.fixture
def chart():
    """Elena Marsh (Latex allergy, Tufts Health, born 1979), a doctor on her care team, one not on it."""
    staff = actor(STAFF)
    record = register(draft(), by=staff)
    doctor, stranger = actor(DOCTOR), actor(DOCTOR)
    put_on_care_team(doctor, record.patient_id)
    me = actor(Role.PATIENT, patient_id=record.patient_id)
    return {"pid": record.patient_id, "mrn": record.mrn, "staff": staff, "doctor": doctor, "stranger": stranger,
            "patient": me, "admin": actor(Role.ADMIN)}


def _age(born: date) -> str:
    today = date.today()
    return str(today.year - born.year - ((today.month, today.day) < (born.month, born.day)))


def test_a_care_team_doctor_sees_name_age_mrn_allergies_the_directive_and_active_insurance(chart):
    _directive(chart["pid"])
    header = call(hdr.chart_header, chart["doctor"], chart["pid"])
    assert header.patient["name"] == "Elena Marsh" and header.patient["mrn"] == chart["mrn"]
    assert header.patient["age"] == _age(date(1979, 4, 23)) and header.patient["dob_display"] == "23 Apr 1979"
    assert header.patient["sex"] == "female"  # a code: the state layer words it
    assert header.allergies == ["Latex"]
    assert header.alerts == [hdr.ADVANCE_DIRECTIVE]
    assert header.insurance == hdr.INSURED and header.insured is True and header.payer == "Tufts Health"
    assert set(header.patient) == set(hdr.HEADER_FIELDS)  # no contact details, no history


def test_the_front_desk_sees_no_allergies_and_no_clinical_alerts(chart):
    _directive(chart["pid"])
    header = call(hdr.chart_header, chart["staff"], chart["pid"])
    assert header.patient["name"] == "Elena Marsh"
    assert header.allergies is None  # not [] : the part is not theirs, rather than empty
    assert header.alerts is None  # advance directives are clinical documents
    assert header.insured is True


def test_the_patient_sees_their_own_header_and_an_admin_sees_everything(chart):
    _directive(chart["pid"])
    own = call(hdr.chart_header, chart["patient"], chart["pid"])
    assert own.allergies == ["Latex"] and own.alerts == [hdr.ADVANCE_DIRECTIVE] and own.insured is True
    admin = call(hdr.chart_header, chart["admin"], chart["pid"])
    assert admin.allergies == ["Latex"] and admin.alerts == [hdr.ADVANCE_DIRECTIVE]


@pytest.mark.parametrize("who", ["stranger", "other_patient"])
def test_a_foreign_id_is_refused_and_the_refusal_audited(chart, who):
    someone = chart["stranger"] if who == "stranger" else actor(Role.PATIENT, patient_id=uuid.uuid4())
    with pytest.raises(AccessDenied):
        call(hdr.chart_header, someone, chart["pid"])
    refused = [e for e in events("patient.demographics.read") if e.outcome == "denied"]
    assert [(e.actor_id, e.patient_id) for e in refused] == [(someone.user_id, chart["pid"])]
    assert refused[0].detail == {"reason": "not_reached"}


def test_an_unknown_or_malformed_id_is_not_found(chart):
    for ref in (str(uuid.uuid4()), "not-an-id", ""):
        with pytest.raises(PatientNotFound):
            call(hdr.chart_header, chart["admin"], ref)


def test_insurance_status_follows_the_policy_dates_and_removed_directives_do_not_count(chart):
    pid = chart["pid"]
    _directive(pid, status="deleted")
    with unit_of_work() as s:
        policy = s.exec(select(InsurancePolicy).where(InsurancePolicy.patient_id == pid)).one()
        policy.end_date = date.today() - timedelta(days=2)  # yesterday in any time zone
        s.add(policy)
    header = call(hdr.chart_header, chart["doctor"], pid)
    assert header.alerts == [] and header.insurance == hdr.NOT_ACTIVE and header.insured is False
    assert header.payer == ""
    with unit_of_work() as s:
        s.delete(s.get(InsurancePolicy, policy.id))
    assert call(hdr.chart_header, chart["doctor"], pid).insurance == hdr.SELF_PAY


@pytest.mark.parametrize("role", ["doctor", "staff", "patient", "admin"])
def test_the_header_takes_a_fixed_few_statements_however_big_the_record(chart, role):
    pid = chart["pid"]
    with _statements() as small:
        call(hdr.chart_header, chart[role], pid)
    with unit_of_work() as s:  # a much bigger record: more allergies, policies, documents
        for i in range(12):
            s.add(Allergy(id=uuid.uuid4(), patient_id=pid, substance=f"Substance {i}", severity="mild"))
        for order in ("secondary", "tertiary"):
            s.add(InsurancePolicy(patient_id=pid, order=order, payer="Other payer", member_id="M-1",
                                  relationship="self"))
    for _ in range(5):
        _directive(pid)
    with _statements() as big:
        header = call(hdr.chart_header, chart[role], pid)
    assert len(_reads(big)) <= hdr.READS <= READ_LIMIT, _reads(big)
    assert len(big) == len(small) <= UNIT_LIMIT, big
    assert not any("history_condition" in s or "history_medication" in s or "emergency_contact" in s for s in big)
    if role != "staff":
        assert len(header.allergies) == 13


def test_the_patient_reads_opened_your_record_not_the_health_history(chart):
    call(hdr.chart_header, chart["doctor"], chart["pid"])
    shown = events("patient.demographics.read")[-1]
    assert shown.detail == {"sections": ["header", "allergies", "alerts", "insurance", "emergency"]}
    assert shown.basis == "care_team" and shown.purpose == "treatment"
    log = [row.what for row in call(own_access_log, chart["patient"]).rows]
    assert log[0] == "Opened your record"
    assert not any("health history" in what for what in log), log


# ---------------------------------------------------------------- the header state


def _state_for(cls, cookie: str, path: str):
    from reflex.state import State
    from reflex_base import constants

    root = State(_reflex_internal_init=True)
    root._update_router_vars({constants.RouteVar.HEADERS: {"cookie": cookie, "origin": "http://localhost:3000"},
                              constants.RouteVar.PATH: "/chart/[pid]", constants.RouteVar.ORIGIN: path,
                              constants.RouteVar.CLIENT_IP: "127.0.0.1"}, {})
    state = root
    for name in cls.get_full_name().split(".")[1:]:
        state = state.substates[name]
    return state


def _cookie(email: str, role: str, **kw) -> str:
    make_user(email, role, **kw)
    web = client()
    login(web, email)
    return f"portal_session={web.cookies.get('portal_session')}"


def test_the_header_state_reads_the_id_from_the_address_and_words_what_it_shows(chart):
    from patient_portal.state.chart_header import ChartHeaderState, chart_id_in

    assert chart_id_in(f"/chart/{chart['pid']}/documents") == str(chart["pid"])
    assert chart_id_in("/chart/") == "" and chart_id_in("/patient/record") == ""
    pid = chart["pid"]
    _directive(pid)
    doctor = make_user("dana@clinic.org", "doctor")
    put_on_care_team(actor_for(doctor), pid)
    web = client()
    login(web, "dana@clinic.org")
    state = _state_for(ChartHeaderState, f"portal_session={web.cookies.get('portal_session')}",
                       f"/chart/{pid}/documents")
    asyncio.run(ChartHeaderState.event_handlers["load"].fn(state))
    assert state.header_status == "ok" and state.patient_ref == str(pid)
    assert state.patient["sex"] == "Female" and state.patient["age_text"] == _age(date(1979, 4, 23)) + " years"
    assert state.patient["dob_display"] == "23 Apr 1979" and state.patient["mrn"] == chart["mrn"]
    assert state.allergies == ["Latex"] and state.show_allergies
    assert state.alerts == ["Advance directive on file"]
    assert state.insurance == "Insured: Tufts Health" and state.insured and state.show_insurance


def test_the_header_state_shows_the_front_desk_no_clinical_parts_and_refuses_a_foreign_id(chart):
    from patient_portal.state.chart_header import ChartHeaderState

    _directive(chart["pid"])
    state = _state_for(ChartHeaderState, _cookie("front@clinic.org", "staff"), f"/chart/{chart['pid']}")
    asyncio.run(ChartHeaderState.event_handlers["load"].fn(state))
    assert state.header_status == "ok" and not state.show_allergies and state.allergies == []
    assert state.alerts == [] and state.show_insurance

    other = register(draft(given_name="Oona", family_name="Other", email="oona@example.com",
                           phone_mobile="+1 617 555 0199"), by=chart["staff"])
    state = _state_for(ChartHeaderState, _cookie("dr.out@clinic.org", "doctor"), f"/chart/{other.patient_id}")
    asyncio.run(ChartHeaderState.event_handlers["load"].fn(state))
    assert state.header_status == "denied" and state.patient == {} and state.allergies == []


def test_the_patient_record_page_reads_the_patients_own_header(chart):
    from patient_portal.state.chart_header import ChartHeaderState

    cookie = _cookie("elena@example.com", "patient", patient_id=chart["pid"])
    state = _state_for(ChartHeaderState, cookie, "/patient/record")
    asyncio.run(ChartHeaderState.event_handlers["load_own"].fn(state))
    assert state.header_status == "ok" and state.patient["name"] == "Elena Marsh" and state.allergies == ["Latex"]
    asyncio.run(ChartHeaderState.event_handlers["refresh"].fn(state))  # after a change on the page
    assert state.header_status == "ok" and state.patient["name"] == "Elena Marsh"


# ---------------------------------------------------------------- opening a chart page: one entry


def _reads_of(pid) -> list:
    return [e for e in events() if e.patient_id == pid and (e.action.endswith(".read") or e.action == "document.list")]


@pytest.mark.parametrize("role", ["doctor", "staff", "admin"])
def test_opening_the_chart_reads_header_and_chart_in_one_unit_with_one_event(chart, role):
    _directive(chart["pid"])
    before = len(_reads_of(chart["pid"]))
    header, opened = call(hdr.open_chart, chart[role], chart["pid"])
    assert header.patient["name"] == "Elena Marsh" and opened["patient"]["mrn"] == chart["mrn"]
    reads = _reads_of(chart["pid"])[before:]
    assert [e.action for e in reads] == ["patient.demographics.read"], reads
    sections = reads[0].detail["sections"]
    if role == "staff":  # what the front desk was shown, and nothing clinical
        assert set(sections) == {"demographics", "insurance", "emergency", "header"}, sections
    else:
        assert {"demographics", "clinical", "header", "allergies", "alerts", "insurance"} <= set(sections)
    assert len(sections) == len(set(sections))


def test_the_patient_reads_one_entry_per_chart_opened(chart):
    for _ in range(2):
        call(hdr.open_chart, chart["doctor"], chart["pid"])
    call(hdr.open_chart, chart["staff"], chart["pid"])
    log = [row.what for row in call(own_access_log, chart["patient"]).rows]
    assert log[:3] == ["Opened your record", "Opened your record, including your health history",
                       "Opened your record, including your health history"], log


def test_opening_a_foreign_chart_is_refused_once_and_shows_nothing(chart):
    with pytest.raises(AccessDenied):
        call(hdr.open_chart, chart["stranger"], chart["pid"])
    mine = [e for e in events() if e.actor_id == chart["stranger"].user_id]
    assert [(e.action, e.outcome) for e in mine] == [("patient.demographics.read", "denied")]


def test_opening_the_chart_page_fills_the_header_and_writes_one_access_log_entry(chart):
    from patient_portal.state.chart import ChartState
    from patient_portal.state.chart_header import ChartHeaderState

    pid = chart["pid"]
    _directive(pid)
    doctor = make_user("dana@clinic.org", "doctor")
    put_on_care_team(actor_for(doctor), pid)
    web = client()
    login(web, "dana@clinic.org")
    state = _state_for(ChartState, f"portal_session={web.cookies.get('portal_session')}", f"/chart/{pid}")
    before = len(call(own_access_log, chart["patient"]).rows)
    asyncio.run(ChartState.event_handlers["load"].fn(state))  # the page's whole on_load, after the guard
    assert state.status == "ok"
    header = asyncio.run(state.get_state(ChartHeaderState))
    assert header.header_status == "ok" and header.patient_ref == str(pid) and header.allergies == ["Latex"]
    assert header.alerts == ["Advance directive on file"] and header.insured
    log = call(own_access_log, chart["patient"]).rows
    assert len(log) == before + 1, [r.what for r in log]
    assert log[0].what == "Opened your record, including your health history"
    shown = [e for e in events("patient.demographics.read") if e.actor_id == doctor.id]
    assert len(shown) == 1 and {"clinical", "header", "allergies", "alerts"} <= set(shown[0].detail["sections"])

    asyncio.run(ChartHeaderState.event_handlers["refresh"].fn(header))  # after a change elsewhere: the
    assert header.header_status == "ok" and header.allergies == ["Latex"]  # header alone, read and audited
    assert len(call(own_access_log, chart["patient"]).rows) == before + 2



# ---------------------------------------------------------------- the critical-information banner (issue 12)


def _allergy(pid, substance: str, *, severity: str = "mild", criticality: str | None = None, status: str = "active",
             reaction: str | None = None) -> None:
    with unit_of_work() as s:
        s.add(Allergy(id=uuid.uuid4(), patient_id=pid, substance=substance, severity=severity,
                      criticality=criticality, status=status, reaction=reaction))


@pytest.mark.parametrize("role", ["doctor", "patient", "admin"])
def test_the_banner_names_severe_and_high_criticality_active_allergies_worst_first(chart, role):
    pid = chart["pid"]
    _allergy(pid, "Peanuts", criticality="high")
    _allergy(pid, "Penicillins", severity="severe", reaction="Anaphylaxis")
    _allergy(pid, "Sulfonamides", severity="severe", status="resolved")  # not active: not in the banner
    _allergy(pid, "Dust", severity="moderate", criticality="low")
    header = call(hdr.chart_header, chart[role], pid)
    assert [(c.substance, c.severity, c.criticality, c.reaction) for c in header.critical] == [
        ("Penicillins", "severe", "", "Anaphylaxis"), ("Peanuts", "mild", "high", "")]
    assert "Dust" in header.allergies and "Peanuts" in header.allergies


def test_the_front_desk_sees_no_banner_and_a_calm_record_has_none(chart):
    pid = chart["pid"]
    assert call(hdr.chart_header, chart["doctor"], pid).critical == []  # Latex, mild: no banner entry
    _allergy(pid, "Penicillins", severity="severe")
    assert call(hdr.chart_header, chart["staff"], pid).critical is None


def test_the_banner_costs_no_statement_of_its_own(chart):
    pid = chart["pid"]
    for i in range(6):
        _allergy(pid, f"Severe {i}", severity="severe", reaction="Hives")
    _directive(pid)
    with _statements() as seen:
        header = call(hdr.chart_header, chart["doctor"], pid)
    assert len(header.critical) == 6
    assert len(_reads(seen)) <= hdr.READS <= READ_LIMIT, _reads(seen)


def test_the_header_state_words_the_banner_for_every_chart_page(chart):
    from patient_portal.state.chart_header import ChartHeaderState

    pid = chart["pid"]
    _allergy(pid, "Penicillins", severity="severe", criticality="high", reaction="Anaphylaxis")
    _directive(pid)
    doctor = make_user("dana@clinic.org", "doctor")
    put_on_care_team(actor_for(doctor), pid)
    web = client()
    login(web, "dana@clinic.org")
    state = _state_for(ChartHeaderState, f"portal_session={web.cookies.get('portal_session')}",
                       f"/chart/{pid}/vitals")
    asyncio.run(ChartHeaderState.event_handlers["load"].fn(state))
    assert state.show_banner and state.critical == ["Penicillins — severe, high criticality: Anaphylaxis"]
    assert state.alerts == ["Advance directive on file"]

    front = _state_for(ChartHeaderState, _cookie("front@clinic.org", "staff"), f"/chart/{pid}")
    asyncio.run(ChartHeaderState.event_handlers["load"].fn(front))
    assert front.header_status == "ok" and not front.show_banner and front.critical == []
