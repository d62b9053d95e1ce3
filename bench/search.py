"""Patient search benchmark (a script, not a test).

Seeds N synthetic patients (faker) with bulk inserts into PostgreSQL and SQLite, then prints p50/p95
latency of searches by last name + date of birth, MRN and phone over the blind indexes (HMAC of the
query, indexed lookup, decryption of the rows found), beside the same lookup on an unencrypted,
indexed copy of the data in the same run. Targets at 100,000 patients on PostgreSQL: p95 < 20 ms and
at most 1.5x the unencrypted query.

Then registration at N patients: the staff use case (`register_patient`, a new person with a little
history, insurance and an emergency contact, one unit of work with its commit and audit event) p50/p95
over --registrations runs, including the duplicate check (name + dob OR email OR phone over the blind
indexes); beside it the duplicate check alone, the same three lookups on the plaintext twin, and the
duplicate check as the single OR statement it used to be (PostgreSQL scanned the whole patient table
for it). The plan of the check is printed (PostgreSQL: each branch an index scan). Target: registration
p95 < 30 ms at 1,000,000 patients on PostgreSQL.

    .venv/bin/python bench/search.py [N] [--pg URL] [--queries 300] [--registrations 200] [--no-sqlite]
                                     [--reuse]

The PostgreSQL URL defaults to $PORTAL_BENCH_DATABASE_URL, else
postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench (created when missing). The app's tables in it
are dropped and recreated. Seeding streams the people in batches of BATCH (encrypting each batch, then
COPY on PostgreSQL), so a million patients fit in a few hundred MB; it prints its progress.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

BATCH = 5000


def _setup_env() -> None:
    os.environ.setdefault("PORTAL_INSTANCE_DIR", tempfile.mkdtemp(prefix="portal-bench-"))
    if not os.environ.get("PORTAL_MASTER_KEYS"):
        from patient_portal.core.crypto import generate_key_spec

        os.environ["PORTAL_MASTER_KEYS"] = generate_key_spec("bench")


_PLAIN = None


def _plain_table():
    """An unencrypted twin of the patient table (same columns, plaintext, indexed), ORM-mapped like
    Patient so both sides pay the same ORM cost and differ only by the encryption."""
    global _PLAIN
    if _PLAIN is None:
        from sqlalchemy import Column, Date, Index, MetaData, String, Table, Text
        from sqlalchemy.orm import registry

        from patient_portal.domain.patients.models import Patient

        meta = MetaData()
        columns = []
        for col in Patient.__table__.columns:
            if col.name in ("family_name", "mrn", "email"):
                continue
            kind = col.info.get("encrypted")
            col_type = Date() if kind == "date" else (Text() if kind else col.type)
            columns.append(Column(col.name, col_type, primary_key=col.primary_key))
        table = Table("bench_plain_patient", meta, *columns,
                      Column("mrn", String(16), unique=True, index=True),
                      Column("family_name", String(100), index=True),
                      Column("phone", String(20), index=True),
                      Column("email", String(254), index=True),
                      Index("ix_bench_plain_family_dob", "family_name", "date_of_birth"))

        class PlainPatient:
            pass

        registry(metadata=meta).map_imperatively(PlainPatient, table)
        _PLAIN = (meta, table, PlainPatient)
    return _PLAIN


def _people(n: int, seed: int = 7):
    """The N synthetic people, in lists of BATCH (generated as they are seeded, never all at once)."""
    from faker import Faker

    from patient_portal.domain.patients import mrn

    fake = Faker("en_US")
    Faker.seed(seed)
    rnd = random.Random(seed)
    areas = ("617", "212", "415", "312", "202", "305", "713", "206")
    chunk: list[dict] = []
    for i in range(n):
        body = f"{i + 1:07d}"
        phone = f"+1{rnd.choice(areas)}{rnd.randint(200, 999)}{rnd.randint(0, 9999):04d}"
        chunk.append({
            "id": uuid.uuid4(), "mrn": mrn.PREFIX + body + mrn.luhn_digit(body),
            "given_name": fake.first_name(), "family_name": fake.last_name(),
            "date_of_birth": fake.date_of_birth(minimum_age=0, maximum_age=100), "phone": phone,
            "email": f"user{i}@example.org", "sex": rnd.choice(("female", "male")),
        })
        if len(chunk) == BATCH:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _encrypted_rows(people: list[dict]) -> tuple[list[dict], list[dict]]:
    """Patient rows (ciphertext and blind indexes, as the app writes them) and phone-key rows."""
    from patient_portal.core.crypto import blind_index, encrypt_value
    from patient_portal.core.db import utcnow
    from patient_portal.domain.patients import indexes

    now = utcnow()
    rows, phones = [], []
    for p in people:
        pid = p["id"]

        def enc(kind, column, value, pid=pid):
            return encrypt_value(kind, value, "patient", column, pid)

        phone_list = [{"type": "mobile", "number": p["phone"]}]
        rows.append({
            "id": pid, "created_at": now, "updated_at": now, "mrn": p["mrn"], "status": "active", "version": 1,
            "given_name": enc("str", "given_name", p["given_name"]),
            "family_name": enc("str", "family_name", p["family_name"]),
            "preferred_name": None, "gender_identity": None, "address": None,
            "date_of_birth": enc("date", "date_of_birth", p["date_of_birth"]),
            "sex": enc("str", "sex", p["sex"]),
            "phones": enc("json", "phones", phone_list),
            "email": enc("str", "email", p["email"]),
            "preferred_language": enc("str", "preferred_language", "English"),
            "preferred_contact_method": enc("str", "preferred_contact_method", "sms"),
            "bidx_family": indexes.family_digest(p["family_name"]),
            "bidx_full_name": indexes.full_name_digest(p["given_name"], p["family_name"]),
            "bidx_dob": indexes.dob_digest(p["date_of_birth"]),
            "bidx_family_dob": indexes.family_dob_digest(p["family_name"], p["date_of_birth"]),
            "bidx_name_dob": indexes.name_dob_digest(p["given_name"], p["family_name"], p["date_of_birth"]),
            "bidx_email": indexes.email_digest(p["email"]),
            "created_by": None, "updated_by": None,
        })
        phones.append({"id": uuid.uuid4(), "created_at": now, "updated_at": now, "patient_id": pid,
                       "digest": blind_index("patient.phone", p["phone"], normalized=True)})
    return rows, phones


def _ensure_database(url: str) -> None:
    """Create the PostgreSQL database the URL names when it does not exist yet."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database}).first() is None:
                conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    finally:
        admin.dispose()


