"""The access policy, role by action, with object checks — written out independently of the code.

Adding an Action to core/access.py makes this test fail until someone decides here who may do it.
"""

from __future__ import annotations

import uuid

import pytest

from patient_portal.core.access import (
    PATIENT_SCOPED,
    AccessDenied,
    Action,
    Actor,
    CareTeamMember,
    Role,
    authorize,
)
from patient_portal.core.db import unit_of_work

ADMIN, DOCTOR, STAFF, PATIENT = "A", "D", "S", "P"

#: Who may do what (before object checks). Read a row as: this action is allowed for these roles.
EXPECTED: dict[str, str] = {
    "patient.search": "ADS",
    "patient.register": "AS",
    "patient.self_register": "P",
    "patient.demographics.read": "ADSP",
    "patient.demographics.write": "ASP",
    "patient.clinical.read": "ADP",
    "patient.clinical.write": "AD",
    "patient.clinical.report_own": "P",
    "patient.insurance.read": "ADSP",
    "patient.insurance.write": "ASP",
    "patient.emergency.read": "ADSP",
    "patient.emergency.write": "ASP",
    "document.clinical.read": "ADP",
    "document.clinical.write": "ADP",
    "document.administrative.read": "ADSP",
    "document.administrative.write": "ASP",
    "document.purge": "A",
    "careteam.manage": "AS",
    "careteam.directory.read": "AS",
    "patient.identity.review": "AS",
    "audit.own.read": "P",
    "audit.read": "A",
    "user.manage": "A",
    "reports.generate": "A",
    "system.configure": "A",
    "system.health.read": "A",
    "patient.merge": "A",
    "codes.search": "ADSP",
    "observation.read": "ADP",
    "observation.write": "AD",
    "observation.verify": "AD",
    "observation.report_own": "P",
    "visit.read": "AD",
    "visit.summary.read": "AP",
    "visit.write": "D",
    "visit.sign": "D",
    "visit.addendum.write": "D",
    "visit.worklist.read": "D",
    "patient.worklist.read": "D",
    "patient.timeline.read": "AD",
    "prescription.read": "ADP",
    "prescription.write": "D",
    "prescription.renewal.request": "P",
    "prescription.renewal.decide": "D",
    "prescription.worklist.read": "D",
    "result.read": "AD",
    "result.write": "D",
    "result.release": "D",
    "result.own.read": "P",
    "result.worklist.read": "D",
    "billing.setup.read": "AS",
    "billing.setup.write": "A",
    "billing.coverage.write": "AS",
    "billing.eligibility.check": "AS",
    "billing.account.read": "AS",
    "billing.charge.write": "AS",
    "billing.claim.write": "AS",
    "billing.payment.record": "AS",
    "billing.worklist.read": "AS",
    "billing.remittance.post": "AS",
    "billing.charge.own.read": "D",
    "billing.statement.read": "ASP",
    "billing.statement.pay": "P",
    "careplan.read": "ADP",
    "careplan.write": "D",
    "careplan.task.own": "P",
    "appointment.read": "ADSP",
    "appointment.write": "ASP",
    "appointment.attendance.write": "AS",
    "appointment.schedule.read": "AS",
    "appointment.schedule.own.read": "D",
    "appointment.slots.search": "ADSP",
    "appointment.settings.write": "A",
    "smart.app.manage": "A",  # register outside (SMART) apps
    "smart.authorize.own": "ADSP",  # everyone may connect an app as themselves (scopes only narrow)
    "push.own.manage": "P",  # a patient turns push notifications on or off for their own devices
    "emergency.info.write": "ADSP",
    "emergency.code_status.write": "D",
    "emergency.protocol.read": "ADS",
    "emergency.protocol.write": "A",
    "emergency.run.read": "ADS",
    "emergency.run.write": "DS",
    "emergency.contacts.notify": "D",
    "emergency_access.request": "DS",
    "emergency_access.manage": "A",
    "consent.read": "ADSP",
    "consent.own.write": "P",
    "consent.record": "AS",
    "patient.record.share": "ADSP",
    "record.sensitivity.write": "DP",
    "disclosure.read": "ADSP",
    "disclosure.record": "AS",
    "amendment.read": "ADP",
    "amendment.request": "P",
    "amendment.decide": "D",
    "amendment.worklist.read": "D",
    "message.read": "ADSP",
    "message.write": "DSP",
    "message.pool.read": "AS",
    "message.route": "AS",
    "message.inbox.read": "D",
    "message.delegate.write": "D",
    "appointment.video.join": "DP",
    "training.manage": "A",
    "training.acknowledge": "ADSP",
}
LETTER = {Role.ADMIN: ADMIN, Role.DOCTOR: DOCTOR, Role.STAFF: STAFF, Role.PATIENT: PATIENT}


