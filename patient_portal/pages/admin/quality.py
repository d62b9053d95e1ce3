"""/admin/data-quality: likely duplicate patients, found on the blind indexes (same name and birth
date, email or phone), each with a link to review and merge them; and records missing what the
clinic needs (phone, email, address, emergency contact, insurance, search keys), with the first of
each linked to their chart."""

from __future__ import annotations

import reflex as rx

from patient_portal.components.feedback import checking, error_callout, not_permitted
from patient_portal.components.layout import PRODUCT_NAME, page_header, role_shell
from patient_portal.components.navigation import add_nav_item
from patient_portal.components.tables import data_table, empty_state
from patient_portal.core.access import Action
from patient_portal.state.quality import DataQualityState as Q
from patient_portal.state.session import SessionState

add_nav_item("admin", "Data quality", "/admin/data-quality", "list-checks", needs=Action.REPORTS)
MUTED = rx.color("gray", 11)


def _who(row, side: str) -> rx.Component:
    return rx.vstack(rx.link(row[side], href=row[f"{side}_chart"], weight="medium"),
                     rx.text("MRN ", row[f"{side}_mrn"], " · born ", row[f"{side}_born"], size="2", color=MUTED),
                     spacing="0")


def _merge_link(row) -> rx.Component:
    return rx.link("Review and merge", href=row["merge"], class_name="quality-merge")


def _pair_cells(row) -> list[rx.Component]:
    return [_who(row, "keep"), _who(row, "duplicate"), rx.text(row["reason"]), _merge_link(row)]


def _pair_card(row) -> rx.Component:
    return rx.card(rx.vstack(_who(row, "keep"), _who(row, "duplicate"), rx.text("Why: ", row["reason"], size="2"),
                             _merge_link(row), spacing="2"), width="100%")


def _gap(row) -> rx.Component:
    people = Q.gap_people[row["key"]]
    return rx.card(rx.vstack(
        rx.hstack(rx.text(row["label"], weight="bold"), rx.badge(row["count"], high_contrast=True,
                                                                 color_scheme=rx.cond(row["count"] == "0", "green",
                                                                                      "amber")),
                  spacing="2", align="center", wrap="wrap"),
        rx.flex(rx.foreach(people, lambda p: rx.link(p["name"], " (", p["mrn"], ")", href=p["chart"], size="2")),
                spacing="3", wrap="wrap"),
        spacing="2", width="100%"), width="100%", class_name="quality-gap")


def _body() -> rx.Component:
    return rx.vstack(
        error_callout(Q.error, id="quality-error"),
        rx.heading("Likely duplicates", size="5", as_="h2"),
        rx.cond(Q.duplicates.length() > 0,
                data_table(["Older record", "Newer record", "Why", ""], Q.duplicates, _pair_cells, card=_pair_card,
                           caption="Likely duplicate patients", table_id="quality-duplicates"),
                empty_state("circle-check", "No likely duplicates",
                            "No two records share a name and birth date, an email or a phone number.")),
        rx.heading("Missing data", size="5", as_="h2"),
        rx.grid(rx.foreach(Q.gaps, _gap), columns=rx.breakpoints(initial="1", md="2"), spacing="3", width="100%"),
        spacing="4", width="100%")


@rx.page(route="/admin/data-quality", title=f"Data quality — {PRODUCT_NAME}",
         on_load=[SessionState.require("admin"), Q.load])
def admin_data_quality() -> rx.Component:
    return role_shell(
        "admin",
        page_header("Data quality", "Likely duplicate patients and records missing what the clinic needs"),
        rx.match(Q.quality_status, ("denied", not_permitted("/")), ("loading", checking()), _body()),
        title="Data quality",
    )
