"""The prescription check and the order's validation: pure functions, no database, no policy.

``check(drug, order, allergies=..., active=...)`` returns the findings a prescriber must see before
signing — each a ``Finding`` (kind, the form field it belongs beside, a message naming what was
found). It reads only what the service loaded (the formulary entry, the patient's active allergies
and the active drugs on the medication list and active prescriptions), so it costs microseconds
(the issue's bar: p95 < 5 ms; ``bench/``).

* **allergy** — an active allergy to the same ingredient (the allergy's formulary code is the drug's),
  or to one of the drug's classes (an allergy recorded as the class "penicillins", or to a drug whose
  classes are on the allergy row): amoxicillin for a patient allergic to penicillins. A class shared
  through a broad class ("beta-lactam antibiotics": a penicillin allergy and cephalexin) is a finding
  too — cross-reactivity is for the prescriber to weigh, with a reason.
* **duplicate** — the same ingredient or the drug's first (therapeutic) class already active: two
  ACE inhibitors, two statins. Broad secondary classes ("beta-lactam antibiotics") do not count.
* **dose** — a single dose outside the formulary entry's usual range, or a daily dose (dose × times a
  day) above its maximum.

Validation (``clean_order``) is separate: a dose that is not a number, an unknown route or frequency,
a quantity of 0 are errors beside their fields; findings are warnings a reason can override.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

#: How often, as the form offers it: key -> (words on the label and the sig, times a day or None).
FREQUENCIES: dict[str, tuple[str, float | None]] = {
    "once_daily": ("once daily", 1), "twice_daily": ("twice daily", 2), "three_daily": ("three times daily", 3),
    "four_daily": ("four times daily", 4), "every_4h": ("every 4 hours", 6), "every_6h": ("every 6 hours", 4),
    "every_8h": ("every 8 hours", 3), "every_12h": ("every 12 hours", 2), "bedtime": ("at bedtime", 1),
    "weekly": ("once a week", 1 / 7), "as_needed": ("when needed", None),
}
#: How a route reads in the sig ("Take 500 mg by mouth ...").
ROUTE_WORDS = {"oral": "by mouth", "inhalation": "inhaled", "nasal": "in the nose", "rectal": "rectally",
               "subcutaneous": "as an injection under the skin", "topical": "on the skin"}
MAX_QUANTITY, MAX_REFILLS, MAX_DAYS, MAX_NOTE, MAX_REASON = 1000, 11, 365, 500, 500
ALLERGY, DUPLICATE, DOSE = "allergy", "duplicate", "dose"


@dataclass(frozen=True)
class Finding:
    """One warning of the check: `kind` (allergy, duplicate, dose), the `field` it is shown beside."""

    kind: str
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "field": self.field, "message": self.message}


@dataclass(frozen=True)
class AllergyFact:
    """An active allergy as the check reads it."""

    substance: str
    code: str  # the formulary drug's code, "" for a class or a non-drug
    classes: tuple[str, ...]


@dataclass(frozen=True)
class ActiveDrug:
    """A drug already active: a medication-list entry or an active prescription."""

    name: str
    code: str
    classes: tuple[str, ...]
    source: str  # "medication list" | "prescription"


def fold(text: str) -> str:
    return " ".join(str(text or "").lower().split())


def classes_of(text: str | None) -> tuple[str, ...]:
    """A row's "penicillins; beta-lactam antibiotics" as folded classes."""
    return tuple(c for c in (fold(part) for part in str(text or "").split(";")) if c)


def _number(text: Any) -> float | None:
    try:
        value = float(str(text).strip().replace(",", "."))
    except (TypeError, ValueError):
        return None
    return value if value == value and value not in (float("inf"), float("-inf")) else None


def _whole(text: Any, low: int, high: int) -> int | None:
    try:
        value = int(str(text).strip())
    except (TypeError, ValueError):
        return None
    return value if low <= value <= high else None