def test_every_action_has_a_decision():
    missing = sorted(a.value for a in Action if a.value not in EXPECTED)
    assert not missing, f"decide in EXPECTED who may do: {missing}"


def _actor(role: Role, patient_id: uuid.UUID | None = None) -> Actor:
    return Actor(user_id=uuid.uuid4(), role=role, patient_id=patient_id)


def _consented(*patient_ids: uuid.UUID) -> None:
    """The patients agreed to every purpose (the actions a consent decides are then allowed as the
    role allows them; test_consent_decides_what_it_covers checks the refusal without it)."""
    from patient_portal.core.access_facts import POLICY_RULES, ConsentRecord

    with unit_of_work() as s:
        for pid in patient_ids:
            for purpose in POLICY_RULES:
                s.add(ConsentRecord(patient_id=pid, purpose=purpose, status="granted", text_version="t", text="t",
                                    method="portal", recorded_by=uuid.uuid4()))


CASES = [(role, action) for role in Role for action in Action]


@pytest.mark.parametrize(("role", "action"), CASES, ids=[f"{r.value}-{a.value}" for r, a in CASES])
def test_role_matrix(db, role, action):
    """Role-level answer, with the object check satisfied (own record / on the care team)."""
    allowed = LETTER[role] in EXPECTED.get(action.value, "")
    patient_id = uuid.uuid4()
    actor = _actor(role, patient_id if role is Role.PATIENT else None)
    if role is Role.DOCTOR:
        with unit_of_work() as s:
            s.add(CareTeamMember(patient_id=patient_id, user_id=actor.user_id))
    assert actor.can(action) is allowed
    _consented(patient_id)
    with unit_of_work() as s:
        if action in access.PARTICIPANTS_ONLY:  # the actor is one of the resource's participants
            taken = decide(s, actor, action, Resource(patient_id=patient_id, participants=frozenset({actor.user_id})))
            assert taken.allowed is allowed
        elif allowed:
            assert authorize(s, actor, action, patient_id=patient_id) is actor
        else:
            with pytest.raises(AccessDenied):
                authorize(s, actor, action, patient_id=patient_id)


SCOPED = sorted(PATIENT_SCOPED, key=lambda a: a.value)


@pytest.mark.parametrize("action", SCOPED, ids=[a.value for a in SCOPED])
def test_object_checks(db, action):
    mine, other = uuid.uuid4(), uuid.uuid4()
    doctor = _actor(Role.DOCTOR)
    with unit_of_work() as s:
        s.add(CareTeamMember(patient_id=mine, user_id=doctor.user_id))
    patient = _actor(Role.PATIENT, mine)
    admin, staff = _actor(Role.ADMIN), _actor(Role.STAFF)
    _consented(mine, other)
    with unit_of_work() as s:
        # a doctor reaches only patients on their care team
        # (a participants-only action names no participant here: refused to all, as checked below)
        positive = action not in access.PARTICIPANTS_ONLY
        if doctor.can(action) and positive:
            authorize(s, doctor, action, patient_id=mine)
        with pytest.raises(AccessDenied):
            authorize(s, doctor, action, patient_id=other)
        # a patient reaches only their own record
        if patient.can(action) and positive:
            authorize(s, patient, action, patient_id=mine)
        with pytest.raises(AccessDenied):
            authorize(s, patient, action, patient_id=other)
        # a patient account without a linked record reaches nothing
        with pytest.raises(AccessDenied):
            authorize(s, _actor(Role.PATIENT, None), action, patient_id=mine)
        # admin reaches any patient (for what the role allows: not a patient's own home reading);
        # staff any patient for what their role allows
        if admin.can(action) and positive:
            authorize(s, admin, action, patient_id=other)
        if staff.can(action) and positive:
            authorize(s, staff, action, patient_id=other)
        # patient-scoped actions always need the patient
        with pytest.raises(AccessDenied):
            authorize(s, admin, action, patient_id=None)


