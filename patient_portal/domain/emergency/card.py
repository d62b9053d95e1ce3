"""The printable emergency card: what someone helping the patient in an emergency must know — code
status, advance directives (with the healthcare agent and how to reach them), special instructions,
allergies, the emergency contacts, and the clinic's phone — drawn with the one PDF writer
(``core.pdf``). No policy here: ``service.emergency_card`` authorizes, chooses what the role may
print and audits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from patient_portal.core.pdf import pdf
from patient_portal.domain.history.record import day

COLUMNS = (72, 260, 400)


@dataclass(frozen=True)
class CardDirective:
    label: str
    signed: date | None = None
    agent: str = ""  # "Luis Garcia (Spouse), +1 617 555 0187"
    document: str = ""


@dataclass(frozen=True)
class CardContact:
    name: str
    relationship: str
    phone: str
    order: str


def render(*, clinic: str, clinic_address: str, clinic_phone: str, patient: str, born: date | None,
           code_status: str, directives: list[CardDirective], instructions: list[str],
           allergies: list[str] | None, contacts: list[CardContact], printed: date) -> bytes:
    """The card's PDF bytes; `allergies` None leaves the allergy section out (a role that does not
    read clinical data printed it)."""
    lines: list[tuple[int, str | tuple[str, ...]]] = [
        (18, "EMERGENCY CARD"), (12, patient), (10, f"Date of birth: {day(born) or 'not recorded'}"), (8, ""),
        (11, f"Clinic: {clinic}, {clinic_phone}"), (9, clinic_address), (10, ""),
        (12, "Code status"), (11, code_status or "Not recorded"), (8, ""),
        (12, "Advance directives (LOINC 42348-3)"),
    ]
    for d in directives:
        lines.append((11, (d.label, f"Signed {day(d.signed)}" if d.signed else "Date not recorded")))
        if d.agent:
            lines.append((10, f"Healthcare agent: {d.agent}"[:100]))
        if d.document:
            lines.append((9, f"Signed copy on file at the clinic: {d.document}"[:100]))
    if not directives:
        lines.append((11, "None on file"))
    lines += [(8, ""), (12, "Special instructions")]
    lines += [(11, f"- {text}"[:100]) for text in instructions] or [(11, "None")]
    if allergies is not None:
        lines += [(8, ""), (12, "Allergies")]
        lines += [(11, ", ".join(allergies)[:100])] if allergies else [(11, "No allergies on file")]
    lines += [(8, ""), (12, "Emergency contacts")]
    for c in contacts:
        lines.append((11, (f"{c.name} ({c.relationship})"[:34], c.phone, c.order)))
    if not contacts:
        lines.append((11, "None on file"))
    lines += [(10, ""), (9, f"Printed {day(printed)} from {clinic}'s patient portal. Keep it with your ID; "
                            "ask the clinic to update anything that changed.")]
    return pdf(lines, bold_first=2, columns=COLUMNS)
