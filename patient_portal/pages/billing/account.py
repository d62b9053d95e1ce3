"""/chart/<id>/billing — a patient's billing account on the chart (staff, admins): coverage with its
benefits and eligibility check, charges from a signed visit or by hand, a claim from the unbilled
charges, the claims, what the patient owes, desk payments and refunds. The billing service decides
what may be seen and done; this only draws ``BillingAccountState``.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from patient_portal.components.chart_header import back_to_chart, chart_header
from patient_portal.components.confirm import confirm_dialog
from patient_portal.components.feedback import checking, error_callout, not_permitted
from patient_portal.components.forms import (
    field_grid,
    form_field,
    primary_button,
    secondary_button,
    select_field,
)
from patient_portal.components.layout import PRODUCT_NAME, role_shell
from patient_portal.components.tables import data_table, empty_state
from patient_portal.pages.billing.office import claims_table
from patient_portal.state.billing_account import COVERAGE_FORM, HAND_FORM, PAY_FORM, VISIT_FORM
from patient_portal.state.billing_account import BillingAccountState as A
from patient_portal.state.session import SessionState

TAP = "44px"
MUTED = rx.color("gray", 11)


def _setter(name: str) -> Any:
    return lambda value: A.set_value(name, value)


def _field(label: str, name: str, prefix: str, **props: Any) -> rx.Component:
    return form_field(label, f"{prefix}-{name.replace('_', '-')}", A.values[name], _setter(name), error=A.errors[name],
                      **props)


def _var_select(label: Any, field_id: Any, options: Any, value: Any, on_change: Any, error: Any) -> rx.Component:
    """A select whose options come from state: [[value, words], …]."""
    return rx.vstack(
        rx.el.label(rx.text(label, as_="span", weight="medium", size="2"), html_for=field_id),
        rx.select.root(
            rx.select.trigger(id=field_id, placeholder="Choose…", width="100%", min_height=TAP,
                              aria_describedby=field_id + "-error"),
            rx.select.content(rx.foreach(options, lambda o: rx.select.item(o[1], value=o[0]))),
            value=value, on_change=on_change, size="3"),
        rx.cond(error, rx.text(error, size="2", color=rx.color("red", 11), id=field_id + "-error",
                               class_name="field-error")),
        spacing="1", width="100%", align="stretch", min_width="0")


def _buttons(save_label: str, on_save: Any, save_id: str) -> rx.Component:
    return rx.vstack(
        error_callout(A.form_error),
        rx.hstack(primary_button(save_label, on_click=on_save, type="button", id=save_id),
                  secondary_button("Cancel", on_click=A.cancel, type="button"), spacing="3", wrap="wrap"),
        spacing="3", width="100%")


# ---------------------------------------------------------------- coverage


def _coverage(row: Any) -> rx.Component:
    return rx.card(rx.vstack(
        rx.flex(rx.text(row["order"], ": ", row["card"], weight="medium"), rx.spacer(),
                rx.cond(row["checked"], rx.badge(row["eligibility"], color_scheme=rx.cond(row["active"], "green", "red"),
                                                 high_contrast=True, class_name="eligibility-badge")),
                width="100%", wrap="wrap", spacing="2"),
        rx.text(row["plan"], " · member ", row["member_id"], size="2"),
        rx.text("Payer: ", row["payer"], size="2"),
        rx.cond(row["has_payer"], rx.text("Copay ", row["copay"], " · coinsurance ", row["coinsurance"],
                                          " · deductible ", row["deductible"], " · out of pocket ", row["oop"],
                                          size="2", color=MUTED)),
        rx.cond(row["checked"], rx.text(
            "Checked ", row["checked_at"], ": ", row["elig_plan"], " · copay ", row["elig_copay"],
            " · deductible left ", row["elig_deductible"], rx.cond(row["elig_notes"] != "", " · " + row["elig_notes"].to(str), ""),
            size="2", class_name="eligibility-answer")),
        rx.cond(A.can_write, rx.flex(
            rx.button("Edit benefits", variant="soft", size="2", min_height=TAP, type="button",
                      on_click=A.edit_coverage(row["policy_id"]), class_name="edit-coverage"),
            rx.cond(row["has_payer"], rx.button("Check eligibility", variant="soft", size="2", min_height=TAP,
                                                type="button", on_click=A.check_eligibility(row["policy_id"]),
                                                class_name="check-eligibility")),
            spacing="2", wrap="wrap")),
        spacing="2", width="100%"), width="100%", class_name="coverage-card")


def _coverage_form() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("Benefits on this policy", size="4", as_="h3"),
        _var_select("Payer (from the clinic's list)", "coverage-payer", A.payer_options, A.values["payer_id"],
                    _setter("payer_id"), A.errors["payer_id"]),
        field_grid(_field("Copay ($)", "copay", "coverage"), _field("Coinsurance (%)", "coinsurance", "coverage"),
                   _field("Deductible ($)", "deductible", "coverage"),
                   _field("Deductible met ($)", "deductible_met", "coverage"),
                   _field("Out-of-pocket maximum ($)", "oop_max", "coverage"),
                   _field("Out of pocket met ($)", "oop_met", "coverage")),
        rx.cond(A.dependant, field_grid(
            _field("Subscriber's given name", "subscriber_given_name", "coverage"),
            _field("Subscriber's family name", "subscriber_family_name", "coverage"),
            _field("Subscriber's date of birth", "subscriber_birth_date", "coverage", type_="date"))),
        _buttons("Save benefits", A.save_coverage, "save-coverage"),
        spacing="3", width="100%"), id=COVERAGE_FORM, width="100%")


def coverage_section() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("Coverage", size="4", as_="h2"),
        rx.cond(A.coverages.length() > 0, rx.vstack(rx.foreach(A.coverages, _coverage), spacing="2", width="100%"),
                empty_state("shield", "No insurance on file",
                            "This patient pays themselves. Add a policy on the chart's Insurance card to bill a payer.")),
        rx.cond(A.form == "coverage", _coverage_form()),
        spacing="3", width="100%"), width="100%")


# ---------------------------------------------------------------- charges


def _visit(row: Any) -> rx.Component:
    return rx.card(rx.flex(
        rx.vstack(rx.text(row["day"], " — ", row["clinician"], weight="medium"),
                  rx.text(row["diagnoses_text"], size="2", color=MUTED), spacing="1"),
        rx.spacer(),
        rx.cond(row["charged"], rx.badge("Charges entered", color_scheme="green", high_contrast=True),
                rx.button("Enter charges", size="2", min_height=TAP, type="button",
                          on_click=A.open_visit_charges(row["id"]), class_name="enter-charges",
                          aria_label="Enter charges for the visit of " + row["day"].to(str))),
        spacing="3", wrap="wrap", align="center", width="100%"), width="100%", class_name="visit-to-bill")


def _line(line: Any, i: Any) -> rx.Component:
    n = (i + 1).to(str)
    prefix = "line-" + n

    def err(name: str) -> Any:
        return A.errors["line_" + n + "_" + name]

    return rx.card(rx.vstack(
        rx.flex(rx.text("Service ", n, weight="medium"), rx.spacer(),
                rx.cond(A.lines.length() > 1, rx.button("Remove", variant="ghost", color_scheme="red", high_contrast=True, size="2",
                                                        min_height=TAP, type="button", on_click=A.remove_line(i),
                                                        aria_label="Remove service " + n)),
                width="100%", align="center"),
        _var_select("Procedure", prefix + "-code", A.fee_options, line["code"], lambda v: A.set_line(i, "code", v),
                    err("code")),
        rx.grid(
            form_field("Units", prefix + "-units", line["units"], lambda v: A.set_line(i, "units", v),
                       error=err("units"), input_mode="numeric"),
            form_field("Modifiers", prefix + "-modifiers", line["modifiers"], lambda v: A.set_line(i, "modifiers", v),
                       error=err("modifiers"), placeholder="25"),
            form_field("Diagnosis pointers", prefix + "-pointers", line["pointers"],
                       lambda v: A.set_line(i, "pointers", v), error=err("pointers"), placeholder="1, 2"),
            columns=rx.breakpoints(initial="1", sm="3"), spacing="3", width="100%"),
        spacing="2", width="100%"), width="100%", class_name="charge-line")


def _visit_form() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("Charges from the visit", size="4", as_="h3"),
        rx.text("Diagnoses of the visit, by pointer number:", size="2"),
        rx.foreach(A.visits, lambda v: rx.cond(v["id"] == A.visit_id, rx.el.ol(
            rx.foreach(v["diagnoses"].to(list[str]), lambda d: rx.el.li(rx.text(d, size="2"))),
            style={"padding_left": "1.5rem", "margin": "0"}, id="visit-diagnoses"))),
        rx.foreach(A.lines, _line),
        rx.cond(A.lines.length() < 6, secondary_button("Add a service", on_click=A.add_line, type="button",
                                                       id="add-line")),
        _buttons("Save charges", A.save_visit_charges, "save-visit-charges"),
        spacing="3", width="100%"), id=VISIT_FORM, width="100%")


def _hand_form() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("A charge by hand", size="4", as_="h3"),
        _var_select("Procedure", "hand-code", A.fee_options, A.values["code"], _setter("code"), A.errors["code"]),
        field_grid(_field("Date of service", "service_date", "hand", type_="date"),
                   _field("Units", "units", "hand", input_mode="numeric"),
                   _field("Modifiers", "modifiers", "hand", placeholder="25"),
                   _field("Diagnoses (ICD-10-CM codes)", "diagnoses", "hand", placeholder="I10, E78.5"),
                   _field("Place of service", "place_of_service", "hand", hint="11 office, 02 telehealth")),
        _buttons("Save charge", A.save_hand_charge, "save-hand-charge"),
        spacing="3", width="100%"), id=HAND_FORM, width="100%")


def _charge_cells(row: Any) -> list[rx.Component]:
    return [rx.table.cell(row["day"]), rx.table.cell(row["code"]), rx.table.cell(row["description"]),
            rx.table.cell(row["diagnoses"]), rx.table.cell(row["amount"]), rx.table.cell(row["insurance"]),
            rx.table.cell(row["patient"]),
            rx.table.cell(rx.cond(row["claimed"], rx.link("Claim", href=row["claim_href"]), rx.text("Not billed")))]


def _charge_card(row: Any) -> rx.Component:
    return rx.card(rx.vstack(
        rx.hstack(rx.text(row["code"], " ", row["description"], weight="medium"), rx.spacer(),
                  rx.text(row["amount"]), width="100%"),
        rx.text(row["day"], " · ", row["diagnoses"], size="2", color=MUTED),
        rx.text("Insurance owes ", row["insurance"], " · patient owes ", row["patient"], size="2"),
        rx.cond(row["claimed"], rx.link("Open the claim", href=row["claim_href"], min_height=TAP, display="flex",
                                        align_items="center")),
        spacing="1", width="100%"), width="100%")


def charges_section() -> rx.Component:
    return rx.card(rx.vstack(
        rx.flex(rx.heading("Charges", size="4", as_="h2"), rx.spacer(),
                rx.cond(A.can_write, secondary_button("Enter a charge by hand", on_click=A.open_hand_charge,
                                                      type="button", id="hand-charge")),
                width="100%", align="center", wrap="wrap", spacing="2"),
        rx.cond(A.can_write & (A.visits.length() > 0), rx.vstack(
            rx.heading("Signed visits", size="3", as_="h3"),
            rx.foreach(A.visits, _visit), spacing="2", width="100%", id="visits-to-bill")),
        rx.cond(A.form == "visit", _visit_form()),
        rx.cond(A.form == "hand", _hand_form()),
        rx.cond(A.charges.length() > 0,
                data_table(["Date", "Code", "Service", "Diagnoses", "Charge", "Insurance owes", "Patient owes", "Claim"],
                           A.charges, _charge_cells, card=_charge_card, caption="Charges", table_id="charges-table"),
                empty_state("receipt", "No charges yet",
                            "Enter charges from a signed visit above, or a charge by hand.")),
        rx.cond(A.can_write & (A.unbilled > 0), rx.card(rx.vstack(
            rx.heading("Bill the unbilled charges", size="3", as_="h3"),
            rx.text(A.unbilled, " charge(s) wait for a claim to the primary payer.", size="2"),
            form_field("Prior authorization number (if the payer gave one)", "claim-prior-auth", A.prior_auth,
                       A.set_prior_auth),
            primary_button("Create claim", on_click=A.build_claim, type="button", id="create-claim"),
            spacing="3", width="100%"), width="100%", id="build-claim")),
        spacing="3", width="100%"), width="100%")


# ---------------------------------------------------------------- payments


METHODS = [("cash", "Cash"), ("check", "Check"), ("card_desk", "Card at the desk")]


def _pay_form() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("Record a payment", size="4", as_="h3"),
        field_grid(
            _field("Amount ($)", "amount", "pay", input_mode="decimal", required=True),
            select_field("Method", "pay-method", METHODS, A.values["method"], _setter("method"),
                         error=A.errors["method"]),
            rx.cond(A.values["method"] == "check", _field("Check number", "check_number", "pay")),
            rx.cond(A.values["method"] == "card_desk",
                    _field("Last four digits (from the terminal's slip)", "card_last4", "pay", input_mode="numeric")),
        ),
        _buttons("Record payment", A.save_payment, "save-payment"),
        spacing="3", width="100%"), id=PAY_FORM, width="100%")


def _receipt_cells(row: Any) -> list[rx.Component]:
    return [rx.table.cell(row["number"]), rx.table.cell(row["when"]), rx.table.cell(row["kind"]),
            rx.table.cell(row["method"], rx.cond(row["card"] != "", " · " + row["card"].to(str), "")),
            rx.table.cell(row["amount"]), rx.table.cell(_refund_button(row))]


def _refund_button(row: Any) -> rx.Component:
    return rx.cond(A.can_pay & ~row["refund"].to(bool),
                   rx.button("Refund", variant="soft", size="2", min_height=TAP, type="button",
                             on_click=A.open_refund(row["id"]),
                             aria_label="Refund receipt " + row["number"].to(str)))


def _receipt_card(row: Any) -> rx.Component:
    return rx.card(rx.vstack(
        rx.hstack(rx.text(row["kind"], " ", row["number"], weight="medium"), rx.spacer(), rx.text(row["amount"]),
                  width="100%"),
        rx.text(row["when"], " · ", row["method"], size="2", color=MUTED), _refund_button(row),
        spacing="1", width="100%"), width="100%")


def _refund_form() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("Refund", size="4", as_="h3"),
        form_field("Amount to give back ($)", "refund-amount", A.refund_amount, A.set_refund_amount,
                   error=A.refund_error, input_mode="decimal"),
        rx.hstack(
            confirm_dialog(primary_button("Refund", type="button", id="refund"), "Give this money back?",
                           "What this payment paid is owed again by the patient.", "Refund", A.refund,
                           confirm_id="confirm-refund"),
            secondary_button("Cancel", on_click=A.cancel, type="button"), spacing="3"),
        spacing="3", width="100%"), width="100%")


def payments_section() -> rx.Component:
    return rx.card(rx.vstack(
        rx.flex(rx.heading("Payments", size="4", as_="h2"), rx.spacer(),
                rx.cond(A.can_pay, secondary_button("Record a payment", on_click=A.open_payment, type="button",
                                                    id="record-payment")),
                width="100%", align="center", wrap="wrap", spacing="2"),
        rx.cond(A.form == "pay", _pay_form()),
        rx.cond(A.refund_of != "", _refund_form()),
        rx.cond(A.receipts.length() > 0,
                data_table(["Receipt", "When", "Kind", "Method", "Amount", ""], A.receipts, _receipt_cells,
                           card=_receipt_card, caption="Payments and refunds", table_id="receipts-table"),
                empty_state("wallet", "No payments yet", "Payments at the desk and online appear here.")),
        spacing="3", width="100%"), width="100%")


def account_view() -> rx.Component:
    return rx.vstack(
        chart_header(),
        rx.flex(
            rx.heading("Billing", size="6", as_="h2"),
            rx.spacer(),
            back_to_chart(A.patient_ref, display="flex", align_items="center"),
            width="100%", align="center", spacing="3", wrap="wrap",
        ),
        rx.flex(
            rx.card(rx.vstack(rx.text("Patient owes", size="2", color=MUTED),
                              rx.text(A.balance, size="6", weight="bold", id="account-balance"), spacing="1")),
            rx.card(rx.vstack(rx.text("Waiting for insurance", size="2", color=MUTED),
                              rx.text(A.pending, size="6", weight="bold", id="account-pending"), spacing="1")),
            spacing="3", wrap="wrap"),
        error_callout(A.error, id="account-error"),
        coverage_section(),
        charges_section(),
        rx.card(rx.vstack(rx.heading("Claims", size="4", as_="h2"),
                          claims_table(A.claims, "No claims yet", "Create a claim from the unbilled charges above.",
                                       table_id="account-claims"),
                          spacing="3", width="100%"), width="100%"),
        payments_section(),
        spacing="4", width="100%",
    )


@rx.page(route="/chart/[pid]/billing", title=f"Billing — {PRODUCT_NAME}",
         on_load=[SessionState.require("any"), A.load])
def chart_billing() -> rx.Component:
    return role_shell(
        "account",
        rx.match(A.status, ("ok", account_view()), ("denied", not_permitted(SessionState.home)),
                 ("missing", rx.callout("That patient record was not found.", icon="info", width="100%")),
                 checking()),
        title="Billing",
    )
