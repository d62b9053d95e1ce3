"""Medical history (conditions, allergies, medications, family history, immunizations): the one
way in for the UI, the API and the chart. Doctors on the care team and admins write; a patient
reports an allergy or a medication on their own record (``report_item``: "reported by patient"
until a clinician verifies it); every change is audited as a clinical write on the entry, with the
basis and purpose of the policy's decision.

Coded entries (issue 12): a condition or a family-history condition carries an ICD-10-CM code, an
allergy a formulary drug (with its classes) or a drug class, a medication a formulary drug
(ingredient, classes, RxNorm where known). Codes are checked against the code tables when the set
is loaded (an unknown code is a field error, next to the field) and the row stores the code with
what the table calls it; free text stays possible (a food, a drug outside the formulary, an older
row), so nothing written before codes existed stops reading. A second active entry for the same
drug is refused with the existing entry named (``DuplicateMedication``). "No known allergies" is
a recorded answer (``record_no_known_allergies``), refused while an active allergy is on file and
cleared when one is added; with neither, the allergies were not asked (``allergy_status``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, select

from patient_portal.core import audit, clinic_config, errors
from patient_portal.core.access import Action, Actor, Resource, can_on, decide, require
from patient_portal.core.clock import clinic_zone
from patient_portal.core.coding import CVX, ICD10_CM
from patient_portal.core.db import utcnow
from patient_portal.domain.codes import service as codes
from patient_portal.domain.codes.text import fold
from patient_portal.domain.history import record, rows
from patient_portal.domain.history.dto import HistoryEntry, entry
from patient_portal.domain.history.models import (
    KINDS,
    PATIENT_REPORTED,
    VERIFIED,
    Allergy,
    AllergyStatus,
    Medication,
)
from patient_portal.domain.patients.common import Conflict, as_uuid, guard, load
from patient_portal.domain.patients.dto import display_name
from patient_portal.domain.patients.validation import ValidationFailed, validate_history_item
from patient_portal.domain.sensitive import service as sensitive
from patient_portal.domain.sensitive.dto import CONDITION

__all__ = ["KINDS", "AllergiesOnFile", "ChartHistory", "chart_history", "DuplicateMedication", "HistoryEntry", "allergy_status", "file_at_intake",
           "immunization_record", "read_for_chart", "record_no_known_allergies", "remove_item", "report_item", "save_item", "verify_item"]

#: ``allergy_status`` answers: an active allergy on file, "no known allergies" recorded, or not asked.
RECORDED, NO_KNOWN_ALLERGIES, NOT_RECORDED = "recorded", "nka", "not_recorded"
#: What a patient may report on their own record, and which of its fields they fill.
REPORTABLE: dict[str, tuple[str, ...]] = {
    "allergies": ("substance", "category", "code", "reaction", "severity"),
    "medications": ("name", "drug", "dose", "route", "frequency", "start_date"),
}
#: The field a coded kind's code error is shown beside (the picker fills it; a code typed by hand
#: into "Code" is checked the same way).
CODE_FIELD = {"conditions": "code", "family_history": "code", "allergies": "substance", "medications": "name",
              "immunizations": "cvx"}


class DuplicateMedication(errors.Conflict):
    """The drug is already an active entry of the medication list. ``existing`` is that entry; the
    message names it (drug, dose, how often, since when) for the clinician — or the patient — who
    tried to add it again, so they can edit it instead."""

    def __init__(self, existing: HistoryEntry):
        self.existing = existing
        v = existing.values
        details = ", ".join(p for p in (v.get("dose"), v.get("frequency"),
                                        f"since {_day(v['start_date'])}" if v.get("start_date") else "") if p)
        super().__init__(f"{v.get('name') or 'This drug'} is already on the medication list"
                         + (f" ({details})" if details else "") + ". Edit that entry instead of adding it again.")


def _day(iso: str) -> str:
    """ "3 Mar 2025", as the clinic writes dates."""
    try:
        day = date.fromisoformat(iso)
    except ValueError:
        return iso
    return f"{day.day} {day.strftime('%b %Y')}"


class AllergiesOnFile(errors.Conflict):
    """"No known allergies" cannot be recorded while active allergies are on file (named)."""

    def __init__(self, names: list[str]):
        self.names = names
        super().__init__("The allergy list is not empty (" + ", ".join(names) + "): mark those entries resolved "
                         "or remove them before recording no known allergies.")


# ---------------------------------------------------------------------------------------------- reads

@dataclass(frozen=True)
class ChartHistory:
    """The chart's history: the entries by kind this actor sees, and how many conditions marked
    sensitive are withheld from them (the chart says so, and nothing more)."""

    entries: dict[str, list[HistoryEntry]]
    withheld: int = 0


def chart_history(session: Session, actor: Actor, *, patient_id: Any, kinds: Any = None) -> ChartHistory | None:
    """Every entry of the patient by kind (only `kinds`, when given: the FHIR API reading one
    Condition reads no medications), oldest first, but the sensitive conditions this actor may not
    see; None when the actor reads no clinical rows (the front desk — unless an emergency grant
    opens them).

    The chart's composition point (patients.profile.get_chart): the caller has already required
    access to this patient and audits the whole chart read once, so this does not audit."""
    pid = as_uuid(patient_id)
    if not can_on(session, actor, Action.CLINICAL_READ, pid):
        return None
    found = rows.for_patient(session, pid, kinds)
    reading = decide(session, actor, Action.CLINICAL_READ, Resource(patient_id=pid))
    if "conditions" not in found:
        hidden: set[str] = set()
    else:
        hidden = {str(i) for i in sensitive.withheld_ids(session, actor, reading, pid, (CONDITION,))} \
            if reading.allowed else {r["id"] for r in found["conditions"]}
    if hidden:
        found["conditions"] = [r for r in found["conditions"] if r["id"] not in hidden]
    return ChartHistory({kind: [entry(values) for values in found[kind]] for kind in found}, len(hidden))


def read_for_chart(session: Session, actor: Actor, *, patient_id: Any) -> dict[str, list[HistoryEntry]] | None:
    """``chart_history``'s entries (None when the role reads no clinical rows)."""
    found = chart_history(session, actor, patient_id=patient_id)
    return None if found is None else found.entries


