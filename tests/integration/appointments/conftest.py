"""The appointment tests' clinic (see support.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from patient_portal.core.access import Role
from patient_portal.domain.appointments import service as appts
from patient_portal.domain.consent import service as consent
from tests.integration.appointments.support import ZONE, Clinic, doctor_account
from tests.integration.patients_support import ADMIN, STAFF, actor, call, draft, put_on_care_team, register


@pytest.fixture
def clinic(db, monkeypatch) -> Clinic:
    from patient_portal.settings import reset_settings

    monkeypatch.setenv("PORTAL_TIMEZONE", ZONE)
    reset_settings()
    admin, staff = actor(ADMIN), actor(STAFF)
    lee, kim = doctor_account("Dr. Ana Lee"), doctor_account("Dr. Joon Kim")
    new = call(appts.save_visit_type, admin, values={"name": "New patient", "duration_minutes": 40,
                                                     "buffer_minutes": 5, "new_patient": True})
    follow = call(appts.save_visit_type, admin, values={"name": "Follow-up", "duration_minutes": 20})
    annual = call(appts.save_visit_type, admin, values={"name": "Annual exam", "duration_minutes": 30,
                                                        "who_may_book": "staff"})
    start = (datetime.now(UTC) - timedelta(days=30)).date()
    for doc in (lee, kim):
        for weekday in range(5):
            call(appts.add_availability, admin, doctor_id=doc.user_id, weekday=weekday, start_time="09:00",
                 end_time="12:00", valid_from=start)
    elena = register().patient_id
    omar = register(draft(given_name="Omar", family_name="Haddad", date_of_birth="1985-02-11",
                          email="omar@example.com", phone_mobile="+1 617 555 0199",
                          preferred_contact_method="email")).patient_id
    ines = register(draft(given_name="Ines", family_name="Moreau", date_of_birth="1990-07-01",
                          email="ines@example.com", phone_mobile="+1 617 555 0177",
                          preferred_contact_method="email")).patient_id
    for pid in (elena, omar, ines):
        put_on_care_team(lee, pid)
    call(consent.decide_own, actor(Role.PATIENT, elena), purpose="sms", status="granted")  # she agreed to texts
    return Clinic(admin, staff, lee, kim, elena, omar, ines, new.id, follow.id, annual.id)
