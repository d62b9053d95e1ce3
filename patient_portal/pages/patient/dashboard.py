"""The patient's home: a welcome, their next appointment and the ways into their record."""

from __future__ import annotations

import reflex as rx

from patient_portal.components.layout import PRODUCT_NAME, card_grid, link_card, page_header, role_shell
from patient_portal.pages.appointments.patient import next_appointment_card
from patient_portal.state.appointments import NextAppointmentState
from patient_portal.state.session import SessionState


@rx.page(route="/patient", title=f"Home — {PRODUCT_NAME}",
         on_load=[SessionState.require("patient"), NextAppointmentState.load])
def patient_dashboard() -> rx.Component:
    return role_shell(
        "patient",
        page_header("Welcome, " + SessionState.display_name, "Your health record, safely in one place."),
        next_appointment_card(),
        card_grid(
            link_card("heart-pulse", "Your health record", "Allergies, medications, conditions and "
                      "immunizations.", "/patient/record"),
            link_card("file-text", "Your documents", "Lab results, reports and letters from the clinic.",
                      "/patient/documents"),
            link_card("eye", "Who has looked at my record", "Everyone at the clinic who opened, searched for "
                      "or changed your record, and when.", "/patient/access-log"),
            link_card("shield-check", "Sign-in security", "Set up two-step sign-in for your account.",
                      "/account/security"),
        ),
        title="Home",
    )
