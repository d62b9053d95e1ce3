"""Users and permissions from the admin side: role changes (password, last admin, sessions ended,
audited before/after), an account's sessions, permission sets read by the one policy decision, the
care-team list — every rule, and every other role refused, with other accounts' ids."""

from __future__ import annotations

import pytest

from patient_portal.core.access import AccessDenied, Action, Basis, Resource, decide
from patient_portal.core.db import unit_of_work
from patient_portal.domain.identity import account_admin, care_team, permission_sets, service, sessions
from patient_portal.domain.identity.reauth import WrongCurrentPassword
from patient_portal.domain.identity.service import UserInputError
from patient_portal.domain.identity.sessions import actor_for
from tests.integration.identity_support import PASSWORD, client, events, login, make_user, user
from tests.integration.patients_support import draft, register

pytestmark = pytest.mark.usefixtures("db")

OWEN = draft(given_name="Owen", family_name="Park", date_of_birth="1990-01-02", sex="male",
             email="owen.park@example.com", phone_mobile="(617) 555-0177")


def _call(fn, *args, **kwargs):
    with unit_of_work() as s:
        return fn(s, *args, **kwargs)


def _signed_in(email: str):
    """The actor a real sign-in yields (the session check: permission set included) and its token."""
    c = client()
    login(c, email)
    token = c.cookies.get("portal_session")
    return sessions.check_session(token).actor, token


def _admin(email: str = "root@clinic.org"):
    make_user(email, "admin")
    return _signed_in(email)[0]


# ------------------------------------------------------------------ role changes


def test_admin_changes_a_role_with_their_password_and_the_account_is_signed_out():
    admin = _admin()
    make_user("nurse@clinic.org", "staff")
    _, token = _signed_in("nurse@clinic.org")
    target = user("nurse@clinic.org")
    done = account_admin.change_role(admin, user_id=str(target.id), role="doctor", password=PASSWORD)
    assert done.user.role == "doctor" and not done.self_signed_out
    assert user("nurse@clinic.org").role == "doctor"
    assert not sessions.check_session(token).ok  # the old session ended: the new role applies at once
    again, _ = _signed_in("nurse@clinic.org")
    assert again.role.value == "doctor" and decide(None, again, Action.PATIENT_REGISTER).allowed is False
    event = events("user.role")[-1]
    assert event.outcome == "success" and event.actor_id == admin.user_id
    assert event.detail["before"]["role"] == "staff" and event.detail["after"]["role"] == "doctor"
    assert event.detail["sessions_ended"] == 1


def test_a_wrong_password_changes_nothing_and_counts_as_a_failure():
    admin = _admin()
    target = make_user("nurse@clinic.org", "staff")
    with pytest.raises(WrongCurrentPassword):
        account_admin.change_role(admin, user_id=str(target.id), role="admin", password="not my password")
    assert user("nurse@clinic.org").role == "staff"
    assert user("root@clinic.org").failed_attempts == 1
    assert [e.outcome for e in events("user.role")] == ["denied"]
    with pytest.raises(UserInputError) as missing:
        account_admin.change_role(admin, user_id=str(target.id), role="admin", password="")
    assert "password" in missing.value.errors


def test_the_last_admin_cannot_demote_themselves_but_can_once_another_exists():
    admin = _admin()
    me = user("root@clinic.org")
    with pytest.raises(UserInputError) as last:
        account_admin.change_role(admin, user_id=str(me.id), role="staff", password=PASSWORD)
    assert "last active administrator" in str(last.value) and user("root@clinic.org").role == "admin"
    make_user("second@clinic.org", "admin")
    done = account_admin.change_role(admin, user_id=str(me.id), role="staff", password=PASSWORD)
    assert done.self_signed_out and user("root@clinic.org").role == "staff"
    assert sessions.check_session(_signed_in("root@clinic.org")[1]).actor.role.value == "staff"


