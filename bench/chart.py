"""Chart benchmark (a script, not a test): what opening a chart costs on PostgreSQL.

Seeds each chart of CHARTS into a database of its own, then calls the real services as a doctor on
the patient's care team, --runs times each call of CALLS (after a warm-up), and prints per call its
p50/p95 wall time — the whole unit of work: policy, reads, decryption, audit event, commit — and the
number of SQL statements it sends, counted with a ``before_cursor_execute`` listener on the app's
engine (as tests/integration/sql_counter.py does), beside the target. "reads" leaves out the audit
append (on PostgreSQL a read's event goes to the audit queue in the read's own transaction; the
process's chainer moves it into the chain after the commit, on its own connection, not counted here).

Charts:
  documents   a patient registered through the wizard, then 200 documents (metadata rows and a
              current version each: a list reads no blobs) and 500 history rows (conditions,
              medications, allergies, immunizations, family history).

Calls (a doctor on the care team):
  chart_header                  domain/patients/header.py            target <= 5 statements
  documents page, default sort  documents list, 25 rows, date_desc   target <= 6 statements
  documents page, by title      every visible title decrypted         target <= 6 statements
  documents page, source + dates  filtered in the service            target <= 6 statements
p95 is printed; it has no target of its own here (compare with an earlier run).

    .venv/bin/python bench/chart.py [--pg URL] [--runs 200] [--schema alembic|create_all] [--keep]

The URL defaults to $PORTAL_BENCH_DATABASE_URL, else
postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench_chart; that database is dropped, created,
migrated with the app's own Alembic upgrade (`portal db upgrade`'s code path; --schema create_all
builds it from the models instead) and dropped again at the end unless --keep.

Adding to it: a new kind of chart (issue 12: a ten-year patient with vitals, results and notes) is a
function that seeds one patient and returns a `Chart`, registered in CHARTS; a new service call is a
`Call` in CALLS naming the charts it runs on. The measuring and the report need no change.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench_chart"
WARMUP = 10


@dataclass
class Chart:
    """One seeded patient and the people who open it."""

    name: str
    description: str
    patient_id: uuid.UUID
    doctor: Any  # core.access.Actor on the care team
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Call:
    """One service call to measure on the charts named in `charts`."""

    name: str
    run: Callable[[Chart], Any]
    target_statements: int | None
    charts: tuple[str, ...]
    check: Callable[[Chart, Any], None] = lambda _chart, _result: None


# ---------------------------------------------------------------- environment and database


def _setup_env(url: str) -> None:
    os.environ["PORTAL_INSTANCE_DIR"] = tempfile.mkdtemp(prefix="portal-bench-chart-")
    os.environ["PORTAL_DATABASE_URL"] = url
    os.environ.setdefault("PORTAL_ENV", "demo")
    if not os.environ.get("PORTAL_MASTER_KEYS"):
        from patient_portal.core.crypto import generate_key_spec

        os.environ["PORTAL_MASTER_KEYS"] = generate_key_spec("bench")
    from patient_portal.settings import reset_settings

    reset_settings()


def _admin(url: str, sql: str) -> None:
    """Run one statement on the server's maintenance database (CREATE/DROP DATABASE)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(sql))
    finally:
        admin.dispose()


def _database_name(url: str) -> str:
    from sqlalchemy.engine import make_url

    name = make_url(url).database or ""
    if not name.replace("_", "").isalnum():
        raise SystemExit(f"unexpected database name {name!r}")
    return name


def _create_database(url: str, schema: str) -> None:
    name = _database_name(url)
    _admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin(url, f'CREATE DATABASE "{name}"')
    if schema == "alembic":
        from patient_portal.core.migrations import upgrade

        upgrade()
    else:
        from patient_portal.core.db import get_engine
        from patient_portal.models import metadata

        metadata.create_all(get_engine())


