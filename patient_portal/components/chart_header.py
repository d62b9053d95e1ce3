"""The patient chart header, the same for every role: photo placeholder, name, birth date with age,
sex, MRN, record status, allergies, alerts (advance directive on file) and insurance, under the
critical-information banner (severe allergies, alerts; code status, advance directives and special
instructions for every role that sees the chart), while a protocol runs "Emergency in progress" for
the clinic's roles on duty, and the emergency-access banner (time left) while break-the-glass access
runs. It draws only ``state.chart_header.ChartHeaderState``; a part the role may not see is left out,
not shown empty."""

from __future__ import annotations

from typing import Any

import reflex as rx

from patient_portal.components.badges import allergy_badge, status_badge
from patient_portal.components.emergency import emergency_banner
from patient_portal.state.chart_header import ChartHeaderState as H


def _facts(patient: Any, age: Any) -> rx.Component:
    return rx.flex(
        rx.text("Born ", patient["dob_display"], rx.cond(age, rx.text.span(" (", age, ")"), ""), size="2",
                id="chart-born"),
        rx.text(patient["sex"], size="2", text_transform="capitalize", id="chart-sex"),
        rx.text("MRN ", rx.code(patient["mrn"], id="chart-mrn"), size="2"),
        spacing="3", wrap="wrap", color=rx.color("gray", 11),
    )


def _card(patient: Any, age: Any, level: str, *badges: rx.Component) -> rx.Component:
    return rx.card(
        rx.flex(
            rx.avatar(fallback=patient["given_name"].to(str)[:1] + patient["family_name"].to(str)[:1],
                      size="5", radius="full", aria_hidden="true"),  # the photo's place until there is one
            rx.vstack(
                rx.heading(patient["name"], size="6", as_=level, id="chart-name"),
                _facts(patient, age),
                rx.flex(*badges, spacing="2", wrap="wrap"),
                spacing="2", min_width="0",
            ),
            spacing="4", align="start",
        ),
        width="100%", id="chart-header",
    )


def _alert(text: Any) -> rx.Component:
    return rx.badge(rx.icon("file-text", size=14), text, color_scheme="amber", size="2", class_name="chart-alert",
                    white_space="normal")


def _insurance() -> rx.Component:
    return rx.badge(rx.cond(H.insured, rx.icon("shield-check", size=14), rx.icon("shield-off", size=14)), H.insurance,
                    color_scheme=rx.cond(H.insured, "blue", "amber"), size="2", id="insurance-badge",
                    white_space="normal")


def _critical(line: Any) -> rx.Component:
    return rx.el.li(rx.text(line, weight="bold", size="3"), class_name="critical-allergy")


def _labelled(label: str, items: Any, element_id: str) -> rx.Component:
    return rx.cond(items.length() > 0,
                   rx.text(rx.text.span(label, weight="bold"), items.join(" · "), size="2", id=element_id))


def in_progress_banner() -> rx.Component:
    """"Emergency in progress" while a protocol runs for this patient, with the way to its checklist."""
    return rx.cond(
        H.in_progress != "",
        rx.callout.root(
            rx.callout.icon(rx.icon("siren", size=20)),
            rx.flex(
                rx.text(rx.text.span("Emergency in progress: ", weight="bold"), H.in_progress, size="3"),
                rx.link("Open the checklist", href="/chart/" + H.patient["id"] + "/emergency", weight="bold",
                        min_height="44px", display="flex", align_items="center", id="emergency-checklist-link"),
                spacing="3", wrap="wrap", align="center",
            ),
            color_scheme="red", variant="surface", high_contrast=True, size="3", role="alert", id="emergency-in-progress",
            width="100%",
        ),
    )


def critical_banner() -> rx.Component:
    """The critical-information banner: severe or high-criticality allergies, the alerts (an
    advance directive on file), the code status, the advance directives and the special instructions,
    red and high-contrast, announced (role="alert") when it appears. Drawn only when the role sees
    one of its parts and there is something in it."""
    return rx.cond(
        H.show_banner,
        rx.callout.root(
            rx.callout.icon(rx.icon("siren", size=20)),
            rx.vstack(
                rx.text("Critical information", weight="bold", size="3"),
                rx.cond(H.critical.length() > 0,
                        rx.el.ul(rx.foreach(H.critical, _critical), style={"margin": "0", "padding_left": "1.1em"},
                                 aria_label="Severe allergies")),
                rx.cond(H.alerts.length() > 0, rx.text(H.alerts.join(" · "), size="2", weight="medium")),
                rx.cond(H.code_status != "", rx.text(rx.text.span("Code status: ", weight="bold"), H.code_status,
                                                     size="2", id="banner-code-status")),
                _labelled("Advance directives: ", H.directives, "banner-directives"),
                _labelled("Special instructions: ", H.instructions, "banner-instructions"),
                spacing="1",
            ),
            color_scheme="red", variant="surface", high_contrast=True, size="2", role="alert",
            id="critical-banner", width="100%",
        ),
    )


def chart_header(*, level: str = "h1") -> rx.Component:
    """The header of the patient the page is about, once ChartHeaderState holds it (read by the page's
    on_load, alone or with the page's own read). The name is the page's h1 on chart pages; a page with
    its own title (the patient's record) makes it an h2."""
    return rx.cond(
        H.header_status == "ok",
        rx.vstack(
            in_progress_banner(),
            emergency_banner(),
            critical_banner(),
            _card(H.patient, H.patient["age_text"], level,
                  status_badge(H.patient["status"]),
                  rx.cond(H.show_allergies, allergy_badge(H.allergies, H.allergy_status)),
                  rx.foreach(H.alerts, _alert),
                  rx.cond(H.show_insurance, _insurance())),
            spacing="2", width="100%",
        ),
    )


def back_to_chart(patient_ref: Any, **props: Any) -> rx.Component:
    """The "Back to the chart" link of a `/chart/<id>/…` page (`props`: the link's own layout)."""
    return rx.link(rx.hstack(rx.icon("arrow-left", size=16), "Back to the chart", align="center"),
                   href="/chart/" + patient_ref, min_height="44px", **props)
