"""/billing/setup (admins): payers, fee schedule, the clinic's billing numbers and each doctor's NPI.
The billing service decides who may change them and checks every number."""

from __future__ import annotations

from typing import Any

import reflex as rx

from patient_portal.components.feedback import checking, error_callout, not_permitted
from patient_portal.components.forms import field_grid, form_field, primary_button, secondary_button
from patient_portal.components.layout import PRODUCT_NAME, page_header, role_shell
from patient_portal.components.tables import data_table, empty_state
from patient_portal.pages.billing.office import office_nav
from patient_portal.state.billing_setup import FORM_IDS
from patient_portal.state.billing_setup import BillingSetupState as S
from patient_portal.state.session import SessionState

TAP = "44px"
MUTED = rx.color("gray", 11)
LABELS = {
    "payer": (("payer_code", "Payer id (X12)"), ("name", "Name"), ("address_line1", "Claims address"), ("city", "City"),
              ("region", "State"), ("postal_code", "ZIP code"), ("filing_code", "Claim filing indicator (CI, MB, MC…)"),
              ("timely_filing_days", "Days to file a claim"), ("appeal_days", "Days to appeal, per level (120, 180, 60)")),
    "fee": (("code", "Procedure code"), ("description", "Description (the clinic's own words)"), ("price", "Price ($)")),
    "profile": (("name", "Clinic name"), ("npi", "Billing NPI"), ("tax_id", "Tax id (EIN)"), ("taxonomy", "Taxonomy"),
                ("address_line1", "Address"), ("city", "City"), ("region", "State"), ("postal_code", "ZIP+4"),
                ("phone", "Phone")),
    "provider": (("given_name", "Given name"), ("family_name", "Family name"), ("npi", "NPI"),
                 ("taxonomy", "Taxonomy")),
}
TITLES = {"payer": "Payer", "fee": "Fee", "profile": "The clinic's billing numbers", "provider": "Doctor's NPI"}


def _setter(name: str) -> Any:
    return lambda value: S.set_value(name, value)


def _form(kind: str) -> rx.Component:
    fields = [form_field(label, f"{kind}-{name}", S.values[name], _setter(name), error=S.errors[name])
              for name, label in LABELS[kind]]
    return rx.card(rx.vstack(
        rx.heading(TITLES[kind], size="4", as_="h3"),
        field_grid(*fields),
        error_callout(S.form_error),
        rx.hstack(primary_button("Save", on_click=S.save, type="button", id=f"save-{kind}"),
                  secondary_button("Cancel", on_click=S.cancel, type="button"), spacing="3"),
        spacing="3", width="100%"), id=FORM_IDS[kind], width="100%")


def _edit(kind: str, key: Any, label: Any) -> rx.Component:
    return rx.button("Change", variant="soft", size="2", min_height=TAP, type="button",
                     on_click=S.open_form(kind, key), aria_label=label)


def _section(title: str, kind: str, add_label: str, table: rx.Component) -> rx.Component:
    return rx.card(rx.vstack(
        rx.flex(rx.heading(title, size="4", as_="h2"), rx.spacer(),
                secondary_button(add_label, on_click=S.open_form(kind, ""), type="button", id=f"add-{kind}")
                if add_label else rx.fragment(),
                width="100%", align="center", wrap="wrap", spacing="2"),
        rx.cond(S.form == kind, _form(kind)),
        table, spacing="3", width="100%"), width="100%")


def setup_view() -> rx.Component:
    payers = rx.cond(S.payers.length() > 0, data_table(
        ["Payer", "Id", "Claims address", "Filing", "Appeal days", ""], S.payers,
        lambda r: [rx.table.cell(r["name"]), rx.table.cell(r["code"]), rx.table.cell(r["address"]),
                   rx.table.cell(r["filing"]), rx.table.cell(r["appeal"]),
                   rx.table.cell(_edit("payer", r["id"], "Change " + r["name"].to(str)))],
        card=lambda r: rx.card(rx.vstack(rx.text(r["name"], " (", r["code"], ")", weight="medium"),
                                         rx.text("File within ", r["filing"], "; appeal days ", r["appeal"], size="2"),
                                         _edit("payer", r["id"], "Change " + r["name"].to(str)), spacing="1"),
                               width="100%"),
        caption="Payers", table_id="payers-table"),
        empty_state("building-2", "No payers yet", "Add the payers the clinic bills with Add a payer."))
    fees = rx.cond(S.fees.length() > 0, data_table(
        ["Code", "Description", "Price", ""], S.fees,
        lambda r: [rx.table.cell(r["code"]), rx.table.cell(r["description"]), rx.table.cell(r["price"]),
                   rx.table.cell(_edit("fee", r["code"], "Change " + r["code"].to(str)))],
        card=lambda r: rx.card(rx.vstack(rx.text(r["code"], " — ", r["price"], weight="medium"),
                                         rx.text(r["description"], size="2"),
                                         _edit("fee", r["code"], "Change " + r["code"].to(str)), spacing="1"),
                               width="100%"),
        caption="Fee schedule", table_id="fees-table"),
        empty_state("list", "No fees yet", "Add the codes the clinic bills, with its own words and prices."))
    doctors = rx.cond(S.providers.length() > 0, data_table(
        ["Doctor", "NPI", "Taxonomy", ""], S.providers,
        lambda r: [rx.table.cell(r["name"]), rx.table.cell(r["npi"]), rx.table.cell(r["taxonomy"]),
                   rx.table.cell(_edit("provider", r["id"], "Change the NPI of " + r["name"].to(str)))],
        card=lambda r: rx.card(rx.vstack(rx.text(r["name"], weight="medium"), rx.text("NPI ", r["npi"], size="2"),
                                         _edit("provider", r["id"], "Change the NPI of " + r["name"].to(str)),
                                         spacing="1"), width="100%"),
        caption="Doctors' NPIs", table_id="providers-table"),
        empty_state("stethoscope", "No doctors", "Doctors' accounts appear here to add their NPIs."))
    return rx.vstack(
        page_header("Billing setup", "Payers, the fee schedule and the numbers printed on claims."),
        office_nav("/billing/setup"),
        _section("The clinic's billing numbers", "profile", "", rx.flex(
            rx.cond(S.profile_set, rx.text("Set up.", size="2"),
                    rx.text("Not set up: claims cannot be sent until it is.", size="2", color=rx.color("red", 11))),
            secondary_button("Change the billing numbers", on_click=S.open_form("profile", ""), type="button",
                             id="edit-profile"),
            spacing="3", align="center", wrap="wrap")),
        _section("Payers", "payer", "Add a payer", payers),
        _section("Fee schedule", "fee", "Add a fee", fees),
        _section("Doctors' billing numbers", "provider", "", doctors),
        spacing="4", width="100%",
    )


@rx.page(route="/billing/setup", title=f"Billing setup — {PRODUCT_NAME}",
         on_load=[SessionState.require("admin"), S.load])
def billing_setup() -> rx.Component:
    return role_shell(
        "admin",
        rx.match(S.status, ("ok", setup_view()), ("denied", not_permitted(SessionState.home)), checking()),
        title="Billing setup",
    )
