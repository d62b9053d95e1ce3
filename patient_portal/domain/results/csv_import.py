"""The CSV file a lab sends: reading it (size, encoding, columns) before any row is checked.

Columns (a header row first; names are case-insensitive, extra columns are ignored):

=================  ========  ==========================================================================
column             required  what
=================  ========  ==========================================================================
patient_mrn        yes       the patient's MRN in the portal (such as 100-004-217)
panel              no        the report's name ("Lipid panel"); rows of one patient, panel, specimen
                             date and lab make one report (empty: "Results from <lab>")
loinc              yes       the test's LOINC code (4548-4)
test_name          no*       the test's name (*required when the code is not in the portal's list)
value              yes       a number (5.8; a decimal comma is read) or words (Negative)
unit               no        UCUM unit (mg/dL); empty: the usual unit of a listed test
reference_range    no        3.5-5.1, <200, >40, or words (Negative)
flag               no        L, H, N, A (abnormal), or empty to compute it from a numeric range
specimen_date      yes       YYYY-MM-DD (or MM/DD/YYYY), not in the future
performing_lab     yes       the lab's name
=================  ========  ==========================================================================

Limits: 1 MB, 5,000 rows, UTF-8 text (a byte-order mark is fine). A file over the limits, with a
missing column, or with any bad row is refused whole, naming the lines (``ImportInvalid``).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from patient_portal.core.errors import Invalid

MAX_BYTES = 1_000_000
MAX_ROWS = 5000
MAX_LINES_SHOWN = 20
COLUMNS = ("patient_mrn", "panel", "loinc", "test_name", "value", "unit", "reference_range", "flag",
           "specimen_date", "performing_lab")
REQUIRED = ("patient_mrn", "loinc", "value", "specimen_date", "performing_lab")
#: The service's field names -> the file's column names (for messages).
_COLUMN_OF = {"loinc": "loinc", "name": "test_name", "value": "value", "unit": "unit", "flag": "flag",
              "specimen_date": "specimen_date", "performing_lab": "performing_lab", "panel": "panel"}


class ImportInvalid(Invalid):
    """The file is refused; `lines` are (line number, message) pairs, line 1 being the header."""

    def __init__(self, lines: list[tuple[int, str]], message: str | None = None):
        shown = lines[:MAX_LINES_SHOWN]
        more = len(lines) - len(shown)
        text = message or "; ".join(f"Line {n}: {m}" for n, m in shown) + (f"; and {more} more" if more > 0 else "")
        super().__init__(f"Nothing was imported. {text}", errors={"file": f"Nothing was imported. {text}"})
        self.lines = lines


@dataclass(frozen=True)
class Row:
    line: int
    mrn: str
    panel: str
    loinc: str
    name: str
    value: str
    unit: str
    range: str
    flag: str
    specimen_date: str
    lab: str


def column_of(field: str) -> str:
    return _COLUMN_OF.get(field, field)


def read(data: Any) -> list[Row]:
    """The file's rows (text checked, header checked); ImportInvalid for a file that is not one."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if not isinstance(data, (bytes, bytearray)) or not data.strip():
        raise ImportInvalid([], "The file is empty.")
    if len(data) > MAX_BYTES:
        raise ImportInvalid([], "The file is larger than 1 MB: split it.")
    if b"\0" in data:
        raise ImportInvalid([], "This is not a CSV text file.")
    try:
        text = bytes(data).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportInvalid([], "The file is not UTF-8 text: save it as CSV UTF-8.") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except (StopIteration, csv.Error):
        raise ImportInvalid([], "The file has no header row.") from None
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ImportInvalid([(1, "missing column " + ", ".join(missing))])
    at = {name: header.index(name) for name in COLUMNS if name in header}
    rows: list[Row] = []
    errors: list[tuple[int, str]] = []
    try:
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(rows) >= MAX_ROWS:
                raise ImportInvalid([], f"The file has more than {MAX_ROWS} rows: split it.")
            if len(cells) < len(header):
                errors.append((line, f"{len(cells)} columns where the header has {len(header)}."))
                continue
            get = {name: cells[i].strip() for name, i in at.items()}
            if not get["patient_mrn"]:
                errors.append((line, "patient_mrn is missing."))
                continue
            rows.append(Row(line=line, mrn=get["patient_mrn"][:40], panel=get.get("panel", ""), loinc=get["loinc"],
                            name=get.get("test_name", ""), value=get["value"], unit=get.get("unit", ""),
                            range=get.get("reference_range", ""), flag=get.get("flag", ""),
                            specimen_date=get["specimen_date"], lab=get["performing_lab"]))
    except csv.Error as exc:
        errors.append((reader.line_num, f"the line cannot be read as CSV ({exc})."))
    if errors:
        raise ImportInvalid(errors)
    if not rows:
        raise ImportInvalid([], "The file has a header but no results.")
    return rows
