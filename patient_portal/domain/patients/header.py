"""The patient chart header every `/chart/<id>/…` page (and the patient's own record) draws: who
the patient is and what anyone about to act must know first.

``chart_header(session, actor, patient_id)`` reads only what the header shows — the patient row
(name, birth date and age, sex, MRN, status), the allergy names, whether an advance directive is
on file and whether the patient has active insurance — in a small fixed number of statements
whatever the size of the record (see ``READS``): reading the whole chart for it would decrypt every
history row and record "opened your record, including your health history" in the patient's
access log when only, say, the documents were opened. It is audited as a demographics read of the
header (`sections`: header, plus allergies, alerts and insurance when they were shown), which the
patient's access log words as "Opened your record". A page that reads more than the header (the
chart, a documents list) reads both in one unit through ``with_header`` and records one event
naming both, so opening a page puts one entry in the patient's access log, not two.

What each role sees follows the policy: allergies for roles that read clinical data (doctors on the
care team, the patient, admins — not the front desk); the advance-directive alert for roles that
read clinical documents (the documents area files advance directives as clinical); insurance for
roles that read insurance. A part the role may not see is None, never empty-but-present.

The emergency information (issue 15) has one statement of its own (``emergency.banner``): the code
status, the advance directives on file, the special instructions — for every role that reads
emergency information, which is every role that sees the chart — and "Emergency in progress" with
the protocol's name for the roles on duty (who read protocol runs). ``emergency`` is None for a role
that sees none of it.

The critical-information banner (issue 12) rides on the same reads: the allergy statement also
fetches each active allergy's plain severity and criticality (and, for the ones that matter, its
reaction), so ``critical`` — the active allergies that are severe or of high criticality, worst
first — costs no statement of its own; the advance directive is the banner's other alert. Who sees
the banner follows the parts it is made of: clinical readers see the allergies in it, clinical
document readers the directive; the front desk sees neither.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import exists, false
from sqlmodel import Session, select

from patient_portal.core import audit
from patient_portal.core.access import Action, Actor, Basis, Resource, Role, can_on, emergency_until, require
from patient_portal.core.clock import clinic_zone
from patient_portal.core.crypto import decrypt_value
from patient_portal.domain.documents.models import Category, Document, Status, read_action
from patient_portal.domain.emergency.banner import banner as emergency_banner
from patient_portal.domain.emergency.dto import Banner
from patient_portal.domain.history.models import Allergy, AllergyStatus
from patient_portal.domain.insurance.models import ORDER_RANK, InsurancePolicy
from patient_portal.domain.patients import dto
from patient_portal.domain.patients.common import PatientNotFound, as_uuid
from patient_portal.domain.patients.models import STATUS_MERGED, Patient

#: The summary fields a header draws (see components.chart_header); no contact details, no history.
HEADER_FIELDS = ("id", "mrn", "name", "given_name", "family_name", "dob_display", "age", "sex", "status")

#: Alert codes (the state layer words them: "Advance directive on file").
ADVANCE_DIRECTIVE = "advance_directive"

#: Allergy status codes (the same words as history.service.allergy_status).
ALLERGIES_RECORDED, NO_KNOWN_ALLERGIES, ALLERGIES_NOT_RECORDED = "recorded", "nka", "not_recorded"

#: Insurance status codes: an active policy today, policies that have all ended (or not begun), none.
INSURED, NOT_ACTIVE, SELF_PAY = "active", "not_active", "self_pay"

#: The most statements the header's reads take (the care-team check for a doctor, the patient row
#: with the advance-directive and no-known-allergies questions, allergy names, policies, the
#: emergency information with the run in progress), besides the transaction's BEGIN and the audit
#: append every audited read pays. Independent of how many rows the record has.
READS = 5

T = TypeVar("T")


@dataclass(frozen=True)
class CriticalAllergy:
    """One allergy the banner shouts about: `substance`, `severity` (mild … severe, unknown),
    `criticality` (low, high, unable-to-assess or ""), `reaction` as written ("" when none)."""

    substance: str
    severity: str
    criticality: str
    reaction: str = ""


def is_critical(severity: str | None, criticality: str | None) -> bool:
    """Does an active allergy belong in the critical-information banner?"""
    return severity == "severe" or criticality == "high"


@dataclass(frozen=True)
class ChartHeader:
    """`patient`: the HEADER_FIELDS as text (codes as codes, e.g. sex "female"); `allergies`:
    the active allergies' substance names, oldest first, and `allergy_status` whether that list is
    an answer: ALLERGIES_RECORDED, NO_KNOWN_ALLERGIES (asked: none) or ALLERGIES_NOT_RECORDED (never
    asked — not the same as none); `alerts`: alert codes; `insurance`: INSURED, NOT_ACTIVE or
    SELF_PAY, with `payer` the active primary payer. None: the role does not see that part."""

    patient: dict[str, str]
    allergies: list[str] | None
    alerts: list[str] | None = None
    insurance: str | None = None
    payer: str = ""
    allergy_status: str | None = None
    #: The banner's allergies: active, severe or of high criticality, worst first (None: not shown).
    critical: list[CriticalAllergy] | None = None
    #: The banner's emergency information and the run in progress (None: not shown).
    emergency: Banner | None = None
    #: When the actor's emergency access to this record ends (None: they reach it without one).
    emergency_until: datetime | None = None

    @property
    def insured(self) -> bool | None:
        """Active coverage today: yes, no, or None when the role does not see insurance."""
        return None if self.insurance is None else self.insurance == INSURED


def _today() -> date:
    return datetime.now(clinic_zone()).date()


def _patient_and_directive(session: Session, patient_id: Any, ask_directive: bool,
                           ask_nka: bool = False) -> tuple[Patient, bool, bool]:
    """The live patient row and, in the same statement, whether an advance directive is on file and
    whether "no known allergies" was recorded."""
    directive = exists().where(Document.patient_id == patient_id,  # type: ignore[arg-type]
                               Document.category == Category.ADVANCE_DIRECTIVE,
                               Document.status == Status.ACTIVE)
    nka = exists().where(AllergyStatus.patient_id == patient_id)  # type: ignore[arg-type]
    if ask_directive or ask_nka:
        found = session.exec(select(Patient, directive if ask_directive else false(), nka if ask_nka else false())
                             .where(Patient.id == patient_id)).first()
        patient, on_file, none_known = (found[0], bool(found[1]), bool(found[2])) if found else (None, False, False)
    else:
        patient, on_file, none_known = session.get(Patient, patient_id), False, False
    if patient is None or patient.status == STATUS_MERGED:
        raise PatientNotFound()
    return patient, on_file, none_known


def _allergies(session: Session, patient_id: Any) -> tuple[list[str], list[CriticalAllergy]]:
    """The substances of the active allergies, oldest first, and the critical ones (severe or high
    criticality; severe first, then high criticality, then oldest): one statement, one decryption per
    allergy plus the reaction of each critical one."""
    table = Allergy.__tablename__
    rows = session.exec(select(Allergy.id, Allergy.substance, Allergy.severity, Allergy.criticality,
                               Allergy.reaction)
                        .where(Allergy.patient_id == patient_id, Allergy.status == "active")
                        .order_by(Allergy.created_at)).all()  # type: ignore[arg-type]
    names: list[str] = []
    critical: list[tuple[int, int, CriticalAllergy]] = []
    for at, (row_id, token, severity, criticality, reaction) in enumerate(rows):
        name = decrypt_value("str", token, table, "substance", row_id)
        names.append(name)
        if is_critical(severity, criticality):
            said = decrypt_value("str", reaction, table, "reaction", row_id) or ""
            critical.append((0 if severity == "severe" else 1, at,
                             CriticalAllergy(name, severity or "unknown", criticality or "", said)))
    return names, [item for _rank, _at, item in sorted(critical, key=lambda c: (c[0], c[1]))]


def _insurance(session: Session, patient_id: Any, today: date) -> tuple[str, str]:
    """(status code, payer of the first active policy by order): one statement, columns only."""
    table = InsurancePolicy.__tablename__
    rows = session.exec(select(InsurancePolicy.id, InsurancePolicy.order, InsurancePolicy.payer,
                               InsurancePolicy.effective_date, InsurancePolicy.end_date)
                        .where(InsurancePolicy.patient_id == patient_id)).all()  # type: ignore[arg-type]
    if not rows:
        return SELF_PAY, ""
    for row_id, _order, payer, starts, ends in sorted(rows, key=lambda r: ORDER_RANK.get(r[1], 9)):
        start = decrypt_value("date", starts, table, "effective_date", row_id)
        end = decrypt_value("date", ends, table, "end_date", row_id)
        if (start is None or start <= today) and (end is None or today <= end):
            return INSURED, decrypt_value("str", payer, table, "payer", row_id)
    return NOT_ACTIVE, ""


def _read(session: Session, actor: Actor | None, patient_id: Any) -> tuple[ChartHeader, list[str]]:
    """The header, and the sections it showed (for the one audit event of the unit that read it).
    Asks the policy (a refusal is audited) but records no read: the caller does."""
    pid = as_uuid(patient_id)
    decision = require(session, actor, Action.DEMOGRAPHICS_READ, Resource(patient_id=pid))
    assert actor is not None
    # reach is the same for every patient action; the front desk reads clinical data only under an
    # emergency grant (one look-up for their role, kept for the unit: can_on, emergency_until)
    sees_allergies = can_on(session, actor, Action.CLINICAL_READ, pid)
    sees_alerts = can_on(session, actor, read_action(Category.ADVANCE_DIRECTIVE), pid)
    until = emergency_until(session, actor, pid) \
        if decision.basis is Basis.EMERGENCY_GRANT or actor.role is Role.STAFF else None
    sees_insurance = actor.can(Action.INSURANCE_READ)
    sees_emergency = actor.can(Action.EMERGENCY_READ)
    patient, directive, none_known = _patient_and_directive(session, pid, sees_alerts, sees_allergies)
    # Held for the rest of the unit: the page read after the header (``with_header``) loads the same
    # row (``common.load``), and the session's identity map keeps only what something still holds —
    # so it is found there instead of being selected and decrypted a second time.
    session.info.setdefault("portal_header_patients", {})[pid] = patient
    summary = dto.summary(patient)
    allergies, critical = _allergies(session, pid) if sees_allergies else (None, None)
    allergy_status = None if allergies is None else (
        ALLERGIES_RECORDED if allergies else NO_KNOWN_ALLERGIES if none_known else ALLERGIES_NOT_RECORDED)
    alerts = ([ADVANCE_DIRECTIVE] if directive else []) if sees_alerts else None
    insurance, payer = _insurance(session, pid, _today()) if sees_insurance else (None, "")
    emergency = emergency_banner(session, pid, with_run=actor.can(Action.EMERGENCY_RUN_READ)) \
        if sees_emergency else None
    if emergency is not None and emergency.directives and alerts:
        alerts = [a for a in alerts if a != ADVANCE_DIRECTIVE]  # the banner names each directive instead
    shown = ["header"] + [name for name, seen in (("allergies", sees_allergies), ("alerts", sees_alerts),
                                                 ("insurance", sees_insurance), ("emergency", sees_emergency))
                          if seen]
    header = ChartHeader({name: str(summary[name]) for name in HEADER_FIELDS}, allergies, alerts, insurance, payer,
                         allergy_status, critical, emergency, until)
    return header, shown


def chart_header(session: Session, actor: Actor | None, patient_id: Any) -> ChartHeader:
    """The header of one patient as this actor may see it, audited on its own; PatientNotFound for an
    id naming no live record, AccessDenied (the refusal audited) for someone who may not reach it."""
    header, shown = _read(session, actor, patient_id)
    pid = as_uuid(patient_id)
    audit.record(session, actor, str(Action.DEMOGRAPHICS_READ), patient_id=pid, object_type="patient",
                 object_id=pid, detail={"sections": shown})
    return header


def with_header(session: Session, actor: Actor | None, patient_id: Any, read: Callable[..., T], /, *args: Any,
                **kwargs: Any) -> tuple[ChartHeader, T]:
    """Open a chart page: its header and the page's own read in one unit, with ONE audit event.

    ``read(session, actor, *args, header_sections=<what the header showed>, **kwargs)`` must record
    the page's read with those sections in it (``profile.get_chart`` adds them to its "sections",
    the documents list to its "header"), so the patient's access log has one entry per page opened
    that names everything shown — and the header is never shown unaudited: if ``read`` fails, the
    unit (and the header with it) is rolled back and nothing reaches the screen."""
    header, shown = _read(session, actor, patient_id)
    return header, read(session, actor, *args, header_sections=shown, **kwargs)


def open_chart(session: Session, actor: Actor | None, patient_id: Any) -> tuple[ChartHeader, dict[str, Any]]:
    """The chart page (/chart/<id>, /patient/record): header and chart, one unit, one event
    ("Opened your record", with every section either of them showed)."""
    from patient_portal.domain.patients.profile import get_chart

    return with_header(session, actor, patient_id, get_chart, patient_id)
