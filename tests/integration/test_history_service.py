"""The history service hands out entries whose codes carry their system (ICD-10, RxNorm, CVX) as a
Coding a FHIR API can serve, next to the form strings the chart shows; roles that read no clinical
rows get none."""

from __future__ import annotations

import pytest

from patient_portal.core.coding import CVX, ICD10_CM, RXNORM, Coding
from patient_portal.domain.history import service as history
from tests.integration.patients_support import ADMIN, STAFF, actor, call, register


@pytest.fixture
def pid(db):
    return register().patient_id


def test_entries_carry_their_codes_as_codings_beside_the_form_strings(pid):
    entries = call(history.read_for_chart, actor(ADMIN), patient_id=pid)
    condition, = entries["conditions"]
    assert condition.coding == Coding(ICD10_CM, "J45", "Asthma")
    assert condition.values["code"] == "J45" and condition.form()["code_system"] == "ICD-10"
    assert entries["immunizations"][0].coding == Coding(CVX, "03", "MMR")
    medication, = entries["medications"]
    assert medication.coding is None  # no RxNorm code on file
    assert entries["allergies"][0].coding is None and entries["allergies"][0].version == 1


def test_a_saved_code_reads_back_with_its_system(pid):
    admin = actor(ADMIN)
    call(history.save_item, admin, patient_id=pid, kind="medications",
         values={"name": "Metformin", "dose": "500 mg", "rxnorm": "860975"})
    medications = call(history.read_for_chart, admin, patient_id=pid)["medications"]
    assert [m.coding for m in medications][-1] == Coding(RXNORM, "860975", "Metformin")


def test_roles_that_read_no_clinical_rows_get_none(pid):
    assert call(history.read_for_chart, actor(STAFF), patient_id=pid) is None
