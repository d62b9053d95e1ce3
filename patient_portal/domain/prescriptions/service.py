"""Prescriptions: the one way in for the UI, the API and the seed to prescribing from the formulary,
the safety check, stopping and completing, the printed PDF, the public verification and renewals.

The rules, and where each lives:

* **Who.** The policy (``core.access``) decides: ``prescription.read`` (care-team doctors; admins
  for operations; the patient, their own record, without the check's findings), ``prescription.write``
  (care-team doctors only: prescribe, stop, complete), ``prescription.renewal.request`` (the patient,
  own record), ``prescription.renewal.decide`` (care-team doctors), ``prescription.worklist.read``
  (a doctor's own renewal requests). Staff have none. Refusals go through ``require`` (audited).
* **The check** (``checks.check``, pure) runs on every prescribe and renewal: allergy (same
  ingredient or class), duplicate therapy (same ingredient or therapeutic class on the medication
  list or among active prescriptions), dose range. Findings with no ``override_reason`` raise
  ``OverrideNeeded`` (nothing written); with one, the findings and the reason are stored on the
  prescription (encrypted) and the audit event's detail names the kinds of the findings and binds
  the reason by a keyed digest (``reason_digest``): the reason is free text that names drugs and
  allergies — PHI, which the audit trail's plain JSON must not hold — and the chained digest shows if
  the stored reason were ever changed.
* **Signing** happens on save: a prescription is active and signed when written, and it is filed on
  the medication list as "prescribed" through ``history.service.file_prescribed`` (an active entry
  of the same drug is updated, never doubled). Stopping (a reason is required) or completing ends the
  entry too; a renewal keeps it and points it at the new prescription; the old one is "renewed".
* **Verification.** Each prescription gets a random code (100 bits, ``RX-XXXXX-…``) printed on its
  PDF; the database keeps its SHA-256 for the lookup (and the code encrypted, to print again).
  ``verify(code)`` answers valid / stopped / not valid and nothing else — no name, no drug.
* **Renewals.** The patient asks (one open request per prescription); the doctor approves (a new
  prescription from the old order, checked again) or declines with a note; the patient's account is
  emailed that there is an answer — through the job outbox, with no clinical word in it.
* **Audit.** ``prescription.list``, ``prescription.read``, ``prescription.pdf.read``,
  ``prescription.renewal.list`` (reads) and ``prescription.create``, ``prescription.stop``,
  ``prescription.complete``, ``prescription.renewal.request``, ``prescription.renewal.approve``,
  ``prescription.renewal.decline``; a public verification of a known code is ``prescription.verify.read``.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from datetime import date
from typing import Any

from sqlalchemy import String, bindparam, literal, null, union_all
from sqlmodel import Session, select

from patient_portal.core import audit, clinic_config, mail, mail_wording
from patient_portal.core.access import Action, Actor, Resource, decide, reach_filter, require
from patient_portal.core.clock import clinic_zone
from patient_portal.core.coding import FORMULARY
from patient_portal.core.crypto import stored_value
from patient_portal.core.db import utcnow
from patient_portal.core.mail_wording import Template
from patient_portal.domain.codes import service as codes
from patient_portal.domain.history import service as history
from patient_portal.domain.history.models import Allergy, Medication
from patient_portal.domain.patients.common import PatientNotFound, as_uuid, load
from patient_portal.domain.patients.dto import display_name
from patient_portal.domain.patients.header import ChartHeader, with_header
from patient_portal.domain.patients.models import Patient
from patient_portal.domain.prescriptions import checks
from patient_portal.domain.prescriptions import pdf as rx_pdf
from patient_portal.domain.prescriptions.checks import ActiveDrug, AllergyFact, Finding
from patient_portal.domain.prescriptions.dto import (
    NotActive,
    OverrideNeeded,
    PrescriptionInvalid,
    PrescriptionNotFound,
    PrescriptionView,
    RenewalDecided,
    RenewalItem,
    RenewalNotFound,
    RenewalPending,
    Verification,
)
from patient_portal.domain.prescriptions.models import (
    ACTIVE,
    APPROVED,
    COMPLETED,
    DECLINED,
    PENDING,
    RENEWED,
    STOPPED,
    PrescriberProfile,
    Prescription,
    RenewalRequest,
)
from patient_portal.settings import get_settings

__all__ = ["NotActive", "OverrideNeeded", "PrescriptionInvalid", "PrescriptionNotFound", "PrescriptionView",
           "RenewalDecided", "RenewalItem", "RenewalNotFound", "RenewalPending", "Verification",
           "approve_renewal", "check_order", "complete", "decline_renewal", "find_drugs", "get", "licence_number",
           "list_prescriptions", "open_list", "own_prescriptions", "pdf", "prescribe", "renewal_requests", "request_renewal",
           "set_licence_number", "stop", "verify", "verify_path"]

OBJECT = "prescription"
VERIFY_ROUTE = "/verify/rx"
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud over the phone
_CODE_RE = re.compile(r"^RX(?:-?[A-Z2-9]{5}){4}$")
MAX_TEXT = checks.MAX_REASON
#: The email a patient gets when a renewal request is answered: that there is news, nothing clinical.
ANSWER = Template(
    "prescriptions.renewal_answered", "Prescriptions: a renewal request was answered",
    "There is an update in Patient Portal",
    "There is an answer to a request you made in Patient Portal.\n\nSign in to read it: {base}/login\n\n"
    "If you did not make a request, call the clinic.\n",
    {"base": "https://portal.example-clinic.org"}, required=("base",))


# ---------------------------------------------------------------- helpers


def _uuid(value: Any, missing: type[Exception] = PrescriptionNotFound) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise missing() from None


def new_code() -> str:
    """A verification code: 20 characters of a 32-letter alphabet (100 bits) in groups of five."""
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(20))
    return "RX-" + "-".join(raw[i:i + 5] for i in range(0, 20, 5))


def _norm_code(code: Any) -> str | None:
    text = re.sub(r"[\s]", "", str(code or "")).upper()[:40]
    if not _CODE_RE.match(text):
        return None
    return text.replace("-", "")


def code_hash(code: str) -> str:
    """What the database keeps of a verification code (SHA-256 of it without dashes and spaces)."""
    return hashlib.sha256((_norm_code(code) or "").encode()).hexdigest()


def verify_path(code: str) -> str:
    return f"{VERIFY_ROUTE}/{code}"


def _text(value: Any, name: str, errors: dict[str, str], *, required: str = "") -> str:
    text = str(value or "").strip() if isinstance(value, str | int | float) or value is None else ""
    if required and not text:
        errors[name] = required
    elif len(text) > MAX_TEXT:
        errors[name] = f"Keep it under {MAX_TEXT} characters."
    return text


def _drug(session: Session, code: Any) -> codes.FormularyEntry:
    entry = codes.formulary_entry(session, str(code or "").strip()) if isinstance(code, str) and code.strip() else None
    if entry is None:
        raise PrescriptionInvalid(errors={"drug": "Choose the drug from the formulary."})
    return entry


#: What the check reads of each source of facts: (model, status that counts, its name, code and
#: classes columns). The three are read in one statement (``_facts``).
_FACT_SOURCES = {"allergy": (Allergy, "active", "substance", "code", "drug_class"),
                 "medication list": (Medication, "active", "name", "drug", "drug_class"),
                 "prescription": (Prescription, ACTIVE, "drug_name", "drug", "drug_class")}


def _facts(session: Session, pid: uuid.UUID, *, skip_rx: uuid.UUID | None = None,
           skip_med: uuid.UUID | None = None) -> tuple[list[AllergyFact], list[ActiveDrug]]:
    """The patient's active allergies and active drugs (medication list and prescriptions), as the
    check reads them: one statement for the three, and only the columns the check reads decrypted
    (a ten-year medication list is long; ``bench/chart.py`` measures the check against 80)."""
    allergies: list[AllergyFact] = []
    active: list[ActiveDrug] = []
    for source, row_id, *tokens, category in session.connection().execute(_facts_statement(), {"patient_id": pid}):
        model, _status, *columns = _FACT_SOURCES[source]
        table = model.__tablename__
        name, code, classes = (stored_value("str", t, table, col, row_id) for t, col in zip(tokens, columns, strict=True))
        if source == "allergy":
            allergies.append(AllergyFact(name, code or "", checks.classes_of(classes) or
                                         ((checks.fold(name),) if category == "drug_class" else ())))
        elif row_id != (skip_med if source == "medication list" else skip_rx):
            active.append(ActiveDrug(name, code or "", checks.classes_of(classes), source))
    active.sort(key=lambda drug: drug.source != "medication list")  # the list's entry is named first, as before
    return allergies, active


_FACTS: list[Any] = []


def _facts_statement() -> Any:
    """``_facts``'s one statement, built once with the patient as a bound parameter and run on the
    Core connection: composing the three selects on every check cost more CPU than the round trip."""
    if not _FACTS:
        pid = bindparam("patient_id")
        parts = []
        for source, (model, status, name, code, classes) in _FACT_SOURCES.items():
            c = model.__table__.c  # type: ignore[attr-defined]
            category = c.category if model is Allergy else null()
            parts.append(select(literal(source, String).label("source"), c.id, c[name].label("name"),
                                c[code].label("code"), c[classes].label("classes"), category.label("category"))
                         .where(c.patient_id == pid, c.status == status))
        _FACTS.append(union_all(*parts))
    return _FACTS[0]


def _evaluate(session: Session, pid: uuid.UUID, values: Any, *, skip_rx: uuid.UUID | None = None,
              skip_med: uuid.UUID | None = None) -> tuple[codes.FormularyEntry, dict[str, Any], list[Finding]]:
    """The drug, the cleaned order and the findings (PrescriptionInvalid for a bad field)."""
    if not isinstance(values, dict):
        raise PrescriptionInvalid(errors={"drug": "Choose the drug from the formulary."})
    drug = _drug(session, values.get("drug"))
    order, errors = checks.clean_order(values, routes=drug.routes, dose_unit=drug.dose_unit)
    if errors:
        raise PrescriptionInvalid(errors=errors)
    allergies, active = _facts(session, pid, skip_rx=skip_rx, skip_med=skip_med)
    return drug, order, checks.check(drug, order, allergies=allergies, active=active)


def _renewal_of(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, RenewalRequest]:
    if not ids:
        return {}
    rows = session.exec(select(RenewalRequest).where(RenewalRequest.prescription_id.in_(ids))  # type: ignore[attr-defined]
                        .order_by(RenewalRequest.created_at)).all()  # type: ignore[arg-type]
    return {r.prescription_id: r for r in rows}  # the latest per prescription


def _view(session: Session, actor: Actor, rx: Prescription, renewal: RenewalRequest | None = None) -> PrescriptionView:
    def may(action: Action) -> bool:
        return decide(session, actor, action, Resource(patient_id=rx.patient_id)).allowed

    active = rx.status == ACTIVE
    pending = renewal is not None and renewal.status == PENDING
    return PrescriptionView(
        id=rx.id, patient_id=rx.patient_id, drug=rx.drug, drug_name=rx.drug_name, sig=dict(rx.sig or {}),
        sig_words=checks.sig_words(rx.drug_name, rx.sig or {}), status=rx.status, stop_reason=rx.stop_reason or "",
        prescriber_name=rx.prescriber_name, signed_at=rx.signed_at, ended_at=rx.ended_at, renews_id=rx.renews_id,
        findings=tuple(rx.findings or ()), override_reason=rx.override_reason or "",
        renewal=renewal.status if renewal else "", renewal_note=(renewal.decision_note or "") if renewal else "",
        can_change=active and may(Action.PRESCRIPTION_WRITE),
        can_request_renewal=active and not pending and may(Action.PRESCRIPTION_RENEWAL_REQUEST))


def _on(session: Session, actor: Actor | None, action: Action, patient_id: Any, prescription_id: Any, what: str
        ) -> tuple[uuid.UUID, Prescription]:
    """Authorize `action` on one prescription of one patient (NotFound for another patient's)."""
    pid = as_uuid(patient_id)
    require(session, actor, action, Resource(patient_id=pid), audit_as=what)
    load(session, pid)
    rx = session.get(Prescription, _uuid(prescription_id))
    if rx is None or rx.patient_id != pid:
        raise PrescriptionNotFound()
    return pid, rx


def reason_digest(reason: str) -> str:
    """HMAC-SHA256 of an override reason under the active key ring's "audit-detail" key (truncated):
    what the audit event keeps of the reason, so the trail holds no PHI yet binds the stored text."""
    import hmac

    from patient_portal.core.crypto import get_keyring

    ring = get_keyring()
    key = ring.mac_key(ring.active_kid, "audit-detail")
    return ring.active_kid + ":" + hmac.new(key, reason.encode(), hashlib.sha256).hexdigest()[:32]


def _detail(findings: list[Finding], reason: str) -> dict[str, Any]:
    """The audit detail of a signing: the kinds of the findings and the override reason's digest."""
    detail: dict[str, Any] = {"findings": [f.kind for f in findings]}
    if findings:
        detail["override_reason_digest"] = reason_digest(reason)
    return detail


def _write(session: Session, actor: Actor, pid: uuid.UUID, drug: codes.FormularyEntry, order: dict[str, Any],
           findings: list[Finding], reason: str, *, renews: Prescription | None = None) -> Prescription:
    """Sign a prescription: its row, its medication-list entry."""
    now = utcnow()
    code = new_code()
    rx = Prescription(patient_id=pid, prescriber_id=actor.user_id, prescriber_name=actor.display_name or "Doctor",
                      drug=drug.coding.code, drug_name=drug.name, drug_class="; ".join(drug.classes),
                      rxnorm=drug.rxnorm.code if drug.rxnorm else None, sig=order,
                      findings=[f.as_dict() for f in findings], override_reason=reason or None, status=ACTIVE,
                      signed_at=now, renews_id=renews.id if renews else None, verify_hash=code_hash(code),
                      verify_code=code)
    often = checks.FREQUENCIES.get(order["frequency"], ("", None))[0]
    med_id, _created = history.file_prescribed(
        session, patient_id=pid, recorded_by=actor.user_id, medication_id=renews.medication_id if renews else None,
        values={"drug": drug.coding.code, "name": drug.name, "dose": f"{order['dose']} {order['dose_unit']}".strip(),
                "route": order["route"], "frequency": often, "start_date": now.astimezone(clinic_zone()).date().isoformat(),
                "prescriber": actor.display_name or ""})
    rx.medication_id = med_id
    session.add(rx)
    session.flush()
    return rx


# ---------------------------------------------------------------- reading


def find_drugs(session: Session, actor: Actor | None, *, text: str, limit: int = 10) -> list[Any]:
    """Formulary drugs matching what the prescriber typed ("amox", "Zestril"), best first."""
    return codes.search(session, actor, system=FORMULARY, text=text, limit=limit)


def open_list(session: Session, actor: Actor | None, *, patient_id: Any) -> tuple[ChartHeader, list[PrescriptionView]]:
    """A chart's Prescriptions page opened: the chart header and the list in one unit, ONE audit
    event (``prescription.list`` whose `header` names what the header showed)."""
    return with_header(session, actor, patient_id, _list_for_header, patient_id)


def _list_for_header(session: Session, actor: Actor | None, patient_id: Any, *,
                     header_sections: list[str] | None = None) -> list[PrescriptionView]:
    return list_prescriptions(session, actor, patient_id=patient_id, header_sections=header_sections)


def list_prescriptions(session: Session, actor: Actor | None, *, patient_id: Any,
                       header_sections: list[str] | None = None) -> list[PrescriptionView]:
    """The patient's prescriptions, active first, then newest first (clinicians, admins; the patient
    gets them without the check's findings)."""
    pid = as_uuid(patient_id)
    require(session, actor, Action.PRESCRIPTION_READ, Resource(patient_id=pid), audit_as="prescription.list")
    assert actor is not None
    load(session, pid)
    rows = session.exec(select(Prescription).where(Prescription.patient_id == pid)).all()
    rows = sorted(rows, key=lambda r: (r.status != ACTIVE, -r.signed_at.timestamp()))
    renewals = _renewal_of(session, [r.id for r in rows])
    views = [_view(session, actor, r, renewals.get(r.id)) for r in rows]
    if actor.patient_id == pid:
        views = [v.for_patient() for v in views]
    detail: dict[str, Any] = {"count": len(views)}
    if header_sections is not None:
        detail["header"] = list(header_sections)
    audit.record(session, actor, "prescription.list", patient_id=pid, object_type=OBJECT, detail=detail)
    return views


def own_prescriptions(session: Session, actor: Actor | None) -> list[PrescriptionView]:
    """The signed-in patient's own prescriptions (PatientNotFound: no record linked)."""
    if actor is None or actor.patient_id is None:
        if actor is None:
            require(session, actor, Action.PRESCRIPTION_READ, audit_as="prescription.list")
        raise PatientNotFound()
    return list_prescriptions(session, actor, patient_id=actor.patient_id)


def get(session: Session, actor: Actor | None, *, patient_id: Any, prescription_id: Any) -> PrescriptionView:
    """One prescription (clinicians, admins, the patient's own without findings)."""
    pid, rx = _on(session, actor, Action.PRESCRIPTION_READ, patient_id, prescription_id, "prescription.read")
    assert actor is not None
    audit.record(session, actor, "prescription.read", patient_id=pid, object_type=OBJECT, object_id=rx.id)
    view = _view(session, actor, rx, _renewal_of(session, [rx.id]).get(rx.id))
    return view.for_patient() if actor.patient_id == pid else view


def check_order(session: Session, actor: Actor | None, *, patient_id: Any, values: dict[str, Any]) -> list[Finding]:
    """The check's findings for this order, without saving (the form's "Check" before signing):
    field errors raise PrescriptionInvalid. Audited as a read of the patient's allergies and drugs."""
    pid = as_uuid(patient_id)
    require(session, actor, Action.PRESCRIPTION_WRITE, Resource(patient_id=pid), audit_as="prescription.check.read")
    load(session, pid)
    _drug_, _order, findings = _evaluate(session, pid, values)
    audit.record(session, actor, "prescription.check.read", patient_id=pid, object_type=OBJECT,
                 detail={"findings": [f.kind for f in findings]})
    return findings


def pdf(session: Session, actor: Actor | None, *, patient_id: Any, prescription_id: Any) -> tuple[str, bytes]:
    """The prescription's PDF (file name, bytes): clinic, prescriber and licence number, patient name
    and date of birth, drug, sig, quantity, refills, date and the verification code."""
    pid, rx = _on(session, actor, Action.PRESCRIPTION_READ, patient_id, prescription_id, "prescription.pdf.read")
    assert actor is not None
    patient = load(session, pid)
    settings = get_settings()
    sig = rx.sig or {}
    data = rx_pdf.render(
        clinic=clinic_config.current().clinic_name, clinic_address=clinic_config.current().clinic_address, prescriber=rx.prescriber_name,
        licence=licence_number(session, rx.prescriber_id), patient=display_name(patient), born=patient.date_of_birth,
        drug=f"{rx.drug_name} {sig.get('dose', '')} {sig.get('dose_unit', '')}".strip(),
        sig_words=checks.sig_words(rx.drug_name, sig), quantity=int(sig.get("quantity") or 0),
        refills=int(sig.get("refills") or 0), substitution=bool(sig.get("substitution", True)),
        pharmacy_note=str(sig.get("pharmacy_note") or ""), signed_at=rx.signed_at.astimezone(clinic_zone()),
        code=rx.verify_code, verify_url=settings.public_url + VERIFY_ROUTE, status=rx.status)
    audit.record(session, actor, "prescription.pdf.read", patient_id=pid, object_type=OBJECT, object_id=rx.id)
    return f"prescription-{rx.signed_at:%Y%m%d}-{rx.drug}.pdf", data


# ---------------------------------------------------------------- writing


def prescribe(session: Session, actor: Actor | None, *, patient_id: Any, values: dict[str, Any],
              override_reason: Any = "") -> PrescriptionView:
    """Sign a prescription from the formulary (care-team doctors). The check runs first: findings
    without an override reason raise OverrideNeeded and nothing is written; with one, the reason is
    stored with the findings and audited. The drug is filed on the medication list as prescribed."""
    pid = as_uuid(patient_id)
    require(session, actor, Action.PRESCRIPTION_WRITE, Resource(patient_id=pid), audit_as="prescription.create")
    assert actor is not None
    load(session, pid)
    errors: dict[str, str] = {}
    reason = _text(override_reason, "override_reason", errors)
    drug, order, findings = _evaluate(session, pid, values)
    if errors:
        raise PrescriptionInvalid(errors=errors)
    if findings and not reason:
        raise OverrideNeeded(findings)
    rx = _write(session, actor, pid, drug, order, findings, reason)
    audit.record(session, actor, "prescription.create", patient_id=pid, object_type=OBJECT, object_id=rx.id,
                 detail=_detail(findings, reason))
    return _view(session, actor, rx)


def _end(session: Session, actor: Actor | None, action_name: str, status: str, *, patient_id: Any,
         prescription_id: Any, reason: Any = "") -> PrescriptionView:
    pid, rx = _on(session, actor, Action.PRESCRIPTION_WRITE, patient_id, prescription_id, action_name)
    assert actor is not None
    errors: dict[str, str] = {}
    text = _text(reason, "reason", errors, required="Say why it is stopped." if status == STOPPED else "")
    if errors:
        raise PrescriptionInvalid(errors=errors)
    if rx.status != ACTIVE:
        raise NotActive(rx.status)
    now = utcnow()
    rx.status, rx.ended_at, rx.ended_by, rx.stop_reason = status, now, actor.user_id, text or None
    rx.version += 1
    rx.updated_at = now
    session.add(rx)
    history.end_prescribed(session, patient_id=pid, medication_id=rx.medication_id, status=status,
                           on=now.astimezone(clinic_zone()).date())
    _close_open_renewals(session, rx, actor, "The prescription was " + status + ".")
    audit.record(session, actor, action_name, patient_id=pid, object_type=OBJECT, object_id=rx.id,
                 detail={"status": status})
    return _view(session, actor, rx)


def stop(session: Session, actor: Actor | None, *, patient_id: Any, prescription_id: Any, reason: Any) -> PrescriptionView:
    """Stop an active prescription (a reason is required); its medication-list entry is stopped too."""
    return _end(session, actor, "prescription.stop", STOPPED, patient_id=patient_id,
                prescription_id=prescription_id, reason=reason)


def complete(session: Session, actor: Actor | None, *, patient_id: Any, prescription_id: Any) -> PrescriptionView:
    """Mark an active prescription completed (the course is over)."""
    return _end(session, actor, "prescription.complete", COMPLETED, patient_id=patient_id,
                prescription_id=prescription_id)


def _close_open_renewals(session: Session, rx: Prescription, actor: Actor, note: str) -> None:
    for req in session.exec(select(RenewalRequest).where(RenewalRequest.prescription_id == rx.id,
                                                         RenewalRequest.status == PENDING)).all():
        req.status, req.decided_by, req.decided_at, req.decision_note = DECLINED, actor.user_id, utcnow(), note
        session.add(req)
        _tell_patient(session, rx.patient_id)


# ---------------------------------------------------------------- renewals


def request_renewal(session: Session, actor: Actor | None, *, prescription_id: Any, message: Any = "") -> PrescriptionView:
    """The patient asks for a renewal of their own active prescription (one open request at a time)."""
    pid = actor.patient_id if actor is not None else None
    require(session, actor, Action.PRESCRIPTION_RENEWAL_REQUEST, Resource(patient_id=pid),
            audit_as="prescription.renewal.request")
    assert actor is not None and pid is not None
    load(session, pid)
    rx = session.get(Prescription, _uuid(prescription_id))
    if rx is None or rx.patient_id != pid:
        raise PrescriptionNotFound()
    errors: dict[str, str] = {}
    text = _text(message, "message", errors)
    if errors:
        raise PrescriptionInvalid(errors=errors)
    if rx.status != ACTIVE:
        raise NotActive(rx.status)
    if session.exec(select(RenewalRequest.id).where(RenewalRequest.prescription_id == rx.id,
                                                     RenewalRequest.status == PENDING)).first():
        raise RenewalPending()
    req = RenewalRequest(prescription_id=rx.id, patient_id=pid, requested_by=actor.user_id, message=text or None)
    session.add(req)
    session.flush()
    audit.record(session, actor, "prescription.renewal.request", patient_id=pid, object_type="prescription_renewal",
                 object_id=req.id, detail={"prescription": str(rx.id)})
    return _view(session, actor, rx, req).for_patient()


def renewal_requests(session: Session, actor: Actor | None) -> list[RenewalItem]:
    """The doctor's worklist: open renewal requests of patients on their care team, oldest first."""
    require(session, actor, Action.PRESCRIPTION_WORKLIST, Resource(owner_id=actor.user_id if actor else None),
            audit_as="prescription.renewal.list")
    assert actor is not None
    rows = session.exec(select(RenewalRequest, Prescription, Patient)
                        .join(Prescription, Prescription.id == RenewalRequest.prescription_id)  # type: ignore[arg-type]
                        .join(Patient, Patient.id == RenewalRequest.patient_id)  # type: ignore[arg-type]
                        .where(RenewalRequest.status == PENDING, reach_filter(actor, RenewalRequest.patient_id))
                        .order_by(RenewalRequest.created_at)).all()  # type: ignore[arg-type]
    items = [RenewalItem(id=req.id, prescription_id=rx.id, patient_id=req.patient_id, patient_name=display_name(p),
                         drug_name=rx.drug_name, requested_at=req.created_at, message=req.message or "")
             for req, rx, p in rows]
    audit.record(session, actor, "prescription.renewal.list", object_type="prescription_renewal",
                 detail={"count": len(items), "requests": [str(i.id) for i in items]})
    return items


def with_renewal_requests(session: Session, actor: Actor, patient_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these patients asked for a renewal no doctor has answered yet: My patients'
    "Renewal request" flag. One statement over plain columns, nothing decrypted."""
    if not patient_ids:
        return set()
    q = RenewalRequest
    return set(session.exec(select(q.patient_id).distinct().where(
        q.patient_id.in_(patient_ids), q.status == PENDING)).all())  # type: ignore[attr-defined]


def _request_on(session: Session, actor: Actor | None, patient_id: Any, request_id: Any, what: str
                ) -> tuple[uuid.UUID, RenewalRequest, Prescription]:
    pid = as_uuid(patient_id)
    require(session, actor, Action.PRESCRIPTION_RENEWAL_DECIDE, Resource(patient_id=pid), audit_as=what)
    load(session, pid)
    req = session.get(RenewalRequest, _uuid(request_id, RenewalNotFound))
    if req is None or req.patient_id != pid:
        raise RenewalNotFound()
    if req.status != PENDING:
        raise RenewalDecided(req.status)
    rx = session.get(Prescription, req.prescription_id)
    assert rx is not None
    return pid, req, rx


def approve_renewal(session: Session, actor: Actor | None, *, patient_id: Any, request_id: Any,
                    values: dict[str, Any] | None = None, override_reason: Any = "") -> PrescriptionView:
    """Approve: a new prescription from the old order (or `values`), checked again (its own findings
    need a reason); the old one becomes "renewed"; the patient is emailed that there is an answer."""
    pid, req, old = _request_on(session, actor, patient_id, request_id, "prescription.renewal.approve")
    assert actor is not None
    if old.status != ACTIVE:
        raise NotActive(old.status)
    errors: dict[str, str] = {}
    reason = _text(override_reason, "override_reason", errors)
    wanted = {"drug": old.drug, **(old.sig or {}), **(values or {})}
    drug, order, findings = _evaluate(session, pid, wanted, skip_rx=old.id, skip_med=old.medication_id)
    if errors:
        raise PrescriptionInvalid(errors=errors)
    if findings and not reason:
        raise OverrideNeeded(findings)
    now = utcnow()
    old.status, old.ended_at, old.ended_by = RENEWED, now, actor.user_id
    old.version += 1
    session.add(old)
    new = _write(session, actor, pid, drug, order, findings, reason, renews=old)
    req.status, req.decided_by, req.decided_at, req.new_prescription_id = APPROVED, actor.user_id, now, new.id
    session.add(req)
    _tell_patient(session, pid)
    audit.record(session, actor, "prescription.renewal.approve", patient_id=pid, object_type=OBJECT,
                 object_id=new.id, detail={"request": str(req.id), "renews": str(old.id), **_detail(findings, reason)})
    return _view(session, actor, new)


def decline_renewal(session: Session, actor: Actor | None, *, patient_id: Any, request_id: Any,
                    note: Any) -> PrescriptionView:
    """Decline with a note the patient reads; the prescription stays as it was; the patient is emailed."""
    pid, req, rx = _request_on(session, actor, patient_id, request_id, "prescription.renewal.decline")
    assert actor is not None
    errors: dict[str, str] = {}
    text = _text(note, "note", errors, required="Write a note for the patient: why, and what to do next.")
    if errors:
        raise PrescriptionInvalid(errors=errors)
    req.status, req.decided_by, req.decided_at, req.decision_note = DECLINED, actor.user_id, utcnow(), text
    session.add(req)
    _tell_patient(session, pid)
    audit.record(session, actor, "prescription.renewal.decline", patient_id=pid, object_type="prescription_renewal",
                 object_id=req.id, detail={"prescription": str(rx.id)})
    return _view(session, actor, rx, req)


def _tell_patient(session: Session, pid: uuid.UUID) -> None:
    """Email the patient's account(s) that there is an answer: no clinical detail (core.mail)."""
    from patient_portal.domain.identity.models import User

    users = session.exec(select(User).where(User.patient_id == pid, User.role == "patient",
                                            User.active == True)).all()  # noqa: E712
    for user in users:
        subject, text = mail_wording.render(ANSWER, base=get_settings().public_url)
        mail.queue(session, mail.Mail(to=user.email, subject=subject, text=text))


# ---------------------------------------------------------------- public verification


def verify(session: Session, code: Any) -> Verification:
    """A pharmacy's check of a printed code: valid (active), stopped, or not valid (unknown,
    completed, renewed). No patient data in the answer. A known code is audited (no actor)."""
    normalized = _norm_code(code)
    if normalized is None:
        return Verification("not_valid")
    rx = session.exec(select(Prescription).where(
        Prescription.verify_hash == hashlib.sha256(normalized.encode()).hexdigest())).first()
    if rx is None:
        return Verification("not_valid")
    result = {ACTIVE: "valid", STOPPED: "stopped"}.get(rx.status, "not_valid")
    audit.record(session, None, "prescription.verify.read", patient_id=rx.patient_id, object_type=OBJECT,
                 object_id=rx.id, detail={"result": result})
    return Verification(result)


# ---------------------------------------------------------------- the prescriber's licence


def licence_number(session: Session, user_id: uuid.UUID) -> str:
    row = session.exec(select(PrescriberProfile).where(PrescriberProfile.user_id == user_id)).first()
    return row.licence_number if row else ""


def set_licence_number(session: Session, actor: Actor | None, *, user_id: Any, licence_number: Any) -> str:
    """Record a doctor's licence number (admins, ``user.manage``: the clinic checks a licence before
    it is printed on prescriptions). Audited as ``prescriber.licence.update``."""
    require(session, actor, Action.USER_MANAGE, audit_as="prescriber.licence.update")
    assert actor is not None
    uid = _uuid(user_id)
    text = str(licence_number or "").strip()
    if not text or len(text) > 64:
        raise PrescriptionInvalid(errors={"licence_number": "Type the licence number (at most 64 characters)."})
    row = session.exec(select(PrescriberProfile).where(PrescriberProfile.user_id == uid)).first()
    if row is None:
        row = PrescriberProfile(user_id=uid, licence_number=text, updated_by=actor.user_id)
    else:
        row.licence_number, row.updated_by, row.updated_at = text, actor.user_id, utcnow()
    session.add(row)
    session.flush()
    audit.record(session, actor, "prescriber.licence.update", object_type="user", object_id=uid)
    return text


def today() -> date:
    return utcnow().astimezone(clinic_zone()).date()