def _drop_database(url: str) -> None:
    from patient_portal.settings import reset_settings

    time.sleep(0.2)  # the audit chainer, woken by the last read's commit, finishes on its connection
    reset_settings()
    _admin(url, f'DROP DATABASE IF EXISTS "{_database_name(url)}" WITH (FORCE)')


# ---------------------------------------------------------------- charts


def _doctor_on_care_team(patient_id: uuid.UUID):
    from patient_portal.core.access import Actor, CareTeamMember, Role
    from patient_portal.core.db import unit_of_work

    doctor = Actor(user_id=uuid.uuid4(), role=Role.DOCTOR, display_name="Dr Bench", session_id=uuid.uuid4(),
                   ip="127.0.0.1")
    with unit_of_work() as session:
        session.add(CareTeamMember(patient_id=patient_id, user_id=doctor.user_id))
    return doctor


def _register(rnd: random.Random) -> uuid.UUID:
    """A patient registered through the staff wizard (insurance, an emergency contact, intake history)."""
    from patient_portal.core.access import Actor, Role
    from patient_portal.core.db import unit_of_work
    from patient_portal.domain.patients.registration import register_patient

    staff = Actor(user_id=uuid.uuid4(), role=Role.STAFF, display_name="Bench desk", session_id=uuid.uuid4())
    draft = {
        "basic": {"given_name": "Elena", "family_name": "Marsh", "date_of_birth": "1961-04-23", "sex": "female",
                  "phone_mobile": f"+1617555{rnd.randint(0, 9999):04d}", "email": f"elena.{rnd.randint(0, 10**6)}@example.com",
                  "address_line1": "4 Elm St", "city": "Boston", "postal_code": "02118",
                  "preferred_contact_method": "sms", "preferred_language": "English"},
        "history": {"allergies": [{"substance": "Latex", "reaction": "Itching", "severity": "mild"}]},
        "insurance": [{"payer": "Tufts Health", "plan": "Silver", "member_id": "TH-0091", "relationship": "self",
                       "order": "primary"}],
        "emergency": [{"name": "Tom Marsh", "relationship": "Husband", "phone": "+1 617 555 0134",
                       "order": "primary"}],
    }
    with unit_of_work() as session:
        return register_patient(session, staff, draft, confirmed_different=True).patient_id


#: History rows of the documents chart, by kind (500 in all, the intake allergy included).
HISTORY_MIX = {"conditions": 180, "medications": 160, "allergies": 19, "immunizations": 90, "family_history": 50}

#: Documents of the documents chart, by category (200 in all).
DOCUMENT_MIX = {"lab_result": 90, "imaging_report": 30, "medical_document": 35, "prescription": 25,
                "insurance_card": 10, "identity_document": 5, "advance_directive": 1, "other": 4}


def _history(session, patient_id: uuid.UUID, rnd: random.Random, by: uuid.UUID) -> int:
    from patient_portal.domain.history import rows as history_rows

    start = date(2006, 1, 1)
    made = 0
    for kind, count in HISTORY_MIX.items():
        for i in range(count):
            day = (start + timedelta(days=rnd.randint(0, 7000))).isoformat()
            values = {
                "conditions": {"description": f"Condition {i}", "code": f"E{i % 90 + 10}.{i % 10}",
                               "code_system": "ICD-10", "onset": day, "status": rnd.choice(("active", "resolved"))},
                "medications": {"name": f"Medication {i}", "dose": f"{rnd.choice((5, 10, 20, 40))} mg",
                                "frequency": rnd.choice(("daily", "nightly", "twice daily")), "rxnorm": str(300000 + i)},
                "allergies": {"substance": f"Substance {i}", "reaction": "Rash",
                              "severity": rnd.choice(("mild", "moderate", "severe"))},
                "immunizations": {"vaccine": rnd.choice(("Influenza", "Tdap", "COVID-19", "Hepatitis B")),
                                  "given_on": day, "cvx": str(rnd.choice((88, 115, 213, 45)))},
                "family_history": {"relative": rnd.choice(("Mother", "Father", "Sister", "Brother")),
                                   "condition": f"Condition {i}"},
            }[kind]
            history_rows.add(session, patient_id, kind, values, recorded_by=by, source="clinician")
            made += 1
    return made


