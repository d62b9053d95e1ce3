"""The lab results pages. What may be seen, entered, released or held is decided by the results
service; these only draw ``ResultsState``.

/chart/<id>/results — the one chart header; reports newest first (25 a page) with "To review" badges,
each result with its range and flag; a comment for the patient, Review, Release (behind a confirm)
and Hold until discussed; "Enter results" (a LOINC test picker adds rows) and "Import CSV" (a lab's
file, sent to /api/results/import and parsed on the server).
/patient/results — "Your results": released reports in plain words, the usual range drawn as a bar
with a marker, the flag in words and the doctor's comment; a held report says only that it is ready
to discuss. Phone first: everything stacks.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from patient_portal.components.chart_header import back_to_chart, chart_header
from patient_portal.components.code_picker import code_picker
from patient_portal.components.confirm import confirm_dialog
from patient_portal.components.emergency import chart_refused
from patient_portal.components.feedback import checking, error_callout, not_permitted, success_callout
from patient_portal.components.forms import form_field, primary_button, secondary_button, textarea_field
from patient_portal.components.layout import PRODUCT_NAME, page_header, role_shell, worklist_card
from patient_portal.components.navigation import add_nav_item
from patient_portal.components.tables import empty_state, pagination
from patient_portal.state.results import FORM_ID, IMPORT_INPUT
from patient_portal.state.results import ResultsState as R
from patient_portal.state.session import SessionState

TAP = "44px"
MUTED = rx.color("gray", 11)

add_nav_item("patient", "Your results", "/patient/results", "flask-conical")


def range_bar(r: Any) -> rx.Component:
    """The usual range as a green band on a grey track, the value as a dark marker (aria-hidden: the
    words beside it say the same)."""
    return rx.cond(
        r["bar_show"],
        rx.box(
            rx.box(position="absolute", left=r["bar_band_left"], width=r["bar_band_width"], top="0", bottom="0",
                   background=rx.color("green", 5), border_radius="4px"),
            rx.box(position="absolute", left=r["bar_marker"], top="-4px", width="4px", height="20px",
                   margin_left="-2px", background=rx.color("gray", 12), border_radius="2px", class_name="range-marker"),
            position="relative", height="12px", width="100%", max_width="22rem", background=rx.color("gray", 4),
            border_radius="4px", margin_y="6px", aria_hidden="true", class_name="range-bar",
        ),
    )


def _flag_badge(r: Any, plain: bool) -> rx.Component:
    return rx.cond(
        r["abnormal"],
        rx.badge(r["flag_words"], color_scheme="amber", high_contrast=True, size="2", class_name="flag-badge"),
        rx.badge(r["flag_words"], color_scheme="green", high_contrast=True, size="2", class_name="flag-badge")
        if plain else rx.fragment(),
    )


def _result_line(r: Any, plain: bool) -> rx.Component:
    return rx.box(
        rx.hstack(
            rx.text(r["name"], weight="medium", size="3"),
            rx.spacer(),
            rx.text(r["value"], weight="bold", size="3", class_name="result-value"),
            _flag_badge(r, plain),
            wrap="wrap", align="center", spacing="2", width="100%",
        ),
        range_bar(r),
        rx.cond(r["range"], rx.text(("Usual range: " if plain else "Range: "), r["range"], size="2", color=MUTED)),
        rx.cond(r["corrected"], rx.text("Corrected: ", r["reason"], size="2", color=MUTED)),
        padding_y="8px", border_bottom=f"1px solid {rx.color('gray', 4)}", width="100%", class_name="result-line",
    )


# ---------------------------------------------------------------- the chart's page

def _actions(p: Any) -> rx.Component:
    field_id = "comment-" + p["id"].to(str)
    return rx.cond(
        R.can_release & p["open"],
        rx.vstack(
            textarea_field("Comment for the patient", field_id, R.comments[p["id"].to(str)],
                           lambda text: R.set_comment(p["id"], text),
                           hint="Plain words; the patient reads this with the results once released."),
            rx.hstack(
                rx.cond(p["to_review"], secondary_button("Mark reviewed", on_click=R.review(p["id"]), type="button",
                                                         class_name="review-button")),
                confirm_dialog(
                    primary_button("Release to patient", type="button", class_name="release-button"),
                    "Release these results to the patient?",
                    "The patient will see the values and your comment in Your results. Released results cannot "
                    "be changed; a correction is added as a new result.",
                    "Release", R.release(p["id"]), color_scheme="green", confirm_id="confirm-release"),
                rx.cond(p["status"] != "held",
                        secondary_button("Hold until discussed", on_click=R.hold(p["id"]), type="button",
                                         class_name="hold-button")),
                spacing="3", wrap="wrap",
            ),
            width="100%", spacing="2",
        ),
        rx.cond(p["comment"], rx.text("Comment for the patient: ", p["comment"], size="2")),
    )


def _panel_card(p: Any) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(p["name"], size="4", as_="h3"),
                rx.badge(p["status_words"], color_scheme=p["color"], high_contrast=True, size="2",
                         class_name="status-" + p["status"].to(str)),
                rx.spacer(),
                rx.text(p["day"], size="2", color=MUTED),
                wrap="wrap", align="center", spacing="2", width="100%",
            ),
            rx.text(p["lab"], " · ", p["source"], size="2", color=MUTED),
            rx.foreach(p["results"].to(list[dict[str, Any]]), lambda r: _result_line(r, False)),
            rx.cond(p["replaced"].to(list[dict[str, Any]]).length() > 0, rx.text("Corrected results replaced earlier values (kept in the record).",
                                                      size="1", color=MUTED)),
            rx.cond(p["document"], rx.link("Open the report documents", href=p["document"], size="2")),
            rx.cond(p["reviewed"], rx.text(p["reviewed"], size="1", color=MUTED)),
            rx.cond(p["decided"], rx.text(p["decided"], size="1", color=MUTED)),
            _actions(p),
            spacing="2", width="100%",
        ),
        width="100%", class_name="result-panel",
    )


def _row_fields(row: Any, i: Any) -> rx.Component:
    base = "row-" + i.to_string() + "-"
    err = "results." + i.to_string() + "."
    return rx.card(
        rx.vstack(
            rx.hstack(rx.text(row["name"], " (", row["loinc"], ")", weight="medium"), rx.spacer(),
                      rx.button("Remove", variant="ghost", color_scheme="gray", type="button", min_height=TAP,
                                on_click=R.remove_row(i), aria_label="Remove " + row["name"].to(str)),
                      width="100%", align="center"),
            rx.grid(
                form_field("Value", base + "value", row["value"], lambda v: R.set_cell(i, "value", v),
                           error=R.form_errors[err + "value"], required=True),
                form_field("Unit", base + "unit", row["unit"], lambda v: R.set_cell(i, "unit", v),
                           error=R.form_errors[err + "unit"]),
                form_field("Range low", base + "low", row["range_low"], lambda v: R.set_cell(i, "range_low", v),
                           error=R.form_errors[err + "range_low"]),
                form_field("Range high", base + "high", row["range_high"], lambda v: R.set_cell(i, "range_high", v),
                           error=R.form_errors[err + "range_high"]),
                form_field("Range in words", base + "text", row["range_text"], lambda v: R.set_cell(i, "range_text", v),
                           error=R.form_errors[err + "range_text"], hint="For a result in words, such as Negative"),
                form_field("Flag (L, H, A; empty: computed)", base + "flag", row["flag"],
                           lambda v: R.set_cell(i, "flag", v), error=R.form_errors[err + "flag"]),
                columns=rx.breakpoints(initial="1", sm="2", md="3"), spacing="3", width="100%",
            ),
            spacing="2", width="100%",
        ),
        width="100%", class_name="result-row",
    )


def entry_form() -> rx.Component:
    return rx.card(
        rx.el.form(
            rx.vstack(
                rx.heading("Enter results", size="4", as_="h2"),
                rx.text("New results wait for review before the patient can see them.", size="2", color=MUTED),
                rx.grid(
                    form_field("Report name", "result-name", R.form["name"], lambda v: R.set_field("name", v),
                               error=R.form_errors["name"], required=True, hint="Such as Lipid panel"),
                    form_field("Specimen date", "result-date", R.form["specimen_date"],
                               lambda v: R.set_field("specimen_date", v), error=R.form_errors["specimen_date"],
                               type_="date", required=True),
                    form_field("Performing lab", "result-lab", R.form["performing_lab"],
                               lambda v: R.set_field("performing_lab", v), error=R.form_errors["performing_lab"],
                               required=True),
                    columns=rx.breakpoints(initial="1", md="3"), spacing="3", width="100%",
                ),
                code_picker("Add a test", "result-test", R.pick_text, R.search_tests, results=R.pick_results,
                            active=R.pick_active, on_key=R.pick_key, on_pick=R.pick, note=R.pick_note,
                            error=R.form_errors["results"], hint="Type its name or LOINC code (HbA1c, 4548-4)"),
                rx.foreach(R.rows, _row_fields),
                error_callout(R.form_error, id="results-form-error"),
                rx.hstack(primary_button("Save results", type="submit", id="save-results"),
                          secondary_button("Cancel", on_click=R.cancel_form, type="button"), spacing="3"),
                spacing="3", width="100%",
            ),
            on_submit=lambda _data: R.save(), id=FORM_ID, width="100%",
        ),
        width="100%",
    )


def import_form() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Import a lab's CSV file", size="4", as_="h2"),
            rx.text("Columns: patient_mrn, panel, loinc, test_name, value, unit, reference_range, flag, specimen_date, "
                    "performing_lab (one result a row). Nothing is imported if any row is wrong. At most 1 MB.",
                    size="2", color=MUTED),
            rx.el.label("CSV file", html_for=IMPORT_INPUT, style={"font_weight": "500"}),
            rx.el.input(id=IMPORT_INPUT, type="file", accept=".csv,text/csv", style={"min_height": TAP}),
            error_callout(R.import_error, id="import-error"),
            rx.foreach(R.import_lines, lambda line: rx.text(line, size="2", color=rx.color("red", 11))),
            rx.cond(R.import_message, rx.text(R.import_message, size="2", role="status")),
            rx.hstack(primary_button("Import", on_click=R.start_import, type="button", id="start-import"),
                      secondary_button("Cancel", on_click=R.cancel_import, type="button"), spacing="3"),
            spacing="3", width="100%",
        ),
        width="100%",
    )


def chart_view() -> rx.Component:
    return rx.vstack(
        chart_header(),
        rx.hstack(
            rx.heading("Results", size="6", as_="h1"),
            rx.cond(R.to_review > 0, rx.badge(R.to_review, " to review", color_scheme="amber", high_contrast=True,
                                              size="2", id="results-to-review")),
            rx.spacer(),
            back_to_chart(R.patient_ref),
            rx.cond(R.can_write & ~R.form_open,
                    primary_button("Enter results", on_click=R.open_form, type="button", id="enter-results")),
            rx.cond(R.can_write & ~R.import_open,
                    secondary_button("Import CSV", on_click=R.open_import, type="button", id="import-results")),
            width="100%", align="center", spacing="3", wrap="wrap",
        ),
        error_callout(R.error, id="results-error"),
        rx.cond(~R.import_open, success_callout(R.import_message)),
        rx.cond(R.form_open, entry_form()),
        rx.cond(R.import_open, import_form()),
        rx.cond(R.panels.length() > 0,
                rx.vstack(rx.foreach(R.panels, _panel_card), pagination(R.page, R.pages, R.prev_page, R.next_page),
                          spacing="3", width="100%"),
                empty_state("flask-conical", "No results yet",
                            rx.cond(R.can_write, "Enter the first results, or import the file a lab sent.",
                                    "Results appear here when the care team enters them."))),
        spacing="4", width="100%",
    )


# ---------------------------------------------------------------- the patient's page

def _own_card(p: Any) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(rx.heading(p["name"], size="4", as_="h2"), rx.spacer(), rx.text(p["day"], size="2", color=MUTED),
                      wrap="wrap", align="center", width="100%"),
            rx.cond(
                p["held"],
                rx.callout("Results are ready to discuss with your doctor.", icon="message-circle",
                           color_scheme="blue", width="100%", class_name="held-notice"),
                rx.vstack(
                    rx.foreach(p["results"].to(list[dict[str, Any]]), lambda r: _result_line(r, True)),
                    rx.cond(p["comment"], rx.callout(
                        rx.text(rx.text.strong("Your doctor says: "), p["comment"]), icon="message-square",
                        color_scheme="green", high_contrast=True, width="100%", class_name="doctor-comment")),
                    spacing="2", width="100%",
                ),
            ),
            rx.text("Tested by ", p["lab"], size="1", color=MUTED),
            spacing="2", width="100%",
        ),
        width="100%", class_name="own-result",
    )


def own_view() -> rx.Component:
    return rx.vstack(
        page_header("Your results", "Your test results once your doctor has looked at them, with what they mean."),
        rx.cond(R.panels.length() > 0, rx.vstack(rx.foreach(R.panels, _own_card), spacing="3", width="100%"),
                empty_state("flask-conical", "No results yet",
                            "When your doctor has reviewed a test result, it appears here.")),
        spacing="4", width="100%",
    )


def _missing(text: str) -> rx.Component:
    return rx.callout(text, icon="info", width="100%", id="results-missing")


@rx.page(route="/chart/[pid]/results", title=f"Results — {PRODUCT_NAME}",
         on_load=[SessionState.require("any"), R.load_chart])
def chart_results() -> rx.Component:
    return role_shell(
        "account",
        rx.match(R.status, ("ok", chart_view()), ("denied", chart_refused(R.patient_ref)),
                 ("missing", _missing("That patient record was not found.")), checking()),
        title="Results",
    )


@rx.page(route="/patient/results", title=f"Your results — {PRODUCT_NAME}",
         on_load=[SessionState.require("patient"), R.load_own])
def own_results() -> rx.Component:
    return role_shell(
        "patient",
        rx.match(R.status, ("ok", own_view()), ("denied", not_permitted(SessionState.home)),
                 ("missing", _missing("Your account is not linked to a health record yet. Ask the clinic.")),
                 checking()),
        title="Your results",
    )


# ---------------------------------------------------------------- the doctor dashboard's card

def _to_review(item: Any) -> rx.Component:
    return rx.link(
        rx.hstack(rx.icon("flask-conical", size=16), rx.text(item["name"], weight="medium"),
                  rx.text(item["panels"], size="2"),
                  rx.cond(item["abnormal"], rx.badge(item["abnormal"], color_scheme="amber", high_contrast=True)),
                  rx.text("since ", item["since"], size="2", color=MUTED), spacing="2", align="center", wrap="wrap"),
        href=item["href"], min_height=TAP, display="flex", align_items="center", class_name="result-to-review",
    )


def results_to_review_card() -> rx.Component:
    """Reports waiting for review on the doctor's patients, the longest waiting first."""
    from patient_portal.state.results import ResultsWorklistState as W

    return worklist_card("flask-conical", "Results to review", items=W.patients, render=_to_review,
                         status=W.review_status, count=W.count, empty="No results waiting for review.",
                         failed="Results to review could not be loaded. Reload the page.",
                         card_id="results-to-review-card")
