"""/patient/access-log: who has looked at my record, in plain words, phone first."""

from __future__ import annotations

import reflex as rx

from patient_portal.components.feedback import error_callout
from patient_portal.components.layout import PRODUCT_NAME, page_header, role_shell
from patient_portal.components.navigation import add_nav_item
from patient_portal.components.tables import empty_state, pagination, skeleton_rows
from patient_portal.state.audit_log import AccessLogState as S
from patient_portal.state.session import SessionState

TITLE = "Who has looked at my record"
add_nav_item("patient", "Who looked at my record", "/patient/access-log", "eye")


def _entry(row) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.flex(
                rx.text(row.who, weight="medium", size="3"),
                rx.spacer(),
                rx.text(row.when, size="2", color=rx.color("gray", 11)),
                wrap="wrap",
                spacing="2",
                width="100%",
            ),
            rx.hstack(
                rx.text(row.what, size="3"),
                rx.cond(row.refused, rx.badge("Refused", color_scheme="red", high_contrast=True)),
                spacing="2",
                align="center",
                wrap="wrap",
            ),
            spacing="1",
            width="100%",
        ),
        width="100%",
        class_name="access-entry",
    )


def _list() -> rx.Component:
    return rx.cond(
        S.loaded,
        rx.cond(
            S.rows.length() > 0,
            rx.vstack(
                rx.el.ul(rx.foreach(S.rows, lambda row: rx.el.li(_entry(row))), id="access-log",
                         style={"list_style": "none", "padding": "0", "margin": "0", "width": "100%",
                                "display": "flex", "flex_direction": "column", "gap": "0.5rem"}),
                rx.cond(S.pages > 1, pagination(S.page, S.pages, S.prev_page, S.next_page)),
                spacing="3",
                width="100%",
            ),
            rx.box(empty_state("eye-off", "No one outside you has opened your record yet.",
                               "When someone at the clinic opens or changes your record, it shows here."),
                   id="access-log-empty", width="100%"),
        ),
        rx.cond(S.error, rx.fragment(), skeleton_rows()),
    )


@rx.page(route="/patient/access-log", title=f"{TITLE} — {PRODUCT_NAME}",
         on_load=[SessionState.require("patient"), S.load])
def patient_access_log() -> rx.Component:
    return role_shell(
        "patient",
        page_header(TITLE, "Every time someone at the clinic opens, searches for or changes your record, "
                    "it is recorded. Newest first."),
        rx.vstack(error_callout(S.error, id="access-log-error"), _list(), spacing="3", width="100%"),
        title=TITLE,
    )
