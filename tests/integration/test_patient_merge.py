"""Merging duplicate patients and undoing it (issue 17), at the service layer, on SQLite and
PostgreSQL: an admin merges a duplicate into the record kept — its history, insurance, contacts,
documents and care team move, still readable (ciphertext bound to its row, not its patient) — the
duplicate leaves search and points to the kept record; unmerge restores every table row for row
(a property test over random records); staff, doctors and patients are refused whatever the ids;
the same record twice or one already merged is refused with a message saying why."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from patient_portal.core.access import AccessDenied, Role
from patient_portal.core.db import get_engine, unit_of_work
from patient_portal.core.errors import Invalid
from patient_portal.domain.documents import service as documents
from patient_portal.domain.emergency import service as emergency
from patient_portal.domain.history.models import Allergy
from patient_portal.domain.patients import service as patients
from patient_portal.domain.patients.models import Patient
from patient_portal.models import metadata
from tests.integration.patients_support import (
    ADMIN,
    DOCTOR,
    STAFF,
    actor,
    call,
    draft,
    events,
    put_on_care_team,
)
from tests.samples import one_page_pdf

ADMIN_ACTOR = actor(ADMIN)
SHARED_DOCTOR = replace(actor(DOCTOR), display_name="Dr. Shared")
PDF = one_page_pdf("HbA1c 5.6")
SECTIONS = ("allergies", "medications", "conditions", "family_history", "immunizations")


def _register(sections: set[str], *, insurance: bool, contacts: int = 1, name: str = "Marsh") -> uuid.UUID:
    data = draft(family_name=name, email=f"{uuid.uuid4().hex[:8]}@example.com",
                 phone_mobile=f"+1 617 555 {uuid.uuid4().int % 9000 + 1000}")
    data["history"] = {k: v for k, v in data["history"].items() if k in sections}
    data["insurance"] = data["insurance"] if insurance else []
    if contacts > 1:  # registration asks for one contact at least
        data["emergency"].append({"name": "Ann Marsh", "relationship": "Sister", "phone": "+1 617 555 0177",
                                  "order": "secondary"})
    with unit_of_work() as s:
        return patients.register_patient(s, actor(STAFF), data, confirmed_different=True).patient_id


def _upload(pid: uuid.UUID, title: str) -> None:
    documents.upload(ADMIN_ACTOR, patient_id=pid, filename="lab.pdf", chunks=[PDF],
                     meta={"category": "lab_result", "title": title, "service_date": "2026-01-15", "source": "City Lab"})


def _emergency_info(pid: uuid.UUID) -> None:
    found = call(emergency.information, ADMIN_ACTOR, patient_id=pid)
    call(emergency.save_information, ADMIN_ACTOR, patient_id=pid, expected_version=found.version,
         directives=[], instructions=["Other"])


def _snapshot() -> dict[str, list[tuple]]:
    """Every table's raw rows (ciphertext as stored), bar the audit trail and the merge log."""
    out = {}
    with get_engine().connect() as conn:
        for table in metadata.sorted_tables:
            if table.name.startswith("audit") or table.name == "patient_merge":
                continue
            out[table.name] = sorted(tuple(repr(v) for v in row) for row in conn.execute(sa.select(table)))
    return out


def _rows_of(pid: uuid.UUID) -> dict[str, set]:
    from patient_portal.domain.patients.merge import patient_links

    out: dict[str, set] = {}
    with get_engine().connect() as conn:
        for link in patient_links():
            ids = set(conn.execute(sa.select(link.pk).where(link.column == pid)).scalars())
            if ids:
                out.setdefault(link.table.name, set()).update(ids)
    return out


def _merge(keep, dup, who=ADMIN_ACTOR) -> dict[str, Any]:
    return call(patients.merge_patients, who, keep=keep, duplicate=dup)


@pytest.fixture
def pair(db):
    keep = _register(set(SECTIONS), insurance=True, contacts=2)
    dup = _register({"allergies", "medications"}, insurance=True, contacts=2)
    return keep, dup


