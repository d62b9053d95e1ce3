"""The pieces every page shares: a styled "Page not found" with a way back, the skip link, the
favicon, and placeholders people can read."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.helpers import assert_accessible, sign_in

ALL_IMPACTS = ("minor", "moderate", "serious", "critical")


def at(path: str) -> re.Pattern:
    return re.compile(rf"^[^?#]*{re.escape(path)}/?([?#].*)?$")


def test_an_unknown_address_shows_page_not_found_with_the_way_to_the_start_page(page: Page, app_url: str):
    response = page.goto("/no-such-page/here")
    assert response.status == 404
    expect(page.get_by_role("heading", name="Page not found", level=1)).to_be_visible()
    expect(page).to_have_title("Page not found — Patient Portal")
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()  # the public shell
    assert_accessible(page, impacts=ALL_IMPACTS)
    page.screenshot(path="test-artifacts/page-not-found.png", full_page=True)
    page.get_by_role("link", name="Back to the start page").click()
    page.wait_for_url(f"{app_url}/")
    expect(page.get_by_role("heading", name="Patient Portal", level=1)).to_be_visible()


def test_a_signed_in_person_gets_page_not_found_in_their_own_shell_and_a_way_home(page: Page):
    sign_in(page, "patient@demo.clinic", wait=True)
    response = page.goto("/patient/no-such-thing")
    assert response.status == 404
    expect(page.get_by_role("heading", name="Page not found", level=1)).to_be_visible()
    expect(page.locator("#user-menu")).to_contain_text("Pat Patient")  # the role shell, not a dead end
    expect(page.get_by_role("link", name="Sign in")).to_have_count(0)
    assert_accessible(page)
    page.screenshot(path="test-artifacts/page-not-found-signed-in.png", full_page=True)
    page.get_by_role("link", name="Back to my home page").click()
    page.wait_for_url(at("/patient"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Pat Patient")


def _tab_to_skip_link_and_use_it(page: Page) -> None:
    link = page.locator("#skip-link")
    assert link.bounding_box() is None or link.bounding_box()["y"] + link.bounding_box()["height"] <= 0, \
        "the skip link shows before it is focused"
    page.keyboard.press("Tab")
    expect(link).to_be_focused()
    expect(link).to_have_text("Skip to content")
    expect(link).to_be_in_viewport()  # it slides in (at once with reduced motion, but on the next frame)
    box = link.bounding_box()
    assert box["y"] >= 0 and box["height"] >= 44, "the focused skip link is not visible"
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
    page.keyboard.press("Tab")  # the next Tab goes into the content, past the header
    inside = page.evaluate("!!document.activeElement.closest('main')")
    assert inside, "Tab after the skip link did not continue inside the main content"


def test_the_skip_link_is_the_first_stop_and_jumps_to_the_content(page: Page):
    page.goto("/")
    expect(page.get_by_role("heading", name="Patient Portal", level=1)).to_be_visible()
    _tab_to_skip_link_and_use_it(page)
    sign_in(page, "staff@demo.clinic", wait=True)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")
    _tab_to_skip_link_and_use_it(page)


def test_pages_carry_the_favicon(page: Page):
    page.goto("/login")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    href = page.locator("head link[rel=icon]").first.get_attribute("href")
    assert href == "/favicon.svg"
    icon = page.request.get(href)
    assert icon.status == 200 and "svg" in icon.headers["content-type"]
    assert icon.text().lstrip().startswith("<svg")


_PLACEHOLDER_CONTRAST = """(el) => {
  const parse = (c) => {
    const m = c.match(/rgba?\\(([^)]+)\\)/) || c.match(/color\\((?:srgb|display-p3) ([^)]+)\\)/);
    if (!m) return null;
    const parts = m[1].replace('/', ' ').split(/[ ,]+/).filter(Boolean).map(Number);
    const scale = c.startsWith('color(') ? 255 : 1;
    return {r: parts[0] * scale, g: parts[1] * scale, b: parts[2] * scale, a: parts.length > 3 ? parts[3] : 1};
  };
  const over = (top, bottom) => ({
    r: top.r * top.a + bottom.r * (1 - top.a), g: top.g * top.a + bottom.g * (1 - top.a),
    b: top.b * top.a + bottom.b * (1 - top.a), a: 1});
  const layers = [];
  for (let node = el; node; node = node.parentElement) {
    const bg = parse(getComputedStyle(node).backgroundColor);
    if (bg && bg.a > 0) layers.push(bg);
  }
  const dark = document.documentElement.classList.contains('dark');
  let background = dark ? {r: 17, g: 17, b: 17, a: 1} : {r: 255, g: 255, b: 255, a: 1};
  for (const layer of layers.reverse()) background = over(layer, background);
  const text = over(parse(getComputedStyle(el, '::placeholder').color), background);
  const lum = ({r, g, b}) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const [hi, lo] = [lum(text), lum(background)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}"""


def test_placeholders_have_readable_contrast_in_light_and_dark(page: Page):
    sign_in(page, "admin@demo.clinic", wait=True)
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        page.goto("/admin/users")
        search = page.get_by_placeholder("Search by email")
        expect(search).to_be_visible()
        ratio = search.evaluate(_PLACEHOLDER_CONTRAST)
        assert ratio >= 4.5, f"placeholder contrast {ratio:.2f}:1 in {scheme} mode"
        assert_accessible(page)


def test_sign_in_steps_have_a_sound_heading_order(page: Page):
    page.goto("/login")
    expect(page.get_by_role("heading", name="Sign in", level=1)).to_be_visible()
    assert_accessible(page, impacts=ALL_IMPACTS)
    page.goto("/login?error=throttled")
    expect(page.locator("#login-error")).to_contain_text("Too many attempts")
    assert_accessible(page, impacts=ALL_IMPACTS)
