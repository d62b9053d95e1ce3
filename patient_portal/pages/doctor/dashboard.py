"""The doctor's home: the patients on their care team, and the notes they still have to sign."""

from __future__ import annotations

import reflex as rx

from patient_portal.components.layout import PRODUCT_NAME, card_grid, link_card, page_header, role_shell
from patient_portal.state.session import SessionState
from patient_portal.state.visits import WorklistState as W


def _unsigned(item) -> rx.Component:
    return rx.link(
        rx.hstack(rx.icon("file-pen-line", size=16), rx.text(item["patient"], weight="medium"),
                  rx.text(item["date"], size="2", color=rx.color("gray", 11)), spacing="2", align="center",
                  wrap="wrap"),
        href=item["href"], min_height="44px", display="flex", align_items="center", class_name="unsigned-note",
    )


def unsigned_notes_card() -> rx.Component:
    """Drafts the doctor wrote and has not signed, the longest waiting first."""
    return rx.card(
        rx.vstack(
            rx.hstack(rx.icon("notebook-pen", size=24, color=rx.color("accent", 11)),
                      rx.heading("Unsigned notes", size="4", as_="h2"),
                      rx.cond(W.unsigned.length() > 0, rx.badge(W.unsigned.length(), color_scheme="amber")),
                      spacing="3", align="center"),
            rx.match(
                W.worklist_status,
                ("ok", rx.cond(W.unsigned.length() > 0,
                               rx.vstack(rx.foreach(W.unsigned, _unsigned), spacing="1", width="100%"),
                               rx.text("All your visit notes are signed.", size="2", color=rx.color("gray", 11)))),
                ("failed", rx.text("Your unsigned notes could not be loaded. Reload the page.", size="2",
                                   color=rx.color("red", 11))),
                rx.text("Loading…", size="2", color=rx.color("gray", 11)),
            ),
            spacing="2", width="100%",
        ),
        width="100%", id="unsigned-notes",
    )


@rx.page(route="/doctor", title=f"Doctor — {PRODUCT_NAME}", on_load=[SessionState.require("doctor"), W.load])
def doctor_dashboard() -> rx.Component:
    return role_shell(
        "doctor",
        page_header("Welcome, " + SessionState.display_name, "Clinician workspace"),
        card_grid(
            link_card("stethoscope", "My patients", "Patients on your care team: history, documents, notes.",
                      "/doctor/patients"),
            unsigned_notes_card(),
        ),
        title="Doctor dashboard",
    )
