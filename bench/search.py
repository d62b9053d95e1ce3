"""Patient search benchmark (a script, not a test).

Seeds N synthetic patients (faker) with bulk inserts into PostgreSQL and SQLite, then prints p50/p95
latency of searches by last name + date of birth, MRN and phone over the blind indexes (HMAC of the
query, indexed lookup, decryption of the rows found), beside the same lookup on an unencrypted,
indexed copy of the data in the same run. Targets at 100,000 patients on PostgreSQL: p95 < 20 ms and
at most 1.5x the unencrypted query.

    .venv/bin/python bench/search.py [N] [--pg URL] [--queries 300] [--no-sqlite]

The PostgreSQL URL defaults to $PORTAL_BENCH_DATABASE_URL, else
postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench. Its patient tables are dropped and recreated.
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
            if col.name in ("family_name", "mrn"):
                continue
            kind = col.info.get("encrypted")
            col_type = Date() if kind == "date" else (Text() if kind else col.type)
            columns.append(Column(col.name, col_type, primary_key=col.primary_key))
        table = Table("bench_plain_patient", meta, *columns,
                      Column("mrn", String(16), unique=True, index=True),
                      Column("family_name", String(100), index=True),
                      Column("phone", String(20), index=True),
                      Index("ix_bench_plain_family_dob", "family_name", "date_of_birth"))

        class PlainPatient:
            pass

        registry(metadata=meta).map_imperatively(PlainPatient, table)
        _PLAIN = (meta, table, PlainPatient)
    return _PLAIN


def _people(n: int, seed: int = 7) -> list[dict]:
    from faker import Faker

    from patient_portal.domain.patients import mrn

    fake = Faker("en_US")
    Faker.seed(seed)
    rnd = random.Random(seed)
    areas = ("617", "212", "415", "312", "202", "305", "713", "206")
    people = []
    for i in range(n):
        body = f"{i + 1:07d}"
        phone = f"+1{rnd.choice(areas)}{rnd.randint(200, 999)}{rnd.randint(0, 9999):04d}"
        people.append({
            "id": uuid.uuid4(), "mrn": mrn.PREFIX + body + mrn.luhn_digit(body),
            "given_name": fake.first_name(), "family_name": fake.last_name(),
            "date_of_birth": fake.date_of_birth(minimum_age=0, maximum_age=100), "phone": phone,
            "email": f"user{i}@example.org", "sex": rnd.choice(("female", "male")),
        })
    return people


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


def _seed(engine, people: list[dict]) -> float:
    from sqlmodel import SQLModel

    from patient_portal.domain.patients.models import Patient, PatientPhoneKey

    tables = [Patient.__table__, PatientPhoneKey.__table__]
    meta, plain, _cls = _plain_table()
    if engine.dialect.name == "postgresql":  # other tables of a full schema may point at patient
        from sqlalchemy import text

        with engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS patient_phone_key, patient CASCADE"))
    SQLModel.metadata.drop_all(engine, tables=list(reversed(tables)))
    meta.drop_all(engine)
    SQLModel.metadata.create_all(engine, tables=tables)
    meta.create_all(engine)
    start = time.perf_counter()
    for i in range(0, len(people), BATCH):
        chunk = people[i:i + BATCH]
        rows, phones = _encrypted_rows(chunk)
        plain_rows = [{**row, "given_name": p["given_name"], "family_name": p["family_name"],
                       "date_of_birth": p["date_of_birth"], "sex": p["sex"], "email": p["email"],
                       "phones": f'[{{"type":"mobile","number":"{p["phone"]}"}}]', "phone": p["phone"],
                       "preferred_language": "English", "preferred_contact_method": "sms"}
                      for row, p in zip(rows, chunk, strict=True)]
        with engine.begin() as conn:
            conn.execute(Patient.__table__.insert(), rows)
            conn.execute(PatientPhoneKey.__table__.insert(), phones)
            conn.execute(plain.insert(), plain_rows)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    return time.perf_counter() - start


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] * 1000


def _measure(engine, people: list[dict], queries: int) -> list[tuple[str, list[float], list[float]]]:
    from sqlmodel import Session, select

    from patient_portal.domain.patients.search import parse_query, run_query
    from patient_portal.domain.patients.validation import normalize_phone

    _meta, plain, plain_cls = _plain_table()
    rnd = random.Random(11)
    sample = [rnd.choice(people) for _ in range(queries)]
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
    print(f"\n{label}: {n:,} patients (seeded in {seconds:.1f} s)")
    print(f"{'query':<18}{'encrypted p50':>15}{'p95':>9}{'plain p50':>12}{'p95':>9}{'p95 ratio':>11}")
    for name, enc, plain in results:
        ratio = _pct(enc, 0.95) / max(_pct(plain, 0.95), 1e-6)
        print(f"{name:<18}{_pct(enc, .5):>12.2f} ms{_pct(enc, .95):>6.2f} ms{_pct(plain, .5):>9.2f} ms"
              f"{_pct(plain, .95):>6.2f} ms{ratio:>10.2f}x")
    print("  encrypted = blind-index HMAC of the query + indexed lookup + decrypting the rows found;")
    print("  plain     = the same lookup on plaintext indexed columns (no crypto); both sides normalize a")
    print("              typed phone number to E.164 and load the same ORM-mapped columns.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("n", nargs="?", type=int, default=10_000)
    parser.add_argument("--pg", default=os.environ.get("PORTAL_BENCH_DATABASE_URL",
                                                       "postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench"))
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()
    _setup_env()
    from patient_portal.core.db import build_engine

    people = _people(args.n)
    targets = []
    if not args.no_pg:
        targets.append(("PostgreSQL", args.pg))
    if not args.no_sqlite:
        targets.append(("SQLite", f"sqlite:///{Path(tempfile.mkdtemp(prefix='portal-bench-')) / 'bench.db'}"))
    for label, url in targets:
        engine = build_engine(url)
        try:
            seconds = _seed(engine, people)
            _report(label, args.n, seconds, _measure(engine, people, args.queries + 20))
        except Exception as exc:  # noqa: BLE001 - report and go on to the next database
            print(f"\n{label}: skipped ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})")
        finally:
            engine.dispose()


if __name__ == "__main__":
    main()
