"""The clearinghouse interface, and its one implementation: a simulated payer.

A clearinghouse carries four exchanges: an eligibility check (270 out, 271 back), a claim file
(837P out, an acknowledgement back: 277CA categories A1/A2 accepted, A3 rejected), a claim's status
(276/277: A*, P* pending, F1 paid, F2 denied) and remittances (835 files to fetch). Every method
takes the caller's unit of work, for implementations that keep their mailbox in the database (the
simulated payer does: its 835s wait in ``billing_clearinghouse_file``); a real clearinghouse plugs
in behind the same methods (``register``) and is chosen by the payer's ``clearinghouse`` setting.

**The simulated payer's rules** (deterministic, so every path can be tested and demonstrated):

* **Member ids starting ``INA``** are inactive: eligibility answers inactive, and a claim is rejected
  at acknowledgement (A3, status 109 "entity not eligible"); nothing is paid.
* **Member ids starting ``PA``** need prior authorization for imaging and surgery (procedure codes
  10000-69999 and 70000-79999): such a line on a claim without a prior-authorization number
  (``REF*G1``) is denied with CO-197 (precertification absent) and remark M62.
* **Member ids starting ``DN``** have no cover for preventive counselling codes (99401-99404,
  G0447): those lines are denied with CO-96 (non-covered charge) and remark N130.
* **Every other line is paid**: the allowed amount is 80 % of the charge (the rest is a CO-45
  contractual write-off); the patient owes 20 % of the allowed amount as coinsurance (PR-2); the
  payer pays the rest. Amounts round half up to the cent.
* **Appeals are paid**: an appealed line is adjudicated again by the last rule.
* **Secondary claims** (SBR01 ``S``, coordination of benefits) are paid on what the primary payer
  left to the patient: on each line, the balance is the primary's PR adjustments (from loop 2430);
  the secondary pays 80 % of it and the patient owes the other 20 % (PR-2), rounded half up; the rest
  of the charge (what the primary paid and wrote off) is OA-23, the prior payer's adjudication. A
  line without the primary's decision (no 2430) is denied CO-22 (another payer may cover it) with
  remark MA04 (secondary payment cannot be considered without the primary's payment information).
  Member-id rules (``INA`` rejected) apply as to any claim. Its 835 claim status is 2 (processed as
  secondary).
* **Eligibility** of an active member: plan "Simulated PPO", copay $25, deductible $1,500 of which
  $500 is met, out-of-pocket maximum $5,000 of which $1,000 is met; a ``PA`` member's answer notes
  that imaging needs prior authorization, a ``DN`` member's that counselling is not covered.
* The payer answers each submitted claim with one 835 (its own trace number) that waits to be
  fetched; an appeal's answer is another 835.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from sqlmodel import Session, select

from patient_portal.core.db import utcnow
from patient_portal.domain.billing import x12
from patient_portal.domain.billing.models import ClearinghouseFile

SIMULATED = "simulated"
PAYER_ACTOR = "Simulated payer"


@dataclass(frozen=True)
class EligibilityAnswer:
    active: bool
    plan: str = ""
    copay_cents: int | None = None
    deductible_remaining_cents: int | None = None
    oop_remaining_cents: int | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Acknowledgement:
    """A claim's acknowledgement: category A1/A2 accepted, A3 rejected, with a status code."""

    claim_number: str
    category: str
    status_code: str = ""
    payer_claim_number: str = ""

    @property
    def accepted(self) -> bool:
        return self.category in ("A1", "A2")


@dataclass(frozen=True)
class StatusAnswer:
    category: str  # A2 accepted, P1 pending, F1 paid, F2 denied, A3 rejected, "" unknown
    paid_cents: int = 0


@dataclass
class InboundFile:
    id: str
    kind: str  # "835"
    content: str


class Clearinghouse(Protocol):
    name: str

    def eligibility(self, session: Session, *, payer_code: str, member_id: str, on: date) -> EligibilityAnswer: ...

    def submit(self, session: Session, file_text: str) -> list[Acknowledgement]: ...

    def status(self, session: Session, *, claim_number: str) -> StatusAnswer: ...

    def appeal(self, session: Session, *, claim_number: str, payer_claim_number: str,
               lines: list[x12.SubmittedLine], patient_name: tuple[str, str], payer_code: str, payer_name: str,
               billing_name: str, billing_npi: str) -> None: ...

    def fetch(self, session: Session) -> list[InboundFile]: ...

    def mark_read(self, session: Session, file_id: str) -> None: ...


# ---------------------------------------------------------------- the simulated payer

