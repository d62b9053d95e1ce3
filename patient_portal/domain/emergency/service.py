"""Emergencies: the one way in for the UI, the API, the chart header and the timeline to a patient's
emergency contacts, their emergency information (advance directives, code status, special
instructions), the clinic's emergency protocols, the runs of a protocol for a patient and the
notification of their contacts.

The rules, and where each lives:

* **Who.** The policy (``core.access``) decides. Contacts: ``patient.emergency.read`` / ``.write``.
  Emergency information: read with ``patient.emergency.read`` (every role that sees the chart);
  directives and instructions written with ``emergency.info.write`` (front desk, doctors, admins, the
  patient); the code status only with ``emergency.code_status.write`` (care-team doctors).
  Protocols: ``emergency.protocol.read`` (doctors, front desk, admins) and ``.write`` (admins). Runs:
  ``emergency.run.read`` (doctors, front desk; admins for operations) and ``emergency.run.write``
  (doctors and the front desk: start, tick, close); ``emergency.contacts.notify`` (a doctor chooses
  to notify the contacts). Refusals go through ``require``, which audits them.
* **One run at a time.** A patient has at most one protocol in progress (a partial unique index
  backs the check); a closed run is kept as it was. Closing asks for an outcome note (encrypted).
* **Concurrency.** The emergency information, protocols and runs carry a version; a stale save is
  ``EmergencyConflict`` (nothing written).
* **Notification** of the contacts: ``notify.py`` (order, channel, language, hours, signed links,
  the outbox jobs, escalation). Starting a protocol whose ``notify_contacts`` is on notifies them
  (the starter may say not to); a doctor may notify them later from the run.
* **For other areas** (no policy; their callers authorize and audit): ``read_for_chart`` (contacts
  for the chart), ``banner`` (the chart header's emergency part: code status, directives,
  instructions, the run in progress), ``timeline_items``.
* **Audit.** Every read and write records one event in its unit with the policy's basis and purpose:
  ``emergency.info.read``, ``emergency.info.write``, ``emergency.code_status.write``,
  ``emergency.card.print``, ``emergency.protocol.create`` / ``.update`` / ``.retire`` /
  ``.restore``, ``emergency.run.list``, ``emergency.run.start``, ``emergency.step.tick`` /
  ``.untick``, ``emergency.run.close``, ``emergency.contacts.notify``; the jobs and the public link
  record ``emergency.contact.notify`` / ``.skip`` / ``.sent`` / ``.escalate`` / ``.open`` /
  ``.acknowledge`` with no actor. Details hold ids, counts, positions, channels and codes, never text.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from patient_portal.core import audit, clinic_config, jobs
from patient_portal.core.access import Action, Actor, Purpose, Resource, decide, require
from patient_portal.core.clock import clinic_zone
from patient_portal.core.crypto import decrypt_value
from patient_portal.core.db import utcnow
from patient_portal.domain.documents.models import Category, Document, Status, read_action
from patient_portal.domain.emergency import notify, rows
from patient_portal.domain.emergency import validation as check
from patient_portal.domain.emergency.banner import banner
from patient_portal.domain.emergency.card import CardContact, CardDirective, render
from patient_portal.domain.emergency.dto import (
    CODE_STATUSES,
    AckView,
    Choice,
    Directive,
    EmergencyConflict,
    EmergencyInformation,
    EmergencyInvalid,
    EmergencyNotFound,
    NoticeView,
    ProtocolView,
    RunPage,
    RunView,
    StepView,
)
from patient_portal.domain.emergency.models import (
    ACTIVE,
    CLOSED,
    EmergencyContact,
    EmergencyInfo,
    EmergencyNotice,
    EmergencyProtocol,
    EmergencyRun,
    EmergencyRunStep,
)
from patient_portal.domain.patients import versioning
from patient_portal.domain.patients.common import as_uuid, load
from patient_portal.domain.patients.dto import display_name
from patient_portal.domain.patients.header import ChartHeader, with_header
from patient_portal.domain.patients.validation import display_phone, validate_emergency

__all__ = [
    "acknowledge", "ack_details", "banner", "close_run", "emergency_card", "file_at_intake", "information",
    "notify_contacts", "open_page", "protocols", "read_for_chart", "retire_protocol", "run_page",
    "save_information", "save_protocol", "set_code_status", "start_run", "tick_step", "timeline_items",
    "update_contacts",
]

#: How many closed runs the Emergency page shows under the one in progress.
EARLIER = 10


# ---------------------------------------------------------------- contacts


def read_for_chart(session: Session, actor: Actor, *, patient_id: Any) -> list[dict[str, str]] | None:
    """The contacts as form strings, primary first; None when the actor's role reads no contacts.

    The chart's composition point (patients.profile.get_chart): the caller has already required
    access to this patient and audits the whole chart read once, so this neither checks nor audits.
    """
    if not actor.can(Action.EMERGENCY_READ):
        return None
    return rows.for_patient(session, as_uuid(patient_id))


def update_contacts(session: Session, actor: Actor, *, patient_id: Any, contacts: list[dict],
                    expected_version: int, base: list[dict] | None = None) -> list[dict]:
    """Replace the emergency contacts (staff, admin, the patient); returns what is on file now."""
    return versioning.replace_rows(session, actor, patient_id=patient_id, rows=contacts,
                                   action=Action.EMERGENCY_WRITE, label="contact", validate=validate_emergency,
                                   read=rows.for_patient, write=rows.replace,
                                   expected_version=expected_version, base=base)


def file_at_intake(session: Session, *, patient_id: Any, contacts: list[dict]) -> None:
    """File a new record's contacts from its validated registration draft; registration, which
    authorizes and audits the whole record in one unit, is the only caller."""
    rows.replace(session, as_uuid(patient_id), contacts)


# ---------------------------------------------------------------- helpers


def _uuid(value: Any, what: str) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value)[:64])
    except ValueError:
        raise EmergencyNotFound(what) from None


def _version(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise EmergencyInvalid("Open it again and save.", errors={"version": "Open it again and save."}) from None


def _today() -> date:
    return datetime.now(clinic_zone()).date()


def _authorized(session: Session, actor: Actor | None, action: Action, patient_id: Any, what: str, *,
                purpose: Purpose | None = None) -> uuid.UUID:
    """The policy first (a refusal audited as `what`), then the record (NotFound for no live one)."""
    pid = as_uuid(patient_id)
    require(session, actor, action, Resource(patient_id=pid), audit_as=what, purpose=purpose)
    load(session, pid)
    return pid


def _may(session: Session, actor: Actor, action: Action, pid: uuid.UUID) -> bool:
    return decide(session, actor, action, Resource(patient_id=pid)).allowed


def _info_row(session: Session, pid: uuid.UUID) -> EmergencyInfo | None:
    return session.exec(select(EmergencyInfo).where(EmergencyInfo.patient_id == pid)).first()


def _contacts(session: Session, pid: uuid.UUID) -> list[EmergencyContact]:
    return notify.contacts_in_order(session, pid)


def _directive_documents(session: Session, pid: uuid.UUID) -> dict[str, str]:
    """The patient's advance directive documents on file: {id: "Title (date)"}."""
    t = Document.__tablename__
    found = session.exec(select(Document.id, Document.title, Document.service_date).where(
        Document.patient_id == pid, Document.category == Category.ADVANCE_DIRECTIVE,
        Document.status == Status.ACTIVE).order_by(Document.created_at)).all()  # type: ignore[arg-type]
    out: dict[str, str] = {}
    for row_id, title, served in found:
        name = decrypt_value("str", title, t, "title", row_id) or "Advance directive"
        on = decrypt_value("date", served, t, "service_date", row_id)
        out[str(row_id)] = f"{name} ({on:%-d %b %Y})" if on else name
    return out


