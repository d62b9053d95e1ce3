"""The documents pages. Who may see, upload or remove what is decided by the documents service.

The chart's documents page draws the one chart header (``ChartHeaderState``), which its on_load
fills with the header read together with the first list (one audit event for the page)."""

from __future__ import annotations

import reflex as rx

from patient_portal.components.chart_header import chart_header
from patient_portal.components.emergency import chart_refused, withheld_notice
from patient_portal.components.feedback import checking, not_permitted
from patient_portal.components.layout import PRODUCT_NAME, page_header, role_shell
from patient_portal.pages.documents.views import dialogs, document_list, filters, messages, upload_panel
from patient_portal.state.documents import DocumentsState as D
from patient_portal.state.session import SessionState

SCRIPT = "portal_documents.js"


def _body(empty_hint) -> rx.Component:
    return rx.vstack(
        rx.script(src=rx.asset(SCRIPT)),
        rx.cond(D.message | D.error, messages()),  # no empty gap above the panels when there is nothing to say
        rx.cond(D.can_upload, upload_panel()),
        rx.card(rx.vstack(rx.heading("All documents", size="4", as_="h2"), filters(), document_list(empty_hint),
                          spacing="3", width="100%"), width="100%"),
        dialogs(),
        spacing="4", width="100%",
    )


def _missing(text: str) -> rx.Component:
    return rx.callout(text, icon="info", width="100%", id="doc-missing")


def own_view() -> rx.Component:
    return rx.vstack(
        page_header("Your documents", "Results, letters and papers from the clinic, and the ones you added."),
        _body("When the clinic adds a result or letter it appears here. You can also upload your own under "
              "Add documents above."),
        spacing="4", width="100%",
    )


def chart_view() -> rx.Component:
    return rx.vstack(
        chart_header(),
        withheld_notice(D.withheld, id="documents-withheld"),
        rx.hstack(
            rx.heading("Documents", size="6", as_="h2"),
            rx.spacer(),
            rx.link(rx.hstack(rx.icon("arrow-left", size=16), "Back to the chart", align="center"),
                    href="/chart/" + D.patient_ref, min_height="44px"),
            width="100%", align="center",
        ),
        _body(rx.cond(D.can_upload, "Upload the first one under Add documents above.",
                      "When the clinic adds one it appears here.")),
        spacing="4", width="100%",
    )


@rx.page(route="/patient/documents", title=f"Your documents — {PRODUCT_NAME}",
         on_load=[SessionState.require("patient"), D.load_own])
def own_documents() -> rx.Component:
    return role_shell(
        "patient",
        rx.match(D.status, ("ok", own_view()), ("denied", not_permitted(SessionState.home)),
                 ("missing", _missing("Your account is not linked to a health record yet. Ask the clinic.")),
                 checking()),
        title="Your documents",
    )


@rx.page(route="/chart/[pid]/documents", title=f"Patient documents — {PRODUCT_NAME}",
         on_load=[SessionState.require("any"), D.load_chart])
def chart_documents() -> rx.Component:
    return role_shell(
        "account",
        rx.match(D.status, ("ok", chart_view()), ("denied", chart_refused(D.patient_ref)),
                 ("missing", _missing("That patient record was not found.")), checking()),
        title="Patient documents",
    )
