"""Page shells: the public shell (landing, sign-in) and shared layout pieces."""

from __future__ import annotations

import reflex as rx

PRODUCT_NAME = "Patient Portal"


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
        rx.el.main(
            rx.box(*children, width="100%", max_width="1100px", margin_x="auto", padding="1rem"),
            id="main",
        ),
        min_height="100vh",
        background=rx.color("gray", 1),
    )