def _copy(conn, table, rows: list[dict]) -> None:
    """Bulk-load rows with PostgreSQL COPY (psycopg adapts every value as an INSERT would)."""
    names = list(rows[0])
    cursor = conn.connection.driver_connection.cursor()
    with cursor.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[name] for name in names])


def _seed(engine, n: int, keep: set[int]) -> tuple[float, dict[int, dict]]:
    """Drop and recreate the app's tables and the plaintext twin, seed N patients; returns the seconds
    it took and the people whose positions are in `keep` (the queries' sample)."""
    from sqlalchemy import text

    from patient_portal.domain.patients.models import Patient, PatientPhoneKey
    from patient_portal.models import metadata

    meta, plain, _cls = _plain_table()
    postgres = engine.dialect.name == "postgresql"
    if postgres:  # CASCADE: whatever else in the database points at these tables
        names = ", ".join(f'"{t.name}"' for t in [*metadata.sorted_tables, plain])
        with engine.begin() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {names} CASCADE"))
    else:
        metadata.drop_all(engine)
        meta.drop_all(engine)
    metadata.create_all(engine)  # the whole schema: registration writes history, insurance, audit ...
    meta.create_all(engine)
    with engine.begin() as conn:  # --reuse needs the keys the blind indexes and ciphertext were made with
        conn.exec_driver_sql("DROP TABLE IF EXISTS bench_key")
        conn.exec_driver_sql("CREATE TABLE bench_key (spec TEXT NOT NULL)")
    start = time.perf_counter()
    kept: dict[int, dict] = {}
    done = 0
    for chunk in _people(n):
        rows, phones = _encrypted_rows(chunk)
        plain_rows = [{**row, "given_name": p["given_name"], "family_name": p["family_name"],
                       "date_of_birth": p["date_of_birth"], "sex": p["sex"], "email": p["email"],
                       "phones": f'[{{"type":"mobile","number":"{p["phone"]}"}}]', "phone": p["phone"],
                       "preferred_language": "English", "preferred_contact_method": "sms"}
                      for row, p in zip(rows, chunk, strict=True)]
        with engine.begin() as conn:
            for table, batch in ((Patient.__table__, rows), (PatientPhoneKey.__table__, phones), (plain, plain_rows)):
                if postgres:
                    _copy(conn, table, batch)
                else:
                    conn.execute(table.insert(), batch)
        kept.update((done + i, p) for i, p in enumerate(chunk) if done + i in keep)
        done += len(chunk)
        if done % 100_000 < BATCH and n >= 200_000:
            print(f"  seeded {done:,} in {time.perf_counter() - start:.0f} s", flush=True)
    with engine.begin() as conn:  # synthetic people under throwaway keys: kept beside them for --reuse
        conn.execute(text("INSERT INTO bench_key (spec) VALUES (:spec)"), {"spec": os.environ["PORTAL_MASTER_KEYS"]})
    if postgres:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    return time.perf_counter() - start, kept


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] * 1000


