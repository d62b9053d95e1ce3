"""The printable immunization record (issue 12, Immunizations): a vaccine is filed with its CVX code,
date, dose number, lot, site, route and who gave it (checked: an unknown CVX code, a dose number of 0,
a site that is not one); the record prints as a PDF holding the clinic, the patient, every vaccine
with those details and the day printed (read back with a PDF library); the patient prints their
own, care-team doctors and admins print it, each print audited as an export with its purpose; the
front desk, a doctor off the care team, another patient and a patient with no record are refused
(audited); over HTTP the route answers the PDF, 401 without a session and 403 to the front desk."""

from __future__ import annotations

import uuid
from datetime import date

import pypdfium2 as pdfium
import pytest
from sqlalchemy import text

from patient_portal.core.access import AccessDenied
from patient_portal.core.db import get_engine, unit_of_work
from patient_portal.domain.codes import service as codes
from patient_portal.domain.history import service as history
from patient_portal.domain.patients.common import PatientNotFound
from patient_portal.domain.patients.validation import ValidationFailed
from tests.integration.clinic_support import PATIENT, doctor, two_patients
from tests.integration.identity_support import client, login, make_user
from tests.integration.patients_support import actor, call, events

PRINTED = history.RECORD_PRINTED
FLU = {"vaccine": "", "cvx": "150", "given_on": "2025-10-01", "dose_number": "1", "lot": "FL2025-118",
       "site": "left_arm", "route": "intramuscular", "given_by": "Dr. Ada Author"}
TDAP = {"vaccine": "Tdap", "cvx": "115", "given_on": "2021-06-22", "dose_number": "2", "lot": "TD-5521",
        "site": "right_arm", "route": "intramuscular", "given_by": "City Pharmacy"}


@pytest.fixture
def clinic(db):
    codes.load(sets=["cvx"])
    return two_patients({"doc": doctor()})


def _file(c, values):
    return call(history.save_item, c["doc"], patient_id=c["elena"], kind="immunizations", values=dict(values))


def _text(data: bytes) -> str:
    """Every page's text, as a PDF reader sees it."""
    document = pdfium.PdfDocument(data)
    return "\n".join(document[i].get_textpage().get_text_range() for i in range(len(document)))


def _print(who, c, patient=None):
    return call(history.immunization_record, who, patient_id=patient or c["elena"])


# ---------------------------------------------------------------- filing a vaccine with its details


def test_a_vaccine_is_filed_with_its_cvx_name_dose_lot_site_route_and_who_gave_it(clinic):
    saved = _file(clinic, FLU)
    assert saved["vaccine"] == "Influenza, injectable, quadrivalent, preservative free"  # the CVX table's name
    assert (saved["cvx"], saved["dose_number"], saved["lot"], saved["site"], saved["route"], saved["given_by"]) == (
        "150", "1", "FL2025-118", "left_arm", "intramuscular", "Dr. Ada Author")
    with get_engine().connect() as conn:
        lot, given_by, site = conn.execute(text(
            "SELECT lot, given_by, site FROM history_immunization WHERE site = 'left_arm'")).one()
    assert "FL2025" not in lot and "Ada" not in given_by and site == "left_arm"  # lot and vaccinator: ciphertext


@pytest.mark.parametrize("change,field", [({"cvx": "99999"}, "cvx"), ({"dose_number": "0"}, "dose_number"),
                                          ({"dose_number": "two"}, "dose_number"), ({"site": "ear"}, "site"),
                                          ({"route": "iv"}, "route"), ({"given_on": "2999-01-01"}, "given_on")])
def test_bad_details_are_refused_beside_their_field(clinic, change, field):
    with pytest.raises(ValidationFailed) as refused:
        _file(clinic, {**TDAP, **change})
    assert field in refused.value.errors
    assert [e.values["vaccine"] for e in call(history.read_for_chart, clinic["doc"],
                                              patient_id=clinic["elena"])["immunizations"]] == ["MMR"]


# ---------------------------------------------------------------- the PDF


