"""Page shells: the public shell (landing, sign-in) and shared layout pieces.

Both shells start with a "Skip to content" link (the first thing Tab reaches; visible only when
focused) that moves focus to the ``<main id="main">`` landmark, link the favicon, and give input
placeholders text contrast that passes WCAG AA (Radix's default gray is lighter than 4.5:1).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx

PRODUCT_NAME = "Patient Portal"
MAIN_ID = "main"

#: Off-screen until focused, then a pill in the top-left corner above everything else.
_SKIP_LINK_STYLE = {
    "position": "absolute",
    "left": "0.75rem",
    "top": "0.75rem",
    "z_index": "1000",
    "padding": "0.625rem 1rem",
    "min_height": "44px",
    "display": "inline-flex",
    "align_items": "center",
    "border_radius": "var(--radius-3)",
    "background": "var(--accent-9)",
    "color": "var(--accent-contrast)",
    "font_weight": "500",
    "text_decoration": "none",
    "transform": "translateY(-300%)",
    "&:focus, &:focus-visible": {"transform": "none", "outline": "2px solid var(--accent-12)",
                                 "outline_offset": "2px"},
}
#: Placeholders (inputs, text areas, Radix selects) in gray 11, which passes AA on the page
#: backgrounds in light and dark; more specific than Radix's own rules, so no !important.
_READABLE_PLACEHOLDERS = {
    "& input::placeholder, & textarea::placeholder": {"color": "var(--gray-11)", "opacity": "1"},
    "& .rt-SelectTrigger[data-placeholder] .rt-SelectTriggerInner": {"color": "var(--gray-11)"},
}


def skip_link() -> rx.Component:
    """"Skip to content": the first focusable element of every page; jumps to the main landmark."""
    # Reflex renders the anchor as a router link, which scrolls to #main but does not move focus:
    # the click does that in the browser itself (no event queue, works before the websocket is up),
    # so the next Tab continues inside the content.
    focus_main = rx.vars.FunctionStringVar.create(f"(() => document.getElementById('{MAIN_ID}')?.focus())")
    return rx.el.a("Skip to content", href=f"#{MAIN_ID}", id="skip-link", class_name="skip-link",
                   style=_SKIP_LINK_STYLE, on_click=focus_main)


#: The phone app's colour (Radix indigo 9, the theme's accent): the manifest's theme_color too.
THEME_COLOR = "#3e63dd"


def favicon() -> rx.Component:
    """The tab icon and the phone app's links (React hoists links and metas into <head>): the web app
    manifest, the home-screen icon, the browser bar's colour, and assets/pwa.js (service worker and
    push buttons; it registers nothing on an ordinary visit)."""
    return rx.fragment(
        rx.el.link(rel="icon", href="/favicon.svg", type="image/svg+xml"),
        rx.el.link(rel="manifest", href="/manifest.webmanifest"),
        rx.el.link(rel="apple-touch-icon", href="/icons/apple-touch-icon.png"),
        rx.el.meta(name="theme-color", content=THEME_COLOR),
        rx.script(src="/pwa.js"),
    )


def main_landmark(*children: rx.Component) -> rx.Component:
    """The page's <main>, the skip link's target (focusable by script only, no focus ring on it)."""
    return rx.el.main(*children, id=MAIN_ID, tab_index=-1, style={"&:focus": {"outline": "none"}})


def brand() -> rx.Component:
    return rx.link(
        rx.hstack(
            rx.icon("heart-pulse", size=24, color=rx.color("accent", 11)),
            rx.text(PRODUCT_NAME, size="5", weight="bold", color=rx.color("gray", 12)),
            align="center",
            spacing="2",
        ),
        href="/",
        underline="none",
        aria_label=f"{PRODUCT_NAME} home",
    )


def public_shell(*children: rx.Component) -> rx.Component:
    """Header with the brand and a sign-in entry, then the page content, centred and responsive."""
    return rx.box(
        skip_link(),
        favicon(),
        rx.el.header(
            rx.hstack(
                brand(),
                rx.spacer(),
                rx.link(rx.button("Sign in", size="3"), href="/login", aria_label="Sign in"),
                align="center",
                width="100%",
                max_width="1100px",
                margin_x="auto",
                padding_x="1rem",
                padding_y="0.75rem",
            ),
            style={"border_bottom": f"1px solid {rx.color('gray', 5)}"},
        ),
        main_landmark(
            rx.box(*children, width="100%", max_width="1100px", margin_x="auto", padding="1rem"),
        ),
        min_height="100vh",
        background=rx.color("gray", 1),
        style=_READABLE_PLACEHOLDERS,
    )


# ---------------------------------------------------------------- signed-in pages

TAP = "44px"  # minimum tap target


def page_header(title, subtitle=None, action: rx.Component | None = None) -> rx.Component:
    """The page's title (h1), a line of context, and its primary action on the right."""
    return rx.flex(
        rx.vstack(
            rx.heading(title, size="7", as_="h1"),
            rx.text(subtitle, color=rx.color("gray", 11), size="3") if subtitle is not None else rx.fragment(),
            spacing="1",
        ),
        rx.spacer(),
        action if action is not None else rx.fragment(),
        direction=rx.breakpoints(initial="column", sm="row"),
        align=rx.breakpoints(initial="start", sm="center"),
        spacing="3",
        width="100%",
        padding_bottom="1rem",
    )


