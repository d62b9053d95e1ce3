"""Account administration and care teams: who may, what happens, what is audited; the CLI commands."""

from __future__ import annotations

import io
import uuid

import pytest

from patient_portal import cli
from patient_portal.core.access import AccessDenied, on_care_team
from patient_portal.core.db import unit_of_work
from patient_portal.domain.identity import care_team, service
from patient_portal.domain.identity.sessions import actor_for
from tests.integration.identity_support import PASSWORD, client, events, login, make_user, user
from tests.integration.patients_support import register

pytestmark = pytest.mark.usefixtures("db")


def _call(fn, *args, **kwargs):
    with unit_of_work() as s:
        return fn(s, *args, **kwargs)


def test_admin_creates_lists_and_deactivates_accounts():
    admin = actor_for(make_user("root@clinic.org", "admin"))
    created = _call(service.create_user, admin, email="New.Doc@Clinic.org", role="doctor",
                    display_name="Dr New", password="a long enough passphrase")
    assert created.email == "new.doc@clinic.org" and created.role == "doctor" and created.active
    assert login(client(), "new.doc@clinic.org", "a long enough passphrase").headers["location"] == "/doctor"
    rows, total = _call(service.list_users, admin, query="new.doc")
    assert total == 1 and rows[0].display_name == "Dr New"
    _call(service.set_active, admin, created.id, False)
    assert not user("new.doc@clinic.org").active
    assert [e.action for e in events() if e.action.startswith("user.")] == ["user.create", "user.create",
                                                                            "user.deactivate"]


def test_account_input_is_checked_field_by_field():
    admin = actor_for(make_user("root@clinic.org", "admin"))
    cases = [({"email": "not-an-email"}, "email"), ({"role": "superuser"}, "role"),
             ({"display_name": " "}, "display_name"), ({"password": "password1234"}, "password"),
             ({"password": "short"}, "password"), ({"email": "root@clinic.org"}, "email")]
    for override, field in cases:
        data = {"email": "x@clinic.org", "role": "staff", "display_name": "X", "password": PASSWORD, **override}
        with pytest.raises(service.UserInputError) as info:
            _call(service.create_user, admin, **data)
        assert info.value.field == field


def test_admin_cannot_deactivate_themselves():
    admin = make_user("root@clinic.org", "admin")
    with pytest.raises(service.UserInputError):
        _call(service.set_active, actor_for(admin), admin.id, False)


@pytest.mark.parametrize("role", ["doctor", "staff", "patient"])
def test_other_roles_cannot_manage_accounts(role):
    target = make_user("t@clinic.org", "staff")
    other = actor_for(make_user(f"{role}@clinic.org", role))
    for fn, args in ((service.list_users, ()), (service.set_active, (target.id, False)),
                     (service.unlock_user, (target.id,))):
        with pytest.raises(AccessDenied):
            _call(fn, other, *args)
    with pytest.raises(AccessDenied):
        _call(service.create_user, other, email="z@clinic.org", role="admin", display_name="Z", password=PASSWORD)
    assert user("t@clinic.org").active
    refusals = [e.outcome for e in events() if e.action.startswith("user.") and e.actor_id]
    assert refusals == ["denied"] * 4


@pytest.mark.parametrize("role", ["admin", "staff"])
def test_admin_and_staff_assign_doctors_to_care_teams(role):
    doctor = make_user("doc@clinic.org", "doctor")
    who = actor_for(make_user(f"{role}@clinic.org", role))
    patient_id = register().patient_id  # a real record: care teams take no made-up ids
    assert _call(care_team.assign_doctor, who, patient_id=patient_id, doctor_id=doctor.id)
    assert not _call(care_team.assign_doctor, who, patient_id=patient_id, doctor_id=doctor.id)  # already
    with unit_of_work() as s:
        assert on_care_team(s, doctor.id, patient_id)
    assert [m.email for m in _call(care_team.team_of, who, patient_id)] == ["doc@clinic.org"]
    assert _call(care_team.unassign_doctor, who, patient_id=patient_id, doctor_id=doctor.id)
    with unit_of_work() as s:
        assert not on_care_team(s, doctor.id, patient_id)
    assert [(e.action, e.patient_id) for e in events() if e.action in ("careteam.assign", "careteam.unassign")] == [
        ("careteam.assign", patient_id), ("careteam.unassign", patient_id)]


