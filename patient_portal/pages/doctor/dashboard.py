"""The doctor's home: the patients on their care team, and the notes they still have to sign."""

from __future__ import annotations

import reflex as rx

from patient_portal.components.layout import (
    PRODUCT_NAME,
    card_grid,
    link_card,
    page_header,
    role_shell,
    worklist_card,
)
from patient_portal.pages.results.pages import results_to_review_card
from patient_portal.state.prescriptions import RenewalsState as R
from patient_portal.state.privacy import AmendmentsDueState as Amend
from patient_portal.state.results import ResultsWorklistState as Results
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
    return worklist_card("notebook-pen", "Unsigned notes", items=W.unsigned, render=_unsigned,
                         status=W.worklist_status, empty="All your visit notes are signed.",
                         failed="Your unsigned notes could not be loaded. Reload the page.", card_id="unsigned-notes")


def _renewal(item) -> rx.Component:
    return rx.vstack(
        rx.link(rx.hstack(rx.icon("pill", size=16), rx.text(item["patient"], weight="medium"),
                          rx.text(item["drug"], size="2"), rx.text(item["date"], size="2", color=rx.color("gray", 11)),
                          spacing="2", align="center", wrap="wrap"),
                href=item["href"], min_height="44px", display="flex", align_items="center"),
        rx.cond(item["message"] != "", rx.text("“", item["message"], "”", size="2")),
        rx.flex(
            rx.button("Approve", size="3", min_height="44px", type="button", on_click=R.approve(item["id"]),
                      aria_label="Approve the renewal for " + item["patient"], class_name="renewal-approve"),
            rx.alert_dialog.root(
                rx.alert_dialog.trigger(rx.button("Decline", size="3", variant="soft", min_height="44px", type="button",
                                                  aria_label="Decline the renewal for " + item["patient"])),
                rx.alert_dialog.content(
                    rx.alert_dialog.title("Decline this renewal?"),
                    rx.alert_dialog.description("The patient reads your note and is emailed that there is an answer.",
                                                size="2"),
                    rx.box(rx.el.label(rx.text("Note for the patient", size="2", weight="medium"),
                                       html_for="renewal-decline-note"),
                           rx.text_area(id="renewal-decline-note", value=R.decline_note, on_change=R.set_decline_note,
                                        rows="3", width="100%"), margin_top="1rem"),
                    rx.flex(rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray",
                                                             min_height="44px", type="button")),
                            rx.alert_dialog.action(rx.button("Decline", color_scheme="red", high_contrast=True,
                                                             min_height="44px", type="button",
                                                             on_click=R.decline(item["id"]))),
                            spacing="3", justify="end", margin_top="1rem"),
                    max_width="32rem",
                ),
            ),
            spacing="2", wrap="wrap",
        ),
        spacing="1", width="100%", class_name="renewal-request",
    )


def renewal_requests_card() -> rx.Component:
    """Patients' requests to renew a prescription, the longest waiting first: approve or decline."""
    return worklist_card(
        "pill", "Renewal requests", items=R.requests, render=_renewal, status=R.renewals_status,
        empty="No renewal requests waiting.", failed="Renewal requests could not be loaded. Reload the page.",
        card_id="renewal-requests", item_spacing="3",
        notice=rx.cond(R.renewal_error, rx.text(R.renewal_error, size="2", color=rx.color("red", 11), role="alert")),
    )


def _amendment(item) -> rx.Component:
    return rx.link(
        rx.hstack(rx.icon("file-pen", size=16), rx.text(item["patient"], weight="medium"),
                  rx.text("due ", item["due"], size="2", color=rx.cond(item["overdue"], rx.color("red", 11),
                                                                        rx.color("gray", 11))),
                  spacing="2", align="center", wrap="wrap"),
        href=item["href"], min_height="44px", display="flex", align_items="center", class_name="amendment-due",
    )


def amendments_card() -> rx.Component:
    """Patients' requests to correct their record (HIPAA: answer within 60 days), due first."""
    return worklist_card("file-pen", "Corrections requested", items=Amend.due, render=_amendment,
                         status=Amend.amendments_status, empty="No requests to correct a record.",
                         failed="Correction requests could not be loaded. Reload the page.", card_id="amendments-due")


@rx.page(route="/doctor", title=f"Doctor — {PRODUCT_NAME}",
         on_load=[SessionState.require("doctor"), W.load, R.load, Results.load, Amend.load])
def doctor_dashboard() -> rx.Component:
    return role_shell(
        "doctor",
        page_header("Welcome, " + SessionState.display_name, "Clinician workspace"),
        card_grid(
            link_card("stethoscope", "My patients", "Patients on your care team: history, documents, notes.",
                      "/doctor/patients"),
            link_card("calendar", "My day", "Who is coming today, what for, and who has checked in; your week.",
                      "/doctor/schedule"),
            link_card("mail", "Messages", "Your patients' messages, waiting ones first; who answers while you are away.",
                      "/doctor/messages"),
            unsigned_notes_card(),
            results_to_review_card(),
            renewal_requests_card(),
            amendments_card(),
        ),
        title="Doctor dashboard",
    )
