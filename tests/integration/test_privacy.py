"""Issue 15 part B at the service layer: break-the-glass, consents, sensitive records, disclosures and
amendments — every role allowed and refused, another patient's ids refused, on SQLite and PostgreSQL."""

from __future__ import annotations

import time
import uuid
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlmodel import select

from patient_portal.core.access import AccessDenied, Actor, Role
from patient_portal.core.access_facts import EmergencyGrant
from patient_portal.core.db import unit_of_work, utcnow
from patient_portal.core.jobs import Job, run_due
from patient_portal.domain.audit_log import service as audit_log
from patient_portal.domain.breakglass import service as breakglass
from patient_portal.domain.breakglass.dto import AlreadyReached, GrantInvalid
from patient_portal.domain.consent import service as consent
from patient_portal.domain.consent.dto import ConsentInvalid, ConsentTextChanged
from patient_portal.domain.documents import service as documents
from patient_portal.domain.history import service as history
from patient_portal.domain.identity import mfa
from patient_portal.domain.identity.reauth import WrongCode, WrongCurrentPassword
from patient_portal.domain.identity.sessions import actor_for
from patient_portal.domain.patients import header as hdr
from patient_portal.domain.patients import profile
from patient_portal.domain.rights import service as rights
from patient_portal.domain.rights.dto import AmendmentDecided, AmendmentNotFound, RightsInvalid
from patient_portal.domain.sensitive import service as sensitive
from patient_portal.domain.timeline import service as timeline
from patient_portal.domain.visits import service as visits
from tests.integration.identity_support import PASSWORD, enrol_mfa, events, make_user
from tests.integration.patients_support import actor, call, draft, put_on_care_team, register
from tests.samples import one_page_pdf

PDF = one_page_pdf("Therapy letter")


def _person(email: str, role: str, **kw) -> Actor:
    """A real account (its password checks), signed in (a session id)."""
    return replace(actor_for(make_user(email, role, **kw)), session_id=uuid.uuid4())


@pytest.fixture
def clinic(db):
    maria = register().patient_id
    other = register(draft(given_name="Omar", family_name="Haddad", date_of_birth="1985-02-11",
                           email="omar@example.com", phone_mobile="+1 617 555 0199")).patient_id
    team = _person("lee@clinic.org", "doctor")
    colleague = _person("kim@clinic.org", "doctor")
    outside = _person("er@clinic.org", "doctor")
    for doc in (team, colleague):
        put_on_care_team(doc, maria)
    staff, admin = _person("desk@clinic.org", "staff"), _person("admin@clinic.org", "admin")
    patient = replace(actor(Role.PATIENT, maria), display_name="Maria")
    return {"maria": maria, "other": other, "team": team, "colleague": colleague, "outside": outside,
            "staff": staff, "admin": admin, "patient": patient, "other_patient": actor(Role.PATIENT, other)}


def _ask(who: Actor, pid, **kw):
    values = {"reason_code": "life_threatening", "reason_text": "", "password": PASSWORD, **kw}
    return breakglass.request_access(who, patient_id=pid, **values)


def _expire(grant_id) -> None:
    with unit_of_work() as s:
        row = s.get(EmergencyGrant, grant_id)
        row.expires_at = utcnow() - timedelta(seconds=1)
        s.add(row)


# ---------------------------------------------------------------- break the glass