def clean_order(values: Mapping[str, Any], *, routes: Iterable[str], dose_unit: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The order's typed values from a form's values, and the field errors (empty: all good)."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {"dose_unit": dose_unit}
    dose = _number(values.get("dose"))
    if dose is None or dose <= 0:
        errors["dose"] = f"Type the dose as a number of {dose_unit or 'units'}, for example 500."
    else:
        out["dose"] = f"{dose:g}"
    allowed = [r for r in routes if r] or ["oral"]
    route = str(values.get("route") or "").strip().lower() or (allowed[0] if len(allowed) == 1 else "")
    if route not in allowed:
        errors["route"] = "Choose how it is taken: " + ", ".join(allowed) + "."
    out["route"] = route
    frequency = str(values.get("frequency") or "").strip()
    if frequency not in FREQUENCIES:
        errors["frequency"] = "Choose how often it is taken."
    out["frequency"] = frequency
    raw_days = str(values.get("duration_days") or "").strip()
    days = _whole(raw_days, 1, MAX_DAYS) if raw_days else None
    if raw_days and days is None:
        errors["duration_days"] = f"Type the number of days, 1 to {MAX_DAYS}, or leave it empty for ongoing."
    out["duration_days"] = days
    quantity = _whole(values.get("quantity"), 1, MAX_QUANTITY)
    if quantity is None:
        errors["quantity"] = f"Type how many to dispense, 1 to {MAX_QUANTITY}."
    out["quantity"] = quantity
    raw_refills = str(values.get("refills") if values.get("refills") is not None else "0").strip() or "0"
    refills = _whole(raw_refills, 0, MAX_REFILLS)
    if refills is None:
        errors["refills"] = f"Type the number of refills, 0 to {MAX_REFILLS}."
    out["refills"] = refills
    sub = values.get("substitution", True)
    out["substitution"] = sub if isinstance(sub, bool) else str(sub).strip().lower() not in ("false", "0", "no", "")
    note = str(values.get("pharmacy_note") or "").strip()
    if len(note) > MAX_NOTE:
        errors["pharmacy_note"] = f"Keep the note to the pharmacy under {MAX_NOTE} characters."
    out["pharmacy_note"] = note
    return out, errors


def check(drug: Any, order: Mapping[str, Any], *, allergies: Iterable[AllergyFact],
          active: Iterable[ActiveDrug]) -> list[Finding]:
    """The findings for prescribing `drug` (a codes.FormularyEntry) as `order` (clean_order's values)
    to a patient with these active `allergies` and `active` drugs; [] when nothing was found."""
    findings: list[Finding] = []
    code, name = drug.coding.code, drug.name
    classes = tuple(fold(c) for c in drug.classes)
    for allergy in allergies:
        if allergy.code and allergy.code == code:
            findings.append(Finding(ALLERGY, "drug", f"Allergy: the patient is allergic to {allergy.substance} "
                                                     f"({name} is the same drug)."))
            continue
        shared = [c for c in classes if c in allergy.classes]
        if shared:
            findings.append(Finding(ALLERGY, "drug", f"Allergy: the patient is allergic to {allergy.substance} "
                                                     f"({shared[0]}); {name} is in the same class."))
    therapeutic = classes[0] if classes else ""
    seen: set[str] = set()
    for other in active:
        key = other.code or fold(other.name)
        if key in seen:
            continue
        if other.code and other.code == code:
            seen.add(key)
            findings.append(Finding(DUPLICATE, "drug", f"Duplicate therapy: {other.name} is already active "
                                                       f"({other.source})."))
        elif therapeutic and other.classes and other.classes[0] == therapeutic:
            seen.add(key)
            findings.append(Finding(DUPLICATE, "drug", f"Duplicate therapy: {other.name} ({therapeutic}) is "
                                                       f"already active ({other.source})."))
    dose = _number(order.get("dose"))
    unit = drug.dose_unit or order.get("dose_unit") or ""
    if dose is not None:
        low, high = drug.dose_min, drug.dose_max
        if (low is not None and dose < low) or (high is not None and dose > high):
            usual = f"{low:g} to {high:g} {unit}" if low is not None and high is not None else \
                (f"at least {low:g} {unit}" if low is not None else f"at most {high:g} {unit}")
            findings.append(Finding(DOSE, "dose", f"Dose: {dose:g} {unit} is outside the usual single dose of "
                                                  f"{name} ({usual})."))
        times = FREQUENCIES.get(str(order.get("frequency") or ""), ("", None))[1]
        if times and drug.max_daily is not None and dose * times > drug.max_daily + 1e-9:
            findings.append(Finding(DOSE, "dose", f"Dose: {dose * times:g} {unit} a day is above the maximum daily "
                                                  f"dose of {name} ({drug.max_daily:g} {unit})."))
    return findings


def sig_words(drug_name: str, sig: Mapping[str, Any]) -> str:
    """The instruction in words: "Take 500 mg by mouth three times daily for 7 days"."""
    route = str(sig.get("route") or "")
    often = FREQUENCIES.get(str(sig.get("frequency") or ""), (str(sig.get("frequency") or ""), None))[0]
    parts = ["Take", f"{sig.get('dose', '')} {sig.get('dose_unit', '')}".strip(), ROUTE_WORDS.get(route, route), often]
    days = sig.get("duration_days")
    text = " ".join(p for p in parts if p)
    if days:
        text += f" for {days} day{'s' if int(days) != 1 else ''}"
    return text + "."
