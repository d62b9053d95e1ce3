"""Code search benchmark (a script, not a test).

Loads the full ICD-10-CM release (and the small sets) into PostgreSQL — the load is timed, and skipped
when the database already holds the same release — then prints p50/p95/p99 of `codes.search` over a
mix of queries a clinician types: words ("type 2 diab", "chronic kidney"), prefixes cut from real
code names ("frac fem", "unsp"), and codes or code prefixes ("E11.9", "S72"), beside two baselines in
the same run: a concept fetched by primary key, and `codes.get` by code. Target (issue 12): search
p95 < 20 ms on PostgreSQL.

    .venv/bin/python bench/codes.py [--pg URL] [--queries 300] [--sqlite] [--reload]

The PostgreSQL URL defaults to $PORTAL_BENCH_CODES_URL, else
postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench_codes (created when missing; only the code
tables are written). --sqlite runs the same on a temporary SQLite file too.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

WORDS = ["type 2 diab", "diabetes", "hypertension", "essential hypert", "asthma", "unspecified asthma",
         "chronic kidney", "chronic kidney disease stage 3", "copd", "chronic obstructive", "heart failure",
         "atrial fib", "hyperlipid", "obesity", "depression", "anxiety", "migraine", "low back pain", "knee pain",
         "otitis media", "pharyngitis", "sinusitis", "pneumonia", "urinary tract infection", "gerd", "reflux",
         "hypothyroid", "anemia", "vitamin d deficiency", "fracture femur", "frac neck femur left", "sprain ankle",
         "laceration", "fever", "cough", "headache", "abdominal pain", "prediabetes", "pregnancy", "encounter"]


def _ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000  # noqa: E731
    return f"p50 {statistics.median(ordered) * 1000:6.2f} ms   p95 {pick(0.95):6.2f} ms   p99 {pick(0.99):6.2f} ms"


def _queries(session, n: int, rng: random.Random) -> list[str]:
    from sqlalchemy import select

    from patient_portal.domain.codes.models import CodeConcept

    rows = session.execute(select(CodeConcept.code, CodeConcept.display)
                           .where(CodeConcept.code_set == "icd10cm")).all()
    picks = rng.sample(rows, n)
    out = []
    for i, (code, display) in enumerate(picks):
        kind = i % 3
        if kind == 0:
            out.append(WORDS[i % len(WORDS)])
        elif kind == 1:  # a prefix typed from a real name: 1-3 words, the last cut short
            words = [w for w in display.replace(",", " ").split() if len(w) > 2][:3] or [display]
            take = words[:rng.randint(1, len(words))]
            take[-1] = take[-1][:rng.randint(3, max(3, len(take[-1])))]
            out.append(" ".join(take))
        else:  # a code, or its first characters
            out.append(code if rng.random() < 0.5 else code[:rng.randint(2, len(code))])
    return out


def run(label: str, queries: int, reload: bool) -> None:
    from sqlalchemy import select, text

    from patient_portal.core.access import Actor, Role
    from patient_portal.core.coding import ICD10_CM
    from patient_portal.core.db import get_engine, read_only
    from patient_portal.domain.codes import service as codes
    from patient_portal.domain.codes.models import CodeConcept
    from patient_portal.models import metadata

    engine = get_engine()
    metadata.create_all(engine, tables=[t for t in metadata.sorted_tables if t.name.startswith("code_")
                                        or t.name.startswith("audit")])
    started = time.perf_counter()
    for report in codes.load(force=reload):
        print(f"  {report.summary()}")
    print(f"  load: {time.perf_counter() - started:.1f} s")
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE code_token"))
            conn.execute(text("VACUUM ANALYZE code_concept"))
    rng = random.Random(12)
    doctor = Actor(user_id=uuid.uuid4(), role=Role.DOCTOR)
    with read_only() as s:
        mix = _queries(s, queries, rng)
        ids = list(s.scalars(select(CodeConcept.id).where(CodeConcept.code_set == "icd10cm")).all())
        code_list = list(s.scalars(select(CodeConcept.code).where(CodeConcept.code_set == "icd10cm")).all())
        for q in mix[:50]:  # warm the caches
            codes.search(s, doctor, system=ICD10_CM, text=q)
        search, by_kind = [], {0: [], 1: [], 2: []}
        for i, q in enumerate(mix):
            t = time.perf_counter()
            codes.search(s, doctor, system=ICD10_CM, text=q)
            elapsed = time.perf_counter() - t
            search.append(elapsed)
            by_kind[i % 3].append(elapsed)
        pk, get = [], []
        for _ in range(queries):
            cid = rng.choice(ids)
            t = time.perf_counter()
            s.get(CodeConcept, cid)
            pk.append(time.perf_counter() - t)
            s.expunge_all()
            code = rng.choice(code_list)
            t = time.perf_counter()
            codes.get(s, ICD10_CM, code)
            get.append(time.perf_counter() - t)
    slowest = sorted(zip(search, mix, strict=True), reverse=True)[:5]
    print(f"  {label}: {len(mix)} searches over {len(ids)} ICD-10-CM codes (load avg {os.getloadavg()[0]:.1f})")
    print(f"    search, all          {_ms(search)}")
    print(f"      words              {_ms(by_kind[0])}")
    print(f"      typed prefixes     {_ms(by_kind[1])}")
    print(f"      codes              {_ms(by_kind[2])}")
    print(f"    baseline: by key     {_ms(pk)}")
    print(f"    baseline: codes.get  {_ms(get)}")
    print("    slowest: " + ", ".join(f"{q!r} {t * 1000:.1f} ms" for t, q in slowest))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg", default=os.environ.get("PORTAL_BENCH_CODES_URL",
                                                       "postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench_codes"))
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--sqlite", action="store_true", help="run on a temporary SQLite file as well")
    parser.add_argument("--reload", action="store_true", help="load the code tables again even when current")
    args = parser.parse_args()

    from sqlalchemy import create_engine, text

    from patient_portal.settings import reset_settings

    instance = tempfile.mkdtemp(prefix="portal-bench-codes-")
    os.environ.update(PORTAL_ENV="demo", PORTAL_INSTANCE_DIR=instance)
    base, _, name = args.pg.rpartition("/")
    admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first() is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    os.environ["PORTAL_DATABASE_URL"] = args.pg
    reset_settings()
    print("PostgreSQL")
    run("PostgreSQL", args.queries, args.reload)
    if args.sqlite:
        os.environ.pop("PORTAL_DATABASE_URL")
        reset_settings()
        print("SQLite")
        run("SQLite", args.queries, True)


if __name__ == "__main__":
    main()
