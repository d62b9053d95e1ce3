"""The FHIR API at clinic scale on PostgreSQL (issue 16): by default 10,000 patients and 1,000,000
vital-sign observations (sets of five, spread over each patient's last ten years), every patient on
one doctor's care team; the app's API served by granian in its own process on 127.0.0.1, and the
load generated in this process with httpx (the same machine, as the issue asks). Measured:

* Patient read (``GET /fhir/Patient/<id>``) at ``--clients`` concurrent clients — target p95 < 10 ms;
* a CRUD mix (Patient read, Observation search, Condition create, read and update with If-Match) at
  ``--clients`` concurrent clients for ``--seconds`` — target >= 400 requests/s in total;
* Observation search by patient + code + date (``?patient=&code=http://loinc.org|8480-6&date=ge…``),
  one client at a time — target p95 < 30 ms;
* Patient-level bulk ``$export`` of everything the doctor reaches (all of it): the job runs in its
  own process (as ``portal worker`` would) — target < 5 minutes, that process's peak memory < 500 MB;
* beside them, the floor the machine sets (``floor`` lines): the same number of requests at the same
  concurrency (and at one client) to the app process's cheapest answers — ``/fhir/metadata`` (no
  database) and ``/api/auth/whoami`` (the session check every FHIR request makes, nothing else) —
  with their rate. A FHIR figure cannot beat its floor: where the floor misses a bar, this machine
  cannot meet it, whatever the FHIR code does.

Every request is the doctor's, signed in with the portal's session cookie: the policy decision and
the audit events run as in real use. Observations are written with one multi-row INSERT per batch
(values encrypted with the app's own field cipher, bound to their rows); patients through the ORM.

Run:  .venv/bin/python bench/fhir.py [--db URL] [--patients N] [--observations N] [--clients N]
                                     [--reads N] [--searches N] [--seconds S] [--port P] [--no-export]
Small check:  .venv/bin/python bench/fhir.py --patients 200 --observations 20000 --clients 8 \\
                                             --reads 300 --searches 100 --seconds 5
The database (default postgresql+psycopg://postgres@127.0.0.1:5432/portal_fhir_bench, created when
missing) is emptied first. Exit status 0 when every target was met.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import fresh_database, p95_of, vacuum  # noqa: E402 - bench/ is this script's own folder

DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/portal_fhir_bench"
EMAIL, PASSWORD = "bench.doctor@clinic.example.org", "Bench-password-123!"
#: one vital-sign set: (LOINC, UCUM unit, low, high)
VITALS = (("8480-6", "mm[Hg]", 100, 160), ("8462-4", "mm[Hg]", 60, 100), ("8867-4", "/min", 50, 110),
          ("29463-7", "kg", 50, 120), ("8310-5", "Cel", 36, 38))
BATCH = 10_000


# ---------------------------------------------------------------------------------------------- data

def _seed(patients: int, observations: int, rng: random.Random) -> tuple[list[uuid.UUID], uuid.UUID]:
    from sqlalchemy import insert

    from patient_portal.core.access import CareTeamMember
    from patient_portal.core.crypto import encrypt_value
    from patient_portal.core.db import unit_of_work, utcnow
    from patient_portal.domain.codes import service as codes
    from patient_portal.domain.identity import service as identity
    from patient_portal.domain.identity.models import User
    from patient_portal.domain.observations.models import Observation
    from patient_portal.domain.patients.models import Patient

    codes.load_small()  # the vital signs' names and units, as the app has them
    with unit_of_work() as s:
        identity.create_user_system(s, email=EMAIL, role="doctor", display_name="Dr. Bench", password=PASSWORD)
    with unit_of_work() as s:
        from sqlmodel import select

        doctor = s.exec(select(User.id).where(User.email == EMAIL)).one()
    ids = [uuid.uuid4() for _ in range(patients)]
    for start in range(0, patients, 2_000):
        with unit_of_work() as s:
            s.add_all(Patient(id=pid, mrn=f"B{i:08d}", given_name=f"Pat{i}", family_name=f"Bench{i % 97}",
                              date_of_birth=date(1940 + i % 60, 1 + i % 12, 1 + i % 28), sex="female" if i % 2 else "male")
                      for i, pid in enumerate(ids[start:start + 2_000], start))
    now = utcnow()
    with unit_of_work() as s:
        for start in range(0, patients, BATCH):
            s.execute(insert(CareTeamMember), [{"id": uuid.uuid4(), "patient_id": pid, "user_id": doctor,
                                                "created_at": now, "updated_at": now}
                                               for pid in ids[start:start + BATCH]])
    sets = max(1, observations // len(VITALS))
    rows: list[dict] = []
    for n in range(sets):
        pid, set_id = ids[n % patients], uuid.uuid4()
        at = now - timedelta(minutes=rng.randrange(0, 60 * 24 * 3650))
        for loinc, unit, low, high in VITALS:
            row_id = uuid.uuid4()
            rows.append({"id": row_id, "created_at": at, "updated_at": at, "patient_id": pid, "set_id": set_id,
                         "loinc": loinc, "unit": unit, "effective_at": at, "source": "clinician",
                         "recorded_by": doctor, "computed": False, "verified": True,
                         "value": encrypt_value("str", str(rng.randint(low, high)), "observation", "value", row_id)})
        if len(rows) >= BATCH or n == sets - 1:
            with unit_of_work() as s:
                s.execute(insert(Observation), rows)
            rows = []
    return ids, doctor


# ---------------------------------------------------------------------------------------------- the app

def _server(port: int) -> subprocess.Popen:
    env = {**os.environ, "PORTAL_PUBLIC_URL": f"http://127.0.0.1:{port}", "PORTAL_REQUIRE_MFA": "false"}
    proc = subprocess.Popen([str(Path(sys.executable).parent / "granian"), "--interface", "asgi", "--factory",
                             "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
                             "patient_portal.api.app:build_api"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/fhir/metadata", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise SystemExit("the app did not start: " + (proc.stderr.read() or b"").decode()[-2000:])
        time.sleep(0.3)
    proc.terminate()
    raise SystemExit("the app did not answer within 60 s")


def _tree(pid: int) -> list[int]:
    """`pid` and its descendants (granian's workers run in child processes)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                todo.extend(int(c) for c in task.read_text().split())
            except OSError:
                continue
    return found


def _peak_rss_mb(pid: int) -> float:
    """The largest peak resident memory (VmHWM) among the app's processes, in MB."""
    peaks = []
    for member in _tree(pid):
        try:
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
        except OSError:
            continue
    return max(peaks, default=float("nan"))


def _sign_in(base: str) -> dict[str, str]:
    import httpx

    answer = httpx.post(f"{base}/api/auth/login", data={"email": EMAIL, "password": PASSWORD},
                        headers={"Origin": base}, follow_redirects=False)
    cookie = answer.cookies.get("portal_session")
    if answer.status_code != 303 or not cookie:
        raise SystemExit(f"sign-in failed: {answer.status_code}")
    return {"portal_session": cookie}


# ---------------------------------------------------------------------------------------------- load

async def _clients(base: str, cookies: dict[str, str], clients: int, work, *, total: int | None = None,
                   seconds: float | None = None) -> tuple[dict[str, list[float]], int, float]:
    """`clients` concurrent loops calling ``await work(http, rng) -> name`` until `total` calls or
    `seconds` passed: ({name: latencies ms}, errors, elapsed s)."""
    import httpx

    latencies: dict[str, list[float]] = {}
    errors = 0
    done = 0
    started = time.perf_counter()
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, cookies=cookies, limits=limits, timeout=30,
                                 headers={"Origin": base}) as http:
        async def loop(n: int) -> None:
            nonlocal errors, done
            rng = random.Random(n)  # noqa: S311 - reproducible load
            while True:
                if total is not None and done >= total:
                    return
                if seconds is not None and time.perf_counter() - started >= seconds:
                    return
                done += 1
                t0 = time.perf_counter()
                try:
                    name = await work(http, rng)
                except (httpx.HTTPError, AssertionError):
                    errors += 1
                    continue
                latencies.setdefault(name, []).append((time.perf_counter() - t0) * 1000)

        await asyncio.gather(*(loop(n) for n in range(clients)))
    return latencies, errors, time.perf_counter() - started