@pytest.mark.parametrize("role", ["doctor", "patient"])
def test_doctors_and_patients_cannot_change_care_teams(role):
    doctor = make_user("doc@clinic.org", "doctor")
    who = actor_for(make_user(f"{role}x@clinic.org", role))
    with pytest.raises(AccessDenied):
        _call(care_team.assign_doctor, who, patient_id=uuid.uuid4(), doctor_id=doctor.id)
    assert [e.outcome for e in events("careteam.assign")] == ["denied"]


def test_only_active_doctors_join_care_teams():
    admin = actor_for(make_user("root@clinic.org", "admin"))
    nurse = make_user("staff@clinic.org", "staff")
    with pytest.raises(care_team.CareTeamError):
        _call(care_team.assign_doctor, admin, patient_id=register().patient_id, doctor_id=nurse.id)
    with pytest.raises(care_team.CareTeamError):
        _call(care_team.assign_doctor, admin, patient_id="not-a-uuid", doctor_id=nurse.id)


def test_demo_seed_links_the_patient_and_the_care_team():
    from patient_portal.seed import seed_demo

    seed_demo(patients=3)
    seed_demo(patients=3)  # idempotent
    pat, doc = user("patient@demo.clinic"), user("doctor@demo.clinic")
    assert {user(f"{r}@demo.clinic").role for r in ("admin", "doctor", "staff", "patient")} == {
        "admin", "doctor", "staff", "patient"}
    assert pat.patient_id is not None
    with unit_of_work() as s:
        assert on_care_team(s, doc.id, pat.patient_id)
    for role in ("admin", "doctor", "staff", "patient"):
        assert login(client(), f"{role}@demo.clinic", "demo-clinic-2026").headers["location"] == f"/{role}"


def test_cli_create_user_and_unlock(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("a fine long passphrase\n"))
    assert cli.main(["create-user", "--email", "ops@clinic.org", "--role", "staff", "--name", "Ops Person",
                     "--password-stdin"]) == 0
    assert "created staff account ops@clinic.org" in capsys.readouterr().out
    assert login(client(), "ops@clinic.org", "a fine long passphrase").headers["location"] == "/staff"
    monkeypatch.setattr("sys.stdin", io.StringIO("password1234\n"))
    assert cli.main(["create-user", "--email", "weak@clinic.org", "--role", "staff", "--name", "W",
                     "--password-stdin"]) == 1
    assert "too common" in capsys.readouterr().err
    for _ in range(5):
        login(client(), "ops@clinic.org", "wrong wrong wrong")
    assert login(client(), "ops@clinic.org", "a fine long passphrase").headers["location"].startswith("/login")
    assert cli.main(["unlock-user", "OPS@clinic.org"]) == 0
    assert login(client(), "ops@clinic.org", "a fine long passphrase").headers["location"] == "/staff"
    assert cli.main(["unlock-user", "nobody@clinic.org"]) == 1


def test_production_refuses_demo_seed_and_demo_accounts(monkeypatch, capsys):
    from patient_portal.seed import seed_demo
    from patient_portal.settings import get_settings, reset_settings

    url = get_settings().db_url
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("PORTAL_DATABASE_URL", url)
    reset_settings()
    with pytest.raises(RuntimeError):
        seed_demo()
    assert cli.main(["seed"]) == 1
    monkeypatch.setattr("sys.stdin", io.StringIO("demo-clinic-2026\n"))
    assert cli.main(["create-user", "--email", "admin@demo.clinic", "--role", "admin", "--name", "A",
                     "--password-stdin"]) == 1
    assert "refused in production" in capsys.readouterr().err