def _measure(engine, sample: list[dict]) -> list[tuple[str, list[float], list[float]]]:
    from sqlmodel import Session, select

    from patient_portal.domain.patients.search import parse_query, run_query
    from patient_portal.domain.patients.validation import normalize_phone

    _meta, plain, plain_cls = _plain_table()
    kinds = {
        "last name + dob": (lambda p: (p["family_name"], p["date_of_birth"].isoformat()),
                            lambda p: (plain.c.family_name == p["family_name"],
                                       plain.c.date_of_birth == p["date_of_birth"])),
        "MRN": (lambda p: (p["mrn"], ""), lambda p: (plain.c.mrn == p["mrn"],)),
        # a plaintext system normalizes the typed number too, so both sides pay for phonenumbers
        "phone": (lambda p: (p["phone"], ""), lambda p: (plain.c.phone == normalize_phone(p["phone"]),)),
    }
    results = []
    with Session(engine) as session:
        for name, (typed, plain_where) in kinds.items():
            enc_times, plain_times = [], []
            for i, person in enumerate(sample):
                t0 = time.perf_counter()
                found, _total = run_query(session, parse_query(*typed(person)))
                t1 = time.perf_counter()
                plain_found = session.execute(
                    select(plain_cls).where(*plain_where(person)).order_by(plain.c.mrn).limit(25)).scalars().all()
                t2 = time.perf_counter()
                assert any(p.id == person["id"] for p in found), (name, person["mrn"])
                assert plain_found
                session.expunge_all()
                if i >= 20:  # warm-up
                    enc_times.append(t1 - t0)
                    plain_times.append(t2 - t1)
            results.append((name, enc_times, plain_times))
    return results


def _report(label: str, n: int, seconds: float, results) -> None:
    seeded = "reused from an earlier run" if seconds != seconds else f"seeded in {seconds:.1f} s"
    print(f"\n{label}: {n:,} patients ({seeded})")
    print(f"{'query':<18}{'encrypted p50':>15}{'p95':>9}{'plain p50':>12}{'p95':>9}{'p95 ratio':>11}")
    for name, enc, plain in results:
        ratio = _pct(enc, 0.95) / max(_pct(plain, 0.95), 1e-6)
        print(f"{name:<18}{_pct(enc, .5):>12.2f} ms{_pct(enc, .95):>6.2f} ms{_pct(plain, .5):>9.2f} ms"
              f"{_pct(plain, .95):>6.2f} ms{ratio:>10.2f}x")
    print("  encrypted = blind-index HMAC of the query + indexed lookup + decrypting the rows found;")
    print("  plain     = the same lookup on plaintext indexed columns (no crypto); both sides normalize a")
    print("              typed phone number to E.164 and load the same ORM-mapped columns.")


# ---------------------------------------------------------------- registration at N patients

