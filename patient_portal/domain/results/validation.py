"""Checking one result as typed or as a lab's CSV row gives it: LOINC code, value (a number or
words), unit, reference range (low/high, "<200", ">40", "3.5-5.1", or words such as "Negative"),
the abnormal flag (given, or computed from a numeric range) and the specimen date. Messages name the
field and say what to type; nothing here touches the database but the code-table lookup."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlmodel import Session

from patient_portal.domain.codes import service as codes
from patient_portal.domain.results.models import Flag

LOINC_CODE = re.compile(r"^\d{1,7}-\d$")
MAX_TEXT = 200
MAX_VALUE = 120
MAX_COMMENT = 2000
_NUMBER = r"[-+]?\d+(?:[.,]\d+)?"
_RANGE = re.compile(rf"^\s*({_NUMBER})\s*(?:-|–|to)\s*({_NUMBER})\s*$", re.IGNORECASE)
_BELOW = re.compile(rf"^\s*(?:<|<=|≤|below|under)\s*({_NUMBER})\s*$", re.IGNORECASE)
_ABOVE = re.compile(rf"^\s*(?:>|>=|≥|above|over)\s*({_NUMBER})\s*$", re.IGNORECASE)
_FLAGS = {"": None, "l": Flag.LOW, "low": Flag.LOW, "ll": Flag.LOW, "h": Flag.HIGH, "high": Flag.HIGH,
          "hh": Flag.HIGH, "n": Flag.NORMAL, "normal": Flag.NORMAL, "a": Flag.ABNORMAL, "abnormal": Flag.ABNORMAL}


@dataclass(frozen=True)
class Range:
    low: Decimal | None = None
    high: Decimal | None = None
    text: str | None = None

    @property
    def numeric(self) -> bool:
        return self.low is not None or self.high is not None


@dataclass(frozen=True)
class Checked:
    """One result, ready to save."""

    loinc: str
    name: str
    value: str
    numeric: bool
    unit: str
    range: Range
    flag: Flag
    flag_given: bool


def number(text: str) -> Decimal | None:
    """A decimal from what was typed ("5,8" reads as 5.8), or None when it is not a plain number."""
    text = (text or "").strip().replace(",", ".")
    if not re.fullmatch(r"[-+]?\d+(?:\.\d+)?", text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def parse_range(text: Any) -> Range:
    """"70-99", "<200", ">40" -> low/high; anything else non-empty is a text range ("Negative")."""
    text = str(text or "").strip()
    if not text:
        return Range()
    if m := _RANGE.match(text):
        return Range(number(m.group(1)), number(m.group(2)))
    if m := _BELOW.match(text):
        return Range(high=number(m.group(1)))
    if m := _ABOVE.match(text):
        return Range(low=number(m.group(1)))
    return Range(text=text[:MAX_TEXT])


def range_from(low: Any, high: Any, text: Any, errors: dict[str, str]) -> Range:
    """The form's three range fields (low, high, or words)."""
    lo_text, hi_text, words = (str(v or "").strip() for v in (low, high, text))
    lo, hi = number(lo_text), number(hi_text)
    if lo_text and lo is None:
        errors["range_low"] = "Type the lower limit as a number, or leave it empty."
    if hi_text and hi is None:
        errors["range_high"] = "Type the upper limit as a number, or leave it empty."
    if lo is not None and hi is not None and hi < lo:
        errors["range_high"] = "The upper limit is below the lower limit."
    if len(words) > MAX_TEXT:
        errors["range_text"] = f"Use at most {MAX_TEXT} characters."
    return Range(lo, hi, words or None)


def compute_flag(value: Decimal | None, rng: Range) -> Flag:
    """L below the low limit, H above the high limit, N inside (or with no numeric range to compare)."""
    if value is None or not rng.numeric:
        return Flag.NORMAL
    if rng.low is not None and value < rng.low:
        return Flag.LOW
    if rng.high is not None and value > rng.high:
        return Flag.HIGH
    return Flag.NORMAL


def check(session: Session, *, loinc: Any, name: Any, value: Any, unit: Any, rng: Range, flag: Any,
          errors: dict[str, str], prefix: str = "") -> Checked | None:
    """One result; messages go into `errors` under `prefix`+field. None when anything is wrong."""
    before = len(errors)
    code = str(loinc or "").strip()
    test = None
    if not LOINC_CODE.match(code):
        errors[prefix + "loinc"] = "Choose a test, or type its LOINC code (such as 4548-4)."
    else:
        test = codes.lab_test(session, code)
    given_name = str(name or "").strip()
    if len(given_name) > MAX_TEXT:
        errors[prefix + "name"] = f"Use at most {MAX_TEXT} characters."
    shown_name = given_name or (test.coding.display if test else "")
    if code and not shown_name and prefix + "loinc" not in errors:
        errors[prefix + "name"] = "This code is not in the portal's list of tests: type the test's name."
    text = str(value if value is not None else "").strip()
    amount = number(text)
    if not text:
        errors[prefix + "value"] = "Type the result."
    elif len(text) > MAX_VALUE:
        errors[prefix + "value"] = f"Use at most {MAX_VALUE} characters."
    unit_text = str(unit or "").strip() or ((test.unit or "") if test else "")
    if len(unit_text) > 24:
        errors[prefix + "unit"] = "Use at most 24 characters."
    flag_text = str(flag or "").strip().lower()
    if flag_text not in _FLAGS:
        errors[prefix + "flag"] = "The flag is L (low), H (high), N (normal), A (abnormal) or empty."
    if len(errors) > before:
        return None
    given = _FLAGS[flag_text]
    computed = compute_flag(amount, rng)
    if given is None and amount is None and rng.text:
        # a text result against a text range: "Negative" where "Negative" is usual is normal
        computed = Flag.NORMAL if text.casefold() == rng.text.casefold() else Flag.ABNORMAL
    return Checked(loinc=code, name=shown_name, value=str(amount) if amount is not None else text,
                   numeric=amount is not None, unit=unit_text, range=rng, flag=given or computed,
                   flag_given=given is not None)


def specimen_date(value: Any, errors: dict[str, str], today: date, field: str = "specimen_date") -> date | None:
    """A real date, not in the future (a lab sends ISO 2026-03-02; 03/02/2026 reads month first)."""
    text = str(value or "").strip()
    if not text:
        errors[field] = "Enter the date the specimen was taken."
        return None
    found = None
    for fmt in ("%Y-%m-%d", "%m/%d/%Y"):
        try:
            found = datetime.strptime(text[:10], fmt).date()
            break
        except ValueError:
            continue
    if found is None:
        errors[field] = "Enter a real date (YYYY-MM-DD)."
    elif found > today:
        errors[field] = "The specimen date cannot be in the future."
    elif found.year < 1900:
        errors[field] = "Enter a real date (YYYY-MM-DD)."
    return found if field not in errors else None


def short_text(value: Any, field: str, errors: dict[str, str], *, required: str | None = None,
               limit: int = MAX_TEXT) -> str:
    text = str(value or "").strip()
    if not text and required:
        errors[field] = required
    elif len(text) > limit:
        errors[field] = f"Use at most {limit} characters."
    return text
