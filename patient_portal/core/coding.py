"""Codes carry their system: ``Coding(system, code, display)`` as FHIR writes them, so a DTO can be
served to people (``display``) and to a FHIR API (``system`` + ``code``) from the same value.

The system URIs are the ones FHIR R4 names for the code sets the portal uses.
"""

from __future__ import annotations

from dataclasses import dataclass

ICD10_CM = "http://hl7.org/fhir/sid/icd-10-cm"
SNOMED_CT = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
CVX = "http://hl7.org/fhir/sid/cvx"
LOINC = "http://loinc.org"
#: The portal's own formulary entries (domain/codes): a local code system, so a drug without a known
#: RxNorm code still has one; an entry carries its RxNorm ingredient code beside it where known.
FORMULARY = "urn:patient-portal:formulary"
#: What the history forms call each system (the stored `code_system` values) -> its URI.
BY_NAME = {"ICD-10": ICD10_CM, "ICD-10-CM": ICD10_CM, "SNOMED": SNOMED_CT, "SNOMED CT": SNOMED_CT,
           "RxNorm": RXNORM, "CVX": CVX, "LOINC": LOINC}


@dataclass(frozen=True)
class Coding:
    system: str
    code: str
    display: str = ""

    @classmethod
    def of(cls, system_name: str | None, code: str | None, display: str = "") -> Coding | None:
        """A Coding from a stored system name ("ICD-10") and code, or None when there is no code."""
        if not code:
            return None
        return cls(BY_NAME.get(system_name or "", system_name or ""), code, display)
