"""Visit notes at the service layer (issue 12, Visits): the author writes and signs, signing locks,
corrections are addenda, a stale save is refused with what changed, staff and doctors off the care
team are refused (another patient's ids too), the patient reads summaries of signed notes of their
own record only, every read and write is audited with its purpose, and notes are ciphertext at rest.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from reflex_base.event import EventSpec
from sqlalchemy import text

from patient_portal.core.access import AccessDenied, Role
from patient_portal.core.coding import ICD10_CM
from patient_portal.core.db import get_engine
from patient_portal.domain.identity.sessions import actor_for
from patient_portal.domain.patients.common import PatientNotFound
from patient_portal.domain.visits import service as visits
from patient_portal.models import metadata
from patient_portal.state.chart_header import ChartHeaderState
from patient_portal.state.visits import NEEDS_ATTENTION, VisitsState, WorklistState
from tests.integration.clinic_support import doctor, two_patients
from tests.integration.identity_support import make_user
from tests.integration.patients_support import (
    actor,
    call,
    events,
    put_on_care_team,
    register,
)
from tests.integration.test_chart_screens import _handle, _state

NOTE = {"visit_at": "2026-01-14T09:30", "reason": "Follow-up of raised blood sugar",
        "subjective": "Thirsty for two weeks, no weight loss.", "objective": "BP 128/82, BMI 31.",
        "assessment": "Type 2 diabetes, newly diagnosed.", "plan": "Start metformin 500 mg; diet advice.",
        "diagnoses": [{"system": ICD10_CM, "code": "E11.9", "display": "Type 2 diabetes"}],
        "orders": ["HbA1c in 3 months", "Lipid panel"]}


@pytest.fixture
def clinic(db):
    return two_patients({"author": doctor(), "colleague": doctor("Dr. Cole League")})


def _new(c, who=None, patient=None, **changes):
    return call(visits.create_note, who or c["author"], patient_id=patient or c["elena"], values={**NOTE, **changes})


def _sign(c, note, who=None):
    return call(visits.sign_note, who or c["author"], patient_id=note.patient_id, note_id=note.id,
                expected_version=note.version)


# ---------------------------------------------------------------- the author writes and signs


def test_the_author_writes_saves_and_signs_and_each_step_is_audited(clinic):
    c = clinic
    note = _new(c)
    assert note.status == "draft" and note.version == 1 and note.author_name == "Dr. Ada Author"
    assert note.diagnoses[0].code == "E11.9" and note.diagnoses[0].system == ICD10_CM
    assert note.orders == ("HbA1c in 3 months", "Lipid panel") and note.can_edit and note.can_sign
    assert not note.can_add_addendum

    saved = call(visits.save_draft, c["author"], patient_id=c["elena"], note_id=note.id,
                 values={**note.form(), "plan": "Start metformin 500 mg twice daily."}, expected_version=1)
    assert saved.version == 2 and saved.plan == "Start metformin 500 mg twice daily."

    signed = _sign(c, saved)
    assert signed.status == "signed" and signed.signed_at is not None and signed.version == 3
    assert not signed.can_edit and not signed.can_sign and signed.can_add_addendum

    for what in ("visit.create", "visit.update", "visit.sign"):
        event, = events(what)
        assert event.outcome == "success" and event.patient_id == c["elena"]
        assert event.purpose == "treatment" and event.basis == "care_team"
        assert event.object_id == str(note.id) and "Metformin" not in str(event.detail)
    assert events("visit.update")[0].detail["fields_changed"] == ["plan"]


def test_signing_with_what_is_on_screen_saves_it_in_the_same_unit(clinic):
    c = clinic
    note = _new(c, plan="")
    signed = call(visits.sign_note, c["author"], patient_id=c["elena"], note_id=note.id, expected_version=1,
                  values={**note.form(), "plan": "Review in 4 weeks."})
    assert signed.status == "signed" and signed.plan == "Review in 4 weeks."


def test_a_note_without_assessment_or_plan_cannot_be_signed(clinic):
    c = clinic
    note = _new(c, assessment="", plan=" ")
    with pytest.raises(visits.VisitInvalid) as refused:
        _sign(c, note)
    assert set(refused.value.errors) == {"assessment", "plan"}
    assert call(visits.get_note, c["author"], patient_id=c["elena"], note_id=note.id).status == "draft"


# ---------------------------------------------------------------- signing locks; addenda


def test_a_signed_note_cannot_be_edited_or_signed_again(clinic):
    c = clinic
    signed = _sign(c, _new(c))
    with pytest.raises(visits.NoteLocked) as locked:
        call(visits.save_draft, c["author"], patient_id=c["elena"], note_id=signed.id,
             values={**signed.form(), "plan": "Changed my mind"}, expected_version=signed.version)
    assert "addendum" in str(locked.value)
    with pytest.raises(visits.NoteLocked):
        _sign(c, signed)
    again = call(visits.get_note, c["author"], patient_id=c["elena"], note_id=signed.id)
    assert again.plan == NOTE["plan"] and again.version == signed.version


def test_a_colleague_cannot_edit_or_sign_a_draft_but_adds_an_addendum_once_signed(clinic):
    c = clinic
    note = _new(c)
    seen = call(visits.get_note, c["colleague"], patient_id=c["elena"], note_id=note.id)
    assert not seen.can_edit and not seen.can_sign and not seen.can_add_addendum
    with pytest.raises(AccessDenied):
        call(visits.save_draft, c["colleague"], patient_id=c["elena"], note_id=note.id,
             values={**note.form(), "plan": "Mine now"}, expected_version=1)
    with pytest.raises(AccessDenied):
        _sign(c, note, c["colleague"])
    refusals = [e for e in events() if e.outcome == "denied"]
    assert [(e.action, e.detail["reason"]) for e in refusals] == [("visit.update", "not_author"),
                                                                 ("visit.sign", "not_author")]
    with pytest.raises(visits.NotSigned):
        call(visits.add_addendum, c["colleague"], patient_id=c["elena"], note_id=note.id, text="Early")

    signed = _sign(c, note)
    after = call(visits.add_addendum, c["colleague"], patient_id=c["elena"], note_id=note.id,
                 text="Patient reports metformin upsets her stomach; switch to extended release.")
    addendum, = after.addenda
    assert addendum.author_name == "Dr. Cole League" and addendum.text.startswith("Patient reports")
    assert after.plan == signed.plan and after.version == signed.version  # the note itself is unchanged
    event, = events("visit.addendum")
    assert event.actor_id == c["colleague"].user_id and event.purpose == "treatment"
    with pytest.raises(visits.VisitInvalid) as empty:
        call(visits.add_addendum, c["author"], patient_id=c["elena"], note_id=note.id, text="   ")
    assert "text" in empty.value.errors


# ---------------------------------------------------------------- concurrency


def test_a_stale_save_is_refused_naming_what_changed(clinic):
    c = clinic
    note = _new(c)
    opened = note.form()
    call(visits.save_draft, c["author"], patient_id=c["elena"], note_id=note.id,  # another tab
         values={**opened, "plan": "Plan from the other tab", "orders": ["HbA1c in 3 months"]}, expected_version=1)
    with pytest.raises(visits.VisitConflict) as stale:
        call(visits.save_draft, c["author"], patient_id=c["elena"], note_id=note.id,
             values={**opened, "reason": "A different reason"}, expected_version=1, base=opened)
    assert stale.value.fields == ["plan", "orders"] and stale.value.version == 2
    assert "plan, orders" in str(stale.value) and stale.value.current.plan == "Plan from the other tab"
    assert call(visits.get_note, c["author"], patient_id=c["elena"], note_id=note.id).reason == NOTE["reason"]
    with pytest.raises(visits.VisitConflict):  # signing what was seen at version 1 is refused too
        _sign(c, note)


# ---------------------------------------------------------------- who is refused


def test_staff_are_refused_everything(clinic):
    c = clinic
    note = _new(c)
    staff, pid = c["staff"], c["elena"]
    attempts = [
        (visits.list_notes, {"patient_id": pid}), (visits.get_note, {"patient_id": pid, "note_id": note.id}),
        (visits.create_note, {"patient_id": pid, "values": NOTE}),
        (visits.save_draft, {"patient_id": pid, "note_id": note.id, "values": NOTE, "expected_version": 1}),
        (visits.sign_note, {"patient_id": pid, "note_id": note.id, "expected_version": 1}),
        (visits.add_addendum, {"patient_id": pid, "note_id": note.id, "text": "x"}),
        (visits.summaries, {"patient_id": pid}), (visits.open_list, {"patient_id": pid}),
    ]
    for fn, kwargs in attempts:
        with pytest.raises(AccessDenied):
            call(fn, staff, **kwargs)
    with pytest.raises(AccessDenied):
        call(visits.unsigned_notes, staff)
    denied = [e for e in events() if e.outcome == "denied"]
    assert len(denied) == len(attempts) + 1 and all(e.actor_id == staff.user_id for e in denied)


def test_a_doctor_off_the_care_team_is_refused_with_either_patients_ids(clinic):
    c = clinic
    note = _new(c)
    outsider = c["outsider"]  # on Omar's care team, not Elena's
    for fn, kwargs in [(visits.list_notes, {}), (visits.get_note, {"note_id": note.id}),
                       (visits.create_note, {"values": NOTE}),
                       (visits.add_addendum, {"note_id": note.id, "text": "x"})]:
        with pytest.raises(AccessDenied):
            call(fn, outsider, patient_id=c["elena"], **kwargs)
    # Omar's id (which they reach) with Elena's note: not found, nothing of Elena's shown
    for fn, kwargs in [(visits.get_note, {}), (visits.add_addendum, {"text": "x"}),
                       (visits.save_draft, {"values": NOTE, "expected_version": 1})]:
        with pytest.raises(visits.VisitNotFound):
            call(fn, outsider, patient_id=c["omar"], note_id=note.id, **kwargs)
    with pytest.raises(visits.VisitNotFound):
        call(visits.get_note, c["author"], patient_id=c["elena"], note_id="not-an-id")
    assert call(visits.list_notes, outsider, patient_id=c["omar"]).total == 0


def test_admins_read_for_operations_and_never_write(clinic):
    c = clinic
    note = _sign(c, _new(c))
    admin = c["admin"]
    seen = call(visits.get_note, admin, patient_id=c["elena"], note_id=note.id)
    assert seen.assessment == NOTE["assessment"] and not (seen.can_edit or seen.can_sign or seen.can_add_addendum)
    read, = events("visit.read")
    assert read.basis == "role" and read.purpose == "operations"
    with pytest.raises(AccessDenied):
        call(visits.create_note, admin, patient_id=c["elena"], values=NOTE)
    with pytest.raises(AccessDenied):
        call(visits.add_addendum, admin, patient_id=c["elena"], note_id=note.id, text="x")


# ---------------------------------------------------------------- the patient


def test_the_patient_reads_summaries_of_signed_notes_of_their_own_record_only(clinic):
    c = clinic
    older = _sign(c, _new(c, visit_at="2025-11-02T10:00", reason="Sore throat", assessment="Viral pharyngitis",
                          plan="Rest and fluids", diagnoses=[], orders=[]))
    newer = _sign(c, _new(c))
    _new(c, reason="Draft that must not show")
    call(visits.add_addendum, c["colleague"], patient_id=c["elena"], note_id=newer.id, text="Lab booked for March.")

    page = call(visits.own_summaries, c["patient"])
    assert page.total == 2 and [s.id for s in page.items] == [newer.id, older.id]  # newest first, no draft
    first = page.items[0]
    assert first.clinician == "Dr. Ada Author" and first.reason == NOTE["reason"]
    assert first.assessment == NOTE["assessment"] and first.plan == NOTE["plan"]
    assert first.diagnoses == ("Type 2 diabetes",)  # words, no codes
    assert [a.text for a in first.addenda] == ["Lab booked for March."]
    assert not hasattr(first, "subjective") and not hasattr(first, "status")
    event = events("visit.summary.list")[-1]
    assert event.purpose == "patient_request" and event.basis == "self" and event.patient_id == c["elena"]

    with pytest.raises(AccessDenied):
        call(visits.summaries, c["patient"], patient_id=c["omar"])
    with pytest.raises(AccessDenied):  # the full note, drafts included, is for clinicians
        call(visits.get_note, c["patient"], patient_id=c["elena"], note_id=newer.id)
    with pytest.raises(AccessDenied):
        call(visits.list_notes, c["patient"], patient_id=c["elena"])
    assert call(visits.own_summaries, c["omar_patient"]).total == 0
    with pytest.raises(PatientNotFound):  # an account with no record linked
        call(visits.own_summaries, actor(Role.PATIENT, None))


# ---------------------------------------------------------------- lists and the worklist


def test_the_chart_list_is_newest_first_in_pages_of_25_and_audited(clinic):
    c = clinic
    start = datetime(2024, 1, 1, 9, 0)
    for day in range(27):
        _new(c, visit_at=(start + timedelta(days=day)).isoformat(timespec="minutes"), reason=f"Visit {day}")
    first = call(visits.list_notes, c["colleague"], patient_id=c["elena"])
    assert first.total == 27 and first.pages == 2 and len(first.items) == 25
    assert first.items[0].reason == "Visit 26" and not first.items[0].mine and first.items[0].status == "draft"
    second = call(visits.list_notes, c["author"], patient_id=c["elena"], page=2)
    assert [i.reason for i in second.items] == ["Visit 1", "Visit 0"] and second.items[0].mine
    assert len(events("visit.list")) == 2 and events("visit.list")[0].purpose == "treatment"
    header, opened = call(visits.open_list, c["author"], patient_id=c["elena"])
    assert opened.total == 27 and header.patient["name"]
    assert events("visit.list")[-1].detail["header"][0] == "header"
    assert events("patient.demographics.read") == []  # the header rode on the list's one event


def test_unsigned_notes_lists_the_doctors_own_drafts_with_patient_names(clinic):
    c = clinic
    mine = _new(c, visit_at="2026-01-10T08:00")
    _sign(c, _new(c))
    _new(c, who=c["colleague"])
    put_on_care_team(c["author"], c["omar"])
    on_omar = _new(c, patient=c["omar"], visit_at="2026-01-12T08:00")
    work = call(visits.unsigned_notes, c["author"])
    assert [(w.note_id, w.patient_name) for w in work] == [(mine.id, "Elena Marsh"), (on_omar.id, "Omar Haddad")]
    assert call(visits.unsigned_notes, c["colleague"])[0].patient_id == c["elena"]
    assert call(visits.unsigned_notes, c["outsider"]) == []
    event = events("visit.worklist.list")[0]
    assert event.detail["count"] == 2 and event.purpose == "treatment" and event.actor_id == c["author"].user_id
    with pytest.raises(AccessDenied):
        call(visits.unsigned_notes, c["admin"])


# ---------------------------------------------------------------- input


def test_bad_input_is_named_field_by_field(clinic):
    c = clinic
    tomorrow = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    with pytest.raises(visits.VisitInvalid) as bad:
        _new(c, visit_at=tomorrow, reason=" ", diagnoses=[{"system": ICD10_CM, "code": "not a code"}],
             orders="HbA1c")
    assert set(bad.value.errors) == {"visit_at", "reason", "diagnoses", "orders"}
    assert "future" in bad.value.errors["visit_at"]
    with pytest.raises(visits.VisitInvalid) as snomed:
        _new(c, diagnoses=[{"system": "http://snomed.info/sct", "code": "44054006", "display": "Diabetes"}])
    assert "ICD-10-CM" in snomed.value.errors["diagnoses"]
    assert events("visit.create") == []


def test_diagnoses_come_from_the_code_table_when_it_is_loaded(clinic, code_tables):
    c = clinic
    found = call(visits.find_diagnoses, c["author"], text="type 2 diab")
    assert any(d.code == "E11.9" for d in found)
    note = _new(c, diagnoses=[{"system": ICD10_CM, "code": "e11.9", "display": "whatever was sent"}])
    assert note.diagnoses[0].code == "E11.9" and "diabetes" in note.diagnoses[0].display.lower()
    assert note.diagnoses[0].display != "whatever was sent"
    with pytest.raises(visits.VisitInvalid) as unknown:
        _new(c, diagnoses=[{"system": ICD10_CM, "code": "E99.99", "display": "Made up"}])
    assert "E99.99" in unknown.value.errors["diagnoses"]


# ---------------------------------------------------------------- at rest


def test_notes_and_addenda_are_ciphertext_at_rest(clinic):
    c = clinic
    note = _sign(c, _new(c))
    call(visits.add_addendum, c["colleague"], patient_id=c["elena"], note_id=note.id, text="Extended release now.")
    secrets = ["Follow-up of raised blood sugar", "Thirsty", "metformin", "BP 128/82", "HbA1c", "Type 2 diabetes",
               "Extended release", "Dr. Ada Author", "Dr. Cole League", "2026-01-14"]
    with get_engine().connect() as conn:
        dump = "\n".join(str(tuple(row)) for table in ("visit_note", "visit_addendum")
                         for row in conn.execute(text(f'SELECT * FROM "{table}"')).fetchall())
    assert str(note.id) in dump or note.id.hex in dump  # the rows are there
    assert [s for s in secrets if s.lower() in dump.lower()] == []
    assert {"visit_note", "visit_addendum"} <= {t.name for t in metadata.sorted_tables}
    assert uuid.UUID(str(note.id))


# ---------------------------------------------------------------- the pages, through their handlers


async def test_a_doctor_writes_and_signs_through_the_page_then_only_adds_an_addendum(db):
    pid = register().patient_id
    put_on_care_team(actor_for(make_user("dana@clinic.org", "doctor")), pid)
    state = _state(VisitsState, "dana@clinic.org", None, f"/chart/{pid}/visits")
    await _handle(state, "load_chart")
    assert state.status == "ok" and state.rows == [] and state.can_write
    header = await state.get_state(ChartHeaderState)
    assert header.header_status == "ok" and header.patient["name"] == "Elena Marsh"

    type(state).event_handlers["start_new"].fn(state)
    assert state.mode == "new" and state.form["visit_at"]
    type(state).event_handlers["set_field"].fn(state, "reason", "  ")
    type(state).event_handlers["check_field"].fn(state, "reason")
    assert state.form_errors["reason"] == "Enter the reason for the visit."
    answer = await _handle(state, "save")
    assert "reason" in state.form_errors and state.error == NEEDS_ATTENTION and state.mode == "new"
    assert any(isinstance(s, EventSpec) and "visit-form" in str(s.args) for s in [answer])

    for name in ("reason", "assessment", "plan"):
        type(state).event_handlers["set_field"].fn(state, name, NOTE[name])
    type(state).event_handlers["set_field"].fn(state, "orders", "HbA1c in 3 months\n\nLipid panel")
    await _handle(state, "save")
    assert state.mode == "edit" and state.message == "Draft saved." and state.rows[0]["status"] == "draft"
    assert state.rows[0]["action"] == "Continue" and state._version == 1

    worklist = _state(WorklistState, "dana@clinic.org", None, "/doctor")
    await _handle(worklist, "load")
    assert worklist.unsigned[0]["patient"] == "Elena Marsh"
    assert worklist.unsigned[0]["href"] == f"/chart/{pid}/visits?note={state.note_id}"

    await _handle(state, "sign")
    assert state.mode == "read" and state.note["status"] == "signed" and state.note["can_add_addendum"]
    assert state.note["orders"] == ["HbA1c in 3 months", "Lipid panel"] and state.rows[0]["status"] == "signed"
    await _handle(state, "save")  # nothing to save in read mode
    type(state).event_handlers["set_addendum"].fn(state, "Lab booked for March.")
    await _handle(state, "add_addendum")
    assert state.note["addenda"][0]["text"] == "Lab booked for March." and state.message == "Addendum added."
    await _handle(worklist, "load")
    assert worklist.unsigned == [] and worklist.worklist_status == "ok"

    # the patient: their own summaries; their own chart address goes there
    make_user("elena@example.com", "patient", patient_id=pid)
    own = _state(VisitsState, "elena@example.com", None, "/patient/visits")
    await _handle(own, "load_own")
    assert own.status == "ok" and own.summaries[0]["reason"] == NOTE["reason"]
    assert own.summaries[0]["addenda"][0]["text"] == "Lab booked for March." and own.rows == []
    elsewhere = _state(VisitsState, "elena@example.com", None, f"/chart/{pid}/visits")
    answer = await _handle(elsewhere, "load_chart")
    assert isinstance(answer, EventSpec) and "/patient/visits" in str(answer.args)


async def test_the_front_desk_sees_not_permitted_and_no_note(db):

    pid = register().patient_id
    author = doctor()
    put_on_care_team(author, pid)
    note = call(visits.create_note, author, patient_id=pid, values=NOTE)
    state = _state(VisitsState, "front@clinic.org", "staff", f"/chart/{pid}/visits")
    await _handle(state, "load_chart")
    assert state.status == "denied" and state.rows == []
    await _handle(state, "open_note", str(note.id))
    assert state.note == {} and state.mode == ""


def test_the_demo_clinic_has_signed_notes_and_one_draft_for_maria_garcia(db):
    from patient_portal.seed import seed_demo
    from tests.integration.identity_support import user

    seed_demo(patients=3)
    seed_demo(patients=3)  # idempotent: nothing added the second time
    demo_doctor = actor_for(user("doctor@demo.clinic"))
    work = call(visits.unsigned_notes, demo_doctor)
    assert [w.patient_name for w in work] == ["Maria Garcia"]
    maria = work[0].patient_id
    page = call(visits.list_notes, demo_doctor, patient_id=maria)
    assert page.total == 4 and sum(i.status == "signed" for i in page.items) == 3
    patient = actor_for(user("patient@demo.clinic"))
    summaries = call(visits.own_summaries, patient)
    assert summaries.total == 3 and summaries.items[-1].addenda  # the oldest has its addendum


def test_the_access_log_words_the_visits_events():
    from patient_portal.domain.audit_log.dto import phrase

    assert phrase("visit.list", {"header": ["header"]}) == "Opened your record and looked at your visit notes"
    assert phrase("visit.summary.list") == "Looked at your visit summaries"
    assert phrase("visit.sign", outcome="denied").startswith("Tried to sign a note about your visit")
