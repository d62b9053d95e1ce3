"""The demo clinic `portal seed` builds: who works there, its patients, what each role can read of them
through the services, that a second run adds nothing, and that production refuses it."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from sqlalchemy import func, text
from sqlmodel import select

from patient_portal import cli, seed
from patient_portal.core.access import AccessDenied, Actor, CareTeamMember, Role
from patient_portal.core.db import get_engine, unit_of_work
from patient_portal.core.storage import get_blob_store
from patient_portal.domain.documents import service as documents
from patient_portal.domain.documents.models import ADMINISTRATIVE, Document
from patient_portal.domain.identity.models import User
from patient_portal.domain.patients import demo, search
from patient_portal.domain.patients import service as patients
from patient_portal.domain.patients.demo_people import (
    ALLERGIES,
    CONDITIONS,
    MEDICATIONS,
    RESERVED_FAMILIES,
    people,
)
from patient_portal.domain.patients.models import Patient
from patient_portal.domain.patients.validation import validate_draft
from patient_portal.models import metadata

SMALL = 40


def _actor(email: str) -> Actor:
    with unit_of_work() as s:
        user = s.exec(select(User).where(User.email == email)).one()
    return Actor(user_id=user.id, role=Role(user.role), display_name=user.display_name or "",
                 patient_id=user.patient_id)


def _counts() -> dict[str, int]:
    """Rows in every table (audit events included) and objects in the blob store."""
    with get_engine().connect() as conn:
        counts = {t.name: conn.execute(text(f'SELECT COUNT(*) FROM "{t.name}"')).scalar_one()
                  for t in metadata.sorted_tables}
    counts["blobs"] = len(list(get_blob_store().keys()))
    return counts


def _patient_ids() -> list:
    with unit_of_work() as s:
        return list(s.exec(select(Patient.id).order_by(Patient.mrn)).all())


def test_the_demo_clinic_is_readable_through_the_services_by_each_role(db):
    report = seed.seed_demo(patients=SMALL)
    assert (report.accounts_added, report.patients, report.patients_added) == (7, SMALL, SMALL)
    with unit_of_work() as s:
        roles = Counter(s.exec(select(User.role)).all())
        teams = s.exec(select(CareTeamMember.patient_id, CareTeamMember.user_id)).all()
    assert roles == {"doctor": 3, "staff": 2, "admin": 1, "patient": 1}
    ids = _patient_ids()
    assert len(ids) == SMALL
    per_patient = Counter(pid for pid, _ in teams)
    assert set(per_patient) == set(ids) and set(per_patient.values()) <= {1, 2}, "everyone on 1-2 care teams"

    admin, doctor, staff = _actor("admin@demo.clinic"), _actor("doctor@demo.clinic"), _actor("staff@demo.clinic")
    patient = _actor("patient@demo.clinic")
    mine = {pid for pid, uid in teams if uid == doctor.user_id}
    assert 3 <= len(mine) < SMALL, "the demo doctor looks after several patients, not all"

    with unit_of_work() as s:
        charts = [patients.get_chart(s, admin, pid) for pid in ids]
    generated = [c for c in charts if c["patient"]["mrn"] not in {number for number, *_ in demo.DEMO}]
    assert len(generated) == SMALL - 3
    assert all(1 <= len(c["insurance"]) <= 2 for c in generated), "1-2 coverages each"
    assert all(1 <= len(c["emergency"]) <= 2 for c in charts), "1-2 emergency contacts each"
    conditions = [row for c in charts for row in c["history"]["conditions"]]
    known = {code: description for code, description, _ in CONDITIONS}
    assert conditions and all(known.get(row["code"]) == row["description"] and row["code_system"] == "ICD-10"
                              for row in conditions)
    assert sum(bool(c["history"]["medications"]) for c in charts) >= SMALL // 4
    assert sum(bool(c["history"]["immunizations"]) for c in charts) >= SMALL // 2
    assert all(row["cvx"] for c in charts for row in c["history"]["immunizations"])
    assert sum(bool(c["history"]["allergies"]) for c in charts) >= SMALL // 5
    ages = [int(c["patient"]["age"]) for c in charts]
    assert min(ages) < 18 and max(ages) >= 65

    # the demo doctor reads the charts of their care-team patients and no others (and is refused, audited)
    with unit_of_work() as s:
        for pid in mine:
            assert patients.get_chart(s, doctor, pid)["history"] is not None
    outsider = next(pid for pid in ids if pid not in mine)
    with pytest.raises(AccessDenied), unit_of_work() as s:
        patients.get_chart(s, doctor, outsider)
    # staff reach everyone, without clinical rows; search finds the generated people by name
    with unit_of_work() as s:
        chart = patients.get_chart(s, staff, outsider)
        assert chart["history"] is None and chart["insurance"]
        name = chart["patient"]["family_name"]
        found = search.search_patients(s, staff, name)
        assert str(outsider) in {r["id"] for r in found["rows"]}
        by_doctor = search.search_patients(s, doctor, "Garcia")
        assert [r["name"] for r in by_doctor["rows"]] == ["Maria Garcia"]

    # the demo patient account is Maria Garcia's rich record, which the demo doctor looks after
    assert patient.patient_id in ids
    with unit_of_work() as s:
        own = patients.get_chart(s, patient, patient.patient_id)
    assert own["patient"]["name"] == "Maria Garcia" and patient.patient_id in mine
    assert len(own["insurance"]) == 2 and len(own["emergency"]) == 2
    assert len(own["history"]["conditions"]) >= 3 and len(own["history"]["medications"]) >= 2

    # documents: both kinds, real files, each readable by whoever may read it
    listed = documents.list_documents(patient, patient_id=patient.patient_id)
    assert listed.total == 4 and any(d.provided_by_patient for d in listed.items)
    assert {d.category in {c.value for c in ADMINISTRATIVE} for d in listed.items} == {True, False}
    for item in listed.items:
        opened = documents.open_file(patient, document_id=item.id)
        head = b"".join(opened.chunks)[:8]
        assert head.startswith(b"%PDF-" if item.kind == "pdf" else b"\x89PNG\r\n\x1a\n")
    with unit_of_work() as s:
        docs = s.exec(select(Document.patient_id, Document.category)).all()
    with_docs = {pid for pid, _ in docs}
    assert len(with_docs) >= 2 and all(1 <= n <= 4 for n in Counter(pid for pid, _ in docs).values())
    for pid in with_docs & mine:
        assert documents.list_documents(doctor, patient_id=pid).total >= 1
    for pid in with_docs - mine:
        with pytest.raises(AccessDenied):
            documents.list_documents(doctor, patient_id=pid)
    assert sum(documents.list_documents(admin, patient_id=pid).total for pid in with_docs) == len(docs)
    assert staff_sees_only_administrative(staff, with_docs)


def staff_sees_only_administrative(staff: Actor, patient_ids) -> bool:
    shown = [d for pid in patient_ids for d in documents.list_documents(staff, patient_id=pid).items]
    return all(d.category in {c.value for c in ADMINISTRATIVE} for d in shown)


def test_seeding_twice_changes_nothing_and_a_bigger_seed_only_adds(db):
    seed.seed_demo(patients=12)
    first = _counts()
    ids = _patient_ids()
    again = seed.seed_demo(patients=12)
    assert (again.accounts_added, again.patients_added, again.documents_added) == (0, 0, 0)
    assert _counts() == first, "a second run wrote something (audit events included)"
    seed.seed_demo(patients=20)
    assert set(ids) < set(_patient_ids()) and len(_patient_ids()) == 20


def test_demo_data_is_refused_outside_demo_mode(db, monkeypatch, capsys):
    from patient_portal.settings import get_settings, reset_settings

    url = get_settings().db_url
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("PORTAL_DATABASE_URL", url)
    reset_settings()
    with pytest.raises(RuntimeError):
        seed.seed_demo(patients=5)
    assert cli.main(["seed", "--patients", "5"]) == 1
    assert "only for demo mode" in capsys.readouterr().err
    monkeypatch.setenv("PORTAL_ENV", "demo")
    monkeypatch.setenv("PORTAL_DEMO_ACCOUNTS", "0")
    reset_settings()
    with pytest.raises(RuntimeError):
        seed.seed_demo(patients=5)
    with unit_of_work() as s:
        assert s.exec(select(func.count()).select_from(Patient)).one() == 0
        assert s.exec(select(func.count()).select_from(User)).one() == 0


def test_the_cli_seeds_and_reports(db, capsys):
    assert cli.main(["seed", "--patients", "6"]) == 0
    assert "added 7 accounts, 6 patients" in capsys.readouterr().out
    assert cli.main(["seed", "--patients", "6"]) == 0
    assert "nothing to add" in capsys.readouterr().out


def test_generated_people_are_believable_valid_and_the_same_every_time():
    today = date(2026, 3, 14)
    crowd = people(200, today)
    assert crowd[:50] == people(50, today), "person i does not depend on how many are made"
    for person in crowd:
        assert validate_draft(person.draft.as_dict()) == {}, person.index
    ages = [p.age for p in crowd]
    assert min(ages) <= 2 and 85 <= max(ages) <= 95
    assert not {p.draft.basic["family_name"] for p in crowd} & RESERVED_FAMILIES
    assert len({p.mrn for p in crowd}) == 200
    phones = [p.draft.basic.get("phone_mobile") for p in crowd if p.age >= 18 and p.draft.basic.get("phone_mobile")]
    assert len(phones) == len(set(phones)) and all(" 555 01" in n and not n.startswith("+1 617") for n in phones)
    assert all(p.draft.basic.get("email", "").endswith(("example.com", "example.net", "example.org"))
               for p in crowd if p.draft.basic.get("email"))
    assert all(1 <= len(p.draft.insurance) <= 2 and 1 <= len(p.draft.emergency) <= 2 for p in crowd)
    assert all(p.draft.insurance[0]["payer"] in ("Medicare", "Tufts Health Plan") for p in crowd if p.age >= 65)
    substances = {a[0] for a in ALLERGIES}
    allergies = [a for p in crowd for a in p.draft.history["allergies"]]
    assert allergies and all(a["substance"] in substances and a["severity"] for a in allergies)
    names = {m[0] for options in MEDICATIONS.values() for m in options}
    meds = [m for p in crowd for m in p.draft.history["medications"]]
    assert len(meds) > 100 and all(m["name"] in names and m["dose"] and m["frequency"] for m in meds)
    doctors = Counter(d for p in crowd for d in p.doctors)
    assert doctors[0] > doctors[1] > 0 and doctors[2] > 0
    assert all(1 not in p.doctors for p in crowd if p.age >= 21), "the pediatrician sees children"


def test_the_full_demo_clinic(db):
    report = seed.seed_demo()
    assert report.patients == report.patients_added == seed.DEMO_PATIENTS == 200
    with unit_of_work() as s:
        with_docs = Counter(s.exec(select(Document.patient_id)).all())
        teams = Counter(s.exec(select(CareTeamMember.user_id)).all())
    assert 20 <= len(with_docs) <= 40, "about 30 patients have documents"
    doctor = _actor("doctor@demo.clinic")
    assert 60 <= teams[doctor.user_id] <= 150 and len(teams) == 3