REGISTRATION_TARGET_MS = 30.0
OR_FORM_RUNS = 20  # the old single-statement check costs up to 1.6 s a run at 1,000,000 patients


def _registrants(count: int, seed: int = 23) -> list[dict]:
    """Wizard drafts of new people (form strings), with a phone area and email domain the seeded
    patients never use, so the duplicate check runs in full and finds nobody."""
    from faker import Faker

    fake = Faker("en_US")
    fake.seed_instance(seed)
    rnd = random.Random(seed)
    drafts = []
    for i in range(count):
        given, family = fake.first_name(), fake.last_name()
        drafts.append({
            "basic": {"given_name": given, "family_name": family,
                      "date_of_birth": fake.date_of_birth(minimum_age=0, maximum_age=100).isoformat(),
                      "sex": rnd.choice(("female", "male")),
                      "phone_mobile": f"+1503{rnd.randint(200, 999)}{rnd.randint(0, 9999):04d}",
                      "email": f"new{i}.{uuid.uuid4().hex[:8]}@example.net", "address_line1": fake.street_address(),
                      "city": "Portland", "postal_code": "97205", "preferred_contact_method": "sms",
                      "preferred_language": "English"},
            "history": {"allergies": [{"substance": "Latex", "reaction": "Itching", "severity": "mild"}],
                        "medications": [{"name": "Atorvastatin", "dose": "20 mg", "frequency": "nightly"}],
                        "conditions": [{"description": "Asthma", "code": "J45", "code_system": "ICD-10",
                                        "status": "active"}]},
            "insurance": [{"payer": "Moda Health", "plan": "Silver", "member_id": f"MH-{i:06d}",
                           "relationship": "self", "order": "primary"}],
            "emergency": [{"name": fake.name(), "relationship": "Spouse",
                           "phone": f"+1503{rnd.randint(200, 999)}{rnd.randint(0, 9999):04d}", "order": "primary"}],
        })
    return drafts


def _basic_of(person: dict) -> dict[str, str]:
    """A seeded patient typed into the wizard again: matches by name + dob, email and phone."""
    return {"given_name": person["given_name"], "family_name": person["family_name"],
            "date_of_birth": person["date_of_birth"].isoformat(), "email": person["email"],
            "phone_mobile": person["phone"]}


def _or_form(session, basic: dict[str, str]) -> list:
    """The duplicate check as it was before: one statement, `name+dob OR email OR phone`."""
    from sqlalchemy import or_
    from sqlmodel import select

    from patient_portal.domain.patients import indexes
    from patient_portal.domain.patients.models import STATUS_MERGED, Patient, PatientPhoneKey
    from patient_portal.domain.patients.validation import parse_date

    dob = parse_date(basic["date_of_birth"])
    phones = {indexes.phone_digest(basic.get("phone_mobile"))} - {None}
    clause = or_(Patient.bidx_name_dob == indexes.name_dob_digest(basic["given_name"], basic["family_name"], dob),
                 Patient.bidx_email == indexes.email_digest(basic["email"]),
                 Patient.id.in_(select(PatientPhoneKey.patient_id).where(PatientPhoneKey.digest.in_(phones))))
    return session.exec(select(Patient).where(clause, Patient.status != STATUS_MERGED).limit(20)).all()


def _plain_duplicates(session, basic: dict[str, str]) -> list:
    """The same three lookups on the plaintext twin (no HMAC, no decryption)."""
    from datetime import date

    from sqlalchemy import select, union_all

    from patient_portal.domain.patients.validation import normalize_phone

    _meta, plain, plain_cls = _plain_table()
    dob = date.fromisoformat(basic["date_of_birth"])
    matched = union_all(
        select(plain.c.id).where(plain.c.family_name == basic["family_name"], plain.c.date_of_birth == dob,
                                 plain.c.given_name == basic["given_name"]),
        select(plain.c.id).where(plain.c.email == basic["email"].strip().lower()),
        select(plain.c.id).where(plain.c.phone == normalize_phone(basic["phone_mobile"])),
    ).subquery()
    return session.execute(select(plain_cls).where(plain.c.id.in_(select(matched.c.id))).limit(20)).scalars().all()


