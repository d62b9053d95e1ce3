"""/admin/audit: the audit log (filters, 50 a page) and the hash-chain check."""

from __future__ import annotations

import reflex as rx

from patient_portal.components.feedback import error_callout
from patient_portal.components.forms import download_button
from patient_portal.components.layout import PRODUCT_NAME, page_header, role_shell
from patient_portal.components.navigation import add_nav_item
from patient_portal.components.tables import data_table, empty_state, pagination
from patient_portal.core.access import Action
from patient_portal.state.audit_log import AuditLogState as S
from patient_portal.state.session import SessionState

TAP = "44px"
COLUMNS = ["Time", "Who", "Action", "Patient (MRN)", "Object", "Outcome", "IP"]
add_nav_item("admin", "Audit log", "/admin/audit", "scroll-text", needs=Action.AUDIT_READ)


def _error(name: str, control_id: str) -> rx.Component:
    """The message for the filter `name`, under its field (found by focus_first_error)."""
    message = S.filter_errors[name]
    return rx.cond(message, rx.text(message, size="2", color=rx.color("red", 11), id=control_id + "-error",
                                     class_name="field-error"))


def _field(label: str, name: str, control_id: str, **props) -> rx.Component:
    return rx.vstack(
        rx.el.label(label, html_for=control_id, style={"font_weight": "500"}),
        rx.input(name=name, id=control_id, size="3", width="100%", aria_describedby=control_id + "-error",
                 aria_invalid=rx.cond(S.filter_errors[name], "true", "false"), **props),
        _error(name, control_id),
        spacing="1",
        width="100%",
    )


def _filters() -> rx.Component:
    outcome = rx.vstack(
        rx.el.label("Outcome", html_for="audit-outcome", style={"font_weight": "500"}),
        rx.el.select(
            rx.el.option("Any", value=""),
            *[rx.el.option(o.capitalize(), value=o) for o in ("success", "denied", "failed", "throttled")],
            name="outcome", id="audit-outcome", aria_describedby="audit-outcome-error",
            style={"min_height": TAP, "padding": "0 8px", "border_radius": "var(--radius-2)", "width": "100%"},
        ),
        _error("outcome", "audit-outcome"),
        spacing="1",
        width="100%",
    )
    return rx.card(
        rx.el.form(
            rx.vstack(
                rx.grid(
                    _field("Action starts with", "action", "audit-action", placeholder="patient.clinical"),
                    _field("Who (email or user id)", "actor", "audit-actor", type="text"),
                    _field("Patient (MRN or record id)", "patient", "audit-patient", placeholder="PP-12345674"),
                    outcome,
                    _field("From", "date_from", "audit-from", type="date"),
                    _field("To", "date_to", "audit-to", type="date"),
                    columns=rx.breakpoints(initial="1", sm="2", lg="3"),
                    spacing="3",
                    width="100%",
                ),
                rx.hstack(
                    rx.button("Apply filters", type="submit", size="3", min_height=TAP, id="audit-apply"),
                    rx.button("Clear", type="reset", size="3", variant="outline", min_height=TAP,
                              on_click=S.clear_filters),
                    rx.spacer(),
                    download_button("Download CSV", S.export_href, link_id="audit-export"),
                    spacing="2", wrap="wrap", width="100%",
                ),
                error_callout(S.filter_error, id="audit-filter-error"),
                spacing="3",
            ),
            on_submit=S.apply_filters,
            reset_on_submit=False,
            id="audit-filters",
        ),
        width="100%",
    )


def _outcome(row) -> rx.Component:
    return rx.match(
        row.outcome,
        ("success", rx.badge("success", color_scheme="green", high_contrast=True)),
        ("denied", rx.badge("denied", color_scheme="red", high_contrast=True)),
        rx.badge(row.outcome, color_scheme="amber", high_contrast=True),
    )


def _who(row) -> rx.Component:
    return rx.vstack(rx.text(row.actor, weight="medium"), rx.text(row.role, " ", row.actor_email, size="1"),
                     spacing="0")


def _cells(row) -> list[rx.Component]:
    return [rx.table.cell(row.at), rx.table.cell(_who(row)), rx.table.cell(rx.code(row.action)),
            rx.table.cell(row.patient_mrn), rx.table.cell(rx.text(row.object, size="1", word_break="break-all")),
            rx.table.cell(_outcome(row)), rx.table.cell(row.ip)]


def _card(row) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(rx.code(row.action, word_break="break-all"), _outcome(row), spacing="2", wrap="wrap"),
            _who(row),
            rx.text(row.at, size="2"),
            rx.cond(row.patient_mrn, rx.text("Patient ", row.patient_mrn, size="2")),
            rx.text(row.object, size="1", word_break="break-all"),
            spacing="1",
        ),
        width="100%",
    )


def _chain() -> rx.Component:
    return rx.card(
        rx.flex(
            rx.vstack(
                rx.heading("Tamper check", size="4", as_="h2"),
                rx.text("Walks the whole hash chain and names the first altered, inserted or removed event.",
                        size="2", color=rx.color("gray", 11)),
                spacing="1",
            ),
            rx.spacer(),
            rx.button("Check the audit chain", on_click=S.check_chain, size="3", min_height=TAP,
                      variant="outline", id="audit-chain-check"),
            direction=rx.breakpoints(initial="column", sm="row"),
            spacing="3",
            width="100%",
        ),
        rx.cond(S.chain_message,
                rx.callout(S.chain_message, icon=rx.cond(S.chain_ok, "circle-check", "triangle-alert"),
                           color_scheme=rx.cond(S.chain_ok, "green", "red"), role="status", margin_top="0.75rem",
                           id="audit-chain-result")),
        width="100%",
    )


@rx.page(route="/admin/audit", title=f"Audit log — {PRODUCT_NAME}",
         on_load=[SessionState.require("admin"), S.load])
def admin_audit() -> rx.Component:
    return role_shell(
        "admin",
        page_header("Audit log", S.total.to_string() + " events match, newest first"),
        rx.vstack(
            error_callout(S.error, id="audit-error"),
            _chain(),
            _filters(),
            rx.cond(
                S.rows.length() > 0,
                rx.vstack(
                    data_table(COLUMNS, S.rows, _cells, card=_card, caption="Audit events", table_id="audit-table"),
                    pagination(S.page, S.pages, S.prev_page, S.next_page),
                    spacing="3",
                    width="100%",
                ),
                empty_state("scroll-text", "No events match these filters", "Clear a filter to see more."),
            ),
            spacing="4",
            width="100%",
        ),
        title="Audit log",
    )