def test_nobody_signed_in_is_denied_everything(db):
    with unit_of_work() as s:
        for action in Action:
            with pytest.raises(AccessDenied):
                authorize(s, None, action, patient_id=uuid.uuid4())


def test_staff_never_reach_clinical_details():
    staff = _actor(Role.STAFF)
    clinical = [a for a in Action if "clinical" in a.value]
    assert clinical and not any(staff.can(a) for a in clinical)


# ------------------------------------------------------------------ platform v2: scopes and decisions

from patient_portal.core import access  # noqa: E402
from patient_portal.core.access import SCOPES, Basis, Purpose, Resource, Scope, decide  # noqa: E402


def test_every_action_declares_its_scope():
    """A new Action must say what it is about; nothing is inferred from its name."""
    missing = sorted(a.value for a in Action if a not in SCOPES)
    assert not missing, f"declare a Scope in core.access.SCOPES for: {missing}"


def test_an_action_without_a_scope_is_denied_to_everyone(db, monkeypatch):
    monkeypatch.delitem(access.SCOPES, Action.AUDIT_READ)
    with unit_of_work() as s:
        decision = decide(s, _actor(Role.ADMIN), Action.AUDIT_READ)
    assert not decision.allowed and decision.reason == "no_scope"


def test_a_name_does_not_make_an_action_patient_scoped():
    """The old rule read scope from the name prefix: 'appointment.read' would have skipped the check."""
    assert SCOPES[Action.CARE_TEAM_MANAGE] is Scope.PATIENT  # named careteam.*, about one patient
    assert SCOPES[Action.PATIENT_SEARCH] is Scope.GLOBAL  # named patient.*, about no one patient


ALL = [(role, action) for role in Role for action in Action]


@pytest.mark.parametrize(("role", "action"), ALL, ids=[f"{r.value}-{a.value}" for r, a in ALL])
def test_every_action_and_role_with_a_foreign_patient(db, role, action):
    """Every Action x Role: the basis and purpose of an allowed decision, and a foreign id refused."""
    allowed = LETTER[role] in EXPECTED.get(action.value, "")
    mine, foreign = uuid.uuid4(), uuid.uuid4()
    actor = _actor(role, mine if role is Role.PATIENT else None)
    if role is Role.DOCTOR:
        with unit_of_work() as s:
            s.add(CareTeamMember(patient_id=mine, user_id=actor.user_id))
    scope = SCOPES[action]
    _consented(mine, foreign)
    with unit_of_work() as s:
        own = decide(s, actor, action, Resource(patient_id=mine, owner_id=actor.user_id,
                                                participants=frozenset({actor.user_id})))
        other = decide(s, actor, action, Resource(patient_id=foreign, owner_id=uuid.uuid4()))
    assert own.allowed is allowed
    if allowed:
        expected_basis = {Scope.GLOBAL: Basis.ROLE, Scope.OWN_ACCOUNT: Basis.SELF}.get(scope) or {
            Role.ADMIN: Basis.ROLE, Role.STAFF: Basis.ROLE, Role.DOCTOR: Basis.CARE_TEAM,
            Role.PATIENT: Basis.SELF}[role]
        if action in access.CONSENT_ACTIONS:
            expected_basis = Basis.CONSENT  # allowed because the patient agreed
        assert own.basis is expected_basis
        assert own.purpose is (Purpose.PAYMENT if action.value.startswith("billing.") else
                               Purpose.PATIENT_REQUEST if role is Role.PATIENT else
                               Purpose.TREATMENT if role is Role.DOCTOR else
                               Purpose.PAYMENT if "insurance" in action.value else Purpose.OPERATIONS)
    # another patient's id (or another account): refused unless the role reaches everyone
    reaches_all = scope is Scope.GLOBAL or (scope is Scope.PATIENT and role in (Role.ADMIN, Role.STAFF))
    assert other.allowed is (allowed and reaches_all)


