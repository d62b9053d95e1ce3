"""Reports at clinic scale on PostgreSQL (issue 17): each of the admins' reports over a year, for
every doctor and for one, timed through the reports service — target p95 < 1 s each.

Seeded by bulk INSERT … SELECT generate_series (the set-up is not what is measured): 100,000
patients (40,000 with portal accounts), 100 doctors, 500,000 appointments over two years, 200,000
claims with their charges and lines (an adjudicated tenth denied), 100,000 patient payments, the
insurance payments of the paid claims, and 500,000 audit events of chart reads by 150 users. Rows
are real rows of the real schema; their encrypted columns hold a placeholder (no report decrypts a
patient's column — only the doctors' and payers' names, which are written through the ORM).

Each report is timed beside two baselines measured in the same interleaved rounds: a unit of work
with one SELECT 1 (a round trip), and count(*) of the report's main table (reading it once) — so
"p95 vs count(*)" says whether a report costs more than a scan of what it reads.

Run: .venv/bin/python bench/reports.py [--db URL] [--rounds N] [--scale F]
The database (default postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench_reports, created
when missing) is emptied first. --scale 0.1 seeds a tenth (a quick look).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from harness import fresh_database  # noqa: E402 - bench/ is this script's own folder

DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench_reports"
#: the instance folder (its generated keys encrypt the names seeded): the same on every run, for --reuse
INSTANCE = str(Path(tempfile.gettempdir()) / "bench-reports-instance")
PATIENTS, ACCOUNTS, DOCTORS, APPOINTMENTS, CLAIMS, PAYMENTS, READS, READERS = (
    100_000, 40_000, 100, 500_000, 200_000, 100_000, 500_000, 150)
#: each report's main table, whose count(*) is printed beside it
MAIN_TABLE = {"registrations": "patient", "adoption": "user_account", "appointments": "appointment",
              "claims": "billing_claim", "denials": "billing_claim", "denial_reasons": "billing_claim_line",
              "ar_aging": "billing_charge", "payments": "billing_payment", "age_bands": "patient",
              "anomalies": "audit_event"}


def _prepare(url: str) -> None:
    fresh_database(url, instance=INSTANCE, timezone="America/New_York")


def _filler(column) -> str | None:
    """A value for a NOT NULL column the seed does not name (placeholders for ciphertext)."""
    from sqlalchemy import JSON, Boolean, Integer

    if column.nullable or column.primary_key or column.server_default is not None:
        return None
    kind = column.type
    if isinstance(kind, JSON):
        return "'[]'::json"
    if isinstance(kind, Boolean):
        return "false"
    if isinstance(kind, Integer):
        return "0"
    try:
        python = kind.python_type.__name__
    except NotImplementedError:
        python = ""
    if python == "datetime":
        return "now()"
    if python == "UUID":
        raise SystemExit(f"bench/reports.py: give {column.table.name}.{column.name} a value")
    return "'x'"


def _bulk(conn, table: str, n: int, values: dict[str, str], **params) -> None:
    """INSERT INTO table SELECT <values> FROM generate_series(0, n - 1) g: the named columns, the
    rest of the NOT NULL ones filled (``_filler``)."""
    from sqlalchemy import text

    from patient_portal.models import metadata

    cols = dict(values)
    cols.setdefault("id", "gen_random_uuid()")
    for stamp in ("created_at", "updated_at"):
        if stamp in metadata.tables[table].columns:
            cols.setdefault(stamp, "now()")
    for column in metadata.tables[table].columns:
        if column.name not in cols:
            fill = _filler(column)
            if fill is not None:
                cols[column.name] = fill
    names = ", ".join(f'"{c}"' for c in cols)
    conn.execute(text(f'INSERT INTO "{table}" ({names}) SELECT {", ".join(cols.values())} '
                      f'FROM generate_series(0, :n - 1) g'), {"n": n, **params})


def _id(kind: str, i: int) -> uuid.UUID:
    """The same id as SQL's md5('<kind>' || i)::uuid: rows seeded in bulk refer to each other by number."""
    return uuid.UUID(hashlib.md5(f"{kind}{i}".encode()).hexdigest())  # noqa: S324 - ids, not security


def ref(kind: str, number: str) -> str:
    return f"md5('{kind}' || ({number}))::uuid"


