"""Chart benchmark (a script, not a test): what opening a chart costs on PostgreSQL.

Seeds each chart of CHARTS into one database, then calls the real services as a doctor on the
patient's care team, --runs times each call of CALLS (after a warm-up), and prints per call its
p50/p95 wall time — the whole unit of work: policy, reads, decryption, audit event, commit — its CPU
time in this process, and the number of SQL statements it sends, counted with a
``before_cursor_execute`` listener on the app's engine (as tests/integration/sql_counter.py does),
beside the target. "reads" leaves out the audit append (on PostgreSQL a read's event goes to the
audit queue in the read's own transaction; the process's chainer moves it into the chain after the
commit, on its own connection, not counted here; each run waits for it to finish first).

Charts:
  documents   a patient registered through the wizard, then 200 documents (metadata rows and a
              current version each: a list reads no blobs) and 500 history rows (conditions,
              medications, allergies, immunizations, family history).
  small       the baseline: a patient just registered at the desk (one intake allergy).
  ten_year    issue 12's patient: ten years of 60 ICD-10-CM conditions, 80 formulary medications
              (24 active), 5 allergies, 3,000 sets of vitals (150 clinic visits, the rest home
              readings: ~6,400 observation rows), 400 lab results (100 panels) and 150 signed visit
              notes, written through the areas' services (``ten_year_chart``). The full ICD-10-CM
              release and the small code sets are loaded first (`portal codes load`'s code path).
After seeding the database is VACUUM ANALYZEd, as autovacuum would be soon after such a load.

Calls (a doctor on the care team); issue 12's bars are p95 wall times:
  chart_header, documents pages         (documents)   <= 5 / <= 6 statements
  baseline: SELECT 1 unit               (small, ten_year)  a unit of work with one trivial statement
  chart summary (header + chart)        (small, ten_year)  the chart's first page      p95 < 50 ms
  timeline page 1 (with header)         (small, ten_year)  domain/timeline             p95 < 50 ms
  timeline page 10, visits only         (ten_year)         deeper pages, one kind
  baseline: codes.get E11.9             (ten_year)         one code by its key
  code search 'type 2 diab', 'E11', 'hypertension', 'copd'  the code picker's search  p95 < 20 ms
  code search 'unspecified superficial injur'  every word common (ranges intersected)
  baseline: policy + audit event + commit (small, ten_year)  the floor of any audited read (WAL flush)
  prescription check (check_order)      (small, ten_year)  the audited unit: policy, patient,
                                                            formulary, facts, check, audit, commit
  prescription check, reads + check     (small, ten_year)  the check with its reads     p95 < 5 ms
  prescription check, checks.check only (small, ten_year)  the pure function

    .venv/bin/python bench/chart.py [--pg URL] [--runs 200] [--charts documents,small,ten_year]
                                    [--schema alembic|create_all] [--keep]

The URL defaults to $PORTAL_BENCH_DATABASE_URL, else
postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench_chart; that database is dropped, created,
migrated with the app's own Alembic upgrade (`portal db upgrade`'s code path; --schema create_all
builds it from the models instead) and dropped again at the end unless --keep. A default run takes
about 2 minutes on the 2-core machine at load 3 (the ICD-10-CM load ~12 s, the ten-year seeding 25-45 s).
Wall times on a machine others are using measure them too: read the CPU column beside them.

Adding to it: a new kind of chart is a function that seeds one patient and returns a `Chart`,
registered in CHARTS; a new service call is a `Call` in CALLS naming the charts it runs on. The
measuring and the report need no change.
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
    target_p95_ms: float | None = None  # issue 12's bars: p95 wall time of the whole call


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


def _vacuum() -> None:
    """VACUUM ANALYZE after seeding, as autovacuum soon would after such a load: fresh planner
    statistics, and the visibility map that lets index-only scans skip the table (the code tables'
    word index, the observations' time index). Measuring while autovacuum runs measures autovacuum."""
    from sqlalchemy import text

    from patient_portal.core.db import get_engine

    with get_engine().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


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


def small_chart(rnd: random.Random) -> Chart:
    """The baseline: a patient just registered at the desk (the intake allergy, nothing else)."""
    patient_id = _register(rnd)
    return Chart("small", "registered at the desk: one intake allergy, nothing else", patient_id,
                 _doctor_on_care_team(patient_id))


#: The ten-year patient of issue 12's bar, by what is seeded (every row through the area's service).
TEN_YEARS = {"conditions": 60, "medications": 80, "vitals": 3000, "results": 400, "visit notes": 150}
#: Medications still taken (distinct formulary drugs; the rest were stopped over the years).
ACTIVE_MEDICATIONS = 24
#: Drug allergies the prescription check reads (beside the intake latex allergy).
ALLERGIES = ({"substance": "Penicillins", "category": "drug_class", "reaction": "Hives, throat swelling",
              "severity": "severe", "criticality": "high"},
             {"code": "sulfamethoxazole-trimethoprim", "reaction": "Rash", "severity": "moderate"},
             {"code": "ciprofloxacin", "reaction": "Tendon pain", "severity": "mild"},
             {"substance": "Peanuts", "category": "food", "reaction": "Anaphylaxis", "severity": "severe",
              "criticality": "high"})
#: Four tests a panel, as a lab reports them.
PANELS = (("Lipid panel", (("2093-3", 150, 260), ("2085-9", 35, 70), ("13457-7", 70, 190), ("2571-8", 80, 240))),
          ("Basic metabolic panel", (("2345-7", 80, 160), ("2160-0", 0.6, 1.4), ("2951-2", 134, 146),
                                     ("2823-3", 3.4, 5.3))),
          ("Liver panel", (("1742-6", 10, 70), ("1920-8", 12, 50), ("6768-6", 50, 150), ("1975-2", 0.2, 1.4))),
          ("Blood count", (("718-7", 11.5, 16), ("4544-3", 35, 48), ("6690-2", 4, 12), ("777-3", 140, 420))))
LAB = "Boston Clinical Laboratories"


def _units(work: list[Callable[[Any], Any]], per_unit: int = 100) -> None:
    """Run the service calls `work` (each takes a session), `per_unit` to a transaction."""
    from patient_portal.core.db import unit_of_work

    for start in range(0, len(work), per_unit):
        with unit_of_work() as session:
            for call in work[start:start + per_unit]:
                call(session)


def _moments(rnd: random.Random, count: int, first: date, last: date, hours: tuple[int, int]) -> list[Any]:
    """`count` distinct aware times between two days (oldest first), at clinic-like hours."""
    from datetime import datetime
    from datetime import time as day_time

    from patient_portal.core.clock import clinic_zone

    span = (last - first).days
    seen: set[Any] = set()
    while len(seen) < count:
        day = first + timedelta(days=rnd.randint(0, span))
        seen.add(datetime.combine(day, day_time(rnd.randint(*hours), rnd.choice((0, 10, 20, 30, 40, 50))),
                                  clinic_zone()))
    return sorted(seen)


def ten_year_chart(rnd: random.Random) -> Chart:
    """Issue 12's ten-year patient, written through the areas' services as the care-team doctor (and
    the patient, for home readings), so every row is validated, coded, encrypted and audited as in
    real use: 60 ICD-10-CM conditions, 80 formulary medications (ACTIVE_MEDICATIONS still active),
    the ALLERGIES, 3,000 sets of vitals (150 clinic visits' full sets, the rest home blood-pressure,
    weight and glucose readings, all but the last fortnight's verified by the doctor: ``_verify_readings``),
    400 lab results (100 panels of four, released)
    and 150 signed visit notes. Needs the code tables loaded (``_load_codes``)."""
    from sqlalchemy import func
    from sqlmodel import select

    from patient_portal.core.access import Actor, Role
    from patient_portal.core.coding import ICD10_CM
    from patient_portal.core.db import unit_of_work
    from patient_portal.domain.codes import service as codes
    from patient_portal.domain.codes.models import CodeConcept
    from patient_portal.domain.history import service as history
    from patient_portal.domain.observations import service as observations
    from patient_portal.domain.observations.models import Observation
    from patient_portal.domain.results import service as results
    from patient_portal.domain.visits import service as visits

    patient_id = _register(rnd)
    doctor = _doctor_on_care_team(patient_id)
    patient = Actor(user_id=uuid.uuid4(), role=Role.PATIENT, display_name="Elena Marsh", patient_id=patient_id)
    today = date.today()
    first = today - timedelta(days=3652)
    with unit_of_work() as session:
        common = [c for c in (codes.get(session, ICD10_CM, code) for code in _common_icd10()) if c is not None]
        drugs = list(session.scalars(select(CodeConcept.code).where(CodeConcept.code_set == "formulary")
                                     .order_by(CodeConcept.code)).all())
    drugs = [d for d in drugs if d not in ("amoxicillin", "amoxicillin-clavulanate", "penicillin-v", "dicloxacillin",
                                           "sulfamethoxazole-trimethoprim", "ciprofloxacin")]
    rnd.shuffle(drugs)
    work: list[Callable[[Any], Any]] = []

    def history_item(kind: str, values: dict[str, str]) -> Callable[[Any], Any]:
        return lambda s: history.save_item(s, doctor, patient_id=patient_id, kind=kind, values=values)

    for i in range(TEN_YEARS["conditions"]):
        coding = common[i % len(common)]
        onset = first + timedelta(days=rnd.randint(0, 3600))
        work.append(history_item("conditions", {
            "code": coding.code, "onset": onset.isoformat(), "note": f"Seen {i % 7 + 1} times" if i % 3 else "",
            "status": "active" if i % 3 == 0 else rnd.choice(("resolved", "inactive"))}))
    for allergy in ALLERGIES:
        work.append(history_item("allergies", dict(allergy)))
    for i in range(TEN_YEARS["medications"]):
        active = i < ACTIVE_MEDICATIONS
        start = first + timedelta(days=rnd.randint(0, 3000))
        values = {"drug": drugs[i % len(drugs)], "dose": f"{rnd.choice((5, 10, 20, 25, 50, 100))} mg",
                  "frequency": rnd.choice(("once daily", "twice daily", "at bedtime")),
                  "start_date": start.isoformat(), "prescriber": "Dr Bench",
                  "status": "active" if active else rnd.choice(("stopped", "completed"))}
        if not active:
            values["stop_date"] = min(today, start + timedelta(days=rnd.randint(10, 600))).isoformat()
        work.append(history_item("medications", values))
    _units(work)

    clinic = _moments(rnd, TEN_YEARS["visit notes"], first, today - timedelta(days=1), (8, 16))
    home = _moments(rnd, TEN_YEARS["vitals"] - len(clinic), first, today - timedelta(days=1), (6, 7))
    work = []
    for n, at in enumerate(clinic):
        values = {"systolic": str(rnd.randint(118, 152)), "diastolic": str(rnd.randint(72, 96)),
                  "heart_rate": str(rnd.randint(58, 90)), "temperature": f"{rnd.choice((36.5, 36.7, 36.9)):.1f}",
                  "respiratory_rate": str(rnd.choice((14, 16))), "spo2": str(rnd.choice((96, 97, 98, 99))),
                  "weight": f"{rnd.uniform(68, 79):.1f}", **({"height": "166"} if n == 0 else {})}
        work.append(lambda s, v=values, at=at: observations.record_vitals(s, doctor, patient_id=patient_id,
                                                                            values=v, effective_at=at))
        coding = common[n % len(common)]
        note = {"visit_at": at.isoformat(timespec="minutes"), "reason": f"Follow-up visit {n + 1}",
                "subjective": "Feels well overall; home readings brought along.",
                "objective": f"BP {values['systolic']}/{values['diastolic']}, HR {values['heart_rate']}.",
                "assessment": f"{coding.display}, stable.", "plan": "Continue the current medicines; review in 3 months.",
                "diagnoses": [{"system": coding.system, "code": coding.code, "display": coding.display}],
                "orders": ["Basic metabolic panel"] if n % 3 == 0 else []}

        def write_note(s, note=note):
            view = visits.create_note(s, doctor, patient_id=patient_id, values=note)
            visits.sign_note(s, doctor, patient_id=patient_id, note_id=view.id, expected_version=view.version)

        work.append(write_note)
    for n, at in enumerate(home):
        kind = n % 10
        values = ({"weight": f"{rnd.uniform(68, 79):.1f}"} if kind == 0 else
                  {"glucose": str(rnd.randint(85, 160))} if kind == 1 else
                  {"systolic": str(rnd.randint(115, 150)), "diastolic": str(rnd.randint(70, 95))})

        work.append(lambda s, values=values, at=at: observations.report_reading(
            s, patient, patient_id=patient_id, values=values, effective_at=at))
    panels = TEN_YEARS["results"] // 4
    for n, day in enumerate(sorted(first + timedelta(days=rnd.randint(0, 3640)) for _ in range(panels))):
        name, tests = PANELS[n % len(PANELS)]
        rows = [{"loinc": loinc, "value": f"{rnd.uniform(low, high):.1f}"} for loinc, low, high in tests]

        def panel(s, name=name, day=day, rows=rows):
            saved = results.enter_panel(s, doctor, patient_id=patient_id, name=name, specimen_date=day.isoformat(),
                                        performing_lab=LAB, results=rows)
            results.release(s, doctor, patient_id=patient_id, panel_id=saved.id, comment="Discussed at the visit.")

        work.append(panel)
    rnd.shuffle(work)  # the areas' rows interleave on disk, as ten years of use leave them
    _units(work)
    _verify_readings(patient_id, doctor, before=today - timedelta(days=14))
    with unit_of_work() as session:
        rows = session.exec(select(func.count()).select_from(Observation)
                            .where(Observation.patient_id == patient_id)).one()
    return Chart("ten_year", "ten years: " + ", ".join(f"{n:,} {what}" for what, n in TEN_YEARS.items())
                 + f" ({rows:,} observation rows; {ACTIVE_MEDICATIONS} medications active), "
                 f"{len(ALLERGIES) + 1} allergies", patient_id, doctor, extra={"patient": patient})


def _verify_readings(patient_id: uuid.UUID, doctor, *, before: date) -> None:
    """The doctor has verified the home readings up to `before`: the columns ``verify_reading`` sets,
    in one unit (the bulk path: 2,800 service calls would double the seeding time; the rows are the
    same, only the per-set audit events are left out)."""
    from datetime import datetime
    from datetime import time as day_time

    from sqlmodel import select

    from patient_portal.core.clock import clinic_zone
    from patient_portal.core.db import unit_of_work, utcnow
    from patient_portal.domain.observations.models import Observation, Source

    cutoff = datetime.combine(before, day_time(0), clinic_zone())
    now = utcnow()
    with unit_of_work() as session:
        for row in session.exec(select(Observation).where(Observation.patient_id == patient_id,
                                                          Observation.source == Source.PATIENT.value,
                                                          Observation.effective_at < cutoff)).all():
            row.verified, row.verified_by, row.verified_by_name = True, doctor.user_id, doctor.display_name
            row.verified_at = row.updated_at = now
            session.add(row)


def _common_icd10() -> list[str]:
    from patient_portal.domain.codes import sources

    text = (Path(sources.__file__).parent / "data" / "icd10cm_common.txt").read_text()
    return [w for line in text.splitlines() if not line.startswith("#") for w in line.split()]


def _load_codes() -> str:
    """Every code set, the full ICD-10-CM release included (``portal codes load``'s code path)."""
    from patient_portal.domain.codes import service as codes

    t0 = time.perf_counter()
    reports = list(codes.load())
    return "; ".join(r.summary() for r in reports) + f" in {time.perf_counter() - t0:.1f} s"


#: name -> seeder.
CHARTS: dict[str, Callable[[random.Random], Chart]] = {"documents": documents_chart, "small": small_chart,
                                                       "ten_year": ten_year_chart}


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


def _trivial(chart: Chart):
    """The baseline of every call: a unit of work that sends one trivial statement and commits."""
    from sqlalchemy import text

    from patient_portal.core.db import unit_of_work

    with unit_of_work() as session:
        return session.execute(text("SELECT 1")).scalar_one()


def _audited_unit(chart: Chart):
    """The floor of any audited read: a unit of work that asks the policy, writes one read event (its
    queue row, as every chart read does) and commits — the commit waits for PostgreSQL's WAL flush, so
    no PHI is shown without its audit event on disk."""
    from patient_portal.core import audit
    from patient_portal.core.access import Action, Resource, require
    from patient_portal.core.db import unit_of_work

    with unit_of_work() as session:
        require(session, chart.doctor, Action.PRESCRIPTION_WRITE, Resource(patient_id=chart.patient_id),
                audit_as="prescription.check.read")
        audit.record(session, chart.doctor, "prescription.check.read", patient_id=chart.patient_id,
                     object_type="prescription", detail={"findings": []})


def _chart_summary(chart: Chart):
    """The chart's first page: header and chart (clinical column and the rest) in one unit, one event."""
    from patient_portal.core.db import unit_of_work
    from patient_portal.domain.patients.header import open_chart

    with unit_of_work() as session:
        return open_chart(session, chart.doctor, chart.patient_id)


def _summary_check(chart: Chart, opened) -> None:
    header, found = opened
    history = found["history"]
    if chart.name == "ten_year":
        assert len(history["conditions"]) == TEN_YEARS["conditions"], len(history["conditions"])
        assert len(history["medications"]) == TEN_YEARS["medications"], len(history["medications"])
        assert len(header.allergies) == len(ALLERGIES) + 1 and header.critical, header
    else:
        assert header.allergies == ["Latex"] and not history["conditions"]


def _timeline_page(page: int = 1, kinds: Any = None) -> Callable[[Chart], Any]:
    def run(chart: Chart):
        from patient_portal.core.db import unit_of_work
        from patient_portal.domain.timeline.service import open_timeline

        with unit_of_work() as session:
            return open_timeline(session, chart.doctor, chart.patient_id, kinds=kinds, page=page)

    return run


def _timeline_check(chart: Chart, opened) -> None:
    _header, page = opened
    if chart.name == "ten_year":
        assert len(page.items) == 25 and page.total > 3000, (len(page.items), page.total)
        assert page.items == sorted(page.items, key=lambda i: (i.when, i.kind, i.key), reverse=True)
    else:
        assert page.total == 1, page.total  # the intake allergy


def _code_search(query: str, expect: str, bar: float | None = 20) -> Call:
    """The code picker's search for `query` (PICK_LIMIT results, in its own unit as the event runs it),
    checked to offer `expect`."""
    def run(chart: Chart):
        from patient_portal.core.coding import ICD10_CM
        from patient_portal.core.db import unit_of_work
        from patient_portal.domain.codes import service as codes

        with unit_of_work() as session:
            return codes.search(session, chart.doctor, system=ICD10_CM, text=query, limit=8)

    def offers(_chart: Chart, found) -> None:
        assert any(c.code == expect for c in found), (query, [c.code for c in found])

    return Call(f"code search {query!r}", run, None, ("ten_year",), offers, target_p95_ms=bar)


def _code_get(chart: Chart):
    """Baseline of code search: one code fetched by its key (``codes.get``), in a unit of work."""
    from patient_portal.core.coding import ICD10_CM
    from patient_portal.core.db import unit_of_work
    from patient_portal.domain.codes import service as codes

    with unit_of_work() as session:
        return codes.get(session, ICD10_CM, "E11.9")


#: The order the prescription check is measured with: amoxicillin, which the ten-year patient's
#: penicillin allergy flags (the small patient's latex allergy does not).
ORDER = {"drug": "amoxicillin", "dose": "500", "route": "oral", "frequency": "three_daily", "duration_days": "7",
         "quantity": "21", "refills": "0"}


def _rx_check(chart: Chart):
    """The prescriber's "Check": policy, the patient's allergies and active drugs read, the check, audit."""
    from patient_portal.core.db import unit_of_work
    from patient_portal.domain.prescriptions.service import check_order

    with unit_of_work() as session:
        return check_order(session, chart.doctor, patient_id=chart.patient_id, values=ORDER)


def _rx_check_found(chart: Chart, findings) -> None:
    kinds = sorted(f.kind for f in findings)
    assert kinds == (["allergy"] if chart.name == "ten_year" else []), kinds


def _rx_check_reads(chart: Chart):
    """What the check itself costs against this record: the formulary entry, the allergies and active
    drugs read (``_evaluate``) and the check, in an open transaction — no policy, no audit, no commit."""
    from patient_portal.core.db import read_only
    from patient_portal.domain.prescriptions.service import _evaluate

    with read_only() as session:
        return _evaluate(session, chart.patient_id, dict(ORDER))[2]


def _rx_check_pure(chart: Chart):
    """``checks.check`` alone, on the facts the service reads (loaded once, before the runs)."""
    from patient_portal.domain.prescriptions import checks

    if "facts" not in chart.extra:
        from patient_portal.core.db import unit_of_work
        from patient_portal.domain.codes import service as codes
        from patient_portal.domain.prescriptions.service import _facts

        with unit_of_work() as session:
            drug = codes.formulary_entry(session, ORDER["drug"])
            order, _errors = checks.clean_order(ORDER, routes=drug.routes, dose_unit=drug.dose_unit)
            chart.extra["facts"] = (drug, order, *_facts(session, chart.patient_id))
    drug, order, allergies, active = chart.extra["facts"]
    return checks.check(drug, order, allergies=allergies, active=active)


TEN = ("small", "ten_year")  # each call on the ten-year patient beside the same call on the small one
SEARCHES = (("type 2 diab", "E11.9"), ("E11", "E11.9"), ("hypertension", "I10"), ("copd", "J44.9"))

CALLS: list[Call] = [
    Call("chart_header", _header, 5, ("documents",), _header_check),
    Call("documents page, default sort", _documents_page(), 6, ("documents",), _full_page),
    Call("documents page, by title", _documents_page(sort="title"), 6, ("documents",), _full_page),
    Call("documents page, source + dates", _documents_page(source="lab", date_from="2017-01-01",
                                                            date_to="2024-12-31"),
         6, ("documents",), _some_rows),
    Call("baseline: SELECT 1 unit", _trivial, None, TEN),
    Call("chart summary (header + chart)", _chart_summary, None, TEN, _summary_check, target_p95_ms=50),
    Call("timeline page 1 (with header)", _timeline_page(), None, TEN, _timeline_check, target_p95_ms=50),
    Call("timeline page 10", _timeline_page(10), None, ("ten_year",)),
    Call("timeline page 1, visits only", _timeline_page(1, ["visits"]), None, ("ten_year",)),
    Call("baseline: codes.get E11.9", _code_get, None, ("ten_year",)),
    *[_code_search(query, expect) for query, expect in SEARCHES],
    # every word common: the ranges are intersected (no bar of its own; before core.db forced custom
    # plans, its 6th run on a connection took ~1.3 s on a generic plan)
    _code_search("unspecified superficial injur", "S00.00XS", bar=None),
    Call("baseline: policy + audit event + commit", _audited_unit, None, TEN),
    Call("prescription check (check_order)", _rx_check, None, TEN, _rx_check_found, target_p95_ms=5),
    Call("prescription check, reads + check", _rx_check_reads, None, TEN, _rx_check_found, target_p95_ms=5),
    Call("prescription check, checks.check only", _rx_check_pure, None, TEN, _rx_check_found),
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
            _chained()
            if i >= WARMUP:
                times.append(elapsed)
                cpu.append(used)
                statements.append(len(seen))
                reads.append(sum(1 for s in seen if not _is_audit(s)))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return times, cpu, statements, reads


def _chained(limit: float = 0.5) -> None:
    """Wait (at most `limit` seconds) until this process's audit chainer has chained the events the
    last call queued (PostgreSQL: a read's event is chained on the chainer's own connection right
    after the read's commit). The next call then starts on a quiet process, as a user's next click
    would, instead of sharing the GIL with the last one's chaining."""
    from patient_portal.core import audit_queue

    deadline = time.perf_counter() + limit
    while audit_queue.waiting() and time.perf_counter() < deadline:
        time.sleep(0.0005)


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
    print(f"{'call':<40}{'p50':>10}{'p95':>11}{'CPU p50':>11}{'statements':>12}{'reads':>7}   target")
    for call, times, cpu, statements, reads in rows:
        verdicts = []
        if call.target_statements is not None:
            ok = max(statements) <= call.target_statements
            verdicts.append(f"<= {call.target_statements} statements: {'meets' if ok else 'MISSES'}")
        if call.target_p95_ms is not None:
            ok = _pct(times, .95) < call.target_p95_ms
            verdicts.append(f"p95 < {call.target_p95_ms:g} ms: {'meets' if ok else 'MISSES'}")
        print(f"{call.name:<40}{_pct(times, .5):>7.2f} ms{_pct(times, .95):>8.2f} ms{_pct(cpu, .5):>8.2f} ms"
              f"{_spread(statements):>12}{_spread(reads):>7}   {'; '.join(verdicts)}")
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
        names = args.charts.split(",")
        if "ten_year" in names:
            print("code tables: " + _load_codes())
        rnd = random.Random(7)
        for name in names:
            t0 = time.perf_counter()
            chart = CHARTS[name](rnd)
            chart.seconds = time.perf_counter() - t0
            _vacuum()
            rows = [(call, *_measure(call, chart, args.runs)) for call in CALLS if name in call.charts]
            _report(chart, rows, args.runs)
            sys.stdout.flush()
    finally:
        if not args.keep:
            _drop_database(args.pg)


if __name__ == "__main__":
    main()
