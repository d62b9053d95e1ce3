"""The FHIR directory (issue 16): Schedule (one per doctor, the visit types one may book) and Slot
(free times from the appointments area's own search), read and searched by the portal's users and
by SMART apps; a patient sees only the visit types they may book themselves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from patient_portal.domain.appointments import service as appts
from tests.integration.fhir_support import signed_in, valid
from tests.integration.identity_support import events
from tests.integration.patients_support import ADMIN, actor, call, put_on_care_team, register

pytestmark = pytest.mark.usefixtures("db")


@pytest.fixture
def clinic():
    """Dr. Lee (weekdays 09:00-12:00 UTC), a Follow-up anyone may book and an Annual exam staff book;
    a patient on Dr. Lee's team signed in, and the front desk."""
    admin = actor(ADMIN)
    lee, lee_actor = signed_in("lee@clinic.org", "doctor")
    follow = call(appts.save_visit_type, admin, values={"name": "Follow-up", "code": "follow_up",
                                                        "duration_minutes": 20})
    call(appts.save_visit_type, admin, values={"name": "Annual exam", "code": "annual", "duration_minutes": 30,
                                               "who_may_book": "staff"})
    for weekday in range(7):
        call(appts.add_availability, admin, doctor_id=lee_actor.user_id, weekday=weekday, start_time="09:00",
             end_time="12:00", valid_from=(datetime.now(UTC) - timedelta(days=1)).date())
    elena = register().patient_id
    put_on_care_team(lee_actor, elena)
    me, _ = signed_in("elena@example.com", "patient", elena)
    desk, _ = signed_in("desk@clinic.org", "staff")
    return {"lee": str(lee_actor.user_id), "me": me, "desk": desk, "follow": follow}


def _entries(resp) -> list[dict]:
    assert resp.status_code == 200, resp.text
    return [e["resource"] for e in valid(resp.json())["entry"]]


def test_schedules_name_each_doctor_and_the_visit_types_one_may_book(clinic):
    [schedule] = _entries(clinic["desk"].get("/fhir/Schedule"))
    assert schedule["id"] == clinic["lee"] and schedule["actor"][0]["reference"] == f"Practitioner/{clinic['lee']}"
    assert {c["coding"][0]["code"] for c in schedule["serviceType"]} == {"follow_up", "annual"}
    [mine] = _entries(clinic["me"].get("/fhir/Schedule", params={"actor": f"Practitioner/{clinic['lee']}"}))
    assert [c["coding"][0]["code"] for c in mine["serviceType"]] == ["follow_up"]  # the annual exam: staff book it
    assert _entries(clinic["desk"].get("/fhir/Schedule", params={"actor": "Practitioner/someone-else"})) == []
    assert valid(clinic["desk"].get(f"/fhir/Schedule/{clinic['lee']}").json())["id"] == clinic["lee"]


def test_slots_are_the_free_times_the_portal_would_offer(clinic):
    day = (datetime.now(UTC) + timedelta(days=3)).date()
    params = {"service-type": "follow_up", "schedule": f"Schedule/{clinic['lee']}", "start": f"ge{day}",
              "_count": "5"}
    slots = _entries(clinic["me"].get("/fhir/Slot", params=[*params.items(), ("start", f"le{day}")]))
    assert [s["start"][11:16] for s in slots] == ["09:00", "09:20", "09:40", "10:00", "10:20"]
    assert {s["status"] for s in slots} == {"free"} and slots[0]["end"][11:16] == "09:20"
    first = slots[0]
    assert valid(clinic["me"].get(f"/fhir/Slot/{first['id']}").json())["start"] == first["start"]
    # booked through the portal, the time is no longer a free slot
    call(appts.book, actor(ADMIN), patient_id=register(confirmed_different=True).patient_id,
         visit_type_id=clinic["follow"].id, doctor_id=clinic["lee"], start=first["start"])
    assert clinic["me"].get(f"/fhir/Slot/{first['id']}").status_code == 404
    again = _entries(clinic["me"].get("/fhir/Slot", params=[*params.items(), ("start", f"le{day}")]))
    assert again[0]["start"][11:16] == "09:20"
    assert any(e.detail.get("interaction") == "search" for e in events("fhir.request") if e.object_type == "Slot")


def test_slot_searches_say_what_is_missing_or_unknown(clinic):
    missing = clinic["me"].get("/fhir/Slot")
    assert missing.status_code == 400 and "service-type" in missing.json()["issue"][0]["diagnostics"]
    staff_only = clinic["me"].get("/fhir/Slot", params={"service-type": "annual"})
    assert staff_only.status_code == 400 and "Unknown service-type 'annual'" in staff_only.json()["issue"][0]["diagnostics"]
    assert _entries(clinic["me"].get("/fhir/Slot", params={"service-type": "follow_up", "status": "busy"})) == []
    assert clinic["me"].get("/fhir/Slot/not-a-slot").status_code == 404
    assert clinic["desk"].get("/fhir/Slot", params={"service-type": "annual", "_count": "1"}).status_code == 200


def test_the_capability_statement_lists_the_directory(clinic):
    body = clinic["desk"].get("/fhir/metadata").json()
    served = {r["type"]: r for r in body["rest"][0]["resource"]}
    assert {"Schedule", "Slot", "Practitioner"} <= set(served)
    assert {p["name"] for p in served["Slot"]["searchParam"]} >= {"schedule", "service-type", "start", "status"}