def _seed(scale: float) -> dict[str, int]:
    from patient_portal.core.db import get_engine, unit_of_work
    from patient_portal.domain.appointments.models import VisitType
    from patient_portal.domain.billing.models import Payer
    from patient_portal.domain.identity.models import User

    n = {k: max(100, int(v * scale)) for k, v in dict(
        patients=PATIENTS, accounts=ACCOUNTS, appointments=APPOINTMENTS, claims=CLAIMS, payments=PAYMENTS,
        reads=READS).items()}
    with unit_of_work() as s:  # the names a report shows go through the ORM (encrypted as in real use)
        for i in range(DOCTORS):
            s.add(User(id=_id("doctor", i), email=f"doctor{i}@bench.test", role="doctor", display_name=f"Dr. Bench {i}"))
        for i in range(READERS - DOCTORS):
            s.add(User(id=_id("reader", i), email=f"staff{i}@bench.test", role="staff", display_name=f"Staff {i}"))
        for i, code in enumerate(("follow_up", "new_patient", "annual_exam", "telehealth")):
            s.add(VisitType(id=_id("vt", i), code=code, name=code.replace("_", " ").capitalize()))
        for i in range(12):
            s.add(Payer(id=_id("payer", i), payer_code=f"P{i:03d}", name=f"Bench payer {i}"))
    np_, docs = n["patients"], DOCTORS
    day = "date_trunc('day', now())"
    with get_engine().begin() as conn:
        _bulk(conn, "patient", np_, {
            "id": ref("patient", "g"), "created_at": f"{day} - (g % 730) * interval '1 day' + interval '10 hours'",
            "mrn": "'B' || g", "status": "'active'", "version": "1", "birth_year": "1930 + (g * 7919) % 95"})
        _bulk(conn, "user_account", n["accounts"], {
            "created_at": f"{day} - (g % 700) * interval '1 day'", "email": "'p' || g || '@bench.test'",
            "role": "'patient'", "active": "true", "mfa_enabled": "g % 3 = 0", "patient_id": ref("patient", "g")})
        # each doctor's appointments: 8 a day, on the hour from 08:00, over the last ~two years
        per = n["appointments"] // docs
        start = f"{day} - interval '700 days' + (g / {docs}) / 8 * interval '1 day' + (8 + (g / {docs}) % 8) * interval '1 hour'"
        _bulk(conn, "appointment", per * docs, {
            "start_at": start, "end_at": f"{start} + interval '20 minutes'",
            "blocked_until": f"{start} + interval '20 minutes'", "doctor_id": ref("doctor", f"g % {docs}"),
            "patient_id": ref("patient", f"(g * 31) % {np_}"), "visit_type_id": ref("vt", "g % 4"),
            "status": "CASE WHEN g % 13 = 0 THEN 'noshow' WHEN g % 10 = 0 THEN 'cancelled' "
                      "WHEN g % 9 = 0 THEN 'booked' ELSE 'fulfilled' END", "version": "1"})
        nc = n["claims"]
        _bulk(conn, "billing_charge", nc, {
            "id": ref("charge", "g"), "patient_id": ref("patient", f"(g * 17) % {np_}"),
            "rendering_provider_id": ref("doctor", f"g % {docs}"), "posted_on": f"({day} - (g % 400) * interval '1 day')::date",
            "amount_cents": "15000", "insurance_balance_cents": "CASE WHEN g % 4 = 0 THEN 15000 ELSE 0 END",
            "patient_balance_cents": "CASE WHEN g % 5 = 0 THEN 2500 ELSE 0 END", "payer_id": ref("payer", "g % 12"),
            "units": "1", "place_of_service": "'11'", "claim_id": ref("claim", "g")})
        status = ("CASE WHEN g % 10 = 0 THEN 'denied' WHEN g % 10 = 1 THEN 'submitted' WHEN g % 10 = 2 THEN 'draft' "
                  "WHEN g % 10 = 3 THEN 'partial' ELSE 'paid' END")
        _bulk(conn, "billing_claim", nc, {
            "id": ref("claim", "g"), "claim_number": "'C' || g", "patient_id": ref("patient", f"(g * 17) % {np_}"),
            "payer_id": ref("payer", "g % 12"), "rendering_provider_id": ref("doctor", f"g % {docs}"),
            "status": status, "sequence": "'primary'", "frequency": "'1'", "relationship": "'self'",
            "total_cents": "15000", "problems": "'{}'::json", "version": "1",
            "created_at": f"{day} - (g % 400) * interval '1 day'",
            "adjudicated_at": f"CASE WHEN g % 10 IN (1, 2) THEN NULL ELSE {day} - (g % 400) * interval '1 day' "
                              "+ interval '20 days' END"})
        _bulk(conn, "billing_claim_line", nc, {
            "claim_id": ref("claim", "g"), "charge_id": ref("charge", "g"), "line_number": "1", "charge_cents": "15000",
            "status": "CASE WHEN g % 10 = 0 THEN 'denied' ELSE 'paid' END",
            "adjustments": "CASE WHEN g % 10 = 0 THEN json_build_array(json_build_object('group', 'CO', 'reason', "
                           "(ARRAY['197', '50', '16', '29', '96'])[1 + (g / 10) % 5], 'cents', 15000)) "
                           "ELSE '[]'::json END"})
        _bulk(conn, "billing_ledger_entry", nc * 6 // 10, {
            "patient_id": ref("patient", f"(g * 17) % {np_}"), "charge_id": ref("charge", "g"),
            "claim_id": ref("claim", "g"), "bucket": "'insurance'", "kind": "'insurance_payment'",
            "amount_cents": "-12000", "remittance_id": ref("remit", "g / 50"),
            "created_at": f"{day} - (g % 400) * interval '1 day' + interval '20 days'"})
        _bulk(conn, "billing_payment", n["payments"], {
            "patient_id": ref("patient", f"(g * 13) % {np_}"),
            "kind": "CASE WHEN g % 50 = 0 THEN 'refund' ELSE 'payment' END",
            "method": "(ARRAY['card_online', 'card_desk', 'cash', 'check'])[1 + g % 4]", "amount_cents": "2500",
            "receipt_number": "'R' || g", "created_at": f"{day} - (g % 400) * interval '1 day'"})
        _bulk(conn, "audit_event", n["reads"], {
            "seq": "g + 1", "at": "now() - (g % 365) * interval '1 day' - (g % 24) * interval '1 hour'",
            "actor_id": f"CASE WHEN g % {READERS} < {docs} THEN {ref('doctor', f'g % {READERS}')} "
                        f"ELSE {ref('reader', f'g % {READERS} - {docs}')} END",
            "role": f"CASE WHEN g % {READERS} < {docs} THEN 'doctor' ELSE 'staff' END",
            "action": "CASE WHEN g % 1000 = 0 THEN 'emergency_access.start' ELSE 'patient.clinical.read' END",
            "patient_id": ref("patient", f"(g * 7) % {np_}"), "outcome": "'success'", "detail": "'{}'::json",
            "prev_hash": "'x'", "hash": "'x'"})
    return n


