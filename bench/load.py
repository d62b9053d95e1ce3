"""Load benchmark: hundreds of signed-in people at once (issue 11 §7). A script, not a test.

Starts the real app (``reflex run --env prod --backend-only``, its own instance folder, web and
state folders under ``--workdir``, port ``--port``), seeds the demo clinic, and drives it with N
python-socketio clients that speak Reflex's event protocol as the browser does: sign in over HTTP
(``POST /api/auth/login``, the ``portal_session`` cookie), open the websocket at ``/_event`` with
that cookie and ``Origin: <public URL>``, hydrate ``/doctor/patients`` in the CONNECT packet, then,
every 2-5 s (think time), one of: search (by family name or MRN), open a chart, open a chart's
documents, re-sort/filter the document list, open a document preview link, go back to the search
page. A client-side navigation is Reflex's ``on_load_internal`` event with the new page's
router data, as ``state.js`` sends it. An action's latency runs from its first event to the delta
that shows its result (the chart's status, the search outcome, the list ...).

Beside it, in the same run, the same clients with the same mix and think time against a bare
python-socketio echo server under the same ASGI server (granian): the floor this machine, the
client and socket.io set. Printed per session count: p50/p95/p99 of action latency, errors
(timeouts after 10 s, server error toasts, sign-outs, failed connects), actions/s and events/s,
the server processes' CPU (share of one core, and per event) and memory (RSS: idle, peak, after).

    .venv/bin/python bench/load.py [--sessions 10,50] [--seconds 60] [--runs 3]
                                   [--topology embedded|scaled|both] [--settle 600] [--profile]

Topologies: ``embedded`` is the default install (SQLite, local files, one process); ``scaled`` is
the production shape on one host: PostgreSQL (database ``--pg-db``, dropped and recreated),
Redis db 14 (flushed) for UI state, ``GRANIAN_WORKERS=2`` (documents stay in a local folder: the
events measured here never touch the blob store). ``--settle S`` waits S seconds after the last run
and reports memory against idle (target: within 20 % after 10 minutes). ``--profile`` records the
app with py-spy during the last run of each session count and prints where the time goes.

Every request goes to 127.0.0.1; every loop is bounded in count and time.
Figures measured on this machine are in bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
NS = "/_event"
ROOT_STATE = "reflex___state____state"
SESSION = ROOT_STATE + ".patient_portal___state___session____session_state"
SEARCH = ROOT_STATE + ".patient_portal___state___patients____patient_search_state"
CHART = ROOT_STATE + ".patient_portal___state___chart____chart_state"
DOCS = ROOT_STATE + ".patient_portal___state___documents____documents_state"
HYDRATE = ROOT_STATE + ".hydrate_and_load"
ON_LOAD = ROOT_STATE + ".reflex___state____on_load_internal_state.on_load_internal"
DOCTORS = ("doctor@demo.clinic", "priya.raman@demo.clinic", "marcus.bell@demo.clinic")
PASSWORD = "demo-clinic-2026"
ACTION_TIMEOUT = 10.0
SORTS = ("date_asc", "uploaded_desc", "title", "category", "source", "date_desc")
#: action -> weight in the mix
MIX = {"search": 30, "chart": 30, "documents": 15, "sort": 12, "preview": 5, "back": 8}


def _machine_busy() -> float:
    """CPU seconds all processes of this machine have used (to show what other work competed)."""
    import psutil

    t = psutil.cpu_times()
    return t.user + t.system + getattr(t, "nice", 0) + getattr(t, "irq", 0) + getattr(t, "softirq", 0)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


# ------------------------------------------------------------------ the servers


def echo_app():
    """The baseline: a bare socket.io server answering every event with one small delta."""
    import socketio

    sio = socketio.AsyncServer(async_mode="asgi", cors_allowed_origins="*")

    def answer(data: Any) -> dict:
        name = data.get("name", "") if isinstance(data, dict) else ""
        return {"delta": {"echo": {"name": name}}}

    @sio.on("connect", namespace=NS)
    async def connect(sid, environ, auth=None):
        if isinstance(auth, dict) and isinstance(auth.get("event"), dict):
            await sio.emit("event", answer(auth["event"]), to=sid, namespace=NS)

    @sio.on("event", namespace=NS)
    async def event(sid, data):
        await sio.emit("event", answer(data), to=sid, namespace=NS)

    return socketio.ASGIApp(sio, socketio_path="_event")


def serve_echo(port: int) -> None:
    from granian.constants import Interfaces
    from granian.server import Server

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    Server(target="load:echo_app", factory=True, address="127.0.0.1", port=port, interface=Interfaces.ASGI,
           workers=1, log_enabled=False).serve()


@dataclass
class Topology:
    name: str
    env: dict[str, str]
    label: str
    workdir: Path

    @property
    def public_url(self) -> str:
        return self.env["PORTAL_PUBLIC_URL"]


def make_topology(name: str, args: argparse.Namespace) -> Topology:
    work = Path(args.workdir) / name
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "REFLEX_", "GRANIAN_"))}
    env.update(
        PORTAL_ENV="demo", PORTAL_INSTANCE_DIR=str(work / "instance"), PORTAL_PORT=str(args.port),
        PORTAL_PUBLIC_URL=f"http://localhost:{args.port}", REFLEX_TELEMETRY_ENABLED="false",
        REFLEX_WEB_WORKDIR=str(work / "web"), REFLEX_STATES_WORKDIR=str(work / "states"),
        REFLEX_BACKEND_ONLY="1", PATH=f"{ROOT / '.tools' / 'bin'}:{os.environ.get('PATH', '')}",
    )
    for extra in args.env:  # --env NAME=VALUE: try a setting without editing code
        key, _, value = extra.partition("=")
        env[key] = value
    if name == "embedded":
        return Topology(name, env, "SQLite, local files, 1 process", work)
    import psycopg
    import redis

    with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{args.pg_db}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{args.pg_db}"')
    redis.Redis.from_url(args.redis_url).flushdb()
    env.update(PORTAL_DATABASE_URL=f"postgresql+psycopg://postgres@127.0.0.1:5432/{args.pg_db}",
               REFLEX_REDIS_URL=args.redis_url, GRANIAN_WORKERS=str(args.workers))
    return Topology(name, env, f"PostgreSQL + Redis, {args.workers} workers", work)


class Server:
    """A server process group we started (the app or the echo), with its CPU and memory."""

    def __init__(self, cmd: list[str], env: dict[str, str], log: Path):
        self.log = log
        with log.open("w") as fh:
            self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT,
                                         start_new_session=True)

    def processes(self):
        import psutil

        try:
            root = psutil.Process(self.proc.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def python_workers(self):
        """The processes that serve events (for py-spy): the leaves of the tree."""
        procs = self.processes()
        return [p for p in procs if not p.children()] or procs

    def cpu_seconds(self) -> float:
        total = 0.0
        for p in self.processes():
            with contextlib.suppress(Exception):
                t = p.cpu_times()
                total += t.user + t.system
        return total

    def rss_mb(self) -> float:
        total = 0
        for p in self.processes():
            with contextlib.suppress(Exception):
                total += p.memory_info().rss
        return total / 2**20

    def wait_healthy(self, url: str, path: str, timeout: float = 240) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(url + path, timeout=2) as resp:  # noqa: S310 - 127.0.0.1
                    if resp.status < 500:
                        return
            except Exception:  # noqa: S112 - still starting
                pass
            time.sleep(1)
        raise RuntimeError(f"server not up in {timeout}s:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


def prepare(top: Topology) -> dict[str, Any]:
    """Migrate and seed the topology's database; returns each doctor's patients (bench targets)."""
    for cmd in (["db", "upgrade"], ["seed"]):
        subprocess.run([str(BIN / "portal"), *cmd], cwd=ROOT, env=top.env, check=True,
                       stdout=subprocess.DEVNULL)
    out = subprocess.run([sys.executable, __file__, "--_targets"], cwd=ROOT, env=top.env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def print_targets() -> None:
    """(Run in the topology's environment.) Each doctor's care-team patients: id, MRN, family name,
    and which have documents — what a doctor would type or click."""
    sys.path.insert(0, str(ROOT))
    from sqlmodel import select

    from patient_portal.core.access import CareTeamMember
    from patient_portal.core.db import read_only
    from patient_portal.domain.documents.models import Document
    from patient_portal.domain.identity.models import User
    from patient_portal.domain.patients.models import Patient

    result: dict[str, Any] = {}
    with read_only() as s:
        with_docs = {str(pid) for pid in s.exec(select(Document.patient_id)).all()}
        for email in DOCTORS:
            user = s.exec(select(User).where(User.email == email)).one()
            rows = s.exec(select(Patient).join(CareTeamMember, CareTeamMember.patient_id == Patient.id)
                          .where(CareTeamMember.user_id == user.id)).all()
            patients = [{"id": str(p.id), "mrn": p.mrn, "family": p.family_name} for p in rows]
            result[email] = {"patients": patients, "with_docs": [p["id"] for p in patients if p["id"] in with_docs]}
    print(json.dumps(result))


# ------------------------------------------------------------------ the clients


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: collections.defaultdict(list))
    errors: collections.Counter = field(default_factory=collections.Counter)
    events: int = 0
    actions: int = 0
    connect: list[float] = field(default_factory=list)

    def all(self) -> list[float]:
        return [v for values in self.latencies.values() for v in values]


def _router(path: str, query: dict[str, str] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"pathname": path, "asPath": path}
    if query:
        data["query"] = query
    return data


def _ev(name: str, path: str, payload: dict | None = None, query: dict | None = None) -> dict[str, Any]:
    return {"name": name, "payload": payload or {}, "router_data": _router(path, query)}


class Tab:
    """One person's browser tab: a socket.io client that waits for the delta showing each result."""

    def __init__(self, n: int, base: str, origin: str, echo: bool, targets: dict, stats: Stats, rng: random.Random):
        import socketio

        self.n, self.base, self.origin, self.echo, self.stats, self.rng = n, base, origin, echo, stats, rng
        self.email = DOCTORS[n % len(DOCTORS)]
        self.targets = targets.get(self.email, {"patients": [], "with_docs": []})
        self.cookie = ""
        self.path = "/doctor/patients"
        self.doc_ids: list[str] = []
        self.sio = socketio.AsyncClient(reconnection=False)
        self._want: tuple[Any, asyncio.Future] | None = None
        self.sio.on("event", self._on_update, namespace=NS)
        self.sio.on("disconnect", self._on_disconnect, namespace=NS)
        self.closing = False

    async def sign_in(self) -> bool:
        """POST /api/auth/login as the login form does; a fresh client, so no earlier tab's cookie goes
        along (a sign-in with a session cookie rotates that session: the other tab would be signed out)."""
        import httpx

        if self.echo:
            return True
        try:
            async with httpx.AsyncClient(base_url=self.base, timeout=30) as http:
                resp = await http.post("/api/auth/login", json={"email": self.email, "password": PASSWORD},
                                       headers={"Origin": self.origin})
        except Exception:  # noqa: BLE001
            self.stats.errors["sign-in failed"] += 1
            return False
        token = resp.cookies.get("portal_session")
        if resp.status_code != 200 or not token:
            self.stats.errors[f"sign-in {resp.status_code}"] += 1
            return False
        self.cookie = f"portal_session={token}"
        return True

    # -------------------------------------------------- receiving
    async def _on_update(self, data: Any) -> None:
        if not isinstance(data, dict):
            return
        events = data.get("events") or []
        if events:
            text = json.dumps(events)
            if "backend_error" in text:
                self.stats.errors["server error"] += 1
                self._finish(error="server error")
            elif "/login" in text and "_redirect" in text:
                self.stats.errors["signed out"] += 1
                self._finish(error="signed out")
        if self._want is not None:
            check, _ = self._want
            if check(data.get("delta") or {}):
                self._finish()

    def _finish(self, error: str | None = None) -> None:
        if self._want is not None:
            _, fut = self._want
            if not fut.done():
                fut.set_result(error)
            self._want = None

    async def _on_disconnect(self, *args: Any) -> None:
        if not self.closing:
            self.stats.errors["disconnected"] += 1
            self._finish(error="disconnected")

    def _expect(self, check) -> asyncio.Future:
        fut = asyncio.get_running_loop().create_future()
        self._want = (check, fut)
        return fut

    # -------------------------------------------------- predicates (what the page shows when it is done)
    def _is(self, state: str, var: str, values: tuple[str, ...] | None = None, last_event: str = ""):
        if self.echo:
            return lambda delta: delta.get("echo", {}).get("name") == last_event
        key = var + "_rx_state_"

        def check(delta: dict) -> bool:
            sub = delta.get(state)
            if not sub or key not in sub:
                return False
            if state == DOCS and "rows_rx_state_" in sub:
                self.doc_ids = [r.get("id") for r in sub["rows_rx_state_"] if isinstance(r, dict)][:25]
            return values is None or sub[key] in values
        return check

    # -------------------------------------------------- sending
    async def _do(self, name: str, events: list[dict], check) -> None:
        fut = self._expect(check)
        start = time.perf_counter()
        try:
            for event in events:
                await self.sio.emit("event", event, namespace=NS)
            self.stats.events += len(events)
            error = await asyncio.wait_for(fut, ACTION_TIMEOUT)
        except TimeoutError:
            self.stats.errors["timeout"] += 1
            self._want = None
            return
        except Exception as exc:  # noqa: BLE001 - a broken socket is an error of the run
            self.stats.errors[type(exc).__name__] += 1
            self._want = None
            return
        if error is None:
            self.stats.latencies[name].append(time.perf_counter() - start)
        self.stats.actions += 1

    async def connect(self) -> bool:
        token = str(uuid.uuid4())
        hydrate = _ev(HYDRATE, self.path)
        fut = self._expect(self._is(SESSION, "guard", ("ok", "denied"), last_event=HYDRATE))
        start = time.perf_counter()
        try:
            await self.sio.connect(f"{self.base}?token={token}", headers={"Cookie": self.cookie, "Origin": self.origin},
                                   transports=["websocket"], socketio_path=NS, namespaces=[NS],
                                   auth={"event": hydrate, "state_schema": None}, wait_timeout=ACTION_TIMEOUT)
            error = await asyncio.wait_for(fut, ACTION_TIMEOUT)
        except Exception as exc:  # noqa: BLE001
            self.stats.errors[f"connect: {type(exc).__name__}"] += 1
            self._want = None
            return False
        if error:
            return False
        self.stats.connect.append(time.perf_counter() - start)
        self.stats.events += 1
        return True

    def _pick(self) -> str:
        names = list(MIX)
        choice = self.rng.choices(names, weights=[MIX[n] for n in names])[0]
        on_docs = self.path.endswith("/documents")
        if choice in ("sort", "preview") and not on_docs:
            choice = "documents"
        if choice == "preview" and not self.doc_ids and not self.echo:
            choice = "sort"
        if choice == "documents" and not self.targets["with_docs"]:
            choice = "chart"
        return choice

    async def act(self) -> None:
        choice = self._pick()
        patients = self.targets["patients"] or [{"id": str(uuid.uuid4()), "mrn": "PP-1", "family": "Nobody"}]
        if choice == "search":
            p = self.rng.choice(patients)
            value = p["mrn"] if self.rng.random() < 0.4 else p["family"]
            if not self.path.startswith("/doctor/patients"):
                await self._navigate("/doctor/patients", SEARCH, "outcome")
            events = [_ev(SEARCH + ".set_query", self.path, {"value": value}),
                      _ev(SEARCH + ".search", self.path, {"_form": {"query": value, "dob": ""}})]
            await self._do("search", events, self._is(SEARCH, "outcome", ("results", "none", "invalid"),
                                                      last_event=SEARCH + ".search"))
        elif choice == "chart":
            pid = self.rng.choice(patients)["id"]
            await self._navigate(f"/chart/{pid}", CHART, "status", ("ok", "denied", "missing"), {"pid": pid},
                                 name="chart")
        elif choice == "documents":
            pid = self.rng.choice(self.targets["with_docs"] or [patients[0]["id"]])
            await self._navigate(f"/chart/{pid}/documents", DOCS, "status", ("ok", "denied", "missing"),
                                 {"pid": pid}, name="documents")
        elif choice == "sort":
            name = DOCS + ".set_sort"
            await self._do("sort", [_ev(name, self.path, {"value": self.rng.choice(SORTS)})],
                           self._is(DOCS, "rows", None, last_event=name))
        elif choice == "preview":
            name = DOCS + ".open_preview"
            doc = self.rng.choice(self.doc_ids) if self.doc_ids else str(uuid.uuid4())
            await self._do("preview", [_ev(name, self.path, {"doc_id": doc})],
                           self._is(DOCS, "dialog", ("preview",), last_event=name))
            if not self.echo:  # the dialog closes again, as a person would after a look
                await self.sio.emit("event", _ev(DOCS + ".close_dialog", self.path, {"_open": False}), namespace=NS)
                self.stats.events += 1
        else:
            await self._navigate("/doctor/patients", SEARCH, "outcome", None, name="back")

    async def _navigate(self, path: str, state: str, var: str, values=None, query=None, name: str = "page") -> None:
        self.path = path
        await self._do(name, [_ev(ON_LOAD, path, {}, query)], self._is(state, var, values, last_event=ON_LOAD))

    async def close(self) -> None:
        self.closing = True
        with contextlib.suppress(Exception):
            await self.sio.disconnect()


async def run_load(base: str, origin: str, sessions: int, seconds: float, echo: bool, targets: dict,
                   server: Server, seed: int, think: tuple[float, float]) -> dict[str, Any]:
    """Sign in and connect `sessions` tabs, let them work for `seconds`, measure, disconnect."""
    stats = Stats()
    rng = random.Random(seed)
    tabs = [Tab(i, base, origin, echo, targets, stats, random.Random(rng.random())) for i in range(sessions)]
    gate = asyncio.Semaphore(8)

    async def ready(tab: Tab) -> bool:
        async with gate:
            return await tab.sign_in() and await tab.connect()

    ok = await asyncio.gather(*(ready(t) for t in tabs))
    live = [t for t, good in zip(tabs, ok, strict=True) if good]
    # the measured window: only actions started inside it
    connect_errors = sum(stats.errors.values())
    stats.latencies.clear()
    stats.events = stats.actions = 0
    cpu0, t0, machine0, client0 = server.cpu_seconds(), time.perf_counter(), _machine_busy(), time.process_time()
    deadline = t0 + seconds
    peak = [server.rss_mb()]

    async def person(tab: Tab) -> None:
        await asyncio.sleep(tab.rng.uniform(0, think[1]))  # people do not all start at once
        for _ in range(int(seconds / think[0]) + 2):
            if time.perf_counter() >= deadline:
                return
            await tab.act()
            await asyncio.sleep(tab.rng.uniform(*think))

    async def sample() -> None:
        while time.perf_counter() < deadline:
            await asyncio.sleep(1)
            peak.append(server.rss_mb())

    sampler = asyncio.create_task(sample())
    await asyncio.gather(*(person(t) for t in live))
    elapsed = time.perf_counter() - t0
    cpu = server.cpu_seconds() - cpu0
    client = time.process_time() - client0
    others = max(0.0, _machine_busy() - machine0 - cpu - client)
    sampler.cancel()
    await asyncio.gather(*(t.close() for t in tabs))
    lat = stats.all()
    return {
        "p50": pct(lat, .5) * 1000, "p95": pct(lat, .95) * 1000, "p99": pct(lat, .99) * 1000,
        "errors": sum(stats.errors.values()), "error_kinds": dict(stats.errors), "connect_errors": connect_errors,
        "actions_s": stats.actions / elapsed, "events_s": stats.events / elapsed,
        "cpu_pct": 100 * cpu / elapsed, "cpu_ms_event": 1000 * cpu / max(1, stats.events),
        "rss_peak": max(peak), "connected": len(live), "client_pct": 100 * client / elapsed,
        "others_pct": 100 * others / elapsed,
        "by_action": {k: (len(v), pct(v, .5) * 1000, pct(v, .95) * 1000) for k, v in stats.latencies.items()},
        "connect_p95": pct(stats.connect, .95) * 1000 if stats.connect else float("nan"),
    }


# ------------------------------------------------------------------ profiling


def start_profile(server: Server, out: Path, seconds: float) -> list[subprocess.Popen]:
    spy = BIN / "py-spy"
    if not spy.exists():
        print("  (py-spy not installed: pip install py-spy)")
        return []
    procs = []
    for i, p in enumerate(server.python_workers()):
        procs.append(subprocess.Popen([str(spy), "record", "--pid", str(p.pid), "--duration", str(int(seconds)),
                                       "--rate", "100", "--gil", "--format", "raw", "--nonblocking", "-o", f"{out}.{i}.txt"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    return procs


#: frames every stack shares (thread and event-loop plumbing, the launcher): left out of the summary
_PLUMBING = ("threading.py", "concurrent/futures/thread.py", "asyncio/base_events.py", "asyncio/events.py",
             "click/", "multiprocessing/", "granian/", "reflex/reflex.py", "reflex/utils/exec.py", "<module>")


def summarize_profile(out: Path, top: int = 22) -> None:
    """Where the GIL-holding samples went (py-spy --gil --format raw): inclusive and self shares."""
    inclusive: collections.Counter = collections.Counter()
    own: collections.Counter = collections.Counter()
    total = 0
    for path in sorted(out.parent.glob(out.name + ".*.txt")):
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not count.isdigit() or not stack.strip():
                continue
            frames = [f.rsplit(":", 1)[0] + ")" if ":" in f else f for f in stack.split(";")]
            if frames[-1].startswith(("EpollSelector.select", "_worker (concurrent")):
                continue  # waiting
            n = int(count)
            total += n
            own[frames[-1]] += n
            for frame in set(frames):
                if not any(p in frame for p in _PLUMBING):
                    inclusive[frame] += n
    if not total:
        print("  (no samples)")
        return
    print(f"  profile: {total} samples holding the GIL; inclusive share (plumbing left out):")
    for frame, n in inclusive.most_common(top):
        print(f"    {100 * n / total:5.1f}%  {frame}")
    print("  self share:")
    for frame, n in own.most_common(12):
        print(f"    {100 * n / total:5.1f}%  {frame}")


# ------------------------------------------------------------------ the run


def _row(label: str, r: dict[str, Any]) -> str:
    return (f"  {label:<6} {r['p50']:8.1f} {r['p95']:8.1f} {r['p99']:8.1f} {r['errors']:6d} {r['actions_s']:8.1f} "
            f"{r['events_s']:8.1f} {r['cpu_pct']:6.0f}% {r['cpu_ms_event']:8.2f} {r['rss_peak']:8.0f} "
            f"{r['client_pct']:6.0f}% {r['others_pct']:6.0f}%")


def _median(results: list[dict[str, Any]]) -> dict[str, Any]:
    keys = ("p50", "p95", "p99", "actions_s", "events_s", "cpu_pct", "cpu_ms_event", "rss_peak", "client_pct",
            "others_pct")
    out = {k: statistics.median(r[k] for r in results) for k in keys}
    out["errors"] = int(statistics.median(r["errors"] for r in results))
    return out


def bench_topology(name: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    top = make_topology(name, args)
    print(f"\n=== topology {name}: {top.label}; {os.cpu_count()} CPUs; think {args.think_min}-{args.think_max} s; "
          f"{args.seconds:.0f} s windows; median of {args.runs} run(s)")
    targets = prepare(top)
    print("  targets: " + ", ".join(f"{e.split('@')[0]} {len(t['patients'])} patients "
                                     f"({len(t['with_docs'])} with documents)" for e, t in targets.items()))
    echo_port = args.port + 1
    echo = Server([sys.executable, __file__, "--_echo", str(echo_port)], os.environ.copy(),
                  top.workdir / "echo.log")
    app = Server([str(BIN / "reflex"), "run", "--env", "prod", "--backend-only", "--loglevel", "warning"],
                 top.env, top.workdir / "app.log")
    summary = []
    try:
        echo.wait_healthy(f"http://127.0.0.1:{echo_port}", "/_event/?EIO=4&transport=polling")
        app.wait_healthy(f"http://127.0.0.1:{args.port}", "/api/health")
        base, origin = f"http://127.0.0.1:{args.port}", top.public_url
        think = (args.think_min, args.think_max)
        # warm-up: one person doing each action once, so idle memory is an app that has served pages
        asyncio.run(run_load(base, origin, 1, 8, False, targets, app, 0, (0.3, 0.6)))
        time.sleep(2)
        idle = app.rss_mb()
        print(f"  app RSS after start and warm-up (idle): {idle:.0f} MB; "
              f"app processes: {len(app.processes())}")
        for n in args.sessions:
            results: dict[str, list] = {"echo": [], "app": []}
            for run in range(args.runs):
                seed = 1000 * n + run
                results["echo"].append(asyncio.run(run_load(f"http://127.0.0.1:{echo_port}", origin, n, args.seconds,
                                                            True, targets, echo, seed, think)))
                profile = None
                if args.profile and run == args.runs - 1:
                    profile = top.workdir / f"profile-{n}"
                    spies = start_profile(app, profile, args.seconds)
                results["app"].append(asyncio.run(run_load(base, origin, n, args.seconds, False, targets, app,
                                                           seed, think)))
                if profile is not None:
                    for spy in spies:
                        spy.wait(timeout=args.seconds + 60)
                r = results["app"][-1]
                print(f"  [{n} sessions, run {run + 1}] echo p95 {results['echo'][-1]['p95']:.1f} ms; app p95 "
                      f"{r['p95']:.1f} ms, errors {r['errors']} {r['error_kinds'] or ''}, connected "
                      f"{r['connected']}/{n}, connect p95 {r['connect_p95']:.0f} ms, RSS now {app.rss_mb():.0f} MB")
                time.sleep(3)
            e, a = _median(results["echo"]), _median(results["app"])
            print(f"\n  {n} sessions ({name}) — median of {args.runs}; latency in ms; CPU: the server processes "
                  "(% of one core; per client event), this bench's clients, and everything else on the machine")
            print(f"  {'':<6} {'p50':>8} {'p95':>8} {'p99':>8} {'errors':>6} {'act/s':>8} {'ev/s':>8} {'CPU':>7} "
                  f"{'ms/ev':>8} {'RSS MB':>8} {'client':>7} {'others':>7}")
            print(_row("echo", e))
            print(_row("app", a))
            ratio = a["p95"] / e["p95"] if e["p95"] else float("nan")
            print(f"  app p95 = {ratio:.1f}x the echo's; by action (n, p50, p95) in the last run: "
                  + "; ".join(f"{k} {c} {p50:.0f}/{p95:.0f}" for k, (c, p50, p95) in
                              sorted(results['app'][-1]['by_action'].items())))
            if args.profile:
                summarize_profile(top.workdir / f"profile-{n}")
            summary.append({"topology": name, "sessions": n, "echo": e, "app": a, "ratio": ratio})
        if args.settle:
            print(f"  settling {args.settle:.0f} s with no sessions (memory should return to idle) ...")
            marks = sorted({min(args.settle, m) for m in (60, 180, 300, 600, args.settle)})
            start = time.time()
            for m in marks:
                time.sleep(max(0.0, start + m - time.time()))
                now = app.rss_mb()
                print(f"    after {m:4.0f} s: RSS {now:.0f} MB = {100 * (now - idle) / idle:+.0f}% of idle ({idle:.0f} MB)")
    finally:
        app.stop()
        echo.stop()
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", default="10,50", help="comma-separated session counts")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--topology", choices=("embedded", "scaled", "both"), default="embedded")
    parser.add_argument("--port", type=int, default=3400, help="app port (the echo uses the next one)")
    parser.add_argument("--workers", type=int, default=2, help="app processes of the scaled topology")
    parser.add_argument("--pg-db", default="portal_loadbench", help="PostgreSQL database (dropped and recreated)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14", help="Redis db (flushed)")
    parser.add_argument("--workdir", default="/tmp/portal-loadbench")
    parser.add_argument("--think-min", type=float, default=2.0)
    parser.add_argument("--think-max", type=float, default=5.0)
    parser.add_argument("--settle", type=float, default=0, help="seconds to watch memory after the last run")
    parser.add_argument("--profile", action="store_true", help="py-spy the app during the last run")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the app (repeatable)")
    parser.add_argument("--_echo", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--_targets", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._echo:
        serve_echo(args._echo)
        return
    if args._targets:
        print_targets()
        return
    args.sessions = [int(s) for s in str(args.sessions).split(",") if s.strip()]
    names = ("embedded", "scaled") if args.topology == "both" else (args.topology,)
    summary = [row for name in names for row in bench_topology(name, args)]
    print("\n=== summary (median of runs; ms)")
    for row in summary:
        a, e = row["app"], row["echo"]
        print(f"  {row['topology']:<8} {row['sessions']:4d} sessions: app p95 {a['p95']:7.1f} (p50 {a['p50']:.1f}, "
              f"p99 {a['p99']:.1f}), errors {a['errors']}, {a['events_s']:.0f} ev/s, CPU {a['cpu_pct']:.0f}% "
              f"({a['cpu_ms_event']:.1f} ms/ev) | echo p95 {e['p95']:.1f} -> {row['ratio']:.1f}x")


if __name__ == "__main__":
    main()