def test_a_deactivated_admin_does_not_count_as_another_admin():
    admin = _admin()
    other = make_user("second@clinic.org", "admin")
    _call(service.set_active, admin, other.id, False)
    with pytest.raises(UserInputError):
        account_admin.change_role(admin, user_id=str(user("root@clinic.org").id), role="doctor", password=PASSWORD)


@pytest.mark.parametrize("role,why", [("patient", "role"), ("superuser", "role"), ("staff", "role")])
def test_role_changes_are_checked(role, why):
    admin = _admin()
    target = make_user("nurse@clinic.org", "staff")
    with pytest.raises(UserInputError) as info:
        account_admin.change_role(admin, user_id=str(target.id), role=role, password=PASSWORD)
    assert why in info.value.errors


def test_a_patient_account_keeps_its_role():
    admin = _admin()
    target = make_user("pat@example.org", "patient")
    with pytest.raises(UserInputError):
        account_admin.change_role(admin, user_id=str(target.id), role="staff", password=PASSWORD)
    assert user("pat@example.org").role == "patient"


@pytest.mark.parametrize("role", ["doctor", "staff", "patient"])
def test_other_roles_cannot_change_roles_see_sessions_or_sets(role):
    make_user("root@clinic.org", "admin")
    target = make_user("nurse@clinic.org", "staff")
    make_user(f"{role}@clinic.org", role)
    other, _ = _signed_in(f"{role}@clinic.org")
    with pytest.raises(AccessDenied):
        account_admin.change_role(other, user_id=str(target.id), role="admin", password=PASSWORD)
    with pytest.raises(AccessDenied):
        account_admin.change_role(other, user_id=str(other.user_id), role="admin", password=PASSWORD)
    for fn, kwargs in ((account_admin.activity_of, {"user_id": str(target.id)}),
                       (account_admin.end_sessions, {"user_id": str(target.id)}),
                       (permission_sets.list_sets, {}),
                       (permission_sets.save_set, {"name": "Mine", "role": role, "capabilities": []}),
                       (permission_sets.assign_set, {"user_id": str(other.user_id), "set_id": ""}),
                       (care_team.list_assignments, {})):
        with pytest.raises(AccessDenied):
            _call(fn, other, **kwargs)
    assert user("nurse@clinic.org").role == "staff" and user(f"{role}@clinic.org").role == role
    refused = [e for e in events() if e.actor_id == other.user_id and e.outcome == "denied"]
    assert len(refused) == 8


# ------------------------------------------------------------------ sessions and last activity


def test_admin_sees_an_accounts_sessions_and_signs_it_out_everywhere():
    admin = _admin()
    make_user("nurse@clinic.org", "staff")
    _, first = _signed_in("nurse@clinic.org")
    _, second = _signed_in("nurse@clinic.org")
    target = user("nurse@clinic.org")
    seen = _call(account_admin.activity_of, admin, str(target.id))
    assert len(seen.sessions) == 2 and seen.last_active != "never" and seen.email == "nurse@clinic.org"
    listed, _ = _call(service.list_users, admin, query="nurse")
    assert listed[0].open_sessions == 2 and listed[0].last_active != "never"
    assert _call(account_admin.end_sessions, admin, str(target.id)) == 2
    assert not sessions.check_session(first).ok and not sessions.check_session(second).ok
    assert _call(account_admin.activity_of, admin, str(target.id)).sessions == []
    assert [e.action for e in events() if e.action.startswith("user.sessions")] == [
        "user.sessions.read", "user.sessions.end", "user.sessions.read"]


def test_deactivate_and_reactivate():
    admin = _admin()
    make_user("nurse@clinic.org", "staff")
    _, token = _signed_in("nurse@clinic.org")
    _call(service.set_active, admin, str(user("nurse@clinic.org").id), False)
    assert not sessions.check_session(token).ok
    assert login(client(), "nurse@clinic.org").headers["location"].startswith("/login")
    _call(service.set_active, admin, str(user("nurse@clinic.org").id), True)
    assert login(client(), "nurse@clinic.org").headers["location"] == "/staff"


# ------------------------------------------------------------------ permission sets


