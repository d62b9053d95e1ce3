"""The registration wizard body, shared by /staff/register and /admin/register.

A step's message sits beside Next (the focus moves to the first field in error); the review shows
what was typed in words and plain dates; "Start over" asks before it throws anything away."""

from __future__ import annotations

import reflex as rx

from patient_portal.components.confirm import confirm_dialog
from patient_portal.components.feedback import error_callout, not_permitted
from patient_portal.components.forms import field_grid, form_section, primary_button, secondary_button
from patient_portal.components.layout import page_header
from patient_portal.domain.patients.validation import HISTORY_KINDS
from patient_portal.pages.patients.fields import (
    ROW_SPECS,
    Binding,
    contact_fields,
    legal_fields,
    preference_fields,
    rows_editor,
)
from patient_portal.state.registration import FORM_ID, STEPS, RegistrationState, error_prefix
from patient_portal.state.session import SessionState

S = RegistrationState
BASIC = Binding(S.basic, S.errors, "basic.", S.set_basic, S.blur_basic, id_prefix="reg")


def _step_marker(number: int, title: str) -> rx.Component:
    current = S.step == number
    return rx.el.li(
        rx.hstack(
            rx.badge(str(number), variant=rx.cond(current, "solid", "soft"), radius="full", size="2"),
            rx.text(title, size="2", weight=rx.cond(current, "bold", "regular"),
                    display=rx.cond(current, "inline", rx.breakpoints(initial="none", md="inline"))),
            spacing="2",
            align="center",
        ),
        aria_current=rx.cond(current, "step", "false"),
        style={"list_style": "none"},
    )


def steps_indicator() -> rx.Component:
    return rx.el.nav(
        rx.el.ol(*[_step_marker(i + 1, t) for i, t in enumerate(STEPS)],
                 style={"padding": "0", "margin": "0", "display": "flex", "flex_wrap": "wrap", "gap": "16px"}),
        rx.text("Step ", S.step, " of 5: ", rx.match(S.step, *[(i + 1, t) for i, t in enumerate(STEPS)], ""),
                size="2", color=rx.color("gray", 11), id="step-title", aria_live="polite"),
        aria_label="Registration steps",
    )


def _rows(section: str, empty: str = "") -> rx.Component:
    return rows_editor(section, getattr(S, section), S.errors, error_prefix(section) + ".", on_set=S.set_row,
                       on_blur=S.blur_row, on_add=S.add_row, on_remove=S.remove_row, empty_text=empty)


def step_basic() -> rx.Component:
    return rx.vstack(
        form_section("Name, birth and sex", field_grid(*legal_fields(BASIC))),
        form_section("Preferences", field_grid(*preference_fields(BASIC))),
        form_section("Contact details", field_grid(*contact_fields(BASIC)),
                     description="At least one phone number or an email address."),
        spacing="6", width="100%",
    )


def step_history() -> rx.Component:
    return rx.vstack(
        rx.text("Add what the patient knows. Leave a section empty if there is nothing to record.",
                color=rx.color("gray", 11)),
        *[_rows(kind, "None recorded.") for kind in HISTORY_KINDS],
        spacing="6", width="100%",
    )


def step_insurance() -> rx.Component:
    return _rows("insurance", "No policies: the patient will be recorded as self-pay.")


def step_emergency() -> rx.Component:
    return rx.vstack(
        error_callout(S.errors["emergency.contacts"]),
        _rows("emergency"),
        width="100%",
    )


def _review_line(label: str, value) -> rx.Component:
    return rx.data_list.item(rx.data_list.label(label), rx.data_list.value(rx.cond(value, value, "—")))


def _review_rows(section: str) -> rx.Component:
    title = {"insurance": "Insurance", "emergency": "Emergency contacts"}.get(
        section, section.replace("_", " ").capitalize())
    first = ROW_SPECS[section][0][0]
    rows = S.review_rows[section]
    return rx.vstack(
        rx.hstack(rx.heading(title, size="3", as_="h3"), rx.badge(rows.length().to_string()), align="center"),
        rx.foreach(rows, lambda row: rx.text(
            rx.text.span(row[first], weight="medium"),
            *[rx.cond(row[name], rx.text.span(" · ", label, ": ", row[name]), "")
              for name, label, *_ in ROW_SPECS[section][1:]], size="2")),
        spacing="1", width="100%", align="start", id=f"review-{section}",
    )


