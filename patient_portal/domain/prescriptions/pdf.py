"""A signed prescription as a one-page PDF, drawn with the one PDF writer (``core.pdf``:
Helvetica text lines, no library needed)."""

from __future__ import annotations

from datetime import date, datetime

from patient_portal.core.pdf import pdf


def render(*, clinic: str, clinic_address: str, prescriber: str, licence: str, patient: str, born: date,
           drug: str, sig_words: str, quantity: int, refills: int, substitution: bool, pharmacy_note: str,
           signed_at: datetime, code: str, verify_url: str, status: str) -> bytes:
    """The prescription's PDF bytes (latin-1 text; anything else prints as '?')."""
    lines: list[tuple[int, str | tuple[str, ...]]] = [
        (16, clinic), (10, clinic_address), (10, ""),
        (14, "Prescription"), (10, ""),
        (11, f"Prescriber: {prescriber}"), (11, f"Licence number: {licence or 'not on file'}"),
        (11, f"Patient: {patient}"), (11, f"Date of birth: {born.isoformat()}"),
        (11, f"Date: {signed_at.date().isoformat()}"), (10, ""),
        (13, f"Rx: {drug}"), (11, f"Sig: {sig_words}"),
        (11, f"Quantity: {quantity}"), (11, f"Refills: {refills}"),
        (11, "Substitution allowed" if substitution else "Dispense as written (no substitution)"),
    ]
    if pharmacy_note:
        lines.append((11, f"Note to pharmacy: {pharmacy_note[:200]}"))
    if status != "active":
        lines.append((11, f"Status: {status}"))
    lines += [(10, ""), (12, f"Verification code: {code}"), (10, f"Check it at {verify_url}"),
              (10, ""), (9, f"Signed electronically by {prescriber}.")]
    return pdf(lines)