def test_reach_filter_is_the_reach_rule_in_sql(db):
    from sqlmodel import select

    mine, other = uuid.uuid4(), uuid.uuid4()
    doctor, patient = _actor(Role.DOCTOR), _actor(Role.PATIENT, mine)
    with unit_of_work() as s:
        s.add(CareTeamMember(patient_id=mine, user_id=doctor.user_id))
        s.add(CareTeamMember(patient_id=other, user_id=uuid.uuid4()))
    with unit_of_work() as s:
        def reached(who):
            rows = s.exec(select(CareTeamMember.patient_id).where(access.reach_filter(who, CareTeamMember.patient_id)))
            return set(rows.all())
        assert reached(doctor) == {mine}
        assert reached(patient) == {mine}
        assert reached(_actor(Role.PATIENT, None)) == set()
        assert reached(_actor(Role.STAFF)) == reached(_actor(Role.ADMIN)) == {mine, other}
        assert reached(None) == set()


def test_author_only_actions_are_refused_to_another_author(db):
    """A draft visit note is edited and signed by its author: the policy reads Resource.author_id
    (None: a note not yet written, whose author the actor becomes); an addendum needs no authorship."""
    patient_id = uuid.uuid4()
    author, colleague = _actor(Role.DOCTOR), _actor(Role.DOCTOR)
    with unit_of_work() as s:
        s.add(CareTeamMember(patient_id=patient_id, user_id=author.user_id))
        s.add(CareTeamMember(patient_id=patient_id, user_id=colleague.user_id))
    with unit_of_work() as s:
        for action in (Action.VISIT_WRITE, Action.VISIT_SIGN):
            assert action in access.AUTHOR_ONLY
            assert decide(s, author, action, Resource(patient_id=patient_id, author_id=author.user_id)).allowed
            assert decide(s, colleague, action, Resource(patient_id=patient_id)).allowed  # a new note
            refused = decide(s, colleague, action, Resource(patient_id=patient_id, author_id=author.user_id))
            assert not refused.allowed and refused.reason == "not_author"
        addendum = decide(s, colleague, Action.VISIT_ADDENDUM, Resource(patient_id=patient_id, author_id=author.user_id))
        assert addendum.allowed and addendum.basis is Basis.CARE_TEAM and addendum.purpose is Purpose.TREATMENT
        admin_read = decide(s, _actor(Role.ADMIN), Action.VISIT_READ, Resource(patient_id=patient_id))
        assert admin_read.allowed and admin_read.basis is Basis.ROLE and admin_read.purpose is Purpose.OPERATIONS


# ------------------------------------------------------------------ issue 15: emergency grants, sensitivity, consent

from datetime import timedelta  # noqa: E402

from patient_portal.core import access_facts  # noqa: E402
from patient_portal.core.access_facts import ConsentRecord, EmergencyGrant  # noqa: E402
from patient_portal.core.db import utcnow  # noqa: E402

GRANT_STATES = ("active", "expired", "revoked", "none")


def _grant(user: Actor, patient_id: uuid.UUID, state: str) -> None:
    if state == "none":
        return
    now = utcnow()
    with unit_of_work() as s:
        s.add(EmergencyGrant(patient_id=patient_id, user_id=user.user_id, role=user.role.value,
                             reason_code="life_threatening", started_at=now - timedelta(minutes=90),
                             expires_at=now - timedelta(minutes=30) if state == "expired" else now + timedelta(minutes=30),
                             ended_at=now - timedelta(minutes=1) if state == "revoked" else None))