def step_review() -> rx.Component:
    b = S.review_basic
    return rx.vstack(
        duplicates_panel(),
        rx.card(
            rx.vstack(
                rx.hstack(rx.heading("Basic information", size="4", as_="h2"), rx.spacer(),
                          rx.button("Edit", variant="ghost", on_click=S.go_to_step(1), type="button")),
                rx.data_list.root(
                    _review_line("Name", b["legal_name"]),
                    _review_line("Preferred name", b["preferred_name"]),
                    _review_line("Date of birth", b["date_of_birth"]),
                    _review_line("Sex", b["sex"]),
                    _review_line("Mobile phone", b["phone_mobile"]),
                    _review_line("Email", b["email"]),
                    _review_line("Address", b["address"]),
                    _review_line("Preferred contact", b["preferred_contact_method"]),
                    orientation=rx.breakpoints(initial="vertical", sm="horizontal"),
                ),
                width="100%",
            ),
            width="100%", id="review-basic",
        ),
        rx.card(
            rx.vstack(
                rx.hstack(rx.heading("Medical history", size="4", as_="h2"), rx.spacer(),
                          rx.button("Edit", variant="ghost", on_click=S.go_to_step(2), type="button")),
                *[_review_rows(kind) for kind in HISTORY_KINDS],
                width="100%",
            ),
            width="100%",
        ),
        rx.card(rx.vstack(_review_rows("insurance"), _review_rows("emergency"), width="100%"), width="100%"),
        spacing="4", width="100%",
    )


def duplicates_panel() -> rx.Component:
    return rx.cond(
        S.duplicates.length() > 0,
        rx.callout.root(
            rx.callout.icon(rx.icon("users")),
            rx.vstack(
                rx.heading("This person may already have a record", size="4", as_="h2"),
                rx.foreach(S.duplicates, lambda d: rx.flex(
                    rx.vstack(
                        rx.text(d["name"], weight="bold"),
                        rx.text(d["dob_display"], " · MRN ", d["mrn"], " · ", d["reasons"], size="2"),
                        spacing="0",
                    ),
                    rx.spacer(),
                    rx.cond(d["id"] != "",
                            rx.button("Open existing record", on_click=S.open_existing(d["id"]), size="3",
                                      type="button", min_height="44px")),
                    direction=rx.breakpoints(initial="column", sm="row"), spacing="2", width="100%",
                    class_name="duplicate-match",
                )),
                rx.cond(
                    S.confirmed_different,
                    rx.text("You confirmed this is a different person.", weight="medium"),
                    secondary_button("This is a different person", on_click=S.mark_different_person,
                                     type="button", id="different-person"),
                ),
                spacing="3", width="100%",
            ),
            color_scheme="amber", role="alert", width="100%", id="duplicates",
        ),
    )


def _start_over() -> rx.Component:
    """Start over asks first when there is something to lose; an empty wizard just starts again."""
    button = rx.button("Start over", variant="ghost", color_scheme="gray", type="button", min_height="44px",
                       id="start-over")
    return rx.cond(
        S.has_entries,
        confirm_dialog(button, "Start over?",
                       "Everything typed in this registration is thrown away and the wizard goes back to the "
                       "first step. No patient record has been saved yet.",
                       "Start over", S.start_over, confirm_id="start-over-confirm"),
        rx.button("Start over", variant="ghost", color_scheme="gray", type="button", min_height="44px",
                  id="start-over", on_click=S.start_over),
    )


def _nav_buttons() -> rx.Component:
    """Back and Start over on the left; the step's message right beside Next (or Confirm)."""
    return rx.flex(
        rx.cond(S.step > 1, secondary_button("Back", on_click=S.previous_step, type="button")),
        _start_over(),
        rx.spacer(),
        rx.cond(S.error, rx.callout(S.error, icon="triangle-alert", color_scheme="red", role="alert", size="1",
                                    id="wizard-error", flex="0 1 28rem")),
        rx.cond(
            S.step < 5,
            primary_button("Next", on_click=S.next_step, type="button", id="wizard-next"),
            primary_button("Confirm and register", on_click=S.confirm, loading=S.saving, type="button",
                           id="wizard-confirm",
                           disabled=(S.duplicates.length() > 0) & ~S.confirmed_different),
        ),
        spacing="3", width="100%", wrap="wrap", align="center", justify="end", id="wizard-actions",
    )


def success_view() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(rx.icon("circle-check", color=rx.color("green", 11)),
                      rx.heading("Patient registered", size="5", as_="h2"), align="center"),
            rx.text("MRN ", rx.code(S.registered_mrn, id="registered-mrn")),
            rx.flex(
                rx.link(primary_button("Open the chart"), href="/chart/" + S.registered_id),
                secondary_button("Register another patient", on_click=S.start_over, type="button"),
                spacing="3", wrap="wrap",
            ),
            spacing="3",
        ),
        width="100%", id="registration-done",
    )


def wizard_body() -> rx.Component:
    """The wizard, or — for a person whose permission set leaves out registering — "Not permitted"."""
    return rx.cond(
        S.may_register,
        rx.vstack(
            page_header("Register a patient", "Nothing is saved to the record until you confirm on the last step; "
                        "your progress is kept if the page reloads."),
            rx.cond(S.step == 6, success_view(), _wizard_steps()),
            width="100%", max_width="900px", spacing="4",
        ),
        not_permitted(SessionState.home),
    )


def _wizard_steps() -> rx.Component:
    return rx.vstack(
        steps_indicator(),
        rx.box(
            rx.match(S.step, (1, step_basic()), (2, step_history()), (3, step_insurance()),
                     (4, step_emergency()), (5, step_review()), rx.fragment()),
            id=FORM_ID, width="100%",
        ),
        _nav_buttons(),
        spacing="5", width="100%",
    )