def _directive_views(items: list[dict], contacts: list[EmergencyContact], documents: dict[str, str] | None
                     ) -> tuple[Directive, ...]:
    names = {str(c.id): f"{c.name} ({c.relationship})" for c in contacts}
    out = []
    for item in items or []:
        on = item.get("date") or ""
        try:
            signed = date.fromisoformat(on) if on else None
        except ValueError:
            signed = None
        doc = item.get("document_id") or ""
        out.append(Directive(kind=item.get("kind", ""), on=signed, agent_contact_id=item.get("agent_contact_id") or "",
                             agent_name=names.get(item.get("agent_contact_id") or "", ""), document_id=doc,
                             document_title=(documents or {}).get(doc, "") if documents is not None else ""))
    return tuple(out)


# ---------------------------------------------------------------- emergency information


def _information(session: Session, actor: Actor, pid: uuid.UUID) -> EmergencyInformation:
    row = _info_row(session, pid)
    contacts = _contacts(session, pid)
    reads_documents = actor.can(read_action(Category.ADVANCE_DIRECTIVE))
    documents = _directive_documents(session, pid)
    can_edit = _may(session, actor, Action.EMERGENCY_INFO_WRITE, pid)
    return EmergencyInformation(
        patient_id=pid, code_status=(row.code_status or "") if row else "",
        directives=_directive_views(list(row.directives or []) if row else [], contacts,
                                    documents if reads_documents else None),
        instructions=tuple(row.instructions or []) if row else (), version=row.version if row else 0,
        can_edit=can_edit, can_set_code_status=_may(session, actor, Action.CODE_STATUS_WRITE, pid),
        contacts=tuple(Choice(str(c.id), f"{c.name} ({c.relationship})") for c in contacts) if can_edit else (),
        documents=tuple(Choice(k, v) for k, v in documents.items()) if can_edit and reads_documents else ())