def _unless_hidden(item, component: rx.Component) -> rx.Component:
    """The link, unless the person's permission set leaves out the action its page needs."""
    from patient_portal.state.session import SessionState

    if not item.needs:
        return component
    return rx.cond(SessionState.hidden_links.contains(item.href), rx.fragment(), component)


def _nav_link(item) -> rx.Component:
    return _unless_hidden(item, _row_link(item))


def _row_link(item) -> rx.Component:
    return rx.link(
        rx.hstack(rx.icon(item.icon, size=18), rx.text(item.label, size="3"), align="center", spacing="2"),
        href=item.href,
        underline="none",
        color=rx.color("gray", 12),
        padding_x="0.75rem",
        min_height=TAP,
        display="flex",
        align_items="center",
        border_radius="var(--radius-3)",
        _hover={"background": rx.color("accent", 3)},
    )


def _menu_link(item) -> rx.Component:
    return _unless_hidden(item, rx.menu.item(
        rx.hstack(rx.icon(item.icon, size=16), rx.text(item.label), spacing="2", align="center"),
        on_select=rx.redirect(item.href),
        min_height=TAP,
    ))


def _sign_out_form() -> rx.Component:
    from patient_portal.state.session import SIGN_OUT_FORM_ID

    return rx.el.form(action="/api/auth/logout", method="post", id=SIGN_OUT_FORM_ID, on_submit=None,
                      style={"display": "none"})


def user_menu() -> rx.Component:
    """Name and role, then profile, sign-in security and sign out."""
    from patient_portal.components.navigation import USER_MENU
    from patient_portal.state.session import SessionState

    return rx.menu.root(
        rx.menu.trigger(
            rx.button(rx.icon("circle-user-round", size=20),
                      rx.text(SessionState.display_name, display=rx.breakpoints(initial="none", sm="inline")),
                      rx.icon("chevron-down", size=16),
                      variant="soft", size="3", min_height=TAP, aria_label="Account menu", id="user-menu"),
        ),
        rx.menu.content(
            rx.box(rx.text(SessionState.display_name, weight="medium", size="2"),
                   rx.text(SessionState.role, size="1", color=rx.color("gray", 11)), padding_x="0.5rem",
                   padding_y="0.25rem"),
            rx.menu.separator(),
            *[_menu_link(item) for item in USER_MENU],
            rx.menu.separator(),
            rx.menu.item(rx.hstack(rx.icon("log-out", size=16), rx.text("Sign out"), spacing="2"),
                         on_select=SessionState.sign_out, min_height=TAP, color="red"),
        ),
    )


def _mobile_nav(_role: str, items) -> rx.Component:
    return rx.box(
        rx.menu.root(
            rx.menu.trigger(rx.button(rx.icon("menu", size=20), variant="soft", size="3", min_height=TAP,
                                      min_width=TAP, aria_label="Open navigation menu", id="nav-menu")),
            rx.menu.content(*[_menu_link(item) for item in items]),
        ),
        display=rx.breakpoints(initial="block", md="none"),
    )


def _role_nav(render) -> rx.Component:
    """The signed-in user's own navigation (also on another role's page, where they see "Not permitted")."""
    from patient_portal.components.navigation import NAV_ITEMS
    from patient_portal.state.session import SessionState

    return rx.match(SessionState.role, *[(r, render(r, items)) for r, items in NAV_ITEMS.items()], rx.fragment())


def _section_menu(name: str, items) -> rx.Component:
    """A named menu of links; gone when the person's permission set hides every one of them."""
    from patient_portal.state.session import SessionState

    menu = rx.menu.root(
        rx.menu.trigger(rx.button(name, rx.icon("chevron-down", size=16), variant="ghost", color_scheme="gray",
                                  size="3", min_height=TAP, class_name="nav-section")),
        rx.menu.content(*[_menu_link(item) for item in items]),
    )
    if not all(item.needs for item in items):
        return menu
    all_hidden = SessionState.hidden_links.contains(items[0].href)
    for item in items[1:]:
        all_hidden = all_hidden & SessionState.hidden_links.contains(item.href)
    return rx.cond(all_hidden, rx.fragment(), menu)


