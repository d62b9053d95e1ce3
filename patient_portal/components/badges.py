"""Status badges: one look for record status, allergies and insurance everywhere."""

from __future__ import annotations

from typing import Any

import reflex as rx


def status_badge(status: Any) -> rx.Component:
    return rx.match(
        status,
        ("active", rx.badge("Active", color_scheme="green", size="2")),
        ("pending_identity_check", rx.badge("Identity check pending", color_scheme="amber", size="2")),
        rx.badge(status, color_scheme="gray", size="2"),
    )


def allergy_badge(allergies: Any, status: Any = "nka") -> rx.Component:
    """Red when there are allergies on file (named); grey "No known allergies" when that was asked and
    recorded (`status` "nka"); amber "Allergies not recorded" when nobody has asked yet."""
    return rx.cond(
        allergies.length() > 0,
        rx.badge(rx.icon("triangle-alert", size=14), "Allergies: " + allergies.join(", "), color_scheme="red",
                 size="2", id="allergy-badge", white_space="normal"),
        rx.cond(status == "nka",
                rx.badge("No known allergies", color_scheme="gray", size="2", id="allergy-badge"),
                rx.badge(rx.icon("circle-help", size=14), "Allergies not recorded", color_scheme="amber", size="2",
                         id="allergy-badge")),
    )


def insurance_badge(text: Any) -> rx.Component:
    return rx.cond(
        text,
        rx.badge(rx.icon("shield-check", size=14), text, color_scheme="blue", size="2", id="insurance-badge",
                 white_space="normal"),
    )


def severity_badge(severity: Any) -> rx.Component:
    return rx.match(
        severity,
        ("severe", rx.badge("Severe", color_scheme="red")),
        ("moderate", rx.badge("Moderate", color_scheme="orange")),
        ("mild", rx.badge("Mild", color_scheme="yellow")),
        rx.badge("Severity unknown", color_scheme="gray"),
    )
