"""/admin/reports: the clinic's reports for administrators — a date range and doctor filter, each
report as a chart and a table, a CSV download per report and one PDF of them all."""

from __future__ import annotations

import reflex as rx

from patient_portal.components.feedback import checking, error_callout, not_permitted
from patient_portal.components.forms import download_button
from patient_portal.components.layout import PRODUCT_NAME, page_header, role_shell
from patient_portal.components.navigation import add_nav_item
from patient_portal.components.tables import empty_state
from patient_portal.core.access import Action
from patient_portal.state.reports import ALL_DOCTORS
from patient_portal.state.reports import ReportsState as S
from patient_portal.state.session import SessionState

TAP = "44px"
add_nav_item("admin", "Reports", "/admin/reports", "chart-column", needs=Action.REPORTS)
_SELECT_STYLE = {"min_height": TAP, "padding": "0 8px", "border_radius": "var(--radius-2)", "width": "100%"}


def _error(name: str, control_id: str) -> rx.Component:
    message = S.filter_errors[name]
    return rx.cond(message, rx.text(message, size="2", color=rx.color("red", 11), id=control_id + "-error",
                                     role="alert"))


def _date(label: str, name: str, value, on_change) -> rx.Component:
    control_id = f"reports-{name}"
    return rx.vstack(
        rx.el.label(label, html_for=control_id, style={"font_weight": "500"}),
        rx.input(name=name, id=control_id, type="date", value=value, on_change=on_change, size="3", width="100%",
                 min_height=TAP, aria_describedby=control_id + "-error",
                 aria_invalid=rx.cond(S.filter_errors[name], "true", "false"),
                 style={"& input": {"min_width": "0"}}),
        _error(name, control_id),
        spacing="1", width="100%", min_width="0",
    )


def _filters() -> rx.Component:
    doctor = rx.vstack(
        rx.el.label("Doctor", html_for="reports-doctor", style={"font_weight": "500"}),
        rx.el.select(
            rx.el.option("Every doctor", value=ALL_DOCTORS),
            rx.foreach(S.doctors, lambda d: rx.el.option(d.name, value=d.id)),
            name="doctor", id="reports-doctor", value=S.doctor, on_change=S.set_doctor,
            aria_describedby="reports-doctor-error", style=_SELECT_STYLE,
        ),
        _error("doctor", "reports-doctor"),
        spacing="1", width="100%", min_width="0",
    )
    return rx.card(
        rx.el.form(
            rx.vstack(
                rx.grid(
                    _date("From", "start", S.start, S.set_start),
                    _date("To", "end", S.end, S.set_end),
                    doctor,
                    columns=rx.breakpoints(initial="1", sm="3"),
                    spacing="3",
                    width="100%",
                ),
                rx.hstack(
                    rx.button("Show reports", type="submit", size="3", min_height=TAP, id="reports-apply"),
                    rx.spacer(),
                    download_button("Download PDF", S.pdf_href, link_id="reports-pdf", icon="file-text"),
                    spacing="2", wrap="wrap", width="100%",
                ),
                spacing="3",
            ),
            on_submit=S.apply,
            reset_on_submit=False,
            id="reports-filters",
        ),
        width="100%",
    )


def _chart(report) -> rx.Component:
    common = [rx.recharts.x_axis(data_key="label"), rx.recharts.y_axis(), rx.recharts.graphing_tooltip()]
    first = rx.recharts.bar(data_key="value", name=report.value_name, fill=rx.color("indigo", 9))
    return rx.cond(
        report.value2_name != "",
        rx.recharts.bar_chart(first, rx.recharts.bar(data_key="value2", name=report.value2_name,
                                                     fill=rx.color("amber", 9)),
                              *common, rx.recharts.legend(), data=report.chart, width="100%", height=240),
        rx.recharts.bar_chart(first, *common, data=report.chart, width="100%", height=240),
    )


def _table(report) -> rx.Component:
    wide = rx.table.root(
        rx.table.header(rx.table.row(rx.foreach(report.columns, lambda c: rx.table.column_header_cell(c)))),
        rx.table.body(rx.foreach(report.rows, lambda row: rx.table.row(
            rx.foreach(row, lambda cell: rx.table.cell(cell))))),
        variant="surface", width="100%", aria_label=report.title,
        display=rx.breakpoints(initial="none", md="table"),
    )
    phone = rx.vstack(
        rx.foreach(report.rows, lambda row: rx.card(rx.vstack(
            rx.foreach(row, lambda cell, i: rx.hstack(
                rx.text(report.columns[i], size="2", color=rx.color("gray", 11)), rx.spacer(),
                rx.text(cell, size="2", weight=rx.cond(i == 0, "bold", "regular"), text_align="right"),
                width="100%", spacing="2")),
            spacing="1", width="100%"), width="100%")),
        spacing="2", width="100%", display=rx.breakpoints(initial="flex", md="none"),
    )
    return rx.box(wide, phone, width="100%")


def _report(report) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.flex(
                rx.vstack(rx.heading(report.title, size="4", as_="h2"),
                          rx.text(report.description, size="2", color=rx.color("gray", 11)), spacing="1"),
                rx.spacer(),
                download_button("CSV", report.csv_href, link_id="report-csv-" + report.key.to(str),
                                aria_label="Download " + report.title.to(str) + " as CSV"),
                spacing="3", wrap="wrap", width="100%", align="start",
            ),
            rx.cond(
                report.rows.length() > 0,
                rx.vstack(
                    rx.box(_chart(report), width="100%", class_name="report-chart"),
                    rx.cond(report.suppressed,
                            rx.text("Counts from 1 to 10 are shown as <11 so no patient can be singled out.",
                                    size="1", color=rx.color("gray", 11))),
                    _table(report),
                    spacing="3", width="100%",
                ),
                empty_state("chart-column", "Nothing in this period",
                            "Choose a longer period or every doctor to see more."),
            ),
            spacing="3", width="100%",
        ),
        width="100%",
        id="report-" + report.key.to(str),
    )


def _reports() -> rx.Component:
    return rx.vstack(
        _filters(),
        error_callout(S.error, id="reports-error"),
        rx.text("Opening and downloading reports is recorded in the audit log.", size="2",
                color=rx.color("gray", 11), id="reports-audited"),
        rx.grid(rx.foreach(S.reports, _report), columns=rx.breakpoints(initial="1", xl="2"), spacing="4",
                width="100%", id="reports-list"),
        spacing="4",
        width="100%",
    )


@rx.page(route="/admin/reports", title=f"Reports — {PRODUCT_NAME}",
         on_load=[SessionState.require("admin"), S.load])
def admin_reports() -> rx.Component:
    return role_shell(
        "admin",
        page_header("Reports", "How the clinic is doing: patients, appointments, billing and access"),
        rx.match(
            S.status,
            ("denied", not_permitted("/")),
            ("loading", checking()),
            _reports(),
        ),
        title="Reports",
    )
