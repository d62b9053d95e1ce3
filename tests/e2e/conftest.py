"""End-to-end fixtures: the real app served by `reflex run --env prod`, driven by Debian's Chromium.

One app process serves the whole e2e run (the production build takes a minute). Tests run with
`-p no:asyncio` because Playwright's sync API clashes with pytest-asyncio's loop.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

# Assertions wait as long as actions do: on a busy 2-core machine, two app workers sharing state in
# Redis can take more than Playwright's default 5 s to finish a page guard (a CI run saw it).
expect.set_options(timeout=15_000)

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("PORTAL_CHROMIUM", "/usr/bin/chromium")
PORT = int(os.environ.get("PORTAL_E2E_PORT", "3100"))
#: When set, the app under test runs as in a scaled-out production: two worker processes sharing UI
#: state in this Redis, data in PostgreSQL (PORTAL_TEST_DATABASE_URL, emptied first), files on S3 (moto).
REDIS_URL = os.environ.get("PORTAL_E2E_REDIS_URL", "")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The scaled-out run repeats only the tests marked `scaled_out`: those whose behaviour depends on
    the topology (sessions and page state shared by two app workers in Redis, files on S3, concurrent
    writes and jobs on PostgreSQL). The rest test screens the embedded run has already covered on the
    same code; repeating all of them doubled the browser suites' time in CI."""
    if not REDIS_URL:
        return
    keep = [item for item in items if item.get_closest_marker("scaled_out")]
    config.hook.pytest_deselected(items=[item for item in items if not item.get_closest_marker("scaled_out")])
    items[:] = keep


@pytest.fixture(autouse=True)
def portal_env():  # override: e2e tests talk to the app process, not in-process settings
    yield None


def _wait_for_health(url: str, proc: subprocess.Popen, log: Path, timeout: float = 420) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"app exited early:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url + "/api/health", timeout=2) as resp:  # noqa: S310
                if resp.status == 200:
                    # the page bundle is served once the frontend build is mounted
                    with urllib.request.urlopen(url + "/", timeout=5) as page:  # noqa: S310
                        if page.status == 200:
                            return
        except Exception:  # noqa: S110 - still starting
            pass
        time.sleep(2)
    raise RuntimeError(f"app did not become healthy in {timeout}s:\n{log.read_text()[-4000:]}")


@pytest.fixture(scope="session")
def smtp():
    """A real SMTP server (aiosmtpd) the app under test sends its email to."""
    from tests.mailbox import Mailbox

    box = Mailbox().start()
    yield box
    box.stop()


@pytest.fixture(scope="session")
def scale_out(request: pytest.FixtureRequest) -> dict[str, str]:
    """The settings of the scaled-out topology (see REDIS_URL), or none for the embedded one."""
    if not REDIS_URL:
        return {}
    import redis
    from sqlalchemy import create_engine, text

    from patient_portal.core.db import normalize_url
    from patient_portal.core.storage import S3BlobStore

    pg_url = os.environ.get("PORTAL_TEST_DATABASE_URL", "")
    if not pg_url:
        pytest.fail("PORTAL_E2E_REDIS_URL needs PORTAL_TEST_DATABASE_URL (PostgreSQL) as well")
    redis.Redis.from_url(REDIS_URL).ping()  # fails the run clearly when Redis is not there
    engine = create_engine(normalize_url(pg_url))
    with engine.begin() as conn:  # the test database starts empty; `portal db upgrade` builds it
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    s3 = request.getfixturevalue("moto_server")
    S3BlobStore("portal-e2e", endpoint_url=s3, access_key_id="testing", secret_access_key="testing").ensure_bucket()
    return {"REFLEX_REDIS_URL": REDIS_URL, "GRANIAN_WORKERS": "2", "PORTAL_DATABASE_URL": pg_url,
            "PORTAL_S3_ENDPOINT_URL": s3, "PORTAL_S3_BUCKET": "portal-e2e", "PORTAL_S3_ACCESS_KEY_ID": "testing",
            "PORTAL_S3_SECRET_ACCESS_KEY": "testing"}


@pytest.fixture(scope="session")
def app_env(tmp_path_factory: pytest.TempPathFactory, smtp, scale_out) -> dict[str, str]:
    """Environment of the app under test: its own instance folder and database, demo mode, real SMTP;
    scaled out over Redis, PostgreSQL and S3 when PORTAL_E2E_REDIS_URL is set."""
    instance = tmp_path_factory.mktemp("e2e-instance")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.update(
        PORTAL_ENV="demo",
        PORTAL_INSTANCE_DIR=str(instance),
        PORTAL_PORT=str(PORT),
        PORTAL_PUBLIC_URL=f"http://localhost:{PORT}",
        PORTAL_SMTP_HOST="127.0.0.1",
        PORTAL_SMTP_PORT=str(smtp.port),
        PORTAL_EMERGENCY_ACK_MINUTES="0.3",  # an emergency contact's 18 s to acknowledge before the next is told
        REFLEX_TELEMETRY_ENABLED="false",
        PATH=f"{ROOT / '.tools' / 'bin'}:{os.environ.get('PATH', '')}",
    )
    env.update(scale_out)
    return env


@pytest.fixture(scope="session")
def app_url(app_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Migrate, seed and serve the app; yields its base URL."""
    bindir = Path(sys.executable).parent
    # 80 demo patients, not the 200 of `make run`: as many pages of lists and search results as the
    # tests need, at 40 % of the seeding time (CI runs this twice, on two busy cores)
    for args in (["db", "upgrade"], ["seed", "--patients", "80"]):
        subprocess.run([str(bindir / "portal"), *args], cwd=ROOT, env=app_env, check=True)
    log = tmp_path_factory.mktemp("e2e-log") / "app.log"
    with log.open("w") as fh:
        proc = subprocess.Popen(
            [str(bindir / "reflex"), "run", "--env", "prod", "--single-port"],
            cwd=ROOT, env=app_env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True,
        )
    url = f"http://localhost:{PORT}"
    try:
        _wait_for_health(url, proc, log)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}; run `make chromium`")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
                  "--no-first-run", "--disable-component-update", "--disable-sync",
                  # a camera and a microphone for the video visits: Chromium's fake devices, no prompt
                  "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"],
        )
        _less_motion(browser)
        yield browser
        browser.close()


def _less_motion(browser) -> None:
    """Every context the tests open asks for reduced motion (what a user can set in their system):
    nothing slides or fades, so no test waits for an animation and Chromium draws far fewer frames —
    the browser suites are CPU-bound on CI."""
    opened = browser.new_context

    def new_context(*args, **kwargs):
        kwargs.setdefault("reduced_motion", "reduce")
        return opened(*args, **kwargs)

    browser.new_context = new_context


@pytest.fixture
def context(browser, app_url):
    ctx = browser.new_context(base_url=app_url, viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(20_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    return context.new_page()


@pytest.fixture
def phone_page(browser, app_url):
    ctx = browser.new_context(base_url=app_url, viewport={"width": 390, "height": 844}, is_mobile=True,
                              has_touch=True)
    ctx.set_default_timeout(20_000)
    yield ctx.new_page()
    ctx.close()



@pytest.fixture(scope="session")
def maria(browser, app_url) -> str:
    """Maria Garcia's chart id (the demo patient account's record), found once per run."""
    from tests.e2e.helpers import maria_chart_id

    return maria_chart_id(browser, app_url)