def patient_of(session: Session, kind: str, item_id: Any) -> uuid.UUID | None:
    """Whose record an entry is on (None: no such entry). No policy: the caller (the FHIR API's read
    by id) then reads the patient's record through a service that asks it."""
    if kind not in KINDS:
        return None
    try:
        key = uuid.UUID(str(item_id))
    except ValueError:
        return None
    model = KINDS[kind][0]
    return session.exec(select(model.patient_id).where(model.id == key)).first()


def allergy_status(session: Session, patient_id: Any) -> str:
    """RECORDED (an active allergy on file), NO_KNOWN_ALLERGIES (asked, none) or NOT_RECORDED.
    No policy: the chart and its header call it for an actor they have already authorized."""
    pid = as_uuid(patient_id)
    if session.exec(select(Allergy.id).where(Allergy.patient_id == pid, Allergy.status == "active")).first():
        return RECORDED
    if session.exec(select(AllergyStatus.id).where(AllergyStatus.patient_id == pid)).first():
        return NO_KNOWN_ALLERGIES
    return NOT_RECORDED


#: The audit event of a printed immunization record: an export of the patient's data (its purpose,
#: from the policy's decision: the patient's own request, treatment, operations).
RECORD_PRINTED = "history.immunizations.print"


def immunization_record(session: Session, actor: Actor | None, *, patient_id: Any) -> tuple[str, bytes]:
    """The patient's printable immunization record as (file name, PDF bytes): every vaccine on file
    with its CVX code, date, dose number, lot, site, route and who gave it. The patient prints their
    own; care-team doctors and admins print it from the chart; the front desk and anyone else are
    refused (audited). One audit event, an export with its purpose and how many vaccines it held."""
    pid = as_uuid(patient_id)
    require(session, actor, Action.CLINICAL_READ, Resource(patient_id=pid), audit_as=RECORD_PRINTED,
            object_type="history.immunizations", object_id=pid)
    patient = load(session, pid)
    vaccines = [record.Vaccine.of(rows.to_dict("immunizations", row))
                for row in rows.of_kind(session, pid, "immunizations")]
    clinic = clinic_config.current()
    printed = datetime.now(clinic_zone()).date()
    data = record.render(clinic=clinic.clinic_name, clinic_address=clinic.clinic_address,
                         patient=display_name(patient), born=patient.date_of_birth, vaccines=vaccines,
                         printed=printed)
    audit.record(session, actor, RECORD_PRINTED, patient_id=pid, object_type="history.immunizations",
                 object_id=pid, detail={"export": "pdf", "vaccines": len(vaccines)})
    return f"immunization-record-{printed:%Y%m%d}.pdf", data


