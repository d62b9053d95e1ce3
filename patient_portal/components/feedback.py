"""Messages on the page: error and notice callouts, "not permitted", and a checking placeholder."""

from __future__ import annotations

import reflex as rx


def error_callout(message, **props) -> rx.Component:
    """A red callout that shows `message` (a Var or str) when it is not empty; announced to screen readers."""
    return rx.cond(
        message,
        rx.callout(message, icon="triangle-alert", color_scheme="red", role="alert", width="100%", **props),
    )


def notice_callout(message, **props) -> rx.Component:
    """A neutral callout for `message` when not empty (e.g. "Your session ended")."""
    return rx.cond(
        message,
        rx.callout(message, icon="info", color_scheme="blue", role="status", width="100%", **props),
    )


def success_callout(message, **props) -> rx.Component:
    return rx.cond(
        message,
        rx.callout(message, icon="circle-check", color_scheme="green", high_contrast=True, role="status", width="100%",
                   **props),
    )


def not_permitted(home_href="/") -> rx.Component:
    """What a signed-in user sees on another role's page: no data, a way home."""
    return rx.card(
        rx.vstack(
            rx.hstack(rx.icon("shield-x", color=rx.color("red", 11)),
                      rx.heading("Not permitted", size="6", as_="h1"), align="center", spacing="2"),
            rx.text("Your account cannot open this page. If you think it should, ask the clinic's "
                    "administrator.", color=rx.color("gray", 11)),
            rx.link(rx.button("Go to my home page", size="3", min_height="44px"), href=home_href),
            spacing="3",
        ),
        id="not-permitted",
        width="100%",
    )


def checking() -> rx.Component:
    """Shown while the page guard asks the server who is signed in."""
    return rx.hstack(rx.spinner(size="3"), rx.text("Checking your session…", color=rx.color("gray", 11)),
                     spacing="2", padding_y="1.5rem", role="status")
