"""Billing at scale on PostgreSQL (issue 14's bars):

* build and export 5,000 claims < 30 s — ``build_claims`` for 5,000 patients (1,000 a unit) (each validated, its
  lines and transition written, audited), then ``submit_claims`` of all 5,000: one 837P written and
  handed to the simulated payer (which reads it back and answers with one 835);
* post an 835 with 5,000 claim payments < 30 s — ``fetch_remittances`` posts that 835;
* A/R aging over 100,000 claims, p95 < 1 s — ``ar_aging`` with 100,000 more claims on file, each
  with one line and its open charge (written in bulk, encrypted as the ORM would; no ledger rows, as
  the aging reads the charges' cached balances), aged
  0-30/31-60/61-90/90+ by payer and patient, 20 runs.

The machine these run on is shared and often loaded, so the run prints a **baseline** first, last
and just before each measured step (and beside its figure): a fixed piece of Python work (SHA-256
over 64 MB and a 2-million-step loop) and a fixed piece of PostgreSQL work (1,000 ``SELECT 1``
round trips, 20,000 rows inserted in one statement). Judge a figure against the baseline beside it:
a baseline twice that of a quieter run means the machine gave this step about half as much, and
its figure is about twice what it would be. On a quiet machine the baseline is about CPU 0.4-0.6 s,
database 0.5-0.7 s.

Run: PORTAL_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/<empty db> .venv/bin/python bench/billing.py
     [--claims 5000] [--aging 100000] [--profile DIR]
``--profile DIR`` writes a cProfile of each measured step (DIR/build.prof, export.prof, post.prof; read
them with ``python -m pstats``): profile at a small size (``--claims 500``) to see where the time goes;
the figures of a profiled run are slower than the bar's.
The schema is created in that database (its tables are emptied first). Setup rows (patients,
coverage, charges) are written directly; only the measured steps go through the services.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def baseline(engine) -> tuple[float, float]:
    """(CPU seconds, database seconds) of a fixed amount of work (module docstring)."""
    import hashlib

    from sqlalchemy import text

    t0 = time.perf_counter()
    hashlib.sha256(b"x" * 64_000_000).hexdigest()
    n = 0
    for i in range(2_000_000):
        n += i & 7
    cpu = time.perf_counter() - t0
    t0 = time.perf_counter()
    with engine.connect() as conn:
        for _ in range(1000):
            conn.execute(text("SELECT 1"))
        conn.execute(text("CREATE TEMP TABLE bench_baseline (a int, b text)"))
        conn.execute(text("INSERT INTO bench_baseline SELECT g, md5(g::text) FROM generate_series(1, 20000) g"))
        conn.execute(text("DROP TABLE bench_baseline"))
        conn.commit()
    return cpu, time.perf_counter() - t0


@contextmanager
def _profiled(directory: str | None, step: str) -> Iterator[None]:
    """cProfile the block into `directory`/`step`.prof when a directory is given (``--profile``)."""
    if not directory:
        yield
        return
    profile = cProfile.Profile()
    profile.enable()
    try:
        yield
    finally:
        profile.disable()
        Path(directory).mkdir(parents=True, exist_ok=True)
        profile.dump_stats(Path(directory) / f"{step}.prof")


def _print_baseline(engine, when: str) -> str:
    cpu, db = baseline(engine)
    print(f"baseline ({when}): CPU {cpu:.2f} s, database {db:.2f} s")
    return f"[baseline just before: CPU {cpu:.2f} s, database {db:.2f} s]"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--claims", type=int, default=5000)
    parser.add_argument("--aging", type=int, default=100_000)
    parser.add_argument("--profile", metavar="DIR", help="write a cProfile of each measured step to DIR")
    args = parser.parse_args()
    if not os.environ.get("PORTAL_DATABASE_URL", "").startswith("postgres"):
        print("set PORTAL_DATABASE_URL to an empty PostgreSQL database", file=sys.stderr)
        return 2
    os.environ.setdefault("PORTAL_INSTANCE_DIR", tempfile.mkdtemp(prefix="bench-billing-"))
    os.environ.setdefault("PORTAL_ENV", "demo")

    from sqlalchemy import text

    from patient_portal.core.access import Actor, Role
    from patient_portal.core.db import get_engine, unit_of_work
    from patient_portal.domain.billing import ledger
    from patient_portal.domain.billing import service as billing
    from patient_portal.domain.billing.models import Charge, Coverage
    from patient_portal.domain.insurance.models import InsurancePolicy
    from patient_portal.domain.patients.models import Patient
    from patient_portal.models import metadata

    engine = get_engine()
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE " + ", ".join(f'"{t.name}"' for t in metadata.sorted_tables) + " CASCADE"))
    _print_baseline(engine, "start")
    admin = Actor(user_id=uuid.uuid4(), role=Role.ADMIN, display_name="Bench admin")
    staff = Actor(user_id=uuid.uuid4(), role=Role.STAFF, display_name="Bench staff")
    with unit_of_work() as s:
        payer = billing.save_payer(s, admin, values={"payer_code": "SIMPAY", "name": "Simulated Health Plan",
                                                     "timely_filing_days": "365", "appeal_days": "120 180 60"})
        billing.save_billing_profile(s, admin, values={
            "name": "Bench Clinic", "npi": "1234567893", "tax_id": "123456789", "taxonomy": "207Q00000X",
            "address_line1": "1 Main St", "city": "Boston", "region": "MA", "postal_code": "021101234"})
        billing.save_fee(s, admin, values={"code": "99213", "description": "Office visit", "price": "150"})
        billing.save_fee(s, admin, values={"code": "36415", "description": "Blood draw", "price": "20"})

    started = time.perf_counter()
    patients = []
    with unit_of_work() as s, ledger.batched(s):  # ids are made in Python: a flush a table, not a row
        people = [Patient(mrn=f"B{n:09d}", given_name="Pat", family_name=f"Bench{n}", date_of_birth=date(1980, 1, 1),
                          sex="female", address={"line1": "2 Elm St", "city": "Boston", "region": "MA",
                                                 "postal_code": "02118"}) for n in range(args.claims)]
        s.add_all(people)
        s.flush()
        policies = [InsurancePolicy(patient_id=p.id, order="primary", payer="Simulated Health Plan",
                                    member_id=f"M-{n:07d}", relationship="self") for n, p in enumerate(people)]
        s.add_all(policies)
        s.flush()
        for p, pol in zip(people, policies, strict=True):
            s.add(Coverage(policy_id=pol.id, patient_id=p.id, payer_id=payer.id))
            for code, cents in (("99213", 15000), ("36415", 2000)):
                ch = Charge(patient_id=p.id, service_date=date.today() - timedelta(days=10), posted_on=date.today(),
                            code=code, description=code, diagnoses=[{"code": "I10", "display": ""}],
                            amount_cents=cents, payer_id=payer.id)
                s.add(ch)
                ledger.open_charge(s, ch, insured=True, entered_by=None)
            patients.append(p.id)
    print(f"setup: {args.claims} patients with two charges each in {time.perf_counter() - started:.1f} s")

    base = _print_baseline(engine, "before building")
    started = time.perf_counter()
    claim_ids = []
    with _profiled(args.profile, "build"):
        for i in range(0, len(patients), 1000):
            with unit_of_work() as s:
                claim_ids += billing.build_claims(s, staff, patient_ids=patients[i:i + 1000])
    built = time.perf_counter() - started
    with _profiled(args.profile, "export"), unit_of_work() as s:
        result = billing.submit_claims(s, staff, claim_ids=claim_ids)
    exported = time.perf_counter() - started
    print(f"build {len(claim_ids)} claims: {built:.1f} s; + export and submit as one 837P: {exported:.1f} s "
          f"({len(result.accepted)} accepted) — target < 30 s: {'PASS' if exported < 30 else 'FAIL'} {base}")

    base = _print_baseline(engine, "before posting")
    started = time.perf_counter()
    with _profiled(args.profile, "post"), unit_of_work() as s:
        [posted] = billing.fetch_remittances(s, staff)
    took = time.perf_counter() - started
    print(f"post an 835 with {posted.claims_posted} claim payments: {took:.1f} s — target < 30 s: "
          f"{'PASS' if took < 30 else 'FAIL'} {base}")

    started = time.perf_counter()
    _bulk_claims(engine, patients, payer.id, args.aging)
    print(f"setup: {args.aging} more claims, each with a line and its open charge, in "
          f"{time.perf_counter() - started:.1f} s")
    base = _print_baseline(engine, "before the aging runs")
    times = []
    for _ in range(20):
        t0 = time.perf_counter()
        with unit_of_work() as s:
            aging = billing.ar_aging(s, staff)
        times.append(time.perf_counter() - t0)
    p95 = statistics.quantiles(times, n=20)[18]
    print(f"A/R aging over {args.aging + args.claims} claims ({args.aging + 2 * args.claims} charges; "
          f"{len(aging.by_payer)} payers, top {len(aging.by_patient)} patients): median {statistics.median(times) * 1000:.0f} ms, p95 "
          f"{p95 * 1000:.0f} ms — target p95 < 1 s: {'PASS' if p95 < 1 else 'FAIL'} {base}")
    _print_baseline(engine, "end")
    return 0


def _bulk_claims(engine, patients: list, payer_id, count: int) -> None:
    """`count` claims of one line each, with their charges, in bulk (the setup of the aging bar; not
    measured). Encrypted columns are encrypted as the ORM would (``encrypt_value``, bound to the row)."""
    from patient_portal.core.crypto import encrypt_value
    from patient_portal.domain.billing.models import Charge, Claim, ClaimLine

    now = datetime.now(UTC)
    today = date.today()
    for start in range(0, count, 5000):
        charges, claims, lines = [], [], []
        for n in range(start, min(count, start + 5000)):
            posted = today - timedelta(days=n % 150)
            pid = patients[n % len(patients)]
            cid, kid, lid = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
            insured = n % 3 != 0
            charges.append({
                "id": cid, "created_at": now, "updated_at": now, "patient_id": pid, "visit_id": None,
                "rendering_provider_id": None, "posted_on": posted, "units": 1, "place_of_service": "11",
                "amount_cents": 15000, "insurance_balance_cents": 12000 if insured else 0,
                "patient_balance_cents": 3000 if insured else 15000, "payer_id": payer_id if insured else None,
                "claim_id": kid, "entered_by": None, "voided": False,
                "service_date": encrypt_value("date", posted, "billing_charge", "service_date", cid),
                "code": encrypt_value("str", "99213", "billing_charge", "code", cid),
                "description": encrypt_value("str", "Office visit", "billing_charge", "description", cid),
                "modifiers": encrypt_value("json", [], "billing_charge", "modifiers", cid),
                "diagnoses": encrypt_value("json", [{"code": "I10", "display": ""}], "billing_charge", "diagnoses",
                                           cid)})
            claims.append({
                "id": kid, "created_at": now, "updated_at": now, "claim_number": f"BK{n:010d}", "patient_id": pid,
                "payer_id": payer_id, "policy_id": None, "sequence": "primary",
                "status": "acknowledged" if insured else "paid", "frequency": "1", "replaces_id": None,
                "primary_claim_id": None, "payer_claim_number": None, "rendering_provider_id": None,
                "relationship": "self", "total_cents": 15000, "billed_on": posted, "submitted_at": now,
                "adjudicated_at": None, "appeal_deadline": None, "appeal_level": 0, "problems": {}, "version": 1,
                "member_id": encrypt_value("str", f"M-{n:07d}", "billing_claim", "member_id", kid),
                "group_number": None, "prior_authorization": None,
                "diagnoses": encrypt_value("json", [{"code": "I10", "display": ""}], "billing_claim", "diagnoses", kid),
                "service_from": encrypt_value("date", posted, "billing_claim", "service_from", kid)})
            lines.append({"id": lid, "created_at": now, "updated_at": now, "claim_id": kid, "charge_id": cid,
                          "line_number": 1, "charge_cents": 15000, "pointers": [1], "status": "open", "paid_cents": 0,
                          "adjusted_cents": 0, "patient_cents": 0, "adjustments": [], "remarks": []})
        with engine.begin() as conn:
            conn.execute(Claim.__table__.insert(), claims)
            conn.execute(Charge.__table__.insert(), charges)
            conn.execute(ClaimLine.__table__.insert(), lines)


if __name__ == "__main__":
    raise SystemExit(main())
