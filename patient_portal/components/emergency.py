"""Break-the-glass on screen: the offer under "Not permitted" on a chart, and the banner with the
time left while emergency access runs. Both draw only state: who may ask is decided by the service
when they ask (``domain.breakglass``); the banner shows what the header read said."""

from __future__ import annotations

from typing import Any

import reflex as rx

from patient_portal.components.feedback import not_permitted
from patient_portal.state.chart_header import ChartHeaderState as H
from patient_portal.state.session import SessionState

TAP = "44px"


def emergency_offer(patient_ref: Any) -> rx.Component:
    """For a doctor or the front desk refused a chart: what emergency access is, and the way to ask."""
    return rx.cond(
        (SessionState.role == "doctor") | (SessionState.role == "staff"),
        rx.card(
            rx.vstack(
                rx.hstack(rx.icon("siren", color=rx.color("red", 11)),
                          rx.heading("Emergency?", size="4", as_="h2"), align="center", spacing="2"),
                rx.text("If this patient needs care now and you are not on their care team, you can ask for "
                        "emergency access. You give a reason and your password; access lasts a limited time, "
                        "everything you open is recorded, an administrator reviews it and the patient is told.",
                        size="2", color=rx.color("gray", 11)),
                rx.link(rx.button(rx.icon("key-round", size=16), "Request emergency access", size="3",
                                  color_scheme="red", high_contrast=True, min_height=TAP),
                        href="/chart/" + patient_ref.to(str) + "/emergency-access", id="request-emergency-access"),
                spacing="3",
            ),
            width="100%", id="emergency-offer",
        ),
    )


def chart_refused(patient_ref: Any) -> rx.Component:
    """A chart page's "Not permitted", with the emergency-access offer for those who may ask."""
    return rx.vstack(not_permitted(SessionState.home), emergency_offer(patient_ref), spacing="3", width="100%")


def emergency_banner() -> rx.Component:
    """While emergency access runs: until when, and that everything is recorded (role="status")."""
    return rx.cond(
        H.emergency_until != "",
        rx.callout.root(
            rx.callout.icon(rx.icon("key-round", size=20)),
            rx.vstack(
                rx.text("Emergency access", weight="bold", size="3"),
                rx.text("You can open this record until ", rx.text.strong(H.emergency_until), " (",
                        H.emergency_left, "). Everything you open is recorded, reviewed by an administrator and "
                        "shown to the patient.", size="2"),
                spacing="1",
            ),
            color_scheme="amber", variant="surface", high_contrast=True, size="2", role="status",
            id="emergency-banner", width="100%",
        ),
    )


def withheld_notice(text: Any, **props: Any) -> rx.Component:
    """A list's line saying records marked sensitive are left out (nothing about them)."""
    return rx.cond(text != "", rx.callout(text, icon="eye-off", color_scheme="gray", role="status", width="100%",
                                          class_name="withheld-notice", **props))