def test_the_record_holds_the_clinic_the_patient_every_vaccine_and_the_day_printed(clinic, monkeypatch):
    monkeypatch.setenv("PORTAL_CLINIC_NAME", "Harbor Family Practice")
    monkeypatch.setenv("PORTAL_CLINIC_ADDRESS", "7 Quay Road, Salem, MA 01970")
    from patient_portal.settings import reset_settings

    reset_settings()
    _file(clinic, FLU)
    _file(clinic, TDAP)
    name, data = _print(clinic["patient"], clinic)
    assert data.startswith(b"%PDF-") and name.startswith("immunization-record-") and name.endswith(".pdf")
    shown = _text(data)
    for words in ("Harbor Family Practice", "7 Quay Road, Salem, MA 01970", "Immunization record",
                  "Patient: Elena Marsh", "Date of birth: 23 Apr 1979",
                  "Influenza, injectable, quadrivalent, preservative free (CVX 150)", "Given 1 Oct 2025", "Dose 1",
                  "Lot FL2025-118", "Site: Left arm", "Route: Intramuscular", "Given by: Dr. Ada Author",
                  "Tdap (CVX 115)", "Given 22 Jun 2021", "Dose 2", "Lot TD-5521", "Site: Right arm",
                  "Given by: City Pharmacy", "MMR (CVX 03)", "Given 1 May 1980", "3 vaccinations on file"):
        assert words in shown, words
    today = date.today()
    assert f"Printed: {today.day} {today.strftime('%b %Y')}" in shown
    assert shown.index("MMR") < shown.index("Tdap") < shown.index("Influenza")  # oldest first


def test_a_long_record_runs_onto_more_pages(clinic):
    for n in range(40):
        _file(clinic, {**TDAP, "lot": f"LOT-{n:02d}", "given_on": f"20{10 + n // 12:02d}-{n % 12 + 1:02d}-01"})
    _name, data = _print(clinic["doc"], clinic)
    assert len(pdfium.PdfDocument(data)) > 1
    shown = _text(data)
    assert all(f"Lot LOT-{n:02d}" in shown for n in range(40)) and "Page 2 of" in shown


# ---------------------------------------------------------------- who may print it


def test_the_patient_the_care_team_doctor_and_an_admin_print_it_each_audited_with_its_purpose(clinic):
    _file(clinic, TDAP)
    for who, purpose, basis in ((clinic["patient"], "patient_request", "self"), (clinic["doc"], "treatment", "care_team"),
                                (clinic["admin"], "operations", "role")):
        _print(who, clinic)
        event = events(PRINTED)[-1]
        assert (event.actor_id, event.patient_id, event.outcome) == (who.user_id, clinic["elena"], "success")
        assert (event.purpose, event.basis) == (purpose, basis)
        assert event.detail == {"export": "pdf", "vaccines": 2}  # counts only: no vaccine names in the trail


@pytest.mark.parametrize("who", ["staff", "outsider", "omar_patient"])
def test_the_front_desk_a_doctor_off_the_team_and_another_patient_are_refused_and_audited(clinic, who):
    with pytest.raises(AccessDenied):
        _print(clinic[who], clinic)
    refused = events(PRINTED)[-1]
    assert (refused.actor_id, refused.patient_id, refused.outcome) == (clinic[who].user_id, clinic["elena"], "denied")


def test_a_patient_with_no_record_and_an_unknown_record_get_nothing(clinic):
    with pytest.raises(AccessDenied):
        _print(actor(PATIENT, None), clinic)
    with pytest.raises(PatientNotFound):
        _print(clinic["admin"], clinic, patient=uuid.uuid4())
    with pytest.raises(PatientNotFound):
        _print(clinic["admin"], clinic, patient="not-an-id")
    assert [e.outcome for e in events(PRINTED)] == ["denied"]  # nothing printed


# ---------------------------------------------------------------- over HTTP


def test_the_route_answers_the_pdf_to_the_patient_401_without_a_session_and_403_to_the_front_desk(clinic):
    from patient_portal.domain.identity import service as identity

    user = make_user("elena@example.com", "patient")
    with unit_of_work() as s:
        identity.link_patient_system(s, user.id, clinic["elena"])
    url = f"/api/patients/{clinic['elena']}/immunizations.pdf"
    mine = client()
    assert login(mine, "elena@example.com").status_code == 303
    answer = mine.get(url)
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"].startswith('attachment; filename="immunization-record-')
    assert answer.headers["cache-control"] == "no-store"
    assert "MMR (CVX 03)" in _text(answer.content)

    assert client().get(url).status_code == 401
    make_user("desk@clinic.org", "staff")
    desk = client()
    assert login(desk, "desk@clinic.org").status_code == 303
    refused = desk.get(url)
    assert refused.status_code == 403 and refused.headers["content-type"].startswith("text/plain")
    assert b"%PDF" not in refused.content
    assert mine.get(f"/api/patients/{uuid.uuid4()}/immunizations.pdf").status_code == 403  # not her record