# ------------------------------------------------------------------------------ the property

record_shape = st.fixed_dictionaries({
    "sections": st.sets(st.sampled_from(SECTIONS)),
    "insurance": st.booleans(), "contacts": st.integers(1, 2), "documents": st.integers(0, 2),
    "doctors": st.integers(0, 2), "shared_doctor": st.booleans(), "emergency_info": st.booleans(),
})


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(keep_shape=record_shape, dup_shape=record_shape)
def test_merge_moves_everything_and_unmerge_restores_every_row(db, keep_shape, dup_shape):
    ids = []
    for shape in (keep_shape, dup_shape):
        pid = _register(shape["sections"], insurance=shape["insurance"], contacts=shape["contacts"])
        for n in range(shape["documents"]):
            _upload(pid, f"Panel {n}")
        for _ in range(shape["doctors"]):
            put_on_care_team(actor(DOCTOR), pid)
        if shape["shared_doctor"]:
            put_on_care_team(SHARED_DOCTOR, pid)
        if shape["emergency_info"]:
            _emergency_info(pid)
        ids.append(pid)
    keep, dup = ids
    before = _snapshot()
    dup_rows, keep_rows = _rows_of(dup), _rows_of(keep)

    result = _merge(keep, dup)

    after = _rows_of(keep)
    assert not _rows_of(dup), "nothing stays on the duplicate"
    for table, rows in keep_rows.items():
        assert rows <= after[table], f"the kept record keeps its own {table}"
    both_shared = keep_shape["shared_doctor"] and dup_shape["shared_doctor"]
    both_info = keep_shape["emergency_info"] and dup_shape["emergency_info"]
    assert result["set_aside"] == int(both_shared) + int(both_info)
    for table, rows in dup_rows.items():
        moved = rows & after.get(table, set())
        assert len(rows - moved) <= (1 if table in ("care_team_member", "emergency_info") else 0), table
    with unit_of_work() as s:  # moved ciphertext still decrypts: the chart shows the duplicate's allergies
        for allergy_id in dup_rows.get("history_allergy", ()):
            assert s.get(Allergy, allergy_id).substance == "Latex"
        assert s.get(Patient, dup).merged_into_id == keep

    call(patients.unmerge, ADMIN_ACTOR, result["merge_id"])

    assert _snapshot() == before
    assert _rows_of(dup) == dup_rows


# ------------------------------------------------------------------------------ what a user sees

def test_merged_duplicate_leaves_search_and_its_data_shows_on_the_kept_chart(pair):
    keep, dup = pair
    preview = call(patients.preview_merge, ADMIN_ACTOR, keep=keep, duplicate=dup)
    assert preview["duplicate"]["name"] and {"what": "Allergies", "count": 1} in preview["duplicate"]["counts"]
    before = call(patients.get_chart, ADMIN_ACTOR, keep)
    assert len(call(patients.search_patients, ADMIN_ACTOR, "Marsh")["rows"]) == 2

    result = _merge(keep, dup)

    assert {"what": "Allergies", "count": 1} in result["counts"]
    chart = call(patients.get_chart, ADMIN_ACTOR, keep)
    assert len(chart["history"]["allergies"]) == len(before["history"]["allergies"]) + 1
    assert len(chart["insurance"]) == len(before["insurance"]) + 1
    assert [r["id"] for r in call(patients.search_patients, ADMIN_ACTOR, "Marsh")["rows"]] == [str(keep)]
    with pytest.raises(patients.PatientNotFound):
        call(patients.get_chart, ADMIN_ACTOR, dup)
    with unit_of_work() as s:
        assert patients.merged_into(s, ADMIN_ACTOR, dup) == str(keep)
        assert patients.merged_into(s, actor(DOCTOR), dup) == ""  # off the care team: no pointer
    merges = call(patients.list_merges, ADMIN_ACTOR)
    assert merges[0]["status"] == "merged" and merges[0]["duplicate_id"] == str(dup)
    audited = [e for e in events() if e.action == "patient.merge"]
    assert {e.patient_id for e in audited} == {keep, dup} and {e.purpose for e in audited} == {"operations"}

    call(patients.unmerge, ADMIN_ACTOR, result["merge_id"])

    assert len(call(patients.get_chart, ADMIN_ACTOR, keep)["history"]["allergies"]) == len(
        before["history"]["allergies"])
    assert len(call(patients.search_patients, ADMIN_ACTOR, "Marsh")["rows"]) == 2
    assert {e.patient_id for e in events() if e.action == "patient.unmerge"} == {keep, dup}
    assert call(patients.list_merges, ADMIN_ACTOR)[0]["status"] == "unmerged"


