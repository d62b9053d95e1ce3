"""The doctor's home: the patients on their care team."""

from __future__ import annotations

import reflex as rx

from patient_portal.components.layout import PRODUCT_NAME, card_grid, link_card, page_header, role_shell
from patient_portal.state.session import SessionState


@rx.page(route="/doctor", title=f"Doctor — {PRODUCT_NAME}", on_load=SessionState.require("doctor"))
def doctor_dashboard() -> rx.Component:
    return role_shell(
        "doctor",
        page_header("Welcome, " + SessionState.display_name, "Clinician workspace"),
        card_grid(
            link_card("stethoscope", "My patients", "Patients on your care team: history, documents, notes.",
                      "/doctor/patients"),
        ),
        title="Doctor dashboard",
    )
