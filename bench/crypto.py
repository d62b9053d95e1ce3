"""Benchmark of the encryption layer (a script, not a test).

Prints microseconds per field for encrypt, decrypt and blind index, and the time to load and
decrypt a 50-row page of patients through the ORM (target: under 2 ms for the decryption).

    .venv/bin/python bench/crypto.py [--rows 2000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _per_call_us(fn, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()

    os.environ.setdefault("PORTAL_INSTANCE_DIR", tempfile.mkdtemp(prefix="portal-bench-"))
    from sqlmodel import select

    from patient_portal.core import crypto
    from patient_portal.core.db import get_engine, unit_of_work
    from patient_portal.domain.patients.models import Patient
    from patient_portal.models import metadata

    row = uuid.uuid4()
    token = crypto.encrypt_value("str", "Maria Garcia", "patient", "family_name", row)
    n = 20_000
    print(f"encrypt one field       {_per_call_us(lambda: crypto.encrypt_value('str', 'Maria Garcia', 'patient', 'family_name', row), n):7.2f} µs")
    print(f"decrypt one field       {_per_call_us(lambda: crypto.decrypt_value('str', token, 'patient', 'family_name', row), n):7.2f} µs")
    print(f"blind index one value   {_per_call_us(lambda: crypto.blind_index('patient.family', 'Garcia'), n):7.2f} µs")

    metadata.create_all(get_engine())
    with unit_of_work() as session:
        for i in range(args.rows):
            session.add(Patient(
                mrn=f"B{i:09d}", given_name=f"Given{i}", family_name=f"Family{i}", preferred_name=None,
                date_of_birth=date(1950 + i % 60, 1 + i % 12, 1 + i % 28), sex="female",
                address={"line1": f"{i} Main St", "city": "Springfield", "postal_code": "12345"},
                phones=[{"type": "mobile", "number": f"+1555{i:07d}"}], email=f"p{i}@example.org",
                preferred_language="en", preferred_contact_method="email",
            ))

    page_ms, decrypt_ms = [], []
    encrypted_fields = crypto._encrypted_columns(Patient.__mapper__)
    for _ in range(args.repeat):
        with unit_of_work() as session:
            start = time.perf_counter()
            rows = session.exec(select(Patient).order_by(Patient.mrn).limit(50)).all()
            page_ms.append((time.perf_counter() - start) * 1e3)
        assert len(rows) == 50 and rows[0].given_name.startswith("Given")
        tokens = [(r.id, key, kind, crypto.encrypt_value(kind, getattr(r, key), "patient", key, r.id))
                  for r in rows for key, kind in encrypted_fields if getattr(r, key) is not None]
        start = time.perf_counter()
        for rid, key, kind, tok in tokens:
            crypto.decrypt_value(kind, tok, "patient", key, rid)
        decrypt_ms.append((time.perf_counter() - start) * 1e3)

    p50 = statistics.median(decrypt_ms)
    print(f"decrypt a 50-row page   {p50:7.3f} ms p50, {sorted(decrypt_ms)[int(len(decrypt_ms) * .95)]:.3f} ms p95 "
          f"({len(tokens)} fields; {50 / p50 * 1000:,.0f} rows/s)  target < 2 ms")
    print(f"load+decrypt 50 via ORM {statistics.median(page_ms):7.3f} ms p50 (SQLite query included)")


if __name__ == "__main__":
    main()