def _plan(engine, basic: dict[str, str]) -> list[str]:
    """The database's plan of the duplicate check, as the app sends it."""
    from sqlalchemy import event
    from sqlmodel import Session

    from patient_portal.domain.patients.registration import duplicate_rows

    seen = []

    def grab(_conn, _cursor, statement, parameters, *_args) -> None:
        if "patient_phone_key" in statement:
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", grab)
    try:
        with Session(engine) as session:
            duplicate_rows(session, basic)
    finally:
        event.remove(engine, "before_cursor_execute", grab)
    statement, parameters = seen[0]
    explain = "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) " if engine.dialect.name == "postgresql" \
        else "EXPLAIN QUERY PLAN "
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(explain + statement, parameters).all()
    return [str(row[-1]) for row in rows]


def _measure_registration(engine, sample: list[dict], count: int) -> dict:
    from sqlalchemy import func, select
    from sqlmodel import Session

    from patient_portal.core.access import Actor, Role
    from patient_portal.core.db import unit_of_work
    from patient_portal.domain.patients.models import Patient
    from patient_portal.domain.patients.registration import (
        PossibleDuplicates,
        duplicate_rows,
        register_patient,
    )

    warm = 10
    with Session(engine) as session:  # a seed of their own per run: a rerun on --reuse registers new people
        drafts = _registrants(count + warm, seed=session.execute(select(func.count()).select_from(Patient)).scalar_one())
    staff = Actor(user_id=uuid.uuid4(), role=Role.STAFF, display_name="Bench front desk", session_id=uuid.uuid4(),
                  ip="127.0.0.1")
    out: dict = {"check_new": [], "check_existing": [], "plain_existing": [], "or_existing": [], "register": [],
                 "duplicates_raised": 0}
    with Session(engine) as session:
        for i, draft in enumerate(drafts):
            t0 = time.perf_counter()
            found = duplicate_rows(session, draft["basic"])
            if i >= warm:
                out["check_new"].append(time.perf_counter() - t0)
            assert not found, draft["basic"]
        for i, person in enumerate(sample[:count + warm]):
            basic = _basic_of(person)
            t0 = time.perf_counter()
            found = duplicate_rows(session, basic)
            t1 = time.perf_counter()
            plain_found = _plain_duplicates(session, basic)
            t2 = time.perf_counter()
            assert any(p.id == person["id"] for p, _reasons in found) and plain_found, person["mrn"]
            session.expunge_all()
            if i >= warm:
                out["check_existing"].append(t1 - t0)
                out["plain_existing"].append(t2 - t1)
        for person in sample[:OR_FORM_RUNS]:
            t0 = time.perf_counter()
            found = _or_form(session, _basic_of(person))
            out["or_existing"].append(time.perf_counter() - t0)
            assert any(p.id == person["id"] for p in found)
            session.expunge_all()
    out["register_cpu"] = []
    for i, draft in enumerate(drafts):
        t0, cpu0 = time.perf_counter(), time.process_time()
        try:
            with unit_of_work() as session:
                register_patient(session, staff, draft)
        except PossibleDuplicates:
            out["duplicates_raised"] += 1
        if i >= warm:
            out["register"].append(time.perf_counter() - t0)
            out["register_cpu"].append(time.process_time() - cpu0)
    out["plan"] = _plan(engine, _basic_of(sample[0]))
    return out


def _report_registration(label: str, n: int, figures: dict) -> None:
    def line(name: str, samples: list[float], note: str = "") -> None:
        print(f"{name:<44}{_pct(samples, .5):>9.2f} ms{_pct(samples, .95):>9.2f} ms  {note}")

    print(f"\n{label}: registration at {n:,} patients")
    print(f"{'':<44}{'p50':>12}{'p95':>12}")
    register = figures["register"]
    verdict = "meets" if _pct(register, .95) < REGISTRATION_TARGET_MS else "MISSES"
    line("register_patient, new person (unit of work)", register,
         f"{len(register)} runs; target p95 < {REGISTRATION_TARGET_MS:.0f} ms at 1,000,000 on PostgreSQL: {verdict}")
    line("  its CPU time in this process", figures["register_cpu"],
         "wall minus CPU: the database and waiting for a core on a busy machine")
    line("  duplicate check alone, new person", figures["check_new"])
    line("  duplicate check alone, existing person", figures["check_existing"], "matches by all three")
    line("  same three lookups, plaintext twin", figures["plain_existing"], "baseline: no HMAC, no decryption")
    line("  as one OR statement (before the fix)", figures["or_existing"], f"{len(figures['or_existing'])} runs")
    if figures["duplicates_raised"]:
        print(f"  ({figures['duplicates_raised']} registrations answered with possible duplicates)")
    print("  plan of the duplicate check:")
    for row in figures["plan"]:
        print(f"    {row}")


