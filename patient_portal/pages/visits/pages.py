"""The Visits pages: /chart/<id>/visits (care-team doctors write, sign and add addenda; admins read)
and /patient/visits (the patient's own visit summaries, signed notes only). Who may see or do what
is decided by the visits service; these only draw ``VisitsState``.

Phone first: one column of cards, every input labelled, buttons at least 44 px tall.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from patient_portal.components.chart_header import back_to_chart, chart_header
from patient_portal.components.confirm import confirm_dialog
from patient_portal.components.emergency import chart_refused, withheld_notice
from patient_portal.components.feedback import checking, error_callout, not_permitted, success_callout
from patient_portal.components.forms import (
    field_grid,
    form_field,
    primary_button,
    secondary_button,
    textarea_field,
)
from patient_portal.components.layout import PRODUCT_NAME, page_header, role_shell
from patient_portal.components.navigation import add_nav_item
from patient_portal.components.tables import empty_state, pagination
from patient_portal.state.session import SessionState
from patient_portal.state.visits import ADDENDUM_ID, FORM_ID, SIGN_WARNING
from patient_portal.state.visits import VisitsState as V

TAP = "44px"
MUTED = rx.color("gray", 11)

add_nav_item("patient", "Visit summaries", "/patient/visits", "stethoscope")


def status_badge(status: Any) -> rx.Component:
    return rx.match(status,
                    ("signed", rx.badge(rx.icon("lock", size=12), "Signed", color_scheme="green", size="2")),
                    rx.badge(rx.icon("pencil", size=12), "Draft", color_scheme="amber", size="2"))


def _section(title: str, body: Any, *, when: Any = True) -> rx.Component:
    content = rx.vstack(rx.heading(title, size="3", as_="h3"),
                        rx.text(body, size="3", white_space="pre-wrap"), spacing="1", width="100%")
    return rx.cond(when, content) if when is not True else content


def _addenda(items: Any, title: str = "Addenda") -> rx.Component:
    return rx.cond(
        items.length() > 0,
        rx.vstack(
            rx.heading(title, size="3", as_="h3"),
            rx.foreach(items, lambda a: rx.card(rx.vstack(
                rx.text(a["author"], " · ", a["at"], size="2", color=MUTED),
                rx.text(a["text"], size="3", white_space="pre-wrap"), spacing="1"), width="100%",
                class_name="visit-addendum")),
            spacing="2", width="100%",
        ),
    )


# ---------------------------------------------------------------- the chart's list


def _row(row: Any) -> rx.Component:
    return rx.card(
        rx.flex(
            rx.vstack(
                rx.hstack(rx.text(row["date"], weight="medium"), status_badge(row["status"]), spacing="2",
                          align="center", wrap="wrap"),
                rx.text(row["reason"], size="3"),
                rx.text(row["meta"], size="2", color=MUTED),
                rx.cond(row["diagnoses"] != "", rx.text(row["diagnoses"], size="2", color=MUTED)),
                spacing="1", min_width="0", flex="1",
            ),
            rx.button(row["action"], variant="soft",
                      size="3", min_height=TAP, on_click=V.open_note(row["id"]), type="button",
                      aria_label="Open the note of " + row["date"]),
            direction=rx.breakpoints(initial="column", sm="row"), spacing="3", width="100%",
            align=rx.breakpoints(initial="stretch", sm="center"),
        ),
        width="100%", class_name="visit-row",
    )


def visit_list() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.flex(
                rx.heading("Visit notes", size="4", as_="h2"),
                rx.spacer(),
                rx.cond(V.can_write, primary_button("New visit note", on_click=V.start_new, type="button",
                                                    id="new-visit")),
                direction=rx.breakpoints(initial="column", sm="row"), spacing="2", width="100%",
                align=rx.breakpoints(initial="start", sm="center"),
            ),
            rx.cond(
                V.rows.length() > 0,
                rx.vstack(rx.foreach(V.rows, _row), spacing="2", width="100%", id="visit-list"),
                empty_state("notebook-pen", "No visit notes yet",
                            rx.cond(V.can_write, "Write the first one with New visit note.",
                                    "Notes appear here when a clinician writes them.")),
            ),
            rx.cond(V.pages > 1, pagination(V.page, V.pages, V.prev_page, V.next_page)),
            spacing="3", width="100%",
        ),
        width="100%",
    )


# ---------------------------------------------------------------- writing a note


def _text(label: str, name: str, hint: str = "", *, rows: str = "4", required: bool = False) -> rx.Component:
    return textarea_field(label, f"visit-{name.replace('_', '-')}", V.form[name], lambda v: V.set_field(name, v),
                          error=V.form_errors[name], hint=hint, required=required, rows=rows)


def _diagnoses() -> rx.Component:
    return rx.vstack(
        rx.el.label(rx.text("Diagnoses (ICD-10-CM)", as_="span", weight="medium", size="2"), html_for="visit-dx-search"),
        rx.flex(
            rx.foreach(V.diagnoses, lambda d: rx.badge(
                d["code"], " — ", d["display"],
                rx.icon_button(rx.icon("x", size=14), variant="ghost", size="1", type="button",
                               on_click=V.remove_diagnosis(d["code"]), aria_label="Remove diagnosis " + d["code"]),
                size="2", white_space="normal", color_scheme="blue")),
            wrap="wrap", spacing="2", width="100%", id="visit-diagnoses",
        ),
        rx.input(id="visit-dx-search", value=V.dx_query, on_change=V.search_diagnoses, debounce_timeout=300,
                 placeholder="Type words or a code: “type 2 diab”, “E11.9”", size="3", width="100%",
                 min_height=TAP, aria_describedby="visit-dx-search-error", autocomplete="off"),
        rx.cond(V.dx_results.length() > 0, rx.vstack(
            rx.foreach(V.dx_results, lambda d: rx.button(
                rx.text(rx.text.strong(d["code"]), " ", d["display"], align="left", white_space="normal"),
                variant="ghost", size="3", min_height=TAP, width="100%", justify="start", type="button",
                on_click=V.add_diagnosis(d["code"]), class_name="dx-choice")),
            spacing="1", width="100%", role="list", aria_label="Matching codes")),
        rx.cond(V.dx_message, rx.text(V.dx_message, size="2", color=MUTED)),
        rx.cond(V.form_errors["diagnoses"], rx.text(V.form_errors["diagnoses"], size="2", color=rx.color("red", 11),
                                                    id="visit-dx-search-error", class_name="field-error")),
        spacing="2", width="100%", align="stretch",
    )


def note_form() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(rx.cond(V.mode == "new", "New visit note", "Draft visit note"), size="5", as_="h2"),
            field_grid(
                form_field("Date and time of the visit", "visit-visit-at", V.form["visit_at"],
                           lambda v: V.set_field("visit_at", v), on_blur=lambda _v: V.check_field("visit_at"),
                           error=V.form_errors["visit_at"], type_="datetime-local", required=True),
                form_field("Reason for the visit", "visit-reason", V.form["reason"],
                           lambda v: V.set_field("reason", v), on_blur=lambda _v: V.check_field("reason"),
                           error=V.form_errors["reason"], required=True, hint="For example: “Follow-up of blood pressure”"),
            ),
            _text("Subjective", "subjective", "What the patient tells you: symptoms, history, concerns."),
            _text("Objective", "objective", "Examination, vital signs, results."),
            _text("Assessment", "assessment", "Needed to sign."),
            _text("Plan", "plan", "Needed to sign. The patient reads the assessment and plan in their summary."),
            _diagnoses(),
            _text("Orders", "orders", "One per line: tests, referrals, prescriptions to write.", rows="3"),
            rx.cond(V.conflict.length() > 0, rx.callout(
                "Changed since you opened it: " + V.conflict.join(", "), icon="git-compare", color_scheme="amber",
                width="100%", id="visit-conflict")),
            error_callout(V.error, id="visit-form-error"),
            rx.flex(
                secondary_button("Save draft", on_click=V.save, type="button", id="visit-save"),
                confirm_dialog(primary_button("Sign note", type="button", id="visit-sign"), "Sign this note?",
                               SIGN_WARNING, "Sign note", V.sign, color_scheme="green", confirm_id="visit-sign-confirm"),
                rx.button("Cancel", variant="ghost", size="3", min_height=TAP, type="button", on_click=V.close_note),
                spacing="3", wrap="wrap", width="100%",
            ),
            spacing="4", width="100%",
        ),
        width="100%", id=FORM_ID,
    )


# ---------------------------------------------------------------- reading a note


def note_view() -> rx.Component:
    n = V.note
    return rx.card(
        rx.vstack(
            rx.hstack(rx.heading("Visit on ", n["date"], size="5", as_="h2"), status_badge(n["status"]),
                      spacing="3", align="center", wrap="wrap"),
            rx.text("Written by ", n["author"], rx.cond(n["signed_at"] != "", " · signed " + n["signed_at"].to(str), ""),
                    size="2", color=MUTED),
            rx.cond(n["status"] == "draft", rx.callout("This note is a draft: only its author can edit or sign it.",
                                                       icon="pencil", color_scheme="amber", width="100%")),
            _section("Reason", n["reason"]),
            _section("Subjective", n["subjective"], when=n["subjective"] != ""),
            _section("Objective", n["objective"], when=n["objective"] != ""),
            _section("Assessment", n["assessment"], when=n["assessment"] != ""),
            _section("Plan", n["plan"], when=n["plan"] != ""),
            rx.cond(n["diagnoses"].to(list).length() > 0, rx.vstack(
                rx.heading("Diagnoses", size="3", as_="h3"),
                rx.foreach(n["diagnoses"].to(list[str]), lambda d: rx.text(d, size="3")), spacing="1")),
            rx.cond(n["orders"].to(list).length() > 0, rx.vstack(
                rx.heading("Orders", size="3", as_="h3"),
                rx.el.ul(rx.foreach(n["orders"].to(list[str]), lambda o: rx.el.li(o))), spacing="1")),
            _addenda(n["addenda"].to(list[dict[str, str]])),
            rx.cond(n["can_add_addendum"].to(bool), rx.vstack(
                textarea_field("Addendum", "visit-addendum-text", V.addendum, V.set_addendum, error=V.addendum_error,
                               hint="A correction or addition; the signed note itself stays as it was.", rows="3"),
                primary_button("Add addendum", on_click=V.add_addendum, type="button", id="visit-add-addendum"),
                spacing="2", width="100%", id=ADDENDUM_ID)),
            rx.button(rx.icon("arrow-left", size=16), "All visits", variant="soft", size="3", min_height=TAP,
                      type="button", on_click=V.close_note),
            spacing="4", width="100%",
        ),
        width="100%", id="visit-note",
    )


def chart_view() -> rx.Component:
    return rx.vstack(
        chart_header(),
        withheld_notice(V.withheld, id="visits-withheld"),
        rx.hstack(
            rx.heading("Visits", size="6", as_="h2"),
            rx.spacer(),
            back_to_chart(V.patient_ref, display="flex", align_items="center"),
            width="100%", align="center",
        ),
        success_callout(V.message, id="visit-message"),
        rx.cond(V.mode == "", error_callout(V.error)),
        rx.match(V.mode, ("new", note_form()), ("edit", note_form()), ("read", note_view()), visit_list()),
        spacing="4", width="100%",
    )


# ---------------------------------------------------------------- the patient's summaries


def _summary(s: Any) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(s["date"], size="4", as_="h2"),
            rx.text("With ", s["clinician"], size="2", color=MUTED),
            _section("Why you came", s["reason"]),
            _section("What your clinician found", s["assessment"], when=s["assessment"] != ""),
            _section("What happens next", s["plan"], when=s["plan"] != ""),
            rx.cond(s["diagnoses"].to(list).length() > 0, rx.vstack(
                rx.heading("Diagnoses", size="3", as_="h3"),
                rx.text(s["diagnoses"].to(list[str]).join(", "), size="3"), spacing="1")),
            _addenda(s["addenda"].to(list[dict[str, str]]), "Added later"),
            spacing="3", width="100%",
        ),
        width="100%", class_name="visit-summary",
    )


def own_view() -> rx.Component:
    return rx.vstack(
        page_header("Visit summaries", "What was found and planned at your visits, once your clinician has signed "
                                       "the note."),
        rx.cond(V.summaries.length() > 0,
                rx.vstack(rx.foreach(V.summaries, _summary), spacing="3", width="100%", id="visit-summaries"),
                empty_state("notebook-text", "No visit summaries yet",
                            "After a visit, its summary appears here once your clinician signs the note.")),
        rx.cond(V.pages > 1, pagination(V.page, V.pages, V.prev_page, V.next_page)),
        spacing="4", width="100%",
    )


def _missing(text: str) -> rx.Component:
    return rx.callout(text, icon="info", width="100%", id="visit-missing")


@rx.page(route="/patient/visits", title=f"Visit summaries — {PRODUCT_NAME}",
         on_load=[SessionState.require("patient"), V.load_own])
def own_visits() -> rx.Component:
    return role_shell(
        "patient",
        rx.match(V.status, ("ok", own_view()), ("denied", not_permitted(SessionState.home)),
                 ("missing", _missing("Your account is not linked to a health record yet. Ask the clinic.")),
                 checking()),
        title="Visit summaries",
    )


@rx.page(route="/chart/[pid]/visits", title=f"Visits — {PRODUCT_NAME}",
         on_load=[SessionState.require("any"), V.load_chart])
def chart_visits() -> rx.Component:
    return role_shell(
        "account",
        rx.match(V.status, ("ok", chart_view()), ("denied", chart_refused(V.patient_ref)),
                 ("missing", _missing("That patient record was not found.")), checking()),
        title="Visits",
    )