def _documents(session, patient_id: uuid.UUID, rnd: random.Random, doctor, staff_id: uuid.UUID) -> int:
    """Document rows with a current version each, as an upload leaves them (no blob: lists read none)."""
    from patient_portal.core.db import utcnow
    from patient_portal.domain.documents.models import ADMINISTRATIVE, Document, DocumentVersion

    now = utcnow()
    made = 0
    sources = ("City Lab", "Radiology", "Boston General", "Dr Bench", "Front desk", None)
    for category, count in DOCUMENT_MIX.items():
        for i in range(count):
            admin_doc = category in ADMINISTRATIVE
            by = staff_id if admin_doc else doctor.user_id
            doc_id = uuid.uuid4()
            held = category == "lab_result" and i % 15 == 0
            session.add(Document(
                id=doc_id, patient_id=patient_id, category=category, title=f"{category.replace('_', ' ')} {i:03d}",
                service_date=date(2016, 1, 1) + timedelta(days=rnd.randint(0, 3500)),
                source=rnd.choice(sources), note="Reviewed" if i % 4 == 0 else None, uploaded_by=by,
                uploaded_by_name="Sam Staff" if admin_doc else doctor.display_name,
                hold_until=(now.date() + timedelta(days=9)) if held else None, hold_set_by=doctor.user_id if held else None,
                created_at=now - timedelta(minutes=made), updated_at=now - timedelta(minutes=made)))
            session.flush()
            session.add(DocumentVersion(
                document_id=doc_id, number=1, object_key=None, wrapped_key=None, sha256="0" * 64,
                size_bytes=rnd.randint(20_000, 900_000), kind="png" if admin_doc else "pdf",
                filename=f"{category}-{i:03d}.pdf", uploaded_by=by, uploaded_by_name=doctor.display_name))
            made += 1
    return made


def documents_chart(rnd: random.Random) -> Chart:
    from patient_portal.core.db import unit_of_work

    patient_id = _register(rnd)
    doctor = _doctor_on_care_team(patient_id)
    with unit_of_work() as session:
        history = _history(session, patient_id, rnd, doctor.user_id) + 1  # + the intake allergy
        documents = _documents(session, patient_id, rnd, doctor, uuid.uuid4())
    return Chart("documents", f"{documents} documents, {history} history rows", patient_id, doctor)


#: name -> seeder. Issue 12 adds the ten-year patient (vitals, results, notes) here.
CHARTS: dict[str, Callable[[random.Random], Chart]] = {"documents": documents_chart}


# ---------------------------------------------------------------- calls


def _header(chart: Chart):
    from patient_portal.core.db import unit_of_work
    from patient_portal.domain.patients.header import chart_header

    with unit_of_work() as session:
        return chart_header(session, chart.doctor, chart.patient_id)


def _documents_page(**ask) -> Callable[[Chart], Any]:
    def run(chart: Chart):
        from patient_portal.domain.documents.service import list_documents

        return list_documents(chart.doctor, patient_id=chart.patient_id, **ask)

    return run


def _header_check(chart: Chart, header) -> None:
    assert header.patient["name"] == "Elena Marsh" and len(header.allergies) == HISTORY_MIX["allergies"] + 1
    assert header.alerts == ["advance_directive"] and header.insured


def _full_page(chart: Chart, page) -> None:
    assert len(page.items) == 25 and page.total == sum(DOCUMENT_MIX.values()), (len(page.items), page.total)


def _some_rows(chart: Chart, page) -> None:
    assert page.items and page.total < sum(DOCUMENT_MIX.values()), page.total