def _desktop_nav(role: str, items) -> rx.Component:
    """The row of links, and a menu for each section of a role with many (navigation.SECTIONS)."""
    from patient_portal.components.navigation import sectioned

    row, sections = sectioned(role, items)
    return rx.hstack(*[_nav_link(item) for item in row], *[_section_menu(name, links) for name, links in sections],
                     spacing="1", align="center", wrap="wrap")


def role_shell(role: str, *children: rx.Component, title: str = "") -> rx.Component:
    """The signed-in layout of a role's page tree: header (brand, navigation, user menu) and content.

    `role` is admin, doctor, staff, patient, or "account" (pages any signed-in user may open); the
    navigation is always the signed-in user's own. Content shows only when the page guard
    (``on_load=SessionState.require(role)``) said this user may be here; another role sees
    "Not permitted". Navigation folds into a menu below 768 px.
    """
    from patient_portal.components.feedback import checking, not_permitted
    from patient_portal.state.session import SessionState

    content = rx.cond(
        (SessionState.guard_for == role) | (SessionState.guard_for == "any"),
        rx.match(
            SessionState.guard,
            ("ok", rx.fragment(*children)),
            ("denied", not_permitted(SessionState.home)),
            checking(),
        ),
        checking(),
    )
    return rx.box(
        skip_link(),
        favicon(),
        _sign_out_form(),
        rx.el.header(
            rx.hstack(
                _role_nav(_mobile_nav),
                brand(),
                rx.el.nav(
                    _role_nav(_desktop_nav),
                    aria_label="Main navigation",
                    display=rx.breakpoints(initial="none", md="block"),
                    margin_left="1rem",
                ),
                rx.spacer(),
                user_menu(),
                align="center",
                width="100%",
                max_width="1200px",
                margin_x="auto",
                padding_x="1rem",
                padding_y="0.5rem",
                spacing="3",
            ),
            style={"border_bottom": f"1px solid {rx.color('gray', 5)}"},
            background=rx.color("gray", 1),
        ),
        main_landmark(
            rx.box(content, width="100%", max_width="1200px", margin_x="auto", padding="1rem"),
        ),
        min_height="100vh",
        background=rx.color("gray", 1),
        class_name=f"role-shell role-{role}",
        style=_READABLE_PLACEHOLDERS,
    )


def link_card(icon: str, title: str, text: str, href: str) -> rx.Component:
    """A dashboard card that opens one area of the role's tree."""
    return rx.link(
        rx.card(
            rx.hstack(
                rx.icon(icon, size=24, color=rx.color("accent", 11), flex_shrink="0"),  # same size on every card
                rx.vstack(rx.heading(title, size="4", as_="h2"),
                          rx.text(text, size="2", color=rx.color("gray", 11)), spacing="1"),
                spacing="3",
                align="start",
            ),
            width="100%",
            min_height="88px",
            _hover={"background": rx.color("accent", 2)},
        ),
        href=href,
        underline="none",
        color="inherit",
        width="100%",
    )


def card_grid(*cards: rx.Component) -> rx.Component:
    return rx.grid(*cards, columns=rx.breakpoints(initial="1", sm="2", lg="3"), spacing="4", width="100%")


def worklist_card(icon: str, title: str, *, items: Any, render: Callable[[Any], rx.Component], status: Any,
                  empty: str, failed: str, card_id: str, count: Any = None, item_spacing: str = "1",
                  notice: rx.Component | None = None) -> rx.Component:
    """A dashboard card of what waits for the person (unsigned notes, results to review, renewal
    requests): icon, title and an amber count badge, then `render` of each of `items` — or `empty`
    once loaded, `failed` when it could not be read, "Loading…" before. `status` reads
    "loading" | "ok" | "failed"; `count` defaults to the number of items; `notice` sits under the title."""
    count = items.length() if count is None else count
    return rx.card(
        rx.vstack(
            rx.hstack(rx.icon(icon, size=24, color=rx.color("accent", 11)),
                      rx.heading(title, size="4", as_="h2"),
                      rx.cond(count > 0, rx.badge(count, color_scheme="amber", high_contrast=True)),
                      spacing="3", align="center"),
            notice or rx.fragment(),
            rx.match(
                status,
                ("ok", rx.cond(items.length() > 0,
                               rx.vstack(rx.foreach(items, render), spacing=item_spacing, width="100%"),
                               rx.text(empty, size="2", color=rx.color("gray", 11)))),
                ("failed", rx.text(failed, size="2", color=rx.color("red", 11))),
                rx.text("Loading…", size="2", color=rx.color("gray", 11)),
            ),
            spacing="2", width="100%",
        ),
        width="100%", id=card_id,
    )
