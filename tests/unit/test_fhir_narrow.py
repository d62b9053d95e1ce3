"""The SQL narrowing of a FHIR Observation search (``api.fhir.search.narrow``) never drops what the
exact filter (``search.matches``) keeps: every reading it would leave out of SQL, matches refuses."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from patient_portal.api.fhir import search


def _observation(at: datetime, code: str = "8480-6", category: str = "vital-signs") -> dict:
    return {"resourceType": "Observation", "id": "x", "status": "final",
            "category": [{"coding": [{"code": category}]}],
            "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
            "effectiveDateTime": at.isoformat()}


def _inside(narrow: search.Narrow, resource: dict, at: datetime) -> bool:
    code = resource["code"]["coding"][0]["code"]
    lab = resource["category"][0]["coding"][0]["code"] == "laboratory"
    return ((narrow.codes is None or code in narrow.codes) and (narrow.labs if lab else narrow.vitals)
            and (narrow.start is None or at >= narrow.start) and (narrow.end is None or at < narrow.end))


@pytest.mark.parametrize("params", [
    [("date", "ge2024-03-10")], [("date", "gt2024-03-10")], [("date", "le2024-03-10")], [("date", "lt2024-03-10")],
    [("date", "2024-03-10")], [("date", "eq2024-03")], [("date", "2024")], [("date", "ne2024-03-10")],
    [("date", "ge2024-03-01"), ("date", "lt2024-04-01")], [("date", "ge2024-03-10T23:30:00+00:00")],
    [("code", "http://loinc.org|8480-6,8462-4")], [("code", "8480-6"), ("code", "8462-4")],
    [("category", "vital-signs")], [("category", "laboratory")], [("category", "http://x|laboratory,vital-signs")],
])
def test_what_sql_leaves_out_the_exact_filter_refuses_too(params):
    query = search.parse("Observation", [("patient", "p"), *params], strict=True)
    narrow = search.narrow(query)
    start = datetime(2023, 12, 25, 0, 0, tzinfo=UTC)
    for hours in range(0, 24 * 120, 5):  # every five hours over four months, both categories, three codes
        at = start + timedelta(hours=hours)
        for code in ("8480-6", "8462-4", "2339-0"):
            for category in ("vital-signs", "laboratory"):
                resource = _observation(at, code, category)
                if search.matches(resource, query):
                    assert _inside(narrow, resource, at), (params, resource)


def test_a_search_without_filters_is_not_narrowed_and_a_date_window_is():
    assert search.narrow(search.parse("Observation", [("patient", "p")], strict=True)) == search.Narrow()
    window = search.narrow(search.parse("Observation", [("date", "ge2024-03-01"), ("date", "le2024-03-31")],
                                        strict=True))
    assert window.start == datetime(2024, 2, 29, tzinfo=UTC) and window.end == datetime(2024, 4, 2, tzinfo=UTC)


def test_a_read_by_id_narrows_to_one_vital_set_or_one_lab_result():
    set_id, result_id = uuid.uuid4(), uuid.uuid4()
    assert search.narrow_id(f"{set_id}.systolic") == search.Narrow(labs=False, set_id=set_id)
    assert search.narrow_id(str(result_id)) == search.Narrow(vitals=False, result_id=result_id)
    assert search.narrow_id("not-an-id") is None