def information(session: Session, actor: Actor | None, *, patient_id: Any = None) -> EmergencyInformation:
    """The patient's emergency information (every role that sees the chart; the patient their own:
    `patient_id` None names the signed-in patient's record), with what the forms may link to."""
    what = "emergency.info.read"
    if patient_id is None and actor is not None and actor.patient_id is not None:
        patient_id = actor.patient_id
    pid = _authorized(session, actor, Action.EMERGENCY_READ, patient_id, what)
    assert actor is not None
    found = _information(session, actor, pid)
    audit.record(session, actor, what, patient_id=pid, object_type="emergency_info", object_id=pid,
                 detail={"directives": len(found.directives), "instructions": len(found.instructions),
                         "code_status": bool(found.code_status)})
    return found


def _row_for_write(session: Session, pid: uuid.UUID, expected_version: Any) -> EmergencyInfo:
    row = _info_row(session, pid)
    version = _version(expected_version)
    if (row.version if row else 0) != version:
        raise EmergencyConflict("The emergency information was changed by someone else. Check it and save again.",
                                row.version if row else 0)
    if row is None:
        row = EmergencyInfo(patient_id=pid, version=0)
    return row


def save_information(session: Session, actor: Actor | None, *, patient_id: Any, directives: Any,
                     instructions: Any, expected_version: Any) -> EmergencyInformation:
    """Save the advance directives and special instructions (front desk, doctors, admins, the
    patient) at the version they were opened."""
    what = "emergency.info.write"
    pid = _authorized(session, actor, Action.EMERGENCY_INFO_WRITE, patient_id, what)
    assert actor is not None
    row = _row_for_write(session, pid, expected_version)
    errors: dict[str, str] = {}
    contacts = {str(c.id) for c in _contacts(session, pid)}
    documents = set(_directive_documents(session, pid))
    cleaned = check.directives(directives, contacts=contacts, documents=documents, today=_today(), errors=errors)
    lines = check.instructions(instructions, errors)
    if errors:
        raise EmergencyInvalid(errors=errors)
    changed = [name for name, now, before in (("directives", cleaned, list(row.directives or [])),
                                              ("instructions", lines, list(row.instructions or [])))
               if now != before]
    if changed or row.version == 0:
        row.directives, row.instructions, row.updated_by = cleaned, lines, actor.user_id
        row.version += 1
        row.updated_at = utcnow()
        session.add(row)
        session.flush()
    audit.record(session, actor, what, patient_id=pid, object_type="emergency_info", object_id=pid,
                 detail={"fields_changed": changed, "directives": [d["kind"] for d in cleaned],
                         "instructions": len(lines), "version": row.version})
    return _information(session, actor, pid)


def set_code_status(session: Session, actor: Actor | None, *, patient_id: Any, code_status: Any,
                    expected_version: Any) -> EmergencyInformation:
    """A care-team doctor orders the patient's code status ("" clears it) at the version opened."""
    what = "emergency.code_status.write"
    pid = _authorized(session, actor, Action.CODE_STATUS_WRITE, patient_id, what)
    assert actor is not None
    row = _row_for_write(session, pid, expected_version)
    errors: dict[str, str] = {}
    status = check.code_status(code_status, errors)
    if errors:
        raise EmergencyInvalid(errors=errors)
    if status != row.code_status or row.version == 0:
        row.code_status, row.code_status_by, row.code_status_at = status, actor.user_id, utcnow()
        row.version += 1
        row.updated_at = utcnow()
        session.add(row)
        session.flush()
    audit.record(session, actor, what, patient_id=pid, object_type="emergency_info", object_id=pid,
                 detail={"code_status": status, "version": row.version})
    return _information(session, actor, pid)