PRIOR_AUTH_RANGES = ((10000, 69999), (70000, 79999))
NONCOVERED = frozenset({"99401", "99402", "99403", "99404", "G0447"})
ALLOWED_BP = 8000  # allowed = 80 % of the charge
COINSURANCE_BP = 2000  # the patient pays 20 % of the allowed amount


def _share(cents: int, bp: int) -> int:
    """cents x bp / 10000, rounded half up (integers only)."""
    return (cents * bp + 5000) // 10000


def _needs_prior_auth(code: str) -> bool:
    return code.isdigit() and any(lo <= int(code) <= hi for lo, hi in PRIOR_AUTH_RANGES)


def adjudicate_line(line: x12.SubmittedLine, *, member_id: str, prior_auth: str, appeal: bool) -> x12.RemitLine:
    """The simulated payer's decision on one line (module docstring)."""
    out = x12.RemitLine(code=line.code, modifiers=list(line.modifiers), charge_cents=line.charge_cents,
                        paid_cents=0, units=line.units, control=line.control)
    member = member_id.upper()
    if not appeal and member.startswith("PA") and _needs_prior_auth(line.code) and not prior_auth:
        out.adjustments.append(x12.Adjustment("CO", "197", line.charge_cents))
        out.remarks.append("M62")
        return out
    if not appeal and member.startswith("DN") and line.code in NONCOVERED:
        out.adjustments.append(x12.Adjustment("CO", "96", line.charge_cents))
        out.remarks.append("N130")
        return out
    allowed = _share(line.charge_cents, ALLOWED_BP)
    patient = _share(allowed, COINSURANCE_BP)
    if line.charge_cents - allowed:
        out.adjustments.append(x12.Adjustment("CO", "45", line.charge_cents - allowed))
    if patient:
        out.adjustments.append(x12.Adjustment("PR", "2", patient))
    out.paid_cents = allowed - patient
    return out


SECONDARY_BP = 8000  # a secondary payer pays 80 % of the balance the primary left


def adjudicate_secondary_line(line: x12.SubmittedLine) -> x12.RemitLine:
    """The simulated payer's decision on one line of a secondary claim (module docstring)."""
    out = x12.RemitLine(code=line.code, modifiers=list(line.modifiers), charge_cents=line.charge_cents,
                        paid_cents=0, units=line.units, control=line.control)
    if line.prior_paid_cents is None:
        out.adjustments.append(x12.Adjustment("CO", "22", line.charge_cents))
        out.remarks.append("MA04")
        return out
    balance = max(0, min(line.left_to_patient_cents, line.charge_cents))
    paid = _share(balance, SECONDARY_BP)
    if line.charge_cents - balance:
        out.adjustments.append(x12.Adjustment("OA", "23", line.charge_cents - balance))
    if balance - paid:
        out.adjustments.append(x12.Adjustment("PR", "2", balance - paid))
    out.paid_cents = paid
    return out


def _claim_payment(claim_number: str, payer_claim_number: str, lines: list[x12.RemitLine],
                   patient_name: tuple[str, str], sequence: str = "primary") -> x12.RemitClaimDoc:
    paid = sum(ln.paid_cents for ln in lines)
    patient = sum(a.cents for ln in lines for a in ln.adjustments if a.group == "PR")
    processed = "2" if sequence == "secondary" else "1"
    return x12.RemitClaimDoc(control_number=claim_number, status_code=processed if paid or patient else "4",
                             charge_cents=sum(ln.charge_cents for ln in lines), paid_cents=paid,
                             patient_cents=patient, payer_claim_number=payer_claim_number, lines=lines,
                             patient_name=patient_name)


def _payer_claim_number(claim_number: str, frequency: str = "1") -> str:
    return "SIM" + hashlib.sha256(f"{claim_number}:{frequency}".encode()).hexdigest()[:12].upper()


