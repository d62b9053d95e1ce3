"""Registering patients: the staff wizard (one transaction), duplicate checks, self-registration."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import func, union_all
from sqlmodel import Session, delete, select

from patient_portal.core import audit
from patient_portal.core.access import Action, Actor, Role, reaches_patient
from patient_portal.core.audit import AuditEvent
from patient_portal.core.db import utcnow
from patient_portal.core.errors import Conflict
from patient_portal.domain.emergency import service as emergency_service
from patient_portal.domain.history import service as history_service
from patient_portal.domain.identity import account_mail, email_links, passwords, service, verification
from patient_portal.domain.identity.models import User
from patient_portal.domain.identity.signin import normalize_email
from patient_portal.domain.insurance import service as insurance_service
from patient_portal.domain.patients import dto, indexes, mrn
from patient_portal.domain.patients.common import guard
from patient_portal.domain.patients.models import (
    STATUS_ACTIVE,
    STATUS_MERGED,
    STATUS_PENDING,
    Patient,
    PatientPhoneKey,
    RegistrationDraftRow,
)
from patient_portal.domain.patients.validation import (
    HISTORY_KINDS,
    PHONE_TYPES,
    ValidationFailed,
    check_email,
    parse_date,
    validate_basic,
    validate_draft,
)

DECISIONS = ("open_existing", "different_person")


@dataclass
class RegistrationDraft:
    """Everything the wizard collects, as the form strings the user typed."""

    basic: dict[str, str] = field(default_factory=dict)
    history: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    insurance: list[dict[str, str]] = field(default_factory=list)
    emergency: list[dict[str, str]] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RegistrationDraft:
        return cls(basic=dict(data.get("basic") or {}), history=dict(data.get("history") or {}),
                   insurance=list(data.get("insurance") or []), emergency=list(data.get("emergency") or []))

    def as_dict(self) -> dict[str, Any]:
        return {"basic": self.basic, "history": self.history, "insurance": self.insurance,
                "emergency": self.emergency}


@dataclass(frozen=True)
class Registered:
    patient_id: uuid.UUID
    mrn: str


class PossibleDuplicates(Exception):
    """Confirming would create a record that looks like an existing one; `matches` are DTOs."""

    def __init__(self, matches: list[dict[str, Any]]):
        super().__init__("This person may already have a record.")
        self.matches = matches


def _new_mrn(session: Session) -> str:
    while True:
        candidate = mrn.generate()
        if session.exec(select(Patient.id).where(Patient.mrn == candidate)).first() is None:
            return candidate


def duplicate_rows(session: Session, basic: dict[str, str], exclude: uuid.UUID | None = None
                    ) -> list[tuple[Patient, list[str]]]:
    """Existing records with the same name + birth date, phone or email, with the reasons.

    Each test is its own indexed lookup of ids (``bidx_name_dob``, ``bidx_email``, the phone keys'
    ``digest``), glued with UNION ALL, and the records are then fetched by primary key. One
    ``WHERE a OR b OR id IN (phone keys)`` instead makes PostgreSQL scan the whole patient table (the
    IN-subquery branch rules out a BitmapOr of the indexes): 12.6 ms at 10,000 patients, 0.4-1.6 s at
    1,000,000 (bench/search.py measures both forms).
    """
    dob = parse_date(basic.get("date_of_birth"))
    name_dob = indexes.name_dob_digest(basic.get("given_name", ""), basic.get("family_name", ""), dob) if dob else None
    email = indexes.email_digest(basic.get("email"))
    phones = {indexes.phone_digest(basic.get(f"phone_{t}")) for t in PHONE_TYPES} - {None}
    lookups = []
    if name_dob:
        lookups.append(select(Patient.id.label("id")).where(Patient.bidx_name_dob == name_dob))  # type: ignore[attr-defined]
    if email:
        lookups.append(select(Patient.id.label("id")).where(Patient.bidx_email == email))  # type: ignore[attr-defined]
    if phones:
        lookups.append(select(PatientPhoneKey.patient_id.label("id"))  # type: ignore[attr-defined]
                       .where(PatientPhoneKey.digest.in_(sorted(phones))))  # type: ignore[attr-defined]
    if not lookups:
        return []
    matched = (lookups[0] if len(lookups) == 1 else union_all(*lookups)).subquery("matched")
    stmt = (select(Patient).where(Patient.id.in_(select(matched.c.id)),  # type: ignore[attr-defined]
                                  Patient.status != STATUS_MERGED).limit(20))
    if exclude is not None:
        stmt = stmt.where(Patient.id != exclude)
    found = []
    for patient in session.exec(stmt).all():
        reasons = []
        if name_dob and patient.bidx_name_dob == name_dob:
            reasons.append("same name and date of birth")
        if email and patient.bidx_email == email:
            reasons.append("same email")
        if phones and {indexes.phone_digest(p.get("number")) for p in patient.phones or []} & phones:
            reasons.append("same phone")
        found.append((patient, reasons))
    return found


def match_dtos(session: Session, actor: Actor, matches: list[tuple[Patient, list[str]]]) -> list[dict[str, Any]]:
    """Matches as the actor may see them: the summary when they reach the record, masked otherwise."""
    out = []
    for patient, reasons in matches:
        visible = actor.can(Action.DEMOGRAPHICS_READ) and reaches_patient(session, actor, patient.id)
        item = dto.summary(patient) if visible else dto.masked(patient)
        item["reasons"] = ", ".join(reasons)
        out.append(item)
    return out


def find_possible_duplicates(session: Session, actor: Actor, basic: dict[str, str]) -> list[dict[str, Any]]:
    """Possible existing records for the person being registered (audited with the ids shown)."""
    guard(session, actor, Action.PATIENT_REGISTER)
    matches = duplicate_rows(session, basic)
    audit.record(session, actor, "patient.duplicate_check", object_type="patient",
                 detail={"count": len(matches), "patient_ids": [str(p.id) for p, _ in matches]})
    return match_dtos(session, actor, matches)


def record_duplicate_decision(session: Session, actor: Actor, *, decision: str, patient_ids: list[str]) -> None:
    """Audit what the registering user decided about the possible matches."""
    guard(session, actor, Action.PATIENT_REGISTER)
    if decision not in DECISIONS:
        raise ValidationFailed({"decision": "Choose to open the existing record or confirm a different person."})
    audit.record(session, actor, "patient.duplicate_decision", object_type="patient",
                 detail={"decision": decision, "patient_ids": [str(i) for i in patient_ids][:20]})


def create_record(session: Session, actor: Actor | None, draft: RegistrationDraft, status: str) -> Patient:
    """Write a validated draft as a new record with all its rows (no authorization: callers check)."""
    patient = Patient(mrn=_new_mrn(session), status=status, created_by=actor.user_id if actor else None,
                      given_name="", family_name="", date_of_birth=parse_date(draft.basic["date_of_birth"]), sex="")
    dto.apply_basic(patient, draft.basic)
    indexes.apply(session, patient)
    session.add(patient)
    session.flush()
    by = actor.user_id if actor else None
    history_service.file_at_intake(session, patient_id=patient.id, entries=draft.history, recorded_by=by)
    insurance_service.file_at_intake(session, patient_id=patient.id, policies=draft.insurance)
    emergency_service.file_at_intake(session, patient_id=patient.id, contacts=draft.emergency)
    return patient


def _registration_detail(draft: RegistrationDraft) -> dict[str, Any]:
    return {
        "fields": sorted(k for k, v in draft.basic.items() if str(v or "").strip()),
        "history": {kind: len(draft.history.get(kind) or []) for kind in HISTORY_KINDS},
        "insurance": len(draft.insurance),
        "emergency_contacts": len(draft.emergency),
    }


def register_patient(session: Session, actor: Actor, draft: RegistrationDraft | dict, *,
                     confirmed_different: bool = False) -> Registered:
    """Validate every step again and save the whole registration in the caller's one transaction.

    Raises ValidationFailed (field errors keyed ``step.field``) or PossibleDuplicates unless the user
    confirmed that the person differs from the matches.
    """
    guard(session, actor, Action.PATIENT_REGISTER)
    if isinstance(draft, dict):
        draft = RegistrationDraft.from_dict(draft)
    errors = validate_draft(draft.as_dict())
    if errors:
        raise ValidationFailed(errors)
    matches = duplicate_rows(session, draft.basic)
    if matches and not confirmed_different:
        raise PossibleDuplicates(match_dtos(session, actor, matches))
    patient = create_record(session, actor, draft, STATUS_ACTIVE)
    session.exec(delete(RegistrationDraftRow).where(RegistrationDraftRow.user_id == actor.user_id))
    audit.record(session, actor, str(Action.PATIENT_REGISTER), patient_id=patient.id, object_type="patient",
                 object_id=patient.id, detail=_registration_detail(draft))
    return Registered(patient.id, patient.mrn)


def self_register_patient(session: Session, actor: Actor, basic: dict[str, str]) -> Registered:
    """A newly signed-up patient account creates its own record, pending an identity check at the desk.

    Links the record to the account (``user_account.patient_id``) in the same transaction.
    """
    guard(session, actor, Action.PATIENT_SELF_REGISTER)
    user = session.get(User, actor.user_id)
    if user is None or user.patient_id is not None or actor.patient_id is not None:
        raise ValidationFailed({"account": "This account already has a patient record."})
    errors = validate_basic(basic)
    if errors:
        raise ValidationFailed(errors)
    draft = RegistrationDraft(basic=basic)
    patient = create_record(session, actor, draft, STATUS_PENDING)
    user.patient_id = patient.id
    session.add(user)
    audit.record(session, actor, str(Action.PATIENT_SELF_REGISTER), patient_id=patient.id,
                 object_type="patient", object_id=patient.id, detail=_registration_detail(draft))
    return Registered(patient.id, patient.mrn)


#: New accounts one network address may create per hour through public self-registration.
SIGN_UPS_PER_IP_PER_HOUR = 5


class TooManySignUps(Conflict):
    """Public sign-up is throttled per network address: the network's recent sign-ups forbid one
    more now (the family's Conflict; an API answers it 429 Too Many Requests)."""

    status = 429

    def __init__(self) -> None:
        super().__init__("Too many new accounts were created from this network in the last hour. "
                         "Please try again later, or ask the front desk to register you.")


def _recent_sign_ups(session: Session, ip: str) -> int:
    since = utcnow() - timedelta(hours=1)
    stmt = select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == str(Action.PATIENT_SELF_REGISTER), AuditEvent.ip == ip, AuditEvent.at >= since)
    return session.exec(stmt).one()