def emergency_card(session: Session, actor: Actor | None, *, patient_id: Any = None) -> tuple[str, bytes]:
    """The printable emergency card as (file name, PDF bytes): the patient prints their own (no
    `patient_id`: theirs); the clinic prints it from the chart. Allergies only for a role that reads
    clinical data. One audit event, an export."""
    what = "emergency.card.print"
    if patient_id is None and actor is not None and actor.patient_id is not None:
        patient_id = actor.patient_id
    pid = _authorized(session, actor, Action.EMERGENCY_READ, patient_id, what)
    assert actor is not None
    patient = load(session, pid)
    row = _info_row(session, pid)
    contacts = _contacts(session, pid)
    by_id = {str(c.id): c for c in contacts}
    documents = _directive_documents(session, pid) if actor.can(read_action(Category.ADVANCE_DIRECTIVE)) else {}
    directives = []
    for d in _directive_views(list(row.directives or []) if row else [], contacts, documents):
        agent = by_id.get(d.agent_contact_id)
        directives.append(CardDirective(d.label, d.on, f"{agent.name} ({agent.relationship}), "
                                                       f"{display_phone(agent.phone)}" if agent else "",
                                        d.document_title or ("on file" if d.document_id else "")))
    allergies = None
    if actor.can(Action.CLINICAL_READ):
        from patient_portal.domain.history import service as history

        found = history.read_for_chart(session, actor, patient_id=pid) or {}
        allergies = [e.values.get("substance", "") for e in found.get("allergies", [])
                     if e.values.get("status", "active") == "active"]
    clinic = clinic_config.current()
    printed = _today()
    data = render(clinic=clinic.clinic_name, clinic_address=clinic.clinic_address,
                  clinic_phone=clinic.clinic_phone, patient=display_name(patient), born=patient.date_of_birth,
                  code_status=CODE_STATUSES.get((row.code_status or "") if row else "", ""),
                  directives=directives, instructions=list(row.instructions or []) if row else [],
                  allergies=allergies,
                  contacts=[CardContact(c.name, c.relationship, display_phone(c.phone), c.order.capitalize())
                            for c in contacts], printed=printed)
    audit.record(session, actor, what, patient_id=pid, object_type="emergency_info", object_id=pid,
                 detail={"export": "pdf", "directives": len(directives), "allergies": allergies is not None})
    return f"emergency-card-{printed:%Y%m%d}.pdf", data


# ---------------------------------------------------------------- protocols


def _protocol_view(p: EmergencyProtocol) -> ProtocolView:
    return ProtocolView(id=p.id, name=p.name, description=p.description or "",
                        steps=tuple({"text": s.get("text", ""), "who": s.get("who", "anyone")} for s in p.steps or []),
                        notify_contacts=p.notify_contacts, retired=p.retired, version=p.version)


def _protocols(session: Session, *, retired: bool) -> list[ProtocolView]:
    stmt = select(EmergencyProtocol)
    if not retired:
        stmt = stmt.where(EmergencyProtocol.retired == False)  # noqa: E712
    found = session.exec(stmt).all()
    return [_protocol_view(p) for p in sorted(found, key=lambda p: (p.retired, p.name.casefold()))]


def protocols(session: Session, actor: Actor | None, *, retired: bool = False) -> list[ProtocolView]:
    """The clinic's emergency protocols by name (`retired` too: the admin's editor). No PHI, so no
    audit of the read; a refusal is audited."""
    require(session, actor, Action.PROTOCOL_WRITE if retired else Action.PROTOCOL_READ)
    return _protocols(session, retired=retired)


def _protocol(session: Session, protocol_id: Any) -> EmergencyProtocol:
    found = session.get(EmergencyProtocol, _uuid(protocol_id, "protocol"))
    if found is None:
        raise EmergencyNotFound("protocol")
    return found


