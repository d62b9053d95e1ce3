"""What the appointment screens ask of the service beyond booking itself: a day's free times with the
reason in plain words when there are none, taking a waitlist offer from the portal, the bookings
that wait for approval, the no-show flag staff see, how reminders reach the patient, the settings'
doctor list — each allowed and refused as the roles say."""

from __future__ import annotations

from datetime import timedelta

import pytest

from patient_portal.core.access import AccessDenied
from patient_portal.core.db import utcnow
from patient_portal.domain.appointments import service as appts
from patient_portal.domain.appointments.availability import local_day
from patient_portal.domain.appointments.dto import AppointmentInvalid, StatusConflict
from tests.integration.appointments.support import Clinic, at, doctor_account, workday
from tests.integration.appointments.test_service import _past
from tests.integration.patients_support import call


def _day(c: Clinic, who, day, *, doctor=None, vt=None):
    return call(appts.day_slots, who, visit_type_id=vt or c.follow_up, doctor_id=(doctor or c.lee).user_id,
                day=day.isoformat())


def test_a_day_shows_its_free_times_or_says_why_there_are_none(clinic):
    c = clinic
    patient = c.patient(c.omar)
    day = workday()
    shown = _day(c, patient, day)
    assert shown.message == "" and len(shown.slots) == 9  # 09:00-12:00, 20 minutes each
    assert shown.slots[0].start == at(day, "09:00") and shown.slots[0].doctor_name == "Dr. Ana Lee"
    # today (a time two hours ahead) is inside the clinic's 24 hours of notice for patients, not for staff
    today = local_day(utcnow())
    soon = _day(c, patient, today)
    assert soon.slots == [] and soon.message.startswith("Appointments can be booked from 24 hours ahead")
    assert soon.next_free is not None and soon.next_free.start >= utcnow() + timedelta(hours=24)
    # a day the doctor does not work: said so, with the next free time
    saturday = day + timedelta(days=(5 - day.weekday()) % 7)
    off = _day(c, patient, saturday)
    assert off.slots == [] and off.message == (
        f"Dr. Ana Lee does not see patients for this visit on {saturday.strftime('%a %-d %b %Y')}. "
        "Choose another day.")
    assert off.next_free is not None and local_day(off.next_free.start).weekday() == 0
    # beyond the clinic's horizon; a full day
    far = _day(c, patient, local_day(utcnow()) + timedelta(days=120))
    assert far.message.startswith("Appointments can be booked up to 90 days ahead")
    for slot, pid in zip(shown.slots, [c.ines, c.elena, c.omar] * 3, strict=True):
        call(appts.book, c.staff, patient_id=pid, visit_type_id=c.follow_up, doctor_id=c.lee.user_id,
             start=slot.start)
    full = _day(c, patient, day)
    assert full.slots == [] and full.message.startswith("Every time on") and full.next_free is not None
    # patients only see doctors of their care team (any doctor for a new-patient visit)
    with pytest.raises(AppointmentInvalid) as other:
        _day(c, patient, day, doctor=c.kim)
    assert other.value.errors == {"doctor": "Choose one of the doctors listed."}
    assert _day(c, patient, day, doctor=c.kim, vt=c.new_patient).slots
    with pytest.raises(AppointmentInvalid):
        _day(c, patient, day, vt=c.annual)  # booked by the clinic only


def test_a_patient_takes_a_waitlist_offer_from_the_portal(clinic):
    c = clinic
    day = workday()
    first = call(appts.book, c.staff, patient_id=c.omar, visit_type_id=c.follow_up, doctor_id=c.lee.user_id,
                 start=at(day, "09:00"))
    later = call(appts.book, c.staff, patient_id=c.ines, visit_type_id=c.follow_up, doctor_id=c.lee.user_id,
                 start=at(workday(8), "10:00"))
    ines = c.patient(c.ines)
    call(appts.join_waitlist, ines, patient_id=c.ines, visit_type_id=c.follow_up, appointment_id=later.id)
    call(appts.cancel, c.patient(c.omar), appointment_id=first.id)
    offer = next(a for a in call(appts.own, ines).upcoming if a.status == "proposed")
    assert offer.start == at(day, "09:00") and offer.hold_until is not None
    with pytest.raises(AccessDenied):
        call(appts.accept_offer, c.patient(c.omar), appointment_id=offer.id)  # another patient's offer
    taken = call(appts.accept_offer, ines, appointment_id=offer.id)
    assert taken.status == "booked"
    mine = call(appts.own, ines)
    assert [a.start for a in mine.upcoming] == [at(day, "09:00")]
    assert [a.cancel_reason.code for a in mine.past if a.id == later.id] == ["pat-swl"]
    with pytest.raises(StatusConflict):
        call(appts.accept_offer, ines, appointment_id=offer.id)


def test_staff_see_bookings_waiting_for_approval_and_patients_whose_self_booking_is_paused(clinic):
    c = clinic
    values = {**vars(call(appts.get_rules, c.admin)), "require_approval": True}
    call(appts.save_rules, c.admin, values=values)
    waiting = call(appts.book, c.patient(c.omar), patient_id=c.omar, visit_type_id=c.follow_up,
                   doctor_id=c.lee.user_id, start=at(workday(), "10:00"))
    listed = call(appts.pending, c.staff)
    assert [(a.id, a.can_approve) for a in listed] == [(waiting.id, True)]
    for role_actor in (c.lee, c.patient(c.omar)):
        with pytest.raises(AccessDenied):
            call(appts.pending, role_actor)
    for minutes in (600, 400, 200):
        call(appts.mark_no_show, c.staff, appointment_id=_past(c, c.omar, minutes))
    assert call(appts.pending, c.staff)[0].booking_paused
    assert not call(appts.own, c.patient(c.omar)).upcoming[0].booking_paused  # staff's flag, not the patient's


def test_the_patient_list_says_how_reminders_reach_them_and_admins_list_every_doctor(clinic):
    c = clinic
    assert call(appts.own, c.patient(c.elena)).reminders_by == "sms"
    assert call(appts.for_patient, c.staff, patient_id=c.omar).reminders_by == "email"
    new_doctor = doctor_account("Dr. Noor Shah")
    assert {d.name for d in call(appts.all_doctors, c.admin)} == {"Dr. Ana Lee", "Dr. Joon Kim", "Dr. Noor Shah"}
    assert new_doctor.user_id not in {d.id for d in call(appts.scheduled_doctors, c.staff)}
    for who in (c.staff, c.lee, c.patient(c.omar)):
        with pytest.raises(AccessDenied):
            call(appts.all_doctors, who)
