"""Billing reports: claims by status, denials by payer and by reason, A/R aging, payments.

Claim and payment counts are about patients, so they are suppressed under 11 with the money they
add up to; A/R aging is money by payer (no count of people) and is shown whole."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func
from sqlmodel import Session, select

from patient_portal.domain.billing import service as billing
from patient_portal.domain.billing.models import (
    CLAIM_STATUSES,
    INSURANCE_PAYMENT,
    LINE_DENIED,
    Charge,
    Claim,
    ClaimLine,
    LedgerEntry,
    Payer,
    Payment,
)
from patient_portal.domain.reports import sql
from patient_portal.domain.reports.dto import Report, ReportFilters
from patient_portal.domain.reports.suppress import (
    count_text,
    count_value,
    hidden,
    money,
    money_text,
    rate_text,
)

METHODS = {"card_online": "Card (online)", "card_desk": "Card (at the desk)", "cash": "Cash", "check": "Check"}


def _payer_names(session: Session) -> dict:
    return dict(session.exec(select(Payer.id, Payer.name)).all())


def claims_by_status(session: Session, f: ReportFilters) -> Report:
    """Claims created in the range by their status now, with what they billed."""
    found = {status: (int(n), int(cents or 0)) for status, n, cents in session.exec(
        select(Claim.status, func.count(), func.sum(Claim.total_cents)).where(
            *sql.in_range(Claim.created_at, f), *sql.by_doctor(Claim.rendering_provider_id, f))
        .group_by(Claim.status)).all()}
    order = [s for s in CLAIM_STATUSES if s in found] + sorted(set(found) - set(CLAIM_STATUSES))
    return Report(
        key="claims", title="Claims by status",
        description="Claims created in the period, by where they stand now (with a doctor chosen: "
                    "their claims as rendering provider).",
        columns=["Status", "Claims", "Billed"],
        rows=[[s.capitalize(), count_text(found[s][0]), money_text(found[s][1], found[s][0])] for s in order],
        chart=[{"label": s.capitalize(), "value": count_value(found[s][0])} for s in order],
        value_name="Claims", suppressed=any(hidden(n) for n, _ in found.values()))


def denials_by_payer(session: Session, f: ReportFilters) -> Report:
    """Of the claims a payer decided in the range, how many had a line denied."""
    # claims with a denied line, once each, joined (a hash join) rather than asked per claim (EXISTS)
    denied = select(ClaimLine.claim_id).where(ClaimLine.status == LINE_DENIED).group_by(ClaimLine.claim_id).subquery()
    found = session.exec(select(Claim.payer_id, func.count(), func.count(denied.c.claim_id))
                         .outerjoin(denied, denied.c.claim_id == Claim.id).where(
        *sql.in_range(Claim.adjudicated_at, f), *sql.by_doctor(Claim.rendering_provider_id, f))
        .group_by(Claim.payer_id)).all()
    names = _payer_names(session)
    rows = sorted(((names.get(p, "Unknown payer"), int(n), int(d or 0)) for p, n, d in found), key=lambda r: r[0])
    return Report(
        key="denials", title="Denial rate by payer",
        description="Claims the payer decided in the period and how many had a line denied.",
        columns=["Payer", "Decided", "Denied", "Denial rate"],
        rows=[[name, count_text(n), count_text(d), rate_text(d, n)] for name, n, d in rows],
        chart=[{"label": name, "value": count_value(n), "value2": count_value(d)} for name, n, d in rows],
        value_name="Decided", value2_name="Denied", suppressed=any(hidden(n) or hidden(d) for _, n, d in rows))


def denial_reasons(session: Session, f: ReportFilters) -> Report:
    """Denied claim lines of the range by payer and the payer's reason code (CARC, the first
    adjustment of the line)."""
    reason = ClaimLine.adjustments[(0, "reason")].as_string()
    found = session.exec(select(Claim.payer_id, reason, func.count()).join(Claim, Claim.id == ClaimLine.claim_id)
                         .where(ClaimLine.status == LINE_DENIED, *sql.in_range(Claim.adjudicated_at, f),
                                *sql.by_doctor(Claim.rendering_provider_id, f))
                         .group_by(Claim.payer_id, reason)).all()
    names = _payer_names(session)
    rows = sorted(((names.get(p, "Unknown payer"), str(code or "—"), int(n)) for p, code, n in found),
                  key=lambda r: (r[0], -r[2]))
    by_reason: dict[str, int] = defaultdict(int)
    for _, code, n in rows:
        by_reason[code] += n
    return Report(
        key="denial_reasons", title="Denials by payer and reason",
        description="Denied claim lines of claims decided in the period, by the payer's reason code (CARC).",
        columns=["Payer", "Reason code", "Denied lines"],
        rows=[[name, code, count_text(n)] for name, code, n in rows],
        chart=[{"label": code, "value": count_value(n)} for code, n in sorted(by_reason.items())],
        value_name="Denied lines", suppressed=any(hidden(n) for *_, n in rows))


def ar_aging(session: Session, f: ReportFilters) -> Report:
    """What is owed on the end date by age of the charge (billing's A/R aging, by payer)."""
    by_payer, patients = billing.aging_by_payer(session, as_of=f.end, rendering_provider_id=f.doctor_id)
    lines = [(r.name, r.buckets) for r in by_payer]
    if any(patients):
        lines.append(("Patients (their share)", patients))
    totals = tuple(sum(b[i] for _, b in lines) for i in range(4))
    rows = [[name, *(money(c) for c in b), money(sum(b))] for name, b in lines]
    if lines:
        rows.append(["Total", *(money(c) for c in totals), money(sum(totals))])
    labels = ("0–30 days", "31–60 days", "61–90 days", "Over 90 days")
    insurance = [sum(r.buckets[i] for r in by_payer) for i in range(4)]
    return Report(
        key="ar_aging", title="A/R aging",
        description="What is owed now on the charges posted up to the end date, by how long before it each "
                    "was posted (with a doctor chosen: their charges).",
        columns=["Owed by", *labels, "Total"], rows=rows,
        chart=[{"label": labels[i], "value": insurance[i] / 100, "value2": patients[i] / 100} for i in range(4)]
        if lines else [],
        value_name="Insurance ($)", value2_name="Patients ($)")


def payments(session: Session, f: ReportFilters) -> Report:
    """Patient payments and refunds by method, and insurance payments posted, in the range; the chart
    by period. Patient payments are not tied to one doctor: with a doctor chosen, only insurance
    payments on their charges are counted."""
    rows: list[list[str]] = []
    small = False
    when_patient = sql.period(session, Payment.created_at, f)
    when_insurer = sql.period(session, LedgerEntry.created_at, f)
    per_period: dict[str, list[int]] = {p: [0, 0, 0] for p in sql.periods(f)}  # patients, insurance, count
    if f.doctor_id is None:
        for method, kind, n, cents in session.exec(
                select(Payment.method, Payment.kind, func.count(), func.sum(Payment.amount_cents))
                .where(*sql.in_range(Payment.created_at, f)).group_by(Payment.method, Payment.kind)).all():
            n, cents = int(n), int(cents or 0)
            small |= hidden(n)
            label = METHODS.get(method, str(method)) + (" — refunds" if kind == "refund" else "")
            rows.append([label, count_text(n), money_text(-cents if kind == "refund" else cents, n)])
        for p, kind, n, cents in session.exec(
                select(when_patient, Payment.kind, func.count(), func.sum(Payment.amount_cents))
                .where(*sql.in_range(Payment.created_at, f)).group_by(when_patient, Payment.kind)).all():
            if p in per_period:
                per_period[p][0] += -int(cents or 0) if kind == "refund" else int(cents or 0)
                per_period[p][2] += int(n)
    insurer = select(func.count(func.distinct(LedgerEntry.remittance_id)),
                     func.sum(-LedgerEntry.amount_cents)).where(
        LedgerEntry.kind == INSURANCE_PAYMENT, *sql.in_range(LedgerEntry.created_at, f))
    by_period = select(when_insurer, func.sum(-LedgerEntry.amount_cents)).where(
        LedgerEntry.kind == INSURANCE_PAYMENT, *sql.in_range(LedgerEntry.created_at, f))
    if f.doctor_id is not None:
        doctor = [LedgerEntry.charge_id.in_(select(Charge.id).where(Charge.rendering_provider_id == f.doctor_id))]
        insurer, by_period = insurer.where(*doctor), by_period.where(*doctor)
    remits, cents = session.exec(insurer).one()
    if remits:
        rows.append(["Insurance (remittances)", count_text(int(remits), suppress=False), money(int(cents or 0))])
    for p, c in session.exec(by_period.group_by(when_insurer)).all():
        if p in per_period:
            per_period[p][1] += int(c or 0)
    return Report(
        key="payments", title="Payments",
        description="Money received in the period: patient payments by method (refunds subtracted) and "
                    "insurance payments by remittance. With a doctor chosen: insurance payments on their charges.",
        columns=["Source", "Payments", "Amount"], rows=rows,
        chart=[{"label": p, "value": None if hidden(n) else a / 100, "value2": b / 100}
               for p, (a, b, n) in per_period.items()] if rows else [],
        value_name="Patients ($)", value2_name="Insurance ($)", suppressed=small)
