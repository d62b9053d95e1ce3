"""INP benchmark (a script, not a test): how long the documents page's interactions take to paint.

Starts the real app (``reflex run --env prod --single-port`` in a fresh instance folder, migrated and
seeded with the demo data, as tests/e2e/conftest.py does) or uses a running one (--url), signs in as
the demo doctor, gives the demo patient with the most documents at least --min-docs documents (added
through the documents service as the doctor, so 3 pages of 25), opens that patient's documents page in
Debian's Chromium and measures, --reps times each:

  Next page               the pagination's Next button (page 1 -> 2)
  Previous page           its Previous button (page 2 -> 1)
  sort change             choosing another "Sort by" option (Title A–Z <-> newest first)
  filter panel open       unfolding "Filter and sort"
  chart page navigation   "Back to the chart" (documents -> chart), and the chart's Documents link back
  baseline: user menu     opening the account menu (a trivial interaction, measured the same way)

Three figures per interaction:
  INP      the Event Timing API (``PerformanceObserver({type: 'event', durationThreshold: 16,
           buffered: true})``): the largest duration among the entries of the interaction — what
           Chromium reports as interaction-to-next-paint. "<16" means no entry reached the threshold.
           It ends at the first frame presented after the input: when the server's answer arrives
           before that frame (desktop) it includes React's render of the answer; when it arrives later
           (the throttled phone) it does not, and "visible" is the figure to read.
  visible  from the input's timestamp to the frame after the page shows the result (the new rows, the
           chart): the delta's round trip to the server plus React's render — what a person waits for.
  server   from the event's websocket frame leaving the browser to the first frame back (CDP Network
           timestamps): the server's share of "visible" (for navigation: the page's on_load event).
  CPU      the page's main-thread CPU time over the interaction (CDP Performance metrics in thread
           ticks: TaskDuration), the part of the cost that does not grow with the machine's load.

Printed as p50/p75/max per interaction on desktop (1280x800) and on a phone (390x844, touch, CPU
slowed 4x through CDP ``Emulation.setCPUThrottlingRate`` for a mid-range phone), with the machine's
load average. Target (issue 11, section 7): every interaction's INP < 200 ms on desktop.

    .venv/bin/python bench/inp.py [--url http://localhost:3300 [--url http://localhost:3301]]
                                  [--port 3300] [--reps 10] [--rounds 2] [--profiles desktop,phone]
                                  [--min-docs 60] [--patient ID]

Before/after on a busy machine: serve the old and the new build from two copies of the tree on one
instance folder (same database, same documents) and give both URLs; the runs are interleaved (each
profile, --rounds times, A then B) so both see the same load. With --url the script still adds the
documents in-process, so run it with the app's PORTAL_* settings (PORTAL_INSTANCE_DIR /
PORTAL_DATABASE_URL …) in its environment; --patient ID chooses the chart.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BIN = Path(sys.executable).parent
CHROMIUM = os.environ.get("PORTAL_CHROMIUM", "/usr/bin/chromium")
DOCTOR = "doctor@demo.clinic"
TARGET_MS = 200.0
PROFILES = {
    "desktop": {"viewport": {"width": 1280, "height": 800}, "cpu": 1},
    "phone": {"viewport": {"width": 390, "height": 844}, "cpu": 4, "is_mobile": True, "has_touch": True},
}

#: Collects Event Timing entries and, for "visible", the paint after a condition on the page came true.
INIT_SCRIPT = """
(() => {
  window.__ev = [];
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        if (e.interactionId) window.__ev.push({id: e.interactionId, name: e.name, start: e.startTime,
                                               duration: e.duration});
      }
    }).observe({type: 'event', durationThreshold: 16, buffered: true});
  } catch (err) { window.__evError = String(err); }
  // watch(cond): resolves with the time of the first paint after `cond()` became true (checked on
  // every DOM mutation and URL change), measured as rAF + a macrotask after the commit.
  window.__watch = (cond) => {
    window.__seen = null;
    const done = () => {
      if (window.__seen !== null) return;
      window.__seen = -1;
      requestAnimationFrame(() => setTimeout(() => { window.__seen = performance.now(); }, 0));
    };
    const check = () => { try { if (cond()) { obs.disconnect(); clearInterval(timer); done(); } } catch (e) {} };
    const obs = new MutationObserver(check);
    obs.observe(document, {subtree: true, childList: true, characterData: true, attributes: true});
    const timer = setInterval(check, 50);
  };
  // the timestamp of the last trusted click/pointerup (the interaction's start)
  window.__clickAt = 0;
  for (const type of ['pointerdown', 'click', 'keydown']) {
    addEventListener(type, (e) => { if (e.isTrusted && !window.__clickAt) window.__clickAt = e.timeStamp; },
                     {capture: true});
  }
})();
"""

PAGE_TEXT = "(n) => () => [...document.querySelectorAll('p,span')].some(el => el.textContent === n)"


def machine_load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min) / {five:.2f} (5 min) on {os.cpu_count()} cores"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


# ---------------------------------------------------------------- the app


class App:
    """The app under test, started here (fresh instance folder, demo seed) unless --url is given."""

    def __init__(self, port: int):
        self.port = port
        self.url = f"http://localhost:{port}"
        self.instance = Path(tempfile.mkdtemp(prefix="inp-instance-"))
        self.log = self.instance / "app.log"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
        self.env.update(PORTAL_ENV="demo", PORTAL_INSTANCE_DIR=str(self.instance), PORTAL_PORT=str(port),
                        PORTAL_PUBLIC_URL=self.url, REFLEX_TELEMETRY_ENABLED="false",
                        PATH=f"{ROOT / '.tools' / 'bin'}:{os.environ.get('PATH', '')}")
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        for args in (["db", "upgrade"], ["seed"]):
            subprocess.run([str(BIN / "portal"), *args], cwd=ROOT, env=self.env, check=True,
                           stdout=subprocess.DEVNULL)
        with self.log.open("w") as fh:
            self.proc = subprocess.Popen([str(BIN / "reflex"), "run", "--env", "prod", "--single-port"], cwd=ROOT,
                                         env=self.env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
        wait_healthy(self.url, self.proc, self.log)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        shutil.rmtree(self.instance, ignore_errors=True)


def wait_healthy(url: str, proc: subprocess.Popen | None = None, log: Path | None = None,
                 timeout: float = 600) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"app exited early:\n{log.read_text()[-4000:] if log else ''}")
        try:
            with urllib.request.urlopen(url + "/api/health", timeout=2) as resp:  # noqa: S310
                if resp.status == 200:
                    with urllib.request.urlopen(url + "/", timeout=5) as page:  # noqa: S310
                        if page.status == 200:
                            return
        except Exception:  # noqa: S110 - still starting
            pass
        time.sleep(2)
    raise RuntimeError(f"app at {url} did not become healthy in {timeout:.0f}s")


# ---------------------------------------------------------------- the documents


def prepare_patient(min_docs: int, patient: str | None) -> tuple[str, int]:
    """The chart to measure (the patient with the most documents the doctor sees, or --patient), topped
    up to `min_docs` documents through the documents service, as the demo doctor. Runs in-process with
    the environment's PORTAL_* settings (the app's instance)."""
    from sqlalchemy import func
    from sqlmodel import select

    from patient_portal.core.access import Actor, Role
    from patient_portal.core.db import unit_of_work
    from patient_portal.core.pdf import pdf
    from patient_portal.domain.documents import service as svc
    from patient_portal.domain.documents.models import Document
    from patient_portal.domain.identity import service as identity
    from patient_portal.domain.identity.models import User

    with unit_of_work() as session:
        user_id = identity.find_user_id(session, DOCTOR)
        name = session.exec(select(User.display_name).where(User.id == user_id)).one()
        counted = session.exec(select(Document.patient_id, func.count()).group_by(Document.patient_id)
                               .order_by(func.count().desc())).all()
    doctor = Actor(user_id=user_id, role=Role.DOCTOR, display_name=name)
    candidates = [patient] if patient else [str(pid) for pid, _ in counted]
    for pid in candidates:
        try:
            total = svc.list_documents(doctor, patient_id=pid).total
        except Exception:  # noqa: S112 - not this doctor's patient: try the next
            continue
        categories = ["lab_result", "imaging_report", "medical_document", "prescription"]
        for n in range(total, min_docs):
            title = f"Bench result {n + 1:03d}"
            body = pdf([(16, title), (11, "Synthetic benchmark document - not a real result.")])
            svc.upload(doctor, patient_id=pid, filename=f"bench-{n + 1:03d}.pdf", chunks=iter([body]),
                       meta={"category": categories[n % len(categories)], "title": title,
                             "service_date": (date.today() - timedelta(days=3 * n + 1)).isoformat(),
                             "source": ("Demo Clinic Laboratory", "City Imaging", "Dr. Dana Doctor")[n % 3],
                             "note": ""})
        return pid, max(total, min_docs)
    raise SystemExit("no patient whose documents the demo doctor may list")


# ---------------------------------------------------------------- the browser


def sign_in(page, password: str) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(3):
        page.goto("/login")
        page.locator("#login-email").fill(DOCTOR)
        page.locator("#login-password").fill(password)
        page.locator("#login-form button[type=submit]").click()
        try:
            page.wait_for_url(lambda url: "/login" not in url, timeout=15_000)
            return
        except PlaywrightTimeout:
            if attempt == 2:
                raise


class Meter:
    """Measures one interaction: arm the watcher, act, wait for the result, read the entries."""

    def __init__(self, page, cdp, results: dict[str, dict[str, list[float]]]):
        self.page, self.cdp = page, cdp
        self.results = results
        self.frames: list[tuple[str, float]] = []  # ("sent" | "received", CDP timestamp in s)
        cdp.send("Network.enable")
        cdp.on("Network.webSocketFrameSent", lambda e: self.frames.append(("sent", e["timestamp"])))
        cdp.on("Network.webSocketFrameReceived", lambda e: self.frames.append(("received", e["timestamp"])))

    def _server_ms(self) -> float:
        sent = next((t for kind, t in self.frames if kind == "sent"), None)
        if sent is None:
            return float("nan")
        back = next((t for kind, t in self.frames if kind == "received" and t >= sent), None)
        return (back - sent) * 1000 if back is not None else float("nan")

    def _cpu_ms(self) -> float:
        metrics = self.cdp.send("Performance.getMetrics")["metrics"]
        return 1000 * next(m["value"] for m in metrics if m["name"] == "TaskDuration")

    def measure(self, name: str, act, until: str, settle_ms: int = 250) -> None:
        page = self.page
        page.evaluate("window.__ev = []; window.__clickAt = 0")
        page.evaluate(f"window.__watch({until})")
        act = act()  # find the target first (see click in run_profile)
        self.frames.clear()
        cpu = self._cpu_ms()
        act()
        page.wait_for_function("window.__seen !== null && window.__seen > 0", polling=50, timeout=30_000)
        page.wait_for_timeout(settle_ms)  # Event Timing entries are reported after their paint
        cpu = self._cpu_ms() - cpu
        got = page.evaluate("({ev: window.__ev, clickAt: window.__clickAt, seen: window.__seen})")
        inp = max((e["duration"] for e in got["ev"]), default=0.0)
        visible = got["seen"] - got["clickAt"] if got["clickAt"] else float("nan")
        slot = self.results.setdefault(name, {"inp": [], "visible": [], "server": [], "cpu": []})
        slot["server"].append(self._server_ms())
        slot["inp"].append(inp)
        slot["visible"].append(visible)
        slot["cpu"].append(cpu)


def run_profile(browser, base: str, pid: str, profile: str, reps: int, password: str, results: dict) -> None:
    spec = PROFILES[profile]
    ctx = browser.new_context(base_url=base, viewport=spec["viewport"], is_mobile=spec.get("is_mobile", False),
                              has_touch=spec.get("has_touch", False))
    ctx.set_default_timeout(30_000)
    ctx.add_init_script(INIT_SCRIPT)
    page = ctx.new_page()
    sign_in(page, password)
    cdp = ctx.new_cdp_session(page)
    cdp.send("Performance.enable", {"timeDomain": "threadTicks"})
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": spec["cpu"]})
    page.goto(f"/chart/{pid}/documents")
    page.get_by_role("button", name="Next page").wait_for()
    page.wait_for_timeout(1000)
    m = Meter(page, cdp, results)
    is_page = PAGE_TEXT

    def click(locator):
        """Click the middle of the element like a person: its place is found before the measuring
        starts, so Playwright's own checks in the page are not counted as the page's work."""
        def prepare():
            locator.scroll_into_view_if_needed()
            box = locator.bounding_box()
            return lambda: page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        return prepare

    nxt = page.get_by_role("button", name="Next page")
    prev = page.get_by_role("button", name="Previous page")
    for _ in range(reps):
        m.measure("Next page", click(nxt), f"({is_page})('Page 2 of 3')")
        m.measure("Previous page", click(prev), f"({is_page})('Page 1 of 3')")

    toggle = page.locator("#doc-filter-toggle")
    visible_js = "() => !!document.querySelector('#doc-filter-category')?.checkVisibility()"
    hidden_js = "() => !document.querySelector('#doc-filter-category')?.checkVisibility()"
    for _ in range(reps):
        m.measure("filter panel open", click(toggle), visible_js)
        toggle.click()
        page.wait_for_function(hidden_js)
    toggle.click()
    page.wait_for_function(visible_js)

    sort = page.locator("#doc-sort")
    labels = ["Title A–Z", "Date of service, newest first"]
    for i in range(reps * 2):
        label = labels[i % 2]
        sort.click()
        option = page.get_by_role("option", name=label)
        option.wait_for()
        if i % 2 == 0:  # one measurement per rep: the choice that re-sorts (the other puts it back)
            m.measure("sort change", click(option),
                      f"() => document.querySelector('#doc-sort')?.textContent.includes({label!r}) && "
                      "!document.querySelector('[role=listbox]')")
        else:
            option.click()
            page.wait_for_function(f"() => document.querySelector('#doc-sort')?.textContent.includes({label!r})")
    toggle.click()

    back = page.get_by_role("link", name="Back to the chart")
    docs = page.locator("#chart-documents-link")
    for _ in range(reps):
        m.measure("chart page navigation", click(back),
                  f"() => location.pathname === '/chart/{pid}' && !!document.querySelector('#chart-documents-link')")
        m.measure("chart -> documents", click(docs),
                  f"() => location.pathname === '/chart/{pid}/documents' && ({is_page})('Page 1 of 3')()")

    menu = page.locator("#user-menu")
    for _ in range(reps):
        m.measure("baseline: user menu", click(menu), "() => !!document.querySelector('[role=menu]')")
        page.keyboard.press("Escape")
        page.wait_for_function("() => !document.querySelector('[role=menu]')")
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})
    ctx.close()


def report(label: str, profile: str, results: dict) -> None:
    cpu = PROFILES[profile]["cpu"]
    vp = PROFILES[profile]["viewport"]
    print(f"\n{label}{profile} {vp['width']}x{vp['height']}{f', CPU {cpu}x slower' if cpu > 1 else ''}"
          f"  (ms, p50/p75/max of {len(next(iter(results.values()))['inp'])}; INP target < {TARGET_MS:.0f} ms)")
    print(f"  {'interaction':<24} {'INP':>15}   {'visible':>15}   {'server':>15}   {'main-thread CPU':>15}")

    def trio(values: list[float], floor: float = 0) -> str:
        values = [v for v in values if v == v]  # no NaN (no frame sent)
        if not values:
            return "-"

        def fmt(v: float) -> str:
            return f"<{floor:.0f}" if v < floor else f"{v:.0f}"
        return f"{fmt(pct(values, .5))}/{fmt(pct(values, .75))}/{fmt(max(values))}"

    for name, r in results.items():
        flag = "" if max(r["inp"]) < TARGET_MS else "  (max over target)"
        print(f"  {name:<24} {trio(r['inp'], 16):>15}   {trio(r['visible']):>15}   {trio(r['server']):>15}   "
              f"{trio(r['cpu']):>15}{flag}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", action="append", help="a running app (default: start one); twice to compare")
    parser.add_argument("--port", type=int, default=3300)
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds per profile (reps split)")
    parser.add_argument("--profiles", default="desktop,phone")
    parser.add_argument("--min-docs", type=int, default=60)
    parser.add_argument("--patient", help="the chart to measure (default: the one with the most documents)")
    args = parser.parse_args()

    app = None if args.url else App(args.port)
    if app:
        print(f"starting the app on port {args.port} (production build; a few minutes) …", flush=True)
        app.start()
        os.environ.update({k: v for k, v in app.env.items() if k.startswith("PORTAL_")})
    bases = [u.rstrip("/") for u in args.url] if args.url else [app.url]
    labels = [f"{chr(65 + i)} {b}: " if len(bases) > 1 else "" for i, b in enumerate(bases)]
    profiles = [p.strip() for p in args.profiles.split(",") if p.strip()]
    rounds = max(1, min(args.rounds, args.reps))
    try:
        from patient_portal.seed import DEMO_PASSWORD

        pid, docs = prepare_patient(args.min_docs, args.patient)
        print(f"chart {pid}: {docs} documents; {machine_load()}", flush=True)
        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
                "--no-first-run", "--disable-component-update", "--disable-sync"])
            try:
                for profile in profiles:
                    results: dict[str, dict] = {b: {} for b in bases}
                    for r in range(rounds):
                        reps = args.reps // rounds + (1 if r < args.reps % rounds else 0)
                        for base in bases:
                            run_profile(browser, base, pid, profile, reps, DEMO_PASSWORD, results[base])
                    for label, base in zip(labels, bases, strict=True):
                        report(label, profile, results[base])
            finally:
                browser.close()
        print(f"\nafter the run: {machine_load()}")
    finally:
        if app:
            app.stop()


if __name__ == "__main__":
    main()
