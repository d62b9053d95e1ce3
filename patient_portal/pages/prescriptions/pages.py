"""The Prescriptions pages: /chart/<id>/prescriptions (care-team doctors prescribe from the
formulary, see the check's warnings with the override reason, print the PDF, stop; admins read),
/patient/prescriptions (the patient's own, with how to take them and "Ask for a renewal"), and the
public /verify/rx/<code> (validity only). Who may see or do what is decided by the service; these
only draw ``PrescriptionsState`` and ``VerifyRxState``.

Phone first: one column of cards, every input labelled, buttons at least 44 px tall; amber and green
callouts and badges in high contrast (axe).
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from patient_portal.components.chart_header import back_to_chart, chart_header
from patient_portal.components.code_picker import code_picker
from patient_portal.components.emergency import chart_refused
from patient_portal.components.feedback import checking, error_callout, not_permitted, success_callout
from patient_portal.components.forms import (
    field_grid,
    form_field,
    primary_button,
    secondary_button,
    select_field,
    textarea_field,
)
from patient_portal.components.layout import PRODUCT_NAME, page_header, role_shell
from patient_portal.components.navigation import add_nav_item
from patient_portal.components.tables import empty_state
from patient_portal.state.prescriptions import FORM_ID, FREQUENCY_OPTIONS
from patient_portal.state.prescriptions import PrescriptionsState as P
from patient_portal.state.prescriptions import VerifyRxState as VR
from patient_portal.state.session import SessionState

TAP = "44px"
MUTED = rx.color("gray", 11)

add_nav_item("patient", "Prescriptions", "/patient/prescriptions", "pill")


def status_badge(row: Any) -> rx.Component:
    return rx.match(
        row["status"],
        ("active", rx.badge("Active", color_scheme="green", high_contrast=True, size="2")),
        ("stopped", rx.badge("Stopped", color_scheme="red", high_contrast=True, size="2")),
        ("renewed", rx.badge("Renewed", color_scheme="blue", high_contrast=True, size="2")),
        rx.badge(row["status_words"], color_scheme="gray", high_contrast=True, size="2"),
    )


def _stop(row: Any) -> rx.Component:
    """Stop behind a confirm that says what happens, with the reason it needs (the kit's confirm
    dialog has no room for a field, so this is the same Radix alert dialog with one)."""
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(rx.button("Stop", variant="soft", color_scheme="red", size="3", min_height=TAP,
                                          type="button", aria_label="Stop " + row["drug"].to(str),
                                          class_name="rx-stop")),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Stop " + row["drug"].to(str) + "?"),
            rx.alert_dialog.description(
                "It stops now and is marked stopped on the medication list; a pharmacy checking its code is told "
                "it was stopped.", size="2"),
            rx.box(textarea_field("Why is it stopped?", "rx-stop-reason", P.stop_reason, P.set_stop_reason,
                                  error=P.stop_error, required=True, rows="2"), margin_top="1rem"),
            rx.flex(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray", min_height=TAP,
                                                 type="button")),
                rx.alert_dialog.action(rx.button("Stop prescription", color_scheme="red", high_contrast=True,
                                                 min_height=TAP, type="button", on_click=P.stop(row["id"]),
                                                 id="rx-stop-confirm")),
                spacing="3", justify="end", wrap="wrap", margin_top="1rem",
            ),
            max_width="32rem",
        ),
    )


def _row(row: Any) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(rx.heading(row["drug"], size="4", as_="h3"), status_badge(row), spacing="2", align="center",
                      wrap="wrap"),
            rx.text(row["sig"], size="3"),
            rx.text("Quantity ", row["quantity"], " · refills ", row["refills"], " · ", row["prescriber"], " · ",
                    row["date"], size="2", color=MUTED),
            rx.cond(row["stop_reason"] != "", rx.text("Stopped: ", row["stop_reason"], size="2", color=MUTED)),
            rx.cond(row["override_reason"] != "", rx.text("Warnings overridden: ", row["override_reason"], size="2",
                                                          color=MUTED)),
            rx.cond(row["renewal"] == "pending", rx.badge("Renewal requested", color_scheme="amber", high_contrast=True,
                                                          size="2")),
            rx.flex(
                rx.button(rx.icon("file-down", size=16), "Download PDF", variant="soft", size="3", min_height=TAP,
                          type="button", on_click=P.download_pdf(row["id"]), class_name="rx-pdf"),
                rx.cond(row["can_change"].to(bool), _stop(row)),
                spacing="2", wrap="wrap",
            ),
            spacing="2", width="100%",
        ),
        width="100%", class_name="rx-row",
    )


def rx_list() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.flex(
                rx.heading("Prescriptions", size="4", as_="h2"),
                rx.spacer(),
                rx.cond(P.can_write, primary_button("New prescription", on_click=P.start_new, type="button",
                                                    id="new-prescription")),
                direction=rx.breakpoints(initial="column", sm="row"), spacing="2", width="100%",
                align=rx.breakpoints(initial="start", sm="center"),
            ),
            rx.cond(P.rows.length() > 0,
                    rx.vstack(rx.foreach(P.rows, _row), spacing="2", width="100%", id="rx-list"),
                    empty_state("pill", "No prescriptions yet",
                                rx.cond(P.can_write, "Write the first one with New prescription.",
                                        "Prescriptions appear here when a doctor writes them."))),
            spacing="3", width="100%",
        ),
        width="100%",
    )


def _findings() -> rx.Component:
    return rx.cond(
        P.findings.length() > 0,
        rx.callout.root(
            rx.callout.icon(rx.icon("triangle-alert")),
            rx.vstack(
                rx.text("The check found:", weight="bold"),
                rx.el.ul(rx.foreach(P.findings, lambda f: rx.el.li(f)), style={"padding_left": "1.2em"}),
                textarea_field("Reason for the override", "rx-override-reason", P.override_reason,
                               P.set_override_reason, error=P.form_errors["override_reason"], required=True, rows="2",
                               hint="Stored with the prescription and in the audit trail."),
                spacing="2", width="100%",
            ),
            color_scheme="amber", high_contrast=True, width="100%", id="rx-findings", role="alert",
        ),
    )


def rx_form() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("New prescription", size="5", as_="h2"),
            code_picker("Drug (formulary)", "rx-drug", P.drug_query, P.search_drugs, results=P.pick_results,
                        active=P.pick_active, on_key=P.pick_key, on_pick=P.pick, note=P.pick_note, chosen=P.chosen,
                        error=P.form_errors["drug"], required=True, hint="Type a name: “amox”, “Zestril”."),
            field_grid(
                form_field(rx.cond(P.unit != "", "Dose (" + P.unit + ")", "Dose"), "rx-dose", P.form["dose"],
                           lambda v: P.set_field("dose", v), error=P.form_errors["dose"], required=True,
                           input_mode="decimal"),
                select_field("Route", "rx-route", [(r, r) for r in ("oral", "inhalation", "nasal", "rectal",
                                                                     "subcutaneous")],
                             P.form["route"], lambda v: P.set_field("route", v), error=P.form_errors["route"],
                             required=True),
                select_field("How often", "rx-frequency", FREQUENCY_OPTIONS, P.form["frequency"],
                             lambda v: P.set_field("frequency", v), error=P.form_errors["frequency"], required=True),
                form_field("Duration (days)", "rx-duration", P.form["duration_days"],
                           lambda v: P.set_field("duration_days", v), error=P.form_errors["duration_days"],
                           hint="Empty: ongoing.", input_mode="numeric"),
                form_field("Quantity to dispense", "rx-quantity", P.form["quantity"],
                           lambda v: P.set_field("quantity", v), error=P.form_errors["quantity"], required=True,
                           input_mode="numeric"),
                form_field("Refills", "rx-refills", P.form["refills"], lambda v: P.set_field("refills", v),
                           error=P.form_errors["refills"], input_mode="numeric"),
            ),
            rx.el.label(rx.hstack(rx.checkbox(checked=P.substitution, on_change=P.set_substitution, id="rx-substitution",
                                              size="3"),
                                  rx.text("Substitution allowed (a generic may be dispensed)", size="3"),
                                  align="center", spacing="2", min_height=TAP), html_for="rx-substitution"),
            textarea_field("Note to the pharmacy", "rx-pharmacy-note", P.form["pharmacy_note"],
                           lambda v: P.set_field("pharmacy_note", v), error=P.form_errors["pharmacy_note"], rows="2"),
            _findings(),
            error_callout(P.error, id="rx-form-error"),
            rx.flex(
                primary_button(rx.cond(P.findings.length() > 0, "Prescribe with override", "Sign prescription"),
                               on_click=P.prescribe, type="button", id="rx-sign"),
                secondary_button("Cancel", on_click=P.close_form, type="button"),
                spacing="3", wrap="wrap", width="100%",
            ),
            spacing="4", width="100%",
        ),
        width="100%", id=FORM_ID,
    )


def chart_view() -> rx.Component:
    return rx.vstack(
        chart_header(),
        rx.hstack(
            rx.heading("Prescriptions", size="6", as_="h2"),
            rx.spacer(),
            back_to_chart(P.patient_ref, display="flex", align_items="center"),
            width="100%", align="center",
        ),
        success_callout(P.message, id="rx-message"),
        rx.cond(P.mode == "", error_callout(P.error)),
        rx.cond(P.mode == "new", rx_form(), rx_list()),
        spacing="4", width="100%",
    )


# ---------------------------------------------------------------- the patient's own


def _own_row(row: Any) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(rx.heading(row["drug"], size="4", as_="h2"), status_badge(row), spacing="2", align="center",
                      wrap="wrap"),
            rx.text(rx.text.strong("How to take it: "), row["sig"], size="3"),
            rx.text("From ", row["prescriber"], " · ", row["date"], " · refills ", row["refills"], size="2",
                    color=MUTED),
            rx.cond(row["renewal_words"] != "", rx.callout(
                row["renewal_words"], icon="info", width="100%", high_contrast=True, class_name="rx-renewal",
                color_scheme=rx.match(row["renewal"], ("approved", "green"), ("declined", "amber"), "blue"))),
            rx.cond(row["renewal_note"] != "", rx.text("Your doctor's note: ", row["renewal_note"], size="3")),
            rx.flex(
                rx.cond(row["can_request_renewal"].to(bool), secondary_button(
                    "Ask for a renewal", on_click=P.request_renewal(row["id"]), type="button",
                    class_name="rx-ask-renewal")),
                rx.button(rx.icon("file-down", size=16), "Download PDF", variant="soft", size="3", min_height=TAP,
                          type="button", on_click=P.download_pdf(row["id"])),
                spacing="2", wrap="wrap",
            ),
            spacing="2", width="100%",
        ),
        width="100%", class_name="rx-own",
    )


def own_view() -> rx.Component:
    return rx.vstack(
        page_header("Prescriptions", "Your medicines from your doctors, how to take them, and renewals."),
        success_callout(P.message, id="rx-message"),
        error_callout(P.error),
        rx.cond(P.rows.length() > 0,
                rx.vstack(rx.foreach(P.rows, _own_row), spacing="3", width="100%", id="rx-own-list"),
                empty_state("pill", "No prescriptions yet", "When your doctor prescribes a medicine, it appears here.")),
        spacing="4", width="100%",
    )


def _missing(text: str) -> rx.Component:
    return rx.callout(text, icon="info", width="100%", id="rx-missing")


@rx.page(route="/patient/prescriptions", title=f"Prescriptions — {PRODUCT_NAME}",
         on_load=[SessionState.require("patient"), P.load_own])
def own_prescriptions() -> rx.Component:
    return role_shell(
        "patient",
        rx.match(P.status, ("ok", own_view()), ("denied", not_permitted(SessionState.home)),
                 ("missing", _missing("Your account is not linked to a health record yet. Ask the clinic.")),
                 checking()),
        title="Prescriptions",
    )


@rx.page(route="/chart/[pid]/prescriptions", title=f"Prescriptions — {PRODUCT_NAME}",
         on_load=[SessionState.require("any"), P.load_chart])
def chart_prescriptions() -> rx.Component:
    return role_shell(
        "account",
        rx.match(P.status, ("ok", chart_view()), ("denied", chart_refused(P.patient_ref)),
                 ("missing", _missing("That patient record was not found.")), checking()),
        title="Prescriptions",
    )


# ---------------------------------------------------------------- public verification


@rx.page(route="/verify/rx/[code]", title=f"Check a prescription — {PRODUCT_NAME}", on_load=VR.check)
def verify_rx() -> rx.Component:
    return rx.center(
        rx.card(
            rx.vstack(
                rx.heading("Prescription check", size="6", as_="h1"),
                rx.match(
                    VR.verify_result,
                    ("valid", rx.callout("Valid: this prescription is active.", icon="circle-check",
                                         color_scheme="green", high_contrast=True, id="rx-verify-result")),
                    ("stopped", rx.callout("Stopped: the prescriber stopped this prescription. Do not dispense.",
                                           icon="octagon-x", color_scheme="red", high_contrast=True,
                                           id="rx-verify-result")),
                    ("not_valid", rx.callout("Not valid: no active prescription has this code.", icon="circle-x",
                                             color_scheme="red", high_contrast=True, id="rx-verify-result")),
                    ("try_later", rx.callout("Too many checks from this address. Try again in a few minutes.",
                                             icon="clock", color_scheme="amber", high_contrast=True,
                                             id="rx-verify-result")),
                    rx.text("Checking…"),
                ),
                rx.text("This page shows only whether a prescription is valid. For anything else, call the clinic.",
                        size="2", color=MUTED),
                spacing="3", width="100%",
            ),
            max_width="32rem", width="100%", margin="1rem",
        ),
        width="100%", min_height="60vh",
    )
