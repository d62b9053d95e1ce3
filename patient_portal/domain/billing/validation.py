"""Checks of billing input, pure (no database): each answers a message a person can act on, or "".

* **NPI**: ten digits whose last is a Luhn check digit computed over "80840" + the first nine (the
  card-issuer prefix the NPI standard borrows from ISO 7812).
* **Taxonomy**: the ten-character Health Care Provider Taxonomy code (``207Q00000X``).
* **Member id**: what payers print on cards: 2-80 letters, digits and hyphens (no X12 delimiter).
* **Codes**: a procedure code is CPT (five digits, or four and F/T/U) or HCPCS level II (a letter
  and four digits); a modifier two letters or digits, at most four; the place of service two digits;
  an ICD-10-CM code a letter, two characters and up to four more after the dot.
* **Pointers**: each line points at 1-4 of the claim's diagnoses, by position (1-12).
* **Dates**: a service date is not in the future; a claim must reach the payer within the payer's
  timely-filing days of the date of service.
* **Money**: amounts are typed as "12.50" or "$1,200" and held as integer cents.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

NPI_PREFIX = "80840"
MAX_DIAGNOSES = 12  # the HI segments of an 837P carry 12
MAX_POINTERS = 4
MAX_MODIFIERS = 4
_TAXONOMY = re.compile(r"^[0-9]{3}[0-9A-Z]{6}X$")
_MEMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{1,79}$")
_PROCEDURE = re.compile(r"^(?:[0-9]{4}[0-9FTU]|[A-V][0-9]{4})$")
_MODIFIER = re.compile(r"^[0-9A-Z]{2}$")
_POS = re.compile(r"^[0-9]{2}$")
_ICD10 = re.compile(r"^[A-TV-Z][0-9][0-9A-Z](?:\.?[0-9A-Z]{1,4})?$")
_MONEY = re.compile(r"^\$?\s*([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.([0-9]{1,2}))?$")
MAX_CENTS = 10_000_000_00  # ten million dollars: anything above is a typing mistake


def luhn_digit(digits: str) -> int:
    """The Luhn check digit for `digits` (the digit that would follow them)."""
    total = 0
    for n, ch in enumerate(reversed(digits)):
        d = int(ch)
        if n % 2 == 0:  # doubled: every second digit from the right, starting next to the check digit
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return (10 - total % 10) % 10


def luhn_ok(number: str) -> bool:
    return number.isdigit() and len(number) >= 2 and luhn_digit(number[:-1]) == int(number[-1])


def npi_problem(value: Any) -> str:
    npi = str(value or "").strip()
    if not npi:
        return "Enter the NPI."
    if not re.fullmatch(r"[0-9]{10}", npi):
        return "An NPI is ten digits."
    if luhn_digit(NPI_PREFIX + npi[:9]) != int(npi[9]):
        return "This NPI fails its check digit: check for a mistyped digit."
    return ""


def taxonomy_problem(value: Any) -> str:
    text = str(value or "").strip().upper()
    if not text:
        return "Enter the taxonomy code."
    return "" if _TAXONOMY.match(text) else "A taxonomy code is ten characters ending in X, like 207Q00000X."


def member_id_problem(value: Any) -> str:
    text = str(value or "").strip()
    if not text:
        return "Enter the member id from the insurance card."
    return "" if _MEMBER.match(text) else "A member id is 2-80 letters, digits or hyphens, as printed on the card."


def procedure_problem(value: Any) -> str:
    text = str(value or "").strip().upper()
    if not text:
        return "Enter the procedure code."
    return "" if _PROCEDURE.match(text) else "A procedure code is five characters, like 99213 or G0438."


def modifiers(value: Any, errors: dict[str, str], field: str = "modifiers") -> list[str]:
    """Modifiers from a list or "25, 59"; at most four of two characters."""
    raw = value if isinstance(value, list | tuple) else re.split(r"[\s,]+", str(value or ""))
    out = [str(m).strip().upper() for m in raw if str(m).strip()]
    if len(out) > MAX_MODIFIERS:
        errors[field] = "A line takes at most four modifiers."
    elif any(not _MODIFIER.match(m) for m in out):
        errors[field] = "A modifier is two letters or digits, like 25."
    return out[:MAX_MODIFIERS]


def place_of_service_problem(value: Any) -> str:
    return "" if _POS.match(str(value or "").strip()) else "The place of service is a two-digit code, like 11 (office)."


def icd10_problem(value: Any) -> str:
    text = str(value or "").strip().upper()
    return "" if _ICD10.match(text) else "An ICD-10-CM code looks like E11.9."


def icd10_x12(code: str) -> str:
    """An ICD-10-CM code as X12 carries it: no dot."""
    return code.replace(".", "").strip().upper()


def units(value: Any, errors: dict[str, str], field: str = "units") -> int:
    try:
        n = int(str(value).strip())
    except (TypeError, ValueError):
        errors[field] = "Units are a whole number, like 1."
        return 1
    if not 1 <= n <= 999:
        errors[field] = "Units are between 1 and 999."
    return n


def pointers_problem(pointers: Any, diagnosis_count: int) -> str:
    """A line's diagnosis pointers: 1-4 distinct positions into the claim's diagnoses."""
    if diagnosis_count == 0:
        return "Add a diagnosis first: every line points at the diagnosis it treats."
    if not isinstance(pointers, list | tuple) or not pointers:
        return "Point this line at the diagnosis it treats."
    if len(pointers) > MAX_POINTERS:
        return "A line points at four diagnoses at most."
    try:
        numbers = [int(p) for p in pointers]
    except (TypeError, ValueError):
        return "Diagnosis pointers are numbers, like 1."
    if len(set(numbers)) != len(numbers):
        return "A line points at each diagnosis once."
    if any(not 1 <= n <= diagnosis_count for n in numbers):
        return f"This line points at a diagnosis the claim does not have (it has {diagnosis_count})."
    return ""


def service_date(value: Any, errors: dict[str, str], *, today: date, field: str = "service_date") -> date | None:
    if isinstance(value, date):
        when = value
    else:
        try:
            when = date.fromisoformat(str(value or "").strip())
        except ValueError:
            errors[field] = "Enter the date of service, like 2026-03-03."
            return None
    if when > today:
        errors[field] = "The date of service cannot be in the future."
    elif when.year < 1900:
        errors[field] = "Check the year of the date of service."
    return when


def filing_deadline(service: date, timely_filing_days: int) -> date:
    return service + timedelta(days=timely_filing_days)


def timely_filing_problem(service: date, timely_filing_days: int, today: date) -> str:
    deadline = filing_deadline(service, timely_filing_days)
    if today > deadline:
        return (f"Too late to file: this payer accepts claims up to {timely_filing_days} days after the "
                f"date of service (deadline {deadline.isoformat()}).")
    return ""


def cents(value: Any, errors: dict[str, str], field: str, *, allow_zero: bool = False) -> int:
    """Integer cents from what a person types: "12.50", "$1,200" (an int is whole dollars)."""
    if isinstance(value, bool):
        errors[field] = "Enter an amount, like 12.50."
        return 0
    if isinstance(value, int):
        amount = value * 100
    else:
        m = _MONEY.match(str(value or "").strip())
        if not m:
            errors[field] = "Enter an amount, like 12.50."
            return 0
        whole = int(m.group(1).replace(",", ""))
        frac = (m.group(2) or "").ljust(2, "0")
        amount = whole * 100 + int(frac or 0)
    if amount > MAX_CENTS:
        errors[field] = "That amount is too large: check it."
    elif amount == 0 and not allow_zero:
        errors[field] = "Enter an amount above zero."
    return amount


def basis_points(value: Any, errors: dict[str, str], field: str) -> int:
    """A percentage ("20", "20 %", "12.5") as basis points (2000)."""
    text = str(value if value is not None else "").strip().rstrip("%").strip() or "0"
    try:
        pct = round(float(text) * 100)
    except ValueError:
        errors[field] = "Enter a percentage, like 20."
        return 0
    if not 0 <= pct <= 10000:
        errors[field] = "A percentage is between 0 and 100."
    return pct


def money_text(amount_cents: int) -> str:
    """ "$1,234.50" (negative: "-$12.00")."""
    sign = "-" if amount_cents < 0 else ""
    whole, frac = divmod(abs(int(amount_cents)), 100)
    return f"{sign}${whole:,}.{frac:02d}"
