"""Billing PDFs from templates, drawn with the documents area's PDF writer (``documents.demo.pdf``,
built on ``assemble_pdf``, as the prescriptions area does): the appeal letter and the statement."""

from __future__ import annotations

from datetime import date

from patient_portal.domain.billing.validation import money_text
from patient_portal.domain.documents.demo import pdf

#: The appeal letter's template: {placeholders} filled from the claim; the note is the clinic's own.
APPEAL_TEMPLATE = (
    "We ask you to reconsider your decision on the claim below (appeal level {level}).",
    "The services were provided as billed and were medically necessary.",
)


def _wrap(text: str, width: int = 90) -> list[str]:
    out: list[str] = []
    for paragraph in (text or "").splitlines() or [""]:
        words, line = paragraph.split(), ""
        for word in words:
            if len(line) + len(word) + 1 > width:
                out.append(line)
                line = word
            else:
                line = f"{line} {word}".strip()
        out.append(line)
    return out


def appeal_letter(*, clinic: str, clinic_address: str, billing_npi: str, payer: str, payer_address: str,
                  today: date, patient: str, born: date, member_id: str, claim_number: str,
                  payer_claim_number: str, service_from: date, level: int, deadline: date,
                  lines: list[tuple[str, str, int, str]], note: str, attachments: list[str]) -> bytes:
    """The letter's PDF; `lines`: (code, description, charge cents, reasons) of the appealed lines."""
    rows: list[tuple[int, str | tuple[str, ...]]] = [
        (16, clinic), (10, clinic_address), (10, f"NPI {billing_npi}"), (10, ""),
        (11, today.isoformat()), (11, payer), (10, payer_address), (10, ""),
        (14, f"Appeal of claim {claim_number}"), (10, ""),
        (11, f"Patient: {patient}    Date of birth: {born.isoformat()}"),
        (11, f"Member id: {member_id}"),
        (11, f"Claim: {claim_number}    Payer claim number: {payer_claim_number or 'not given'}"),
        (11, f"Date of service: {service_from.isoformat()}    Appeal deadline: {deadline.isoformat()}"), (10, ""),
    ]
    rows += [(11, t.format(level=level)) for t in APPEAL_TEMPLATE]
    rows.append((10, ""))
    rows.append((10, ("Code", "Service", "Charge", "Payer's reason")))
    rows += [(10, (code, desc[:30], money_text(cents), reason[:28])) for code, desc, cents, reason in lines]
    rows.append((10, ""))
    if note:
        rows.append((11, "Note:"))
        rows += [(10, line) for line in _wrap(note)[:14]]
    if attachments:
        rows.append((10, ""))
        rows.append((11, f"Attached: {len(attachments)} document(s): " + ", ".join(a[:30] for a in attachments[:4])))
    rows += [(10, ""), (11, "Sincerely,"), (11, f"Billing office, {clinic}")]
    return pdf(rows)


def statement(*, clinic: str, clinic_address: str, patient: str, today: date,
              lines: list[tuple[str, str, int, int, int, int]], balance_cents: int, pending_cents: int) -> bytes:
    """The patient's statement PDF; `lines`: (date, service, charge, insurance paid, adjustments, owed)."""
    rows: list[tuple[int, str | tuple[str, ...]]] = [
        (16, clinic), (10, clinic_address), (10, ""), (14, "Statement"), (11, f"For: {patient}"),
        (11, f"Date: {today.isoformat()}"), (10, ""),
        (10, ("Date / service", "Charge", "Insurance paid", "You owe")),
    ]
    for day, service, charge, paid, adjusted, owed in lines[:30]:
        rows.append((10, (f"{day} {service}"[:38], money_text(charge), money_text(paid + adjusted), money_text(owed))))
    rows += [(10, ""), (13, f"Amount due: {money_text(balance_cents)}")]
    if pending_cents:
        rows.append((10, f"Waiting for your insurance: {money_text(pending_cents)}"))
    rows += [(10, ""), (10, "Pay online in your portal under Billing, or call the front desk.")]
    return pdf(rows)
