"""The patient's home: a welcome, what is next for them (their next appointment, what they owe, their
care plan's tasks to do) and the ways into their record."""

from __future__ import annotations

import reflex as rx

from patient_portal.components.layout import PRODUCT_NAME, card_grid, link_card, page_header, role_shell
from patient_portal.pages.appointments.patient import next_appointment_card
from patient_portal.pages.careplans.pages import tasks_card
from patient_portal.state.appointments import NextAppointmentState
from patient_portal.state.billing_patient import OwedState
from patient_portal.state.careplans import OwnCarePlanState
from patient_portal.state.session import SessionState


def owed_card() -> rx.Component:
    """What they owe, first when they owe something (UI.md: a patient's home leads with what is next)."""
    return rx.cond(OwedState.loaded, rx.link(
        rx.card(rx.hstack(
            rx.icon("receipt", size=24, color=rx.color("accent", 11), flex_shrink="0"),
            rx.vstack(rx.heading("What you owe", size="4", as_="h2"),
                      rx.text(OwedState.owed, size="6", weight="bold", id="home-owed"),
                      rx.text(rx.cond(OwedState.owes, "See your statement and pay online.",
                                      "Nothing to pay. Your statement and receipts are here."),
                              size="2", color=rx.color("gray", 11)),
                      spacing="1"),
            spacing="3", align="start"), width="100%", _hover={"background": rx.color("accent", 2)}),
        href="/patient/billing", underline="none", color="inherit", width="100%", id="home-owed-card"))


@rx.page(route="/patient", title=f"Home — {PRODUCT_NAME}",
         on_load=[SessionState.require("patient"), NextAppointmentState.load, OwedState.load,
                  OwnCarePlanState.load_tasks])
def patient_dashboard() -> rx.Component:
    return role_shell(
        "patient",
        page_header("Welcome, " + SessionState.display_name, "Your health record, safely in one place."),
        next_appointment_card(),
        owed_card(),
        tasks_card(),
        card_grid(
            link_card("heart-pulse", "Your health record", "Your care plan, allergies, medications, conditions "
                      "and immunizations.", "/patient/record"),
            link_card("mail", "Messages", "Write to your doctor, the front desk or billing; read their answers.",
                      "/patient/messages"),
            link_card("file-text", "Your documents", "Lab results, reports and letters from the clinic.",
                      "/patient/documents"),
            link_card("eye", "Who has looked at my record", "Everyone at the clinic who opened, searched for "
                      "or changed your record, and when.", "/patient/access-log"),
            link_card("shield-check", "Sign-in security", "Set up two-step sign-in for your account.",
                      "/account/security"),
        ),
        title="Home",
    )