# ---------------------------------------------------------------------------------------------- writes

def save_item(session: Session, actor: Actor, *, patient_id: Any, kind: str, values: dict[str, str],
              item_id: str | None = None, expected_version: int | None = None) -> dict[str, str]:
    """Add an entry, or update one at the version it was loaded (doctors, admin); returns its form
    strings. Codes are checked and completed from the code tables; a duplicate active medication is
    refused (DuplicateMedication); an active allergy clears "no known allergies"."""
    pid = as_uuid(patient_id)
    guard(session, actor, Action.CLINICAL_WRITE, patient_id=pid)
    load(session, pid)
    return _write(session, actor, pid, kind, values, item_id=item_id, expected_version=expected_version,
                  source="clinician")


def report_item(session: Session, actor: Actor, *, kind: str, values: dict[str, str]) -> dict[str, str]:
    """A patient reports an allergy or a medication they take, on their own record: filed as
    "patient-reported" (source patient) and shown to the clinic so until a clinician verifies it."""
    pid = actor.patient_id if actor is not None else None
    require(session, actor, Action.CLINICAL_REPORT_OWN, Resource(patient_id=pid))
    load(session, pid)
    if kind not in REPORTABLE:
        raise ValidationFailed({"kind": "You can report an allergy or a medication."})
    reported = {name: values.get(name, "") for name in REPORTABLE[kind] if isinstance(values, dict)}
    reported["verification"] = PATIENT_REPORTED
    if kind == "medications":
        reported["origin"] = PATIENT_REPORTED
    return _write(session, actor, pid, kind, reported, item_id=None, expected_version=None, source="patient")


def verify_item(session: Session, actor: Actor, *, patient_id: Any, kind: str, item_id: str,
                expected_version: int | None = None) -> dict[str, str]:
    """A clinician confirms a patient-reported allergy or medication (at the version they saw)."""
    pid = as_uuid(patient_id)
    guard(session, actor, Action.CLINICAL_WRITE, patient_id=pid)
    load(session, pid)
    if kind not in REPORTABLE:
        raise ValidationFailed({"kind": "Only allergies and medications are verified."})
    row = _row(session, pid, kind, item_id)
    if expected_version is not None and int(expected_version) != row.version:
        raise Conflict(["entry"], rows.to_dict(kind, row), row.version)
    row.verification = VERIFIED
    row.version += 1
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    audit.record(session, actor, str(Action.CLINICAL_WRITE), patient_id=pid, object_type=f"history.{kind}",
                 object_id=row.id, detail={"fields_changed": ["verification"], "verified": True})
    return rows.to_dict(kind, row)


def record_no_known_allergies(session: Session, actor: Actor, *, patient_id: Any) -> str:
    """Record that the patient was asked and has no known allergies (doctors, admin); refused with
    AllergiesOnFile while an active allergy is on file. Recording it again changes nothing."""
    pid = as_uuid(patient_id)
    guard(session, actor, Action.CLINICAL_WRITE, patient_id=pid)
    load(session, pid)
    active = [r for r in rows.of_kind(session, pid, "allergies") if r.status == "active"]
    if active:
        raise AllergiesOnFile([r.substance for r in active])
    if session.exec(select(AllergyStatus).where(AllergyStatus.patient_id == pid)).first() is None:
        session.add(AllergyStatus(patient_id=pid, recorded_by=actor.user_id))
        session.flush()
    audit.record(session, actor, str(Action.CLINICAL_WRITE), patient_id=pid, object_type="history.allergy_status",
                 object_id=pid, detail={"no_known_allergies": True})
    return NO_KNOWN_ALLERGIES