def _vacuum() -> None:
    from sqlalchemy import text

    from patient_portal.core.db import get_engine

    with get_engine().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1] if len(samples) > 1 else samples[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=os.environ.get("PORTAL_BENCH_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--reuse", action="store_true", help="time the rows a previous run seeded (no re-seed)")
    args = parser.parse_args()
    if args.reuse:
        os.environ["PORTAL_DATABASE_URL"] = args.db
        os.environ["PORTAL_INSTANCE_DIR"] = INSTANCE  # its keys read the doctors' names seeded before
        os.environ.setdefault("PORTAL_TIMEZONE", "America/New_York")
        print("re-using the rows seeded before")
    else:
        _prepare(args.db)
        started = time.perf_counter()
        n = _seed(args.scale)
        print("seeded " + ", ".join(f"{v:,} {k}" for k, v in n.items()) + f" in {time.perf_counter() - started:.0f} s")
        _vacuum()

    from sqlalchemy import text

    from patient_portal.core.access import Actor, Role
    from patient_portal.core.clock import clinic_zone
    from patient_portal.core.db import unit_of_work, utcnow
    from patient_portal.domain.reports import service
    from patient_portal.domain.reports.dto import ReportFilters

    today = utcnow().astimezone(clinic_zone()).date()
    year = ReportFilters.default(today)
    one = ReportFilters(year.start, year.end, _id("doctor", 7))
    admin = Actor(user_id=uuid.uuid4(), role=Role.ADMIN)
    wall: dict[str, list[float]] = {}

    def timed(name: str, fn) -> None:
        t = time.perf_counter()
        fn()
        wall.setdefault(name, []).append((time.perf_counter() - t) * 1000)

    def run(key: str, f: ReportFilters):
        def go():
            with unit_of_work() as s:
                service.REPORTS[key](s, f)
        return go

    def count(table: str):
        def go():
            with unit_of_work() as s:
                s.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one()
        return go

    def select_1():
        with unit_of_work() as s:
            s.execute(text("SELECT 1")).scalar_one()

    def whole_page():
        with unit_of_work() as s:
            service.open_reports(s, admin, {})

    for _ in range(args.rounds):
        timed("SELECT 1", select_1)
        for key in service.REPORTS:
            timed(f"{key}", run(key, year))
            timed(f"{key} (one doctor)", run(key, one))
        for table in sorted(set(MAIN_TABLE.values())):
            timed(f"count(*) {table}", count(table))
    for _ in range(max(3, args.rounds // 4)):
        timed("whole page (open_reports)", whole_page)

    load = os.getloadavg()[0]
    print(f"load average {load:.2f} on {os.cpu_count()} cores; {args.rounds} interleaved rounds; a year's range")
    floor = _p95(wall["SELECT 1"])
    print(f"{'':34}{'median':>9}{'p95':>9}{'bar':>8}   baselines in the same rounds (p95)")
    for key in service.REPORTS:
        table = MAIN_TABLE[key]
        base = _p95(wall[f"count(*) {table}"])
        for name in (key, f"{key} (one doctor)"):
            samples = wall[name]
            p95 = _p95(samples)
            verdict = "ok" if p95 < 1000 else "OVER"
            print(f"{name:34}{statistics.median(samples):7.1f}ms{p95:7.1f}ms{'<1000':>8}  "
                  f"SELECT 1 {floor:5.1f}ms, count(*) {table} {base:6.1f}ms  {verdict}")
    page = wall["whole page (open_reports)"]
    print(f"{'whole page (open_reports)':34}{statistics.median(page):7.1f}ms{_p95(page):7.1f}ms"
          f"{'':>8}  every report at once, audited")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
