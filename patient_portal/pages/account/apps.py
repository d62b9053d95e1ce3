"""/account/apps/authorize: an outside app asks to connect (the SMART consent screen), and
/account/apps: the apps the person connected, each with a way to revoke it."""

from __future__ import annotations

import reflex as rx

from patient_portal.components.confirm import confirm_dialog
from patient_portal.components.feedback import error_callout, success_callout
from patient_portal.components.forms import labelled_control
from patient_portal.components.layout import PRODUCT_NAME, TAP, page_header, role_shell
from patient_portal.components.navigation import add_nav_item
from patient_portal.components.tables import empty_state, skeleton_rows
from patient_portal.state.session import SessionState
from patient_portal.state.smart import SmartAppsState as A
from patient_portal.state.smart import SmartConsentState as C

add_nav_item("patient", "Connected apps", "/account/apps", "plug")


def _patient_choice() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Which patient will the app work with?", size="4", as_="h2"),
            rx.el.form(
                rx.hstack(
                    labelled_control("Find a patient", rx.input(name="query", id="consent-query", size="3",
                                                                width="100%", min_height=TAP), "consent-query"),
                    rx.button("Search", type="submit", size="3", min_height=TAP),
                    align="end", spacing="2", width="100%",
                ),
                on_submit=C.search, reset_on_submit=False, id="consent-search",
            ),
            rx.el.ul(rx.foreach(C.results, lambda r: rx.el.li(rx.button(
                r["label"], variant="soft", size="3", min_height=TAP, type="button",
                on_click=C.choose(r["id"], r["label"])))),
                id="consent-results", style={"list_style": "none", "padding": "0", "display": "flex",
                                             "flex_direction": "column", "gap": "0.5rem"}),
            rx.cond(C.patient_label, rx.text("Chosen: ", rx.text.strong(C.patient_label), id="consent-chosen")),
            spacing="3", width="100%",
        ),
        width="100%",
    )


def _consent() -> rx.Component:
    return rx.vstack(
        rx.card(
            rx.vstack(
                rx.heading(C.app_name, size="5", as_="h2", id="consent-app"),
                rx.text("wants to:"),
                rx.el.ul(rx.foreach(C.permissions, lambda p: rx.el.li(p)), id="consent-permissions"),
                rx.text("It never gets more than you may see yourself. You can disconnect it at any time "
                        "under Connected apps.", size="2", color=rx.color("gray", 11)),
                spacing="2", width="100%",
            ),
            width="100%",
        ),
        rx.cond(C.needs_patient, _patient_choice()),
        rx.el.form(
            rx.el.input(type="hidden", name="patient_id", value=C.patient_id),
            rx.hstack(
                rx.button("Allow", type="submit", name="decision", value="approve", size="3", min_height=TAP,
                          id="consent-allow", disabled=C.needs_patient & ~C.patient_id.bool()),
                rx.button("Don't allow", type="submit", name="decision", value="deny", size="3", min_height=TAP,
                          variant="soft", color_scheme="gray", id="consent-deny"),
                spacing="3", wrap="wrap",
            ),
            action="/api/smart/authorize", method="post", on_submit=None, id="consent-form",
        ),
        spacing="4", width="100%",
    )


@rx.page(route="/account/apps/authorize", title=f"Connect an app — {PRODUCT_NAME}",
         on_load=[SessionState.require("account"), C.load])
def consent() -> rx.Component:
    return role_shell(
        "account",
        page_header("Connect an app", "An app asks to reach your health record. Check what it asks for."),
        rx.vstack(error_callout(C.error, id="consent-error"), rx.cond(C.loaded, _consent()),
                  spacing="3", width="100%"),
        title="Connect an app",
    )


def _app_row(row) -> rx.Component:
    return rx.card(
        rx.flex(
            rx.vstack(
                rx.text(row["name"], weight="medium", size="3"),
                rx.text(row["what"], size="2"),
                rx.text("Connected ", row["when"], size="2", color=rx.color("gray", 11)),
                spacing="1",
            ),
            rx.spacer(),
            confirm_dialog(
                rx.button("Disconnect", variant="soft", color_scheme="red", size="3", min_height=TAP,
                          aria_label="Disconnect " + row["name"]),
                "Disconnect " + row["name"] + "?",
                "The app can no longer reach your record. You can connect it again from the app.",
                "Disconnect", A.revoke(row["id"]),
            ),
            wrap="wrap", spacing="3", width="100%", align="center",
        ),
        width="100%",
        class_name="connected-app",
    )


@rx.page(route="/account/apps", title=f"Connected apps — {PRODUCT_NAME}",
         on_load=[SessionState.require("account"), A.load])
def connected_apps() -> rx.Component:
    return role_shell(
        "account",
        page_header("Connected apps", "Apps you allowed to reach your health record"),
        rx.vstack(
            error_callout(A.error, id="apps-error"),
            success_callout(A.message),
            rx.cond(
                A.loaded,
                rx.cond(A.rows.length() > 0,
                        rx.vstack(rx.foreach(A.rows, _app_row), id="connected-apps", spacing="2", width="100%"),
                        rx.box(empty_state("plug", "No apps connected.",
                                           "When you allow an app to reach your record, it shows here."),
                               id="connected-apps-empty", width="100%")),
                rx.cond(A.error, rx.fragment(), skeleton_rows()),
            ),
            spacing="3", width="100%",
        ),
        title="Connected apps",
    )
