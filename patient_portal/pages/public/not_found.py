"""The styled "Page not found" (Reflex's 404 route): in the signed-in person's own shell with a way
back to their home page, or in the public shell with a way back to the landing page."""

from __future__ import annotations

import reflex as rx

from patient_portal.components.layout import PRODUCT_NAME, public_shell, role_shell
from patient_portal.state.not_found import NotFoundState
from patient_portal.state.session import SessionState

TITLE = f"Page not found — {PRODUCT_NAME}"


def _message(home_href, home_label: str) -> rx.Component:
    return rx.center(
        rx.card(
            rx.vstack(
                rx.icon("map-pin-off", size=32, color=rx.color("accent", 11), aria_hidden="true"),
                rx.heading("Page not found", size="7", as_="h1"),
                rx.text("There is no page at this address. It may have moved, or the link may be "
                        "mistyped.", color=rx.color("gray", 11), size="3"),
                rx.link(rx.button(rx.icon("arrow-left", size=18), home_label, size="3", min_height="44px"),
                        href=home_href, id="not-found-home"),
                spacing="3",
                align="start",
            ),
            id="not-found",
            width="100%",
            max_width="520px",
            size="3",
        ),
        width="100%",
        padding_y="2rem",
    )


@rx.page(route="404", title=TITLE, on_load=NotFoundState.load)
def not_found() -> rx.Component:
    return rx.cond(
        NotFoundState.signed_in,
        role_shell("any", _message(SessionState.home, "Back to my home page")),
        public_shell(_message("/", "Back to the start page")),
    )
