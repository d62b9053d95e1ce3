"""Emergency information and procedures at the service layer (issue 15 part A): advance directives
with the healthcare agent among the emergency contacts and the signed copy from the documents, code
status by a doctor, special instructions; all of it in the chart header's banner for every role that
sees the chart, with "Emergency in progress" for those on duty; the emergency card; the clinic's
protocols (admins write them); a protocol run for a patient (started by the front desk or a doctor,
steps ticked with their time, closed with an encrypted outcome note, on the timeline, audited with no
text in the details). Every role allowed and refused, another patient's ids refused. Runs on SQLite
and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import text

from patient_portal.core.access import AccessDenied
from patient_portal.core.db import get_engine, unit_of_work
from patient_portal.domain.audit_log.dto import phrase
from patient_portal.domain.documents.models import Document
from patient_portal.domain.emergency import service as emergency
from patient_portal.domain.emergency.dto import EmergencyConflict, EmergencyInvalid, EmergencyNotFound
from patient_portal.domain.patients import header as hdr
from patient_portal.domain.timeline import service as timeline
from tests.integration.emergency_support import emergency_clinic, start
from tests.integration.identity_support import client, login, make_user
from tests.integration.patients_support import call, events
from tests.integration.test_immunization_record import _text as _pdf_text

pytestmark = pytest.mark.usefixtures("db")


@pytest.fixture
def c():
    return emergency_clinic()


def _directive_document(pid: uuid.UUID, title: str = "Signed POA") -> str:
    with unit_of_work() as s:
        doc = Document(patient_id=pid, category="advance_directive", uploaded_by=uuid.uuid4(), title=title)
        s.add(doc)
        s.flush()
        return str(doc.id)


def _save(c, who="staff", patient=None, **kw):
    found = call(emergency.information, c[who], patient_id=patient or c["elena"])
    values = {"directives": [], "instructions": [], **kw}
    return call(emergency.save_information, c[who], patient_id=patient or c["elena"],
                expected_version=found.version, **values)


def _no_text_in_audit(*words: str) -> None:
    details = json.dumps([e.detail for e in events() if e.action.startswith("emergency")])
    assert not [w for w in words if w in details], details


# ---------------------------------------------------------------- emergency information


def test_directives_with_agent_and_signed_copy_code_status_and_instructions(c):
    tom = c["contacts"][0]["id"]
    signed = _directive_document(c["elena"])
    saved = _save(c, "patient", directives=[{"kind": "healthcare_poa", "date": "2023-05-10", "agent_contact_id": tom,
                                             "document_id": signed},
                                            {"kind": "living_will", "date": ""}],
                  instructions="Deaf — write or text\n\nPacemaker\nKeep away from latex")
    assert [d.kind for d in saved.directives] == ["healthcare_poa", "living_will"]
    poa = saved.directives[0]
    assert poa.agent_name == "Tom Marsh (Husband)" and poa.on == date(2023, 5, 10)
    assert poa.document_title.startswith("Signed POA")  # the patient reads clinical documents
    assert saved.instructions == ("Deaf — write or text", "Pacemaker", "Keep away from latex")
    assert saved.code_status == "" and not saved.can_set_code_status
    done = call(emergency.set_code_status, c["doctor"], patient_id=c["elena"], code_status="dnr",
                expected_version=saved.version)
    assert done.code_status == "dnr" and done.can_set_code_status
    desk = call(emergency.information, c["staff"], patient_id=c["elena"])
    assert desk.code_status == "dnr" and desk.directives[0].document_id == signed
    assert desk.directives[0].document_title == ""  # the front desk reads no clinical documents
    assert desk.can_edit and not desk.documents and [x.label for x in desk.contacts][:1] == ["Tom Marsh (Husband)"]
    _no_text_in_audit("Deaf", "Pacemaker", "Tom", "latex")


def test_the_information_is_checked_beside_its_fields(c):
    omars = _directive_document(c["omar"])
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    with pytest.raises(EmergencyInvalid) as bad:
        _save(c, directives=[{"kind": "healthcare_poa"}, {"kind": "living_will", "date": tomorrow},
                             {"kind": "dnr", "agent_contact_id": str(uuid.uuid4())},
                             {"kind": "polst", "document_id": omars}, {"kind": "will"}],
              instructions=["x" * 200])
    assert set(bad.value.errors) == {"directives.0.agent_contact_id", "directives.1.date",
                                     "directives.2.agent_contact_id", "directives.3.document_id", "directives.4.kind",
                                     "instructions"}
    with pytest.raises(EmergencyInvalid):
        call(emergency.set_code_status, c["doctor"], patient_id=c["elena"], code_status="maybe", expected_version=0)
    assert events("emergency.info.write") == []


def test_a_stale_save_is_a_conflict(c):
    _save(c, instructions=["Pacemaker"])
    with pytest.raises(EmergencyConflict):
        call(emergency.save_information, c["patient"], patient_id=c["elena"], directives=[], instructions=["Other"],
             expected_version=0)
    assert call(emergency.information, c["doctor"], patient_id=c["elena"]).instructions == ("Pacemaker",)


@pytest.mark.parametrize("who", ["staff", "doctor", "admin", "patient"])
def test_who_may_write_directives_and_instructions(c, who):
    assert _save(c, who, instructions=["Pacemaker"]).instructions == ("Pacemaker",)


@pytest.mark.parametrize("who", ["outsider", "omar_patient"])
def test_strangers_and_other_patients_may_not_read_or_write(c, who):
    for fn, kw in ((emergency.information, {}), (emergency.save_information,
                                                  {"directives": [], "instructions": [], "expected_version": 0}),
                   (emergency.emergency_card, {})):
        with pytest.raises(AccessDenied):
            call(fn, c[who], patient_id=c["elena"], **kw)
    refused = [e for e in events() if e.outcome == "denied"]
    assert {e.action for e in refused} == {"emergency.info.read", "emergency.info.write", "emergency.card.print"}


@pytest.mark.parametrize("who", ["staff", "admin", "patient", "outsider"])
def test_only_a_care_team_doctor_orders_the_code_status(c, who):
    with pytest.raises(AccessDenied):
        call(emergency.set_code_status, c[who], patient_id=c["elena"], code_status="dnr", expected_version=0)
    assert [e.outcome for e in events("emergency.code_status.write")] == ["denied"]


def test_the_header_banner_shows_it_to_every_role_that_sees_the_chart(c):
    saved = _save(c, directives=[{"kind": "dnr", "date": "2024-01-02"}], instructions=["Deaf — write or text"])
    call(emergency.set_code_status, c["doctor"], patient_id=c["elena"], code_status="dnr",
         expected_version=saved.version)
    start(c)
    for who in ("staff", "doctor", "admin", "patient"):
        banner = call(hdr.chart_header, c[who], c["elena"]).emergency
        assert banner.code_status == "dnr" and banner.directives == ("Do not resuscitate (DNR)",)
        assert banner.instructions == ("Deaf — write or text",)
        assert (banner.run_title == "Anaphylaxis") is (who != "patient")  # on duty: not the patient
    shown = events("patient.demographics.read")[-1]
    assert "emergency" in shown.detail["sections"]


def test_the_patient_prints_their_card_and_the_route_refuses_others(c):
    from patient_portal.domain.identity import service as identity

    tom = c["contacts"][0]["id"]
    saved = _save(c, "patient", directives=[{"kind": "healthcare_poa", "date": "2023-05-10", "agent_contact_id": tom}],
                  instructions=["Pacemaker"])
    call(emergency.set_code_status, c["doctor"], patient_id=c["elena"], code_status="full_code",
         expected_version=saved.version)
    user = make_user("elena@example.com", "patient")
    with unit_of_work() as s:
        identity.link_patient_system(s, user.id, c["elena"])
    mine = client()
    assert login(mine, "elena@example.com").status_code == 303
    url = f"/api/patients/{c['elena']}/emergency-card.pdf"
    answer = mine.get(url)
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
    assert answer.headers["cache-control"] == "no-store"
    words = _pdf_text(answer.content)
    for said in ("EMERGENCY CARD", "Elena Marsh", "Full code", "Healthcare power of attorney",
                 "Healthcare agent: Tom Marsh (Husband)", "Pacemaker", "Latex", "Rosa Marsh", "42348-3"):
        assert said in words, said
    assert client().get(url).status_code == 401
    assert mine.get(f"/api/patients/{c['omar']}/emergency-card.pdf").status_code == 403
    desk = call(emergency.emergency_card, c["staff"], patient_id=c["elena"])
    assert "Allergies" not in _pdf_text(desk[1])  # the front desk does not read clinical data
    assert [e.detail["export"] for e in events("emergency.card.print") if e.outcome == "success"] == ["pdf", "pdf"]


# ---------------------------------------------------------------- protocols


def test_the_four_starter_protocols_and_the_admins_editor(c):
    assert sorted(c["protocols"]) == ["Anaphylaxis", "Cardiac arrest", "Fire evacuation", "Patient fall"]
    assert {s["who"] for s in c["protocols"]["Anaphylaxis"].steps} == {"anyone", "nurse", "doctor", "front_desk"}
    made = call(emergency.save_protocol, c["admin"], values={
        "name": "Seizure", "description": "", "notify_contacts": True,
        "steps": [{"text": "Time the seizure", "who": "nurse"}, {"text": "Protect the head", "who": "anyone"},
                  {"text": "", "who": "anyone"}]})
    assert [s["text"] for s in made.steps] == ["Time the seizure", "Protect the head"] and made.version == 1
    changed = call(emergency.save_protocol, c["admin"], protocol_id=made.id, expected_version=1,
                   values={**made.form(), "name": "Seizure (adult)"})
    assert changed.name == "Seizure (adult)" and changed.version == 2
    with pytest.raises(EmergencyConflict):
        call(emergency.save_protocol, c["admin"], protocol_id=made.id, expected_version=1, values=made.form())
    with pytest.raises(EmergencyInvalid) as bad:
        call(emergency.save_protocol, c["admin"], values={"name": "", "steps": [{"text": "Go", "who": "janitor"}]})
    assert set(bad.value.errors) == {"name", "steps.0.who"}
    call(emergency.retire_protocol, c["admin"], protocol_id=made.id, retired=True, expected_version=2)
    assert "Seizure (adult)" not in [p.name for p in call(emergency.protocols, c["doctor"])]
    assert "Seizure (adult)" in [p.name for p in call(emergency.protocols, c["admin"], retired=True)]
    for who in ("staff", "doctor", "patient"):
        with pytest.raises(AccessDenied):
            call(emergency.save_protocol, c[who], values=made.form())
    with pytest.raises(AccessDenied):
        call(emergency.protocols, c["patient"])


# ---------------------------------------------------------------- runs


def test_the_front_desk_runs_a_protocol_ticks_steps_and_closes_it_with_a_note(c):
    run = start(c, notify_contacts=False)
    assert run.status == "active" and len(run.steps) == 10 and run.can_act and run.notify_status == ""
    assert run.steps[0].text == "Call for help and stay with the patient"
    with pytest.raises(EmergencyConflict):
        start(c, "Patient fall", "doctor")  # one at a time
    ticked = call(emergency.tick_step, c["staff"], patient_id=c["elena"], step_id=run.steps[0].id, done=True)
    assert ticked.steps[0].done_at is not None and ticked.steps[0].done_by_name == "Test staff"
    ticked = call(emergency.tick_step, c["doctor"], patient_id=c["elena"], step_id=run.steps[2].id, done=True)
    with pytest.raises(EmergencyInvalid):
        call(emergency.close_run, c["doctor"], patient_id=c["elena"], run_id=run.id, outcome=" ",
             expected_version=run.version)
    closed = call(emergency.close_run, c["doctor"], patient_id=c["elena"], run_id=run.id,
                  outcome="Adrenaline twice; transferred to Mass General by ambulance", expected_version=run.version)
    assert closed.status == "closed" and not closed.can_act and closed.closed_by_name == "Dr. Ada Author"
    with pytest.raises(EmergencyConflict):
        call(emergency.tick_step, c["staff"], patient_id=c["elena"], step_id=run.steps[1].id, done=True)
    page = call(emergency.run_page, c["admin"], patient_id=c["elena"])
    assert page.active is None and [r.outcome for r in page.earlier] == [closed.outcome] and not page.can_start
    assert call(emergency.run_page, c["staff"], patient_id=c["elena"]).can_start
    with get_engine().connect() as conn:
        raw = " ".join(str(v) for row in conn.execute(text("SELECT title, outcome FROM emergency_run")) for v in row)
        raw += " ".join(str(v) for row in conn.execute(text("SELECT text FROM emergency_run_step")) for v in row)
    assert "Anaphylaxis" not in raw and "Mass General" not in raw and "adrenaline" not in raw.lower()
    details = [e.detail for e in events("emergency.run.close")]
    assert details == [{"steps": 10, "steps_done": 2, "version": 2}]
    _no_text_in_audit("Mass General", "Adrenaline", "Anaphylaxis")
    items = call(timeline.timeline, c["doctor"], patient_id=c["elena"], kinds=["emergencies"]).items
    titles = [i.title for i in items]
    assert titles[0] == "Emergency closed: Anaphylaxis" and titles[-1] == "Emergency started: Anaphylaxis"
    assert "Done: Give adrenaline (epinephrine) 0.5 mg IM into the outer thigh" in titles
    assert all(i.link == f"/chart/{c['elena']}/emergency" for i in items)
    assert phrase("emergency.run.start") == "Started an emergency protocol for you"


@pytest.mark.parametrize("who", ["admin", "patient", "outsider", "omar_patient"])
def test_who_may_not_start_a_protocol(c, who):
    with pytest.raises(AccessDenied):
        start(c, who=who)
    assert [e.outcome for e in events("emergency.run.start")] == ["denied"]


@pytest.mark.parametrize("who", ["patient", "outsider", "omar_patient"])
def test_who_may_not_read_the_runs(c, who):
    start(c, notify_contacts=False)
    with pytest.raises(AccessDenied):
        call(emergency.run_page, c[who], patient_id=c["elena"])


def test_another_patients_run_and_steps_are_not_found(c):
    run = start(c, notify_contacts=False)
    call(emergency.start_run, c["outsider"], patient_id=c["omar"], protocol_id=c["protocols"]["Patient fall"].id,
         notify_contacts=False)
    with pytest.raises(EmergencyNotFound):  # Elena's step named under Omar's record
        call(emergency.tick_step, c["outsider"], patient_id=c["omar"], step_id=run.steps[0].id, done=True)
    with pytest.raises(EmergencyNotFound):
        call(emergency.close_run, c["outsider"], patient_id=c["omar"], run_id=run.id, outcome="x",
             expected_version=1)
    with pytest.raises(AccessDenied):  # and under her own, he is not on her care team
        call(emergency.tick_step, c["outsider"], patient_id=c["elena"], step_id=run.steps[0].id, done=True)


def test_only_a_doctor_chooses_to_notify_the_contacts(c):
    run = start(c, notify_contacts=False)
    for who in ("staff", "admin", "outsider"):
        with pytest.raises(AccessDenied):
            call(emergency.notify_contacts, c[who], patient_id=c["elena"], run_id=run.id)
    done = call(emergency.notify_contacts, c["doctor"], patient_id=c["elena"], run_id=run.id)
    assert done.notify_status == "notifying" and [n.name for n in done.notices] == ["Tom Marsh"]
    with pytest.raises(EmergencyConflict):
        call(emergency.notify_contacts, c["doctor"], patient_id=c["elena"], run_id=run.id)
