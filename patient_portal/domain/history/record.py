"""The printable immunization record: every vaccine on file for one patient, oldest first, as a PDF
drawn with the one PDF writer (``core.pdf``) — the clinic's name and address, the patient's name and
date of birth, each vaccine with its CVX code, the date given, the dose number, lot, site, route and
who gave it, and the day it was printed. No policy here: ``service.immunization_record`` authorizes
and audits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from patient_portal.core.pdf import pdf
from patient_portal.domain.history.dto import IMMUNIZATION_ROUTES, IMMUNIZATION_SITES

#: x (points) of the cells of a vaccine's detail lines; every other line starts at the first.
COLUMNS = (72, 232, 372)


@dataclass(frozen=True)
class Vaccine:
    """One immunization as the record prints it (form strings: ISO date, codes)."""

    vaccine: str
    cvx: str = ""
    given_on: str = ""
    dose_number: str = ""
    lot: str = ""
    site: str = ""
    route: str = ""
    given_by: str = ""

    @classmethod
    def of(cls, values: dict[str, str]) -> Vaccine:
        return cls(**{name: str(values.get(name) or "").strip() for name in cls.__dataclass_fields__})


def day(value: date | str | None) -> str:
    """ "1 Oct 2025"; text that is not a date as it is."""
    if not value:
        return ""
    try:
        parsed = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    return f"{parsed.day} {parsed.strftime('%b %Y')}"


def in_order(vaccines: list[Vaccine]) -> list[Vaccine]:
    """Oldest first (undated last), then by name."""
    return sorted(vaccines, key=lambda v: (v.given_on == "", v.given_on, v.vaccine.casefold()))


def _entry(v: Vaccine) -> list[tuple[int, str | tuple[str, ...]]]:
    name = f"{v.vaccine} (CVX {v.cvx})" if v.cvx else v.vaccine
    given = (f"Given {day(v.given_on)}" if v.given_on else "Date not recorded",
             f"Dose {v.dose_number}" if v.dose_number else "", f"Lot {v.lot}" if v.lot else "")
    how = (f"Site: {IMMUNIZATION_SITES.get(v.site, v.site)}" if v.site else "",
           f"Route: {IMMUNIZATION_ROUTES.get(v.route, v.route)}" if v.route else "",
           f"Given by: {v.given_by[:40]}" if v.given_by else "")
    lines: list[tuple[int, str | tuple[str, ...]]] = [(11, name[:90]), (10, given)]
    if any(how):
        lines.append((10, how))
    return lines + [(6, "")]


def render(*, clinic: str, clinic_address: str, patient: str, born: date | None, vaccines: list[Vaccine],
           printed: date) -> bytes:
    """The record's PDF bytes (as many pages as the vaccines need)."""
    lines: list[tuple[int, str | tuple[str, ...]]] = [
        (16, clinic), (10, clinic_address), (10, ""),
        (14, "Immunization record"), (10, ""),
        (11, f"Patient: {patient}"), (11, f"Date of birth: {day(born) or 'not recorded'}"),
        (11, f"Printed: {day(printed)}"), (10, ""),
    ]
    shown = in_order(vaccines)
    for v in shown:
        lines += _entry(v)
    if not shown:
        lines.append((11, "No immunizations are on file."))
    lines += [(10, ""), (9, f"{len(shown)} vaccination{'s' if len(shown) != 1 else ''} on file at {clinic} "
                            f"on {day(printed)}. Codes are CDC CVX codes."),
              (9, "Ask the clinic if a vaccination you had is missing.")]
    return pdf(lines, columns=COLUMNS)