def save_protocol(session: Session, actor: Actor | None, *, values: Any, protocol_id: Any = None,
                  expected_version: Any = None) -> ProtocolView:
    """Write a new protocol, or change one at the version it was opened (admins). Runs already
    started keep the checklist they started with."""
    what = "emergency.protocol.create" if protocol_id in (None, "") else "emergency.protocol.update"
    require(session, actor, Action.PROTOCOL_WRITE, audit_as=what)
    assert actor is not None
    cleaned, errors = check.protocol(values)
    if errors:
        raise EmergencyInvalid(errors=errors)
    if protocol_id in (None, ""):
        row = EmergencyProtocol(**cleaned, updated_by=actor.user_id)
        changed = list(cleaned)
    else:
        row = _protocol(session, protocol_id)
        if _version(expected_version) != row.version:
            raise EmergencyConflict("This protocol was changed by someone else. Check it and save again.", row.version)
        changed = [k for k, v in cleaned.items() if getattr(row, k) != v]
        for key, value in cleaned.items():
            setattr(row, key, value)
        if changed:
            row.version += 1
            row.updated_at, row.updated_by = utcnow(), actor.user_id
    session.add(row)
    session.flush()
    audit.record(session, actor, what, object_type="emergency_protocol", object_id=row.id,
                 detail={"fields_changed": changed, "steps": len(cleaned["steps"]), "version": row.version})
    return _protocol_view(row)


def retire_protocol(session: Session, actor: Actor | None, *, protocol_id: Any, retired: bool,
                    expected_version: Any) -> ProtocolView:
    """Retire a protocol (no longer offered; kept for the runs that used it) or bring it back."""
    what = "emergency.protocol.retire" if retired is True else "emergency.protocol.restore"
    require(session, actor, Action.PROTOCOL_WRITE, audit_as=what)
    row = _protocol(session, protocol_id)
    if _version(expected_version) != row.version:
        raise EmergencyConflict("This protocol was changed by someone else. Check it and try again.", row.version)
    row.retired = retired is True
    row.version += 1
    row.updated_at = utcnow()
    session.add(row)
    audit.record(session, actor, what, object_type="emergency_protocol", object_id=row.id,
                 detail={"version": row.version})
    return _protocol_view(row)


# ---------------------------------------------------------------- runs


def _run_views(session: Session, actor: Actor, runs: list[EmergencyRun]) -> list[RunView]:
    """The runs with their steps and notices: one statement per kind."""
    if not runs:
        return []
    ids = [r.id for r in runs]
    steps: dict[uuid.UUID, list[StepView]] = {i: [] for i in ids}
    for s in session.exec(select(EmergencyRunStep).where(EmergencyRunStep.run_id.in_(ids))  # type: ignore[attr-defined]
                          .order_by(EmergencyRunStep.position)).all():
        steps[s.run_id].append(StepView(s.id, s.position, s.text, s.who, s.done_at, s.done_by_name or ""))
    notices: dict[uuid.UUID, list[NoticeView]] = {i: [] for i in ids}
    for n in session.exec(select(EmergencyNotice).where(EmergencyNotice.run_id.in_(ids))  # type: ignore[attr-defined]
                          .order_by(EmergencyNotice.created_at)).all():
        notices[n.run_id].append(NoticeView(n.id, n.position, n.name, n.channel, n.status, n.skipped or "",
                                            n.outside_hours, n.created_at, n.sent_at, n.opened_at,
                                            n.acknowledged_at))
    pid = runs[0].patient_id
    acts = _may(session, actor, Action.EMERGENCY_RUN_WRITE, pid)
    notifies = _may(session, actor, Action.EMERGENCY_NOTIFY, pid)
    return [RunView(id=r.id, patient_id=r.patient_id, title=r.title, status=r.status, started_at=r.created_at,
                    started_by_name=r.started_by_name, steps=tuple(steps[r.id]), notices=tuple(notices[r.id]),
                    notify_status=r.notify_status, closed_at=r.closed_at, closed_by_name=r.closed_by_name or "",
                    outcome=r.outcome or "", version=r.version, can_act=acts and r.status == ACTIVE,
                    can_notify=notifies and r.status == ACTIVE and r.notify_status == "")
            for r in runs]


