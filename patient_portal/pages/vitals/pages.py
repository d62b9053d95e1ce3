"""The vitals pages. What may be seen, recorded, reported or verified is decided by the observations
service; these only draw ``VitalsState``.

/chart/<id>/vitals — the one chart header, the latest value of each vital, "Record vitals" (fields
with their units, messages beside them), a trend chart per vital (blood pressure as two lines) and
the readings, 25 a page, with "Reported by patient" badges and Verify for the care team.
/patient/readings — "Your readings": the same in plain words, and "Add a reading" (blood pressure,
weight, blood glucose). Phone first: tiles and charts stack, the table turns into cards.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from patient_portal.components.chart_header import back_to_chart, chart_header
from patient_portal.components.emergency import chart_refused
from patient_portal.components.feedback import checking, error_callout, not_permitted
from patient_portal.components.forms import form_field, primary_button, secondary_button
from patient_portal.components.layout import PRODUCT_NAME, page_header, role_shell
from patient_portal.components.navigation import add_nav_item
from patient_portal.components.tables import data_table, empty_state, pagination
from patient_portal.state.session import SessionState
from patient_portal.state.vitals import COLORS, FORM_ID, RANGES, SHOWN
from patient_portal.state.vitals import VitalsState as V

TAP = "44px"
MUTED = rx.color("gray", 11)
COLUMNS = {"blood_pressure": "BP", "heart_rate": "HR", "temperature": "Temp", "respiratory_rate": "RR",
           "spo2": "SpO₂", "weight": "Weight", "height": "Height", "bmi": "BMI", "glucose": "Glucose"}

add_nav_item("patient", "Your readings", "/patient/readings", "activity")


def _patient_badge(row: Any) -> rx.Component:
    return rx.cond(
        row["by_patient"],
        rx.cond(row["unverified"],
                rx.badge(rx.icon("house", size=12), "Reported by patient", color_scheme="amber", high_contrast=True, size="2",
                         class_name="reported-badge"),
                rx.badge(rx.icon("circle-check", size=12), "Reported by patient, verified", color_scheme="green", high_contrast=True,
                         size="2", class_name="reported-badge")),
    )


# ---------------------------------------------------------------- latest

def _tile(tile: Any) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(tile["label"], size="2", color=MUTED),
            rx.text(tile["value"], size="5", weight="bold"),
            rx.text(tile["when"], size="1", color=MUTED),
            _patient_badge(tile),
            spacing="1",
        ),
        class_name="latest-tile",
    )


def latest_section(empty_text: str) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Latest", size="4", as_="h2"),
            rx.cond(
                V.latest.length() > 0,
                rx.grid(rx.foreach(V.latest, _tile), columns=rx.breakpoints(initial="2", sm="3", lg="5"),
                        spacing="3", width="100%", id="vitals-latest"),
                rx.text(empty_text, color=MUTED, id="vitals-latest-empty"),
            ),
            spacing="3", width="100%",
        ),
        width="100%",
    )


# ---------------------------------------------------------------- the form

def _field(f: Any) -> rx.Component:
    return form_field(f["label"], f["id"], V.form[f["key"]], lambda value: V.set_value(f["key"], value),
                      error=V.form_errors[f["key"]], type_="number", input_mode="decimal", step=f["step"],
                      placeholder=f["hint"])


def record_form(title: str, button: str, intro: str) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(title, size="4", as_="h2"),
            rx.text(intro, size="2", color=MUTED),
            form_field("Measured at", "vital-when", V.when, V.set_when, error=V.form_errors["effective_at"],
                       type_="datetime-local", required=True),
            rx.grid(rx.foreach(V.fields, _field), columns=rx.breakpoints(initial="1", sm="2", lg="3"), spacing="4",
                    width="100%"),
            error_callout(V.form_error, id="vitals-form-error"),
            rx.hstack(
                primary_button(button, on_click=V.save, type="button", id="vitals-save"),
                secondary_button("Cancel", on_click=V.cancel_form, type="button"),
                spacing="3", wrap="wrap",
            ),
            spacing="4", width="100%",
        ),
        id=FORM_ID, width="100%",
    )


# ---------------------------------------------------------------- trends

def _goal_lines(chart: Any) -> list[rx.Component]:
    """The care plan's target as dashed lines in each series' colour (a line whose value is null —
    no goal — is not drawn); the domain stretches to show them."""
    return [rx.recharts.reference_line(y=chart[f"goal_{name}_{side}"], stroke=COLORS[name], stroke_dasharray="6 4",
                                       stroke_width=1.5, if_overflow="extendDomain", class_name="goal-line")
            for name in ("a", "b") for side in ("low", "high")]


def _chart(chart: Any) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(rx.heading(chart["title"], size="3", as_="h3"), rx.text(chart["unit"], size="2", color=MUTED),
                      align="baseline", spacing="2"),
            rx.recharts.line_chart(
                rx.recharts.cartesian_grid(stroke_dasharray="3 3"),
                rx.recharts.x_axis(data_key="day", tick={"fontSize": 12}, min_tick_gap=16),
                rx.recharts.y_axis(domain=["auto", "auto"], width=40, tick={"fontSize": 12}),
                rx.recharts.graphing_tooltip(),
                rx.recharts.line(data_key="a", name=chart["name_a"], stroke=COLORS["a"], stroke_width=2,
                                 dot=True, is_animation_active=False, type_="monotone"),
                rx.recharts.line(data_key="b", name=chart["name_b"], stroke=COLORS["b"], stroke_width=2,
                                 dot=True, is_animation_active=False, type_="monotone"),
                *_goal_lines(chart),
                data=chart["points"], width="100%", height=220,
            ),
            rx.cond(chart["two"], rx.hstack(
                rx.hstack(rx.box(width="12px", height="3px", background=COLORS["a"]), rx.text(chart["name_a"], size="1"),
                          align="center", spacing="1"),
                rx.hstack(rx.box(width="12px", height="3px", background=COLORS["b"]), rx.text(chart["name_b"], size="1"),
                          align="center", spacing="1"),
                spacing="4")),
            rx.text(chart["summary"], size="2", color=MUTED),
            rx.cond(chart["goal"] != "", rx.text(chart["goal"], size="2", class_name="trend-goal")),
            spacing="2", width="100%",
        ),
        width="100%", min_width="0", class_name="trend-chart", id="trend-" + chart["key"].to(str),
    )


def trends_section(empty_text: str, heading: str = "Trends") -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.flex(
                rx.heading(heading, size="4", as_="h2"),
                rx.spacer(),
                rx.vstack(
                    rx.el.label(rx.text("Show", as_="span", size="2", weight="medium"), html_for="vitals-range"),
                    rx.select.root(
                        rx.select.trigger(id="vitals-range", min_height=TAP),
                        rx.select.content(*[rx.select.item(words, value=value) for value, words, _d in RANGES]),
                        value=V.range_choice, on_change=V.set_range, size="3",
                    ),
                    spacing="1",
                ),
                direction=rx.breakpoints(initial="column", sm="row"), spacing="2", width="100%",
                align=rx.breakpoints(initial="start", sm="end"),
            ),
            rx.cond(
                V.charts.length() > 0,
                rx.grid(rx.foreach(V.charts, _chart), columns=rx.breakpoints(initial="1", md="2"), spacing="3",
                        width="100%"),
                rx.text(empty_text, color=MUTED),
            ),
            spacing="3", width="100%",
        ),
        width="100%",
    )


# ---------------------------------------------------------------- readings

def _verify_button(row: Any) -> rx.Component:
    return rx.cond(
        V.can_verify & row["unverified"],
        rx.button(rx.icon("check", size=16), "Verify", size="2", min_height=TAP, on_click=V.verify(row["id"]),
                  class_name="verify-button", aria_label="Verify the reading of " + row["when"].to(str)),
    )


def _cells(row: Any) -> list[rx.Component]:
    return [
        rx.table.cell(rx.vstack(rx.text(row["when"], size="2"), _patient_badge(row), spacing="1")),
        *[rx.table.cell(row[key]) for key in SHOWN],
        rx.table.cell(rx.vstack(rx.text(row["who"], size="1", color=MUTED),
                                rx.cond(row["verified_by"], rx.text("Verified by ", row["verified_by"], size="1",
                                                                    color=MUTED)),
                                _verify_button(row), spacing="1")),
    ]


def _card(row: Any) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(rx.text(row["when"], weight="medium"), _patient_badge(row), wrap="wrap", spacing="2"),
            rx.grid(*[rx.cond(row[key].to(str) != "—", rx.text(COLUMNS[key] + ": ", row[key].to(str), size="2")) for key in SHOWN],
                    columns="2", spacing="1", width="100%"),
            rx.text(row["who"], size="1", color=MUTED),
            _verify_button(row),
            spacing="2", width="100%",
        ),
        width="100%", class_name="reading-card",
    )


def readings_section(empty_text: str, heading: str = "Readings") -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(heading, size="4", as_="h2"),
            error_callout(V.error, id="vitals-error"),
            rx.cond(
                V.rows.length() > 0,
                rx.vstack(
                    data_table(["When", *[COLUMNS[k] for k in SHOWN], "By"], V.rows, _cells, card=_card,
                               caption=heading, table_id="vitals-table"),
                    rx.cond(V.pages > 1, pagination(V.page, V.pages, V.prev_page, V.next_page)),
                    spacing="3", width="100%",
                ),
                empty_state("activity", "No readings yet", empty_text),
            ),
            spacing="3", width="100%",
        ),
        width="100%",
    )


# ---------------------------------------------------------------- the pages

def chart_view() -> rx.Component:
    return rx.vstack(
        chart_header(),
        rx.flex(
            rx.heading("Vitals", size="6", as_="h2"),
            rx.spacer(),
            back_to_chart(V.patient_ref),
            rx.cond(V.can_record & ~V.form_open,
                    primary_button("Record vitals", on_click=V.open_form, type="button", id="record-vitals")),
            width="100%", align="center", spacing="3", wrap="wrap",
        ),
        rx.cond(V.unverified > 0, rx.callout(
            rx.text(V.unverified, " reading(s) reported by the patient are not verified yet. Check them in "
                    "Readings below and press Verify."), icon="house", color_scheme="amber", high_contrast=True, width="100%",
            id="vitals-unverified")),
        rx.cond(V.form_open, record_form(
            "Record vitals", "Save vitals",
            "Fill in what you measured; leave the rest empty. BMI is computed from weight and height.")),
        latest_section("No vitals recorded yet."),
        trends_section("No readings in this period."),
        readings_section(rx.cond(V.can_record, "Record the first set with Record vitals above.",
                                 "When the care team records vitals they appear here.")),
        spacing="4", width="100%",
    )


def own_view() -> rx.Component:
    return rx.vstack(
        page_header("Your readings",
                    "Your blood pressure, weight and other measurements over time, from the clinic and from home.",
                    rx.cond(V.can_record & ~V.form_open,
                            primary_button("Add a reading", on_click=V.open_form, type="button", id="add-reading"))),
        rx.cond(V.form_open, record_form(
            "Add a reading", "Save reading",
            "Add a blood pressure, weight or blood sugar you measured at home. Fill in only what you measured. "
            "Your care team sees it marked as reported by you until a doctor checks it.")),
        latest_section("Nothing yet. Readings from your visits and the ones you add appear here."),
        trends_section("No readings in this period.", "How your readings changed"),
        readings_section("Add your first home reading with Add a reading above.", "All your readings"),
        spacing="4", width="100%",
    )


def _missing(text: str) -> rx.Component:
    return rx.callout(text, icon="info", width="100%", id="vitals-missing")


@rx.page(route="/chart/[pid]/vitals", title=f"Vitals — {PRODUCT_NAME}",
         on_load=[SessionState.require("any"), V.load_chart])
def chart_vitals() -> rx.Component:
    return role_shell(
        "account",
        rx.match(V.status, ("ok", chart_view()), ("denied", chart_refused(V.patient_ref)),
                 ("missing", _missing("That patient record was not found.")), checking()),
        title="Vitals",
    )


@rx.page(route="/patient/readings", title=f"Your readings — {PRODUCT_NAME}",
         on_load=[SessionState.require("patient"), V.load_own])
def own_readings() -> rx.Component:
    return role_shell(
        "patient",
        rx.match(V.status, ("ok", own_view()), ("denied", not_permitted(SessionState.home)),
                 ("missing", _missing("Your account is not linked to a health record yet. Ask the clinic.")),
                 checking()),
        title="Your readings",
    )