def remove_item(session: Session, actor: Actor, *, patient_id: Any, kind: str, item_id: str) -> None:
    """Delete an entry made in error (doctors, admin); PatientNotFound for an unknown or merged
    record (its rows stay as they were, for the audit trail)."""
    pid = as_uuid(patient_id)
    guard(session, actor, Action.CLINICAL_WRITE, patient_id=pid)
    load(session, pid)
    if kind not in KINDS:
        raise ValidationFailed({"kind": "Unknown kind of history entry."})
    row = _row(session, pid, kind, item_id)
    session.delete(row)
    audit.record(session, actor, str(Action.CLINICAL_WRITE), patient_id=pid, object_type=f"history.{kind}",
                 object_id=item_id, detail={"removed": True})


def file_at_intake(session: Session, *, patient_id: Any, entries: dict[str, list[dict]],
                   recorded_by: uuid.UUID | None) -> None:
    """File a new record's history from its validated registration draft (source "intake");
    registration, which authorizes and audits the whole record in one unit, is the only caller.
    Entries the code tables know are linked as a clinician's would be (a medication typed
    "Atorvastatin" becomes the formulary's atorvastatin, with its class and RxNorm code); an
    unknown code is kept as typed — the draft was validated, and intake never refuses for a code."""
    pid = as_uuid(patient_id)
    for kind in KINDS:
        for values in entries.get(kind) or []:
            values = dict(values)
            _complete_codes(session, kind, values)  # link what the code tables know; the rest stays as typed
            rows.add(session, pid, kind, values, recorded_by=recorded_by, source="intake")


def file_prescribed(session: Session, *, patient_id: Any, values: dict[str, str], recorded_by: uuid.UUID | None,
                    medication_id: Any = None) -> tuple[uuid.UUID, bool]:
    """File a signed prescription on the medication list as "prescribed" (the prescriptions area is
    the only caller; it authorizes and audits). The entry `medication_id` names, or else the active
    entry of the same drug (one the patient reported, or an earlier prescription's), is updated
    rather than a second row added — the list never holds the same drug twice. Returns (row id,
    created)."""
    pid = as_uuid(patient_id)
    values = {**values, "status": "active", "origin": "prescribed", "verification": VERIFIED}
    _complete_codes(session, "medications", values)
    row = None
    if medication_id:
        row = session.get(Medication, as_uuid(medication_id))
        row = row if row is not None and row.patient_id == pid else None
    if row is None:
        stmt = select(Medication).where(Medication.patient_id == pid, Medication.status == "active")
        drug = str(values.get("drug") or "")
        row = next((r for r in session.exec(stmt.order_by(Medication.created_at)).all() if drug and r.drug == drug), None)
    if row is None:
        row = rows.add(session, pid, "medications", values, recorded_by=recorded_by, source="clinician")
        session.flush()
        return row.id, True
    for name, value in rows.clean("medications", {**rows.to_dict("medications", row), **values}).items():
        setattr(row, name, value)
    row.version += 1
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    return row.id, False


def end_prescribed(session: Session, *, patient_id: Any, medication_id: Any, status: str, on: date) -> None:
    """A prescription stopped or completed: its medication-list entry too (caller authorizes and audits)."""
    row = session.get(Medication, as_uuid(medication_id)) if medication_id else None
    if row is None or row.patient_id != as_uuid(patient_id) or row.status != "active":
        return
    row.status, row.stop_date = status, on
    row.version += 1
    row.updated_at = utcnow()
    session.add(row)


# ---------------------------------------------------------------------------------------------- helpers

