"""What opening a documents page costs and what it tells the patient.

A 25-row page takes a fixed handful of SQL statements whatever the role, sort or filter (counted
with a ``before_cursor_execute`` listener, on SQLite and PostgreSQL alike): the policy is asked once
per list, not per row, and nothing is read row by row. The chart pages' documents page reads a small
header (name, age, MRN, allergy names) instead of the whole chart, so the patient's access log says
their documents were looked at — not their health history.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta

import pytest

from patient_portal.core.db import unit_of_work, utcnow
from patient_portal.domain.audit_log.service import own_access_log
from patient_portal.domain.documents import service as svc
from patient_portal.domain.history.models import Allergy
from patient_portal.domain.identity.sessions import actor_for
from patient_portal.domain.patients.header import chart_header
from tests.integration.documents.conftest import PDF_BYTES, PNG_BYTES
from tests.integration.identity_support import client, login, make_user
from tests.integration.patients_support import call, draft, register
from tests.integration.sql_counter import statements as _statements

#: The most statements one page of documents may take (SQLite counts its BEGIN IMMEDIATE; PostgreSQL
#: its audit-chain lock instead).
PAGE_STATEMENTS = 6


def _fill(cast, clinical: int = 30, administrative: int = 26) -> None:
    """Lab results by the doctor (some held from the patient) and insurance cards by the front desk."""
    release = (utcnow().date() + timedelta(days=9)).isoformat()
    for i in range(clinical):
        svc.upload(cast.doctor, patient_id=cast.patient_id, filename=f"lab-{i}.pdf", chunks=[PDF_BYTES], meta={
            "category": "lab_result", "title": f"Lab {i:02d}", "source": "City Lab" if i % 3 else "Radiology",
            "service_date": (date(2025, 1, 1) + timedelta(days=i)).isoformat(),
            **({"hold_until": release} if i % 7 == 0 else {})})
    for i in range(administrative):
        svc.upload(cast.staff, patient_id=cast.patient_id, filename=f"card-{i}.png", chunks=[PNG_BYTES],
                   meta={"category": "insurance_card", "title": f"Card {i:02d}", "source": "Front desk"})


@pytest.mark.parametrize("role", ["doctor", "patient", "staff", "admin"])
def test_a_25_row_page_takes_a_fixed_few_statements_for_every_sort_and_filter(cast, role):
    _fill(cast)
    actor = getattr(cast, role)
    asks = [{"sort": sort} for sort in svc.SORTS] + [
        {"source": "lab"}, {"date_from": "2025-01-02", "date_to": "2025-01-28"}, {"page": 2},
        {"category": "lab_result", "sort": "title"}, {"include_removed": True}]
    for ask in asks:
        with _statements() as seen:
            page = svc.list_documents(actor, patient_id=cast.patient_id, **ask)
        assert len(seen) <= PAGE_STATEMENTS, (role, ask, seen)
        if not ask.keys() & {"source", "date_from", "page", "category"}:
            assert len(page.items) == 25, (role, ask)


def test_the_row_flags_still_follow_the_policy_without_asking_it_per_row(cast):
    _fill(cast, clinical=3, administrative=2)
    by_doctor = svc.list_documents(cast.doctor, patient_id=cast.patient_id, sort="title").items
    labs = [d for d in by_doctor if d.category == "lab_result"]
    assert all(d.can_add_version and d.can_delete and d.can_hold for d in labs)
    assert not any(d.can_add_version or d.can_delete for d in by_doctor if d.category == "insurance_card")
    by_patient = svc.list_documents(cast.patient, patient_id=cast.patient_id).items
    assert not any(d.can_add_version or d.can_delete or d.can_hold for d in by_patient)  # not theirs
    by_staff = svc.list_documents(cast.staff, patient_id=cast.patient_id).items
    assert {d.category for d in by_staff} == {"insurance_card"}
    assert all(d.can_add_version and d.can_delete and not d.can_hold for d in by_staff)


# ---------------------------------------------------------------- the chart pages' documents page


def _state_for(cls, cookie: str, path: str):
    from reflex.state import State
    from reflex_base import constants

    root = State(_reflex_internal_init=True)
    root._update_router_vars({constants.RouteVar.HEADERS: {"cookie": cookie, "origin": "http://localhost:3000"},
                              constants.RouteVar.PATH: "/chart/[patient_id]/documents", constants.RouteVar.ORIGIN: path,
                              constants.RouteVar.CLIENT_IP: "127.0.0.1"}, {})
    state = root
    for name in cls.get_full_name().split(".")[1:]:
        state = state.substates[name]
    return state


def test_the_documents_page_reads_a_header_and_the_patient_sees_documents_not_history(db):
    from patient_portal.core.access import CareTeamMember
    from patient_portal.state.chart_header import ChartHeaderState
    from patient_portal.state.documents import DocumentsState

    staff = actor_for(make_user("front@clinic.org", "staff"))
    record = register(draft(), by=staff)
    pid = record.patient_id
    patient = actor_for(make_user("elena@example.com", "patient", patient_id=pid))
    doctor_user = make_user("dana@clinic.org", "doctor")
    with unit_of_work() as session:
        session.add(CareTeamMember(patient_id=pid, user_id=doctor_user.id))
        session.add(Allergy(id=uuid.uuid4(), patient_id=pid, substance="Penicillin", severity="severe"))
    svc.upload(actor_for(doctor_user), patient_id=pid, filename="lab.pdf", chunks=[PDF_BYTES],
               meta={"category": "lab_result", "title": "Blood panel", "source": "City Lab"})
    web = client()
    login(web, "dana@clinic.org")
    cookie = f"portal_session={web.cookies.get('portal_session')}"

    state = _state_for(DocumentsState, cookie, f"/chart/{pid}/documents")
    with _statements() as seen:
        asyncio.run(DocumentsState.event_handlers["load_chart"].fn(state))
    assert state.status == "ok", state.status
    header = asyncio.run(state.get_state(ChartHeaderState))  # the one header state, filled by the same read
    assert header.header_status == "ok" and header.patient_ref == str(pid) == state.patient_ref
    assert header.patient["mrn"] == record.mrn and header.patient["age_text"] and header.patient["name"]
    assert header.allergies == ["Latex", "Penicillin"] and header.show_allergies  # registered, then added
    assert [r["title"] for r in state.rows] == ["Blood panel"]
    assert not any("history_condition" in s or "history_medication" in s for s in seen)  # no chart read

    log = [row.what for row in call(own_access_log, patient).rows]
    # one entry for the page (header and list read in one unit), saying both
    assert log[0] == "Opened your record and looked at your list of documents", log
    assert "Opened your record" not in log and "Looked at your list of documents" not in log, log
    assert not any("health history" in what for what in log), log

    asyncio.run(DocumentsState.event_handlers["next_page"].fn(state))  # one page: nothing read
    asyncio.run(DocumentsState.event_handlers["set_sort"].fn(state, "title"))  # a list read on its own
    assert [row.what for row in call(own_access_log, patient).rows][0] == "Looked at your list of documents"


def test_the_header_read_is_audited_as_a_header_and_refused_off_the_care_team(cast):
    from patient_portal.core.access import AccessDenied

    header = call(chart_header, cast.doctor, cast.patient_id)
    assert header.patient["name"] and header.allergies == []
    assert set(header.patient) == {"id", "mrn", "name", "given_name", "family_name", "dob_display", "age", "sex",
                                   "status"}  # nothing else: no contact details
    assert call(chart_header, cast.staff, cast.patient_id).allergies is None  # staff see no clinical data
    with pytest.raises(AccessDenied):
        call(chart_header, cast.other_doctor, cast.patient_id)
