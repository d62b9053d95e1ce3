"""What the history service hands out: each entry's form strings (the chart shows and edits them)
and its code as a ``Coding`` with its system URI, so a person and a FHIR API read the same entry."""

from __future__ import annotations

from dataclasses import dataclass

from patient_portal.core.coding import FORMULARY, Coding

#: kind -> (the column holding its code, the column naming it for people)
CODED_KINDS: dict[str, tuple[str, str]] = {
    "conditions": ("code", "description"),
    "family_history": ("code", "condition"),
    "allergies": ("code", "substance"),  # a drug allergy: the formulary drug (its classes on the row)
    "medications": ("rxnorm", "name"),
    "immunizations": ("cvx", "vaccine"),
}
#: Where and how a vaccine was given (the stored codes -> the words a record prints).
IMMUNIZATION_SITES = {"left_arm": "Left arm", "right_arm": "Right arm", "left_thigh": "Left thigh",
                      "right_thigh": "Right thigh", "other": "Other"}
IMMUNIZATION_ROUTES = {"intramuscular": "Intramuscular", "subcutaneous": "Subcutaneous", "intradermal": "Intradermal",
                       "oral": "By mouth", "intranasal": "In the nose"}
#: The code system of kinds with one fixed system (a condition names its own, in `code_system`).
FIXED_SYSTEM = {"medications": "RxNorm", "immunizations": "CVX", "allergies": FORMULARY}


@dataclass(frozen=True)
class HistoryEntry:
    """One history row: `values` are its form strings (with id, version and kind, as the chart's
    forms hold them); `coding` its ICD-10/SNOMED, RxNorm or CVX code, None when it has none."""

    kind: str
    id: str
    version: int
    values: dict[str, str]
    coding: Coding | None = None

    def form(self) -> dict[str, str]:
        """The entry as the chart's form strings (a copy)."""
        return dict(self.values)


def coding_of(kind: str, values: dict[str, str]) -> Coding | None:
    """The entry's code with its system's URI, from its form strings; None when it has no code."""
    if kind not in CODED_KINDS:
        return None
    code, display = CODED_KINDS[kind]
    if kind == "medications" and not values.get("rxnorm") and values.get("drug"):
        return Coding(FORMULARY, values["drug"], values.get("name", ""))  # a formulary drug RxNorm has no code for here
    system = FIXED_SYSTEM.get(kind) or values.get("code_system")
    return Coding.of(system, values.get(code), values.get(display, ""))


def entry(values: dict[str, str]) -> HistoryEntry:
    """An entry from a row's form strings (``rows.to_dict``: they carry kind, id and version)."""
    kind = values["kind"]
    return HistoryEntry(kind=kind, id=values["id"], version=int(values["version"]), values=values,
                        coding=coding_of(kind, values))