def _set(admin, name, role, keys):
    return _call(permission_sets.save_set, admin, name=name, role=role, capabilities=keys)


def _give(admin, email, view):
    return _call(permission_sets.assign_set, admin, user_id=str(user(email).id), set_id=view.id if view else "")


def test_front_desk_and_billing_sets_are_enforced_by_the_policy_decision():
    admin = _admin()
    front = _set(admin, "Front desk", "staff", ["registration", "scheduling", "documents", "insurance"])
    billing = _set(admin, "Billing", "staff", ["insurance", "billing"])
    make_user("desk@clinic.org", "staff")
    make_user("bill@clinic.org", "staff")
    make_user("plain@clinic.org", "staff")
    _give(admin, "desk@clinic.org", front)
    _give(admin, "bill@clinic.org", billing)
    desk, bill, plain = (_signed_in(e)[0] for e in ("desk@clinic.org", "bill@clinic.org", "plain@clinic.org"))
    patient_id = register(by=desk).patient_id  # the services ask decide(): the front desk registers ...
    on_patient = Resource(patient_id=patient_id)
    with unit_of_work() as s:
        assert decide(s, desk, Action.PATIENT_REGISTER).allowed
        assert decide(s, desk, Action.PATIENT_REGISTER).basis is Basis.PERMISSION_SET
        assert not decide(s, desk, Action.CLAIM_WRITE, on_patient).allowed
        assert not decide(s, desk, Action.REMITTANCE_POST).allowed
        assert decide(s, bill, Action.CLAIM_WRITE, on_patient).allowed
        assert not decide(s, bill, Action.PATIENT_REGISTER).allowed
        assert not decide(s, bill, Action.APPOINTMENT_WRITE, on_patient).allowed
        assert decide(s, bill, Action.PATIENT_SEARCH).allowed  # both find patients
        for action in (Action.PATIENT_REGISTER, Action.CLAIM_WRITE):  # no set: the full role (the default)
            assert decide(s, plain, action, on_patient).allowed
    with pytest.raises(AccessDenied):  # ... billing cannot
        register(OWEN, by=bill)


def test_a_set_edit_applies_at_the_next_check_and_a_removed_set_restores_the_role():
    admin = _admin()
    billing = _set(admin, "Billing", "staff", ["billing"])
    make_user("bill@clinic.org", "staff")
    _give(admin, "bill@clinic.org", billing)
    _, token = _signed_in("bill@clinic.org")
    assert not sessions.check_session(token).actor.can(Action.INSURANCE_WRITE)
    _call(permission_sets.save_set, admin, set_id=billing.id, name="Billing", capabilities=["billing", "insurance"])
    assert sessions.check_session(token).actor.can(Action.INSURANCE_WRITE)
    _give(admin, "bill@clinic.org", None)
    actor = sessions.check_session(token).actor
    assert actor.permissions is None and actor.can(Action.PATIENT_REGISTER)
    changes = [e.detail for e in events("permission_set.update")]
    assert changes[0]["before"]["capabilities"] == ["billing"]
    assert changes[0]["after"]["capabilities"] == ["insurance", "billing"]
    assert [e.detail["after"] for e in events("user.permission_set")] == ["Billing", None]


async def test_the_navigation_hides_the_links_a_set_leaves_out_and_shows_them_again_without_it():
    import patient_portal.patient_portal  # noqa: F401  (every page adds its links)
    from tests.integration.test_session_state import _state

    admin = _admin()
    billing = _set(admin, "Billing", "staff", ["insurance", "billing"])
    make_user("bill@clinic.org", "staff")
    _give(admin, "bill@clinic.org", billing)
    _, token = _signed_in("bill@clinic.org")

    async def hidden() -> list[str]:
        state = _state(f"portal_session={token}", "/staff")
        await type(state).event_handlers["require"].fn(state, "staff")
        assert state.guard == "ok"
        return state.hidden_links

    links = await hidden()
    assert "/billing/claims" not in links  # the set's own work
    assert {"/staff/register", "/staff/review", "/staff/appointments", "/staff/messages"} <= set(links)
    _give(admin, "bill@clinic.org", None)  # the full role again
    assert await hidden() == []


