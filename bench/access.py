"""Access benchmark (a script, not a test): what the policy point's new facts cost on PostgreSQL.

Issue 15 made ``core.access.decide`` read emergency grants, consents and sensitivity. This prints,
each as p50/p95 of --runs calls (after a warm-up):

  decide: care-team doctor                        the path every treating doctor takes
  decide: doctor off the team, emergency grant    basis emergency_grant
  decide: colleague, sensitive record, grant      sensitivity refused, then the grant opens it
  decide: colleague, sensitive record, refused    sensitivity refused and no grant
  decide: share records, consent                  basis consent
  decide: research use, consent                   the same for purpose research
  decide: staff, Billing / Front desk set         a permission set (issue 17) allows / refuses a claim:
                                                  read from the actor, no statement
  (a doctor's decision is one statement in each case: the care-team check carries the grant and,
  when the action needs one, the consent as scalar subqueries)
                                                  target: each p95 <= 1 ms
  beside each: the app process's CPU p95 for the call, and the floor — one ``SELECT 1`` round trip in
  the same open transaction, measured just before — so a loaded machine's round trip is not read as
  the decision's own cost

(decide() itself: its own statements — care team, grant, consent — in a transaction already open, as
every use case calls it; the grant memo is dropped before each call so every fact is read again)
and the documents list of platform v2 (bench/chart.py's 200-document chart, a care-team doctor, 25
rows, the default sort) twice in the same run: with the code of this tree, and with the code of
--baseline-ref (default: the commit this work started from, 984ae88), exported by ``git archive``
into a temporary folder and run in a subprocess against a database of its own, seeded the same way.
Rounds alternate between the two so drift hits both alike; target: this tree's p50 no more than 10%
above the baseline's.

    .venv/bin/python bench/access.py [--pg URL] [--runs 300] [--list-rounds 3] [--baseline-ref 984ae88]

The URL defaults to $PORTAL_BENCH_DATABASE_URL, else
postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench_access; databases named after it
(``_base``, ``_head``) are created from the models and dropped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: the tree whose patient_portal is measured: this one, or a baseline's export (--list-only runs)
sys.path.insert(0, os.environ.get("PORTAL_BENCH_CODE") or str(HERE.parent))
sys.path.insert(1, str(HERE))

import chart as chart_bench  # noqa: E402  (bench/chart.py: environment, database and the documents chart)

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench_access"
BASELINE_REF = "984ae88"
WARMUP = 100
TARGET_DECIDE_MS = 1.0
TARGET_LIST_RATIO = 1.10


def _with_name(url: str, suffix: str) -> str:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{suffix}").render_as_string(hide_password=False)


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


# ---------------------------------------------------------------- the documents list (both trees)


def list_samples(url: str, runs: int) -> list[float]:
    """Seed the documents chart into `url` (once per database) and time `runs` list calls (seconds)."""
    from patient_portal.domain.documents.service import list_documents

    marker = Path(os.environ["PORTAL_INSTANCE_DIR"]) / "seeded.json"
    if marker.exists():
        seeded = json.loads(marker.read_text())
        from patient_portal.core.access import Actor, Role

        patient_id = uuid.UUID(seeded["patient"])
        doctor = Actor(user_id=uuid.UUID(seeded["doctor"]), role=Role.DOCTOR, display_name="Dr Bench",
                       session_id=uuid.uuid4(), ip="127.0.0.1")
    else:
        found = chart_bench.documents_chart(random.Random(15))
        patient_id, doctor = found.patient_id, found.doctor
        marker.write_text(json.dumps({"patient": str(patient_id), "doctor": str(doctor.user_id)}))
    for _ in range(WARMUP):
        list_documents(doctor, patient_id=patient_id)
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        page = list_documents(doctor, patient_id=patient_id)
        out.append(time.perf_counter() - start)
    assert len(page.items) == 25
    return out


def _list_only(args: argparse.Namespace) -> None:
    """One round of the documents list in this process (the parent runs base and head in turn)."""
    os.environ["PORTAL_INSTANCE_DIR"] = args.instance
    os.environ["PORTAL_DATABASE_URL"] = args.pg
    os.environ["PORTAL_ENV"] = "demo"
    os.environ["PORTAL_MASTER_KEYS"] = args.keys
    from patient_portal.settings import reset_settings

    reset_settings()
    if args.create:
        chart_bench._create_database(args.pg, "create_all")
    print(json.dumps(list_samples(args.pg, args.runs)))


def _round(code: Path | None, url: str, instance: str, keys: str, runs: int, create: bool) -> list[float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    if code is not None:
        env["PORTAL_BENCH_CODE"] = str(code)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--list-only", "--pg", url, "--instance", instance,
           "--keys", keys, "--runs", str(runs)] + (["--create"] if create else [])
    done = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _export(ref: str) -> Path:
    """The tree at `ref` (its patient_portal package), in a temporary folder."""
    folder = Path(tempfile.mkdtemp(prefix=f"portal-bench-{ref}-"))
    archive = folder / "tree.tar"
    subprocess.run(["git", "-C", str(HERE.parent), "archive", "--format=tar", "-o", str(archive), ref,
                    "patient_portal"], check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")
    return folder


# ---------------------------------------------------------------- decide()


def _decide_cases() -> list[tuple[str, object]]:
    """Seed the facts and return (name, call) pairs; each call opens its own unit of work."""
    from patient_portal.core.access import Action, Actor, CareTeamMember, Purpose, Resource, Role, decide
    from patient_portal.core.access_facts import ConsentRecord, EmergencyGrant, forget
    from patient_portal.core.db import unit_of_work, utcnow

    rnd = random.Random(15)
    patients = [uuid.uuid4() for _ in range(2000)]
    team, colleague, outside = (Actor(user_id=uuid.uuid4(), role=Role.DOCTOR, session_id=uuid.uuid4())
                                for _ in range(3))
    pid = patients[0]
    now = utcnow()
    with unit_of_work() as s:
        for i, p in enumerate(patients):  # a clinic's worth of facts around the one measured
            s.add(CareTeamMember(patient_id=p, user_id=team.user_id if i % 3 == 0 else uuid.uuid4()))
            s.add(ConsentRecord(patient_id=p, purpose=rnd.choice(("sms", "sharing", "research")),
                                status=rnd.choice(("granted", "withdrawn")), text_version="2026-01", text="t",
                                method="portal", recorded_by=uuid.uuid4()))
            if i % 10 == 0:
                s.add(EmergencyGrant(patient_id=p, user_id=uuid.uuid4(), role="doctor", reason_code="covering",
                                     started_at=now - timedelta(days=i % 30), expires_at=now - timedelta(days=i % 30)
                                     + timedelta(hours=1)))
        s.add(CareTeamMember(patient_id=pid, user_id=colleague.user_id))
        for who in (outside, colleague):
            s.add(EmergencyGrant(patient_id=pid, user_id=who.user_id, role="doctor", reason_code="life_threatening",
                                 started_at=now, expires_at=now + timedelta(hours=6)))
        for purpose in ("sharing", "research"):
            s.add(ConsentRecord(patient_id=pid, purpose=purpose, status="granted", text_version="2026-01", text="t",
                                method="portal", recorded_by=uuid.uuid4(), created_at=now + timedelta(seconds=1)))
    sensitive = Resource(patient_id=pid, sensitivity="mental_health", author_id=team.user_id)
    other_pid = patients[3]  # on the team's list, no grant for the colleague
    with unit_of_work() as s:
        s.add(CareTeamMember(patient_id=other_pid, user_id=colleague.user_id))

    def case(actor, action, resource, purpose=None, expect=True, basis=None):
        def run(session):
            forget(session)  # nothing kept from the call before: every fact is read again
            d = decide(session, actor, action, resource, purpose=purpose)
            assert d.allowed is expect and (basis is None or d.basis.value == basis), d
        return run

    from patient_portal.core.capabilities import effective

    billing, front_desk = (Actor(user_id=uuid.uuid4(), role=Role.STAFF, session_id=uuid.uuid4(),
                                 permissions=effective(Role.STAFF, keys))
                           for keys in (["insurance", "billing"], ["registration", "scheduling"]))
    read = Action.CLINICAL_READ
    return [
        ("care-team doctor", case(team, read, Resource(patient_id=pid), basis="care_team")),
        ("doctor off the team, emergency grant", case(outside, read, Resource(patient_id=pid), basis="emergency_grant")),
        ("colleague, sensitive record, grant", case(colleague, read, sensitive, basis="emergency_grant")),
        ("colleague, sensitive record, refused", case(colleague, read, Resource(
            patient_id=other_pid, sensitivity="mental_health", author_id=team.user_id), expect=False)),
        ("share records, consent", case(team, Action.RECORD_SHARE, Resource(patient_id=pid), basis="consent")),
        ("research use, consent", case(team, Action.DEMOGRAPHICS_READ, Resource(patient_id=pid),
                                       purpose=Purpose.RESEARCH, basis="consent")),
        ("staff, Billing set, a claim", case(billing, Action.CLAIM_WRITE, Resource(patient_id=pid), basis="role")),
        ("staff, Front desk set, a claim (refused)", case(front_desk, Action.CLAIM_WRITE, Resource(patient_id=pid),
                                                          expect=False)),
    ]


def _floor_case():
    """One statement's round trip in the same open transaction: what any decision that reads a fact
    costs at least on this machine at this moment (decide() reads its facts in one statement)."""
    from sqlalchemy import text

    def run(session):
        session.exec(text("SELECT 1")).all()
    return run


def _measure(unit_of_work, run, runs: int) -> tuple[list[float], list[float]]:
    """(wall seconds, CPU seconds of this process) per call, after a warm-up, in one open transaction."""
    with unit_of_work() as session:
        for _ in range(WARMUP):
            run(session)
        wall, cpu = [], []
        for _ in range(runs):
            start, start_cpu = time.perf_counter(), time.process_time()
            run(session)
            cpu.append(time.process_time() - start_cpu)
            wall.append(time.perf_counter() - start)
    return wall, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg", default=os.environ.get("PORTAL_BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--list-rounds", type=int, default=3)
    parser.add_argument("--baseline-ref", default=BASELINE_REF)
    parser.add_argument("--list-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--instance", help=argparse.SUPPRESS)
    parser.add_argument("--keys", help=argparse.SUPPRESS)
    parser.add_argument("--create", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.list_only:
        _list_only(args)
        return 0

    chart_bench._setup_env(args.pg)
    chart_bench._create_database(args.pg, "create_all")
    failed = False
    try:
        from patient_portal.core.db import unit_of_work

        print(f"decide() on PostgreSQL, {args.runs} calls each in an open transaction, nothing kept between calls "
              "(wall p50 / p95 ms; the app process's CPU p95 ms; the floor: one SELECT 1 round trip, measured "
              "between the cases):")
        floor = _floor_case()
        for name, run in _decide_cases():
            base_wall, _base_cpu = _measure(unit_of_work, floor, args.runs)
            wall, cpu = _measure(unit_of_work, run, args.runs)
            (p50, p95), (f50, f95), cpu95 = _percentiles(wall), _percentiles(base_wall), _percentiles(cpu)[1]
            ok = p95 * 1000 <= TARGET_DECIDE_MS
            failed |= not ok
            print(f"  {name:<42} {p50 * 1000:6.3f} / {p95 * 1000:6.3f}  cpu {cpu95 * 1000:5.3f}  "
                  f"floor {f50 * 1000:6.3f} / {f95 * 1000:6.3f}   target p95 <= {TARGET_DECIDE_MS} ms "
                  f"{'ok' if ok else 'MISSED'}")
    finally:
        chart_bench._drop_database(args.pg)

    keys = os.environ["PORTAL_MASTER_KEYS"]
    base_code = _export(args.baseline_ref)
    trees = {"baseline": (base_code, _with_name(args.pg, "base")), "this tree": (None, _with_name(args.pg, "head"))}
    instances = {name: tempfile.mkdtemp(prefix="portal-bench-access-") for name in trees}
    samples: dict[str, list[float]] = {name: [] for name in trees}
    runs = max(50, args.runs // args.list_rounds)
    try:
        for number in range(args.list_rounds):
            order = list(trees) if number % 2 == 0 else list(reversed(trees))
            for name in order:
                code, url = trees[name]
                samples[name] += _round(code, url, instances[name], keys, runs, create=number == 0)
    finally:
        for _code, url in trees.values():
            chart_bench._admin(url, f'DROP DATABASE IF EXISTS "{chart_bench._database_name(url)}" WITH (FORCE)')
    print(f"\ndocuments list of platform v2 (200 documents, care-team doctor, 25 rows), {len(samples['baseline'])} "
          f"calls each, rounds alternating (p50 / p95 ms):")
    base50, base95 = _percentiles(samples["baseline"])
    head50, head95 = _percentiles(samples["this tree"])
    print(f"  baseline {args.baseline_ref:<10}                       {base50 * 1000:7.2f} / {base95 * 1000:7.2f}")
    ratio = head50 / base50
    ok = ratio <= TARGET_LIST_RATIO
    failed |= not ok
    print(f"  this tree                                 {head50 * 1000:7.2f} / {head95 * 1000:7.2f}   "
          f"{ratio:.3f}x the baseline's p50; target <= {TARGET_LIST_RATIO}x {'ok' if ok else 'MISSED'}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