def sign_up_patient(session: Session, *, email: str, password: str, basic: dict[str, str],
                    ip: str | None = None) -> Registered | None:
    """Public self-registration: a patient account whose address must be confirmed, and a record
    pending an identity check, in one transaction. An address that already has an account gets an
    email saying so (or a fresh confirmation link) and the caller sees the same outcome, so sign-up
    reveals nobody's account (returns None then). The email is queued in the same transaction.
    Errors are keyed ``account.email``, ``account.password`` or the basic
    field name; a busy network address gets TooManySignUps."""
    if ip and _recent_sign_ups(session, ip) >= SIGN_UPS_PER_IP_PER_HOUR:
        raise TooManySignUps()
    errors = validate_basic(basic)
    try:
        passwords.check_policy(password)
    except passwords.PasswordRejected as exc:
        errors["account.password"] = str(exc)
    email_error = check_email(email) or ("" if email.strip() else "Enter your email address.")
    if email_error:
        errors["account.email"] = email_error
    if errors:
        raise ValidationFailed(errors)
    existing = session.exec(select(User).where(User.email == normalize_email(email))).first()
    if existing is not None:
        passwords.hash_password(password)  # the same Argon2 work as a new account: no timing tell
        audit.record(session, None, str(Action.PATIENT_SELF_REGISTER), object_type="user", object_id=existing.id,
                     outcome="existing_account", ip=ip)
        if existing.active and not existing.email_verified:
            token = email_links.issue(session, existing, "verify", verification.VERIFY_TTL, ip)
            account_mail.queue(session, "verify_link", existing, link=email_links.url(verification.ROUTE, token))
        else:
            account_mail.queue(session, "existing_account", existing)
        return None
    name = f"{basic.get('given_name', '').strip()} {basic.get('family_name', '').strip()}"
    try:
        created = service.create_user_system(session, email=email, role="patient", display_name=name,
                                             password=password, via="self_registration")
    except service.UserInputError as exc:
        raise ValidationFailed({f"account.{exc.field}": str(exc)}) from None
    user = session.get(User, uuid.UUID(str(created.id)))
    user.email_verified = False
    session.add(user)
    registered = self_register_patient(session, Actor(user_id=user.id, role=Role.PATIENT, ip=ip), basic)
    token = email_links.issue(session, user, "verify", verification.VERIFY_TTL, ip)
    account_mail.queue(session, "verify_link", user, link=email_links.url(verification.ROUTE, token))
    return registered