def test_a_doctor_off_the_team_breaks_the_glass_for_a_while(clinic):
    c, er = clinic, clinic["outside"]
    with pytest.raises(AccessDenied):
        call(hdr.open_chart, er, c["maria"])
    with pytest.raises(GrantInvalid) as bad:
        _ask(er, c["maria"], reason_code="other", reason_text="")
    assert set(bad.value.errors) == {"reason_text"}
    with pytest.raises(WrongCurrentPassword):
        _ask(er, c["maria"], password="not my password at all")
    assert events("emergency_access.start")[-1].outcome == "denied"
    grant = _ask(er, c["maria"], reason_code="other", reason_text="Collapsed in the waiting room, unconscious")
    assert grant.state == "active" and grant.expires_at - grant.started_at == timedelta(minutes=60)
    assert grant.reason_text == ""  # the free text is for the admins' review only
    header, chart = call(hdr.open_chart, er, c["maria"])
    assert header.emergency_until == grant.expires_at and chart["history"] is not None
    opened = events("patient.demographics.read")[-1]
    assert (opened.basis, opened.purpose) == ("emergency_grant", "emergency")
    started = events("emergency_access.start")[-1]
    assert started.detail == {"type": "110113", "subtype": "110127", "purpose_of_use": "ETREAT", "reason": "other",
                              "minutes": 60}
    assert "Collapsed" not in str(started.detail)
    with pytest.raises(AlreadyReached):
        _ask(er, c["maria"])
    _expire(grant.id)  # the hour passed: the next event is refused at once
    with pytest.raises(AccessDenied):
        call(hdr.open_chart, er, c["maria"])
    with pytest.raises(AccessDenied):  # never another patient's record
        call(hdr.open_chart, er, c["other"])


def test_the_patient_sees_it_in_plain_words_and_is_emailed_when_it_ends(clinic):
    c, er = clinic, clinic["outside"]
    grant = _ask(er, c["maria"])
    call(profile.get_chart, er, c["maria"])
    page = call(audit_log.own_access_log, replace(c["patient"], user_id=uuid.uuid4()))
    said = [row.what for row in page.rows]
    assert "Used emergency access to open your record (reason: life-threatening emergency)" in said
    assert "Opened your record, including your health history — using emergency access" in said
    _expire(grant.id)
    with unit_of_work() as s:
        job = s.exec(select(Job).where(Job.key == breakglass.ended_job_key(grant.id))).one()
        job.run_after = utcnow()
        s.add(job)
    while run_due():
        pass
    ended = events("emergency_access.end")[-1]
    assert ended.detail["by"] == "expiry" and ended.detail["subtype"] == "110138"
    with unit_of_work() as s:
        mails = [j.payload for j in s.exec(select(Job).where(Job.kind == "mail")).all()]
        closed = s.get(EmergencyGrant, grant.id).closed_at
    told = [m for m in mails if "Emergency access" in m["subject"]]
    assert len(told) == 1 and told[0]["to"] == "elena.marsh@example.com"
    assert "Life-threatening emergency" in told[0]["text"] and "/patient/access-log" in told[0]["text"]
    assert closed is not None
    from patient_portal.domain.breakglass import notify
    notify.grant_ended({"grant_id": str(grant.id)})  # a second run (another worker, a retry) does nothing
    with unit_of_work() as s:
        assert len([j for j in s.exec(select(Job).where(Job.kind == "mail")).all()
                    if "Emergency access" in j.payload["subject"]]) == 1


def test_who_may_break_the_glass(clinic):
    c = clinic
    for who in (c["admin"], c["patient"]):
        with pytest.raises(AccessDenied):
            _ask(who, c["maria"])
    assert {e.outcome for e in events("emergency_access.start")} == {"denied"}
    # the front desk reads clinical data under a grant (never writes it)
    with pytest.raises(AccessDenied):
        call(history.immunization_record, c["staff"], patient_id=c["maria"])
    _ask(c["staff"], c["maria"], reason_code="unable_to_consent")
    assert call(history.read_for_chart, c["staff"], patient_id=c["maria"])["conditions"]
    assert call(hdr.chart_header, c["staff"], c["maria"]).allergies == ["Latex"]
    with pytest.raises(AccessDenied):
        call(history.save_item, c["staff"], patient_id=c["maria"], kind="conditions", values={"description": "X"})


def test_two_step_sign_in_accounts_give_their_code_too(clinic):
    c = clinic
    er = _person("mfa@clinic.org", "doctor")
    secret, _codes = enrol_mfa("mfa@clinic.org")
    with pytest.raises(WrongCode):
        _ask(er, c["maria"], code="000000")
    with pytest.raises(WrongCode):
        _ask(er, c["maria"])
    assert _ask(er, c["maria"], code=mfa.code_at(secret, time.time())).state == "active"


