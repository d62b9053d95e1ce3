"""Secure messages in the real app (issue 18 Bars): Maria Garcia, on her phone, writes to her doctor
with a PDF; the doctor finds it in their inbox, opens the file's thread and answers; the notification
email (real SMTP) says only "You have a new message" with a link; Maria sees the answer. She is
offered only her care team (and the front desk and billing) — never a doctor off it — and a doctor
off her care team cannot open the thread. The front desk's pool shows the demo's overdue question."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import assert_accessible, assert_fits_phone, sign_in
from tests.samples import one_page_pdf

# Repeated on the scaled-out run: attachments on S3 and notification email from the scaled-out app.
pytestmark = pytest.mark.scaled_out

SUBJECT = "Home readings this week"
BODY = "My readings are attached. The mornings are a little higher than before."
ANSWER = "Thank you, Maria. Please keep your evening dose as it is; we will talk at your follow-up."


def _phone(browser, app_url):
    ctx = browser.new_context(base_url=app_url, viewport={"width": 390, "height": 844})
    ctx.set_default_timeout(20_000)
    return ctx, ctx.new_page()


def test_a_patient_writes_with_a_pdf_the_doctor_answers_and_the_email_arrives(browser, app_url, smtp, tmp_path):
    ctx, page = _phone(browser, app_url)
    sign_in(page, "patient@demo.clinic", wait=True)
    page.goto("/patient/messages")
    expect(page.locator("#msg-list .msg-thread", has_text="Parking at the clinic")).to_be_visible()  # the demo's
    assert_fits_phone(page)
    assert_accessible(page)
    page.locator("#msg-new").click()
    page.locator("#msg-to").click()
    options = page.get_by_role("option")
    expect(options.filter(has_text="Dr. Dana Doctor")).to_have_count(1)
    expect(options.filter(has_text="Front desk")).to_have_count(1)
    expect(options.filter(has_text="Dr. Priya Raman")).to_have_count(0)  # not on her care team
    expect(options.filter(has_text="Dr. Marcus Bell")).to_have_count(0)
    options.filter(has_text="Dr. Dana Doctor").click()
    page.locator("#msg-subject").fill(SUBJECT)
    page.locator("#msg-body").fill(BODY)
    pdf = tmp_path / "readings.pdf"
    pdf.write_bytes(one_page_pdf("BP 138/86 at 7:00"))
    page.locator("#msg-files").set_input_files(str(pdf))
    page.locator("#msg-send").click()
    page.wait_for_url(re.compile(r".*/messages/[0-9a-f-]{36}$"))
    thread_url = page.url
    expect(page.locator("#msg-thread")).to_contain_text(BODY)
    expect(page.locator("#msg-thread .msg-file", has_text="readings.pdf")).to_be_visible()
    expect(page.locator("#msg-thread .msg-receipt").first).to_contain_text("Not read yet")
    before = len(smtp.to("patient@demo.clinic", "You have a new message"))

    doctor = browser.new_context(base_url=app_url, viewport={"width": 1280, "height": 900}, accept_downloads=True)
    doctor.set_default_timeout(20_000)
    dpage = doctor.new_page()
    sign_in(dpage, "doctor@demo.clinic", wait=True)
    dpage.goto("/doctor/messages")
    row = dpage.locator("#msg-list .msg-thread", has_text=SUBJECT)
    expect(row).to_contain_text("Maria Garcia")
    expect(row.locator(".msg-unread")).to_be_visible()
    assert_accessible(dpage)
    row.click()
    expect(dpage.locator("#msg-thread")).to_contain_text(BODY)
    console: list[str] = []
    dpage.on("console", lambda message: console.append(message.text))
    with dpage.expect_download() as download:
        dpage.locator("#msg-thread .msg-file", has_text="readings.pdf").click()
    assert open(download.value.path(), "rb").read().startswith(b"%PDF-")
    # the file came as a download: the page stayed, its connection too (a navigation would drop it)
    assert not [text for text in console if "Disconnect websocket" in text]
    dpage.locator("#msg-reply").fill(ANSWER)
    dpage.locator("#msg-reply-send").click()
    expect(dpage.locator("#msg-thread")).to_contain_text(ANSWER)
    doctor.close()

    mails = smtp.wait_for("patient@demo.clinic", before + 1, timeout=60, subject="You have a new message")
    assert len(mails) > before, "the notification email did not arrive"
    text = mails[-1].get_content()
    assert "Thank you" not in text and SUBJECT not in text and "Dana" not in text
    assert smtp.link_in(mails[-1]).endswith("/patient/messages")

    page.goto("/patient/messages")
    mine = page.locator("#msg-list .msg-thread", has_text=SUBJECT)
    expect(mine.locator(".msg-unread")).to_contain_text("1 new")
    mine.click()
    expect(page.locator("#msg-thread")).to_contain_text(ANSWER)
    expect(page.locator("#msg-thread .msg-receipt").first).to_contain_text("Read")  # the doctor read hers
    ctx.close()

    other = browser.new_context(base_url=app_url)
    other.set_default_timeout(20_000)
    opage = other.new_page()
    sign_in(opage, "priya.raman@demo.clinic", wait=True)  # a doctor off Maria's care team
    opage.goto(thread_url)
    expect(opage.locator("#not-permitted")).to_be_visible()
    expect(opage.locator("#msg-thread")).to_have_count(0)
    other.close()


def test_the_front_desk_pool_shows_the_overdue_billing_question(page):
    sign_in(page, "staff@demo.clinic", wait=True)
    page.goto("/staff/messages")
    row = page.locator("#msg-list .msg-thread", has_text="Question about my last statement")
    expect(row).to_contain_text("Maria Garcia")
    expect(row.locator(".msg-overdue")).to_be_visible()
    assert_accessible(page)
