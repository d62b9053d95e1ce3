"""The patient's own record: /patient/record ("Your health record")."""

from __future__ import annotations

import reflex as rx

from patient_portal.components.chart_header import chart_header
from patient_portal.components.feedback import checking, success_callout
from patient_portal.components.forms import (
    download_button,
    field_grid,
    form_section,
    primary_button,
    textarea_field,
)
from patient_portal.components.layout import PRODUCT_NAME, page_header, role_shell
from patient_portal.components.tables import empty_state
from patient_portal.pages.careplans.pages import own_plan_card
from patient_portal.pages.emergency.pages import info_card
from patient_portal.pages.patients.chart_sections import details_card, history_card, rows_card, section_card
from patient_portal.pages.patients.fields import Binding, action_bar, legal_fields
from patient_portal.state.careplans import OwnCarePlanState
from patient_portal.state.chart import ChartState as C
from patient_portal.state.emergency import EmergencyInfoState
from patient_portal.state.session import SessionState

CHANGE = Binding(C.change, C.change_errors, "", C.set_change, None, id_prefix="change")


def pending_notice() -> rx.Component:
    return rx.cond(
        C.patient["status"] == "pending_identity_check",
        rx.callout("Your record is waiting for an identity check. Bring a photo ID to your next visit; until "
                   "then you see only what you entered.", icon="id-card", color_scheme="amber", width="100%",
                   id="pending-identity"),
    )


def change_request_card() -> rx.Component:
    return section_card(
        "Change your legal name, date of birth or sex",
        rx.text("The clinic checks these changes before they appear on your record. Fill in only what should "
                "change.", size="2", color=rx.color("gray", 11)),
        rx.foreach(C.pending_changes, lambda r: rx.callout(
            "Waiting for the clinic: " + r["fields"] + " (sent " + r["requested"] + ")", icon="clock",
            width="100%")),
        success_callout(C.change_sent, id="change-sent"),
        form_section("New details", field_grid(*legal_fields(CHANGE)),
                     textarea_field("Note for the clinic", "change-note", C.change_note, C.set_change_note,
                                    hint="For example: “Married in June; new passport.”")),
        action_bar(primary_button("Send request", on_click=C.submit_change, type="button", id="send-change"),
                   message=C.change_error, message_id="change-error"),
        section_id="change-request",
    )


def download_card() -> rx.Component:
    """"Download my record": everything on file, for another clinic or an app (FHIR) and to read (PDF)."""
    return section_card(
        "Download your record",
        rx.text("Everything the clinic has on file about you: a readable summary (PDF), or the full record in "
                "the FHIR format other health apps and clinics read (JSON).", size="2", color=rx.color("gray", 11)),
        rx.flex(download_button("Download summary (PDF)", "/api/record/download.pdf", link_id="download-record-pdf",
                                icon="file-text"),
                download_button("Download full record (FHIR JSON)", "/api/record/download.json",
                                link_id="download-record-json", icon="file-json"),
                spacing="2", wrap="wrap"),
        section_id="download-record",
    )


def record_view() -> rx.Component:
    return rx.vstack(
        page_header("Your health record", "What the clinic has on file for you."),
        pending_notice(),
        chart_header(level="h2"),
        rx.grid(
            rx.vstack(
                own_plan_card(),
                history_card("allergies", "No allergies on file.", "Allergies"),
                history_card("medications", "No medicines on file.", "Your medicines and how to take them"),
                history_card("conditions", "No conditions on file.", "Your conditions"),
                history_card("immunizations", "No immunizations on file.", "Your vaccinations"),
                history_card("family_history", "No family history on file.", "Your family's health"),
                spacing="4", width="100%",
            ),
            rx.vstack(
                info_card("Your emergency information"),
                details_card(patient_view=True),
                rows_card("insurance", C.can["edit_insurance"], "No insurance on file.", "Your insurance"),
                rows_card("emergency", C.can["edit_emergency"], "No emergency contacts yet.",
                          "Your emergency contacts"),
                change_request_card(),
                download_card(),
                spacing="4", width="100%",
            ),
            columns=rx.breakpoints(initial="1", lg="2"),
            spacing="4", width="100%",
        ),
        spacing="4", width="100%",
    )


@rx.page(route="/patient/record", title=f"Your health record — {PRODUCT_NAME}",
         on_load=[SessionState.require("patient"), C.load_own,  # reads the header too
                  OwnCarePlanState.load_own,  # the care plan: a read of its own (careplan.list)
                  EmergencyInfoState.load_own])  # the emergency information: a read of its own
def patient_record() -> rx.Component:
    return role_shell(
        "patient",
        rx.match(C.status, ("ok", record_view()),
                 ("missing", empty_state("file-question", "No record linked yet",
                                         "Your account is not linked to a patient record. Ask the clinic's front "
                                         "desk to link it.")),
                 ("denied", empty_state("shield-x", "Not permitted", "Your account cannot open this record.")),
                 checking()),
        title="Your health record",
    )