def test_admins_see_active_grants_end_one_and_review_every_one(clinic):
    c = clinic
    grant = _ask(c["outside"], c["maria"], reason_code="other", reason_text="Ambulance handover")
    active = call(breakglass.active_grants, c["admin"])
    assert [g.id for g in active] == [grant.id] and active[0].reason_text == "Ambulance handover"
    for who in (c["staff"], c["team"], c["patient"]):
        with pytest.raises(AccessDenied):
            call(breakglass.active_grants, who)
        with pytest.raises(AccessDenied):
            call(breakglass.end_grant, who, grant_id=grant.id)
    ended = call(breakglass.end_grant, c["admin"], grant_id=grant.id)
    assert ended.state == "ended" and events("emergency_access.end")[-1].detail["by"] == "admin"
    with pytest.raises(AccessDenied):
        call(hdr.open_chart, c["outside"], c["maria"])
    assert [g.id for g in call(breakglass.reviews, c["admin"])] == [grant.id]
    with pytest.raises(GrantInvalid):
        call(breakglass.review, c["admin"], grant_id=grant.id, decision="flag", note="")
    flagged = call(breakglass.review, c["admin"], grant_id=grant.id, decision="flag", note="Ask Dr. why the ER did not call")
    assert flagged.review_status == "flagged" and call(breakglass.reviews, c["admin"]) == []
    with pytest.raises(AccessDenied):
        call(breakglass.review, c["team"], grant_id=grant.id, decision="approve")


def test_the_holder_may_end_their_own_grant(clinic):
    c = clinic
    grant = _ask(c["outside"], c["maria"])
    assert call(breakglass.end_grant, c["outside"], grant_id=grant.id).state == "ended"
    assert events("emergency_access.end")[-1].detail["by"] == "self"


# ---------------------------------------------------------------- consent


def test_patients_agree_and_withdraw_and_the_desk_records_paper(clinic):
    c = clinic
    seen = call(consent.decide_own, c["patient"], purpose="sharing", status="granted", version="2026-01")
    sharing = next(i for i in seen.items if i.purpose == "sharing")
    assert sharing.status == "granted" and sharing.allowed and sharing.method == "portal" and sharing.recorded_by == "you"
    with pytest.raises(ConsentTextChanged):
        call(consent.decide_own, c["patient"], purpose="sharing", status="withdrawn", version="2025-01")
    seen = call(consent.decide_own, c["patient"], purpose="sharing", status="withdrawn")
    assert not next(i for i in seen.items if i.purpose == "sharing").allowed
    with pytest.raises(ConsentInvalid):
        call(consent.decide_own, c["patient"], purpose="marketing", status="granted")
    for who in (c["staff"], c["team"], c["admin"]):
        with pytest.raises(AccessDenied):
            call(consent.decide_own, who, purpose="sms", status="granted")
    # paper at the desk: the scan is a consent-form document of this patient
    scan = documents.upload(c["staff"], patient_id=c["maria"], filename="consent.pdf", chunks=[PDF],
                            meta={"category": "consent_form", "title": "Research consent"})
    with pytest.raises(ConsentInvalid) as bad:
        call(consent.record_paper, c["staff"], patient_id=c["other"], purpose="research", status="granted",
             signed_on="2026-01-05", document_id=scan.id)  # another patient's scan
    assert set(bad.value.errors) == {"document_id"}
    done = call(consent.record_paper, c["staff"], patient_id=c["maria"], purpose="research", status="granted",
                signed_on="2026-01-05", document_id=scan.id)
    entry = done.history[0]
    assert (entry.purpose, entry.method, entry.document_id, entry.recorded_by) == ("research", "paper", scan.id,
                                                                                   "Test staff")
    for who in (c["team"], c["patient"]):
        with pytest.raises(AccessDenied):
            call(consent.record_paper, who, patient_id=c["maria"], purpose="sms", status="granted",
                 signed_on="2026-01-05", document_id=scan.id)
    assert len(call(consent.overview, c["team"], patient_id=c["maria"]).history) == 3
    for who, pid in ((c["outside"], c["maria"]), (c["other_patient"], c["maria"])):
        with pytest.raises(AccessDenied):
            call(consent.overview, who, patient_id=pid)
    assert [e.detail for e in events("consent.write")][0] == {"purpose": "sharing", "status": "granted",
                                                              "version": "2026-01", "method": "portal"}


