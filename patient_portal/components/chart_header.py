"""The patient chart header, the same for every role: name, age beside birth date, MRN, photo
placeholder, allergies and insurance. Fields the role may not see arrive empty and are left out."""

from __future__ import annotations

from typing import Any

import reflex as rx

from patient_portal.components.badges import allergy_badge, insurance_badge, status_badge


def chart_header(patient: Any, allergies: Any, show_allergies: Any, insurance_status: Any, *,
                 level: str = "h1") -> rx.Component:
    """`patient` is a summary dict Var (name, dob_display, age, sex, mrn, status). The name is the page's
    h1 on chart pages; a page with its own title (the patient's record) makes it an h2."""
    return rx.card(
        rx.flex(
            rx.avatar(fallback=patient["given_name"].to(str)[:1] + patient["family_name"].to(str)[:1],
                      size="5", radius="full", aria_hidden="true"),
            rx.vstack(
                rx.heading(patient["name"], size="6", as_=level, id="chart-name"),
                rx.flex(
                    rx.text("Born ", patient["dob_display"], " (", patient["age"], " y)", size="2"),
                    rx.text(patient["sex"], size="2", text_transform="capitalize"),
                    rx.text("MRN ", rx.code(patient["mrn"], id="chart-mrn"), size="2"),
                    spacing="3",
                    wrap="wrap",
                    color=rx.color("gray", 11),
                ),
                rx.flex(
                    status_badge(patient["status"]),
                    rx.cond(show_allergies, allergy_badge(allergies)),
                    insurance_badge(insurance_status),
                    spacing="2",
                    wrap="wrap",
                ),
                spacing="2",
                min_width="0",
            ),
            spacing="4",
            align="start",
        ),
        width="100%",
        id="chart-header",
    )
