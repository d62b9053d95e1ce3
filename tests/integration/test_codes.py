"""Code tables: loading is idempotent, search finds what a clinician types, lookups answer what the
prescription check and the vitals form need, and only signed-in roles may search."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from patient_portal import cli
from patient_portal.core.access import AccessDenied, Actor, Role
from patient_portal.core.coding import CVX, FORMULARY, ICD10_CM, LOINC, RXNORM, Coding
from patient_portal.core.db import read_only
from patient_portal.core.errors import Invalid
from patient_portal.domain.codes import service as codes
from patient_portal.domain.codes.models import CodeConcept, CodeToken

DOCTOR = Actor(user_id=uuid.uuid4(), role=Role.DOCTOR)


def _search(system: str, query: str, actor: Actor | None = DOCTOR, limit: int = 20) -> list[str]:
    with read_only() as s:
        return [c.code for c in codes.search(s, actor, system=system, text=query, limit=limit)]


def _counts(code_set: str) -> tuple[int, int]:
    with read_only() as s:
        concepts = s.scalar(select(func.count()).select_from(CodeConcept).where(CodeConcept.code_set == code_set))
        tokens = s.scalar(select(func.count()).select_from(CodeToken).where(CodeToken.code_set == code_set))
    return concepts, tokens


def test_loading_again_changes_nothing(code_tables):
    before = {key: _counts(key) for key in ("icd10cm", "cvx", "loinc", "formulary")}
    with read_only() as s:
        ids = dict(s.exec(select(CodeConcept.code, CodeConcept.id)).all())
    reports = codes.load_small() + codes.load(sets=["icd10cm"], icd10_prefixes=("E11", "E78", "I10", "I15", "J44",
                                                                                "J45", "N18", "S72.0", "Z82"))
    assert all(r.skipped for r in reports)
    assert {key: _counts(key) for key in before} == before
    [forced] = codes.load(sets=["formulary"], force=True)
    assert not forced.skipped and _counts("formulary") == before["formulary"]
    with read_only() as s:
        assert dict(s.exec(select(CodeConcept.code, CodeConcept.id)).all()) == ids  # same ids every load
    assert before["icd10cm"][0] > 300 and before["cvx"][0] > 60 and before["formulary"][0] >= 50


def test_a_code_the_new_release_drops_stays_findable_by_code_only(code_tables):
    codes.load(sets=["icd10cm"], icd10_prefixes=("E11",))  # "the new release" has no I10
    with read_only() as s:
        assert codes.get(s, ICD10_CM, "I10") == Coding(ICD10_CM, "I10", "Essential (primary) hypertension")
    assert "I10" not in _search(ICD10_CM, "hypertension")
    assert _search(ICD10_CM, "type 2 diab")[0] == "E11.9"


@pytest.mark.parametrize(("query", "first"), [
    ("type 2 diab", "E11.9"),
    ("Type 2 Diabetes", "E11.9"),
    ("E11.9", "E11.9"),
    ("e119", "E11.9"),
    ("E11", "E11"),
    ("hypertension", "I10"),
    ("essential hypert", "I10"),
    ("unspecified asthma", "J45.909"),
    ("chronic kidney disease stage 3", "N18.30"),
    ("copd", "J44.9"),  # the words clinicians type (data/icd10cm_terms.txt)
    ("htn", "I10"),
    ("t2dm", "E11.9"),
])
def test_icd10_search_puts_what_was_meant_first(code_tables, query, first):
    assert _search(ICD10_CM, query)[0] == first


def test_icd10_search_orders_exact_code_prefix_then_words_billable_before_headers(code_tables):
    found = _search(ICD10_CM, "E11.6", limit=50)
    assert found[0] == "E11.6" and all(code.startswith("E11.6") for code in found)
    words = _search(ICD10_CM, "type 2 diabetes hyperosmolarity")
    assert words[-1] == "E11.0" and set(words) == {"E11.0", "E11.00", "E11.01"}  # the header after its codes
    common = _search(ICD10_CM, "type 2 diabetes", limit=50)
    assert common.index("E11.65") < common.index("E11.621")  # a common code before a rare one
    assert _search(ICD10_CM, "diab mell type 2 without compl")[0] == "E11.9"  # every word, any order
    assert _search(ICD10_CM, "diabetes zebra") == []
    assert _search(ICD10_CM, "   ") == [] and _search(ICD10_CM, "of the") == []
    assert len(_search(ICD10_CM, "e", limit=5)) == 5


def test_formulary_vaccine_and_vital_searches(code_tables):
    assert _search(FORMULARY, "amox")[:2] == ["amoxicillin", "amoxicillin-clavulanate"]
    assert _search(FORMULARY, "paracetamol") == ["acetaminophen"]
    assert _search(FORMULARY, "salbutamol") == ["albuterol"]
    assert _search(FORMULARY, "penicillin")[0] == "penicillin-v"
    assert {"amoxicillin", "dicloxacillin"} <= set(_search(FORMULARY, "penicillins"))  # by class
    assert _search(FORMULARY, "Lipitor") == ["atorvastatin"]  # by brand
    assert _search(CVX, "tdap")[0] == "115"
    assert _search(CVX, "shingles")[0] == "187"  # active before the retired live vaccine
    flu = _search(CVX, "flu")
    assert flu and "48" not in flu  # Haemophilus influenzae type b is not a flu vaccine
    assert _search(CVX, "08")[0] == "08"
    assert _search(LOINC, "8480-6") == ["8480-6"]
    assert {"8480-6", "8462-4"} <= set(_search(LOINC, "blood pressure"))


def test_lookups_for_the_prescription_check_and_the_vitals_form(code_tables):
    with read_only() as s:
        amox = codes.formulary_entry(s, "amoxicillin")
        assert amox.name == "Amoxicillin" and amox.in_class("Penicillins") and not amox.in_class("cephalosporins")
        assert amox.rxnorm == Coding(RXNORM, "723", "Amoxicillin")
        assert (amox.dose_unit, amox.dose_min, amox.dose_max, amox.max_daily) == ("mg", 250, 1000, 3000)
        assert "500 mg" in amox.strengths and "oral" in amox.routes and "capsule" in amox.forms
        assert codes.formulary_entry(s, "cephalexin").in_class("cephalosporins")
        assert codes.formulary_entry(s, "insulin-glargine").dose_max is None  # individualized: no range
        assert "penicillins" in codes.drug_classes(s)
        systolic = codes.vital(s, "8480-6")
        assert (systolic.unit, systolic.key) == ("mm[Hg]", "bp_systolic")
        assert systolic.plausible(120) and not systolic.plausible(400)
        assert not codes.vital(s, "29463-7").plausible(0)  # a weight of 0
        assert codes.vital(s, "39156-5").components == ("29463-7", "8302-2")  # BMI from weight and height
        assert [v.coding.code for v in codes.vitals(s)][:3] == ["85354-9", "8480-6", "8462-4"]
        assert codes.get(s, CVX, "115").display == "Tdap"


def test_unknown_codes_are_none_and_unknown_systems_invalid(code_tables):
    with read_only() as s:
        assert codes.get(s, ICD10_CM, "E11.99999") is None
        assert codes.get(s, ICD10_CM, "") is None
        assert codes.formulary_entry(s, "unobtainium") is None
        assert codes.vital(s, "0000-0") is None
        with pytest.raises(Invalid):
            codes.get(s, "http://example.org/made-up", "1")
        with pytest.raises(Invalid):
            codes.search(s, DOCTOR, system=ICD10_CM, text="x" * 101)


@pytest.mark.parametrize("role", list(Role))
def test_every_signed_in_role_may_search(code_tables, role):
    actor = Actor(user_id=uuid.uuid4(), role=role, patient_id=uuid.uuid4() if role is Role.PATIENT else None)
    assert _search(FORMULARY, "amox", actor=actor)[0] == "amoxicillin"


def test_signed_out_search_is_refused_and_recorded(code_tables):
    from patient_portal.core.audit import AuditEvent

    with pytest.raises(AccessDenied):
        _search(ICD10_CM, "diab", actor=None)
    with read_only() as s:
        refused = s.scalars(select(AuditEvent).where(AuditEvent.action == "codes.search")).all()
    assert [e.outcome for e in refused] == ["denied"]


def test_searches_are_not_audited(code_tables):
    from patient_portal.core.audit import AuditEvent

    with read_only() as s:
        before = s.scalar(select(func.count()).select_from(AuditEvent))
    _search(ICD10_CM, "diab")
    with read_only() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == before


def test_cli_loads_a_cdc_cvx_download(db, tmp_path, capsys):
    cdc = tmp_path / "cvx.txt"
    cdc.write_text("115|Tdap|tetanus toxoid, reduced diphtheria toxoid, and acellular pertussis vaccine, adsorbed||"
                   "Active|108|0|2010/05/28\n999|unknown|unknown vaccine or immune globulin||Inactive|138|1|2010/05/28\n")
    assert cli.main(["codes", "load", "--set", "cvx", "--cvx-file", str(cdc)]) == 0
    assert "cvx: loaded 2 codes" in capsys.readouterr().out
    assert _counts("cvx")[0] == 2
    assert cli.main(["codes", "load", "--set", "cvx", "--cvx-file", str(cdc)]) == 0
    assert "cvx: up to date" in capsys.readouterr().out
    assert cli.main(["codes", "load", "--set", "cvx", "--cvx-file", str(tmp_path / "missing.txt")]) == 2


def test_full_icd10cm_release_loads_and_searches(db):
    """The whole CMS release (~98,000 codes): the one test that loads it (seconds)."""
    [report] = codes.load(sets=["icd10cm"])
    assert not report.skipped and report.concepts > 95_000 and "simple-icd-10-cm" in report.source
    assert _search(ICD10_CM, "type 2 diab")[:1] == ["E11.9"]
    assert _search(ICD10_CM, "hypertension")[0] == "I10"
    assert _search(ICD10_CM, "copd")[0] == "J44.9" and _search(ICD10_CM, "gerd")[0] == "K21.9"
    assert _search(ICD10_CM, "S72.001A")[0] == "S72.001A"
    assert len(_search(ICD10_CM, "unsp", limit=50)) == 50
    [again] = codes.load(sets=["icd10cm"])
    assert again.skipped and again.seconds < 1


def test_postgresql_plans_every_search_for_its_own_words(db):
    """psycopg prepares a statement after 5 runs and PostgreSQL may then use a generic plan, made
    without the words: code search's ranges took seconds that way. Every connection forces custom
    plans (core.db)."""
    from patient_portal.core.db import get_engine

    engine = get_engine()
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW plan_cache_mode").scalar() == "force_custom_plan"