# ---------------------------------------------------------------- sensitive records


def _condition_id(pid) -> str:
    return next(e.id for e in call(history.read_for_chart, actor(Role.ADMIN), patient_id=pid)["conditions"])


def test_a_sensitive_condition_is_withheld_from_all_but_its_clinicians(clinic):
    c = clinic
    cid = _condition_id(c["maria"])
    call(sensitive.mark, c["team"], patient_id=c["maria"], kind="condition", record_id=cid, category="mental_health")
    assert events("record.sensitivity.write")[-1].detail == {"sensitive": True}  # never the category
    seen = {name: call(profile.get_chart, c[name], c["maria"]) for name in ("team", "colleague", "admin", "patient")}
    assert [r["description"] for r in seen["team"]["history"]["conditions"]] == ["Asthma"]
    assert [r["description"] for r in seen["patient"]["history"]["conditions"]] == ["Asthma"]
    for name in ("colleague", "admin"):
        assert seen[name]["history"]["conditions"] == [] and seen[name]["withheld"] == 1, name
    # the colleague may not change a mark they cannot see; nor may the front desk or another patient
    for who in (c["colleague"], c["staff"], c["other_patient"], c["admin"]):
        with pytest.raises(AccessDenied):
            call(sensitive.unmark, who, patient_id=c["maria"], kind="condition", record_id=cid)
    # emergency access (and nothing else) opens it
    _ask(c["colleague"], c["maria"], reason_code="covering")
    assert [r["description"] for r in call(profile.get_chart, c["colleague"], c["maria"])["history"]["conditions"]] \
        == ["Asthma"]
    # the patient makes it ordinary again
    call(sensitive.unmark, c["patient"], patient_id=c["maria"], kind="condition", record_id=cid)
    assert call(profile.get_chart, c["admin"], c["maria"])["withheld"] == 0


def test_sensitive_documents_and_notes_are_left_out_of_lists_and_refused_by_id(clinic):
    c = clinic
    letter = documents.upload(c["team"], patient_id=c["maria"], filename="letter.pdf", chunks=[PDF],
                              meta={"category": "medical_document", "title": "Psychiatry letter"})
    note = call(visits.create_note, c["team"], patient_id=c["maria"], values={
        "visit_at": (utcnow() - timedelta(days=2)).isoformat(), "reason": "Counselling", "assessment": "Stable",
        "plan": "Review"})
    call(sensitive.mark, c["patient"], patient_id=c["maria"], kind="document", record_id=letter.id,
         category="mental_health")
    call(sensitive.mark, c["team"], patient_id=c["maria"], kind="visit_note", record_id=note.id,
         category="substance_use")
    by_colleague = documents.list_documents(c["colleague"], patient_id=c["maria"])
    assert by_colleague.items == [] and by_colleague.withheld == 1
    assert [d.title for d in documents.list_documents(c["team"], patient_id=c["maria"]).items] == ["Psychiatry letter"]
    assert documents.list_documents(c["patient"], patient_id=c["maria"]).withheld == 0
    with pytest.raises(AccessDenied):
        documents.open_file(c["colleague"], document_id=letter.id)
    notes = call(visits.list_notes, c["colleague"], patient_id=c["maria"])
    assert notes.items == [] and notes.withheld == 1
    with pytest.raises(AccessDenied):
        call(visits.get_note, c["colleague"], patient_id=c["maria"], note_id=note.id)
    assert call(visits.get_note, c["team"], patient_id=c["maria"], note_id=note.id).reason == "Counselling"
    page = call(timeline.timeline, c["colleague"], patient_id=c["maria"])
    assert page.withheld == 2 and not any("Counselling" in i.title or "Psychiatry" in i.title for i in page.items)
    with pytest.raises(AccessDenied):  # another patient's record id under this patient
        call(sensitive.mark, c["other_patient"], patient_id=c["maria"], kind="document", record_id=letter.id,
             category="mental_health")


