"""What e2e tests do again and again, the way a person would: sign in, pick an option, check the page."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

from playwright.sync_api import Browser, Page, expect

DEMO_PASSWORD = "demo-clinic-2026"  # noqa: S105 - the published demo credential


DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def new_page(browser: Browser, app_url: str, *, viewport: dict[str, int] | None = None, **options) -> Page:
    """A page in a browser context of its own (its own cookies: another person, another device);
    close it with ``page.context.close()``."""
    ctx = browser.new_context(base_url=app_url, viewport=viewport or DESKTOP, **options)
    ctx.set_default_timeout(20_000)
    return ctx.new_page()


def open_maria(page: Page, search: str = "/doctor/patients") -> str:
    """The signed-in clinician (or front desk, ``search="/staff/patients"``) finds Maria Garcia, the
    demo patient, with the patient search and opens her chart; returns her chart id."""
    return open_patient(page, "Maria", "Garcia", search)


def open_patient(page: Page, given: str, family: str, search: str = "/doctor/patients") -> str:
    """The signed-in clinician or front desk finds a demo patient by name with the patient search and
    opens their chart; returns the chart id."""
    page.goto(search)
    page.locator("#patient-query").fill(f"{family}, {given}")
    page.locator("#search-submit").click()
    page.locator("#search-results").get_by_role("link", name=f"{given} {family}", exact=True).first.click()
    page.wait_for_url("**/chart/*")
    expect(page.locator("#chart-header")).to_be_visible()
    return page.url.rstrip("/").rsplit("/", 1)[-1]


def maria_chart_id(browser: Browser, app_url: str) -> str:
    """Maria Garcia's chart id, found the way the demo doctor finds her (in a context of its own)."""
    page = new_page(browser, app_url)
    sign_in(page, "doctor@demo.clinic", wait=True)
    chart_id = open_maria(page)
    page.context.close()
    return chart_id


def my_patients_row(page: Page, name: str = "Maria Garcia"):
    """As the signed-in doctor: My patients sorted by last visit (patients seen lately first, so a
    demo patient with visits is on the first page), and the row of `name`."""
    page.goto("/doctor/patients")
    page.locator("#sort-last_visit").click()
    expect(page.locator("th", has=page.locator("#sort-last_visit"))).to_have_attribute("aria-sort", "descending")
    return page.locator("#my-patients .worklist-row", has_text=name)


def sign_out(page: Page) -> None:
    """Sign out from the account menu; the browser lands on the public home page."""
    page.locator("#user-menu").click()
    page.get_by_role("menuitem", name="Sign out").click()
    page.wait_for_url(lambda url: url.rstrip("/").count("/") == 2)  # http://host:port/


CODE_STEP = re.compile(r"/login/?\?step=code")


def sign_in(page: Page, email: str, password: str = DEMO_PASSWORD, code: str = "", *, wait: bool = False) -> None:
    """Fill and send the sign-in form, then (given a code) the code step the server sends an account
    with two-step sign-in to; with wait=True, wait until the browser has left /login."""
    page.goto("/login")
    _fill_and_send(page, {"#login-email": email, "#login-password": password}, "#login-form button[type=submit]")
    if code:
        enter_code(page, code)
    if wait:
        page.wait_for_url(lambda url: "/login" not in url)


def enter_code(page: Page, code: str) -> None:
    """On the code step: type an authenticator code, or (letters in it) switch to a recovery code first."""
    page.wait_for_url(CODE_STEP)
    field = page.locator("#login-code")
    field.wait_for()
    if not code.strip().isdigit() and page.locator("#login-use-recovery").is_visible():
        page.locator("#login-use-recovery").click()
        page.get_by_label("Recovery code").wait_for()
    _fill_and_send(page, {"#login-code": code}, "#login-code-form button[type=submit]")


