"""Appointments at the service layer (issue 13): configuration, "first available", booking within
the clinic's rules, no double booking (the database decides, 50 at once on PostgreSQL), reschedule
and cancel moving and removing reminders, attendance, the waitlist, and who may do what — every
role allowed and refused, another patient's ids too."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, timedelta

import pytest
from sqlalchemy import text
from sqlmodel import select

from patient_portal.core.access import AccessDenied
from patient_portal.core.db import get_engine, unit_of_work, utcnow
from patient_portal.core.errors import Invalid
from patient_portal.domain.appointments import service as appts
from patient_portal.domain.appointments.dto import AppointmentInvalid, SlotTaken
from patient_portal.domain.appointments.models import Appointment
from tests.integration.appointments.support import (
    Clinic,
    at,
    doctor_account,
    jobs_under,
    mail_jobs,
    workday,
)
from tests.integration.patients_support import call, events, register


def _book(c: Clinic, who=None, *, patient=None, vt=None, doctor=None, start=None, reason=None):
    return call(appts.book, who or c.staff, patient_id=patient or c.omar, visit_type_id=vt or c.follow_up,
                doctor_id=(doctor or c.lee).user_id, start=start or at(workday(), "09:00"), reason=reason)


def _past(c: Clinic, patient, minutes_ago: int = 10, status: str = "booked") -> uuid.UUID:
    """An appointment that began `minutes_ago` (written directly: booking refuses the past)."""
    start = utcnow().replace(second=0, microsecond=0) - timedelta(minutes=minutes_ago)
    with unit_of_work() as s:
        row = Appointment(patient_id=patient, doctor_id=c.kim.user_id, visit_type_id=c.follow_up, start_at=start,
                          end_at=start + timedelta(minutes=20), blocked_until=start + timedelta(minutes=20),
                          status=status)
        s.add(row)
        s.flush()
        return row.id


# ---------------------------------------------------------------- first available and booking


def test_staff_find_the_first_available_time_and_book_it(clinic):
    c = clinic
    first = call(appts.find_slots, c.staff, visit_type_id=c.new_patient, limit=5)
    assert len(first) == 5 and first == sorted(first, key=lambda s: (s.start, str(s.doctor_id)))
    assert {s.doctor_name for s in first} <= {"Dr. Ana Lee", "Dr. Joon Kim"}
    day = workday()
    one = call(appts.find_slots, c.staff, visit_type_id=c.new_patient, doctor_id=c.kim.user_id,
               date_from=day.isoformat(), date_to=day.isoformat(), limit=50)
    # 09:00–12:00, 40 minutes plus 5 of buffer: 09:00, 09:45, 10:30, 11:15
    assert [s.start for s in one] == [at(day, t) for t in ("09:00", "09:45", "10:30", "11:15")]

    booked = _book(c, vt=c.new_patient, doctor=c.kim, patient=c.ines, start=one[1].start, reason="Knee pain")
    assert booked.status == "booked" and booked.doctor_name == "Dr. Joon Kim" and booked.reason == "Knee pain"
    assert booked.start == at(day, "09:45") and booked.end == at(day, "10:25")
    after = call(appts.find_slots, c.staff, visit_type_id=c.new_patient, doctor_id=c.kim.user_id,
                 date_from=day.isoformat(), date_to=day.isoformat())
    assert at(day, "09:45") not in [s.start for s in after]
    event, = events("appointment.book")
    assert event.patient_id == c.ines and event.outcome == "success" and event.detail["via"] == "staff"
    assert "Knee" not in str(event.detail)
    # reminders queued 72 and 24 hours before, under keys a reschedule or a cancellation finds
    reminders = {j.key: j.run_after for j in jobs_under(f"appt-reminder:{booked.id}")}
    assert set(reminders) == {f"appt-reminder:{booked.id}:72", f"appt-reminder:{booked.id}:24"}
    assert reminders[f"appt-reminder:{booked.id}:24"].replace(tzinfo=UTC) == booked.start - timedelta(hours=24)
    # Ines prefers email: the booking's email names the clinic, time and doctor, with the .ics
    message, = [m for m in mail_jobs() if m["to"] == "ines@example.com"]
    assert "Dr. Joon Kim" in message["text"] and "Knee" not in message["text"] and "New patient" not in message["text"]
    assert message["attachments"][0]["content_type"] == "text/calendar; method=REQUEST"


def test_the_reason_for_the_visit_is_ciphertext_at_rest(clinic):
    c = clinic
    booked = _book(c, reason="Chest pain when climbing stairs")
    with get_engine().connect() as conn:
        raw = conn.execute(text("SELECT reason FROM appointment WHERE id = :i"),
                           {"i": booked.id.hex if get_engine().dialect.name == "sqlite" else booked.id}).scalar()
    assert raw and "Chest" not in raw


def test_a_taken_time_is_refused_with_the_next_free_times(clinic):
    c = clinic
    day = workday()
    _book(c, start=at(day, "09:00"))
    with pytest.raises(SlotTaken) as taken:
        _book(c, patient=c.ines, start=at(day, "09:00"))
    assert taken.value.alternatives and taken.value.alternatives[0].start == at(day, "09:20")
    # a 40-minute new-patient visit at 09:45 would overlap a follow-up booked at 09:40
    _book(c, patient=c.elena, start=at(day, "09:40"))
    with pytest.raises(SlotTaken):
        _book(c, vt=c.new_patient, patient=c.ines, start=at(day, "09:45"))


def test_the_database_refuses_a_double_booking_the_service_did_not_check(clinic):
    """The constraint itself: a second active row for the same doctor and time cannot be written (on
    PostgreSQL an overlapping one with another start cannot either)."""
    c = clinic
    first = _book(c, start=at(workday(), "10:00"))

    def insert(start, length):
        with unit_of_work() as s:
            s.add(Appointment(patient_id=c.ines, doctor_id=c.lee.user_id, visit_type_id=c.follow_up, start_at=start,
                              end_at=start + length, blocked_until=start + length, status="booked"))

    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        insert(first.start, timedelta(minutes=20))
    if get_engine().dialect.name == "postgresql":
        with pytest.raises(IntegrityError):
            insert(first.start + timedelta(minutes=10), timedelta(minutes=20))
    call(appts.cancel, c.staff, appointment_id=first.id, reason_code="prov")
    insert(first.start, timedelta(minutes=20))  # a cancelled appointment frees its time


def test_fifty_people_booking_one_time_at_once_get_exactly_one_appointment(clinic):
    c = clinic
    start = at(workday(), "11:00")
    patients = [c.elena, c.omar, c.ines] + [register_quick(i) for i in range(47)]
    barrier = threading.Barrier(len(patients))
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(pid):
        barrier.wait()
        try:
            call(appts.book, c.staff, patient_id=pid, visit_type_id=c.follow_up, doctor_id=c.lee.user_id, start=start)
            result = "booked"
        except SlotTaken as exc:
            result = "taken" if exc.alternatives else "taken-without-alternatives"
        except Exception as exc:  # anything else is a failure of the test
            result = f"error: {exc!r}"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt, args=(pid,)) for pid in patients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(set(outcomes)) == ["booked", "taken"] and outcomes.count("booked") == 1, outcomes
    with unit_of_work() as s:
        rows = s.exec(select(Appointment).where(Appointment.start_at == start)).all()
    assert len(rows) == 1


def register_quick(i: int) -> uuid.UUID:
    from tests.integration.patients_support import draft

    return register(draft(given_name=f"Rush{i}", family_name="Hour", date_of_birth="1970-01-01",
                          email=f"rush{i}@example.com", phone_mobile=f"+1 617 555 {1000 + i:04d}")).patient_id


# ---------------------------------------------------------------- the clinic's rules for patients


def test_a_patient_books_a_follow_up_with_their_doctor_and_staff_are_told(clinic):
    c = clinic
    me = c.patient(c.omar)
    slots = call(appts.find_slots, me, visit_type_id=c.follow_up, limit=3)
    assert slots and {s.doctor_name for s in slots} == {"Dr. Ana Lee"}  # only their care team
    assert slots[0].start >= utcnow() + timedelta(hours=24)
    booked = _book(c, me, start=slots[0].start)
    assert booked.via_portal and booked.status == "booked" and booked.can_cancel and booked.can_reschedule
    notice, = call(appts.notices, c.staff)
    assert notice.kind == "booked" and notice.patient_name == "Omar Haddad" and notice.doctor_name == "Dr. Ana Lee"
    mine = call(appts.own, me)
    assert [a.id for a in mine.upcoming] == [booked.id] and mine.past == []


def test_a_patient_is_told_why_a_time_cannot_be_booked(clinic):
    c = clinic
    me = c.patient(c.omar)
    soon = utcnow() + timedelta(hours=2)
    with pytest.raises(AppointmentInvalid) as early:
        _book(c, me, start=soon)
    assert "at least 24 hours ahead" in early.value.errors["start"]
    with pytest.raises(AppointmentInvalid) as outside:
        _book(c, me, start=at(workday(), "19:00"))
    assert "Dr. Ana Lee does not see patients for this visit at that time" in outside.value.errors["start"]
    with pytest.raises(AppointmentInvalid) as far:
        _book(c, me, start=at(workday(120), "09:00"))
    assert "at most 90 days" in far.value.errors["start"]
    with pytest.raises(AppointmentInvalid) as team:
        _book(c, me, doctor=c.kim)
    assert "care team" in team.value.errors["doctor"]
    with pytest.raises(AppointmentInvalid) as staff_only:
        _book(c, me, vt=c.annual)
    assert "booked by the clinic" in staff_only.value.errors["visit_type"]
    # a new-patient visit may be with any doctor
    assert _book(c, me, vt=c.new_patient, doctor=c.kim).doctor_name == "Dr. Joon Kim"
    # staff may book inside the notice period; only free slots in the doctor's hours, though
    assert not any(e.outcome == "denied" for e in events())


def test_a_patient_may_hold_only_so_many_upcoming_appointments(clinic):
    c = clinic
    me = c.patient(c.omar)
    day = workday()
    for t in ("09:00", "09:20", "09:40"):
        _book(c, me, start=at(day, t))
    with pytest.raises(AppointmentInvalid) as many:
        _book(c, me, start=at(day, "10:00"))
    assert "already have 3 upcoming appointments" in many.value.errors["start"]
    assert _book(c, start=at(day, "10:00")).status == "booked"  # the front desk may


def test_after_three_no_shows_self_booking_pauses_and_staff_see_it(clinic):
    c = clinic
    for minutes in (600, 400, 200):
        ids = _past(c, c.omar, minutes)
        call(appts.mark_no_show, c.staff, appointment_id=ids)
    summary = call(appts.for_patient, c.staff, patient_id=c.omar)
    assert summary.attendance.no_shows == 3 and summary.attendance.paused
    with pytest.raises(AppointmentInvalid) as paused:
        _book(c, c.patient(c.omar))
    assert "paused" in paused.value.errors["start"]
    assert _book(c).status == "booked"
    assert len(events("appointment.no_show")) == 3


def test_portal_bookings_wait_for_approval_when_the_rules_say_so(clinic):
    c = clinic
    values = {**vars(call(appts.get_rules, c.admin)), "require_approval": True}
    call(appts.save_rules, c.admin, values=values)
    booked = _book(c, c.patient(c.omar))
    assert booked.status == "pending" and jobs_under(f"appt-reminder:{booked.id}") == []
    assert call(appts.notices, c.staff)[0].kind == "pending"
    approved = call(appts.approve, c.staff, appointment_id=booked.id)
    assert approved.status == "booked" and len(jobs_under(f"appt-reminder:{booked.id}")) == 2


# ---------------------------------------------------------------- reschedule and cancel move and remove reminders


def test_rescheduling_moves_the_reminders_and_cancelling_removes_them(clinic):
    c = clinic
    day = workday(6)
    booked = _book(c, start=at(day, "09:00"))
    keys = {j.key for j in jobs_under(f"appt-reminder:{booked.id}")}
    moved = call(appts.reschedule, c.staff, appointment_id=booked.id, start=at(day, "11:00"))
    waiting = jobs_under(f"appt-reminder:{booked.id}")
    assert {j.key for j in waiting} == keys and len(waiting) == 2  # moved, not doubled
    assert {j.run_after.replace(tzinfo=UTC) for j in waiting} == {moved.start - timedelta(hours=h) for h in (72, 24)}
    assert moved.start == at(day, "11:00") and moved.version == booked.version + 1
    cancelled = call(appts.cancel, c.staff, appointment_id=booked.id, reason_code="prov-pers")
    assert cancelled.status == "cancelled" and cancelled.cancel_reason.code == "prov-pers"
    assert jobs_under(f"appt-reminder:{booked.id}") == []
    assert [e.detail["reason_code"] for e in events("appointment.cancel")] == ["prov-pers"]
    with pytest.raises(AppointmentInvalid) as no_reason:
        call(appts.cancel, c.staff, appointment_id=_book(c).id, reason_code="because")
    assert "reason_code" in no_reason.value.errors


def test_a_patient_cannot_move_a_visit_inside_the_cancellation_window_but_may_cancel_it_late(clinic):
    c = clinic
    me = c.patient(c.omar)
    # a patient's own booking needs 24 hours' notice: the front desk books one for in a few hours
    soon = (utcnow() + timedelta(hours=3)).astimezone(__import__("zoneinfo").ZoneInfo("America/New_York")).date()
    call(appts.add_exception, c.admin, kind="extra", doctor_id=c.lee.user_id, start_date=soon.isoformat(),
         start_time="00:00", end_time="23:59")
    start = next(s.start for s in call(appts.find_slots, c.staff, visit_type_id=c.follow_up, doctor_id=c.lee.user_id,
                                       limit=50) if s.start > utcnow() + timedelta(hours=2))
    if start > utcnow() + timedelta(hours=24):
        pytest.skip("late in the clinic's day: no time within the next 24 hours")
    booked = _book(c, start=start)
    view = call(appts.own, me).upcoming[0]
    assert view.can_cancel and not view.can_reschedule
    with pytest.raises(AppointmentInvalid):
        call(appts.reschedule, me, appointment_id=booked.id, start=at(workday(), "10:00"))
    cancelled = call(appts.cancel, me, appointment_id=booked.id)
    assert cancelled.late_cancel and cancelled.cancel_reason.code == "pat-cpp"
    assert call(appts.for_patient, c.staff, patient_id=c.omar).attendance.late_cancels == 1


# ---------------------------------------------------------------- attendance


def test_staff_check_a_patient_in_on_the_day_and_mark_a_no_show_after_the_time(clinic):
    c = clinic
    now_id = _past(c, c.omar, 0)
    done = call(appts.check_in, c.staff, appointment_id=now_id)
    assert done.status == "arrived" and done.checked_in_at is not None
    later = _book(c)
    with pytest.raises(appts.StatusConflict):
        call(appts.check_in, c.staff, appointment_id=later.id)
    with pytest.raises(appts.StatusConflict):
        call(appts.mark_no_show, c.staff, appointment_id=later.id)
    day = call(appts.schedule, c.kim, day=utcnow().astimezone(__import__("zoneinfo").ZoneInfo("America/New_York"))
               .date().isoformat())
    assert [a.status_words for d in day.days for a in d.items] == ["Checked in"]
    rates_by_doctor, _by_type = call(appts.no_show_rates, c.admin)
    assert rates_by_doctor[0].seen == 1 and rates_by_doctor[0].no_shows == 0


# ---------------------------------------------------------------- schedules


def test_day_and_week_views(clinic):
    c = clinic
    day = workday()
    _book(c, start=at(day, "09:00"), reason="Rash")
    _book(c, patient=c.ines, start=at(day + timedelta(days=1), "09:00")
          if (day + timedelta(days=1)).weekday() < 5 else at(day, "10:00"))
    stranger = register_quick(99)
    _book(c, patient=stranger, vt=c.new_patient, start=at(day, "11:15"), reason="Private matter")
    week = call(appts.schedule, c.staff, doctor_id=c.lee.user_id, day=day.isoformat(), days=7)
    assert len(week.days) == 7 and sum(len(d.items) for d in week.days) == 3
    mine = call(appts.schedule, c.lee, day=day.isoformat())
    items = mine.days[0].items
    assert [a.patient_name for a in items][0] == "Omar Haddad" and items[0].reason == "Rash"
    # the doctor sees who comes, but the reason only of their care-team patients
    assert items[-1].patient_name == "Rush99 Hour" and items[-1].reason is None
    with pytest.raises(AccessDenied):
        call(appts.schedule, c.lee, doctor_id=c.kim.user_id, day=day.isoformat())
    with pytest.raises(AccessDenied):
        call(appts.schedule, c.patient(c.omar), doctor_id=c.lee.user_id)
    event = events("appointment.schedule.read")[0]
    assert event.object_id == str(c.lee.user_id)


# ---------------------------------------------------------------- who may do what


def test_every_role_allowed_and_refused(clinic):
    c = clinic
    booked = _book(c, reason="Follow-up of the rash")
    omar, ines = c.patient(c.omar), c.patient(c.ines)
    outsider = doctor_account("Dr. Out Side")
    # reading one patient's appointments
    assert call(appts.for_patient, c.staff, patient_id=c.omar).upcoming[0].reason == "Follow-up of the rash"
    assert call(appts.for_patient, c.admin, patient_id=c.omar).upcoming
    assert call(appts.for_patient, c.lee, patient_id=c.omar).upcoming  # care team
    assert call(appts.own, omar).upcoming
    for who in (outsider, ines):
        with pytest.raises(AccessDenied):
            call(appts.for_patient, who, patient_id=c.omar)
    # another patient's appointment id: refused (and recorded), never changed
    for fn in (appts.cancel, appts.reschedule):
        kwargs = {"start": at(workday(), "11:40")} if fn is appts.reschedule else {}
        with pytest.raises(AccessDenied):
            call(fn, ines, appointment_id=booked.id, **kwargs)
    # booking for someone else
    with pytest.raises(AccessDenied):
        _book(c, ines, patient=c.omar)
    with pytest.raises(AccessDenied):
        _book(c, c.lee)  # doctors do not book
    # attendance is the front desk's
    for who in (omar, c.lee):
        with pytest.raises(AccessDenied):
            call(appts.check_in, who, appointment_id=booked.id)
        with pytest.raises(AccessDenied):
            call(appts.mark_no_show, who, appointment_id=booked.id)
    # configuration is the admin's
    for who in (c.staff, c.lee, omar):
        with pytest.raises(AccessDenied):
            call(appts.save_visit_type, who, values={"name": "Sneaky", "duration_minutes": 5})
        with pytest.raises(AccessDenied):
            call(appts.add_availability, who, doctor_id=c.lee.user_id, weekday=5, start_time="09:00",
                 end_time="10:00")
    # notices are for staff and admins
    for who in (omar, c.lee):
        with pytest.raises(AccessDenied):
            call(appts.notices, who)
    assert call(appts.notices, c.admin) == []
    # signed out: nothing
    with pytest.raises(AccessDenied):
        call(appts.find_slots, None, visit_type_id=c.follow_up)
    with pytest.raises(AccessDenied):
        call(appts.cancel, None, appointment_id=booked.id)
    assert call(appts.for_patient, c.staff, patient_id=c.omar).upcoming[0].status == "booked"
    refusals = [e for e in events() if e.outcome == "denied"]
    assert {"appointment.cancel", "appointment.reschedule", "appointment.book", "appointment.check_in",
            "appointment.list"} <= {e.action for e in refusals}
    assert not [e for e in refusals if "rash" in str(e.detail).lower()]


def test_configuration_checks_what_admins_type(clinic):
    c = clinic
    with pytest.raises(AppointmentInvalid) as bad:
        call(appts.save_visit_type, c.admin, values={"name": "", "duration_minutes": "ten"})
    assert set(bad.value.errors) >= {"name", "duration_minutes"}
    with pytest.raises(AppointmentInvalid) as clock:
        call(appts.add_availability, c.admin, doctor_id=c.lee.user_id, weekday=1, start_time="13:00",
             end_time="12:00")
    assert "end_time" in clock.value.errors
    with pytest.raises(AppointmentInvalid) as rules:
        call(appts.save_rules, c.admin, values={**vars(call(appts.get_rules, c.admin)), "reminder_hours": "soon"})
    assert "reminder_hours" in rules.value.errors
    # a clinic-wide closed day and a vacation take the time away; an extra Saturday adds it
    day = workday()
    call(appts.add_exception, c.admin, kind="closed", start_date=day.isoformat(), label="Public holiday")
    assert call(appts.find_slots, c.staff, visit_type_id=c.follow_up, date_from=day.isoformat(),
                date_to=day.isoformat()) == []
    saturday = day + timedelta(days=(5 - day.weekday()) % 7 or 7)
    call(appts.add_exception, c.admin, kind="extra", doctor_id=c.kim.user_id, start_date=saturday.isoformat(),
         start_time="10:00", end_time="11:00", label="Extra Saturday")
    extra = call(appts.find_slots, c.staff, visit_type_id=c.follow_up, date_from=saturday.isoformat(),
                 date_to=saturday.isoformat())
    assert [s.start for s in extra] == [at(saturday, t) for t in ("10:00", "10:20", "10:40")]
    with pytest.raises(Invalid):
        call(appts.add_exception, c.admin, kind="extra", start_date=saturday.isoformat(), start_time="10:00",
             end_time="11:00")


def test_my_patients_shows_each_patients_next_appointment(clinic):
    from patient_portal.domain.worklist import service as worklist

    c = clinic
    booked = _book(c, start=at(workday(), "09:40"))
    rows = {r.patient_id: r for r in call(worklist.my_patients, c.lee).rows}
    assert rows[c.omar].next_appointment == booked.start and rows[c.ines].next_appointment is None