def test_the_marking_page_lists_what_this_person_sees(clinic):
    c = clinic
    cid = _condition_id(c["maria"])
    call(sensitive.mark, c["team"], patient_id=c["maria"], kind="condition", record_id=cid, category="sexual_health")
    mine = call(sensitive.own_candidates, c["patient"])
    assert [(i.title, i.category) for i in mine.items] == [("Asthma", "sexual_health")]
    theirs = call(sensitive.candidates, c["colleague"], patient_id=c["maria"])
    assert theirs.items == [] and theirs.withheld == 1
    for who in (c["staff"], c["admin"], c["outside"]):
        with pytest.raises(AccessDenied):
            call(sensitive.candidates, who, patient_id=c["maria"])


# ---------------------------------------------------------------- disclosures and amendments


def test_disclosures_are_recorded_by_the_desk_and_listed_for_the_patient(clinic):
    c = clinic
    sent = {"disclosed_on": (utcnow() - timedelta(days=3)).date().isoformat(), "basis": "court_order",
            "recipient": "Suffolk County Court", "description": "Visit notes of January", "purpose": "Subpoena 12-77"}
    with pytest.raises(RightsInvalid) as bad:
        call(rights.record_disclosure, c["staff"], patient_id=c["maria"], values={**sent, "basis": "treatment"})
    assert set(bad.value.errors) == {"basis"}
    call(rights.record_disclosure, c["staff"], patient_id=c["maria"], values=sent)
    for who in (c["team"], c["patient"]):
        with pytest.raises(AccessDenied):
            call(rights.record_disclosure, who, patient_id=c["maria"], values=sent)
    listed = call(rights.disclosures, c["patient"])
    assert [(d.recipient, d.basis_words) for d in listed] == [("Suffolk County Court", "Court order or subpoena")]
    name, data = call(rights.accounting_pdf, c["patient"])
    assert name.startswith("accounting-of-disclosures-") and data.startswith(b"%PDF") and b"Suffolk County Court" in data
    with pytest.raises(AccessDenied):
        call(rights.accounting_pdf, c["other_patient"], patient_id=c["maria"])
    printed = events("disclosure.accounting.print")
    assert printed[0].detail == {"export": "pdf", "count": 1} and printed[-1].outcome == "denied"


def test_an_amendment_denied_with_a_reason_and_the_patients_disagreement(clinic):
    c = clinic
    asked = call(rights.request_amendment, c["patient"], values={
        "record_part": "My condition list says asthma", "requested_change": "I never had asthma"})
    assert asked.status == "pending" and (asked.due_on - utcnow().date()).days in (59, 60, 61)
    due = call(rights.amendment_worklist, c["team"])
    assert [(a.id, a.patient_name) for a in due] == [(asked.id, "Elena Marsh")]
    assert call(rights.amendment_worklist, c["outside"]) == []
    for who in (c["outside"], c["staff"], c["admin"], c["patient"]):
        with pytest.raises(AccessDenied):
            call(rights.answer_amendment, who, patient_id=c["maria"], request_id=asked.id, decision="deny",
                 response="No")
    with pytest.raises(RightsInvalid):
        call(rights.answer_amendment, c["team"], patient_id=c["maria"], request_id=asked.id, decision="deny", response="")
    denied = call(rights.answer_amendment, c["team"], patient_id=c["maria"], request_id=asked.id, decision="deny",
                  response="Spirometry in 2019 confirmed asthma.", expected_version=asked.version)
    assert denied.status == "denied" and denied.decided_by == "Test doctor"
    with pytest.raises(AmendmentDecided):
        call(rights.answer_amendment, c["colleague"], patient_id=c["maria"], request_id=asked.id, decision="accept",
             response="Corrected")
    with pytest.raises(AmendmentNotFound):  # another patient cannot disagree on Maria's request
        call(rights.add_disagreement, c["other_patient"], request_id=asked.id, statement="I disagree")
    filed = call(rights.add_disagreement, c["patient"], request_id=asked.id, statement="The 2019 test was wrong.")
    assert filed.disagreement == "The 2019 test was wrong."
    # the statement travels with the record: every reader of the requests sees it
    assert call(rights.amendments, c["colleague"], patient_id=c["maria"])[0].disagreement == "The 2019 test was wrong."
    assert call(rights.amendment_worklist, c["team"]) == []