def _fill_and_send(page: Page, fields: dict[str, str], submit: str, tries: int = 3, *, answer: str = "") -> None:
    """Fill a form and send it, until the browser leaves for the server's answer (or, given `answer`,
    until that element shows). On a slow, busy machine the page can finish hydrating between the
    typing and the click and redraw the form empty, and a required empty field then keeps the browser
    from sending it: type again and resend."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    before = page.url
    for attempt in range(tries):
        for selector, value in fields.items():
            page.locator(selector).fill(value)
        page.locator(submit).click()
        try:
            if answer:
                page.locator(answer).wait_for(timeout=8_000)
            else:
                page.wait_for_url(lambda url: url != before, timeout=8_000)
            return
        except PlaywrightTimeout:
            if attempt == tries - 1:
                raise


def ask_for_a_reset_link(page: Page, email: str) -> None:
    """The forgotten-password form, sent (its answer is the same whether the address has an account)."""
    page.goto("/forgot-password")
    _fill_and_send(page, {"#reset-email": email}, "#reset-request", answer="#reset-sent")


_MFA_ACCOUNT = """
import json, sys, time
from sqlmodel import select
from patient_portal.core.db import unit_of_work
from patient_portal.domain.identity import enrolment, mfa, service
from patient_portal.domain.identity.models import User
from patient_portal.domain.identity.sessions import actor_for
email, role, name, password = sys.argv[1:5]
with unit_of_work() as s:
    service.create_user_system(s, email=email, role=role, display_name=name, password=password, via="e2e")
with unit_of_work() as s:
    user = s.exec(select(User).where(User.email == email)).one()
actor = actor_for(user)
with unit_of_work() as s:
    started = enrolment.begin(s, actor)
with unit_of_work() as s:
    codes = enrolment.confirm(s, actor, mfa.code_at(started.secret, time.time() - 30))
print(json.dumps({"secret": started.secret, "codes": codes}))
"""


def make_mfa_account(app_env: dict, email: str, role: str = "doctor", name: str = "Morgan Mfa",
                     password: str = DEMO_PASSWORD) -> tuple[str, list[str]]:
    """An account with two-step sign-in on, made in the app's own database and key ring (as the
    operator's CLI would); returns its TOTP secret and recovery codes."""
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", _MFA_ACCOUNT, email, role, name, password], cwd=root, env=app_env,
                          check=True, capture_output=True, text=True)
    made = json.loads(done.stdout.strip().splitlines()[-1])
    return made["secret"], made["codes"]


def choose(page: Page, field_id: str, option: str) -> None:
    """Open a select by its id and pick the option with that exact label; return once the list has
    closed. On a loaded machine a click can land while the list is still settling and Radix keeps it
    open (its overlay then swallows the next click elsewhere): pick again, as a person would."""
    listbox = page.get_by_role("listbox")
    for attempt in range(3):
        if not listbox.is_visible():
            page.locator(f"#{field_id}").click()
        page.get_by_role("option", name=option, exact=True).click()
        try:
            expect(listbox).to_be_hidden(timeout=3000)
            return
        except AssertionError:
            if attempt == 2:
                raise


def assert_accessible(page, *, impacts: tuple[str, ...] = ("serious", "critical")) -> None:
    """axe-core finds no violation of the given impact on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    # a toast fading in, or colours still easing to a new light/dark scheme, are measured part way
    # (a false contrast failure): let every finite animation and transition settle first
    page.wait_for_function("""() => [...document.querySelectorAll('[data-sonner-toast]')]
        .every(t => getComputedStyle(t).opacity === '1')
        && document.getAnimations().every(a => a.playState !== 'running'
            || a.effect?.getComputedTiming().iterations === Infinity)""", timeout=5000)
    results = Axe().run(page)
    bad = [v for v in results.response["violations"] if v.get("impact") in impacts]
    summary = "\n".join(f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes'][:3]]} "
                        f"{[c.get('message') for c in (v['nodes'][0].get('any') or [])][:1]}" for v in bad)
    assert not bad, f"accessibility violations on {page.url}:\n{summary}"


def assert_fits_phone(page, width: int = 390) -> None:
    """The whole page, header included, fits the phone's width: no sideways scrolling."""
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{page.url} is {scroll_width}px wide on a {width}px phone"


def api_upload_document(page: Page, patient_id: str, title: str, body: bytes, *, category: str = "imaging_report",
                        filename: str = "scan.pdf") -> str:
    """Upload a document through the API as the page's signed-in user; returns its id."""
    meta = {"patient_id": patient_id, "category": category, "title": title, "filename": filename,
            "service_date": "2026-02-02", "source": "Radiology"}
    answer = page.request.post("/api/documents", data=body, headers={"X-Document-Meta": quote(json.dumps(meta))})
    assert answer.status == 201, answer.text()
    return answer.json()["id"]
