"""Appointments: the one way in for the UI, the API, the seed and the jobs to visit types,
availability, booking, changes, attendance, the waitlist and the staff's notices.

The rules, and where each lives:

* **Who.** The policy (``core.access``) decides: ``appointment.read`` (the patient's own, staff,
  admins, care-team doctors), ``appointment.write`` (book, reschedule, cancel, join the waitlist:
  the patient for themselves, staff and admins for anyone), ``appointment.attendance.write`` (check
  in, no-show, approve a portal booking: staff, admins), ``appointment.schedule.read`` (any doctor's
  day and week, staff notices: staff, admins), ``appointment.schedule.own.read`` (a doctor's own),
  ``appointment.slots.search`` (free times: no patient data), ``appointment.settings.write``
  (admins). Refusals go through ``require``, which audits them.
* **The clinic's rules bind patients** (``_patient_rules``): a self-bookable visit type, a doctor of
  their care team (any doctor for a new-patient visit), at least ``min_notice_hours`` and at most
  ``max_days_ahead`` ahead, at most ``max_future_bookings`` upcoming, no self-booking after
  ``no_show_threshold`` no-shows, no portal rescheduling inside the cancellation window (a late
  cancellation is allowed and counted). Each is an ``Invalid`` with a sentence that says what to do.
  Staff book any time that is free and inside the doctor's hours.
* **No double booking** is the database's (see models): the insert runs in a savepoint; a unique or
  exclusion violation is ``SlotTaken`` with the next free times. The check before it only gives the
  better message; it never decides alone.
* **Portal bookings** wait for staff approval (``pending``) when the rules say so, and every
  portal booking, change, cancellation or accepted offer leaves a notice for staff.
* **Reminders and messages**: notify.py (job outbox keys, channel, .ics, links).
* **Waitlist**: a time that frees up (cancelled, moved away, an offer lapsed) is offered to the first
  waiting patient it suits, as a ``proposed`` appointment that holds the time for
  ``waitlist_hold_minutes``; their accept link books it (and cancels the later appointment it
  replaces, which frees that time in turn); a lapsed hold goes to the next.
* **Fulfilled**: signing a visit note (core.events.VISIT_SIGNED, hooks.py) fulfils the patient's
  checked-in appointment with the note's author that day (``fulfil_visit``).
* **Audit.** One event per use case: appointment.book, .reschedule, .cancel, .approve, .check_in,
  .no_show, .fulfil, .waitlist.join, .waitlist.leave, .waitlist.offer, .waitlist.accept, .confirm, .remind,
  appointment.list / .schedule.read / .slots.search (reads), appointment.settings.* — with ids and
  codes in the detail, never the reason's text.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, literal, or_, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, func, select

from patient_portal.core import audit, clinic_config
from patient_portal.core.access import (
    Action,
    Actor,
    CareTeamMember,
    Resource,
    Role,
    decide,
    reach_filter,
    reaches_patient,
    require,
)
from patient_portal.core.clock import clinic_zone, plain_day
from patient_portal.core.crypto import decrypt_value
from patient_portal.core.db import utcnow
from patient_portal.core.errors import Invalid
from patient_portal.domain.appointments import notify
from patient_portal.domain.appointments import validation as check
from patient_portal.domain.appointments.availability import (
    Slot,
    cut_slots,
    day_bounds,
    doctor_day,
    free_slots,
    holds_time,
    load_busy,
    load_exceptions,
    load_rules,
    local_day,
    utc,
)
from patient_portal.domain.appointments.dto import (
    STAFF_CANCEL_REASONS,
    AppointmentInvalid,
    AppointmentNotFound,
    AppointmentView,
    Attendance,
    DaySlots,
    DoctorView,
    LinkView,
    NoShowRate,
    Notice,
    PatientAppointments,
    Schedule,
    ScheduleDay,
    SlotTaken,
    SlotView,
    StatusConflict,
    VisitTypeView,
    WaitlistView,
    cancel_coding,
)
from patient_portal.domain.appointments.models import (
    ARRIVED,
    BOOKED,
    BY_STAFF,
    CANCELLED,
    CLOSED,
    EXTRA,
    FREES_SLOT,
    FULFILLED,
    NOSHOW,
    OFFERED,
    PENDING,
    PROPOSED,
    REMOVED,
    UPCOMING,
    VIDEO_JOIN_EARLY,
    VIDEO_OPEN_STATUSES,
    WAITING,
    Appointment,
    AppointmentNotice,
    AvailabilityException,
    AvailabilityRule,
    SchedulingRules,
    VisitType,
    WaitlistEntry,
)
from patient_portal.domain.appointments.models import DONE as WAIT_DONE
from patient_portal.domain.identity.models import User
from patient_portal.domain.patients.common import as_uuid, load
from patient_portal.domain.patients.dto import display_name
from patient_portal.domain.patients.models import Patient

OBJECT = "appointment"
MAX_SLOTS = 50
MAX_RANGE_DAYS = 92
STAFF_HORIZON_DAYS = 365  # staff book up to a year ahead (further when the rules' horizon is)
#: the no-show threshold until an admin saves the rules (``rules`` returns the model's defaults)
NO_SHOW_THRESHOLD = SchedulingRules.model_fields["no_show_threshold"].default


# ---------------------------------------------------------------- small helpers


def aware(value: datetime | None) -> datetime | None:
    return None if value is None else (value if value.tzinfo is not None else value.replace(tzinfo=UTC))


def rules(session: Session) -> SchedulingRules:
    """The clinic's rules (the defaults until an admin saves them; nothing is written here), read
    once per unit of work."""
    kept = session.info.get("appointment_rules")
    if kept is not None:
        return kept
    return _keep_rules(session, session.exec(select(SchedulingRules).order_by(SchedulingRules.created_at)).first())


def _keep_rules(session: Session, row: SchedulingRules | None) -> SchedulingRules:
    row = row if row is not None else SchedulingRules()
    session.info["appointment_rules"] = row
    return row


def _prefetch(session: Session, *, patient_id: Any, visit_type_id: Any, doctor_id: Any) -> None:
    """Read the rows a booking checks — the patient, the visit type, the doctor and the clinic's
    rules — in ONE statement into the session (its identity map, ``rules``' cache), so the checks
    that follow (``load``, ``_visit_type``, ``_doctor``, ``rules``) send nothing: on a busy database
    each round trip costs milliseconds. Call it after authorizing. A malformed id, or one that
    names no row, loads nothing here, and each check then reads and refuses exactly as it would have."""
    try:
        ids = [value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
               for value in (patient_id, visit_type_id, doctor_id)]
    except (TypeError, ValueError):
        return
    stmt = (select(Patient, VisitType, User, SchedulingRules).select_from(Patient)
            .join(VisitType, col(VisitType.id) == ids[1]).join(User, col(User.id) == ids[2])
            .outerjoin(SchedulingRules, true()).where(Patient.id == ids[0])
            .order_by(col(SchedulingRules.created_at)).limit(1))
    row = session.exec(stmt).first()
    if row is None:
        return
    session.info["appointment_prefetched"] = tuple(row)  # the identity map holds rows only weakly
    if "appointment_rules" not in session.info:
        _keep_rules(session, row[3])


def _visit_type(session: Session, value: Any, *, active: bool = True) -> VisitType:
    errors: dict[str, str] = {}
    vid = check.a_uuid(value, "visit_type", errors, "Choose a visit type.")
    vt = session.get(VisitType, vid) if vid else None
    if vt is None or (active and not vt.active):
        raise AppointmentInvalid(errors={"visit_type": "Choose a visit type."})
    return vt


def _doctor(session: Session, value: Any) -> User:
    errors: dict[str, str] = {}
    did = check.a_uuid(value, "doctor", errors, "Choose a doctor.")
    user = session.get(User, did) if did else None
    if user is None or user.role != Role.DOCTOR or not user.active:
        raise AppointmentInvalid(errors={"doctor": "Choose a doctor."})
    return user


def _appointment(session: Session, value: Any, *, lock: bool = False) -> Appointment:
    errors: dict[str, str] = {}
    aid = check.a_uuid(value, "appointment", errors, "")
    if aid is None:
        raise AppointmentNotFound()
    if lock and session.get_bind().dialect.name == "postgresql":
        appt = session.exec(select(Appointment).where(Appointment.id == aid).with_for_update()).first()
    else:
        appt = session.get(Appointment, aid)
    if appt is None:
        raise AppointmentNotFound()
    return appt


def _user_name(user_id: uuid.UUID, token: str | None) -> str:
    """A user's display name from its ciphertext as read (``select(User.id, User.display_name)``)."""
    return decrypt_value("str", token, User.__tablename__, "display_name", user_id) or ""


def _patient_name(patient_id: uuid.UUID, given: str | None, family: str | None) -> str:
    """A patient's name from the ciphertexts of their given and family names as read."""
    table = Patient.__tablename__
    return (f"{decrypt_value('str', given, table, 'given_name', patient_id) or ''} "
            f"{decrypt_value('str', family, table, 'family_name', patient_id) or ''}").strip()


def doctor_names(session: Session, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows = session.exec(select(User.id, User.display_name).where(col(User.id).in_(ids))).all()
    return {uid: _user_name(uid, token) for uid, token in rows}


def patient_names(session: Session, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows = session.exec(select(Patient.id, Patient.given_name, Patient.family_name).where(
        col(Patient.id).in_(ids))).all()
    return {pid: _patient_name(pid, g, f) for pid, g, f in rows}


def _slot_views(session: Session, slots: list[Slot], names: dict[uuid.UUID, str | None] | None = None
                ) -> list[SlotView]:
    """Views of these slots with their doctors' names: from `names` (id -> the name's ciphertext,
    as ``_scheduled_doctors`` read it; only the doctors shown are decrypted), else read."""
    if names is None:
        shown = doctor_names(session, {s.doctor_id for s in slots})
    else:
        shown = {d: _user_name(d, names.get(d)) for d in {s.doctor_id for s in slots}}
    return [SlotView(s.start, s.end, s.doctor_id, shown.get(s.doctor_id, "")) for s in slots]


def _views(session: Session, actor: Actor, appts: list[Appointment], *, known: tuple[dict, dict, dict] | None = None,
           paused: set[uuid.UUID] | None = None, reached: set[uuid.UUID] | None = None) -> list[AppointmentView]:
    """Views of these appointments for this actor; `known` (doctor names, patient names, visit type
    names), `paused` (patients whose self-booking is paused) and `reached` (patients whose record
    the actor reaches: they see the reason for the visit) when the caller has them already (a
    booking, ``_listed``), else read in three statements, one, and one per patient for a doctor.
    The clinic's rules are read only for a patient (the cancellation window limits their own
    rescheduling)."""
    if known is not None:
        doctors, patients, types = known
    else:
        doctors = doctor_names(session, {a.doctor_id for a in appts})
        patients = patient_names(session, {a.patient_id for a in appts})
        types = {vt.id: vt.name for vt in session.exec(select(VisitType)).all()} if appts else {}
    window = timedelta(hours=rules(session).cancellation_window_hours) if actor.role == Role.PATIENT else None
    now = utcnow()
    if paused is None:
        paused = _paused(session, {a.patient_id for a in appts}, rules(session)) \
            if known is None and actor.can(Action.APPOINTMENT_ATTENDANCE) else set()
    reach: dict[uuid.UUID, bool] = {} if reached is None else {a.patient_id: a.patient_id in reached for a in appts}
    may: dict[tuple[Action, uuid.UUID], bool] = {}

    def allowed(action: Action, pid: uuid.UUID) -> bool:
        if (action, pid) not in may:
            may[(action, pid)] = actor.can(action) and decide(session, actor, action, Resource(patient_id=pid)).allowed
        return may[(action, pid)]

    telehealth: set[uuid.UUID] | None = None  # read only when an appointment is in its call's window

    def can_join(a: Appointment, start: datetime) -> bool:
        """The Join button: a telehealth appointment of this actor's own (its doctor, or its patient) whose
        call is open now; the video service decides and audits the join itself."""
        nonlocal telehealth
        own = actor.user_id == a.doctor_id or (actor.role == Role.PATIENT and actor.patient_id == a.patient_id)
        if not (own and a.status in VIDEO_OPEN_STATUSES and start - VIDEO_JOIN_EARLY <= now < aware(a.end_at)):
            return False
        if telehealth is None:
            telehealth = set(session.exec(select(VisitType.id).where(col(VisitType.telehealth).is_(True))).all())
        return a.visit_type_id in telehealth

    out = []
    for a in appts:
        if a.patient_id not in reach:
            reach[a.patient_id] = reaches_patient(session, actor, a.patient_id)
        start = aware(a.start_at)
        ahead = start > now
        upcoming = a.status in UPCOMING and ahead
        writable = allowed(Action.APPOINTMENT_WRITE, a.patient_id)
        attendance = allowed(Action.APPOINTMENT_ATTENDANCE, a.patient_id)
        inside_window = window is not None and start - now < window
        today = local_day(start) == local_day(now)
        out.append(AppointmentView(
            id=a.id, patient_id=a.patient_id, patient_name=patients.get(a.patient_id, ""),
            doctor_id=a.doctor_id, doctor_name=doctors.get(a.doctor_id, ""), visit_type_id=a.visit_type_id,
            visit_type=types.get(a.visit_type_id, ""), start=start, end=aware(a.end_at), status=a.status,
            reason=a.reason if reach[a.patient_id] else None, via_portal=a.via_portal,
            cancel_reason=cancel_coding(a.cancel_reason), late_cancel=a.late_cancel,
            checked_in_at=aware(a.checked_in_at), hold_until=aware(a.hold_until), version=a.version,
            can_cancel=upcoming and a.status != PROPOSED and writable,
            can_reschedule=upcoming and a.status != PROPOSED and writable and not inside_window,
            can_check_in=a.status == BOOKED and today and attendance,
            can_mark_no_show=a.status in (BOOKED, PENDING) and not ahead and attendance,
            can_approve=a.status == PENDING and attendance, booking_paused=a.patient_id in paused,
            can_join=can_join(a, start)))
    return out


def _paused(session: Session, patient_ids: set[uuid.UUID], the_rules: SchedulingRules) -> set[uuid.UUID]:
    """Which of these patients' self-booking is paused (no-shows at the clinic's threshold). One statement."""
    if not patient_ids:
        return set()
    rows = session.exec(select(Appointment.patient_id, func.count()).where(
        col(Appointment.patient_id).in_(patient_ids), Appointment.status == NOSHOW)
        .group_by(Appointment.patient_id)).all()
    return {pid for pid, n in rows if n >= the_rules.no_show_threshold}


_DOCTOR = aliased(User, name="doctor")
_SEEN = aliased(Appointment, name="seen")
#: SQL, per appointment row: its patient's self-booking is paused (their no-shows against the threshold)
_PAUSED: Any = select(func.count()).select_from(_SEEN).where(
    _SEEN.patient_id == Appointment.patient_id, _SEEN.status == NOSHOW).scalar_subquery() >= func.coalesce(
    select(SchedulingRules.no_show_threshold).order_by(col(SchedulingRules.created_at)).limit(1).scalar_subquery(),
    NO_SHOW_THRESHOLD)


def _listed(session: Session, actor: Actor, *where: Any, limit: int | None = None) -> list[AppointmentView]:
    """Views of the appointments matching `where`, soonest first, read in ONE statement: each row
    with its patient's and doctor's names (decrypted once per person), its visit type's name,
    whether the actor reaches the patient's record (``core.access.reach_filter``, the rule of
    ``reaches_patient``: a doctor's own week asked it once per patient) and, for those who mark
    attendance, whether the patient's self-booking is paused — their no-shows counted against the
    clinic's threshold in the statement itself (ix_appointment_noshow_patient). Neither the rules,
    the counts nor the care team take a round trip of their own (a doctor's week: 40 rows)."""
    paused_now = _PAUSED if actor.can(Action.APPOINTMENT_ATTENDANCE) else literal(False)
    stmt = (select(Appointment, Patient.given_name, Patient.family_name, _DOCTOR.display_name, VisitType.name,
                   paused_now.label("paused"), reach_filter(actor, Appointment.patient_id).label("reached"))
            .join(Patient, col(Patient.id) == Appointment.patient_id)
            .outerjoin(_DOCTOR, col(_DOCTOR.id) == Appointment.doctor_id)
            .outerjoin(VisitType, col(VisitType.id) == Appointment.visit_type_id)
            .where(*where).order_by(col(Appointment.start_at)))
    if limit is not None:
        stmt = stmt.limit(limit)
    appts, doctors, patients, types, paused, reached = [], {}, {}, {}, set(), set()
    for appt, given, family, doctor_token, type_name, is_paused, reaches in session.exec(stmt).all():
        appts.append(appt)
        if appt.patient_id not in patients:
            patients[appt.patient_id] = _patient_name(appt.patient_id, given, family)
        if appt.doctor_id not in doctors:
            doctors[appt.doctor_id] = _user_name(appt.doctor_id, doctor_token)
        types[appt.visit_type_id] = type_name or ""
        if is_paused:
            paused.add(appt.patient_id)
        if reaches:
            reached.add(appt.patient_id)
    return _views(session, actor, appts, known=(doctors, patients, types), paused=paused, reached=reached)


def _view(session: Session, actor: Actor, appt: Appointment) -> AppointmentView:
    return _views(session, actor, [appt])[0]


def _notice(session: Session, appt: Appointment, kind: str) -> None:
    session.add(AppointmentNotice(appointment_id=appt.id, patient_id=appt.patient_id, kind=kind))


def _detail(appt: Appointment, **extra: Any) -> dict[str, Any]:
    return {"status": appt.status, "doctor": str(appt.doctor_id), "visit_type": str(appt.visit_type_id),
            "via": "portal" if appt.via_portal else "staff", **extra}


# ---------------------------------------------------------------- configuration (admins)


def _configure(session: Session, actor: Actor | None, what: str) -> Actor:
    require(session, actor, Action.SCHEDULING_CONFIGURE, audit_as=what)
    assert actor is not None
    return actor


def _vt_view(vt: VisitType) -> VisitTypeView:
    return VisitTypeView(vt.id, vt.code, vt.name, vt.duration_minutes, vt.buffer_minutes, vt.who_may_book,
                         vt.self_bookable, vt.new_patient, vt.telehealth, vt.active, vt.version)


def visit_types(session: Session, actor: Actor | None, *, include_inactive: bool = False) -> list[VisitTypeView]:
    """The visit types, by name (a patient sees the ones they may book themselves)."""
    require(session, actor, Action.SLOTS_SEARCH, audit_as="appointment.visit_types.list")
    assert actor is not None
    rows = session.exec(select(VisitType).order_by(VisitType.name)).all()
    out = [_vt_view(vt) for vt in rows if vt.active or (include_inactive and actor.can(Action.SCHEDULING_CONFIGURE))]
    if actor.role == Role.PATIENT:
        out = [v for v in out if v.self_bookable and v.who_may_book != BY_STAFF]
    return out


def save_visit_type(session: Session, actor: Actor | None, *, values: dict[str, Any], visit_type_id: Any = None,
                    expected_version: Any = None) -> VisitTypeView:
    """Create a visit type, or change one (at the version it was opened)."""
    _configure(session, actor, "appointment.settings.visit_type")
    cleaned, errors = check.visit_type_values(values)
    if errors:
        raise AppointmentInvalid(errors=errors)
    if visit_type_id:
        vt = _visit_type(session, visit_type_id, active=False)
        if expected_version is not None and str(expected_version) != str(vt.version):
            raise StatusConflict("This visit type was changed by someone else. Reload and try again.")
    else:
        vt = VisitType()
    clash = session.exec(select(VisitType.id).where(VisitType.code == cleaned["code"])).first()
    if clash is not None and clash != vt.id:
        raise AppointmentInvalid(errors={"code": "Another visit type has this code."})
    for name, value in cleaned.items():
        setattr(vt, name, value)
    if visit_type_id:
        vt.version += 1
        vt.updated_at = utcnow()
    session.add(vt)
    session.flush()
    audit.record(session, actor, "appointment.settings.visit_type", object_type="visit_type", object_id=vt.id,
                 detail={"fields": sorted(cleaned), "created": not visit_type_id})
    return _vt_view(vt)


def get_rules(session: Session, actor: Actor | None) -> SchedulingRules:
    """The clinic's rules as they are now (admins; everyone else meets them in the messages)."""
    _configure(session, actor, "appointment.settings.read")
    return rules(session)


def save_rules(session: Session, actor: Actor | None, *, values: dict[str, Any], expected_version: Any = None
               ) -> SchedulingRules:
    _configure(session, actor, "appointment.settings.rules")
    cleaned, errors = check.rules_values(values)
    if errors:
        raise AppointmentInvalid(errors=errors)
    row = rules(session)
    if row.version and expected_version is not None and str(expected_version) != str(row.version) \
            and session.get(SchedulingRules, row.id) is not None:
        raise StatusConflict("The rules were changed by someone else. Reload and try again.")
    changed = sorted(k for k, v in cleaned.items() if getattr(row, k) != v)
    for name, value in cleaned.items():
        setattr(row, name, value)
    if session.get(SchedulingRules, row.id) is not None:
        row.version += 1
        row.updated_at = utcnow()
    session.add(row)
    session.flush()
    audit.record(session, actor, "appointment.settings.rules", object_type="scheduling_rules", object_id=row.id,
                 detail={"fields_changed": changed})
    return row


def add_availability(session: Session, actor: Actor | None, *, doctor_id: Any, weekday: Any, start_time: Any,
                     end_time: Any, visit_type_id: Any = None, valid_from: Any = None, valid_until: Any = None
                     ) -> AvailabilityRule:
    """A weekly block of a doctor's time (clinic-local), for one visit type or any."""
    _configure(session, actor, "appointment.settings.availability")
    doctor = _doctor(session, doctor_id)
    errors: dict[str, str] = {}
    try:
        day = int(weekday)
        if not 0 <= day <= 6:
            raise ValueError
    except (TypeError, ValueError):
        errors["weekday"] = "Choose a day of the week."
        day = 0
    start, end = check.clock(start_time, "start_time", errors), check.clock(end_time, "end_time", errors)
    if start and end and end <= start:
        errors["end_time"] = "End after the start."
    first = check.a_date(valid_from, "valid_from", errors, required=False) or local_day(utcnow())
    until = check.a_date(valid_until, "valid_until", errors, required=False)
    if until and until < first:
        errors["valid_until"] = "End on or after the first day."
    vt = _visit_type(session, visit_type_id).id if visit_type_id else None
    if errors:
        raise AppointmentInvalid(errors=errors)
    rule = AvailabilityRule(doctor_id=doctor.id, weekday=day, start_time=start, end_time=end, visit_type_id=vt,
                            valid_from=first, valid_until=until)
    session.add(rule)
    session.flush()
    audit.record(session, actor, "appointment.settings.availability", object_type="availability_rule",
                 object_id=rule.id, detail={"doctor": str(doctor.id), "weekday": day, "added": True})
    return rule


def remove_availability(session: Session, actor: Actor | None, *, rule_id: Any) -> None:
    _configure(session, actor, "appointment.settings.availability")
    rule = session.get(AvailabilityRule, as_uuid(rule_id)) if rule_id else None
    if rule is None:
        raise Invalid(errors={"rule": "That block was not found."})
    session.delete(rule)
    audit.record(session, actor, "appointment.settings.availability", object_type="availability_rule",
                 object_id=rule.id, detail={"doctor": str(rule.doctor_id), "removed": True})


def availability(session: Session, actor: Actor | None, *, doctor_id: Any = None
                 ) -> tuple[list[AvailabilityRule], list[AvailabilityException]]:
    """The weekly blocks and the exceptions (of one doctor, or all), for the settings screen."""
    _configure(session, actor, "appointment.settings.read")
    did = _doctor(session, doctor_id).id if doctor_id else None
    rule_rows = load_rules(session, [did] if did else None)
    today = local_day(utcnow())
    ex_rows = load_exceptions(session, [did] if did else None, today, today + timedelta(days=3650))
    return (sorted(rule_rows, key=lambda r: (str(r.doctor_id), r.weekday, r.start_time)),
            sorted(ex_rows, key=lambda e: (e.start_date, e.start_time or "")))


def add_exception(session: Session, actor: Actor | None, *, kind: Any, start_date: Any, end_date: Any = None,
                  doctor_id: Any = None, start_time: Any = None, end_time: Any = None, visit_type_id: Any = None,
                  label: Any = "") -> AvailabilityException:
    """Closed (a doctor's vacation; the whole clinic with no doctor) or an extra session (a doctor, times)."""
    _configure(session, actor, "appointment.settings.exception")
    errors: dict[str, str] = {}
    if kind not in (CLOSED, EXTRA):
        errors["kind"] = "Choose closed or extra session."
    first = check.a_date(start_date, "start_date", errors)
    last = check.a_date(end_date, "end_date", errors, required=False) or first
    if first and last and last < first:
        errors["end_date"] = "End on or after the first day."
    start = check.clock(start_time, "start_time", errors, required=kind == EXTRA)
    end = check.clock(end_time, "end_time", errors, required=kind == EXTRA)
    if bool(start) != bool(end) and "start_time" not in errors and "end_time" not in errors:
        errors["end_time"] = "Give both times, or neither for whole days."
    elif start and end and end <= start:
        errors["end_time"] = "End after the start."
    did = _doctor(session, doctor_id).id if doctor_id else None
    if kind == EXTRA and did is None:
        errors["doctor"] = "Choose the doctor of the extra session."
    vt = _visit_type(session, visit_type_id).id if visit_type_id else None
    text = " ".join(str(label or "").split())[:80]
    if errors:
        raise AppointmentInvalid(errors=errors)
    row = AvailabilityException(kind=kind, doctor_id=did, start_date=first, end_date=last, start_time=start,
                                end_time=end, visit_type_id=vt, label=text)
    session.add(row)
    session.flush()
    audit.record(session, actor, "appointment.settings.exception", object_type="availability_exception",
                 object_id=row.id, detail={"kind": kind, "doctor": str(did) if did else None, "added": True})
    return row


def remove_exception(session: Session, actor: Actor | None, *, exception_id: Any) -> None:
    _configure(session, actor, "appointment.settings.exception")
    row = session.get(AvailabilityException, as_uuid(exception_id)) if exception_id else None
    if row is None:
        raise Invalid(errors={"exception": "That exception was not found."})
    session.delete(row)
    audit.record(session, actor, "appointment.settings.exception", object_type="availability_exception",
                 object_id=row.id, detail={"kind": row.kind, "removed": True})


# ---------------------------------------------------------------- doctors and free times


def _care_team(session: Session, patient_id: uuid.UUID) -> set[uuid.UUID]:
    return set(session.exec(select(CareTeamMember.user_id).where(CareTeamMember.patient_id == patient_id)).all())


def _scheduled_doctors(session: Session) -> dict[uuid.UUID, str | None]:
    """The active doctors with weekly hours or an extra session, each with the ciphertext of their
    name (decrypted only for those shown: ``_slot_views``, ``_user_name``). One statement."""
    scheduled = or_(col(User.id).in_(select(AvailabilityRule.doctor_id)),
                    col(User.id).in_(select(AvailabilityException.doctor_id).where(AvailabilityException.kind == EXTRA)))
    rows = session.exec(select(User.id, User.display_name).where(
        User.role == Role.DOCTOR.value, User.active == True, scheduled)).all()  # noqa: E712
    return dict(rows)


def _allowed_doctors(session: Session, actor: Actor, vt: VisitType, patient_id: uuid.UUID | None
                     ) -> dict[uuid.UUID, str | None]:
    """Doctors this booking may be with (id -> their name's ciphertext): every scheduled doctor for
    staff; for a patient, their care team (every scheduled doctor for a new-patient visit)."""
    doctors = _scheduled_doctors(session)
    if actor.role == Role.PATIENT and not vt.new_patient:
        team = _care_team(session, patient_id) if patient_id else set()
        doctors = {d: name for d, name in doctors.items() if d in team}
    return doctors


def bookable_doctors(session: Session, actor: Actor | None, *, visit_type_id: Any) -> list[DoctorView]:
    """The doctors one may book this visit type with, by name (no patient data)."""
    require(session, actor, Action.SLOTS_SEARCH, audit_as="appointment.slots.search")
    assert actor is not None
    vt = _visit_type(session, visit_type_id)
    doctors = _allowed_doctors(session, actor, vt, actor.patient_id)
    return sorted((DoctorView(i, _user_name(i, token)) for i, token in doctors.items()),
                  key=lambda d: (d.name.casefold(), str(d.id)))


def _window(session: Session, actor: Actor, now: datetime, *, until: datetime | None = None
            ) -> tuple[datetime, datetime]:
    """The earliest and latest start this actor may book: patients by the clinic's rules; staff from
    now on, up to a year ahead or the rules' horizon if that is further. `until`: the caller looks no
    further than this (and caps the window there), so for staff the rules are read only when it lies
    more than a year ahead — "first available" at the front desk reads none."""
    if actor.role == Role.PATIENT:
        the_rules = rules(session)
        return (now + timedelta(hours=the_rules.min_notice_hours), now + timedelta(days=the_rules.max_days_ahead))
    year = now + timedelta(days=STAFF_HORIZON_DAYS)
    if until is not None and until <= year:
        return now, year
    return now, now + timedelta(days=max(rules(session).max_days_ahead, STAFF_HORIZON_DAYS))


def find_slots(session: Session, actor: Actor | None, *, visit_type_id: Any, doctor_id: Any = None,
               date_from: Any = None, date_to: Any = None, limit: Any = 20) -> list[SlotView]:
    """Free times for a visit type: "first available" across the doctors one may book with (no
    doctor), or one doctor's in a date range; earliest first. Only free times: no patient data."""
    require(session, actor, Action.SLOTS_SEARCH, audit_as="appointment.slots.search")
    assert actor is not None
    vt = _visit_type(session, visit_type_id)
    if actor.role == Role.PATIENT and (not vt.self_bookable or vt.who_may_book == BY_STAFF):
        raise AppointmentInvalid(errors={"visit_type": "This visit is booked by the clinic. Please call to book it."})
    allowed = _allowed_doctors(session, actor, vt, actor.patient_id)
    if doctor_id:
        doctor = _doctor(session, doctor_id)
        if doctor.id not in allowed:
            raise AppointmentInvalid(errors={"doctor": "Choose one of the doctors listed."})
        allowed = {doctor.id: allowed[doctor.id]}
    errors: dict[str, str] = {}
    first = check.a_date(date_from, "date_from", errors, required=False)
    last = check.a_date(date_to, "date_to", errors, required=False)
    if errors:
        raise AppointmentInvalid(errors=errors)
    now = utcnow()
    zone = clinic_zone()
    start_from = day_bounds(first, zone)[0] if first else now
    # staff's window starts now, so the range below never reaches past max(now, start_from) + MAX_RANGE_DAYS
    earliest, latest = _window(session, actor, now, until=max(now, start_from) + timedelta(days=MAX_RANGE_DAYS))
    if first:
        earliest = max(earliest, start_from)
    if last:
        latest = min(latest, day_bounds(last, zone)[1])
    latest = min(latest, earliest + timedelta(days=MAX_RANGE_DAYS))
    try:
        count = max(1, min(int(limit), MAX_SLOTS))
    except (TypeError, ValueError):
        count = 20
    slots = free_slots(session, vt, sorted(allowed), earliest, latest, limit=count) if allowed else []
    audit.record(session, actor, "appointment.slots.search", object_type="visit_type", object_id=vt.id,
                 detail={"doctor": str(doctor_id) if doctor_id else None, "found": len(slots)})
    return _slot_views(session, slots, allowed)


def _alternatives(session: Session, vt: VisitType, doctor_id: uuid.UUID, after: datetime, *,
                  ignore: uuid.UUID | None = None, limit: int = 5) -> list[SlotView]:
    slots = free_slots(session, vt, [doctor_id], after, after + timedelta(days=30), limit=limit, ignore=ignore)
    return _slot_views(session, slots)


def day_slots(session: Session, actor: Actor | None, *, visit_type_id: Any, doctor_id: Any, day: Any,
              ignore: Any = None) -> DaySlots:
    """One doctor's free times for a visit type on one clinic-local day (a patient choosing a day), and
    why there are none or fewer — the clinic's notice and horizon for patients, the doctor's hours,
    a full day — in words that say what to do, with the next free time after it. `ignore`: the
    appointment being moved (its own time counts as free). Only free times: no patient data."""
    require(session, actor, Action.SLOTS_SEARCH, audit_as="appointment.slots.search")
    assert actor is not None
    vt = _visit_type(session, visit_type_id)
    portal = actor.role == Role.PATIENT
    if portal and (not vt.self_bookable or vt.who_may_book == BY_STAFF):
        raise AppointmentInvalid(errors={"visit_type": "This visit is booked by the clinic. Please call to book it."})
    doctor = _doctor(session, doctor_id)
    if doctor.id not in _allowed_doctors(session, actor, vt, actor.patient_id):
        raise AppointmentInvalid(errors={"doctor": "Choose one of the doctors listed."})
    errors: dict[str, str] = {}
    wanted = check.a_date(day, "day", errors)
    skip = as_uuid(ignore) if ignore else None
    if errors or wanted is None:
        raise AppointmentInvalid(errors=errors)
    the_rules = rules(session)
    now = utcnow()
    zone = clinic_zone()
    earliest, latest = _window(session, actor, now)
    lo, hi = day_bounds(wanted, zone)
    name = doctor.display_name or "The doctor"
    message, slots = "", []
    if hi <= now:
        message = "That day has passed. Choose a day that is still to come."
    elif hi <= earliest:
        message = (f"Appointments can be booked from {the_rules.min_notice_hours} hours ahead. For something "
                   "sooner, please call the clinic.")
    elif lo > latest:
        message = f"Appointments can be booked up to {the_rules.max_days_ahead} days ahead. Choose an earlier day."
    else:
        spans = doctor_day(session, vt.id, doctor.id, wanted)
        if not spans:
            message = f"{name} does not see patients for this visit on {plain_day(wanted)}. Choose another day."
        else:
            slots = free_slots(session, vt, [doctor.id], max(lo, earliest), min(hi, latest), ignore=skip)
            if not slots:
                message = f"Every time on {plain_day(wanted)} is booked. Choose another day."
            elif portal and any(start < earliest for start, _end in spans):
                message = (f"Appointments can be booked from {the_rules.min_notice_hours} hours ahead, so earlier "
                           "times on this day are not shown.")
    following = None
    if not slots and hi < latest:
        after = max(hi, earliest)
        found = free_slots(session, vt, [doctor.id], after, min(latest, after + timedelta(days=MAX_RANGE_DAYS)),
                           limit=1, ignore=skip)
        following = _slot_views(session, found)[0] if found else None
    audit.record(session, actor, "appointment.slots.search", object_type="visit_type", object_id=vt.id,
                 detail={"doctor": str(doctor.id), "day": wanted.isoformat(), "found": len(slots)})
    return DaySlots(wanted, _slot_views(session, slots), message, following)


# ---------------------------------------------------------------- the checks a booking passes


def _no_shows(session: Session, patient_id: uuid.UUID) -> int:
    return int(session.exec(select(func.count()).select_from(Appointment).where(
        Appointment.patient_id == patient_id, Appointment.status == NOSHOW)).one())


def _patient_rules(session: Session, actor: Actor, patient_id: uuid.UUID, vt: VisitType, doctor: User,
                   start: datetime, the_rules: SchedulingRules, *, moving: Appointment | None = None) -> None:
    """The clinic's rules for a patient booking for themselves (Invalid with what to do)."""
    if not vt.self_bookable or vt.who_may_book == BY_STAFF:
        raise AppointmentInvalid(errors={"visit_type": "This visit is booked by the clinic. Please call to book it."})
    if not vt.new_patient and doctor.id not in _care_team(session, patient_id):
        raise AppointmentInvalid(errors={"doctor": "Book with a doctor of your care team, or choose a new-patient "
                                                   "visit to see another doctor."})
    if _no_shows(session, patient_id) >= the_rules.no_show_threshold:
        raise AppointmentInvalid(errors={"start": "Online booking is paused because of missed appointments. Please "
                                                  "call the clinic to book."})
    now = utcnow()
    if start < now + timedelta(hours=the_rules.min_notice_hours):
        raise AppointmentInvalid(errors={"start": f"Book at least {the_rules.min_notice_hours} hours ahead. For "
                                                  "something sooner, please call the clinic."})
    if start > now + timedelta(days=the_rules.max_days_ahead):
        raise AppointmentInvalid(errors={"start": f"Book at most {the_rules.max_days_ahead} days ahead."})
    if moving is None:
        held = int(session.exec(select(func.count()).select_from(Appointment).where(
            Appointment.patient_id == patient_id, col(Appointment.status).in_(UPCOMING),
            Appointment.start_at > now)).one())
        if held >= the_rules.max_future_bookings:
            raise AppointmentInvalid(errors={"start": f"You already have {held} upcoming appointments, the most the "
                                                      "clinic allows online. Cancel one first, or call the clinic."})


def _check_time(session: Session, vt: VisitType, doctor: User, start: datetime, patient_id: uuid.UUID, *,
                ignore: uuid.UUID | None = None) -> None:
    """The time is one of the doctor's slots for this visit type and free (SlotTaken otherwise), and
    the patient has no other appointment then (Invalid). Two statements: the doctor's day
    (``doctor_day``), then whatever holds the doctor or the patient at that time, in one
    (``_clashes``). `ignore`: the appointment being moved."""
    if start <= utcnow():
        raise AppointmentInvalid(errors={"start": "Choose a time that is still to come."})
    spans = doctor_day(session, vt.id, doctor.id, local_day(start))
    on_grid = cut_slots({doctor.id: spans}, {}, vt, start, start)
    if not on_grid:
        inside = any(s <= start < e for s, e in spans)
        name = doctor.display_name or "The doctor"
        raise AppointmentInvalid(errors={"start": "Choose one of the free times shown." if inside else
                                         f"{name} does not see patients for this visit at that time. Choose one of "
                                         "the free times shown."})
    end, held_until = _times(vt, start)
    doctor_busy, patient_busy = _clashes(session, doctor.id, patient_id, start, end, held_until, ignore)
    if doctor_busy:
        raise SlotTaken(_alternatives(session, vt, doctor.id, start, ignore=ignore))
    if patient_busy:
        raise AppointmentInvalid(errors={"start": PATIENT_BUSY})


def _clashes(session: Session, doctor_id: uuid.UUID, patient_id: uuid.UUID, start: datetime, end: datetime,
             held_until: datetime, ignore: uuid.UUID | None) -> tuple[bool, bool]:
    """(the doctor's time start..held_until is held, the patient has an appointment overlapping
    start..end) — the two questions ``load_busy`` and ``_patient_free`` answer, in one statement."""
    doctor_side = and_(Appointment.doctor_id == doctor_id, holds_time(start, held_until))
    patient_side = and_(Appointment.patient_id == patient_id, col(Appointment.status).not_in(FREES_SLOT),
                        Appointment.start_at < end, Appointment.end_at > start)
    stmt = select(Appointment.doctor_id, Appointment.patient_id, Appointment.start_at, Appointment.end_at,
                  Appointment.blocked_until).where(or_(doctor_side, patient_side))
    if ignore is not None:
        stmt = stmt.where(Appointment.id != ignore)
    doctor_busy = patient_busy = False
    for doctor, patient, s, e, held in session.exec(stmt).all():
        s, e, held = utc(s), utc(e), utc(held)
        doctor_busy |= doctor == doctor_id and s < held_until and start < held
        patient_busy |= patient == patient_id and s < end and start < e
    return doctor_busy, patient_busy


def _patient_free(session: Session, patient_id: uuid.UUID, start: datetime, end: datetime,
                  ignore: uuid.UUID | None = None) -> None:
    stmt = select(Appointment.id).where(Appointment.patient_id == patient_id,
                                        col(Appointment.status).not_in(FREES_SLOT),
                                        Appointment.start_at < end, Appointment.end_at > start)
    if ignore is not None:
        stmt = stmt.where(Appointment.id != ignore)
    if session.exec(stmt).first() is not None:
        raise AppointmentInvalid(errors={"start": PATIENT_BUSY})


PATIENT_BUSY = "There is already an appointment for this patient at that time."


def _write(session: Session, appt: Appointment, vt: VisitType, doctor_id: uuid.UUID, after: datetime) -> None:
    """Insert or update the appointment: the database's constraint is the last word (SlotTaken, with
    the next free times). No savepoint around it: a refused write ends the use case, so the whole
    transaction is rolled back (nothing is written before this point) and the free times are read
    in a fresh one. A savepoint cost two round trips on every booking for a race the check before
    it nearly always settles."""
    session.add(appt)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise SlotTaken(_alternatives(session, vt, doctor_id, after)) from None


def _times(vt: VisitType, start: datetime) -> tuple[datetime, datetime]:
    end = start + timedelta(minutes=vt.duration_minutes)
    return end, end + timedelta(minutes=vt.buffer_minutes)


# ---------------------------------------------------------------- booking, changing, cancelling


def book(session: Session, actor: Actor | None, *, patient_id: Any, visit_type_id: Any, doctor_id: Any, start: Any,
         reason: Any = None) -> AppointmentView:
    """Book a time: the patient for themselves within the rules, staff for anyone."""
    pid = as_uuid(patient_id)
    require(session, actor, Action.APPOINTMENT_WRITE, Resource(patient_id=pid), audit_as="appointment.book")
    assert actor is not None
    _prefetch(session, patient_id=pid, visit_type_id=visit_type_id, doctor_id=doctor_id)
    patient = load(session, pid)
    vt = _visit_type(session, visit_type_id)
    doctor = _doctor(session, doctor_id)
    errors: dict[str, str] = {}
    when = check.instant(start, "start", errors)
    text = check.reason_text(reason, errors)
    if errors or when is None:
        raise AppointmentInvalid(errors=errors)
    the_rules = rules(session)
    portal = actor.role == Role.PATIENT
    if portal:
        _patient_rules(session, actor, pid, vt, doctor, when, the_rules)
    _check_time(session, vt, doctor, when, pid)
    end, blocked = _times(vt, when)
    status = PENDING if portal and the_rules.require_approval else BOOKED
    appt = Appointment(patient_id=pid, doctor_id=doctor.id, visit_type_id=vt.id, start_at=when, end_at=end,
                       blocked_until=blocked, status=status, reason=text, booked_by=actor.user_id,
                       via_portal=portal)
    _write(session, appt, vt, doctor.id, when)
    if status == BOOKED:
        notify.schedule_reminders(session, appt, the_rules, patient, fresh=True)
    notify.send(session, appt, patient, "booked" if status == BOOKED else "pending", doctor=doctor.display_name)
    if portal:
        _notice(session, appt, "pending" if status == PENDING else "booked")
    audit.record(session, actor, "appointment.book", patient_id=pid, object_type=OBJECT, object_id=appt.id,
                 detail=_detail(appt, reason_given=bool(text)))
    known = ({doctor.id: doctor.display_name or ""}, {pid: display_name(patient)}, {vt.id: vt.name})
    return _views(session, actor, [appt], known=known)[0]


def _own(session: Session, actor: Actor | None, action: Action, appointment_id: Any, what: str
         ) -> tuple[Appointment, Patient]:
    """Authorize `action` on the appointment's patient (refusals audited as `what`), then load both.
    An id of an appointment the actor may not reach reads as not found after the refusal is recorded."""
    require(session, actor, action, audit_as=what) if actor is None else None
    appt = _appointment(session, appointment_id, lock=True)
    require(session, actor, action, Resource(patient_id=appt.patient_id), audit_as=what, object_type=OBJECT,
            object_id=appt.id)
    return appt, load(session, appt.patient_id)


def reschedule(session: Session, actor: Actor | None, *, appointment_id: Any, start: Any, doctor_id: Any = None,
               expected_version: Any = None) -> AppointmentView:
    """Move an upcoming appointment (same visit type; another doctor if given). Its reminders move
    with it; the time it leaves is offered to the waitlist."""
    appt, patient = _own(session, actor, Action.APPOINTMENT_WRITE, appointment_id, "appointment.reschedule")
    assert actor is not None
    _expect(appt, expected_version)
    if appt.status not in (BOOKED, PENDING) or aware(appt.start_at) <= utcnow():
        raise StatusConflict("Only an upcoming appointment can be moved.")
    vt = _visit_type(session, appt.visit_type_id, active=False)
    doctor = _doctor(session, doctor_id or appt.doctor_id)
    errors: dict[str, str] = {}
    when = check.instant(start, "start", errors)
    if errors or when is None:
        raise AppointmentInvalid(errors=errors)
    the_rules = rules(session)
    portal = actor.role == Role.PATIENT
    if portal:
        if aware(appt.start_at) - utcnow() < timedelta(hours=the_rules.cancellation_window_hours):
            raise AppointmentInvalid(errors={"start": f"Appointments less than {the_rules.cancellation_window_hours} "
                                                      "hours away cannot be moved online. Please call the clinic."})
        _patient_rules(session, actor, appt.patient_id, vt, doctor, when, the_rules, moving=appt)
    _check_time(session, vt, doctor, when, appt.patient_id, ignore=appt.id)
    end, blocked = _times(vt, when)
    freed = (appt.doctor_id, aware(appt.start_at))
    appt.doctor_id, appt.start_at, appt.end_at, appt.blocked_until = doctor.id, when, end, blocked
    appt.sequence += 1
    appt.version += 1
    appt.updated_at = utcnow()
    appt.confirmed_at = None
    _write(session, appt, vt, doctor.id, when)
    if appt.status == BOOKED:
        notify.schedule_reminders(session, appt, the_rules, patient)
    notify.send(session, appt, patient, "moved")
    if portal:
        _notice(session, appt, "rescheduled")
    audit.record(session, actor, "appointment.reschedule", patient_id=appt.patient_id, object_type=OBJECT,
                 object_id=appt.id, detail=_detail(appt, sequence=appt.sequence))
    _offer_freed(session, vt, freed[0], freed[1])
    return _view(session, actor, appt)


def _expect(appt: Appointment, expected_version: Any) -> None:
    if expected_version is not None and str(expected_version) != str(appt.version):
        raise StatusConflict("This appointment was changed since you opened it. Check it and try again.")


def _cancel(session: Session, appt: Appointment, patient: Patient, the_rules: SchedulingRules, code: str,
            by: uuid.UUID | None, *, tell: bool = True) -> None:
    """Cancel (no policy): status, late flag, reminders dropped, the patient told (.ics CANCEL)."""
    now = utcnow()
    appt.late_cancel = code.startswith("pat") and aware(appt.start_at) - now < timedelta(
        hours=the_rules.cancellation_window_hours) and appt.status != PROPOSED
    appt.status, appt.cancel_reason, appt.cancelled_at, appt.cancelled_by = CANCELLED, code, now, by
    appt.sequence += 1
    appt.version += 1
    appt.updated_at = now
    session.add(appt)
    session.flush()
    notify.drop_reminders(session, appt, the_rules)
    if tell:
        notify.send(session, appt, patient, "cancelled")


def cancel(session: Session, actor: Actor | None, *, appointment_id: Any, reason_code: Any = None,
           expected_version: Any = None) -> AppointmentView:
    """Cancel an upcoming appointment with a reason (FHIR's cancellation-reason codes; a patient's own
    cancellation is "pat-cpp"). Its reminders are removed; the time is offered to the waitlist."""
    appt, patient = _own(session, actor, Action.APPOINTMENT_WRITE, appointment_id, "appointment.cancel")
    assert actor is not None
    _expect(appt, expected_version)
    if appt.status not in (BOOKED, PENDING) or aware(appt.start_at) <= utcnow():
        raise StatusConflict("Only an upcoming appointment can be cancelled.")
    portal = actor.role == Role.PATIENT
    code = "pat-cpp" if portal else str(reason_code or "")
    if not portal and code not in STAFF_CANCEL_REASONS:
        raise AppointmentInvalid(errors={"reason_code": "Choose why the appointment is cancelled."})
    the_rules = rules(session)
    _cancel(session, appt, patient, the_rules, code, actor.user_id)
    if portal:
        _notice(session, appt, "cancelled")
    audit.record(session, actor, "appointment.cancel", patient_id=appt.patient_id, object_type=OBJECT,
                 object_id=appt.id, detail=_detail(appt, reason_code=code, late=appt.late_cancel))
    vt = _visit_type(session, appt.visit_type_id, active=False)
    _offer_freed(session, vt, appt.doctor_id, aware(appt.start_at))
    return _view(session, actor, appt)


def approve(session: Session, actor: Actor | None, *, appointment_id: Any) -> AppointmentView:
    """Staff accept a portal booking that waits for approval; reminders start."""
    appt, patient = _own(session, actor, Action.APPOINTMENT_ATTENDANCE, appointment_id, "appointment.approve")
    if appt.status != PENDING:
        raise StatusConflict("This appointment is not waiting for approval.")
    appt.status = BOOKED
    appt.version += 1
    appt.updated_at = utcnow()
    session.add(appt)
    notify.schedule_reminders(session, appt, rules(session), patient)
    notify.send(session, appt, patient, "booked")
    audit.record(session, actor, "appointment.approve", patient_id=appt.patient_id, object_type=OBJECT,
                 object_id=appt.id, detail=_detail(appt))
    return _view(session, actor, appt)  # type: ignore[arg-type]


def check_in(session: Session, actor: Actor | None, *, appointment_id: Any) -> AppointmentView:
    """The patient has arrived (on the appointment's day)."""
    appt, _patient = _own(session, actor, Action.APPOINTMENT_ATTENDANCE, appointment_id, "appointment.check_in")
    if appt.status != BOOKED:
        raise StatusConflict("Only a booked appointment can be checked in.")
    now = utcnow()
    if local_day(aware(appt.start_at)) != local_day(now):
        raise StatusConflict("Patients are checked in on the day of their appointment.")
    appt.status, appt.checked_in_at = ARRIVED, now
    appt.version += 1
    appt.updated_at = now
    session.add(appt)
    notify.drop_reminders(session, appt, rules(session))
    audit.record(session, actor, "appointment.check_in", patient_id=appt.patient_id, object_type=OBJECT,
                 object_id=appt.id, detail=_detail(appt))
    return _view(session, actor, appt)  # type: ignore[arg-type]


def mark_no_show(session: Session, actor: Actor | None, *, appointment_id: Any) -> AppointmentView:
    """The patient did not come (once the appointment's time has begun). After the clinic's threshold
    of no-shows, the patient's self-booking pauses."""
    appt, _patient = _own(session, actor, Action.APPOINTMENT_ATTENDANCE, appointment_id, "appointment.no_show")
    if appt.status not in (BOOKED, PENDING):
        raise StatusConflict("Only a booked appointment can be marked as a no-show.")
    now = utcnow()
    if aware(appt.start_at) > now:
        raise StatusConflict("An appointment can be marked as a no-show once its time has come.")
    appt.status = NOSHOW
    appt.version += 1
    appt.updated_at = now
    session.add(appt)
    audit.record(session, actor, "appointment.no_show", patient_id=appt.patient_id, object_type=OBJECT,
                 object_id=appt.id, detail=_detail(appt, no_shows=_no_shows(session, appt.patient_id)))
    return _view(session, actor, appt)  # type: ignore[arg-type]


# ---------------------------------------------------------------- reading


def _attendance(rows: list[Appointment], the_rules: SchedulingRules) -> Attendance:
    counts = Counter(a.status for a in rows)
    return Attendance(attended=counts[FULFILLED] + counts[ARRIVED], no_shows=counts[NOSHOW],
                      late_cancels=sum(1 for a in rows if a.status == CANCELLED and a.late_cancel),
                      cancelled=counts[CANCELLED], paused=counts[NOSHOW] >= the_rules.no_show_threshold)


def for_patient(session: Session, actor: Actor | None, *, patient_id: Any, past_limit: int = 25
                ) -> PatientAppointments:
    """The patient's upcoming appointments (soonest first), past ones (newest first, 25), attendance
    and waitlist entries: the patient's own page, the front desk, care-team doctors."""
    pid = as_uuid(patient_id)
    require(session, actor, Action.APPOINTMENT_READ, Resource(patient_id=pid), audit_as="appointment.list")
    assert actor is not None
    load(session, pid)
    rows = list(session.exec(select(Appointment).where(Appointment.patient_id == pid)
                             .order_by(col(Appointment.start_at))).all())
    now = utcnow()
    upcoming = [a for a in rows if a.status in (PROPOSED, PENDING, BOOKED, ARRIVED) and aware(a.end_at) > now]
    coming = {a.id for a in upcoming}
    past = [a for a in reversed(rows) if a.id not in coming][:past_limit]
    views = {v.id: v for v in _views(session, actor, upcoming + past)}
    entries = session.exec(select(WaitlistEntry).where(WaitlistEntry.patient_id == pid,
                                                       col(WaitlistEntry.status).in_((WAITING, OFFERED)))
                           .order_by(col(WaitlistEntry.created_at))).all()
    types = {vt.id: vt.name for vt in session.exec(select(VisitType)).all()}
    names = doctor_names(session, {e.doctor_id for e in entries if e.doctor_id})
    waitlist = [WaitlistView(e.id, types.get(e.visit_type_id, ""), names.get(e.doctor_id, "") if e.doctor_id else "",
                             aware(e.before), e.status, e.appointment_id) for e in entries]
    audit.record(session, actor, "appointment.list", patient_id=pid, object_type=OBJECT,
                 detail={"upcoming": len(upcoming), "past": len(past)})
    channel, _to = notify.channel_for(session, session.get(Patient, pid))  # type: ignore[arg-type]
    return PatientAppointments([views[a.id] for a in upcoming], [views[a.id] for a in past],
                               _attendance(rows, rules(session)), waitlist, channel)


def own(session: Session, actor: Actor | None) -> PatientAppointments:
    """The signed-in patient's own appointments."""
    if actor is None or actor.patient_id is None:
        from patient_portal.domain.patients.common import PatientNotFound

        if actor is None:
            require(session, actor, Action.APPOINTMENT_READ, audit_as="appointment.list")
        raise PatientNotFound()
    return for_patient(session, actor, patient_id=actor.patient_id)


def schedule(session: Session, actor: Actor | None, *, doctor_id: Any = None, day: Any = None, days: Any = 1
             ) -> Schedule:
    """A doctor's day (days=1) or week (days=7) from `day` (clinic-local; today by default): staff and
    admins any doctor's, a doctor their own. Cancelled appointments are left out. A doctor reads the
    reason for the visit of their care-team patients only."""
    who = actor.user_id if actor is not None and actor.role == Role.DOCTOR and not doctor_id else doctor_id
    if actor is not None and actor.can(Action.SCHEDULE_READ):
        require(session, actor, Action.SCHEDULE_READ, audit_as="appointment.schedule.read")
    else:
        owner = None
        if who:
            try:
                owner = as_uuid(who)
            except Exception:  # a malformed id is refused below like another doctor's
                owner = uuid.uuid4()
        require(session, actor, Action.SCHEDULE_OWN_READ, Resource(owner_id=owner), audit_as="appointment.schedule.read")
    assert actor is not None
    doctor = _doctor(session, who)
    errors: dict[str, str] = {}
    first = check.a_date(day, "day", errors, required=False) or local_day(utcnow())
    if errors:
        raise AppointmentInvalid(errors=errors)
    count = 7 if str(days) == "7" else 1
    zone = clinic_zone()
    lo, hi = day_bounds(first, zone)[0], day_bounds(first + timedelta(days=count - 1), zone)[1]
    views = _listed(session, actor, Appointment.doctor_id == doctor.id, Appointment.start_at >= lo,
                    Appointment.start_at < hi, col(Appointment.status).not_in(FREES_SLOT))
    by_day: dict[date, list[AppointmentView]] = {first + timedelta(days=i): [] for i in range(count)}
    for v in views:
        by_day.setdefault(local_day(v.start, zone), []).append(v)
    audit.record(session, actor, "appointment.schedule.read", object_type="doctor", object_id=doctor.id,
                 detail={"day": first.isoformat(), "days": count, "count": len(views),
                         "patient_ids": sorted({str(v.patient_id) for v in views})})
    return Schedule(doctor.id, doctor.display_name or "", [ScheduleDay(d, items) for d, items in sorted(by_day.items())])


def scheduled_doctors(session: Session, actor: Actor | None) -> list[DoctorView]:
    """Doctors with a schedule (for the day and week views' picker)."""
    require(session, actor, Action.SLOTS_SEARCH, audit_as="appointment.slots.search")
    ids = _scheduled_doctors(session)
    names = doctor_names(session, ids)
    return sorted((DoctorView(i, names.get(i, "")) for i in ids), key=lambda d: (d.name.casefold(), str(d.id)))


def all_doctors(session: Session, actor: Actor | None) -> list[DoctorView]:
    """Every active doctor, scheduled or not (the settings screen gives a new doctor their hours)."""
    _configure(session, actor, "appointment.settings.read")
    rows = session.exec(select(User.id).where(User.role == Role.DOCTOR.value, User.active == True)).all()  # noqa: E712
    names = doctor_names(session, set(rows))
    return sorted((DoctorView(i, names.get(i, "")) for i in rows), key=lambda d: (d.name.casefold(), str(d.id)))


def pending(session: Session, actor: Actor | None, *, limit: int = 50) -> list[AppointmentView]:
    """Portal bookings waiting for staff approval, soonest first (the front desk)."""
    require(session, actor, Action.SCHEDULE_READ, audit_as="appointment.pending.list")
    assert actor is not None
    views = _listed(session, actor, Appointment.status == PENDING, Appointment.start_at > utcnow(), limit=limit)
    audit.record(session, actor, "appointment.pending.list", object_type=OBJECT,
                 detail={"count": len(views), "patient_ids": sorted({str(v.patient_id) for v in views})})
    return views


def notices(session: Session, actor: Actor | None, *, limit: int = 20) -> list[Notice]:
    """What patients did from the portal, newest first (unread ones first): the staff dashboard."""
    require(session, actor, Action.SCHEDULE_READ, audit_as="appointment.notices.list")
    rows = list(session.exec(select(AppointmentNotice).order_by(col(AppointmentNotice.read_at).is_not(None),
                                                                col(AppointmentNotice.created_at).desc())
                             .limit(limit)).all())
    appts = {a.id: a for a in session.exec(select(Appointment).where(
        col(Appointment.id).in_({n.appointment_id for n in rows}))).all()} if rows else {}
    patients = patient_names(session, {n.patient_id for n in rows})
    doctors = doctor_names(session, {a.doctor_id for a in appts.values()})
    out = [Notice(n.id, n.kind, aware(n.created_at), n.appointment_id, n.patient_id, patients.get(n.patient_id, ""),
                  aware(appts[n.appointment_id].start_at) if n.appointment_id in appts else None,
                  doctors.get(appts[n.appointment_id].doctor_id, "") if n.appointment_id in appts else "",
                  n.read_at is not None) for n in rows]
    audit.record(session, actor, "appointment.notices.list", object_type="appointment_notice",
                 detail={"count": len(out), "patient_ids": sorted({str(n.patient_id) for n in out})})
    return out


def mark_notices_read(session: Session, actor: Actor | None) -> int:
    require(session, actor, Action.SCHEDULE_READ, audit_as="appointment.notices.read")
    now = utcnow()
    rows = session.exec(select(AppointmentNotice).where(col(AppointmentNotice.read_at).is_(None))).all()
    for n in rows:
        n.read_at = now
        session.add(n)
    return len(rows)


def no_show_rates(session: Session, actor: Actor | None) -> tuple[list[NoShowRate], list[NoShowRate]]:
    """No-show rates by doctor and by visit type over appointments whose time has come (admins)."""
    require(session, actor, Action.REPORTS, audit_as="appointment.report.read")
    rows = session.exec(select(Appointment.doctor_id, Appointment.visit_type_id, Appointment.status, func.count())
                        .where(col(Appointment.status).in_((NOSHOW, FULFILLED, ARRIVED)))
                        .group_by(Appointment.doctor_id, Appointment.visit_type_id, Appointment.status)).all()
    by_doctor: dict[uuid.UUID, list[int]] = {}
    by_type: dict[uuid.UUID, list[int]] = {}
    for doctor, vt, status, n in rows:
        for bucket, key in ((by_doctor, doctor), (by_type, vt)):
            pair = bucket.setdefault(key, [0, 0])
            pair[1] += n
            if status == NOSHOW:
                pair[0] += n
    names = doctor_names(session, set(by_doctor))
    types = {v.id: v.name for v in session.exec(select(VisitType)).all()}
    audit.record(session, actor, "appointment.report.read", object_type="report", detail={"report": "no_shows"})
    return ([NoShowRate(names.get(k, ""), v[0], v[1]) for k, v in by_doctor.items()],
            [NoShowRate(types.get(k, ""), v[0], v[1]) for k, v in by_type.items()])


# ---------------------------------------------------------------- the waitlist


def join_waitlist(session: Session, actor: Actor | None, *, patient_id: Any, visit_type_id: Any,
                  doctor_id: Any = None, appointment_id: Any = None, before: Any = None) -> WaitlistView:
    """Wait for an earlier time: before the patient's appointment `appointment_id` (taking the offer
    moves it), or before `before`."""
    pid = as_uuid(patient_id)
    require(session, actor, Action.APPOINTMENT_WRITE, Resource(patient_id=pid), audit_as="appointment.waitlist.join")
    assert actor is not None
    load(session, pid)
    doctor = _doctor(session, doctor_id) if doctor_id else None
    current = None
    if appointment_id:
        current = _appointment(session, appointment_id)
        if current.patient_id != pid or current.status not in (BOOKED, PENDING):
            raise AppointmentNotFound()
        vt = _visit_type(session, current.visit_type_id, active=False)
    else:
        vt = _visit_type(session, visit_type_id)
    if actor.role == Role.PATIENT:
        if not vt.self_bookable or vt.who_may_book == BY_STAFF:
            raise AppointmentInvalid(errors={"visit_type": "This visit is booked by the clinic. Please call."})
        if doctor is not None and not vt.new_patient and doctor.id not in _care_team(session, pid):
            raise AppointmentInvalid(errors={"doctor": "Choose a doctor of your care team."})
    errors: dict[str, str] = {}
    until = aware(current.start_at) if current else check.instant(before, "before", errors) if before else None
    if until is None and not errors:
        errors["before"] = "Say by when you would like to be seen."
    if errors or until is None:
        raise AppointmentInvalid(errors=errors)
    entry = WaitlistEntry(patient_id=pid, visit_type_id=vt.id, doctor_id=doctor.id if doctor else
                          (current.doctor_id if current else None), before=until,
                          appointment_id=current.id if current else None)
    session.add(entry)
    session.flush()
    audit.record(session, actor, "appointment.waitlist.join", patient_id=pid, object_type="waitlist_entry",
                 object_id=entry.id, detail={"visit_type": str(vt.id), "doctor": str(entry.doctor_id)
                                             if entry.doctor_id else None})
    names = doctor_names(session, {entry.doctor_id} if entry.doctor_id else set())
    return WaitlistView(entry.id, vt.name, names.get(entry.doctor_id, "") if entry.doctor_id else "", until, WAITING,
                        entry.appointment_id)


def leave_waitlist(session: Session, actor: Actor | None, *, entry_id: Any) -> None:
    require(session, actor, Action.APPOINTMENT_WRITE, audit_as="appointment.waitlist.leave") if actor is None else None
    entry = session.get(WaitlistEntry, as_uuid(entry_id)) if entry_id else None
    if entry is None:
        raise AppointmentNotFound()
    require(session, actor, Action.APPOINTMENT_WRITE, Resource(patient_id=entry.patient_id),
            audit_as="appointment.waitlist.leave", object_type="waitlist_entry", object_id=entry.id)
    entry.status = REMOVED
    entry.updated_at = utcnow()
    session.add(entry)
    audit.record(session, actor, "appointment.waitlist.leave", patient_id=entry.patient_id,
                 object_type="waitlist_entry", object_id=entry.id)


def _offer_freed(session: Session, vt: VisitType, doctor_id: uuid.UUID, start: datetime, *,
                 skip: set[uuid.UUID] | None = None) -> uuid.UUID | None:
    """Offer a time that has just freed up to the first waiting patient it suits: held for them as a
    `proposed` appointment until the hold ends; returns the offer's appointment id (None: nobody)."""
    now = utcnow()
    the_rules = rules(session)
    hold = now + timedelta(minutes=the_rules.waitlist_hold_minutes)
    if start <= hold:
        return None
    end, blocked = _times(vt, start)
    busy = load_busy(session, [doctor_id], start, blocked).get(doctor_id)
    if busy is not None and busy.overlaps((start, blocked)):
        return None
    entries = session.exec(select(WaitlistEntry).where(
        WaitlistEntry.status == WAITING, WaitlistEntry.visit_type_id == vt.id, WaitlistEntry.before > start)
        .order_by(col(WaitlistEntry.created_at))).all()
    for entry in entries:
        if skip and entry.id in skip:
            continue
        if entry.doctor_id not in (None, doctor_id):
            continue
        if entry.doctor_id is None and not vt.new_patient and doctor_id not in _care_team(session, entry.patient_id):
            continue
        try:
            _patient_free(session, entry.patient_id, start, end, ignore=entry.appointment_id)
        except AppointmentInvalid:
            continue
        patient = session.get(Patient, entry.patient_id)
        if patient is None:
            continue
        offer = Appointment(patient_id=entry.patient_id, doctor_id=doctor_id, visit_type_id=vt.id, start_at=start,
                            end_at=end, blocked_until=blocked, status=PROPOSED, hold_until=hold, via_portal=True)
        try:
            with session.begin_nested():
                session.add(offer)
                session.flush()
        except IntegrityError:
            return None
        entry.status, entry.offered_appointment_id, entry.updated_at = OFFERED, offer.id, now
        session.add(entry)
        from patient_portal.core import jobs

        jobs.enqueue(session, notify.HOLD_EXPIRY, {"appointment_id": str(offer.id)}, run_after=hold,
                     key=notify.hold_key(offer.id))
        notify.send(session, offer, patient, "offer")
        audit.record(session, None, "appointment.waitlist.offer", patient_id=entry.patient_id, object_type=OBJECT,
                     object_id=offer.id, detail=_detail(offer, entry=str(entry.id)))
        return offer.id
    return None


def lapse_offer(session: Session, appointment_id: uuid.UUID) -> bool:
    """An offer's hold ran out unanswered (the hold-expiry job): release the time, put the patient
    back on the list, offer the time to the next one. False when there was nothing to do."""
    appt = session.get(Appointment, appointment_id)
    if appt is None or appt.status != PROPOSED or (appt.hold_until and aware(appt.hold_until) > utcnow()):
        return False
    patient = session.get(Patient, appt.patient_id)
    the_rules = rules(session)
    entry = session.exec(select(WaitlistEntry).where(WaitlistEntry.offered_appointment_id == appt.id)).first()
    _cancel(session, appt, patient, the_rules, "other", None, tell=False)  # type: ignore[arg-type]
    skip = set()
    if entry is not None:
        entry.status, entry.offered_appointment_id, entry.updated_at = WAITING, None, utcnow()
        session.add(entry)
        skip.add(entry.id)
    audit.record(session, None, "appointment.waitlist.lapse", patient_id=appt.patient_id, object_type=OBJECT,
                 object_id=appt.id, detail=_detail(appt))
    vt = _visit_type(session, appt.visit_type_id, active=False)
    _offer_freed(session, vt, appt.doctor_id, aware(appt.start_at), skip=skip)
    return True


# ---------------------------------------------------------------- links from messages (no sign-in)


def _link(session: Session, token: str) -> tuple[Any, Appointment | None, str]:
    """The link, its appointment, and why it cannot be used ("" when it can)."""
    link = notify.find_link(session, token)
    appt = session.get(Appointment, link.appointment_id) if link is not None else None
    if link is None or appt is None:
        return link, None, "This link is not valid. Sign in to see your appointments."
    if link.used_at is not None:
        return link, appt, "This link was already used."
    if aware(link.expires_at) <= utcnow():
        return link, appt, ("This offer has ended: the time was offered to someone else." if link.purpose == "accept"
                            else "This link has expired.")
    if link.sequence != appt.sequence:
        return link, appt, "This appointment has changed since the message was sent. Sign in to see it."
    if link.purpose == "accept" and appt.status != PROPOSED:
        return link, appt, "This offer has ended."
    if link.purpose != "accept" and appt.status not in (BOOKED, PENDING):
        return link, appt, "This appointment is no longer booked."
    return link, appt, ""


def link_details(session: Session, *, token: Any) -> LinkView:
    """What a reminder's or an offer's link would do, before the person presses its button (nothing
    changes; no patient data beyond the time and the doctor's name)."""
    link, appt, why = _link(session, str(token or ""))
    if appt is None:
        return LinkView("", utcnow(), "", clinic_config.current().clinic_name, False, why)
    return LinkView(link.purpose, aware(appt.start_at), notify.doctor_name(session, appt.doctor_id),
                    clinic_config.current().clinic_name, not why, why)


def use_link(session: Session, *, token: Any) -> LinkView:
    """Confirm, cancel or accept as the link says (single use). Audited with no actor, via the link."""
    link, appt, why = _link(session, str(token or ""))
    if why or appt is None:
        raise Invalid(why or "This link is not valid.")
    now = utcnow()
    link.used_at = now
    session.add(link)
    patient = load(session, appt.patient_id)
    the_rules = rules(session)
    vt = _visit_type(session, appt.visit_type_id, active=False)
    if link.purpose == "confirm":
        appt.confirmed_at = now
        session.add(appt)
        audit.record(session, None, "appointment.confirm", patient_id=appt.patient_id, object_type=OBJECT,
                     object_id=appt.id, detail=_detail(appt, via_link=True))
    elif link.purpose == "cancel":
        _cancel(session, appt, patient, the_rules, "pat-crs", None)
        _notice(session, appt, "cancelled")
        audit.record(session, None, "appointment.cancel", patient_id=appt.patient_id, object_type=OBJECT,
                     object_id=appt.id, detail=_detail(appt, reason_code="pat-crs", late=appt.late_cancel,
                                                       via_link=True))
        _offer_freed(session, vt, appt.doctor_id, aware(appt.start_at))
    else:
        _accept(session, appt, patient, the_rules, vt)
    return LinkView(link.purpose, aware(appt.start_at), notify.doctor_name(session, appt.doctor_id),
                    clinic_config.current().clinic_name, False)


def accept_offer(session: Session, actor: Actor | None, *, appointment_id: Any) -> AppointmentView:
    """Take a waitlist offer from the portal (what the offer's email link does, signed in): the held
    time is booked, the later appointment it replaces is cancelled."""
    appt, patient = _own(session, actor, Action.APPOINTMENT_WRITE, appointment_id, "appointment.waitlist.accept")
    assert actor is not None
    if appt.status != PROPOSED or (appt.hold_until and aware(appt.hold_until) <= utcnow()):
        raise StatusConflict("This offer has ended: the time was offered to someone else.")
    _accept(session, appt, patient, rules(session), _visit_type(session, appt.visit_type_id, active=False),
            actor=actor)
    return _view(session, actor, appt)


def _accept(session: Session, appt: Appointment, patient: Patient, the_rules: SchedulingRules, vt: VisitType, *,
            actor: Actor | None = None) -> None:
    from patient_portal.core import jobs

    now = utcnow()
    appt.status, appt.hold_until, appt.updated_at = BOOKED, None, now
    appt.version += 1
    session.add(appt)
    jobs.cancel(session, notify.hold_key(appt.id))
    entry = session.exec(select(WaitlistEntry).where(WaitlistEntry.offered_appointment_id == appt.id)).first()
    replaced = None
    if entry is not None:
        entry.status, entry.updated_at = WAIT_DONE, now
        session.add(entry)
        if entry.appointment_id:
            replaced = session.get(Appointment, entry.appointment_id)
    session.flush()
    if replaced is not None and replaced.status in (BOOKED, PENDING):
        _cancel(session, replaced, patient, the_rules, "pat-swl", None, tell=False)
        audit.record(session, actor, "appointment.cancel", patient_id=replaced.patient_id, object_type=OBJECT,
                     object_id=replaced.id, detail=_detail(replaced, reason_code="pat-swl", via_link=actor is None))
    notify.schedule_reminders(session, appt, the_rules, patient)
    notify.send(session, appt, patient, "booked")
    _notice(session, appt, "waitlist")
    audit.record(session, actor, "appointment.waitlist.accept", patient_id=appt.patient_id, object_type=OBJECT,
                 object_id=appt.id, detail=_detail(appt, replaced=str(replaced.id) if replaced else None,
                                                   via_link=actor is None))
    if replaced is not None:
        _offer_freed(session, _visit_type(session, replaced.visit_type_id, active=False), replaced.doctor_id,
                     aware(replaced.start_at))


# ---------------------------------------------------------------- for other areas (no policy: callers authorize)


def next_appointments(session: Session, patient_ids: list[uuid.UUID]) -> dict[uuid.UUID, datetime]:
    """Each of these patients' next booked (or pending) appointment time. One statement."""
    if not patient_ids:
        return {}
    rows = session.exec(select(Appointment.patient_id, func.min(Appointment.start_at)).where(
        col(Appointment.patient_id).in_(patient_ids), col(Appointment.status).in_((BOOKED, PENDING, ARRIVED)),
        Appointment.start_at > utcnow() - timedelta(hours=1)).group_by(Appointment.patient_id)).all()
    return {pid: aware(at) for pid, at in rows}  # type: ignore[misc]


def fulfil_visit(session: Session, actor: Actor | None, *, patient_id: uuid.UUID, doctor_id: uuid.UUID,
                 visit_at: datetime, note_id: Any = None) -> uuid.UUID | None:
    """A visit note was signed (core.events.VISIT_SIGNED, see hooks.py): the patient's appointment
    with the note's author on the visit's clinic-local day becomes ``fulfilled`` — the checked-in
    one, else a booked one whose time has begun (the front desk forgot the check-in), the nearest to
    the visit's time. No policy here: the visits service authorized the signing; audited as the
    signer. Returns the appointment's id (None: no appointment matched, nothing changed)."""
    zone = clinic_zone()
    when = aware(visit_at)
    lo, hi = day_bounds(local_day(when, zone), zone)
    rows = session.exec(select(Appointment).where(
        Appointment.patient_id == patient_id, Appointment.doctor_id == doctor_id, Appointment.start_at >= lo,
        Appointment.start_at < hi, col(Appointment.status).in_((ARRIVED, BOOKED)))).all()
    now = utcnow()
    candidates = [a for a in rows if a.status == ARRIVED or aware(a.start_at) <= now]
    if not candidates:
        return None
    appt = min(candidates, key=lambda a: (a.status != ARRIVED, abs(aware(a.start_at) - when)))
    appt.status = FULFILLED
    appt.version += 1
    appt.updated_at = now
    session.add(appt)
    notify.drop_reminders(session, appt, rules(session))
    audit.record(session, actor, "appointment.fulfil", patient_id=appt.patient_id, object_type=OBJECT,
                 object_id=appt.id, detail=_detail(appt, note=str(note_id) if note_id else None))
    return appt.id