CALLS: list[Call] = [
    Call("chart_header", _header, 5, ("documents",), _header_check),
    Call("documents page, default sort", _documents_page(), 6, ("documents",), _full_page),
    Call("documents page, by title", _documents_page(sort="title"), 6, ("documents",), _full_page),
    Call("documents page, source + dates", _documents_page(source="lab", date_from="2017-01-01",
                                                            date_to="2024-12-31"),
         6, ("documents",), _some_rows),
]


# ---------------------------------------------------------------- measuring and the report


def _is_audit(statement: str) -> bool:
    return "audit_event" in statement or "pg_advisory" in statement


def _measure(call: Call, chart: Chart, runs: int) -> tuple[list[float], list[float], list[int], list[int]]:
    """Wall seconds, CPU seconds of this process, statements and reads of each run after the warm-up."""
    from sqlalchemy import event

    from patient_portal.core.db import get_engine

    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    engine = get_engine()
    times, cpu, statements, reads = [], [], [], []
    event.listen(engine, "before_cursor_execute", count)
    try:
        for i in range(runs + WARMUP):
            seen.clear()
            t0, cpu0 = time.perf_counter(), time.process_time()
            result = call.run(chart)
            elapsed, used = time.perf_counter() - t0, time.process_time() - cpu0
            if i == 0:
                call.check(chart, result)
            if i >= WARMUP:
                times.append(elapsed)
                cpu.append(used)
                statements.append(len(seen))
                reads.append(sum(1 for s in seen if not _is_audit(s)))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return times, cpu, statements, reads


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] * 1000


def _spread(values: list[int]) -> str:
    low, high = min(values), max(values)
    return str(high) if low == high else f"{low}-{high}"


def _report(chart: Chart, rows: list[tuple[Call, list[float], list[float], list[int], list[int]]],
            runs: int) -> None:
    print(f"\nchart '{chart.name}': {chart.description} (seeded in {chart.seconds:.1f} s); "
          f"{runs} runs per call after {WARMUP} warm-up, as a doctor on the care team")
    print(f"{'call':<36}{'p50':>10}{'p95':>11}{'CPU p50':>11}{'statements':>12}{'reads':>7}   target")
    for call, times, cpu, statements, reads in rows:
        verdict = ""
        if call.target_statements is not None:
            ok = max(statements) <= call.target_statements
            verdict = f"<= {call.target_statements} statements: {'meets' if ok else 'MISSES'}"
        print(f"{call.name:<36}{_pct(times, .5):>7.2f} ms{_pct(times, .95):>8.2f} ms{_pct(cpu, .5):>8.2f} ms"
              f"{_spread(statements):>12}{_spread(reads):>7}   {verdict}")
    print("  CPU        = this process's CPU time per call (steadier than wall time on a busy machine);")
    print("  statements = everything the call sends on the app's engine (the audit event included);")
    print("  reads      = the same without the audit append (the chainer's work after the commit is not counted).")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg", default=os.environ.get("PORTAL_BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--schema", choices=("alembic", "create_all"), default="alembic")
    parser.add_argument("--charts", default=",".join(CHARTS), help="comma-separated names of CHARTS to run")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    if not args.pg.startswith("postgresql"):
        raise SystemExit("bench/chart.py measures PostgreSQL: --pg postgresql+psycopg://...")
    _setup_env(args.pg)
    _create_database(args.pg, args.schema)
    try:
        rnd = random.Random(7)
        for name in args.charts.split(","):
            t0 = time.perf_counter()
            chart = CHARTS[name](rnd)
            chart.seconds = time.perf_counter() - t0
            rows = [(call, *_measure(call, chart, args.runs)) for call in CALLS if name in call.charts]
            _report(chart, rows, args.runs)
            sys.stdout.flush()
    finally:
        if not args.keep:
            _drop_database(args.pg)


if __name__ == "__main__":
    main()
