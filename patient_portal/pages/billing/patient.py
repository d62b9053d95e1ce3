"""The patient's "Billing" page (/patient/billing) and the doctor's "My charges" (/doctor/charges).

/patient/billing — what they owe in one number, each visit's charges with what insurance paid and
adjustments, the statement as a PDF, paying with a card (the card fields are plain inputs the app's
state never holds: see ``state.billing_patient``), and their receipts. Plain words, phone first.
/doctor/charges — the charges of the doctor's own visits, read only.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from patient_portal.components.feedback import checking, error_callout, not_permitted, success_callout
from patient_portal.components.forms import form_field, primary_button
from patient_portal.components.layout import PRODUCT_NAME, page_header, role_shell
from patient_portal.components.navigation import add_nav_item
from patient_portal.components.tables import data_table, empty_state
from patient_portal.core.access import Action
from patient_portal.state.billing_patient import CARD_INPUTS, DoctorChargesState, StatementState
from patient_portal.state.session import SessionState

TAP = "44px"
MUTED = rx.color("gray", 11)
S = StatementState
D = DoctorChargesState

add_nav_item("patient", "Billing", "/patient/billing", "receipt")
add_nav_item("doctor", "My charges", "/doctor/charges", "receipt", needs=Action.CHARGE_OWN_READ)


def _line_cells(row: Any) -> list[rx.Component]:
    return [rx.table.cell(row["day"]), rx.table.cell(row["service"]), rx.table.cell(row["charge"]),
            rx.table.cell(row["insurance"]), rx.table.cell(row["adjustments"]), rx.table.cell(row["paid"]),
            rx.table.cell(rx.text(row["owed"], weight="medium"),
                          rx.cond(row["waiting"], rx.text("Insurance has not paid yet", size="1", color=MUTED)))]


def _line_card(row: Any) -> rx.Component:
    return rx.card(rx.vstack(
        rx.hstack(rx.text(row["service"], weight="medium"), rx.spacer(), rx.text(row["charge"]), width="100%"),
        rx.text(row["day"], size="2", color=MUTED),
        rx.text("Insurance paid ", row["insurance"], " · adjustments ", row["adjustments"], size="2"),
        rx.text("You paid ", row["paid"], " · you owe ", row["owed"], size="2", weight="medium"),
        rx.cond(row["waiting"], rx.text("Insurance has not paid yet", size="1", color=MUTED)),
        spacing="1", width="100%"), width="100%", class_name="statement-line")


def _card_input(label: str, key: str, **props: Any) -> rx.Component:
    """A card field the app's state never sees (no value, no on_change): the pay script reads it."""
    field_id = CARD_INPUTS[key]
    return rx.vstack(
        rx.el.label(rx.text(label, as_="span", weight="medium", size="2"), html_for=field_id),
        rx.input(id=field_id, size="3", width="100%", min_height=TAP, aria_describedby=field_id + "-error", **props),
        rx.cond(S.pay_errors[key], rx.text(S.pay_errors[key], size="2", color=rx.color("red", 11),
                                           id=field_id + "-error", class_name="field-error")),
        spacing="1", width="100%", align="stretch", min_width="0")


def pay_form() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("Pay with a card", size="4", as_="h2"),
        rx.text("Your card goes straight to the payment processor; the clinic keeps only the last four digits.",
                size="2", color=MUTED),
        form_field("Amount to pay ($)", "pay-amount", S.pay_amount, S.set_pay_amount, error=S.pay_errors["amount"],
                   input_mode="decimal"),
        _card_input("Card number", "number", input_mode="numeric", auto_complete="cc-number"),
        rx.grid(_card_input("Expiry month", "exp_month", input_mode="numeric", placeholder="MM", auto_complete="cc-exp-month"),
                _card_input("Expiry year", "exp_year", input_mode="numeric", placeholder="YYYY", auto_complete="cc-exp-year"),
                _card_input("Security code", "cvc", input_mode="numeric", auto_complete="cc-csc"),
                columns=rx.breakpoints(initial="2", sm="3"), spacing="3", width="100%"),
        error_callout(S.pay_error, id="pay-error"),
        primary_button(rx.cond(S.paying, "Paying…", "Pay " + S.pay_amount.to(str)), on_click=S.start_pay, type="button",
                       id="pay-button", disabled=S.paying),
        spacing="3", width="100%"), width="100%", id="pay-form")