@pytest.mark.parametrize("state", GRANT_STATES)
@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
def test_emergency_grants_for_every_role_and_action(db, role, state):
    """A grant opens what EMERGENCY_OPENS lists for the role (doctors off the care team: a treating
    doctor's patient actions; the front desk: clinical reads), with basis emergency_grant and purpose
    emergency — only while it runs: expired or ended early, it opens nothing. Admins and patients
    never hold one (a grant row for them changes nothing)."""
    pid = uuid.uuid4()
    actor = _actor(role, uuid.uuid4() if role is Role.PATIENT else None)  # a doctor not on the care team
    _grant(actor, pid, state)
    _consented(pid)
    opens = access.EMERGENCY_OPENS.get(role, frozenset())
    with unit_of_work() as s:
        for action in SCOPED:
            decision = decide(s, actor, action, Resource(patient_id=pid))
            by_role = actor.can(action) and role in (Role.ADMIN, Role.STAFF)  # they reach every patient
            if state == "active" and action in opens and not by_role:
                assert decision.allowed, action
                assert decision.basis is Basis.EMERGENCY_GRANT and decision.purpose is Purpose.EMERGENCY, action
            else:
                assert decision.allowed is by_role, (action, decision.reason)
                assert decision.basis is not Basis.EMERGENCY_GRANT


def test_a_doctors_decision_is_one_statement_with_a_grant_or_a_consent(db):
    """The care-team check asks for the doctor's grant in the same statement: one round trip for a
    doctor on the team and for one off it under emergency access; later in the unit the grant is
    kept, and only the care-team check is asked again."""
    from tests.integration.sql_counter import statements

    pid = uuid.uuid4()
    on_team, off_team = _actor(Role.DOCTOR), _actor(Role.DOCTOR)
    with unit_of_work() as s:
        s.add(CareTeamMember(patient_id=pid, user_id=on_team.user_id))
    _grant(off_team, pid, "active")
    for doctor, basis in ((on_team, Basis.CARE_TEAM), (off_team, Basis.EMERGENCY_GRANT)):
        with unit_of_work() as s:
            s.connection()
            with statements() as seen:
                assert decide(s, doctor, Action.CLINICAL_READ, Resource(patient_id=pid)).basis is basis
            assert len(seen) == 1, seen
            with statements() as again:
                assert decide(s, doctor, Action.VISIT_READ, Resource(patient_id=pid)).basis is basis
            assert len(again) == 1 and "emergency_grant" not in again[0], again
    _consented(pid)  # an action the patient's consent decides: the consent rides on the same statement
    with unit_of_work() as s:
        s.connection()
        with statements() as seen:
            assert decide(s, on_team, Action.RECORD_SHARE, Resource(patient_id=pid)).basis is Basis.CONSENT
        assert len(seen) == 1, seen


def test_a_grant_that_runs_out_mid_unit_ends_there(db):
    pid = uuid.uuid4()
    doctor = _actor(Role.DOCTOR)
    _grant(doctor, pid, "active")
    with unit_of_work() as s:
        assert decide(s, doctor, Action.CLINICAL_READ, Resource(patient_id=pid)).allowed
        memo = s.info["portal_grants"]
        memo[(doctor.user_id, pid)] = utcnow() - timedelta(seconds=1)  # the clock passed its end
        refused = decide(s, doctor, Action.CLINICAL_READ, Resource(patient_id=pid))
    assert not refused.allowed and refused.reason == "not_reached"


SENSITIVE_READS = (Action.CLINICAL_READ, Action.CLINICAL_DOC_READ, Action.VISIT_READ)