def test_a_set_never_exceeds_its_role_and_fits_only_its_role():
    admin = _admin()
    with pytest.raises(permission_sets.SetInvalid) as beyond:
        _set(admin, "Clinical desk", "staff", ["registration", "clinical_care"])
    assert "capabilities" in beyond.value.errors
    with pytest.raises(permission_sets.SetInvalid) as admins:
        _set(admin, "Auditor", "admin", ["oversight"])
    assert "capabilities" in admins.value.errors
    with pytest.raises(permission_sets.SetInvalid):
        _set(admin, "Patients", "patient", [])
    front = _set(admin, "Front desk", "staff", ["registration"])
    with pytest.raises(permission_sets.SetInvalid):
        _set(admin, "front DESK", "staff", ["billing"])  # names are unique, whatever the case
    make_user("doc@clinic.org", "doctor")
    with pytest.raises(permission_sets.SetInvalid):
        _give(admin, "doc@clinic.org", front)  # a staff set on a doctor's account
    assert user("doc@clinic.org").permission_set_id is None


def test_a_role_change_takes_the_old_roles_set_off():
    admin = _admin()
    front = _set(admin, "Front desk", "staff", ["registration"])
    target = make_user("desk@clinic.org", "staff")
    _give(admin, "desk@clinic.org", front)
    account_admin.change_role(admin, user_id=str(target.id), role="doctor", password=PASSWORD)
    assert user("desk@clinic.org").permission_set_id is None
    assert events("user.role")[-1].detail["before"]["permission_set"] == "Front desk"
    doctor, _ = _signed_in("desk@clinic.org")
    assert doctor.permissions is None and doctor.can(Action.CLINICAL_WRITE)


def test_an_admins_set_keeps_user_management():
    admin = _admin()
    narrow = _set(admin, "Admin without settings", "admin", ["users", "oversight"])
    _give(admin, "root@clinic.org", narrow)
    me, _ = _signed_in("root@clinic.org")
    with unit_of_work() as s:
        assert decide(s, me, Action.USER_MANAGE).allowed and not decide(s, me, Action.SYSTEM_CONFIGURE).allowed


# ------------------------------------------------------------------ care teams, the admin's list


def test_admin_lists_care_team_assignments_and_removes_one():
    admin = _admin()
    doc = make_user("doc@clinic.org", "doctor")
    other = make_user("doc2@clinic.org", "doctor")
    first = register().patient_id
    second = register(OWEN).patient_id
    for pid, did in ((first, doc.id), (second, doc.id), (second, other.id)):
        _call(care_team.assign_doctor, admin, patient_id=pid, doctor_id=did)
    rows, total = _call(care_team.list_assignments, admin)
    assert total == 3 and {r.patient_name for r in rows} >= {"Owen Park"} and all(r.mrn for r in rows)
    mine, count = _call(care_team.list_assignments, admin, doctor_id=str(other.id))
    assert count == 1 and mine[0].patient_id == str(second) and mine[0].doctor_email == "doc2@clinic.org"
    assert _call(care_team.unassign_doctor, admin, patient_id=str(second), doctor_id=str(other.id))
    assert _call(care_team.list_assignments, admin)[1] == 2
    assert [e.action for e in events() if e.action.startswith("careteam.list")] == ["careteam.list"] * 3
    assert events("careteam.unassign")[-1].patient_id == second


def test_a_doctor_cannot_take_a_colleague_off_a_team():
    admin = _admin()
    doc = make_user("doc@clinic.org", "doctor")
    colleague = make_user("doc2@clinic.org", "doctor")
    pid = register().patient_id
    _call(care_team.assign_doctor, admin, patient_id=pid, doctor_id=doc.id)
    other = actor_for(colleague)
    with pytest.raises(AccessDenied):
        _call(care_team.unassign_doctor, other, patient_id=pid, doctor_id=doc.id)