def _reused_keys(engine, n: int) -> str | None:
    """The key spec of the N patients (and plaintext twin) a previous run seeded here, else None."""
    from sqlalchemy import func, inspect, select

    tables = inspect(engine)
    if not (tables.has_table("bench_plain_patient") and tables.has_table("bench_key")):
        return None
    _meta, plain, _cls = _plain_table()
    with engine.connect() as conn:
        if conn.execute(select(func.count()).select_from(plain)).scalar_one() != n:
            return None
        return conn.exec_driver_sql("SELECT spec FROM bench_key").scalar()


def _sample_from_plain(engine, wanted: list[int]) -> dict[int, dict]:
    """The seeded people at the positions in `wanted`, read back from the plaintext twin by MRN."""
    from sqlalchemy import select

    from patient_portal.domain.patients import mrn

    _meta, plain, _cls = _plain_table()
    by_mrn = {mrn.PREFIX + f"{i + 1:07d}" + mrn.luhn_digit(f"{i + 1:07d}"): i for i in set(wanted)}
    with engine.connect() as conn:
        rows = conn.execute(select(plain.c.id, plain.c.mrn, plain.c.given_name, plain.c.family_name,
                                   plain.c.date_of_birth, plain.c.phone, plain.c.email)
                            .where(plain.c.mrn.in_(list(by_mrn)))).mappings().all()
    return {by_mrn[row["mrn"]]: dict(row) for row in rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("n", nargs="?", type=int, default=10_000)
    parser.add_argument("--pg", default=os.environ.get("PORTAL_BENCH_DATABASE_URL",
                                                       "postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench"))
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--registrations", type=int, default=200)
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--reuse", action="store_true",
                        help="PostgreSQL: measure on the N patients a previous run left instead of seeding again "
                             "(1,000,000 take about 10 minutes to seed)")
    args = parser.parse_args()
    _setup_env()
    from patient_portal.core.db import get_engine
    from patient_portal.domain.patients import registration  # noqa: F401 - fail now, not after seeding
    from patient_portal.settings import reset_settings

    rnd = random.Random(11)
    wanted = [rnd.randrange(args.n) for _ in range(max(args.queries, args.registrations) + 20)]
    targets = []
    if not args.no_pg:
        targets.append(("PostgreSQL", args.pg))
    if not args.no_sqlite:
        targets.append(("SQLite", f"sqlite:///{Path(tempfile.mkdtemp(prefix='portal-bench-')) / 'bench.db'}"))
    for label, url in targets:
        try:
            if url.startswith("postgresql"):
                _ensure_database(url)
            os.environ["PORTAL_DATABASE_URL"] = url  # the use cases open their units of work on it
            reset_settings()
            engine = get_engine()
            keys = _reused_keys(engine, args.n) if args.reuse and url.startswith("postgresql") else None
            if keys:
                os.environ["PORTAL_MASTER_KEYS"] = keys
                reset_settings()
                engine = get_engine()
                seconds, kept = float("nan"), _sample_from_plain(engine, wanted)
            else:
                seconds, kept = _seed(engine, args.n, set(wanted))
            sample = [kept[i] for i in wanted]
            _report(label, args.n, seconds, _measure(engine, sample[:args.queries + 20]))
            _report_registration(label, args.n, _measure_registration(engine, sample, args.registrations))
        except Exception as exc:  # noqa: BLE001 - report and go on to the next database
            print(f"\n{label}: skipped ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})")
        finally:
            reset_settings()
        sys.stdout.flush()


if __name__ == "__main__":
    main()