@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
def test_sensitive_records_for_every_role(db, role):
    """Only the patient, the record's author and the clinicians assigned to it see a sensitive
    record; everyone else who reaches the patient is refused with reason "sensitive"; an active
    emergency grant (and nothing else) opens it."""
    pid = uuid.uuid4()
    author, assigned, colleague = _actor(Role.DOCTOR), _actor(Role.DOCTOR), _actor(Role.DOCTOR)
    with unit_of_work() as s:
        for doctor in (author, assigned, colleague):
            s.add(CareTeamMember(patient_id=pid, user_id=doctor.user_id))
    record = Resource(patient_id=pid, sensitivity="mental_health", author_id=author.user_id,
                      assigned=frozenset({assigned.user_id}))
    if role is Role.DOCTOR:
        cases = {"author": (author, True), "assigned": (assigned, True), "colleague": (colleague, False),
                 "outside": (_actor(Role.DOCTOR), False)}
    elif role is Role.PATIENT:
        cases = {"self": (_actor(Role.PATIENT, pid), True), "another patient": (_actor(Role.PATIENT, uuid.uuid4()), False)}
    else:
        cases = {role.value: (_actor(role), False)}
    with unit_of_work() as s:
        for name, (actor, sees) in cases.items():
            for action in SENSITIVE_READS:
                if not actor.can(action) and action not in access.EMERGENCY_OPENS.get(role, frozenset()):
                    continue
                decision = decide(s, actor, action, record)
                assert decision.allowed is sees, (name, action)
                if not sees and actor.can(action) and role is not Role.PATIENT and name != "outside":
                    assert decision.reason == "sensitive", (name, action)
                plain = decide(s, actor, action, Resource(patient_id=pid))  # the same record, not sensitive
                assert plain.allowed is (actor.can(action) and name not in ("outside", "another patient")), name
    # emergency access opens it for those who may break the glass, and for no one else
    for name, (actor, sees) in cases.items():
        if sees:
            continue
        _grant(actor, pid, "active")
        with unit_of_work() as s:
            for action in SENSITIVE_READS:
                decision = decide(s, actor, action, record)
                opens = action in access.EMERGENCY_OPENS.get(actor.role, frozenset())
                assert decision.allowed is opens, (name, action)
                if opens:
                    assert decision.basis is Basis.EMERGENCY_GRANT and decision.purpose is Purpose.EMERGENCY


def _consent(pid: uuid.UUID, purpose: str, status: str) -> None:
    with unit_of_work() as s:
        s.add(ConsentRecord(patient_id=pid, purpose=purpose, status=status, text_version="t", text="t",
                            method="portal", recorded_by=uuid.uuid4(), created_at=utcnow()))


@pytest.mark.parametrize("role", [Role.ADMIN, Role.STAFF, Role.DOCTOR, Role.PATIENT], ids=lambda r: r.value)
def test_consent_decides_what_it_covers(db, role):
    """Sharing records out needs the patient's sharing consent whoever asks (basis "consent");
    declined or withdrawn, it is refused ("no_consent"). A use for research needs the research consent."""
    pid = uuid.uuid4()
    actor = _actor(role, pid if role is Role.PATIENT else None)
    if role is Role.DOCTOR:
        with unit_of_work() as s:
            s.add(CareTeamMember(patient_id=pid, user_id=actor.user_id))
    share = Action.RECORD_SHARE

    def asked(purpose: Purpose | None = None, action: Action = share):
        with unit_of_work() as s:
            return decide(s, actor, action, Resource(patient_id=pid), purpose=purpose)

    assert asked().reason == "no_consent"  # opt-in: nothing on file is no
    _consent(pid, "sharing", "granted")
    assert asked().allowed and asked().basis is Basis.CONSENT
    _consent(pid, "sharing", "withdrawn")
    assert not asked().allowed and asked().reason == "no_consent"
    read = Action.DEMOGRAPHICS_READ
    assert asked(action=read).allowed  # ordinary reads ask no consent
    assert asked(Purpose.RESEARCH, read).reason == "no_consent"
    _consent(pid, "research", "granted")
    research = asked(Purpose.RESEARCH, read)
    assert research.allowed and research.basis is Basis.CONSENT and research.purpose is Purpose.RESEARCH


def test_consent_rules_opt_in_and_opt_out(db):
    pid = uuid.uuid4()
    with unit_of_work() as s:
        assert not access_facts.consent_allows(s, pid, "sms")  # opt-in
        assert access_facts.consent_allows(s, pid, "emergency_contacts")  # opt-out
        assert not access_facts.consent_allows(s, pid, "no such purpose")
        assert not access_facts.consent_allows(s, None, "emergency_contacts")
    _consent(pid, "emergency_contacts", "declined")
    _consent(pid, "sms", "granted")
    with unit_of_work() as s:
        assert not access_facts.consent_allows(s, pid, "emergency_contacts")
        assert access_facts.consent_allows(s, pid, "sms")
