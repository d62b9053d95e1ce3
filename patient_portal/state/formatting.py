"""One formatter for people: what the services hand over as codes and ISO dates, written the way
the clinic writes them — coded values as words ("Female", "Text message", "Primary"), every date as
"4 Jul 1988", addresses on one line with state and country.

The state layer calls these when it puts a DTO into state, so no screen shows "sms" or
"1988-07-04". The word tables are also the options of the forms (``options``), so a select and the
value it saved read the same. Unknown codes pass through unchanged (free text stays as typed);
empty stays empty (the screens draw "—").
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from patient_portal.domain.history.dto import IMMUNIZATION_ROUTES, IMMUNIZATION_SITES

SEX = {"female": "Female", "male": "Male", "intersex": "Intersex", "unknown": "Unknown"}
CONTACT_METHOD = {"phone": "Phone call", "sms": "Text message", "email": "Email", "mail": "Post"}
ORDER = {"primary": "Primary", "secondary": "Secondary", "tertiary": "Tertiary"}
RELATIONSHIP = {"self": "Self", "spouse": "Spouse", "child": "Child", "other": "Other"}
SEVERITY = {"mild": "Mild", "moderate": "Moderate", "severe": "Severe", "unknown": "Unknown"}
CONDITION_STATUS = {"active": "Active", "resolved": "Resolved", "inactive": "Inactive"}
CODE_SYSTEM = {"ICD-10": "ICD-10", "SNOMED": "SNOMED CT"}
ALLERGY_CATEGORY = {"medication": "Drug", "drug_class": "Drug class", "food": "Food",
                    "environment": "Environment", "other": "Other"}
CRITICALITY = {"low": "Low", "high": "High", "unable-to-assess": "Unable to assess"}
ALLERGY_STATUS = {"active": "Active", "inactive": "Inactive", "resolved": "Resolved"}
VERIFICATION = {"verified": "Verified", "patient-reported": "Reported by patient"}
MEDICATION_STATUS = {"active": "Active", "stopped": "Stopped", "completed": "Completed"}
MEDICATION_ORIGIN = {"prescribed": "Prescribed", "patient-reported": "Reported by patient"}
IMMUNIZATION_SITE = IMMUNIZATION_SITES
IMMUNIZATION_ROUTE = IMMUNIZATION_ROUTES
#: How a route reads in an instruction to the patient ("Take 10 mg by mouth, once daily").
ROUTE_WORDS = {"oral": "by mouth", "inhaled": "inhaled", "inhalation": "inhaled", "topical": "on the skin",
               "nasal": "in the nose", "subcutaneous": "as an injection under the skin",
               "intramuscular": "as an injection into a muscle", "ophthalmic": "in the eye", "otic": "in the ear",
               "sublingual": "under the tongue", "rectal": "rectally", "vaginal": "vaginally",
               "transdermal": "as a patch on the skin"}
RECORD_STATUS = {"active": "Active", "pending_identity_check": "Identity check pending", "merged": "Merged"}
ALERTS = {"advance_directive": "Advance directive on file"}
#: An emergency contact: may the clinic message them in an emergency (the patient's choice).
CONTACT_NOTIFY = {"yes": "Yes, message them", "no": "No, never message them"}
INSURANCE = {"active": "Insured", "not_active": "No active insurance", "self_pay": "Self-pay (no insurance on file)"}

#: Countries a record may carry as a two-letter code; a name typed out stays as typed.
COUNTRIES = {
    "US": "United States", "USA": "United States", "CA": "Canada", "MX": "Mexico", "GB": "United Kingdom",
    "UK": "United Kingdom", "IE": "Ireland", "DE": "Germany", "FR": "France", "ES": "Spain", "PT": "Portugal",
    "IT": "Italy", "NL": "Netherlands", "BR": "Brazil", "CO": "Colombia", "DO": "Dominican Republic",
    "HT": "Haiti", "PR": "Puerto Rico", "CN": "China", "IN": "India", "VN": "Vietnam", "NG": "Nigeria",
    "AU": "Australia", "NZ": "New Zealand", "JP": "Japan", "KR": "South Korea", "PH": "Philippines",
}

#: Which word table each coded field of a row or form uses (the same field name means the same code).
CODED: dict[str, Mapping[str, str]] = {
    "sex": SEX, "preferred_contact_method": CONTACT_METHOD, "order": ORDER, "severity": SEVERITY,
    "status": CONDITION_STATUS, "code_system": CODE_SYSTEM,
}
#: Per-section overrides: an insurance row's relationship is a code; an emergency contact's is free text.
CODED_IN: dict[str, dict[str, Mapping[str, str]]] = {
    "insurance": {"relationship": RELATIONSHIP},
    "emergency": {"notify": CONTACT_NOTIFY},
    "allergies": {"category": ALLERGY_CATEGORY, "criticality": CRITICALITY, "status": ALLERGY_STATUS,
                  "verification": VERIFICATION},
    "medications": {"status": MEDICATION_STATUS, "origin": MEDICATION_ORIGIN, "verification": VERIFICATION},
    "immunizations": {"site": IMMUNIZATION_SITE, "route": IMMUNIZATION_ROUTE},
}
DATE_FIELDS = frozenset({"date_of_birth", "onset", "given_on", "effective_date", "end_date", "start_date",
                         "stop_date"})


def options(table: Mapping[str, str]) -> list[tuple[str, str]]:
    """(code, words) pairs for a select, in the table's order."""
    return list(table.items())


