"""The public landing page: what Patient Portal is, and the way in."""

from __future__ import annotations

import reflex as rx

from patient_portal.components.layout import PRODUCT_NAME, public_shell
from patient_portal.state.public import PublicState


def _feature(icon: str, title: str, text: str) -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.icon(icon, size=22, color=rx.color("accent", 11), flex_shrink="0"),
            rx.vstack(
                rx.heading(title, size="3", as_="h3"),
                rx.text(text, size="2", color=rx.color("gray", 11)),
                spacing="1",
            ),
            spacing="3",
            align="start",
        ),
        width="100%",
    )


def _demo_panel() -> rx.Component:
    return rx.cond(
        PublicState.demo_accounts.length() > 0,
        rx.card(
            rx.hstack(
                rx.icon("info", color=rx.color("accent", 11), flex_shrink="0"),
                rx.vstack(
                    rx.text("Demo accounts — password ", rx.code(PublicState.demo_password), weight="medium"),
                    rx.el.ul(
                        rx.foreach(PublicState.demo_accounts, lambda email: rx.el.li(rx.code(email))),
                        style={"padding_left": "1.25rem", "margin": "0"},
                    ),
                    spacing="1",
                ),
                spacing="3",
                align="start",
            ),
            width="100%",
            id="demo-accounts",
        ),
    )


@rx.page(route="/", title=f"{PRODUCT_NAME} — your health record, safely in one place", on_load=PublicState.load)
def landing() -> rx.Component:
    return public_shell(
        rx.vstack(
            rx.vstack(
                rx.heading(PRODUCT_NAME, size="9", as_="h1"),
                rx.text(
                    "Your health record, documents and insurance — safely in one place, "
                    "for patients and the clinic team that cares for them.",
                    size="4",
                    color=rx.color("gray", 11),
                ),
                rx.flex(
                    rx.link(rx.button("Sign in", size="4", width="100%"), href="/login"),
                    rx.link(
                        rx.button("Register as a new patient", size="4", variant="outline", width="100%"),
                        href="/register",
                    ),
                    spacing="3",
                    direction=rx.breakpoints(initial="column", sm="row"),
                    width=rx.breakpoints(initial="100%", sm="auto"),
                ),
                spacing="4",
                padding_y="2rem",
            ),
            _demo_panel(),
            rx.grid(
                _feature("user-round", "Your health record", "Allergies, medications, conditions and "
                         "immunizations, kept up to date with your care team."),
                _feature("file-lock-2", "Documents, encrypted", "Lab results, imaging reports and "
                         "prescriptions, encrypted before they are stored."),
                _feature("shield-check", "Who looked at my record", "Every view and change is recorded "
                         "in a tamper-evident audit trail you can read."),
                columns=rx.breakpoints(initial="1", md="3"),
                spacing="4",
                width="100%",
            ),
            spacing="6",
            width="100%",
        )
    )