def _row(session: Session, pid: uuid.UUID, kind: str, item_id: Any) -> Any:
    try:
        key = uuid.UUID(str(item_id))
    except ValueError:
        key = None
    row = session.get(KINDS[kind][0], key) if key is not None else None
    if row is None or row.patient_id != pid:
        raise ValidationFailed({"item": "That entry no longer exists."})
    return row


def _write(session: Session, actor: Actor, pid: uuid.UUID, kind: str, values: dict[str, str], *,
           item_id: str | None, expected_version: int | None, source: str) -> dict[str, str]:
    if kind not in KINDS or not isinstance(values, dict):
        raise ValidationFailed({"kind": "Unknown kind of history entry."})
    values = {k: (v.strip() if isinstance(v, str) else v) for k, v in values.items()}
    problems = _complete_codes(session, kind, values)
    checked = validate_history_item(kind, values)
    if "code" in problems or "cvx" in problems:  # the code's message says what to do; "required" beside the
        # name would be noise
        checked.pop({"conditions": "description", "family_history": "condition",
                     "immunizations": "vaccine"}.get(kind, ""), None)
    problems = {**checked, **problems}
    if problems:
        raise ValidationFailed(problems)
    model, fields = KINDS[kind]
    if item_id:
        row = _row(session, pid, kind, item_id)
        before = rows.to_dict(kind, row)
        if expected_version is not None and int(expected_version) != row.version:
            changed = [k.replace("_", " ") for k in fields if before[k] != str(values.get(k) or "").strip()]
            raise Conflict(changed or ["entry"], before, row.version)
    if kind == "medications":
        _refuse_duplicate(session, pid, values, item_id)
    if item_id:
        for name, value in rows.clean(kind, values).items():
            setattr(row, name, value)
        row.version += 1
        row.updated_at = utcnow()
        changed = [k for k in fields if before[k] != rows.to_dict(kind, row)[k]]
    else:
        row = rows.add(session, pid, kind, values, recorded_by=actor.user_id, source=source)
        changed = [k for k in fields if str(values.get(k) or "").strip()]
    session.add(row)
    session.flush()
    detail: dict[str, Any] = {"fields_changed": changed, "created": not item_id}
    if source == "patient":
        detail["reported_by_patient"] = True
    if kind == "allergies" and row.status == "active" and _clear_nka(session, pid):
        detail["no_known_allergies_cleared"] = True
    action = Action.CLINICAL_REPORT_OWN if source == "patient" else Action.CLINICAL_WRITE
    audit.record(session, actor, str(action), patient_id=pid, object_type=f"history.{kind}", object_id=row.id,
                 detail=detail)
    return rows.to_dict(kind, row)


def _clear_nka(session: Session, pid: uuid.UUID) -> bool:
    found = session.exec(select(AllergyStatus).where(AllergyStatus.patient_id == pid)).first()
    if found is None:
        return False
    session.delete(found)
    session.flush()
    return True


def _loaded(session: Session, key: str, cache: dict[str, bool]) -> bool:
    if key not in cache:
        cache[key] = key in codes.loaded(session)
    return cache[key]