def run_page(session: Session, actor: Actor | None, *, patient_id: Any,
             header_sections: list[str] | None = None) -> RunPage:
    """The chart's Emergency page: the protocol in progress (checklist and contact statuses), the
    last closed runs, and for those who may start one, the protocols to choose from."""
    what = "emergency.run.list"
    pid = _authorized(session, actor, Action.EMERGENCY_RUN_READ, patient_id, what, purpose=_purpose(actor))
    assert actor is not None
    found = session.exec(select(EmergencyRun).where(EmergencyRun.patient_id == pid)
                         .order_by(EmergencyRun.created_at.desc()).limit(EARLIER + 1)).all()  # type: ignore[attr-defined]
    views = _run_views(session, actor, list(found))
    active = next((v for v in views if v.status == ACTIVE), None)
    earlier = [v for v in views if v.status != ACTIVE][:EARLIER]
    can_start = active is None and _may(session, actor, Action.EMERGENCY_RUN_WRITE, pid)
    page = RunPage(active=active, earlier=earlier, protocols=_protocols(session, retired=False) if can_start else [],
                   can_start=can_start)
    detail: dict[str, Any] = {"active": active is not None, "runs": len(views)}
    if header_sections is not None:
        detail["header"] = list(header_sections)
    audit.record(session, actor, what, patient_id=pid, object_type="emergency_run", object_id=pid, detail=detail)
    return page


def open_page(session: Session, actor: Actor | None, patient_id: Any) -> tuple[ChartHeader, RunPage]:
    """The chart's Emergency page opened: header and runs in one unit, ONE audit event."""
    return with_header(session, actor, patient_id, _page_for_header, patient_id)


def _page_for_header(session: Session, actor: Actor | None, patient_id: Any, *,
                     header_sections: list[str] | None = None) -> RunPage:
    return run_page(session, actor, patient_id=patient_id, header_sections=header_sections)


def _purpose(actor: Actor | None) -> Purpose | None:
    """Working an emergency is treatment, whoever does it (the front desk too)."""
    return Purpose.TREATMENT if actor is not None and actor.can(Action.EMERGENCY_RUN_WRITE) else None


def _run(session: Session, pid: uuid.UUID, run_id: Any, *, lock: bool = False) -> EmergencyRun:
    rid = _uuid(run_id, "emergency")
    stmt = select(EmergencyRun).where(EmergencyRun.id == rid)
    if lock and session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    found = session.exec(stmt).first()
    if found is None or found.patient_id != pid:
        raise EmergencyNotFound("emergency")
    return found


def _run_view(session: Session, actor: Actor, run: EmergencyRun) -> RunView:
    return _run_views(session, actor, [run])[0]


def start_run(session: Session, actor: Actor | None, *, patient_id: Any, protocol_id: Any,
              notify_contacts: bool | None = None) -> RunView:
    """Start a protocol for a patient (doctors, the front desk): its checklist is copied into the
    run, "Emergency in progress" shows on the chart, and — when the protocol says so, unless the
    starter says not to — the emergency contacts are notified, primary first."""
    what = "emergency.run.start"
    pid = _authorized(session, actor, Action.EMERGENCY_RUN_WRITE, patient_id, what, purpose=Purpose.TREATMENT)
    assert actor is not None
    protocol = _protocol(session, protocol_id)
    if protocol.retired:
        raise EmergencyNotFound("protocol")
    if session.exec(select(EmergencyRun.id).where(EmergencyRun.patient_id == pid,
                                                  EmergencyRun.status == ACTIVE)).first() is not None:
        raise EmergencyConflict("An emergency protocol is already in progress for this patient: open it.")
    run = EmergencyRun(patient_id=pid, protocol_id=protocol.id, title=protocol.name, started_by=actor.user_id,
                       started_by_name=actor.display_name or "Clinic staff")
    try:
        with session.begin_nested():
            session.add(run)
            session.flush()
    except IntegrityError:
        raise EmergencyConflict("An emergency protocol is already in progress for this patient: open it.") from None
    for position, step in enumerate(protocol.steps or []):
        session.add(EmergencyRunStep(run_id=run.id, patient_id=pid, position=position, text=step.get("text", ""),
                                     who=step.get("who", "anyone")))
    session.flush()
    notifying = protocol.notify_contacts if notify_contacts is None else notify_contacts is True
    audit.record(session, actor, what, patient_id=pid, object_type="emergency_run", object_id=run.id,
                 detail={"protocol": str(protocol.id), "steps": len(protocol.steps or []), "notify": notifying})
    if notifying:
        notify.notify_next(session, run, actor)
    return _run_view(session, actor, run)


