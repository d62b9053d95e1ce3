"""Training and security awareness: an admin publishes a document chosen roles must acknowledge;
those accounts are sent to acknowledge it before any other page; a report shows who has not. Every
role allowed and refused; everything audited."""

from __future__ import annotations

import pytest

from patient_portal.core.access import AccessDenied
from patient_portal.core.errors import NotFound
from patient_portal.domain.training import service as training
from patient_portal.state.session import TRAINING_PATH, SessionState
from tests.integration.identity_support import client, events, login, make_user
from tests.integration.test_permissions_admin import _call, _signed_in

pytestmark = pytest.mark.usefixtures("db")

TEXT = "Never share your password. Lock your screen. Report a lost laptop at once."


def _publish(admin, roles=("staff",), title="Annual HIPAA training"):
    return _call(training.publish, admin, title=title, body=TEXT, roles=list(roles))


def _people():
    make_user("root@clinic.org", "admin")
    for role in ("staff", "doctor", "patient"):
        make_user(f"{role}@clinic.org", role)
    people = {role: _signed_in(f"{role}@clinic.org")[0] for role in ("staff", "doctor", "patient")}
    return people | {"admin": _signed_in("root@clinic.org")[0]}


def test_staff_must_acknowledge_what_was_published_for_them_and_the_report_shows_who_has_not():
    who = _people()
    make_user("staff2@clinic.org", "staff")
    doc = _publish(who["admin"])
    assert training.has_pending(who["staff"]) and not training.has_pending(who["doctor"])
    assert not training.has_pending(who["admin"])
    pending = _call(training.pending, who["staff"])
    assert [d.title for d in pending] == ["Annual HIPAA training"] and pending[0].body == TEXT
    assert [p.email for p in _call(training.outstanding, who["admin"], document_id=doc.id)] == [
        "staff2@clinic.org", "staff@clinic.org"]
    assert _call(training.acknowledge, who["staff"], document_id=doc.id)
    assert not _call(training.acknowledge, who["staff"], document_id=doc.id)  # once is enough
    assert not training.has_pending(who["staff"])
    assert [p.email for p in _call(training.outstanding, who["admin"], document_id=doc.id)] == ["staff2@clinic.org"]
    listed = _call(training.list_documents, who["admin"])
    assert (listed[0].acknowledged, listed[0].due, listed[0].active) == (1, 2, True)
    assert [e.action for e in events() if e.action.startswith("training.") and e.outcome == "success"] == [
        "training.publish", "training.report", "training.acknowledge", "training.report"]


def test_a_retired_document_is_asked_of_nobody():
    who = _people()
    doc = _publish(who["admin"], roles=("staff", "doctor", "patient"))
    assert all(training.has_pending(who[r]) for r in ("staff", "doctor", "patient"))
    _call(training.retire, who["admin"], document_id=doc.id)
    assert not any(training.has_pending(who[r]) for r in ("staff", "doctor", "patient"))
    with pytest.raises(NotFound):
        _call(training.acknowledge, who["staff"], document_id=doc.id)
    assert events("training.retire")[0].object_id == doc.id


def test_nobody_acknowledges_a_document_not_asked_of_their_role():
    who = _people()
    doc = _publish(who["admin"], roles=("doctor",))
    for role in ("staff", "patient", "admin"):
        with pytest.raises(NotFound):
            _call(training.acknowledge, who[role], document_id=doc.id)
    with pytest.raises(NotFound):
        _call(training.acknowledge, who["doctor"], document_id="not-an-id")


@pytest.mark.parametrize("role", ["staff", "doctor", "patient"])
def test_other_roles_cannot_publish_retire_or_see_the_report(role):
    who = _people()
    doc = _publish(who["admin"])
    other = who[role]
    for fn, kwargs in ((training.publish, {"title": "Mine", "body": TEXT, "roles": ["staff"]}),
                       (training.retire, {"document_id": doc.id}),
                       (training.outstanding, {"document_id": doc.id}),
                       (training.list_documents, {})):
        with pytest.raises(AccessDenied):
            _call(fn, other, **kwargs)
    assert training.has_pending(who["staff"])  # still asked: nothing was retired
    assert len([e for e in events() if e.actor_id == other.user_id and e.outcome == "denied"]) == 4


def test_a_document_needs_a_title_text_and_roles():
    who = _people()
    for kwargs, field in (({"title": " "}, "title"), ({"body": ""}, "body"), ({"roles": []}, "roles"),
                          ({"roles": ["superuser"]}, "roles")):
        data = {"title": "Policy", "body": TEXT, "roles": ["staff"], **kwargs}
        with pytest.raises(training.TrainingInvalid) as info:
            _call(training.publish, who["admin"], **data)
        assert field in info.value.errors


async def test_the_page_guard_sends_staff_to_acknowledge_before_their_dashboard():
    from tests.integration.test_session_state import _state

    who = _people()
    doc = _publish(who["admin"])
    c = client()
    login(c, "staff@clinic.org")
    cookie = f"portal_session={c.cookies.get('portal_session')}"
    state = _state(cookie, "/staff")
    spec = await SessionState.event_handlers["require"].fn(state, "staff")
    assert TRAINING_PATH in repr(spec) and state.guard == "checking"
    state = _state(cookie, TRAINING_PATH)
    assert await SessionState.event_handlers["require"].fn(state, "account") is None and state.guard == "ok"
    _call(training.acknowledge, who["staff"], document_id=doc.id)
    state = _state(cookie, "/staff")
    assert await SessionState.event_handlers["require"].fn(state, "staff") is None and state.guard == "ok"