def _complete_codes(session: Session, kind: str, values: dict[str, Any]) -> dict[str, str]:
    """Check the entry's codes against the code tables and fill in what they say (the name a code
    stands for, a drug's classes and RxNorm code); returns field errors. A code set that is not
    loaded cannot be checked: its codes are kept as typed (the deployment loads them: portal codes load)."""
    problems: dict[str, str] = {}
    loaded: dict[str, bool] = {}
    if kind in ("conditions", "family_history"):
        if values.get("code"):
            values["code_system"] = values.get("code_system") or "ICD-10"
            if values["code_system"] == "ICD-10":
                _coded(session, values, problems, loaded, key="icd10cm", system=ICD10_CM, code_field="code",
                       name_field="description" if kind == "conditions" else "condition",
                       unknown="is not an ICD-10-CM code. Type words or a code and choose from the list, or leave "
                               "the code empty.")
    elif kind == "allergies":
        code = str(values.get("code") or "")
        category = values.get("category") or ""
        if code:
            drug = codes.formulary_entry(session, code) if _loaded(session, "formulary", loaded) else None
            if drug is None and _loaded(session, "formulary", loaded):
                problems["substance"] = "That drug is not in the formulary. Choose it from the list, or type the substance."
            elif drug is not None:
                values.update(code=drug.coding.code, category="medication", drug_class="; ".join(drug.classes))
                values["substance"] = values.get("substance") or drug.name
        elif category == "drug_class" and values.get("substance") and _loaded(session, "formulary", loaded):
            known = {fold(c): c for c in codes.drug_classes(session)}
            typed = fold(str(values["substance"])).strip()
            found_class = known.get(typed) or known.get(typed + "s")  # "Penicillin" is the class "penicillins"
            if found_class is None:
                problems["substance"] = "That is not a drug class the formulary knows. Choose one from the list."
            else:
                values["drug_class"] = found_class
        elif category != "medication":
            values["drug_class"] = ""
    elif kind == "immunizations":
        _coded(session, values, problems, loaded, key="cvx", system=CVX, code_field="cvx", name_field="vaccine",
               unknown="is not a CVX code. Type the vaccine's name and choose it from the list, or leave the code "
                       "empty.", name=vaccine_name)
    elif kind == "medications":
        code = str(values.get("drug") or "")
        name = str(values.get("name") or "")
        if not code and name and _loaded(session, "formulary", loaded):
            by_name = codes.formulary_entry(session, fold(name))  # "Amlodipine" is the entry "amlodipine"
            code = by_name.coding.code if by_name is not None else ""
        if code:
            drug = codes.formulary_entry(session, code) if _loaded(session, "formulary", loaded) else None
            if drug is None and _loaded(session, "formulary", loaded):
                problems["name"] = "That drug is not in the formulary. Choose it from the list, or type its name."
            elif drug is not None:
                values.update(drug=drug.coding.code, drug_class="; ".join(drug.classes),
                              rxnorm=drug.rxnorm.code if drug.rxnorm else (values.get("rxnorm") or ""))
                values["name"] = name or drug.name
                if not values.get("route") and len(drug.routes) == 1:  # "oral": how to take it reads "by mouth"
                    values["route"] = drug.routes[0]
    return problems


def _coded(session: Session, values: dict[str, Any], problems: dict[str, str], loaded: dict[str, bool], *,
           key: str, system: str, code_field: str, name_field: str, unknown: str,
           name: Any = lambda display: display) -> None:
    """Check the code in `code_field` against the code set `key` (when it is loaded): an unknown code
    is a field error (``"<code> <unknown>"``); a known one is written as the set writes it, and names
    the entry when nothing was typed in `name_field`."""
    code = str(values.get(code_field) or "").strip()
    if not code or not _loaded(session, key, loaded):
        return
    found = codes.get(session, system, code)
    if found is None:
        problems[code_field] = f"{code[:20]} {unknown}"
        return
    values[code_field] = found.code
    if not values.get(name_field):
        values[name_field] = name(found.display)


def vaccine_name(display: str) -> str:
    """A CVX name as the record shows it: the CDC writes "influenza, injectable, …" in lower case."""
    return display[:1].upper() + display[1:]


def _refuse_duplicate(session: Session, pid: uuid.UUID, values: dict[str, Any], item_id: str | None) -> None:
    """Refuse a second active entry of the same drug (same formulary ingredient, or the same name)."""
    if (values.get("status") or "active") != "active":
        return
    drug, name = str(values.get("drug") or ""), fold(str(values.get("name") or "")).strip()
    stmt = select(Medication).where(Medication.patient_id == pid, Medication.status == "active")
    for row in session.exec(stmt.order_by(Medication.created_at)).all():
        if item_id and str(row.id) == str(item_id):
            continue
        if (drug and row.drug == drug) or (name and fold(row.name or "").strip() == name):
            raise DuplicateMedication(entry(rows.to_dict("medications", row)))