def _receipt(row: Any) -> rx.Component:
    return rx.card(rx.flex(
        rx.vstack(rx.text(row["kind"], " ", row["amount"], weight="medium"),
                  rx.text(row["when"], " · ", row["method"], rx.cond(row["card"] != "", " · " + row["card"].to(str), ""),
                          size="2", color=MUTED), spacing="1"),
        rx.spacer(), rx.text("Receipt ", row["number"], size="2", class_name="receipt-number"),
        spacing="2", wrap="wrap", width="100%"), width="100%", class_name="receipt")


def own_view() -> rx.Component:
    return rx.vstack(
        page_header("Billing", "What you owe the clinic, what your insurance paid, and your receipts.",
                    rx.link(rx.button(rx.icon("file-down", size=16), "Download statement (PDF)", variant="soft",
                                      size="3", min_height=TAP, type="button"),
                            href="/api/billing/statement.pdf", is_external=True, id="statement-pdf")),
        rx.card(rx.vstack(
            rx.text("What you owe", size="3", color=MUTED),
            rx.text(S.balance, size="8", weight="bold", id="balance"),
            rx.cond(S.has_pending, rx.text("Your insurance has not paid ", S.pending, " yet; we will tell you what is "
                                           "left for you once it has.", size="2", color=MUTED)),
            spacing="1"), width="100%"),
        success_callout(S.last_receipt, id="last-receipt"),
        rx.cond(S.can_pay, pay_form()),
        rx.card(rx.vstack(
            rx.heading("Your statement", size="4", as_="h2"),
            rx.cond(S.lines.length() > 0,
                    data_table(["Date", "Service", "Charge", "Insurance paid", "Adjustments", "You paid", "You owe"],
                               S.lines, _line_cells, card=_line_card, caption="Your statement",
                               table_id="statement-table"),
                    empty_state("receipt", "Nothing to pay", "Charges from your visits appear here once they are "
                                "billed.")),
            spacing="3", width="100%"), width="100%"),
        rx.card(rx.vstack(
            rx.heading("Your receipts", size="4", as_="h2"),
            rx.cond(S.receipts.length() > 0, rx.vstack(rx.foreach(S.receipts, _receipt), spacing="2", width="100%",
                                                      id="receipts"),
                    rx.text("When you pay, your receipt appears here.", size="2", color=MUTED)),
            spacing="3", width="100%"), width="100%"),
        spacing="4", width="100%",
    )


@rx.page(route="/patient/billing", title=f"Billing — {PRODUCT_NAME}",
         on_load=[SessionState.require("patient"), S.load])
def patient_billing() -> rx.Component:
    return role_shell(
        "patient",
        rx.match(S.status, ("ok", own_view()),
                 ("missing", rx.callout("Your account is not linked to a health record yet. Ask the clinic.",
                                        icon="info", width="100%")), checking()),
        title="Billing",
    )


# ---------------------------------------------------------------- the doctor's charges


def _charge_cells(row: Any) -> list[rx.Component]:
    return [rx.table.cell(row["day"]), rx.table.cell(row["patient"]), rx.table.cell(row["code"]),
            rx.table.cell(row["description"]), rx.table.cell(row["amount"]), rx.table.cell(row["state"])]


def _charge_card(row: Any) -> rx.Component:
    return rx.card(rx.vstack(rx.text(row["patient"], " — ", row["day"], weight="medium"),
                             rx.text(row["code"], " ", row["description"], " · ", row["amount"], size="2"),
                             rx.text(row["state"], size="2", color=MUTED), spacing="1", width="100%"), width="100%")


@rx.page(route="/doctor/charges", title=f"My charges — {PRODUCT_NAME}",
         on_load=[SessionState.require("doctor"), D.load])
def doctor_charges() -> rx.Component:
    return role_shell(
        "doctor",
        rx.match(D.status, ("ok", rx.vstack(
            page_header("My charges", "What the clinic billed for your visits. The billing office enters and "
                        "changes charges."),
            rx.cond(D.rows.length() > 0,
                    data_table(["Date", "Patient", "Code", "Service", "Charge", "State"], D.rows, _charge_cells,
                               card=_charge_card, caption="Charges of my visits", table_id="doctor-charges"),
                    empty_state("receipt", "No charges yet",
                                "When the billing office enters charges for your signed visits, they appear here.")),
            spacing="4", width="100%")),
            ("denied", not_permitted(SessionState.home)), checking()),
        title="My charges",
    )