@dataclass
class SimulatedPayer:
    """The built-in payer (module docstring). Stateless but for its mailbox rows."""

    name: str = SIMULATED
    _counter: list[int] = field(default_factory=lambda: [0])

    def eligibility(self, session: Session, *, payer_code: str, member_id: str, on: date) -> EligibilityAnswer:
        member = member_id.strip().upper()
        if member.startswith("INA"):
            return EligibilityAnswer(active=False, notes=("coverage_inactive",))
        notes = ("prior_auth_imaging",) if member.startswith("PA") else (
            ("noncovered_counselling",) if member.startswith("DN") else ())
        return EligibilityAnswer(active=True, plan="Simulated PPO", copay_cents=2500,
                                 deductible_remaining_cents=100000, oop_remaining_cents=400000, notes=notes)

    def submit(self, session: Session, file_text: str) -> list[Acknowledgement]:
        submission = x12.read_837p(file_text)
        acks: list[Acknowledgement] = []
        payments: dict[tuple[str, str], list[x12.RemitClaimDoc]] = {}
        for claim in submission.claims:
            if claim.member_id.upper().startswith("INA"):
                acks.append(Acknowledgement(claim.claim_number, "A3", "109"))
                continue
            pcn = _payer_claim_number(claim.claim_number, claim.frequency)
            acks.append(Acknowledgement(claim.claim_number, "A2", "20", pcn))
            if claim.sequence == "secondary":
                lines = [adjudicate_secondary_line(ln) for ln in claim.lines]
            else:
                lines = [adjudicate_line(ln, member_id=claim.member_id, prior_auth=claim.prior_authorization,
                                         appeal=False) for ln in claim.lines]
            payments.setdefault((claim.payer_code, claim.payer_name), []).append(
                _claim_payment(claim.claim_number, pcn, lines, claim.patient_name, claim.sequence))
        for (code, name), claims in payments.items():
            self._queue_835(session, code, name, submission.billing_name, submission.billing_npi, claims)
        return acks

    def appeal(self, session: Session, *, claim_number: str, payer_claim_number: str,
               lines: list[x12.SubmittedLine], patient_name: tuple[str, str], payer_code: str, payer_name: str,
               billing_name: str, billing_npi: str) -> None:
        decided = [adjudicate_line(ln, member_id="", prior_auth="", appeal=True) for ln in lines]
        self._queue_835(session, payer_code, payer_name, billing_name, billing_npi,
                        [_claim_payment(claim_number, payer_claim_number, decided, patient_name)])

    def status(self, session: Session, *, claim_number: str) -> StatusAnswer:
        """From the payer's own answers: paid (F1), denied (F2) or accepted and pending (P1)."""
        for row in self._files(session, unread_only=False):
            for claim in x12.read_835(row.content).claims:
                if claim.control_number == claim_number:
                    return StatusAnswer("F1" if claim.status_code != "4" else "F2", claim.paid_cents)
        return StatusAnswer("P1")

    def fetch(self, session: Session) -> list[InboundFile]:
        return [InboundFile(str(row.id), row.kind, row.content) for row in self._files(session, unread_only=True)]

    def mark_read(self, session: Session, file_id: str) -> None:
        row = session.get(ClearinghouseFile, _uuid(file_id))
        if row is not None and row.read_at is None:
            row.read_at = utcnow()
            session.add(row)

    # -------------------------------------------------------------- the mailbox

    def _files(self, session: Session, *, unread_only: bool) -> list[ClearinghouseFile]:
        stmt = select(ClearinghouseFile).where(ClearinghouseFile.clearinghouse == self.name,
                                               ClearinghouseFile.direction == "in", ClearinghouseFile.kind == "835")
        if unread_only:
            stmt = stmt.where(ClearinghouseFile.read_at.is_(None))  # type: ignore[union-attr]
        return list(session.exec(stmt.order_by(ClearinghouseFile.created_at)).all())  # type: ignore[arg-type]

    def _queue_835(self, session: Session, payer_code: str, payer_name: str, payee_name: str, payee_npi: str,
                   claims: list[x12.RemitClaimDoc]) -> None:
        now = utcnow()
        row = ClearinghouseFile(clearinghouse=self.name, direction="in", kind="835", content="", claim_count=len(claims))
        trace = "T" + row.id.hex[:15].upper()
        env = x12.Envelope(sender_id=payer_code or "SIMPAYER", receiver_id=payee_npi or "CLINIC",
                           control_number=int(row.id.hex[:8], 16) % 1_000_000_000, created=now)
        row.content = x12.write_835(env, payer_name=payer_name or payer_code, payer_code=payer_code,
                                    payee_name=payee_name, payee_npi=payee_npi, trace_number=trace,
                                    paid_on=now.date(), claims=claims)
        session.add(row)


def _uuid(value: str):
    import uuid

    try:
        return uuid.UUID(str(value))
    except ValueError:
        return uuid.UUID(int=0)


_REGISTRY: dict[str, Clearinghouse] = {SIMULATED: SimulatedPayer()}


def register(implementation: Clearinghouse) -> None:
    """Plug in a clearinghouse (a payer's ``clearinghouse`` setting names it)."""
    _REGISTRY[implementation.name] = implementation


def for_name(name: str) -> Clearinghouse:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise LookupError(f"no clearinghouse named {name!r}") from None


def now() -> datetime:
    return utcnow()