def tick_step(session: Session, actor: Actor | None, *, patient_id: Any, step_id: Any, done: bool) -> RunView:
    """Tick a step of the run in progress with the time now (or untick it)."""
    what = "emergency.step.tick" if done is True else "emergency.step.untick"
    pid = _authorized(session, actor, Action.EMERGENCY_RUN_WRITE, patient_id, what, purpose=Purpose.TREATMENT)
    assert actor is not None
    step = session.get(EmergencyRunStep, _uuid(step_id, "step"))
    if step is None or step.patient_id != pid:
        raise EmergencyNotFound("step")
    run = _run(session, pid, step.run_id)
    if run.status != ACTIVE:
        raise EmergencyConflict("This emergency is closed: its checklist is kept as it was.")
    if done is True and step.done_at is None:
        step.done_at, step.done_by, step.done_by_name = utcnow(), actor.user_id, actor.display_name or "Clinic staff"
    elif done is not True:
        step.done_at, step.done_by, step.done_by_name = None, None, None
    step.updated_at = utcnow()
    session.add(step)
    audit.record(session, actor, what, patient_id=pid, object_type="emergency_run_step", object_id=step.id,
                 detail={"run": str(run.id), "position": step.position})
    return _run_view(session, actor, run)


def close_run(session: Session, actor: Actor | None, *, patient_id: Any, run_id: Any, outcome: Any,
              expected_version: Any) -> RunView:
    """Close the run in progress with an outcome note (encrypted); it is then kept as it was and
    no further contact is notified."""
    what = "emergency.run.close"
    pid = _authorized(session, actor, Action.EMERGENCY_RUN_WRITE, patient_id, what, purpose=Purpose.TREATMENT)
    assert actor is not None
    run = _run(session, pid, run_id, lock=True)
    if run.status != ACTIVE:
        raise EmergencyConflict("This emergency was already closed.")
    errors: dict[str, str] = {}
    note = check.outcome(outcome, errors)
    if errors:
        raise EmergencyInvalid(errors=errors)
    if _version(expected_version) != run.version:
        raise EmergencyConflict("This emergency was changed by someone else. Check it and close it again.",
                                run.version)
    run.status, run.outcome, run.closed_at = CLOSED, note, utcnow()
    run.closed_by, run.closed_by_name = actor.user_id, actor.display_name or "Clinic staff"
    run.version += 1
    run.updated_at = utcnow()
    session.add(run)
    jobs.cancel(session, notify.escalation_key(run.id))
    steps = session.exec(select(EmergencyRunStep.done_at).where(EmergencyRunStep.run_id == run.id)).all()
    audit.record(session, actor, what, patient_id=pid, object_type="emergency_run", object_id=run.id,
                 detail={"steps": len(steps), "steps_done": sum(1 for s in steps if s is not None),
                         "version": run.version})
    return _run_view(session, actor, run)


def notify_contacts(session: Session, actor: Actor | None, *, patient_id: Any, run_id: Any) -> RunView:
    """A doctor chooses to notify the emergency contacts during the run in progress, when they were
    not notified as it started (once per run: a contact is never messaged twice for one emergency)."""
    what = "emergency.contacts.notify"
    pid = _authorized(session, actor, Action.EMERGENCY_NOTIFY, patient_id, what, purpose=Purpose.TREATMENT)
    assert actor is not None
    run = _run(session, pid, run_id, lock=True)
    if run.status != ACTIVE:
        raise EmergencyConflict("This emergency is closed.")
    if run.notify_status:
        raise EmergencyConflict("The emergency contacts were already notified for this emergency.")
    notice = notify.notify_next(session, run, actor)
    audit.record(session, actor, what, patient_id=pid, object_type="emergency_run", object_id=run.id,
                 detail={"notified": notice is not None, "status": run.notify_status})
    return _run_view(session, actor, run)


# ---------------------------------------------------------------- the acknowledgement link (no sign-in)


def _notice_for(session: Session, token: Any) -> tuple[EmergencyNotice | None, str]:
    notice_id = notify.read_token(str(token or ""))
    notice = session.get(EmergencyNotice, notice_id) if notice_id is not None else None
    if notice is None or notice.expires_at is None:
        return None, "This link has expired or is not valid. Please call the clinic."
    return notice, ""


def _ack_view(notice: EmergencyNotice | None, problem: str = "") -> AckView:
    clinic = clinic_config.current()
    return AckView(clinic=clinic.clinic_name, phone=clinic.clinic_phone,
                   acknowledged=notice is not None and notice.acknowledged_at is not None, problem=problem,
                   language=notice.language if notice is not None else "en")


