"""An admin changes the clinic's time zone on /admin/settings and a visit type's length on
/admin/scheduling, and both are in use at once: the settings page tells the time at the clinic in
the new zone, and the front desk's next booking of that visit type is the new length."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from tests.e2e.helpers import assert_accessible, choose, new_page, sign_in

ROOT = Path(__file__).resolve().parents[2]
#: puts back what this test changed, whatever happened (the app is shared by every e2e test)
_RESTORE = """
import sys
from sqlalchemy import text
from patient_portal.core.db import unit_of_work
with unit_of_work() as s:
    s.execute(text("DELETE FROM clinic_settings"))
    s.execute(text("UPDATE visit_type SET duration_minutes = :m, version = version + 1 WHERE name = 'Follow-up'"),
              {"m": int(sys.argv[1])})
"""


def _minutes(line: str) -> int:
    start, end = re.search(r"(\d\d:\d\d)–(\d\d:\d\d)", line).groups()
    as_minutes = [int(t[:2]) * 60 + int(t[3:]) for t in (start, end)]
    return (as_minutes[1] - as_minutes[0]) % (24 * 60)


def test_time_zone_and_visit_length_are_used_at_once(browser, app_url, app_env):
    admin = new_page(browser, app_url)
    sign_in(admin, "admin@demo.clinic", wait=True)
    admin.goto("/admin/scheduling")
    follow_up = admin.locator("#visit-types").get_by_role("button", name="Change Follow-up")
    expect(follow_up).to_be_visible()
    follow_up.click()
    duration = admin.locator("#type-duration")
    before = int(duration.input_value())
    try:
        # the clinic moves to Tokyo: the settings page tells the time there at once
        admin.goto("/admin/settings")
        expect(admin.get_by_role("heading", level=1)).to_have_text("Settings")
        choose(admin, "settings-timezone", "Asia/Tokyo")
        admin.locator("#settings-session-idle-minutes").fill("3")
        admin.locator("#settings-save").click()
        expect(admin.locator("#settings-session-idle-minutes-error")).to_contain_text("from 5 to 60")
        admin.locator("#settings-session-idle-minutes").fill("20")
        # the message under the field goes once the new value reached the server: wait for that, or
        # the layout moves between the press and the release of the click on Save (lost in CI once)
        expect(admin.locator("#settings-session-idle-minutes-error")).to_be_hidden()
        admin.locator("#settings-save").click()
        expect(admin.locator("[data-sonner-toast]").filter(has_text="Settings saved")).to_be_visible()
        tokyo = datetime.now(UTC).astimezone(ZoneInfo("Asia/Tokyo"))
        shown = admin.locator("#settings-clinic-now").inner_text()
        assert shown in {t.strftime("%a %-d %b, %H:%M") for t in (tokyo - timedelta(minutes=1), tokyo,
                                                                   tokyo + timedelta(minutes=1))}, shown
        admin.reload()
        expect(admin.locator("#settings-timezone")).to_contain_text("Asia/Tokyo")
        assert_accessible(admin)

        # a Follow-up now takes 45 minutes: the front desk's next booking is that long
        admin.goto("/admin/scheduling")
        admin.locator("#visit-types").get_by_role("button", name="Change Follow-up").click()
        admin.locator("#type-duration").fill("45")
        admin.locator("#type-save").click()
        expect(admin.locator("[data-sonner-toast]").filter(has_text="Visit type saved: Follow-up")).to_be_visible()

        desk = new_page(browser, app_url)
        sign_in(desk, "staff@demo.clinic", wait=True)
        desk.goto("/staff/appointments")
        desk.locator("#booking-patient-search").fill("Tanaka, Aiko")
        desk.locator("#booking-patient-find").click()
        desk.locator("#booking-patient-results").get_by_role("button", name="Choose Aiko Tanaka").click()
        choose(desk, "booking-visit-type", "Follow-up")
        choose(desk, "booking-doctor", "Dr. Dana Doctor")
        desk.locator("#booking-find").click()
        desk.locator("#booking-slots .time-choice").first.click()
        desk.locator("#booking-book").click()
        expect(desk.locator("[data-sonner-toast]").filter(has_text="Booked:")).to_be_visible()
        card = desk.locator(".patient-appointment").filter(has_text="Follow-up").last
        expect(card).to_be_visible()
        assert _minutes(card.inner_text()) == 45, card.inner_text()
        desk.context.close()
    finally:
        subprocess.run([sys.executable, "-c", _RESTORE, str(before)], cwd=ROOT, env=app_env, check=True,
                       capture_output=True, text=True, timeout=120)
        admin.context.close()