def _check(answer, *codes: int):
    assert answer.status_code in codes, answer.status_code
    return answer


def _crud(ids: list[uuid.UUID], since: str):
    """The mix: 35 % Patient read, 25 % Observation search, 15 % Condition create, 15 % Condition
    read, 10 % Condition update (If-Match: the version just read)."""
    made: list[str] = []

    async def work(http, rng: random.Random) -> str:
        pid = str(rng.choice(ids))
        roll = rng.random()
        if roll < 0.35:
            _check(await http.get(f"/fhir/Patient/{pid}"), 200)
            return "Patient read"
        if roll < 0.60:
            _check(await http.get("/fhir/Observation", params={"patient": pid, "code": "http://loinc.org|8480-6",
                                                                "date": f"ge{since}"}), 200)
            return "Observation search"
        if roll < 0.75 or not made:
            body = {"resourceType": "Condition", "subject": {"reference": f"Patient/{pid}"},
                    "code": {"text": f"Bench condition {rng.randrange(10**6)}"},
                    "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                                   "code": "active"}]}}
            answer = _check(await http.post("/fhir/Condition", json=body,
                                            headers={"Content-Type": "application/fhir+json"}), 201)
            made.append(answer.json()["id"])
            return "Condition create"
        cid = rng.choice(made)
        if roll < 0.90:
            _check(await http.get(f"/fhir/Condition/{cid}"), 200)
            return "Condition read"
        current = _check(await http.get(f"/fhir/Condition/{cid}"), 200)
        body = current.json()
        body["note"] = [{"text": f"updated {rng.randrange(10**6)}"}]
        _check(await http.put(f"/fhir/Condition/{cid}", json=body,
                              headers={"If-Match": current.headers["etag"]}), 200, 412)
        return "Condition update"

    return work


def _export(base: str, cookies: dict[str, str]) -> tuple[float, float, dict[str, int]]:
    """Kick off a Patient-level export over HTTP, run the job in its own process (as a worker would),
    fetch the manifest: (seconds, the job process's peak MB, {type: resources})."""
    import httpx

    with httpx.Client(base_url=base, cookies=cookies, timeout=60, headers={"Origin": base}) as http:
        kick = _check(http.get("/fhir/Patient/$export", headers={"Prefer": "respond-async"}), 202)
        started = time.perf_counter()
        job = subprocess.run([sys.executable, __file__, "--run-jobs"], env=os.environ.copy(), check=False)
        if job.returncode != 0:
            raise SystemExit("the export job failed")
        elapsed = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        manifest = _check(http.get(kick.headers["content-location"]), 200).json()
    return elapsed, peak, {o["type"]: o["count"] for o in manifest["output"]}


def _run_jobs() -> int:
    """The export job's own process: run what is due, then leave."""
    started = time.perf_counter()
    from patient_portal.core import jobs

    jobs.load_handlers()
    loaded = time.perf_counter()
    jobs.run_due()
    print(f"  (export job process: {loaded - started:.1f} s to import the app, {time.perf_counter() - loaded:.1f} s "
          "to run the job)", flush=True)
    return 0


# ---------------------------------------------------------------------------------------------- main

def _line(label: str, samples: list[float], target: float | None, elapsed: float | None = None) -> bool:
    p95 = p95_of(samples) if len(samples) >= 2 else samples[0]
    ok = target is None or p95 < target
    rate = f"{len(samples) / elapsed:8.0f}/s" if elapsed else ""
    print(f"  {label:40}{len(samples):7d}{statistics.median(samples):9.1f}ms{p95:9.1f}ms"
          f"{('<' + str(target) + 'ms') if target else '':>10}  {'' if target is None else 'ok' if ok else 'MISSED'}"
          f"{rate:>12}")
    return ok


#: The floor this machine sets: the same load on the app's cheapest answers, in the same process.
FLOORS = (("/fhir/metadata", "no database, no sign-in"), ("/api/auth/whoami", "the session check only"))


def _floors(base: str, cookies: dict[str, str], clients: int, calls: int) -> None:
    """The baseline printed beside the figures: `calls` requests at `clients` (and at 1) concurrent
    clients to the app process's cheapest endpoints (one without the database; the cheapest
    authenticated one: the session check every FHIR request also makes), so a reader sees what the
    machine — load generator, app and PostgreSQL sharing its cores — allows before any FHIR work."""
    for path, what in FLOORS:
        async def work(http, _rng, path=path):
            _check(await http.get(path), 200)
            return "floor"

        for n in sorted({clients, 1}, reverse=True):
            lat, errors, elapsed = asyncio.run(_clients(base, cookies, n, work, total=calls if n > 1 else calls // 4))
            _line(f"floor {path}, {n} client{'s' if n > 1 else ''}", lat["floor"], None, elapsed)
            if errors:
                print(f"    ({errors} errors: {what})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=os.environ.get("PORTAL_BENCH_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--observations", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--reads", type=int, default=5_000, help="Patient reads in the concurrent read run")
    parser.add_argument("--searches", type=int, default=500, help="Observation searches, one at a time")
    parser.add_argument("--seconds", type=float, default=30, help="length of the CRUD mix run")
    parser.add_argument("--port", type=int, default=3530)
    parser.add_argument("--no-export", action="store_true")
    parser.add_argument("--run-jobs", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_jobs:
        return _run_jobs()

    fresh_database(args.db, instance_prefix="bench-fhir-")
    rng = random.Random(16)  # noqa: S311 - reproducible bench data
    started = time.perf_counter()
    ids, _doctor = _seed(args.patients, args.observations, rng)
    print(f"seeded {args.patients} patients and {args.observations} observations in "
          f"{time.perf_counter() - started:.1f} s")
    vacuum()
    base = f"http://127.0.0.1:{args.port}"
    server = _server(args.port)
    try:
        cookies = _sign_in(base)
        since = (datetime.now(UTC) - timedelta(days=365 * 3)).date().isoformat()
        ok = True
        print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores (one machine: app, database "
              f"and load generator share it)")
        print(f"  {'':40}{'calls':>7}{'median':>11}{'p95':>11}{'target':>10}{'':4}{'rate':>12}")

        async def read(http, rng):
            _check(await http.get(f"/fhir/Patient/{rng.choice(ids)}"), 200)
            return "read"

        asyncio.run(_clients(base, cookies, 4, read, total=100))  # warm the app and the caches
        _floors(base, cookies, args.clients, args.reads)
        lat, errors, elapsed = asyncio.run(_clients(base, cookies, args.clients, read, total=args.reads))
        ok &= _line(f"Patient read, {args.clients} clients", lat["read"], 10, elapsed) and errors == 0

        async def search(http, rng):
            _check(await http.get("/fhir/Observation", params={
                "patient": str(rng.choice(ids)), "code": "http://loinc.org|8480-6", "date": f"ge{since}"}), 200)
            return "search"

        lat, errors_s, elapsed = asyncio.run(_clients(base, cookies, 1, search, total=args.searches))
        ok &= _line("Observation patient+code+date, 1 client", lat["search"], 30, elapsed) and errors_s == 0

        lat, errors_m, elapsed = asyncio.run(_clients(base, cookies, args.clients, _crud(ids, since),
                                                      seconds=args.seconds))
        calls = sum(len(v) for v in lat.values())
        for name in sorted(lat):
            _line(f"  mix: {name}", lat[name], None)
        rate = calls / elapsed
        ok &= rate >= 400 and errors_m == 0
        print(f"  CRUD mix, {args.clients} clients: {rate:.0f} requests/s ({calls} in {elapsed:.1f} s, "
              f"{errors_m} errors)  target >= 400/s  {'ok' if rate >= 400 else 'MISSED'}")
        if not args.no_export:
            seconds, peak, counts = _export(base, cookies)
            total = sum(counts.values())
            fine = seconds < 300 and peak < 500
            ok &= fine
            print(f"  bulk export: {total} resources ({', '.join(f'{k} {v}' for k, v in sorted(counts.items()))}) "
                  f"in {seconds:.1f} s, job process peak {peak:.0f} MB  target < 300 s and < 500 MB  "
                  f"{'ok' if fine else 'MISSED'}")
        print(f"  the app's peak memory (VmHWM, largest of its processes): {_peak_rss_mb(server.pid):.0f} MB")
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