def ack_details(session: Session, *, token: Any) -> AckView:
    """The acknowledgement page opened: the clinic and its phone, in the contact's language; the
    notice is marked opened (once). No sign-in; audited with no actor."""
    notice, problem = _notice_for(session, token)
    if notice is None:
        return _ack_view(None, problem)
    if notice.opened_at is None:
        notice.opened_at = utcnow()
        session.add(notice)
        audit.record(session, None, "emergency.contact.open", patient_id=notice.patient_id,
                     object_type="emergency_notice", object_id=notice.id, detail={"run": str(notice.run_id)})
    return _ack_view(notice)


def acknowledge(session: Session, *, token: Any) -> AckView:
    """The contact says they got the message: the notice is acknowledged (once) and no further
    contact is notified for this run."""
    notice, problem = _notice_for(session, token)
    if notice is None:
        raise EmergencyInvalid(problem, errors={"token": problem})
    if notice.acknowledged_at is None:
        now = utcnow()
        notice.acknowledged_at = now
        notice.opened_at = notice.opened_at or now
        session.add(notice)
        run = session.get(EmergencyRun, notice.run_id)
        if run is not None:
            run.notify_status = "acknowledged"
            session.add(run)
            jobs.cancel(session, notify.escalation_key(run.id))
        audit.record(session, None, "emergency.contact.acknowledge", patient_id=notice.patient_id,
                     object_type="emergency_notice", object_id=notice.id,
                     detail={"run": str(notice.run_id), "position": notice.position})
    return _ack_view(notice)


# ---------------------------------------------------------------- the timeline (no policy)


def timeline_items(session: Session, patient_id: uuid.UUID, *, limit: int) -> Any:
    """The runs as timeline events: started, each step ticked, each contact notified and
    acknowledged, closed; the newest `limit` and how many (``timeline.dto``: the paged source
    contract). One statement per kind. A patient has a handful of runs in a lifetime, so every event
    is drawn and the page is cut after (``drawn_page``)."""
    from patient_portal.domain.timeline.dto import TimelineItem, aware, drawn_page

    link = f"/chart/{patient_id}/emergency"
    out: list[TimelineItem] = []
    rt = EmergencyRun.__tablename__
    titles: dict[uuid.UUID, str] = {}
    for rid, title, by, started, status, closed in session.exec(select(
            EmergencyRun.id, EmergencyRun.title, EmergencyRun.started_by_name, EmergencyRun.created_at,
            EmergencyRun.status, EmergencyRun.closed_at).where(EmergencyRun.patient_id == patient_id)).all():
        titles[rid] = decrypt_value("str", title, rt, "title", rid)
        out.append(TimelineItem(aware(started), "emergencies", f"Emergency started: {titles[rid]}",
                                "By " + (decrypt_value("str", by, rt, "started_by_name", rid) or "clinic staff"),
                                link, f"{rid}:start"))
        if status == CLOSED and closed is not None:
            out.append(TimelineItem(aware(closed), "emergencies", f"Emergency closed: {titles[rid]}",
                                    "Outcome noted on the Emergency page", link, f"{rid}:close"))
    st = EmergencyRunStep.__tablename__
    for sid, rid, text, done in session.exec(select(
            EmergencyRunStep.id, EmergencyRunStep.run_id, EmergencyRunStep.text, EmergencyRunStep.done_at).where(
            EmergencyRunStep.patient_id == patient_id, EmergencyRunStep.done_at != None)).all():  # noqa: E711
        out.append(TimelineItem(aware(done), "emergencies", "Done: " + decrypt_value("str", text, st, "text", sid),
                                titles.get(rid, ""), link, str(sid)))
    words = {0: "Primary", 1: "Secondary"}
    for nid, rid, position, channel, created, acked, skipped in session.exec(select(
            EmergencyNotice.id, EmergencyNotice.run_id, EmergencyNotice.position, EmergencyNotice.channel,
            EmergencyNotice.created_at, EmergencyNotice.acknowledged_at, EmergencyNotice.skipped).where(
            EmergencyNotice.patient_id == patient_id)).all():
        who = f"{words.get(position, 'Emergency')} contact"
        how = {"sms": "by text message", "email": "by email"}.get(channel, "")
        title = f"{who} not messaged" if skipped else f"{who} notified {how}".strip()
        out.append(TimelineItem(aware(created), "emergencies", title, titles.get(rid, ""), link, f"{nid}:notify"))
        if acked is not None:
            out.append(TimelineItem(aware(acked), "emergencies", f"{who} acknowledged", titles.get(rid, ""), link,
                                    f"{nid}:ack"))
    return drawn_page(out, limit)