def test_rows_added_to_the_kept_record_after_the_merge_stay_with_it(pair):
    keep, dup = pair
    result = _merge(keep, dup)
    _upload(keep, "After the merge")
    call(patients.unmerge, ADMIN_ACTOR, result["merge_id"])
    kept_docs = _rows_of(keep)["document"]
    assert len(kept_docs) == 1 and "document" not in _rows_of(dup)


# ------------------------------------------------------------------------------ refusals

@pytest.mark.parametrize("role", [Role.STAFF, Role.DOCTOR, Role.PATIENT])
def test_only_admins_merge_preview_list_or_unmerge(pair, role):
    keep, dup = pair
    who = actor(role, patient_id=dup if role == Role.PATIENT else None)
    if role == Role.DOCTOR:
        put_on_care_team(who, keep)
        put_on_care_team(who, dup)
    before = _snapshot()
    for fn, kw in ((patients.merge_patients, {"keep": keep, "duplicate": dup}),
                   (patients.merge_patients, {"keep": dup, "duplicate": keep}),
                   (patients.preview_merge, {"keep": keep, "duplicate": dup}),
                   (patients.list_merges, {})):
        with pytest.raises(AccessDenied):
            call(fn, who, **kw)
    done = _merge(keep, dup)
    with pytest.raises(AccessDenied):
        call(patients.unmerge, who, done["merge_id"])
    refused = sorted(e.action for e in events() if e.actor_id == who.user_id and e.outcome == "denied")
    assert refused == ["patient.merge", "patient.merge", "patient.merge.list", "patient.merge.preview",
                       "patient.unmerge"]
    call(patients.unmerge, ADMIN_ACTOR, done["merge_id"])
    assert _snapshot() == before


def test_same_record_twice_already_merged_or_unknown_is_refused(pair):
    keep, dup = pair
    with pytest.raises(Invalid, match="cannot be merged into itself"):
        _merge(keep, keep)
    with pytest.raises(patients.PatientNotFound):
        _merge(keep, uuid.uuid4())
    with pytest.raises(patients.PatientNotFound):
        _merge(keep, "not-an-id")
    done = _merge(keep, dup)
    third = _register({"allergies"}, insurance=False, name="Haddad")
    for k, d in ((keep, dup), (dup, third), (third, dup)):
        with pytest.raises(Invalid, match="already merged"):
            _merge(k, d)
    call(patients.unmerge, ADMIN_ACTOR, done["merge_id"])
    with pytest.raises(Invalid, match="already undone"):
        call(patients.unmerge, ADMIN_ACTOR, done["merge_id"])


def test_unmerge_waits_for_a_later_merge_of_the_kept_record(pair):
    keep, dup = pair
    first = _merge(keep, dup)
    third = _register({"conditions"}, insurance=False, name="Haddad")
    second = _merge(third, keep)
    with pytest.raises(Invalid, match="Undo that merge first"):
        call(patients.unmerge, ADMIN_ACTOR, first["merge_id"])
    call(patients.unmerge, ADMIN_ACTOR, second["merge_id"])
    call(patients.unmerge, ADMIN_ACTOR, first["merge_id"])
    assert "history_allergy" in _rows_of(dup) and "history_condition" in _rows_of(keep)
