"""Reports (issue 17): each report's figures on seeded rows, small counts suppressed, the filters,
admins only (the page's handlers and the CSV and PDF downloads), every opening and export audited."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from patient_portal.core import audit, crypto
from patient_portal.core.access import AccessDenied, Actor, Role
from patient_portal.core.db import unit_of_work
from patient_portal.core.errors import Invalid
from patient_portal.domain.appointments.models import Appointment, VisitType
from patient_portal.domain.billing.models import Charge, Claim, ClaimLine, LedgerEntry, Payer, Payment
from patient_portal.domain.identity.models import User
from patient_portal.domain.patients import indexes
from patient_portal.domain.patients.models import Patient
from patient_portal.domain.reports import service
from patient_portal.state.reports import ReportsState
from tests.integration.identity_support import client, events, login, make_user
from tests.integration.test_chart_screens import _handle, _state

FEB = {"start": "2026-02-01", "end": "2026-02-28"}
ADMIN = Actor(user_id=uuid.uuid4(), role=Role.ADMIN, display_name="Admin")


def _at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def _patients(s, n: int, born: int, created: date) -> list[uuid.UUID]:
    ids = []
    for _ in range(n):
        p = Patient(mrn=f"T{uuid.uuid4().hex[:10]}", given_name="Test", family_name="Person",
                    date_of_birth=date(born, 6, 1), sex="female", created_at=_at(created))
        indexes.apply(s, p)
        s.add(p)
        ids.append(p.id)
    return ids


@pytest.fixture
def clinic(db):
    """Patients, accounts, appointments, claims, payments and reads of February 2026 (UTC clinic)."""
    ada, bo = uuid.uuid4(), uuid.uuid4()
    with unit_of_work() as s:
        s.add(User(id=ada, email="ada@clinic.test", role="doctor", display_name="Dr. Ada"))
        s.add(User(id=bo, email="bo@clinic.test", role="doctor", display_name="Dr. Bo"))
        feb = _patients(s, 12, 1980, date(2026, 2, 10))  # 12 registrations on 10 Feb; age 46
        kids = _patients(s, 3, 2015, date(2026, 2, 20))  # 3 on 20 Feb; age 11
        old = _patients(s, 11, 1950, date(2025, 6, 1))  # before the range; age 76
        s.flush()
        for i, pid in enumerate(feb):
            s.add(User(email=f"p{i}@mail.test", role="patient", display_name="P", patient_id=pid,
                       mfa_enabled=i < 4, created_at=_at(date(2026, 2, 12))))
        follow = VisitType(code="follow_up", name="Follow-up")
        s.add(follow)
        s.flush()
        slots = iter(_at(date(2026, 2, 2 + i // 8), 8 + i % 8) for i in range(100))
        for status, n, doctor in (("fulfilled", 14, ada), ("noshow", 11, ada), ("cancelled", 5, ada),
                                  ("booked", 2, bo)):
            for _ in range(n):
                start = next(slots)
                s.add(Appointment(patient_id=feb[0] if doctor == ada else kids[0], doctor_id=doctor,
                                  visit_type_id=follow.id, start_at=start, end_at=start + timedelta(minutes=20),
                                  blocked_until=start + timedelta(minutes=20), status=status))
        march = _at(date(2026, 3, 3))
        s.add(Appointment(patient_id=feb[1], doctor_id=ada, visit_type_id=follow.id, start_at=march,
                          end_at=march + timedelta(minutes=20), blocked_until=march + timedelta(minutes=20),
                          status="noshow"))
        acme, blue = Payer(payer_code="ACME", name="Acme Health"), Payer(payer_code="BLUE", name="Blue Plan")
        s.add_all([acme, blue])
        s.flush()
        remit = uuid.uuid4()
        claims = ([(acme, ada, "denied", "197", date(2026, 2, 3), 10000, 0)] * 11
                  + [(acme, ada, "paid", None, date(2026, 2, 3), 0, 0)] * 11
                  + [(blue, bo, "paid", None, date(2026, 2, 3), 0, 2500)] * 2
                  + [(blue, bo, "denied", "50", date(2025, 11, 1), 10000, 0)]
                  + [(blue, bo, "draft", None, date(2026, 2, 3), 0, 0)] * 2)
        for n, (payer, doctor, status, reason, posted, owed, share) in enumerate(claims):
            charge = Charge(patient_id=old[n % 11], rendering_provider_id=doctor, service_date=posted, posted_on=posted,
                            code="99213", description="Visit", amount_cents=10000, insurance_balance_cents=owed,
                            patient_balance_cents=share, payer_id=payer.id)
            claim = Claim(claim_number=f"C{n:05d}", patient_id=charge.patient_id, payer_id=payer.id, status=status,
                          member_id="M1", service_from=posted, total_cents=10000, rendering_provider_id=doctor,
                          created_at=_at(date(2026, 2, 4)),
                          adjudicated_at=None if status == "draft" else _at(date(2026, 2, 15)))
            s.add_all([charge, claim])
            s.flush()
            s.add(ClaimLine(claim_id=claim.id, charge_id=charge.id, line_number=1, charge_cents=10000,
                            status="denied" if reason else "open",
                            adjustments=[{"group": "CO", "reason": reason, "cents": 10000}] if reason else []))
            if payer is acme and status == "paid":
                s.add(LedgerEntry(patient_id=charge.patient_id, charge_id=charge.id, claim_id=claim.id,
                                  bucket="insurance", kind="insurance_payment", amount_cents=-7500,
                                  remittance_id=remit, created_at=_at(date(2026, 2, 16))))
        for n, (method, kind) in enumerate([("card_online", "payment")] * 12 + [("cash", "payment")] * 2
                                           + [("card_desk", "refund")]):
            s.add(Payment(patient_id=feb[n % 12], method=method, kind=kind, amount_cents=2500,
                          receipt_number=f"R{n:05d}", created_at=_at(date(2026, 2, 18))))
    return {"ada": ada, "bo": bo, "feb": feb, "old": old}


def _open(params=None, actor=ADMIN):
    with unit_of_work() as s:
        page = service.open_reports(s, actor, params if params is not None else FEB)
    return page, {r.key: r for r in page.reports}


def test_registrations_by_day_suppress_small_counts(clinic):
    page, reports = _open()
    r = reports["registrations"]
    assert r.columns == ["Period", "New patients"]
    rows = dict(map(tuple, r.rows))
    assert len(r.rows) == 28 and rows["2026-02-10"] == "12" and rows["2026-02-20"] == "<11"
    assert rows["2026-02-11"] == "0" and r.suppressed
    chart = {c["label"]: c["value"] for c in r.chart}
    assert chart["2026-02-10"] == 12 and chart["2026-02-20"] is None  # a gap, never a made-up number
    assert page.start == "2026-02-01" and page.end == "2026-02-28"


def test_registrations_by_month_over_a_longer_range(clinic):
    _, reports = _open({"start": "2025-06-01", "end": "2026-02-28"})
    rows = dict(map(tuple, reports["registrations"].rows))
    assert rows["2025-06"] == "11" and rows["2026-02"] == "15" and rows["2025-07"] == "0"


def test_portal_adoption_counts_accounts_and_mfa(clinic):
    rows = _open()[1]["adoption"].rows
    assert rows[0] == ["Patients with a portal account", "12", "26", "46.2%"]
    assert rows[1] == ["Patient accounts with MFA on", "<11", "12", "—"]  # 4 of 12: suppressed, so is the share
    assert rows[3] == ["New portal accounts in the period", "12", "", ""]


def test_appointments_and_no_show_rate_by_doctor_and_visit_type(clinic):
    r = _open()[1]["appointments"]
    assert r.rows == [["Dr. Ada", "Follow-up", "25", "11", "44.0%"],  # cancelled and March left out
                      ["Dr. Bo", "Follow-up", "<11", "0", "—"]]
    assert {c["label"]: (c["value"], c["value2"]) for c in r.chart} == {"Dr. Ada": (25, 11), "Dr. Bo": (None, 0)}
    only_bo = _open({**FEB, "doctor": str(clinic["bo"])})[1]["appointments"]
    assert only_bo.rows == [["Dr. Bo", "Follow-up", "<11", "0", "—"]]


def test_claims_by_status_with_billed_money(clinic):
    r = _open()[1]["claims"]
    assert r.rows == [["Draft", "<11", "—"], ["Paid", "13", "$1,300.00"], ["Denied", "12", "$1,200.00"]]
    ada = _open({**FEB, "doctor": str(clinic["ada"])})[1]["claims"]
    assert ada.rows == [["Paid", "11", "$1,100.00"], ["Denied", "11", "$1,100.00"]]


def test_denial_rate_by_payer_and_reason(clinic):
    _, reports = _open()
    assert reports["denials"].rows == [["Acme Health", "22", "11", "50.0%"], ["Blue Plan", "<11", "<11", "—"]]
    assert reports["denial_reasons"].rows == [["Acme Health", "197", "11"], ["Blue Plan", "50", "<11"]]
    assert {c["label"]: c["value"] for c in reports["denial_reasons"].chart} == {"197": 11, "50": None}


def test_ar_aging_reuses_billing_buckets(clinic):
    r = _open()[1]["ar_aging"]
    assert r.columns == ["Owed by", "0–30 days", "31–60 days", "61–90 days", "Over 90 days", "Total"]
    assert r.rows[0] == ["Acme Health", "$1,100.00", "$0.00", "$0.00", "$0.00", "$1,100.00"]
    assert r.rows[1] == ["Blue Plan", "$0.00", "$0.00", "$0.00", "$100.00", "$100.00"]  # posted 1 Nov: 119 days
    assert r.rows[2] == ["Patients (their share)", "$50.00", "$0.00", "$0.00", "$0.00", "$50.00"]
    assert r.rows[3] == ["Total", "$1,150.00", "$0.00", "$0.00", "$100.00", "$1,250.00"]


def test_payments_by_method_and_insurance(clinic):
    r = _open()[1]["payments"]
    rows = {row[0]: row[1:] for row in r.rows}
    assert rows["Card (online)"] == ["12", "$300.00"]
    assert rows["Cash"] == ["<11", "—"] and rows["Card (at the desk) — refunds"] == ["<11", "—"]
    assert rows["Insurance (remittances)"] == ["1", "$825.00"]
    day = {c["label"]: (c["value"], c["value2"]) for c in r.chart}
    assert day["2026-02-18"] == (325.0, 0.0) and day["2026-02-16"] == (0.0, 825.0)


def test_patients_by_age_band_from_the_birth_year(clinic):
    with unit_of_work() as s:
        assert s.get(Patient, clinic["feb"][0]).birth_year == 1980  # set with the blind indexes
    rows = dict(map(tuple, _open()[1]["age_bands"].rows))
    assert rows["35–49"] == "12" and rows["0–17"] == "<11" and rows["75–89"] == "11" and rows["90 and over"] == "0"


def _read(actor_id, role, at, patient_id, action="patient.clinical.read"):
    with unit_of_work() as s:
        values = audit._values(s, Actor(user_id=actor_id, role=Role(role)), action, crypto.get_keyring(),
                               patient_id=patient_id, object_type="patient", object_id=patient_id)
        values["at"] = at
        audit._lock_chain(s)
        audit.append_chained(s, values, crypto.get_keyring())


def test_access_anomalies_off_hours_emergency_and_unusual_reads(clinic):
    ada, bo, staff = clinic["ada"], clinic["bo"], uuid.uuid4()
    weekday = date(2026, 2, 4)  # a Wednesday
    for i in range(60):
        _read(ada, "doctor", _at(weekday, 9, i % 60), clinic["feb"][i % 12])
    for hour in (6, 20, 22):
        _read(bo, "doctor", _at(weekday, hour), clinic["feb"][0])
    _read(bo, "doctor", _at(date(2026, 2, 7), 11), clinic["feb"][1])  # a Saturday
    _read(bo, "doctor", _at(weekday, 12), clinic["feb"][2], action="emergency_access.start")
    for _ in range(5):
        _read(staff, "staff", _at(weekday, 10), clinic["feb"][3])
    rows = {row[0]: row[1:] for row in _open()[1]["anomalies"].rows}
    assert rows["Dr. Ada"] == ["Doctor", "60", "12", "0", "0", "Yes"]  # over 3× the median (5) and 50
    assert rows["Dr. Bo"] == ["Doctor", "4", "2", "4", "1", "No"]  # 06:00, 20:00, 22:00 and a Saturday
    assert rows["Unknown user"] == ["Staff", "5", "1", "0", "0", "No"]
    only_bo = _open({**FEB, "doctor": str(bo)})[1]["anomalies"]
    assert [r[0] for r in only_bo.rows] == ["Dr. Bo"]


def test_empty_period_shows_nothing_and_bad_filters_are_refused(clinic):
    _, reports = _open({"start": "2020-01-01", "end": "2020-01-31"})
    for key in ("registrations", "appointments", "claims", "denials", "denial_reasons", "payments", "anomalies"):
        assert reports[key].rows == [], key
    for params, field in (({"start": "2026-03-01", "end": "2026-02-01"}, "end"), ({"start": "soon"}, "start"),
                          ({**FEB, "doctor": "nobody"}, "doctor"), ({**FEB, "doctor": str(uuid.uuid4())}, "doctor"),
                          ({"start": "2020-01-01", "end": "2026-01-01"}, "start")):
        with pytest.raises(Invalid) as err:
            _open(params)
        assert field in err.value.errors


@pytest.mark.parametrize("role", [Role.STAFF, Role.DOCTOR, Role.PATIENT])
def test_only_admins_open_reports_and_refusals_are_audited(clinic, role):
    other = Actor(user_id=uuid.uuid4(), role=role, patient_id=clinic["feb"][0] if role is Role.PATIENT else None)
    with pytest.raises(AccessDenied) as err:
        _open(actor=other)
    assert "Not permitted" in str(err.value)
    refused = events("reports.open")
    assert refused[-1].outcome == "denied" and refused[-1].actor_id == other.user_id


def test_opening_is_audited_with_the_filters(clinic):
    _open({**FEB, "doctor": str(clinic["ada"])})
    event = events("reports.open")[-1]
    assert event.outcome == "success" and event.actor_id == ADMIN.user_id and event.patient_id is None
    assert event.detail["start"] == "2026-02-01" and event.detail["doctor"] == str(clinic["ada"])


# ---------------------------------------------------------------- downloads


def _signed_in(role: str):
    email = f"{role}-{uuid.uuid4().hex[:6]}@clinic.org"
    make_user(email, role)
    web = client()
    assert login(web, email).status_code == 303
    return web


def test_admin_downloads_a_report_as_csv_and_the_export_is_audited(clinic):
    web = _signed_in("admin")
    resp = web.get("/api/reports/appointments.csv", params=FEB)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/csv")
    assert 'filename="report-appointments-2026-02-01-to-2026-02-28.csv"' in resp.headers["content-disposition"]
    assert resp.headers["cache-control"] == "no-store"
    rows = list(csv.reader(io.StringIO(resp.text)))
    assert rows == [["Doctor", "Visit type", "Appointments", "No-shows", "No-show rate"],
                    ["Dr. Ada", "Follow-up", "25", "11", "44.0%"], ["Dr. Bo", "Follow-up", "<11", "0", "—"]]
    event = events("reports.export")[-1]
    assert event.outcome == "success" and event.object_id == "appointments" and event.detail["format"] == "csv"


def test_admin_downloads_every_report_as_one_pdf(clinic):
    web = _signed_in("admin")
    resp = web.get("/api/reports/reports.pdf", params=FEB)
    assert resp.status_code == 200 and resp.content.startswith(b"%PDF-")
    for words in (b"Clinic reports", b"Appointments and no-shows", b"Dr. Ada", b"Denial rate by payer", b"<11"):
        assert words in resp.content, words
    assert events("reports.export")[-1].detail["format"] == "pdf"


@pytest.mark.parametrize("role", ["staff", "doctor", "patient"])
def test_other_roles_cannot_download_reports(clinic, role):
    web = _signed_in(role)
    for path in ("/api/reports/appointments.csv", "/api/reports/reports.pdf"):
        resp = web.get(path, params=FEB)
        assert resp.status_code == 403 and "Dr. Ada" not in resp.text
    refused = events("reports.export")
    assert len(refused) == 2 and all(e.outcome == "denied" for e in refused)


def test_downloads_need_a_session_and_a_known_report(clinic):
    assert client().get("/api/reports/appointments.csv").status_code == 401
    web = _signed_in("admin")
    assert web.get("/api/reports/nothing.csv").status_code == 404
    assert web.get("/api/reports/claims.csv", params={"start": "2026-03-01", "end": "2026-02-01"}).status_code == 422


# ---------------------------------------------------------------- the page's handlers


async def test_the_page_shows_reports_to_an_admin(clinic):
    state = _state(ReportsState, "boss@clinic.org", "admin", "/admin/reports")
    await _handle(state, "load")
    assert state.status == "ok" and len(state.reports) == len(service.REPORTS)
    await _handle(state, "apply", {**FEB, "doctor": str(clinic["bo"])})
    appts = next(r for r in state.reports if r.key == "appointments")
    assert appts.rows == [["Dr. Bo", "Follow-up", "<11", "0", "—"]] and state.doctor == str(clinic["bo"])
    assert appts.csv_href.startswith("/api/reports/appointments.csv?start=2026-02-01&end=2026-02-28&doctor=")
    await _handle(state, "apply", {"start": "2026-03-01", "end": "2026-02-01", "doctor": "all"})
    assert state.filter_errors["end"] and state.reports  # said under the field; the last reports stay


@pytest.mark.parametrize("role", ["staff", "doctor"])
async def test_the_page_says_not_permitted_to_others(clinic, role):
    state = _state(ReportsState, f"{role}1@clinic.org", role, "/admin/reports")
    await _handle(state, "load")
    assert state.status == "denied" and state.reports == [] and state.error == "Not permitted."
