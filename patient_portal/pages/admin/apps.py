"""/admin/apps: register outside apps (SMART App Launch and Backend Services) and switch them off."""

from __future__ import annotations

import reflex as rx

from patient_portal.components.feedback import error_callout
from patient_portal.components.forms import labelled_control
from patient_portal.components.layout import PRODUCT_NAME, TAP, page_header, role_shell
from patient_portal.components.navigation import add_nav_item
from patient_portal.components.tables import data_table, empty_state
from patient_portal.core.access import Action
from patient_portal.state.session import SessionState
from patient_portal.state.smart import SmartAdminState as S

add_nav_item("admin", "Apps", "/admin/apps", "plug", needs=Action.SMART_APP_MANAGE)


def _err(field: str):
    return rx.cond(S.form_errors.contains(field), S.form_errors[field], "")


def _form() -> rx.Component:
    return rx.card(
        rx.el.form(
            rx.vstack(
                rx.heading("Register an app", size="4", as_="h2"),
                rx.grid(
                    labelled_control("Name", rx.input(name="name", id="app-name", size="3", width="100%",
                                                      required=True), "app-name", _err("name")),
                    labelled_control("Kind", rx.select.root(
                        rx.select.trigger(id="app-kind", width="100%", min_height=TAP),
                        rx.select.content(rx.select.item("Patient or clinician app", value="app"),
                                          rx.select.item("Backend service (bulk export)", value="backend")),
                        name="kind", default_value="app", size="3"), "app-kind", _err("kind")),
                    labelled_control("Redirect URIs (one a line)", rx.text_area(
                        name="redirect_uris", id="app-redirects", size="3", width="100%"), "app-redirects",
                        _err("redirect_uris")),
                    labelled_control("Scopes it may ask for", rx.input(
                        name="scope", id="app-scope", size="3", width="100%",
                        placeholder="launch/patient openid fhirUser offline_access patient/*.rs"),
                        "app-scope", _err("scope")),
                    labelled_control("Backend service: public keys (JWKS JSON)", rx.text_area(
                        name="jwks", id="app-jwks", size="3", width="100%"), "app-jwks", _err("jwks")),
                    labelled_control("…or the https URL of its JWKS", rx.input(
                        name="jwks_url", id="app-jwks-url", size="3", width="100%"), "app-jwks-url"),
                    columns=rx.breakpoints(initial="1", md="2"), spacing="3", width="100%",
                ),
                # No id on this checkbox: an id gives it a ref, whose value Reflex adds to the submitted
                # form as a true/false, and the argument check refuses a form whose fields are not text
                # (state/arguments.py) — the form then never reached the handler. Wrapped in its label,
                # it is named and clicked by it; checked, its hidden input sends confidential=on.
                rx.el.label(rx.checkbox(name="confidential"),
                            " Confidential (the app keeps a secret on its server)", id="app-confidential-label",
                            style={"display": "flex", "gap": "0.5rem", "align_items": "center", "min_height": TAP}),
                rx.button("Register app", type="submit", size="3", min_height=TAP),
                spacing="3",
            ),
            on_submit=S.register, reset_on_submit=False, id="register-app-form",
        ),
        width="100%",
    )


def _switch(a) -> rx.Component:
    return rx.button(rx.cond(a["active"], "Switch off", "Switch on"), variant="soft", size="2", min_height=TAP,
                     aria_label=rx.cond(a["active"], "Switch off ", "Switch on ") + a["name"],
                     on_click=S.switch(a["client_id"], ~a["active"].bool()))


def _card(a) -> rx.Component:
    return rx.card(rx.vstack(rx.text(a["name"], weight="medium"), rx.text(a["kind"], " · ", a["status"]),
                             rx.code(a["client_id"]), rx.text(a["scope"], size="2"), _switch(a), spacing="1"),
                   width="100%")


def _registered() -> rx.Component:
    return rx.cond(S.new_client_id, rx.callout.root(rx.callout.text(
        rx.vstack(
            rx.text("Registered. Client id: ", rx.code(S.new_client_id, id="new-client-id")),
            rx.cond(S.new_secret, rx.text("Client secret (shown only now; give it to the app's owner): ",
                                         rx.code(S.new_secret, id="new-client-secret"))),
            spacing="1",
        )), color_scheme="green", width="100%"))


@rx.page(route="/admin/apps", title=f"Apps — {PRODUCT_NAME}", on_load=[SessionState.require("admin"), S.load])
def admin_apps() -> rx.Component:
    return role_shell(
        "admin",
        page_header("Apps", "Outside apps that may connect to patients' records through SMART on FHIR"),
        rx.vstack(
            error_callout(S.error, id="apps-admin-error"),
            _registered(),
            rx.cond(
                S.apps.length() > 0,
                data_table(["App", "Kind", "Client id", "Redirect URIs", "Scopes", "Status", ""], S.apps,
                           lambda a: [rx.text(a["name"]), rx.text(a["kind"]), rx.code(a["client_id"]),
                                      rx.text(a["redirects"]), rx.text(a["scope"]), rx.text(a["status"]), _switch(a)],
                           card=_card, caption="Registered apps", table_id="apps-table"),
                empty_state("plug", "No apps registered yet.", "Register the first one below."),
            ),
            _form(),
            spacing="4", width="100%",
        ),
        title="Apps",
    )