def word(table: Mapping[str, str], code: Any) -> str:
    """The words for `code` in `table`; an unknown code as it is; "" for nothing."""
    text = "" if code is None else str(code).strip()
    return table.get(text, table.get(text.lower(), text))


def sex(code: Any) -> str:
    return word(SEX, code)


def contact_method(code: Any) -> str:
    return word(CONTACT_METHOD, code)


def coverage_order(code: Any) -> str:
    return word(ORDER, code)


def relationship(code: Any) -> str:
    return word(RELATIONSHIP, code)


def day(value: date | datetime | str | None) -> str:
    """ "4 Jul 1988"; "" for nothing; text that is not a date as it is."""
    if value in (None, ""):
        return ""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip()[:10])
        except ValueError:
            return value
    return f"{value.day} {value.strftime('%b %Y')}"


def country(value: Any) -> str:
    text = "" if value is None else str(value).strip()
    return COUNTRIES.get(text.upper(), text)


def address(parts: Mapping[str, Any], prefix: str = "") -> str:
    """One line: "4 Elm St, Apt 2, Boston, MA 02118, United States". `parts` is a stored address
    (line1, line2, city, region, postal_code, country) or, with `prefix` "address_", a form's flat
    values (address_line1, address_line2 and the rest under their own names)."""
    def part(name: str) -> str:
        value = parts.get(prefix + name if name.startswith("line") else name)
        return "" if value is None else str(value).strip()

    region_line = " ".join(p for p in (part("region"), part("postal_code")) if p)
    pieces = [part("line1"), part("line2"), part("city"), region_line, country(part("country"))]
    return ", ".join(p for p in pieces if p)


def field(name: str, value: Any, section: str = "") -> str:
    """One field's value for people, by its name (and section, where the same name differs)."""
    table = CODED_IN.get(section, {}).get(name) or CODED.get(name)
    if table is not None:
        return word(table, value)
    if name in DATE_FIELDS:
        return day(value)
    return "" if value is None else str(value)


def row(values: Mapping[str, Any], section: str = "") -> dict[str, str]:
    """A copy of a history, insurance or emergency row with every value written for people; each
    coded field keeps its code too, as `<name>_code` (badges choose their colour by it)."""
    out: dict[str, str] = {}
    for name, value in values.items():
        out[name] = str(value) if name in ("id", "version") else field(name, value, section)
        if name in CODED or name in CODED_IN.get(section, {}):
            out[f"{name}_code"] = "" if value is None else str(value)
    return out


def rows(values: list[Mapping[str, Any]] | None, section: str = "") -> list[dict[str, str]]:
    out = [row(r, section) for r in values or []]
    if section == "medications":
        for shown, raw in zip(out, values or [], strict=True):
            shown["how_to_take"] = how_to_take(raw)
    return out


def how_to_take(medication: Mapping[str, Any]) -> str:
    """A medication's instructions in plain words: "Take 10 mg by mouth, once daily" ("" when the
    entry says neither dose nor how often)."""
    dose = str(medication.get("dose") or "").strip()
    route = str(medication.get("route") or "").strip()
    often = str(medication.get("frequency") or "").strip()
    if not dose and not often:
        return ""
    words = " ".join(p for p in ("Take", dose, ROUTE_WORDS.get(route.lower(), route)) if p)
    return f"{words}, {often}" if often else words


def basic(values: Mapping[str, Any]) -> dict[str, str]:
    """A person's basic details (a form's flat values) for reading, with `address` on one line."""
    out = {name: field(name, value) for name, value in values.items()}
    out["address"] = address(values, "address_")
    out["legal_name"] = " ".join(p for p in (str(values.get("given_name") or "").strip(),
                                             str(values.get("family_name") or "").strip()) if p)
    return out


def patient(summary: Mapping[str, Any]) -> dict[str, str]:
    """A patient summary (name, birth date, age, sex, MRN, status) for a header or a list."""
    out = {name: "" if value is None else str(value) for name, value in summary.items()}
    if "sex" in out:
        out["sex"] = sex(out["sex"])
    if "status" in out:
        out["status_text"] = word(RECORD_STATUS, out["status"])
    age = out.get("age", "")
    out["age_text"] = "" if age == "" else ("1 year" if age == "1" else f"{age} years")
    return out
